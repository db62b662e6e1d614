// The analysis view of a trace file: sessions with their info and names, events decoded into a
// reused EventBatch (constant memory however long the trace), and at the end the footer, the
// device counters, every loss (stored, plus seq gaps seen between chunks) and totals.

import { EventBatch, type DecodedEvent } from "../format/batch.js";
import { decodeChunk } from "../format/chunk.js";
import { DecodeError } from "../format/errors.js";
import { NameTable } from "../format/names.js";
import type { DeviceCounters } from "../format/records.js";
import { WIRE_FORMAT_VERSIONS } from "../format/spec.js";
import { TraceFileError } from "./errors.js";
import { sentEarlier } from "./loss-account.js";
import { SeqSet, readableSeq } from "./seq-set.js";
import { TraceFileReader, type Damage, type ReaderOptions, type ReaderStats, type Truncation } from "./reader.js";
import { MAX_SEQ_JUMP, MAX_TIME_NS, countersProblem, countersRegression, timeProblem } from "../format/limits.js";
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
  /** Events in chunks that decoded but were set aside as damaged (implausible times): in the
   *  file, so not lost in transfer, but not analysed either. */
  damagedEvents: number;
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
  /** Stretches skipped as damaged, and values set aside as implausible, in file order (the
   *  first MAX_DAMAGE_ENTRIES; `damagedStretches` and `damagedBytes` count them all). */
  damaged: Damage[];
  damagedStretches: number;
  damagedBytes: number;
  /** Chunks stored twice (same session, same seq): dropped after the first. */
  duplicateChunks: number;
  totals: TraceTotals;
}

export interface TraceBatch {
  session: TraceSession;
  /** The rows of one stored chunks item; reused, valid until the iteration moves on. */
  batch: EventBatch;
}

export interface TraceOptions extends ReaderOptions {
  /** A chunk that does not decode: drop it and record a "decode" loss (default), or throw. */
  badChunks?: "throw" | "skip";
}

/** Opens a trace file and reads its header (throws TraceFileError if it is not a trace file). */
export function openTrace(path: string, options: TraceOptions = {}): Trace {
  return new Trace(path, options);
}

/** Per-session bookkeeping of chunk sequence numbers (FORMAT.md 6.1). */
interface SeqState {
  seen: SeqSet;
  /** A chunk whose seq jumped implausibly far (or back): believed once the next one follows it. */
  pending: { seq: number; offset: number } | undefined;
  /** reader damage count when the last chunk was read: a gap across damage is the damage's. */
  damageMark: number;
}

export class Trace {
  readonly header: TraceHeader;
  readonly sessions: TraceSession[] = [];
  footer: FooterInfo | undefined;
  private readonly reader: TraceFileReader;
  private readonly items: Iterator<TraceItem>;
  private readonly storedLosses: LossEntry[] = [];
  private readonly seqGaps: LossEntry[] = [];
  private readonly seqState: SeqState[] = [];
  /** Session index in the file -> the session (they differ once a session item was damaged). */
  private readonly byFileIndex = new Map<number, TraceSession>();
  private readonly totals: TraceTotals = { chunks: 0, events: 0, rows: 0 };
  private readonly batch = new EventBatch(4096);
  private readonly skipBadChunks: boolean;
  private duplicateChunks = 0;
  private skippedSessions = 0;
  private consumed = false;
  private finished = false;

