// Output files that never destroy anything: an output is written to a temporary file beside its
// target and renamed into place only when the command succeeded, so a failed or interrupted
// command leaves an existing file as it was. Before anything is written, the target is checked:
// the input itself (same device and inode, whatever the path says) and anything that is not a
// regular file are refused; a character device or FIFO (/dev/null, a named pipe) is written in
// place, as a shell redirection would, never replaced by a file. "-" is standard output.

import { close, closeSync, fchmodSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, write, writeSync, type Stats } from "node:fs";

/** Buffered characters or bytes before a write. */
const FLUSH_SIZE = 1 << 20;
/** Writes in flight at most (writeBehind): one being written, one waiting. */
const BEHIND_SLOTS = 2;

/** An output that cannot be used, with a message naming it and why. */
export class OutputError extends Error {}

/** Where an output goes. */
export type OutputPlan =
  | { kind: "stdout"; target: "-" }
  /** An existing character device or FIFO, written in place. */
  | { kind: "direct"; target: string; path: string }
  /** A regular file (new or replaced): written to `temp`, renamed to `path` on success. */
  | { kind: "replace"; target: string; path: string; temp: string; mode: number | undefined };

/**
 * How `target` would be written, or an OutputError: a directory, a socket or block device, or
 * the same file as one of `inputs` (read by the command: writing it would destroy the input).
 */
export function planOutput(target: string, inputs: readonly string[] = []): OutputPlan {
  if (target === "-") return { kind: "stdout", target };
  if (target === "") throw new OutputError("the output file name is empty");
  let st: Stats | undefined;
  let path = target;
  try {
    st = statSync(target);
    if (lstatSync(target).isSymbolicLink()) path = realpathSync(target); // replace what the link names, keep the link
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new OutputError(`cannot write ${target}: ${ioErrorText(e)}`);
  }
  if (st) {
    if (st.isDirectory()) throw new OutputError(`cannot write ${target}: it is a directory`);
    for (const input of inputs) {
      if (input === "-") continue;
      const same = sameFile(st, input);
      if (same) throw new OutputError(`${target} is the input${input === target ? "" : ` (${input})`}: writing it would destroy what is being read; choose another output`);
    }
    if (st.isCharacterDevice() || st.isFIFO()) return { kind: "direct", target, path: target };
    if (!st.isFile()) throw new OutputError(`cannot write ${target}: it is not a regular file (${fileKind(st)}), and it will not be replaced by one`);
  }
  return { kind: "replace", target, path, temp: tempPathFor(path), mode: st ? st.mode & 0o7777 : undefined };
}

/** The temporary file an output of this process is written to before it is renamed to `path`. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.partial`;
}

function sameFile(st: Stats, other: string): boolean {
  try {
    const o = statSync(other);
    return o.dev === st.dev && o.ino === st.ino;
  } catch {
    return false;
  }
}

function fileKind(st: Stats): string {
  if (st.isBlockDevice()) return "a block device";
  if (st.isSocket()) return "a socket";
  return "not a file";
}

/** "no space left on device (ENOSPC)": an I/O error in words, with its code. */
export function ioErrorText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  const words: Record<string, string> = {
    ENOSPC: "no space left on device",
    EDQUOT: "disk quota exceeded",
    EACCES: "permission denied",
    EPERM: "operation not permitted",
    EROFS: "read-only file system",
    ENOENT: "no such file or directory",
    ENOTDIR: "a part of the path is not a directory",
    EISDIR: "it is a directory",
    EIO: "input/output error",
    EFBIG: "file too large",
    EMFILE: "too many open files",
    ENAMETOOLONG: "file name too long",
    EPIPE: "the reader closed the pipe",
    EXDEV: "not on the same file system",
  };
  if (typeof code === "string") return words[code] ? `${words[code]} (${code})` : code;
  return (e as Error)?.message ?? String(e);
}

/** Output files being written, so an interrupted command can remove its partial files. */
const open = new Set<OutputFile>();

