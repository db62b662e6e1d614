// Command-line parsing for the three commands: the option table and results of node:util's
// parseArgs (so a command declares its flags the same way), with the messages a user needs:
// "unknown option '--durration' (did you mean --duration?)", "--output needs a value", and
// values that start with a dash taken as values ("-o -", "--since -5ms": the flag's own check
// then says what is wrong with it), instead of Node's raw error texts.

import type { parseArgs as nodeParseArgs, ParseArgsConfig } from "node:util";
import { UsageError } from "./run-cli.js";

type Options = NonNullable<ParseArgsConfig["options"]>;
type Parsed<T extends ParseArgsConfig> = ReturnType<typeof nodeParseArgs<T>>;

export function parseArgs<T extends ParseArgsConfig>(config: T): Parsed<T> {
  const options: Options = config.options ?? {};
  const args = config.args ?? [];
  const values: Record<string, string | boolean | (string | boolean)[]> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, o] of Object.entries(options)) if (o.short) byShort.set(o.short, name);

  const set = (name: string, value: string | boolean): void => {
    if (options[name]!.multiple) ((values[name] ??= []) as (string | boolean)[]).push(value);
    else values[name] = value;
  };
  /** The next argument is this option's value unless it is itself an option of this command. */
  const takesNext = (next: string | undefined): next is string =>
    next !== undefined && !(next.startsWith("--") && next.length > 2) && !(next.length === 2 && next[0] === "-" && byShort.has(next[1]!));

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = arg.slice(2, eq < 0 ? undefined : eq);
      const option = Object.hasOwn(options, name) ? options[name]! : undefined;
      if (!option) throw new UsageError(unknownOption(`--${name}`, options));
      if (option.type === "boolean") {
        if (eq >= 0) throw new UsageError(`--${name} takes no value (found '${arg}')`);
        set(name, true);
      } else if (eq >= 0) {
        set(name, arg.slice(eq + 1));
      } else {
        const next = args[i + 1];
        if (!takesNext(next)) throw new UsageError(`--${name} needs a value`);
        set(name, next);
        i++;
      }
      continue;
    }
    if (arg.startsWith("-") && arg.length > 1) {
      const name = byShort.get(arg[1]!);
      if (!name) throw new UsageError(unknownOption(arg, options));
      const option = options[name]!;
      if (option.type === "boolean") {
        if (arg.length > 2) throw new UsageError(unknownOption(arg, options));
        set(name, true);
      } else if (arg.length > 2) {
        set(name, arg.slice(2)); // -oFILE
      } else {
        const next = args[i + 1];
        if (!takesNext(next)) throw new UsageError(`${arg} (--${name}) needs a value`);
        set(name, next);
        i++;
      }
      continue;
    }
    positionals.push(arg);
  }
  if (positionals.length > 0 && config.allowPositionals !== true) {
    throw new UsageError(`unexpected argument '${positionals[0]}'`);
  }
  return { values, positionals } as unknown as Parsed<T>;
}

/** "unknown option '--durration' (did you mean --duration?)" */
export function unknownOption(given: string, options: Options): string {
  const guess = closestOption(given, Object.keys(options));
  return `unknown option '${given}'${guess ? ` (did you mean --${guess}?)` : ""}`;
}

/** The known flag a mistyped one most likely meant: a unique prefix, or the nearest by edit
 *  distance when it is close enough to be a typo (at most 1 edit per 3 letters, and 2 at most). */
export function closestOption(given: string, names: readonly string[]): string | undefined {
  return closestWord(given.replace(/^-+/, "").replace(/=.*$/, "").toLowerCase(), names);
}

/** The word of `names` that `word` most likely meant (the same rules as closestOption). */
export function closestWord(word: string, names: readonly string[]): string | undefined {
  if (word === "") return undefined;
  const prefixed = names.filter((n) => n.startsWith(word));
  if (prefixed.length === 1 && word.length >= 2) return prefixed[0];
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(word, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  const allowed = Math.min(2, Math.max(1, Math.floor(word.length / 3)));
  return bestDistance <= allowed ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array(rows * cols).fill(0);
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[(i - 1) * cols + j]! + 1, d[i * cols + j - 1]! + 1, d[(i - 1) * cols + j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[(i - 2) * cols + j - 2]! + 1);
      d[i * cols + j] = v;
    }
  }
  return d[rows * cols - 1]!;
}

// ---- values ----

/**
 * A whole number written as one: digits only ("1.0", "-0", "1e3", "0x10" and " 5" are refused,
 * though Number() takes them), at least `min` and at most `max` (default 2^53 - 1).
 */
export function parseWholeNumber(text: string, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    const range =
      max !== Number.MAX_SAFE_INTEGER ? `a whole number from ${min} to ${max}`
      : min === 0 ? "a whole number (0 or more)"
      : min === 1 ? "a whole number above 0"
      : `a whole number of at least ${min}`;
    throw new UsageError(`${flag} takes ${range}, not '${text}'`);
  }
  return n;
}

/** A plain decimal number ("0.5", "10", not "1e3", "0x10", "Infinity"), above 0 unless `zeroOk`. */
export function parseDecimal(text: string, flag: string, what: string, zeroOk = false): number {
  const n = /^(\d+(\.\d*)?|\.\d+)$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < 0 || (!zeroOk && n === 0)) throw new UsageError(`${flag} takes ${what}, not '${text}'`);
  return n;
}