  constructor(
    readonly path: string,
    options: TraceOptions = {},
  ) {
    this.skipBadChunks = options.badChunks !== "throw";
    // Chunks are decoded before the next item is asked for: the reader may reuse its buffer.
    this.reader = new TraceFileReader(path, { ...options, reuseBuffer: true });
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
          const session = this.byFileIndex.get(item.session)!;
          this.decodeChunks(session, item);
          if (this.batch.length > 0) yield { session, batch: this.batch };
        } else {
          this.take(item);
        }
      }
      this.finishSeqs();
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
      damaged: [...this.reader.damage].sort((a, b) => a.offset - b.offset),
      damagedStretches: this.reader.stats.damagedStretches,
      damagedBytes: this.reader.stats.damagedBytes,
      duplicateChunks: this.duplicateChunks,
      totals: { ...this.totals },
    };
  }

  private take(item: Exclude<TraceItem, { type: "chunks" }>): void {
    switch (item.type) {
      case "session": {
        if (!WIRE_FORMAT_VERSIONS.includes(item.info.format)) {
          throw new TraceFileError(item.offset, `session ${item.session} uses wire format ${item.info.format}, this reader knows ${WIRE_FORMAT_VERSIONS.join(" and ")}`);
        }
        const info = { ...item.info };
        const anchorProblem = timeProblem(info.anchor.ticks, info.tickHz);
        if (anchorProblem) {
          // The events keep their device times; only wall-clock times need the anchor. Put the
          // device clock's zero at the file's creation, and say so.
          info.anchor = { ticks: 0, unixNs: this.header.created };
          this.reader.noteDamage({
            offset: item.offset, bytes: 0,
            reason: `session ${item.session}: clock anchor ${anchorProblem}; wall-clock times of this session are placed at the file's creation time`,
          });
        }
        const index = this.sessions.length;
        if (item.session !== index + this.skippedSessions) {
          const skipped = item.session - index - this.skippedSessions;
          this.skippedSessions += skipped;
          this.reader.noteDamage({
            offset: item.offset, bytes: 0,
            reason: `the ${skipped} session item(s) before session ${item.session} are missing (damaged); it is read as session ${index}`,
          });
        }
        const session: TraceSession = {
          index, info, names: new NameTable(), counters: undefined, stalls: undefined,
          chunks: 0, events: 0, resentEvents: 0, damagedEvents: 0, lastSeq: undefined,
        };
        this.sessions.push(session);
        this.byFileIndex.set(item.session, session);
        this.seqState.push({ seen: new SeqSet(), pending: undefined, damageMark: this.reader.stats.damagedStretches });
        return;
      }
      case "names":
        try {
          this.byFileIndex.get(item.session)!.names.addEntries(item.names, item.offset);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
          this.reader.noteDamage({ offset: item.offset, bytes: item.size, reason: `names of session ${item.session}: ${error.reason}` });
        }
        return;
      case "counters": {
        const session = this.byFileIndex.get(item.session)!;
        const problem = countersProblem(item.counters) ?? (session.counters ? countersRegression(session.counters, item.counters) : undefined);
        if (problem) {
          this.reader.noteDamage({ offset: item.offset, bytes: item.size, reason: `counters of session ${item.session}: ${problem} (set aside)` });
          return;
        }
        session.counters = item.counters;
        return;
      }
      case "stalls":
        this.byFileIndex.get(item.session)!.stalls = item.stalls;
        return;
      case "loss":
        this.storedLosses.push({ ...item.loss, session: this.byFileIndex.get(item.session)!.index, offset: item.offset });
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
    const seqs = this.seqState[session.index]!;
    for (let i = 0; i < item.chunks.length; i++) {
      const payload = item.chunks[i]!;
      const offset = item.chunkOffsets[i]!;
      const rowsBefore = batch.length;
      let seq: number;
      try {
        const header = decodeChunk(payload, tickHz, batch, offset, session.info.format);
        if (seqs.seen.has(header.seq)) {
          // Stored before (same session, same seq): counted once.
          batch.length = rowsBefore;
          this.duplicateChunks++;
          continue;
        }
        // Well-formed, but at a time no device reaches (a flipped high bit): damaged.
        const late = timeProblem(header.baseTicks, tickHz) ?? (batch.length > rowsBefore && !(batch.t[batch.length - 1]! < MAX_TIME_NS) ? "an event time is more than 146 years" : undefined);
        if (late) {
          batch.length = rowsBefore;
          session.damagedEvents += header.events;
          throw new DecodeError(offset, `chunk ${header.seq}: ${late}`);
        }
        seq = header.seq;
        session.events += header.events;
        if (sentEarlier(seq, session.info.earlier)) session.resentEvents += header.events;
        this.totals.events += header.events;
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        if (!this.skipBadChunks) {
          throw new TraceFileError(offset, `chunk ${i} of the chunks item at byte ${item.offset} (session ${session.index}) does not decode: ${error.message}`, { cause: error });
        }
        const known = readableSeq(payload, session.info.format);
        if (known !== undefined && seqs.seen.has(known)) {
          this.duplicateChunks++; // a damaged copy of a chunk already read
          continue;
        }
        this.storedLosses.push({
          session: session.index, kind: "decode", chunks: 1, offset, reason: error.message,
          ...(known === undefined ? {} : { fromSeq: known, toSeq: known }),
        });
        // The dropped chunk still counts as received for gap detection, or it would show twice.
        if (known !== undefined) this.noteSeq(session, known, offset);
        continue;
      }
      this.totals.rows += batch.length - rowsBefore;
      seqs.seen.add(seq);
      this.noteSeq(session, seq, offset);
      session.chunks++;
      this.totals.chunks++;
    }
  }

  /**
   * Follows a session's chunk sequence: a seq that is not last + 1 means chunks went missing in
   * between (u32 wrap allowed). A jump further than MAX_SEQ_JUMP, or a step back, is believed
   * only when the next chunk follows it; otherwise that one seq was damaged (its events are kept).
   */
  private noteSeq(session: TraceSession, seq: number, offset: number): void {
    const st = this.seqState[session.index]!;
    const damageMark = st.damageMark;
    st.damageMark = this.reader.stats.damagedStretches;
    const last = session.lastSeq;
    if (last === undefined) {
      session.lastSeq = seq;
      return;
    }
    const step = (seq - last) >>> 0;
    const p = st.pending;
    if (p && ((seq - p.seq) >>> 0) === 1) {
      // Two chunks agree: the jump was real.
      st.pending = undefined;
      this.gap(session, last, p.seq, p.offset, damageMark);
      session.lastSeq = seq;
      return;
    }
    if (p) this.outOfSequence(session, p, last, seq);
    st.pending = undefined;
    if (step <= MAX_SEQ_JUMP) {
      // A chunk with a damaged number between two that leave one seq free was most likely it.
      if (!(p && step === 2)) this.gap(session, last, seq, offset, damageMark);
      session.lastSeq = seq;
    } else {
      st.pending = { seq, offset };
    }
  }

  /** Chunks between `last` and `seq` that are not in the file, as a seq-gap loss. */
  private gap(session: TraceSession, last: number, seq: number, offset: number, damageMark: number): void {
    const missing = (seq - last - 1) >>> 0;
    // A step backwards (missing >= 2^31) is a reordering, not a loss.
    if (missing === 0 || missing >= 0x80000000) return;
    const acrossDamage = this.reader.stats.damagedStretches !== damageMark;
    this.seqGaps.push({
      session: session.index, kind: "seq-gap", chunks: missing,
      fromSeq: (last + 1) >>> 0, toSeq: (seq - 1) >>> 0, offset,
      ...(acrossDamage ? { reason: "where the file is damaged" } : {}),
    });
  }

  private outOfSequence(session: TraceSession, p: { seq: number; offset: number }, last: number, next: number | undefined): void {
    const between = next === undefined ? `after ${last}` : `between ${last} and ${next}`;
    this.reader.noteDamage({
      offset: p.offset, bytes: 0,
      reason: `session ${session.index}: chunk seq ${p.seq} out of sequence ${between} (a damaged number: its events are kept, the number is not)`,
    });
  }

  /** At the end of the file a jump nothing confirmed is a damaged seq. */
  private finishSeqs(): void {
    if (this.finished) return;
    this.finished = true;
    for (const session of this.sessions) {
      const st = this.seqState[session.index]!;
      if (st.pending && session.lastSeq !== undefined) this.outOfSequence(session, st.pending, session.lastSeq, undefined);
      st.pending = undefined;
    }
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
