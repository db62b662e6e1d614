// Streams the items of a trace file in order, reading a block at a time (1 MiB by default) and
// carrying an unfinished item over to the next block, so memory stays bounded by the largest
// item, not the file. Every item is schema-checked.
//
// Damage does not end the reading (FORMAT.md section 6.1): an item that is not well-formed CBOR,
// fails the schema or breaks the order rules is skipped, and the reader resynchronises on the
// next position where a well-formed, valid item starts, reporting the stretch in between as
// damaged (offset, bytes skipped, why). A partial last item with nothing valid after it is a
// truncation (a writer that was stopped), told apart from damage. The search for the next item
// is bounded (section 8): the time a hostile file costs grows with its size, no faster.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { Decoder } from "cbor-x";
import { CborScanError, INCOMPLETE, scanCborItem } from "./cbor-scan.js";
import { TraceFileError } from "./errors.js";
import { SchemaError, toTraceItem, type TraceItem } from "./schema.js";

export interface ReaderOptions {
  /** Bytes per read (default 1 MiB). */
  blockSize?: number;
  /** An item claiming more bytes than this is corruption, not data (default 64 MiB). */
  maxItemBytes?: number;
  /**
   * Read into the same buffer again (default false: a fresh one for each read). Only for a
   * consumer done with an item's bytes (its chunk byte strings are views into the buffer) when
   * it asks for the next item, as the analysis view (trace.ts) is: it saves allocating and
   * collecting a block per read.
   */
  reuseBuffer?: boolean;
}

/** Where a partial last item starts and how many of its bytes are there. */
export interface Truncation {
  offset: number;
  bytes: number;
}

/** A stretch of the file that was skipped: not a valid item, or an item that broke the rules. */
export interface Damage {
  /** File offset of the first byte skipped. */
  offset: number;
  /** Bytes skipped (0 when a value was replaced rather than bytes skipped). */
  bytes: number;
  /** What was wrong at `offset`. */
  reason: string;
}

export interface ReaderStats {
  bytesRead: number;
  items: number;
  /** Largest buffer held at once (block plus carried-over bytes). */
  largestBuffer: number;
  /** Damaged stretches and the bytes in them (all of them; `damage` keeps the first ones). */
  damagedStretches: number;
  damagedBytes: number;
  /** Bytes the CBOR scan went over, resynchronising included: at most about 9x the file. */
  scannedBytes: number;
}

const DEFAULT_BLOCK = 1 << 20;
const DEFAULT_MAX_ITEM = 64 << 20;
/** A header is a few dozen bytes; a first item this large is not one. */
const MAX_HEADER_BYTES = 64 << 10;
/** Damage entries kept for the report; the stats count every one. */
export const MAX_DAMAGE_ENTRIES = 1000;
/** Resynchronising may scan at most this many bytes per byte of file (plus one block). */
const RESYNC_WORK_PER_BYTE = 8;
const MAJOR_MAP = 5;

/** First keys an item can have (FORMAT.md 6.1): the text-string bytes a resync looks for. */
const RESYNC_KEYS = ["session", "footer", "device_session", "names", "chunks", "counters", "loss", "stalls", "taskscope"].map((k) => {
  const text = new TextEncoder().encode(k);
  return Uint8Array.from([0x60 + text.length, ...text]);
});
const LONGEST_KEY = Math.max(...RESYNC_KEYS.map((k) => k.length));

/**
 * A trace file's items, in order. Iterate it (once per iteration, each opens the file anew);
 * after the iteration ends `truncated` tells whether the file stopped mid-item and `damage` lists
 * the stretches skipped as damaged.
 */
export class TraceFileReader implements Iterable<TraceItem> {
  truncated: Truncation | undefined;
  /** Damaged stretches, in file order (the first MAX_DAMAGE_ENTRIES; stats count them all). */
  damage: Damage[] = [];
  readonly stats: ReaderStats = { bytesRead: 0, items: 0, largestBuffer: 0, damagedStretches: 0, damagedBytes: 0, scannedBytes: 0 };
  private readonly blockSize: number;
  private readonly maxItemBytes: number;
  private readonly reuseBuffer: boolean;
  private readonly decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

  constructor(
    readonly path: string,
    options: ReaderOptions = {},
  ) {
    this.blockSize = Math.max(64, options.blockSize ?? DEFAULT_BLOCK);
    this.maxItemBytes = options.maxItemBytes ?? DEFAULT_MAX_ITEM;
    this.reuseBuffer = options.reuseBuffer === true;
  }

  *[Symbol.iterator](): Generator<TraceItem> {
    this.truncated = undefined;
    this.damage = [];
    this.stats.damagedStretches = 0;
    this.stats.damagedBytes = 0;
    const fd = openSync(this.path, "r");
    try {
      yield* this.items(fd, fstatSync(fd).size);
    } finally {
      closeSync(fd);
    }
  }

