// Deferred-format log lines (FORMAT.md: LOG carries an interned format where `{}` stands for each
// argument) turned into text.

/** Replaces each `{}` with the next argument; arguments left over are appended in brackets. */
export function formatLog(format: string, args: readonly number[]): string {
  let next = 0;
  const text = format.replace(/\{\}/g, (hole) => (next < args.length ? String(args[next++]) : hole));
  return next < args.length ? `${text} [${args.slice(next).join(", ")}]` : text;
}
