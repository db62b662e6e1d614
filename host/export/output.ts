// Output files that never destroy anything: an output is written to a temporary file beside its
// target and renamed into place only when the command succeeded, so a failed or interrupted
// command leaves an existing file as it was. Before anything is written, the target is checked:
// the input itself (same device and inode, whatever the path says) and anything that is not a
// regular file are refused; a character device or FIFO (/dev/null, a named pipe) is written in
// place, as a shell redirection would, never replaced by a file. "-" is standard output.

import { closeSync, fchmodSync, lstatSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";

/** Buffered characters or bytes before a write. */
const FLUSH_SIZE = 1 << 20;

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
  private written = 0;
  private closed = false;

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

  /** Writes what is buffered and moves the file into place. */
  commit(): void {
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
      writeFully(this.fd, bytes);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EPIPE") throw e; // the reader left: the caller ends quietly
      throw new OutputError(`cannot write ${this.path}: ${ioErrorText(e)}`);
    }
    this.written += bytes.length;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    if (this.plan.kind !== "stdout") closeSync(this.fd);
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
 * Writes all of `data` to `fd`, synchronously. Standard output may be a non-blocking pipe (Node
 * makes it one): EAGAIN means the reader is behind, so wait a little and go on. EPIPE (the
 * reader went away) is thrown as it is, for the caller to end quietly.
 */
export function writeFully(fd: number, data: Uint8Array | string): void {
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let at = 0;
  let waitMs = 1;
  while (at < bytes.length) {
    try {
      at += writeSync(fd, bytes, at, bytes.length - at);
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
