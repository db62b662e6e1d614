// Turns drained record bytes (docs/FORMAT.md section 2), from any transport, into trace-file
// items: a session per device boot, names, validated chunks, the latest counters. Every chunk is
// decoded on arrival, so the file never holds a chunk the reader would reject, and the events
// are counted as they come (for progress and the footer).
//
// A broken or hostile device gets the same treatment as a damaged file (FORMAT.md section 8):
// each record that does not decode, each value no device reaches (a time past 2^53 ticks,
// counters past 2^53 or going backwards, an INFO with no usable clock) is left out, counted, and
// said in `problems`; records that belong to no usable session are counted, never dropped
// silently. Chunks received twice are stored once.

import { decodeRecords, decodeChunk, DecodeError, EventBatch, NameTable } from "../format/index.js";
import type { StallInfo } from "../tracefile/schema.js";
import type { DeviceCounters, InfoRecord, NamesRecord, WireRecord } from "../format/index.js";
import { LOG_ARG, RECORD_HEADER_SIZE, RECORD_TYPE, RECORD_TYPES, codeName } from "../format/spec.js";
import { countersProblem, countersRegression, infoProblem, timeProblem, MAX_TIME_NS } from "../format/limits.js";
import { SeqSet, readableSeq } from "../tracefile/seq-set.js";
import type { TraceWriter } from "../tracefile/writer.js";
import { sessionInfoFromInfo, type ClockAnchor, type EarlierPull, type FooterInfo } from "../tracefile/schema.js";
import { lossAccount, sentEarlier, type HeldEvents, type LossAccount } from "../tracefile/loss-account.js";

