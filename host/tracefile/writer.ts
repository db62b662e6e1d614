// Appends trace file items (FORMAT.md section 6) synchronously, one CBOR item per write, so a
// writer killed at any moment leaves complete items plus at most one partial last item.

import { closeSync, openSync, writeSync } from "node:fs";
import { Encoder } from "cbor-x";
import type { DeviceCounters, NameEntry } from "../format/records.js";
import { COUNTER_KEYS, TRACE_FILE_VERSION, type CounterField } from "../format/spec.js";
import type { FooterInfo, LossInfo, SessionInfo, StallInfo } from "./schema.js";

/** Plain CBOR a reader without cbor-x extensions understands: maps, byte strings, uints. */
export function plainCborEncoder(): Encoder {
  return new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true });
}

const U32_MAX = 0xffffffff;

/**
 * A uint as cbor-x should see it: cbor-x writes integers above u32 as float64, so those (and
 * every bigint) become BigInt, which it writes as a 64-bit unsigned integer.
 */
export function cborUint(value: number | bigint, what = "value"): number | bigint {
  if (typeof value === "bigint") {
    if (value < 0n || value >= 1n << 64n) throw new RangeError(`${what} = ${value} is not a u64`);
    return value <= BigInt(U32_MAX) ? Number(value) : value;
  }
  if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what} = ${value} is not an unsigned integer`);
  return value <= U32_MAX ? value : BigInt(value);
}

/** Unix time in nanoseconds, as precise as this process's clock (microseconds). */
export function unixNowNs(): bigint {
  const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
  return BigInt(micros) * 1000n;
}

export interface HeaderFields {
  tool: string;
  source: string;
  /** Unix ns when writing began (default: now). */
  created?: bigint;
}

export interface FooterFields {
  reason: string;
  events: number;
  /** Unix ns when writing ended (default: now). */
  ended?: bigint;
  /** Default: sessions declared by this writer. */
  sessions?: number;
  /** Default: chunks written by this writer. */
  chunks?: number;
}

export class TraceWriter {
  private fd: number | undefined;
  private readonly encoder = plainCborEncoder();
  private headerWritten = false;
  private sessionCount = 0;
  private chunkCount = 0;
  private bytes = 0;

  /** Creates (or truncates) the file at `path`. */
  constructor(readonly path: string) {
    this.fd = openSync(path, "w");
  }

  /** Bytes written so far. */
  get size(): number {
    return this.bytes;
  }

  /** Chunks written so far. */
  get chunksWritten(): number {
    return this.chunkCount;
  }

  header(fields: HeaderFields): void {
    if (this.headerWritten) throw new Error("trace header already written");
    this.headerWritten = true;
    this.append({
      taskscope: TRACE_FILE_VERSION,
      created: cborUint(fields.created ?? unixNowNs(), "created"),
      tool: fields.tool,
      source: fields.source,
    });
  }

  /** Declares a device session and returns its index for the items that follow. */
  session(info: SessionInfo): number {
    this.requireHeader();
    const index = this.sessionCount++;
    this.append({
      session: index,
      device_session: cborUint(info.deviceSession, "device_session"),
      format: cborUint(info.format, "format"),
      tick_hz: cborUint(info.tickHz, "tick_hz"),
      device: info.device,
      firmware: info.firmware,
      mode: info.mode,
      chunk_size: cborUint(info.chunkSize, "chunk_size"),
      chunk_count: cborUint(info.chunkCount, "chunk_count"),
      names_capacity: cborUint(info.namesCapacity, "names_capacity"),
      max_tasks: cborUint(info.maxTasks, "max_tasks"),
      filter: cborUint(info.filter, "filter"),
      anchor: { ticks: cborUint(info.anchor.ticks, "anchor.ticks"), unix_ns: cborUint(info.anchor.unixNs, "anchor.unix_ns") },
      ...(info.earlier
        ? { earlier: { first_unsent: cborUint(info.earlier.firstUnsent, "earlier.first_unsent"), drained: cborUint(info.earlier.drained, "earlier.drained") } }
        : {}),
    });
    return index;
  }

  names(session: number, entries: readonly NameEntry[]): void {
    this.requireSession(session);
    if (entries.length === 0) return;
    this.append({ session, names: entries.map((e) => [cborUint(e.id, "name id"), cborUint(e.kind, "name kind"), e.text]) });
  }

  /** Stores CHUNK payloads as received, in arrival order. */
  chunks(session: number, payloads: readonly Uint8Array[]): void {
    this.requireSession(session);
    if (payloads.length === 0) return;
    // With tagUint8Array off, cbor-x writes each view (Uint8Array or Buffer) as a byte string.
    this.append({ session, chunks: payloads });
    this.chunkCount += payloads.length;
  }

  /** The latest COUNTERS record of a session. */
  counters(session: number, counters: DeviceCounters): void {
    this.requireSession(session);
    const map: Record<string, number | bigint> = {};
    for (const [field, key] of Object.entries(COUNTER_KEYS) as [CounterField, string][]) {
      const value = counters[field];
      if (value !== undefined) map[key] = cborUint(value, key); // (hidden: absent from format 1 devices)
    }
    this.append({ session, counters: map });
  }

  /** Time the clock skipped for the session (latest wins, like counters). */
  stalls(session: number, stalls: StallInfo): void {
    this.requireSession(session);
    this.append({
      session,
      stalls: {
        observer_ns: cborUint(Math.round(stalls.observerNs), "observer_ns"), run_queue_ns: cborUint(Math.round(stalls.runQueueNs), "run_queue_ns"),
        count: cborUint(stalls.count, "count"), largest_ns: cborUint(Math.round(stalls.largestNs), "largest_ns"),
        sleep_over_ns: cborUint(Math.round(stalls.sleepOverNs), "sleep_over_ns"),
        run_queue_known: stalls.runQueueKnown,
      },
    });
  }

  loss(session: number, loss: LossInfo): void {
    this.requireSession(session);
    const body: Record<string, string | number | bigint> = { kind: loss.kind, chunks: cborUint(loss.chunks, "chunks") };
    if (loss.fromSeq !== undefined) body.from_seq = cborUint(loss.fromSeq, "from_seq");
    if (loss.toSeq !== undefined) body.to_seq = cborUint(loss.toSeq, "to_seq");
    if (loss.reason !== undefined) body.reason = loss.reason;
    this.append({ session, loss: body });
  }

  footer(fields: FooterFields): FooterInfo {
    this.requireHeader();
    const footer: FooterInfo = {
      ended: fields.ended ?? unixNowNs(),
      reason: fields.reason,
      sessions: fields.sessions ?? this.sessionCount,
      chunks: fields.chunks ?? this.chunkCount,
      events: fields.events,
    };
    this.append({
      footer: {
        ended: cborUint(footer.ended, "ended"),
        reason: footer.reason,
        sessions: cborUint(footer.sessions, "sessions"),
        chunks: cborUint(footer.chunks, "chunks"),
        events: cborUint(footer.events, "events"),
      },
    });
    return footer;
  }

  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }

  private requireHeader(): void {
    if (!this.headerWritten) throw new Error("write the trace header first");
  }

  private requireSession(session: number): void {
    this.requireHeader();
    if (!Number.isInteger(session) || session < 0 || session >= this.sessionCount) {
      throw new RangeError(`session ${session} was not declared`);
    }
  }

  private append(item: object): void {
    if (this.fd === undefined) throw new Error("trace writer is closed");
    // encode() returns a view into the encoder's reusable buffer: write it before the next one.
    const bytes = this.encoder.encode(item);
    let written = 0;
    while (written < bytes.length) written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.bytes += bytes.length;
  }
}
