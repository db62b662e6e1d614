// The analysis view of a trace file: sessions with their info and names, events decoded into a
// reused EventBatch (constant memory however long the trace), and at the end the footer, the
// device counters, every loss (stored, plus seq gaps seen between chunks) and totals.

import { EventBatch, type DecodedEvent } from "../format/batch.js";
import { decodeChunk, decodeChunkHeader } from "../format/chunk.js";
import { DecodeError } from "../format/errors.js";
import { NameTable } from "../format/names.js";
import type { DeviceCounters } from "../format/records.js";
import { WIRE_FORMAT_VERSIONS } from "../format/spec.js";
import { TraceFileError } from "./errors.js";
import { sentEarlier } from "./loss-account.js";
import { TraceFileReader, type ReaderOptions, type ReaderStats, type Truncation } from "./reader.js";
import type { FooterInfo, LossInfo, SessionInfo, StallInfo, TraceHeader, TraceItem } from "./schema.js";

export interface TraceSession {
  index: number;
  info: SessionInfo;
  names: NameTable;
  /** The latest COUNTERS the device sent, if any. */
  counters: DeviceCounters | undefined;
  /** Time the recorder's clock skipped (trace file 2; undefined when not recorded). */
  stalls: StallInfo | undefined;
  chunks: number;
  /** Wire events decoded (a LOG and its arguments count once). */
  events: number;
  /** Of those, events in chunks the device had sent before this pull joined (info.earlier). */
  resentEvents: number;
  /** Seq of the last chunk seen. */
  lastSeq: number | undefined;
}

export interface LossEntry extends Omit<LossInfo, "kind"> {
  session: number;
  /**
   * "link"/"decode": stored in the file by its writer. "seq-gap": chunks missing between two
   * stored chunks, found while reading (lost on the link or overwritten in the device ring;
   * the device counters tell which). "decode" also marks chunks skipped with badChunks: "skip".
   */
  kind: LossInfo["kind"] | "seq-gap";
  /** File offset of the loss item, or of the chunk after the gap / the bad chunk. */
  offset: number;
}

export interface TraceTotals {
  chunks: number;
  events: number;
  /** Decoded rows (events plus LOG_ARG rows). */
  rows: number;
}

export interface TraceSummary {
  header: TraceHeader;
  sessions: TraceSession[];
  footer: FooterInfo | undefined;
  losses: LossEntry[];
  truncated: Truncation | undefined;
  totals: TraceTotals;
}

export interface TraceBatch {
  session: TraceSession;
  /** The rows of one stored chunks item; reused, valid until the iteration moves on. */
  batch: EventBatch;
}

export interface TraceOptions extends ReaderOptions {
  /** A chunk that does not decode: throw (default) or drop it and record a "decode" loss. */
  badChunks?: "throw" | "skip";
}

/** Opens a trace file and reads its header (throws TraceFileError if it is not a trace file). */
export function openTrace(path: string, options: TraceOptions = {}): Trace {
  return new Trace(path, options);
}

export class Trace {
  readonly header: TraceHeader;
  readonly sessions: TraceSession[] = [];
  footer: FooterInfo | undefined;
  private readonly reader: TraceFileReader;
  private readonly items: Iterator<TraceItem>;
  private readonly storedLosses: LossEntry[] = [];
  private readonly seqGaps: LossEntry[] = [];
  private readonly totals: TraceTotals = { chunks: 0, events: 0, rows: 0 };
  private readonly batch = new EventBatch(4096);
  private readonly skipBadChunks: boolean;
  private consumed = false;

  constructor(
    readonly path: string,
    options: TraceOptions = {},
  ) {
    this.skipBadChunks = options.badChunks === "skip";
    this.reader = new TraceFileReader(path, options);
    this.items = this.reader[Symbol.iterator]();
    const first = this.items.next();
    if (first.done || first.value.type !== "header") {
      throw new TraceFileError(0, "not a taskscope trace file"); // the reader reports this first
    }
    this.header = first.value.header;
  }

  /**
   * Event batches in file order, one per stored chunks item. Sessions, names, counters and
   * losses are taken in as they come. Can be iterated once.
   */
  *batches(): Generator<TraceBatch> {
    if (this.consumed) throw new Error("trace already read: open it again to read it twice");
    this.consumed = true;
    try {
      for (let r = this.items.next(); !r.done; r = this.items.next()) {
        const item = r.value;
        if (item.type === "chunks") {
          const session = this.sessions[item.session]!;
          this.decodeChunks(session, item);
          if (this.batch.length > 0) yield { session, batch: this.batch };
        } else {
          this.take(item);
        }
      }
    } finally {
      this.items.return?.();
    }
  }

  /** How the file was read so far (bytes, items, largest buffer held). */
  get readerStats(): ReaderStats {
    return this.reader.stats;
  }

  /** Releases the file if the batches are not read to the end. */
  close(): void {
    this.consumed = true;
    this.items.return?.();
  }

  /** Calls `onBatch` for each batch, then returns the summary. */
  forEach(onBatch: (batch: EventBatch, session: TraceSession) => void): TraceSummary {
    for (const { session, batch } of this.batches()) onBatch(batch, session);
    return this.summary();
  }

