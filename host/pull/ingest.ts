// Turns drained record bytes (docs/FORMAT.md section 2), from any transport, into trace-file
// items: a session per device boot, names, validated chunks, the latest counters. Every chunk is
// decoded on arrival, so the file never holds a chunk the reader would reject, and the events
// are counted as they come (for progress and the footer).

import { decodeRecords, decodeChunk, DecodeError, EventBatch, NameTable } from "../format/index.js";
import type { StallInfo } from "../tracefile/schema.js";
import type { DeviceCounters, InfoRecord, NamesRecord } from "../format/index.js";
import { LOG_ARG } from "../format/spec.js";
import type { TraceWriter } from "../tracefile/writer.js";
import { sessionInfoFromInfo, type ClockAnchor, type EarlierPull, type FooterInfo } from "../tracefile/schema.js";
import { lossAccount, sentEarlier, type HeldEvents, type LossAccount } from "../tracefile/loss-account.js";

export interface IngestStats {
  /** Record bytes received. */
  bytes: number;
  chunks: number;
  events: number;
  sessions: number;
  /** Chunks (or whole pushes) that failed to decode and were left out, with a loss item. */
  damaged: number;
  /** Chunks missing between received ones (overwritten on the device or lost in transport). */
  seqGaps: number;
  /** Chunks a link reported lost in transport (linkLoss), stored as loss items. */
  linkLost: number;
  /** The latest COUNTERS of the current session. */
  counters: DeviceCounters | undefined;
  /** Over all sessions, from their counters: events dropped on the device (overwritten or
   *  refused), lost on the way here, and handed to earlier pulls (not in this file, not lost). */
  droppedOnDevice: number;
  lostInTransfer: number;
  pulledEarlier: number;
}

interface OpenSession {
  index: number;
  info: InfoRecord;
  names: NameTable;
  nextSeq: number | undefined;
  earlier: EarlierPull | undefined;
  held: HeldEvents;
  counters: DeviceCounters | undefined;
  countersWritten: DeviceCounters | undefined;
  countersWrittenAt: number;
}

export interface IngestOptions {
  /** Minimum wall time between counters items (the last one is always written at finish). */
  countersIntervalMs?: number;
}

export class TraceIngest {
  readonly stats: IngestStats = {
    bytes: 0, chunks: 0, events: 0, sessions: 0, damaged: 0, seqGaps: 0, linkLost: 0, counters: undefined,
    droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 0,
  };
  private session: OpenSession | undefined;
  /** The account of the sessions before the current one. */
  private readonly closed: LossAccount = { droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 0 };
  private readonly scratch = new EventBatch(1024);
  private readonly countersIntervalMs: number;

  constructor(
    private readonly writer: TraceWriter,
    options: IngestOptions = {},
  ) {
    this.countersIntervalMs = options.countersIntervalMs ?? 1000;
  }

  /** Takes one drain's worth of complete records, read when the device clock said `anchor`.
   *  `earlier`: for a pull joining a running session, what earlier connections had of it. */
  push(bytes: Uint8Array, anchor: ClockAnchor, earlier?: EarlierPull): void {
    this.stats.bytes += bytes.length;
    let records;
    try {
      records = decodeRecords(bytes);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.damage(`records: ${e.message}`);
      return;
    }
    const payloads: Uint8Array[] = [];
    for (const r of records) {
      if (r.type === "INFO") {
        this.flushChunks(payloads);
        this.enterSession(r, anchor, earlier);
      } else if (r.type === "NAMES") {
        this.takeNames(r);
      } else if (r.type === "CHUNK") {
        if (this.session) this.takeChunk(this.session, r.payload, payloads);
      } else if (this.session) {
        this.session.counters = r;
        this.stats.counters = r;
      }
    }
    this.flushChunks(payloads);
    this.writeCounters(false);
    this.account();
  }

  /** Chunks fromSeq..toSeq (inclusive, u32 wrap allowed) of the current session were lost in
   *  transport: a link gave up on them. Stored as a "link" loss item. */
  linkLoss(fromSeq: number, toSeq: number, reason: string): void {
    const s = this.session;
    if (!s) return;
    const chunks = ((toSeq - fromSeq) >>> 0) + 1;
    this.stats.linkLost += chunks;
    this.writer.loss(s.index, { kind: "link", chunks, fromSeq, toSeq, reason });
  }