  /** Records a damaged stretch (also used by the analysis view for values it rejects). */
  noteDamage(d: Damage): void {
    this.stats.damagedStretches++;
    this.stats.damagedBytes += d.bytes;
    if (this.damage.length < MAX_DAMAGE_ENTRIES) this.damage.push(d);
  }

  private *items(fd: number, fileSize: number): Generator<TraceItem> {
    const order = new ItemOrder();
    // `buffer[pos..]` is not consumed yet; `bufferOffset` is the file offset of buffer[0].
    // Each read gets a fresh buffer (yielded byte strings are views into the old one), unless
    // reuseBuffer: then `buffer` is the start of `storage`, read into again while it is large enough.
    let buffer: Uint8Array = new Uint8Array(0);
    let storage = buffer;
    let bufferOffset = 0;
    let pos = 0;
    let eof = false;
    // While resynchronising: where the damage began, why, and whether it began with an item cut
    // off by the end of the file (then it is a truncation, unless a valid item follows).
    let damaged: { offset: number; reason: string; incomplete: boolean } | undefined;
    // Bytes the search for the next item may still scan: bounded by the file's size.
    let budget = RESYNC_WORK_PER_BYTE * fileSize + this.blockSize;

    for (;;) {
      let needMore = pos >= buffer.length;
      if (!needMore && damaged) {
        const next = findCandidate(buffer, pos);
        if (next >= 0) pos = next;
        else {
          // None here: keep the last few bytes, a key may be cut by the end of the block.
          pos = eof ? buffer.length : Math.max(pos, buffer.length - LONGEST_KEY);
          needMore = true;
        }
      }
      if (!needMore) {
        const a = this.attempt(buffer, pos, bufferOffset, eof, order);
        this.stats.scannedBytes += a.scanned;
        if (damaged) budget -= a.scanned;
        if (a.kind === "item") {
          if (damaged) this.noteDamage({ offset: damaged.offset, bytes: a.item.offset - damaged.offset, reason: damaged.reason });
          damaged = undefined;
          this.stats.items++;
          pos = a.end;
          yield a.item;
          continue;
        }
        if (a.kind === "bad") {
          if (!order.started) throw this.notATrace(a, bufferOffset + pos, buffer.length - pos);
          if (!damaged) damaged = { offset: bufferOffset + pos, reason: a.reason, incomplete: a.incomplete };
          else if (damaged.incomplete) {
            // An item start after an item cut off by the end of the file: no writer stops there
            // (no item holds another's start), so the length that ran past the end was damaged.
            damaged.incomplete = false;
            damaged.reason += `; an item starts again at byte ${bufferOffset + pos}, so the file was not cut off`;
          }
          if (budget <= 0) {
            damaged.reason += "; nothing after it was searched for a valid item (resynchronisation limit)";
            damaged.incomplete = false;
            bufferOffset = fileSize;
            buffer = new Uint8Array(0);
            pos = 0;
            break;
          }
          pos++;
          continue;
        }
        // "more": the item goes on in the next block.
        if (!order.started && buffer.length - pos > MAX_HEADER_BYTES) {
          throw new TraceFileError(bufferOffset + pos, "not a taskscope trace file (its first item is not a header)");
        }
      }
      if (eof) break;
      // Carry the unfinished bytes over; read at least as many again, so a large item costs
      // O(size) rescans in total rather than O(size^2 / block).
      const carried = buffer.length - pos;
      const want = Math.max(this.blockSize, carried);
      let next: Uint8Array;
      if (this.reuseBuffer && storage.length >= carried + want) {
        next = storage;
        next.copyWithin(0, pos, buffer.length);
      } else {
        // (Reused: room for a block besides the usual carried-over tail, so it is reused.)
        next = new Uint8Array(this.reuseBuffer ? Math.max(carried + want, 2 * this.blockSize) : carried + want);
        next.set(buffer.subarray(pos));
        storage = next;
      }
      const got = readFully(fd, next, carried, want, bufferOffset + buffer.length);
      this.stats.bytesRead += got;
      bufferOffset += pos;
      buffer = carried + got < next.length ? next.subarray(0, carried + got) : next;
      this.stats.largestBuffer = Math.max(this.stats.largestBuffer, next.length);
      pos = 0;
      eof = got < want;
    }

    if (!order.started) throw new TraceFileError(0, "empty file: not a taskscope trace file");
    if (damaged) {
      const fileEnd = Math.max(bufferOffset + buffer.length, fileSize);
      const bytes = fileEnd - damaged.offset;
      if (damaged.incomplete) this.truncated = { offset: damaged.offset, bytes };
      else this.noteDamage({ offset: damaged.offset, bytes, reason: damaged.reason });
    }
  }