  /** Everything known once the file has been read (reads the rest of it if needed). */
  summary(): TraceSummary {
    if (!this.consumed) for (const _ of this.batches());
    // A gap the writer already stored as a loss is not counted twice.
    const stored = new Set(this.storedLosses.map((l) => `${l.session}:${l.fromSeq}:${l.toSeq}`));
    const gaps = this.seqGaps.filter((g) => !stored.has(`${g.session}:${g.fromSeq}:${g.toSeq}`));
    return {
      header: this.header,
      sessions: this.sessions,
      footer: this.footer,
      losses: [...this.storedLosses, ...gaps].sort((a, b) => a.offset - b.offset),
      truncated: this.reader.truncated,
      totals: { ...this.totals },
    };
  }

  private take(item: Exclude<TraceItem, { type: "chunks" }>): void {
    switch (item.type) {
      case "session":
        if (!WIRE_FORMAT_VERSIONS.includes(item.info.format)) {
          throw new TraceFileError(item.offset, `session ${item.session} uses wire format ${item.info.format}, this reader knows ${WIRE_FORMAT_VERSIONS.join(" and ")}`);
        }
        this.sessions.push({
          index: item.session, info: item.info, names: new NameTable(), counters: undefined, stalls: undefined,
          chunks: 0, events: 0, resentEvents: 0, lastSeq: undefined,
        });
        return;
      case "names":
        try {
          this.sessions[item.session]!.names.addEntries(item.names, item.offset);
        } catch (error) {
          if (error instanceof DecodeError) throw new TraceFileError(item.offset, `names of session ${item.session}: ${error.reason}`, { cause: error });
          throw error;
        }
        return;
      case "counters":
        this.sessions[item.session]!.counters = item.counters;
        return;
      case "stalls":
        this.sessions[item.session]!.stalls = item.stalls;
        return;
      case "loss":
        this.storedLosses.push({ ...item.loss, session: item.session, offset: item.offset });
        return;
      case "footer":
        this.footer = item.footer;
        return;
      case "header":
        return; // the reader rejects a second header
    }
  }

  private decodeChunks(session: TraceSession, item: Extract<TraceItem, { type: "chunks" }>): void {
    const batch = this.batch;
    batch.clear();
    const tickHz = session.info.tickHz;
    for (let i = 0; i < item.chunks.length; i++) {
      const payload = item.chunks[i]!;
      const offset = item.chunkOffsets[i]!;
      const rowsBefore = batch.length;
      let seq: number;
      try {
        const header = decodeChunk(payload, tickHz, batch, offset, session.info.format);
        seq = header.seq;
        session.events += header.events;
        if (sentEarlier(seq, session.info.earlier)) session.resentEvents += header.events;
        this.totals.events += header.events;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        if (!this.skipBadChunks) {
          throw new TraceFileError(offset, `chunk ${i} of the chunks item at byte ${item.offset} (session ${session.index}) does not decode: ${error.message}`, { cause: error });
        }
        const known = safeSeq(payload, session.info.format);
        this.storedLosses.push({
          session: session.index, kind: "decode", chunks: 1, offset, reason: error.message,
          ...(known === undefined ? {} : { fromSeq: known, toSeq: known }),
        });
        // The dropped chunk still counts as received for gap detection, or it would show twice.
        if (known !== undefined) this.noteSeq(session, known, offset);
        continue;
      }
      this.totals.rows += batch.length - rowsBefore;
      this.noteSeq(session, seq, offset);
      session.chunks++;
      this.totals.chunks++;
    }
  }

  /** A seq that is not last + 1 means chunks went missing in between (u32 wrap allowed). */
  private noteSeq(session: TraceSession, seq: number, offset: number): void {
    const last = session.lastSeq;
    session.lastSeq = seq;
    if (last === undefined) return;
    const missing = (seq - last - 1) >>> 0;
    // A step backwards (missing >= 2^31) is a reordering, not a loss.
    if (missing === 0 || missing >= 0x80000000) return;
    this.seqGaps.push({
      session: session.index, kind: "seq-gap", chunks: missing,
      fromSeq: (last + 1) >>> 0, toSeq: (seq - 1) >>> 0, offset,
    });
  }
}

function safeSeq(payload: Uint8Array, format: number): number | undefined {
  try {
    return decodeChunkHeader(payload, 0, format).seq;
  } catch {
    return undefined;
  }
}

// ---- whole-trace convenience for tests and small tools --------------------------------------

export interface WholeSession extends TraceSession {
  /** Every decoded row of the session, as plain objects. */
  rows: DecodedEvent[];
}

export interface WholeTrace extends Omit<TraceSummary, "sessions"> {
  sessions: WholeSession[];
}

/** Reads a whole trace into memory (plain objects): for tests and small traces only. */
export function readWholeTrace(path: string, options: TraceOptions = {}): WholeTrace {
  const trace = openTrace(path, options);
  const rows = new Map<number, DecodedEvent[]>();
  const summary = trace.forEach((batch, session) => {
    const list = rows.get(session.index) ?? [];
    for (const row of batch.toEvents()) list.push(row);
    rows.set(session.index, list);
  });
  return {
    ...summary,
    sessions: summary.sessions.map((s) => Object.assign(s, { rows: rows.get(s.index) ?? [] })),
  };
}