  /** Stores the time the recorder's clock skipped for the current session (an in-process
   *  puller's own work and the OS's run-queue waits, host/sources/stall-clock.ts). */
  stalls(stalls: StallInfo): void {
    if (this.session) this.writer.stalls(this.session.index, stalls);
  }

  /** Writes the last counters and the footer; returns what the footer says. */
  finish(reason: string): FooterInfo {
    this.writeCounters(true);
    return this.writer.footer({ reason, events: this.stats.events });
  }

  private enterSession(info: InfoRecord, anchor: ClockAnchor, earlier: EarlierPull | undefined): void {
    const current = this.session;
    if (current && current.info.sessionId === info.sessionId) {
      // INFO sent again (the host asked for it): same boot; repeated names are checked, not re-written.
      return;
    }
    this.writeCounters(true);
    if (current) {
      const a = lossAccount(current.counters, current.held, current.earlier);
      this.closed.droppedOnDevice += a.droppedOnDevice;
      this.closed.lostInTransfer += a.lostInTransfer;
      this.closed.pulledEarlier += a.pulledEarlier;
    }
    const sessionInfo = sessionInfoFromInfo(info, anchor, earlier);
    const index = this.writer.session(sessionInfo);
    this.session = {
      index,
      info,
      names: new NameTable(),
      nextSeq: undefined,
      earlier: sessionInfo.earlier,
      held: { events: 0, resentEvents: 0 },
      counters: undefined,
      countersWritten: undefined,
      countersWrittenAt: 0,
    };
    this.stats.sessions++;
  }

  private takeNames(record: NamesRecord): void {
    const s = this.session;
    if (!s) return;
    const known = s.names.size;
    try {
      s.names.addRecord(record);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.damage(`names: ${e.message}`);
      return;
    }
    const fresh = record.entries.filter((entry) => entry.id > known);
    if (fresh.length > 0) this.writer.names(s.index, fresh);
  }

  private takeChunk(s: OpenSession, payload: Uint8Array, out: Uint8Array[]): void {
    const batch = this.scratch;
    batch.clear();
    let seq: number;
    try {
      seq = decodeChunk(payload, s.info.tickHz, batch, 0, s.info.version).seq;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.damage(`chunk: ${e.message}`);
      return;
    }
    if (s.nextSeq !== undefined && seq > s.nextSeq) this.stats.seqGaps += seq - s.nextSeq;
    s.nextSeq = seq + 1;
    let events = 0;
    for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
    this.stats.events += events;
    s.held.events += events;
    if (sentEarlier(seq, s.earlier)) s.held.resentEvents += events;
    this.stats.chunks++;
    out.push(payload);
  }

  private flushChunks(payloads: Uint8Array[]): void {
    if (payloads.length === 0 || !this.session) return;
    this.writer.chunks(this.session.index, payloads);
    payloads.length = 0;
  }

  private writeCounters(force: boolean): void {
    const s = this.session;
    if (!s || !s.counters || s.counters === s.countersWritten) return;
    const now = Date.now();
    if (!force && now - s.countersWrittenAt < this.countersIntervalMs) return;
    this.writer.counters(s.index, s.counters);
    s.countersWritten = s.counters;
    s.countersWrittenAt = now;
  }

  /** Brings the loss figures of `stats` up to date: the closed sessions plus the current one. */
  private account(): void {
    const s = this.session;
    const a = s ? lossAccount(s.counters, s.held, s.earlier) : { droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 0 };
    this.stats.droppedOnDevice = this.closed.droppedOnDevice + a.droppedOnDevice;
    this.stats.lostInTransfer = this.closed.lostInTransfer + a.lostInTransfer;
    this.stats.pulledEarlier = this.closed.pulledEarlier + a.pulledEarlier;
  }

  private damage(reason: string): void {
    this.stats.damaged++;
    if (this.session) this.writer.loss(this.session.index, { kind: "decode", chunks: 1, reason });
  }
}
