// Chrome trace-event JSON, written as it is produced ({"traceEvents":[...],"otherData":{...}}).
// Every event starts with "ph" then "ts", and no event has an array at its top level: Perfetto's
// JSON tokenizer reads those keys with a shallow scanner before handing the event to a full
// parser. Control characters in text become spaces, since that scanner rejects them and \u
// escapes. Timestamps are microseconds computed from whole nanoseconds, so they print with at
// most three decimals and nanoseconds survive.

import type { OutputFile } from "../output.js";

export type Phase = "X" | "i" | "C" | "s" | "f" | "b" | "e" | "M";

export interface TraceEvent {
  ph: Phase;
  /** Microseconds (ns precision: an integer ns count divided by 1000); absent on metadata. */
  ts?: number;
  /** Duration of a complete event (X), microseconds. */
  dur?: number;
  pid: number;
  tid?: number;
  name?: string;
  cat?: string;
  id?: number;
  /** Flow end binding point: "e" binds to the enclosing slice. */
  bp?: "e";
  /** Instant scope: thread, process or global. */
  s?: "t" | "p" | "g";
  args?: Record<string, unknown>;
}

// JSON.stringify writes control characters (and lone surrogates) as escapes; each becomes a
// space. An even run of backslashes before it is an escaped backslash, not part of the escape.
const ESCAPE = /(?<!\\)((?:\\\\)*)\\(?:u[0-9a-fA-F]{4}|[bfnrt])/g;

/** JSON text of a value with control characters turned into spaces. */
export function cleanJson(value: unknown): string {
  let text = JSON.stringify(value);
  if (text.includes("\\")) text = text.replace(ESCAPE, "$1 ");
  if (text.includes("\x7f")) text = text.replace(/\x7f/g, " ");
  return text;
}

export class TraceEventWriter {
  private count = 0;

  constructor(private readonly out: OutputFile) {
    out.write('{"traceEvents":[\n');
  }

  get events(): number {
    return this.count;
  }

  /** Writes one event; its keys keep the interface's order (ph, ts, ...). */
  event(e: TraceEvent): void {
    const text = cleanJson(e);
    this.out.write(this.count === 0 ? text : `,\n${text}`);
    this.count++;
  }

  /** Closes the event array and writes `otherData` (metadata Perfetto keeps but does not draw). */
  close(otherData: Record<string, unknown>): void {
    this.out.write(`\n],"otherData":${cleanJson(otherData)}}\n`);
  }
}
