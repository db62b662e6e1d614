// What the commands print: results on standard output (a closed pipe ends the command quietly),
// notes and warnings on standard error, escaped so no string from a trace reaches the terminal
// raw. Both are written synchronously, in order with the progress line.

import { writeFully } from "../export/output.js";
import { safeText } from "../report/units.js";
import { PipeClosed } from "./run-cli.js";

export function writeStdout(text: string | Uint8Array): void {
  try {
    writeFully(1, text);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EPIPE") throw new PipeClosed();
    throw e;
  }
}

/** "trace-export: wrote out.json: ..." on standard error. */
export function note(program: string, text: string): void {
  try {
    writeFully(2, `${program}: ${safeText(text)}\n`);
  } catch {
    // standard error is gone: nothing to tell anyone
  }
}
