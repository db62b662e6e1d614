// An output file written in pieces as an export goes: buffered, to a temporary name beside the
// target, renamed into place only when the export succeeded, so a failed export never leaves a
// partial file that looks complete. "-" writes to standard output instead.

import { closeSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";

/** Buffered characters or bytes before a write. */
const FLUSH_SIZE = 1 << 20;

/** Output files being written, so an interrupted command can remove its partial files. */
const open = new Set<OutputFile>();

export class OutputFile {
  /** Drops every output still being written (on SIGINT, say). */
  static abortAll(): void {
    for (const file of [...open]) file.abort();
  }

  private readonly fd: number;
  private readonly temp: string | undefined;
  /** Buffered text and bytes, in order; text is encoded once per flush. */
  private parts: (string | Uint8Array)[] = [];
  private pending = 0;
  private written = 0;
  private closed = false;

  constructor(readonly path: string) {
    if (path === "-") {
      this.fd = 1;
      this.temp = undefined;
    } else {
      this.temp = `${path}.${process.pid}.partial`;
      this.fd = openSync(this.temp, "w");
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

  /** Writes what is buffered and moves the file into place. */
  commit(): void {
    this.flush();
    this.close();
    if (this.temp !== undefined) renameSync(this.temp, this.path);
  }

  /** Drops the partial file. */
  abort(): void {
    this.parts = [];
    this.pending = 0;
    this.close();
    if (this.temp !== undefined) {
      try {
        unlinkSync(this.temp);
      } catch {
        // already gone
      }
    }
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
    let at = 0;
    while (at < bytes.length) at += writeSync(this.fd, bytes, at, bytes.length - at);
    this.written += bytes.length;
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    if (this.fd !== 1) closeSync(this.fd);
  }
}
