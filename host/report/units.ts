// Human-readable figures for reports: durations from ns, counts with separators, percentages.
// Plain string work, no Intl: toLocaleString loads ICU on first use (40-90 ms), which a command
// must not pay inside a recorded program (issue 8).

export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return "-";
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)}ns`;
  if (abs < 1e6) return `${trim(ns / 1e3)}µs`;
  if (abs < 1e9) return `${trim(ns / 1e6)}ms`;
  return `${trim(ns / 1e9)}s`;
}

/** Three significant digits, no trailing zeros: 1.5, 12.3, 123. */
function trim(x: number): string {
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return String(Number(x.toFixed(digits)));
}

/** 75783 -> "75,783"; fractions keep up to 3 decimals (1234.5 -> "1,234.5"); bigints and
 *  numbers past 1e21 are written out in full, never in exponent form. */
export function formatCount(n: number | bigint): string {
  if (typeof n === "number" && !Number.isFinite(n)) return String(n);
  let text: string;
  if (typeof n === "bigint") text = n.toString();
  else if (Math.abs(n) >= 1e21) text = BigInt(Math.round(n)).toString();
  else text = String(Number.isInteger(n) ? n : Number(n.toFixed(3)));
  const negative = text.startsWith("-");
  const [whole, fraction] = (negative ? text.slice(1) : text).split(".") as [string, string | undefined];
  let grouped = "";
  for (let end = whole.length; end > 0; end -= 3) {
    const start = Math.max(0, end - 3);
    grouped = whole.slice(start, end) + (grouped === "" ? "" : `,${grouped}`);
  }
  return `${negative ? "-" : ""}${grouped}${fraction === undefined ? "" : `.${fraction}`}`;
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return "-";
  return `${((100 * part) / whole).toFixed(1)}%`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/**
 * Text from a trace made safe for a terminal: control characters (ESC sequences, newlines, tabs,
 * C1 controls such as the 8-bit CSI) and the invisible marks that reorder or split lines
 * (bidirectional overrides, line and paragraph separators) become visible escapes ("\x1b",
 * "\n", "\u202e"), so a name from a device can neither drive the terminal nor forge a line.
 */
export function safeText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");
const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

function escapeChar(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
}
