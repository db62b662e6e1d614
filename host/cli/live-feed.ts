// What the live console knows: the records a pull stores, decoded as they arrive and fed to the
// analysis (host/model/analyze.ts), the one engine trace-report uses on the finished file. The
// console draws the model's own state and verdicts and the analysis's own lints, so it cannot
// judge differently from the report: a task first seen without its spawn has an unknown waker
// count there as here. Its clock is the newest event decoded, never a device counter that may
// run ahead of the events sent so far.

import { decodeRecords, decodeChunk, EventBatch, NameTable, DecodeError, type InfoRecord } from "../format/index.js";
import { LOG_ARG } from "../format/spec.js";
import { MAX_TIME_NS, timeProblem } from "../format/limits.js";
import { Analyzer } from "../model/analyze.js";
import type { Lint } from "../model/lint.js";
import type { TraceModel } from "../model/trace-model.js";
import { sessionInfoFromInfo, type ClockAnchor } from "../tracefile/schema.js";
import type { TraceSession } from "../tracefile/trace.js";

/** Lints are found again at most this often (wall time): they walk every task held. */
const LINT_INTERVAL_MS = 1000;

export class LiveFeed {
  readonly analyzer = new Analyzer();
  readonly sessions: TraceSession[] = [];
  /** Events decoded so far, over all sessions. */
  events = 0;
  /** Tasks the model had seen when the current session began (its own are counted from here). */
  private tasksBefore = 0;
  private readonly batch = new EventBatch(1024);
  private lintCache: { lints: Lint[]; events: number; at: number } = { lints: [], events: 0, at: 0 };

  constructor(private readonly clockMs: () => number = Date.now) {}

  get model(): TraceModel {
    return this.analyzer.model;
  }

  /** The device session being received (the latest one). */
  get session(): TraceSession | undefined {
    return this.sessions.at(-1);
  }

  /** Tasks of the current session that have ended, given how many are live. */
  endedTasks(live: number): number {
    return Math.max(0, this.model.taskCount - this.tasksBefore - live);
  }

  /** Newest event decoded in the current session (ns since its clock's zero): the console's
   *  "now". */
  get nowNs(): number {
    const s = this.session;
    const span = s ? this.model.span(s.index) : undefined;
    return span?.lastT ?? 0;
  }

  /** Takes the record bytes of one drain or frame, as the pull stores them. Damaged records are
   *  left out here: the pull stores and reports them. */
  records(bytes: Uint8Array, anchor: ClockAnchor): void {
    let records;
    try {
      records = decodeRecords(bytes);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    for (const r of records) {
      if (r.type === "INFO") this.enterSession(r, anchor);
      const s = this.session;
      if (!s) continue;
      if (r.type === "NAMES") {
        try {
          s.names.addRecord(r);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
        }
      } else if (r.type === "CHUNK") {
        this.chunk(s, r.payload);
      } else if (r.type === "COUNTERS") {
        s.counters = r;
      }
    }
  }

  /** The analysis's lints as of the newest event ("now"), most important first; found again
   *  when events arrived and a second has passed since, or when `fresh`. */
  lints(fresh = false): Lint[] {
    const c = this.lintCache;
    const now = this.clockMs();
    if (c.events !== this.events && (fresh || now - c.at >= LINT_INTERVAL_MS)) {
      this.lintCache = { lints: this.analyzer.lints(), events: this.events, at: now };
    }
    return this.lintCache.lints;
  }

  private enterSession(info: InfoRecord, anchor: ClockAnchor): void {
    // The same boot announced again (the host asked for INFO): nothing starts over.
    if (this.session?.info.deviceSession === info.sessionId) return;
    this.tasksBefore = this.model.taskCount;
    this.sessions.push({
      index: this.sessions.length, info: sessionInfoFromInfo(info, anchor), names: new NameTable(), counters: undefined,
      stalls: undefined, chunks: 0, events: 0, resentEvents: 0, damagedEvents: 0, lastSeq: undefined,
    });
  }

  private chunk(s: TraceSession, payload: Uint8Array): void {
    const batch = this.batch;
    batch.clear();
    let header;
    try {
      header = decodeChunk(payload, s.info.tickHz, batch, 0, s.info.format);
    } catch (e) {
      if (e instanceof DecodeError) return;
      throw e;
    }
    // At a time no device reaches (a flipped high bit): set aside as the file's reader does, so
    // "now" never leaps past the events.
    if (timeProblem(header.baseTicks, s.info.tickHz) !== undefined || (batch.length > 0 && !(batch.t[batch.length - 1]! < MAX_TIME_NS))) {
      s.damagedEvents += header.events;
      return;
    }
    const seq = header.seq;
    // The analyzer finds chunks missing between batches from these counters, as when it reads
    // the file.
    s.chunks++;
    s.lastSeq = seq;
    let events = 0;
    for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
    s.events += events;
    this.events += events;
    if (batch.length > 0) this.analyzer.consume(batch, s);
  }
}