/** An output file written in pieces as an export goes: buffered, into the place planOutput chose. */
export class OutputFile {
  /** Drops every output still being written (on SIGINT, say). */
  static abortAll(): void {
    for (const file of [...open]) file.abort();
  }

  readonly plan: OutputPlan;
  private readonly fd: number;
  /** Buffered text and bytes, in order; text is encoded once per flush. */
  private parts: (string | Uint8Array)[] = [];
  private pending = 0;
  /** Bytes written or on their way: where the next write goes. */
  private written = 0;
  private closed = false;
  /** A regular file is written at explicit positions (writes behind the caller's back may still
   *  be on their way while the next one starts). */
  private readonly positioned: boolean;
  /** writeBehind's buffers not in use, the number in flight, and the first failure. */
  private readonly freeSlots: Uint8Array[] = [];
  private slots = 0;
  private inFlight = 0;
  private failure: unknown;
  private settled: (() => void) | undefined;
  private closeWhenSettled = false;

  /** Opens the output (OutputError if it cannot be used; see planOutput). */
  constructor(
    readonly path: string,
    options: { inputs?: readonly string[] } = {},
  ) {
    this.plan = planOutput(path, options.inputs);
    try {
      if (this.plan.kind === "stdout") this.fd = 1;
      else if (this.plan.kind === "direct") this.fd = openSync(this.plan.path, "w");
      else {
        this.fd = openSync(this.plan.temp, "w");
        if (this.plan.mode !== undefined) fchmodSync(this.fd, this.plan.mode);
      }
    } catch (e) {
      throw new OutputError(`cannot write ${path}: ${ioErrorText(e)}`);
    }
    this.positioned = this.plan.kind === "replace";
    open.add(this);
  }

  /** Bytes written so far (text still buffered counts once flushed). */
  get bytes(): number {
    return this.written;
  }

  write(data: string | Uint8Array): void {
    if (data.length === 0) return;
    this.parts.push(data);
    this.pending += data.length;
    if (this.pending >= FLUSH_SIZE) this.flush();
  }

  /** Writes `bytes` now, after what is buffered, and keeps no reference to them: a writer that
   *  fills one buffer again and again hands it over this way instead of copying it. */
  writeNow(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.flush();
    this.writeAll(bytes);
  }

  /**
   * Writes `parts` (copied: the caller may reuse them at once) after everything before, without
   * waiting for the disk: a regular file's write(2) goes on one of libuv's threads while this one
   * goes on (on a 10 M-event OTLP export, ~0.9 GB: 0.3-1.3 s of system time off the export's
   * thread). Bounded: with BEHIND_SLOTS writes in flight, it writes at once here instead. The
   * caller lets the event loop run now and then (`turn`), so finished writes free their buffers,
   * and `settle`s before `commit`. Other outputs are written at once.
   */
  writeBehind(...parts: Uint8Array[]): void {
    this.check();
    if (!this.positioned) {
      for (const part of parts) this.writeNow(part);
      return;
    }
    this.flush();
    let n = 0;
    for (const part of parts) n += part.length;
    if (n === 0) return;
    if (this.freeSlots.length === 0 && this.slots >= BEHIND_SLOTS) {
      for (const part of parts) this.writeAll(part);
      return;
    }
    let slot = this.freeSlots.pop();
    if (!slot || slot.length < n) {
      if (!slot) this.slots++;
      slot = new Uint8Array(Math.max(n, slot?.length ?? 0));
    }
    let at = 0;
    for (const part of parts) {
      slot.set(part, at);
      at += part.length;
    }
    const full = slot;
    const position = this.written;
    this.written += n;
    this.inFlight++;
    const go = (done: number): void =>
      write(this.fd, full, done, n - done, position + done, (e, wrote) => {
        if (!e && wrote > 0 && done + wrote < n) return go(done + wrote); // a short write: the rest
        if (e || done + wrote < n) this.failure ??= e ?? Object.assign(new Error("nothing written"), { code: "EIO" });
        this.freeSlots.push(full);
        if (--this.inFlight === 0) this.whenSettled();
      });
    go(0);
  }

