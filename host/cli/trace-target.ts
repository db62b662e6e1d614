// Where trace-pull's trace file goes. A new file is created under its name at once and grows as
// records arrive; should the pull fail before the device sent anything (no such module, no device
// answering), it is removed again. An existing file is never touched that early: the new trace
// goes to a temporary file beside it, which replaces it once the first records arrived. Either
// way a pull killed later (even by kill -9) leaves every record received so far under the name
// the user gave. "-" collects the trace in a temporary file and copies it to standard output at
// the end; a device or FIFO is written in place.

import { closeSync, openSync, readSync, renameSync } from "node:fs";
import type { OutputPlan } from "../export/output.js";
import { removeQuietly, writeFully } from "../export/output.js";

export class TraceTarget {
  private published = false;
  /** A new file created in place (ours to remove if nothing arrives). */
  private readonly fresh: boolean;

  /**
   * `plan` from planOutput; `spool` is the temporary file for "-" (made by the caller, which
   * removes it if the command is stopped).
   */
  constructor(
    readonly plan: OutputPlan,
    private readonly spool?: string,
  ) {
    if (plan.kind === "stdout" && !spool) throw new Error("TraceTarget: standard output needs a spool file");
    this.fresh = plan.kind === "replace" && plan.mode === undefined && createNew(plan.path);
  }

  /** The file the trace writer opens. */
  get writePath(): string {
    if (this.plan.kind === "stdout") return this.spool!;
    return this.plan.kind === "replace" && !this.fresh ? this.plan.temp : this.plan.path;
  }

  /** What to call it in messages. */
  get name(): string {
    return this.plan.kind === "stdout" ? "standard output" : this.plan.target;
  }

  /** Moves the file into place (the first records arrived); later writes append there. */
  publish(): void {
    if (this.published) return;
    this.published = true;
    if (this.plan.kind === "replace" && !this.fresh) renameSync(this.plan.temp, this.plan.path);
  }

  /** Whether the target now holds this pull's file. */
  get isPublished(): boolean {
    return this.published;
  }

  /** The pull is over and the writer closed: the file goes into place (or to standard output). */
  finish(): void {
    this.publish();
    if (this.plan.kind === "stdout") {
      copyToStdout(this.spool!);
      removeQuietly(this.spool!);
    }
  }

  /** The pull failed before anything was received: drop the file, leave the target alone. */
  discard(): void {
    if (this.published) return;
    if (this.plan.kind === "replace") removeQuietly(this.fresh ? this.plan.path : this.plan.temp);
    if (this.plan.kind === "stdout") removeQuietly(this.spool!);
  }
}

/** Creates `path` if nothing is there yet (false if something is, by now). */
function createNew(path: string): boolean {
  try {
    closeSync(openSync(path, "wx"));
    return true;
  } catch {
    return false;
  }
}

function copyToStdout(path: string): void {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(1 << 20);
    for (let n; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) writeFully(1, buffer.subarray(0, n));
  } finally {
    closeSync(fd);
  }
}