  /** Tries to read one item at `buffer[pos]`. */
  private attempt(buffer: Uint8Array, pos: number, bufferOffset: number, eof: boolean, order: ItemOrder): Attempt {
    const itemOffset = bufferOffset + pos;
    if (!order.started && buffer[pos]! >> 5 !== MAJOR_MAP) {
      throw new TraceFileError(itemOffset, "not a taskscope trace file (it does not start with a CBOR map)");
    }
    const byteStrings: number[] = [];
    let end: number;
    try {
      end = scanCborItem(buffer, pos, byteStrings, { maxBytes: this.maxItemBytes, tags: false });
    } catch (error) {
      if (!(error instanceof CborScanError)) throw error;
      const reason = `bad CBOR item: ${error.reason} at byte ${bufferOffset + error.offset}`;
      return { kind: "bad", reason, incomplete: false, scanned: error.offset - pos + 1 };
    }
    if (end === INCOMPLETE) {
      const pending = buffer.length - pos;
      if (!eof && pending <= this.maxItemBytes) return { kind: "more", scanned: pending };
      if (!eof) return { kind: "bad", reason: `item larger than ${this.maxItemBytes} bytes: corrupt length`, incomplete: false, scanned: pending };
      return { kind: "bad", reason: `item runs past the end of the file (${pending} bytes there)`, incomplete: true, scanned: pending };
    }
    try {
      const offsets = byteStrings.map((b) => bufferOffset + b);
      return { kind: "item", item: this.decodeItem(buffer.subarray(pos, end), itemOffset, offsets, order), end, scanned: end - pos };
    } catch (error) {
      if (!(error instanceof TraceFileError)) throw error;
      return { kind: "bad", reason: error.detail, incomplete: false, scanned: end - pos, error };
    }
  }

  /** The error for a file whose first item is not a readable header. */
  private notATrace(a: Extract<Attempt, { kind: "bad" }>, offset: number, leftover: number): TraceFileError {
    if (a.incomplete) return new TraceFileError(0, `trace file ends inside its header (${leftover} bytes): the writer stopped before recording anything`);
    if (a.error) return a.error;
    return new TraceFileError(offset, `not a taskscope trace file (${a.reason})`);
  }

  /** Decodes, schema-checks and order-checks one complete item; TraceFileError if it fails. */
  private decodeItem(bytes: Uint8Array, offset: number, byteStrings: number[], order: ItemOrder): TraceItem {
    const started = order.started;
    let value: unknown;
    try {
      value = this.decoder.decode(bytes);
    } catch (error) {
      const prefix = started ? "bad CBOR item" : "not a taskscope trace file (bad CBOR)";
      throw new TraceFileError(offset, `${prefix}: ${(error as Error).message}`, { cause: error });
    }
    let item: TraceItem;
    try {
      item = toTraceItem(value, offset, byteStrings, bytes.length);
    } catch (error) {
      if (!(error instanceof SchemaError)) throw error;
      if (!started) throw new TraceFileError(offset, `not a taskscope trace file (first item: ${error.message})`);
      throw new TraceFileError(offset, error.message);
    }
    order.check(item);
    return item;
  }
}

type Attempt =
  | { kind: "item"; item: TraceItem; end: number; scanned: number }
  | { kind: "more"; scanned: number }
  | { kind: "bad"; reason: string; incomplete: boolean; scanned: number; error?: TraceFileError };

/** The next position at or after `from` where a map head is followed by a key an item starts
 *  with; -1 if there is none in `buffer`. */
function findCandidate(buffer: Uint8Array, from: number): number {
  const last = buffer.length - 2;
  for (let p = from; p <= last; p++) {
    const head = buffer[p]!;
    if (head < 0xa1 || head > 0xb7) continue; // a definite map of 1..23 pairs
    const text = buffer[p + 1]!;
    if (text < 0x64 || text > 0x6e) continue; // a text string of 4..14 bytes
    for (const key of RESYNC_KEYS) {
      if (key[0] !== text || p + key.length >= buffer.length) continue;
      let same = true;
      for (let i = 1; i < key.length && same; i++) same = buffer[p + 1 + i] === key[i];
      if (same) return p;
    }
  }
  return -1;
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

/** The order rules of section 6: header first and once, sessions declared (in increasing index
 *  order) before use, footer last. A session index may skip some (their session items were
 *  damaged): items of those sessions are then damaged too. `check` throws before it changes
 *  anything, so a rejected item leaves the order as it was. */
class ItemOrder {
  started = false;
  private nextSession = 0;
  private readonly declared = new Set<number>();
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
        if (item.session < this.nextSession || item.session > 0xffffffff) {
          throw new TraceFileError(item.offset, `session index ${item.session} out of order (expected ${this.nextSession} or later)`);
        }
        this.nextSession = item.session + 1;
        this.declared.add(item.session);
        return;
      case "footer":
        this.ended = true;
        return;
      default:
        if (!this.declared.has(item.session)) {
          throw new TraceFileError(item.offset, `${item.type} item refers to session ${item.session}, which was never declared`);
        }
    }
  }
}

/** Opens a trace file for streaming its items. */
export function readTraceFile(path: string, options: ReaderOptions = {}): TraceFileReader {
  return new TraceFileReader(path, options);
}