export interface IngestStats {
  /** Record bytes received. */
  bytes: number;
  chunks: number;
  events: number;
  sessions: number;
  /** Records (chunks, names, counters, or runs of bytes that were no record) that failed to
   *  decode or carried impossible values, left out (chunks with a loss item). */
  damaged: number;
  /** Chunks that arrived when no usable session was open (no INFO yet, or an INFO the host
   *  cannot use), left out; and the events in them, where they decoded. */
  orphanChunks: number;
  orphanEvents: number;
  /** Chunks received a second time (same session and seq), stored once. */
  duplicates: number;
  /** What was wrong, in words (the first few of each kind of problem). */
  problems: string[];
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
  seen: SeqSet;
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
    bytes: 0, chunks: 0, events: 0, sessions: 0, damaged: 0, orphanChunks: 0, orphanEvents: 0, duplicates: 0, problems: [],
    seqGaps: 0, linkLost: 0, counters: undefined, droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 0,
  };
  private session: OpenSession | undefined;
  /** The last INFO was refused: what follows belongs to no usable session until the next INFO. */
  private refused: string | undefined;
  private readonly problemKinds = new Map<string, number>();
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
    const payloads: Uint8Array[] = [];
    for (const r of this.records(bytes)) {
      if (r.type === "INFO") {
        this.flushChunks(payloads);
        this.enterSession(r, anchor, earlier);
      } else if (!this.session || this.refused !== undefined) {
        this.orphan(r);
      } else if (r.type === "NAMES") {
        this.takeNames(r);
      } else if (r.type === "CHUNK") {
        this.takeChunk(this.session, r.payload, payloads);
      } else {
        this.takeCounters(this.session, r);
      }
    }
    this.flushChunks(payloads);
    this.writeCounters(false);
    this.account();
  }

  /** The records of one push, one at a time: a record that does not decode costs itself (its
   *  header says how long it is); bytes that are not even a record header cost the rest. */
  private *records(bytes: Uint8Array): Generator<WireRecord> {
    let pos = 0;
    while (pos < bytes.length) {
      const length = pos + RECORD_HEADER_SIZE <= bytes.length ? bytes[pos + 1]! | (bytes[pos + 2]! << 8) : -1;
      const end = pos + RECORD_HEADER_SIZE + length;
      if (codeName(RECORD_TYPES, bytes[pos]!) === undefined || length < 0 || end > bytes.length) {
        try {
          decodeRecords(bytes.subarray(pos), pos);
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          this.damage(`records: ${e.message}; the ${bytes.length - pos} bytes from there left out`, bytes[pos] === RECORD_TYPE.CHUNK ? 1 : 0);
        }
        return;
      }
      try {
        yield decodeRecords(bytes.subarray(pos, end), pos)[0]!;
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        if (bytes[pos] === RECORD_TYPE.INFO) {
          // A new session's INFO that cannot be read: what follows is not the old session's.
          this.refused = `INFO does not decode (${e.message})`;
          this.problem("info", `the device's INFO is unusable (${this.refused}): its records are left out`);
          this.stats.damaged++;
        } else {
          this.damage(`records: ${e.message}`, bytes[pos] === RECORD_TYPE.CHUNK ? 1 : 0);
        }
      }
      pos = end;
    }
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
    if (this.session && this.refused === undefined) this.writer.stalls(this.session.index, stalls);
  }

  /** Writes the last counters and the footer; returns what the footer says. */
  finish(reason: string): FooterInfo {
    this.writeCounters(true);
    return this.writer.footer({ reason, events: this.stats.events });
  }

  private enterSession(info: InfoRecord, anchor: ClockAnchor, earlier: EarlierPull | undefined): void {
    const current = this.session;
    const problem = infoProblem(info) ?? timeProblem(anchor.ticks, info.tickHz);
    if (problem) {
      // No session can be recorded without a clock: what it sends is counted, not stored.
      this.refused = `device session ${info.sessionId}: ${problem}`;
      this.problem("info", `the device's INFO is unusable (${this.refused}): its records are left out`);
      return;
    }
    if (current && this.refused === undefined && current.info.sessionId === info.sessionId) {
      // INFO sent again (the host asked for it): same boot; repeated names are checked, not re-written.
      return;
    }
    this.refused = undefined;
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
      seen: new SeqSet(),
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
      this.damage(`names: ${e.message}`, 0);
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
      const header = decodeChunk(payload, s.info.tickHz, batch);
      const late = timeProblem(header.baseTicks, s.info.tickHz) ?? (batch.length > 0 && !(batch.t[batch.length - 1]! < MAX_TIME_NS) ? "an event time is more than 146 years" : undefined);
      if (late) throw new DecodeError(0, `chunk ${header.seq}: ${late}`);
      seq = header.seq;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.damage(`chunk: ${e.message}`, 1, readableSeq(payload));
      return;
    }
    if (s.seen.has(seq)) {
      this.stats.duplicates++;
      this.problem("duplicate", `chunk ${seq} of device session ${s.info.sessionId} arrived twice: stored once`);
      return;
    }
    s.seen.add(seq);
    if (s.nextSeq !== undefined && seq > s.nextSeq) this.stats.seqGaps += seq - s.nextSeq;
    s.nextSeq = seq + 1;
    const events = wireEvents(batch);
    this.stats.events += events;
    s.held.events += events;
    if (sentEarlier(seq, s.earlier)) s.held.resentEvents += events;
    this.stats.chunks++;
    out.push(payload);
  }

  private takeCounters(s: OpenSession, c: DeviceCounters): void {
    const problem = countersProblem(c) ?? (s.counters ? countersRegression(s.counters, c) : undefined);
    if (problem) {
      this.stats.damaged++;
      this.problem("counters", `device counters set aside: ${problem}`);
      return;
    }
    s.counters = c;
    this.stats.counters = c;
  }

  /** A record with no usable session to go to: counted (with its events, where it decodes). */
  private orphan(r: Exclude<WireRecord, { type: "INFO" }>): void {
    const why = this.refused ?? "before any INFO";
    if (r.type !== "CHUNK") {
      this.problem("orphan", `${r.type} record ${why}: left out`);
      return;
    }
    this.stats.orphanChunks++;
    this.scratch.clear();
    try {
      decodeChunk(r.payload, 1_000_000, this.scratch);
      this.stats.orphanEvents += wireEvents(this.scratch);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
    }
    this.problem("orphan", `chunks ${why}: left out`);
  }

  /** Notes a problem in words, the first few of each kind (the counts say how many in all). */
  private problem(kind: string, text: string): void {
    const n = (this.problemKinds.get(kind) ?? 0) + 1;
    this.problemKinds.set(kind, n);
    if (n <= 3 && this.stats.problems.length < 20) this.stats.problems.push(text);
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

  /** A record left out; a chunk (`chunks` 1) gets a loss item in the file as well, with its seq
   *  when its header reads (so a reader does not count it again as a seq gap). */
  private damage(reason: string, chunks: number, seq?: number): void {
    this.stats.damaged++;
    this.problem("damage", reason);
    if (chunks > 0 && this.session && this.refused === undefined) {
      this.writer.loss(this.session.index, { kind: "decode", chunks, reason, ...(seq === undefined ? {} : { fromSeq: seq, toSeq: seq }) });
    }
  }
}

/** Wire events in a batch (a LOG and its arguments count once). */
function wireEvents(batch: EventBatch): number {
  let events = 0;
  for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
  return events;
}
