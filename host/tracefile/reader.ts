// Streams the items of a trace file in order, reading a block at a time (1 MiB by default) and
// carrying an unfinished item over to the next block, so memory stays bounded by the largest
// item, not the file. Every item is schema-checked; a partial last item is a truncation.

import { closeSync, openSync, readSync } from "node:fs";
import { Decoder } from "cbor-x";
import { CborScanError, INCOMPLETE, scanCborItem } from "./cbor-scan.js";
import { TraceFileError } from "./errors.js";
import { SchemaError, toTraceItem, type TraceItem } from "./schema.js";

export interface ReaderOptions {
  /** Bytes per read (default 1 MiB). */
  blockSize?: number;
  /** An item claiming more bytes than this is corruption, not data (default 64 MiB). */
  maxItemBytes?: number;
}

/** Where a partial last item starts and how many of its bytes are there. */
export interface Truncation {
  offset: number;
  bytes: number;
}

export interface ReaderStats {
  bytesRead: number;
  items: number;
  /** Largest buffer held at once (block plus carried-over bytes). */
  largestBuffer: number;
}

const DEFAULT_BLOCK = 1 << 20;
const DEFAULT_MAX_ITEM = 64 << 20;
/** A header is a few dozen bytes; a first item this large is not one. */
const MAX_HEADER_BYTES = 64 << 10;
const MAJOR_MAP = 5;

/**
 * A trace file's items, in order. Iterate it (once per iteration, each opens the file anew);
 * after the iteration ends `truncated` tells whether the file stopped mid-item.
 */
export class TraceFileReader implements Iterable<TraceItem> {
  truncated: Truncation | undefined;
  readonly stats: ReaderStats = { bytesRead: 0, items: 0, largestBuffer: 0 };
  private readonly blockSize: number;
  private readonly maxItemBytes: number;
  private readonly decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

  constructor(
    readonly path: string,
    options: ReaderOptions = {},
  ) {
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK;
    this.maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM;
  }

  *[Symbol.iterator](): Generator<TraceItem> {
    this.truncated = undefined;
    const fd = openSync(this.path, "r");
    try {
      yield* this.items(fd);
    } finally {
      closeSync(fd);
    }
  }

  private *items(fd: number): Generator<TraceItem> {
    const order = new ItemOrder();
    // `buffer[pos..]` is not consumed yet; `bufferOffset` is the file offset of buffer[0].
    // Each read gets a fresh buffer: yielded byte strings are views into the old one.
    let buffer = new Uint8Array(0);
    let bufferOffset = 0;
    let pos = 0;
    let eof = false;
    for (;;) {
      if (pos < buffer.length) {
        const itemOffset = bufferOffset + pos;
        if (!order.started && (buffer[pos]! >> 5) !== MAJOR_MAP) {
          throw new TraceFileError(itemOffset, "not a taskscope trace file (it does not start with a CBOR map)");
        }
        const byteStrings: number[] = [];
        const end = this.scan(buffer, pos, itemOffset, bufferOffset, byteStrings, order.started);
        if (end !== INCOMPLETE) {
          const offsets = byteStrings.map((b) => bufferOffset + b);
          const item = this.decodeItem(buffer.subarray(pos, end), itemOffset, offsets, order.started);
          order.check(item);
          this.stats.items++;
          pos = end;
          yield item;
          continue;
        }
        const pending = buffer.length - pos;
        if (!order.started && pending > MAX_HEADER_BYTES) {
          throw new TraceFileError(itemOffset, "not a taskscope trace file (its first item is not a header)");
        }
        if (pending > this.maxItemBytes) {
          throw new TraceFileError(itemOffset, `item larger than ${this.maxItemBytes} bytes: corrupt length`);
        }
      }
      if (eof) break;
      // Carry the unfinished bytes over; read at least as many again, so a large item costs
      // O(size) rescans in total rather than O(size^2 / block).
      const carried = buffer.length - pos;
      const want = Math.max(this.blockSize, carried);
      const next = new Uint8Array(carried + want);
      next.set(buffer.subarray(pos));
      const got = readFully(fd, next, carried, want, bufferOffset + buffer.length);
      this.stats.bytesRead += got;
      bufferOffset += pos;
      buffer = got < want ? next.subarray(0, carried + got) : next;
      this.stats.largestBuffer = Math.max(this.stats.largestBuffer, next.length);
      pos = 0;
      eof = got < want;
    }

    const leftover = buffer.length - pos;
    if (!order.started) {
      if (leftover === 0) throw new TraceFileError(0, "empty file: not a taskscope trace file");
      throw new TraceFileError(0, `trace file ends inside its header (${leftover} bytes): the writer stopped before recording anything`);
    }
    if (leftover > 0) this.truncated = { offset: bufferOffset + pos, bytes: leftover };
  }

  private scan(buffer: Uint8Array, pos: number, itemOffset: number, bufferOffset: number, byteStrings: number[], started: boolean): number {
    try {
      return scanCborItem(buffer, pos, byteStrings);
    } catch (error) {
      if (!(error instanceof CborScanError)) throw error;
      const prefix = started ? "bad CBOR item" : "not a taskscope trace file (bad CBOR)";
      throw new TraceFileError(itemOffset, `${prefix}: ${error.reason} at byte ${bufferOffset + error.offset}`, { cause: error });
    }
  }

  private decodeItem(bytes: Uint8Array, offset: number, byteStrings: number[], started: boolean): TraceItem {
    let value: unknown;
    try {
      value = this.decoder.decode(bytes);
    } catch (error) {
      const prefix = started ? "bad CBOR item" : "not a taskscope trace file (bad CBOR)";
      throw new TraceFileError(offset, `${prefix}: ${(error as Error).message}`, { cause: error });
    }
    try {
      return toTraceItem(value, offset, byteStrings);
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      if (!started) throw new TraceFileError(offset, `not a taskscope trace file (first item: ${error.message})`);
      throw new TraceFileError(offset, error.message);
    }
  }
}

/** Reads from `position` until `length` bytes or end of file; returns the bytes read. */
function readFully(fd: number, into: Uint8Array, at: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, into, at + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** The order rules of section 6: header first and once, sessions declared before use, footer last. */
class ItemOrder {
  started = false;
  private sessions = 0;
  private ended = false;

  check(item: TraceItem): void {
    if (!this.started) {
      if (item.type !== "header") throw new TraceFileError(item.offset, `not a taskscope trace file (first item is a ${item.type} item, not a header)`);
      this.started = true;
      return;
    }
    if (this.ended) throw new TraceFileError(item.offset, `${item.type} item after the footer`);
    switch (item.type) {
      case "header":
        throw new TraceFileError(item.offset, "second header");
      case "session":
        if (item.session !== this.sessions) {
          throw new TraceFileError(item.offset, `session index ${item.session} out of order (expected ${this.sessions})`);
        }
        this.sessions++;
        return;
      case "footer":
        this.ended = true;
        return;
      default:
        if (item.session >= this.sessions) {
          throw new TraceFileError(item.offset, `${item.type} item refers to session ${item.session}, which was never declared`);
        }
    }
  }
}

/** Opens a trace file for streaming its items. */
export function readTraceFile(path: string, options: ReaderOptions = {}): TraceFileReader {
  return new TraceFileReader(path, options);
}