  /** Lets the event loop run once, so writes that have finished free their buffers. */
  async turn(): Promise<void> {
    if (this.inFlight > 0) await new Promise((resolve) => setImmediate(resolve));
    this.check();
  }

  /** Waits for every write in flight; throws the first that failed. */
  async settle(): Promise<void> {
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.settled = resolve));
    this.check();
  }

  /** Writes what is buffered and moves the file into place (after `settle`, if written behind). */
  commit(): void {
    if (this.inFlight > 0) throw new Error(`OutputFile.commit: ${this.inFlight} writes still in flight (settle first)`);
    this.check();
    try {
      this.flush();
    } finally {
      this.close();
    }
    if (this.plan.kind === "replace") {
      try {
        renameSync(this.plan.temp, this.plan.path);
      } catch (e) {
        removeQuietly(this.plan.temp);
        throw e;
      }
    }
  }

  /** Drops the partial file (the target stays as it was). */
  abort(): void {
    this.parts = [];
    this.pending = 0;
    try {
      this.close();
    } catch {
      // closing a file being dropped: nothing to keep
    }
    if (this.plan.kind === "replace") removeQuietly(this.plan.temp);
  }

  private flush(): void {
    if (this.pending === 0) return;
    let text: string[] = [];
    for (const part of this.parts) {
      if (typeof part === "string") {
        text.push(part);
        continue;
      }
      if (text.length > 0) this.writeAll(Buffer.from(text.join(""), "utf8"));
      text = [];
      this.writeAll(part);
    }
    if (text.length > 0) this.writeAll(Buffer.from(text.join(""), "utf8"));
    this.parts = [];
    this.pending = 0;
  }

  private writeAll(bytes: Uint8Array): void {
    try {
      writeFully(this.fd, bytes, this.positioned ? this.written : undefined);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EPIPE") throw e; // the reader left: the caller ends quietly
      throw new OutputError(`cannot write ${this.path}: ${ioErrorText(e)}`);
    }
    this.written += bytes.length;
  }

  /** A write behind that failed, as writeAll would have said it. */
  private check(): void {
    const e = this.failure;
    if (e === undefined) return;
    throw new OutputError(`cannot write ${this.path}: ${ioErrorText(e)}`);
  }

  private whenSettled(): void {
    const settled = this.settled;
    this.settled = undefined;
    settled?.();
    if (this.closeWhenSettled) close(this.fd, () => {});
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    if (this.plan.kind === "stdout") return;
    // A descriptor a write in flight still uses is closed once it is done (an abort does not
    // wait: its file is removed by name; closing now could let a new file take the number).
    if (this.inFlight > 0) this.closeWhenSettled = true;
    else closeSync(this.fd);
  }
}

/** Writes `data` to an output in one go (an HTML report), with the same checks and rename. */
export function writeOutputFile(path: string, data: string | Uint8Array, options: { inputs?: readonly string[] } = {}): number {
  const out = new OutputFile(path, options);
  try {
    out.write(data);
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  return out.bytes;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `data` to `fd`, synchronously; at `position` if given (a regular file written
 * behind as well as here, where the next write goes is explicit). Standard output may be a non-blocking pipe (Node
 * makes it one): EAGAIN means the reader is behind, so wait a little and go on. EPIPE (the
 * reader went away) is thrown as it is, for the caller to end quietly.
 */
export function writeFully(fd: number, data: Uint8Array | string, position?: number): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let at = 0;
  let waitMs = 1;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at, bytes.length - at, position === undefined ? null : position + at);
      waitMs = 1;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      Atomics.wait(sleeper, 0, 0, waitMs);
      waitMs = Math.min(50, waitMs * 2);
    }
  }
}

/** Removes a file that may not exist (never created, or already renamed into place). */
export function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}
