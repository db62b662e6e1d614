// Deferred-format log lines (FORMAT.md: LOG carries an interned format where `{}` stands for each
// argument) turned into text.

/** Replaces each `{}` with the next argument; arguments left over are appended in brackets. A
 *  loop over indexOf, not a regular expression with a callback: a log line per few events made
 *  that one of the exports' larger allocators. */
export function formatLog(format: string, args: readonly number[]): string {
  let next = 0;
  let text = "";
  let from = 0;
  for (let hole = format.indexOf("{}"); hole >= 0 && next < args.length; hole = format.indexOf("{}", from)) {
    text += format.slice(from, hole) + String(args[next++]);
    from = hole + 2;
  }
  text = from === 0 ? format : text + format.slice(from);
  return next < args.length ? `${text} [${args.slice(next).join(", ")}]` : text;
}
