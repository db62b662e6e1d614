// A WASI program's own output while the live console has the terminal: written to two files
// instead of the screen (where it would tear the frame), and printed on the normal screen, in
// full, once the console is gone. A signal that ends the command still prints it and removes
// the files. Open it after the console started: the console's restore runs first on a signal.

import { closeSync, mkdtempSync, openSync, readSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeFully } from "../export/output.js";
import { cleanupOnSignal } from "./signals.js";

export class HeldOutput {
  private dir: string | undefined;
  private readonly fds: number[] = [];
  private readonly forget: () => void;

  constructor() {
    // First the cleanup (a signal from here on removes the directory), then the directory.
    this.forget = cleanupOnSignal(() => this.release());
    try {
      this.dir = mkdtempSync(join(tmpdir(), "taskscope-live-"));
      for (const name of ["stdout", "stderr"]) this.fds.push(openSync(join(this.dir, name), "w+"));
    } catch (e) {
      this.release();
      throw e;
    }
  }

  /** Descriptors the program writes its standard output and error to. */
  get stdout(): number {
    return this.fds[0]!;
  }

  get stderr(): number {
    return this.fds[1]!;
  }

  /** Prints what the program wrote (standard output to ours, error to ours), then removes the
   *  files. */
  release(): void {
    this.forget?.();
    this.fds.forEach((fd, i) => {
      try {
        copy(fd, i === 0 ? 1 : 2);
      } catch {
        // our own output is gone: nothing to print it to
      }
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
    });
    this.fds.length = 0;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

function copy(from: number, to: number): void {
  const buffer = Buffer.alloc(1 << 16);
  for (let at = 0, n; (n = readSync(from, buffer, 0, buffer.length, at)) > 0; at += n) writeFully(to, buffer.subarray(0, n));
}
