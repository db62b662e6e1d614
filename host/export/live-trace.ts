// A trace file as it is being written, seen the way a reader of the finished file will see it
// (host/tracefile/trace.ts): the items a pull stores (host/pull/store-tap.ts) become sessions
// with their info, names, counters and totals, and each chunks item one decoded batch, in file
// order. So an exporter fed from here while the pull runs makes what it would make from the file
// afterwards. Memory: the sessions (info, names, figures) and one batch; losses are kept as sums
// per session and kind (what the exporters read of them), not as a list that grows with a noisy
// link.

import { EventBatch } from "../format/batch.js";
import { decodeChunk } from "../format/chunk.js";
import { NameTable } from "../format/names.js";
import type { DeviceCounters, NameEntry } from "../format/records.js";
import type { StoreTap } from "../pull/store-tap.js";
import { sentEarlier } from "../tracefile/loss-account.js";
import type { FooterInfo, LossInfo, SessionInfo, StallInfo, TraceHeader } from "../tracefile/schema.js";
import type { LossEntry, TraceSession, TraceSummary, TraceTotals } from "../tracefile/trace.js";

export interface LiveTraceSink {
  /** The header: known before any session. */
  header(header: TraceHeader): void;
  /** One stored chunks item, decoded (the batch is reused: valid during the call). */
  batch(batch: EventBatch, session: TraceSession): void;
  /** The tap failed and was detached (a bug): nothing more arrives. */
  failed(error: unknown): void;
}

/** Recent loss ranges remembered to match a seq gap with the loss item that explains it. */
const RECENT_RANGES = 64;

interface SessionLosses {
  /** Chunks of stored "link" losses, of stored "decode" losses, and of seq gaps no stored loss
   *  explains (the reader counts a gap once when a loss item names the same range). */
  link: number;
  decode: number;
  gaps: number;
  /** Recent stored ranges, and recent gaps with their size, "from:to". */
  stored: string[];
  gapRanges: Map<string, number>;
}

export class LiveTrace implements StoreTap {
  headerInfo: TraceHeader | undefined;
  readonly sessions: TraceSession[] = [];
  footerInfo: FooterInfo | undefined;
  private readonly losses: SessionLosses[] = [];
  private readonly totals: TraceTotals = { chunks: 0, events: 0, rows: 0 };
  private readonly scratch = new EventBatch(4096);

  constructor(private readonly sink: LiveTraceSink) {}

  header(header: TraceHeader): void {
    this.headerInfo = header;
    this.sink.header(header);
  }

  session(index: number, info: SessionInfo): void {
    this.sessions[index] = {
      index, info, names: new NameTable(), counters: undefined, stalls: undefined,
      chunks: 0, events: 0, resentEvents: 0, damagedEvents: 0, lastSeq: undefined,
    };
    this.losses[index] = { link: 0, decode: 0, gaps: 0, stored: [], gapRanges: new Map() };
  }

  names(index: number, entries: readonly NameEntry[]): void {
    this.sessions[index]!.names.addEntries(entries);
  }

  chunks(index: number, payloads: readonly Uint8Array[]): void {
    const session = this.sessions[index]!;
    const batch = this.scratch;
    batch.clear();
    for (const payload of payloads) {
      const rowsBefore = batch.length;
      // The ingest stores only chunks that decode, so this does not throw for a pull's file.
      const header = decodeChunk(payload, session.info.tickHz, batch);
      session.events += header.events;
      if (sentEarlier(header.seq, session.info.earlier)) session.resentEvents += header.events;
      this.totals.events += header.events;
      this.totals.rows += batch.length - rowsBefore;
      this.noteSeq(session, header.seq);
      session.chunks++;
      this.totals.chunks++;
    }
    if (batch.length > 0) this.sink.batch(batch, session);
  }

  counters(index: number, counters: DeviceCounters): void {
    this.sessions[index]!.counters = counters;
  }

  stalls(index: number, stalls: StallInfo): void {
    this.sessions[index]!.stalls = stalls;
  }

  loss(index: number, loss: LossInfo): void {
    const l = this.losses[index]!;
    if (loss.kind === "decode") l.decode += loss.chunks;
    else l.link += loss.chunks;
    if (loss.fromSeq === undefined || loss.toSeq === undefined) return;
    const range = `${loss.fromSeq}:${loss.toSeq}`;
    // A gap already counted for this range is the same loss: count it once.
    const gap = l.gapRanges.get(range);
    if (gap !== undefined) {
      l.gaps -= gap;
      l.gapRanges.delete(range);
    }
    l.stored.push(range);
    if (l.stored.length > RECENT_RANGES) l.stored.shift();
  }

  footer(footer: FooterInfo): void {
    this.footerInfo = footer;
  }

  detached(error: unknown): void {
    this.sink.failed(error);
  }

  /** What a reader of the file, as written so far, would sum up (losses as one entry per
   *  session and kind, with the chunks summed). */
  summary(): TraceSummary {
    if (!this.headerInfo) throw new Error("LiveTrace: no header stored yet");
    const losses: LossEntry[] = [];
    this.losses.forEach((l, session) => {
      if (l.link > 0) losses.push({ session, kind: "link", chunks: l.link, offset: 0 });
      if (l.gaps > 0) losses.push({ session, kind: "seq-gap", chunks: l.gaps, offset: 0 });
      if (l.decode > 0) losses.push({ session, kind: "decode", chunks: l.decode, offset: 0 });
    });
    // A pull's own file has no damaged stretches (it wrote every byte) and its ingest stores
    // only chunks that decode.
    return {
      header: this.headerInfo, sessions: this.sessions, footer: this.footerInfo, losses, truncated: undefined, totals: { ...this.totals },
      damaged: [], damagedStretches: 0, damagedBytes: 0, duplicateChunks: 0,
    };
  }

  /** The reader's gap rule (host/tracefile/trace.ts): a seq that is not last + 1 means chunks
   *  went missing in between (u32 wrap allowed; a step backwards is a reordering). */
  private noteSeq(session: TraceSession, seq: number): void {
    const last = session.lastSeq;
    session.lastSeq = seq;
    if (last === undefined) return;
    const missing = (seq - last - 1) >>> 0;
    if (missing === 0 || missing >= 0x80000000) return;
    const l = this.losses[session.index]!;
    const range = `${(last + 1) >>> 0}:${(seq - 1) >>> 0}`;
    if (l.stored.includes(range)) return;
    l.gaps += missing;
    l.gapRanges.set(range, missing);
    if (l.gapRanges.size > RECENT_RANGES) l.gapRanges.delete(l.gapRanges.keys().next().value!);
  }
}
