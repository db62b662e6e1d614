// Decode throughput of host/format on a realistic async workload, against the naive
// alternative of storing the same events as plain CBOR arrays decoded by cbor-x, plus the size
// of the wire stream and of the trace file. Prints nothing: the bench runner reports.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Decoder, Encoder } from "cbor-x";
import { EventBatch } from "../host/format/batch.js";
import { decodeChunk } from "../host/format/chunk.js";
import { RECORD_HEADER_SIZE, WIRE_FORMAT_VERSION } from "../host/format/spec.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { ChunkStreamEncoder, syntheticWorkload } from "../test/support/wire-encoder.js";

export interface DecodeBenchResult {
  /** Wire events in the workload. */
  events: number;
  /** host/format decodeChunk, best of several runs. */
  decodeEventsPerSec: number;
  /** cbor-x decoding the same events stored as CBOR arrays [kind, t, task, a, b, c, v]. */
  cborxDecodeEventsPerSec: number;
  /** CHUNK records (payload + record header) per event. */
  bytesPerEventWire: number;
  /** Trace file size per event. */
  traceFileBytesPerEvent: number;
}

const EVENTS = 3_000_000;
const CHUNK_SIZE = 256;
const TICK_HZ = 1_000_000;
const DECODE_RUNS = 7;
const CBORX_RUNS = 3;
const CHUNKS_PER_ITEM = 64;

export async function benchDecode(): Promise<DecodeBenchResult> {
  const payloads = encodeWorkload();
  const wireBytes = payloads.reduce((n, p) => n + p.length + RECORD_HEADER_SIZE, 0);

  const decodeSeconds = bestOf(DECODE_RUNS, () => decodeAll(payloads));
  const blocks = asCborArrays(payloads);
  const cborxSeconds = bestOf(CBORX_RUNS, () => decodeCborArrays(blocks));
  const fileBytes = traceFileSize(payloads);

  return {
    events: EVENTS,
    decodeEventsPerSec: EVENTS / decodeSeconds,
    cborxDecodeEventsPerSec: EVENTS / cborxSeconds,
    bytesPerEventWire: wireBytes / EVENTS,
    traceFileBytesPerEvent: fileBytes / EVENTS,
  };
}

function encodeWorkload(): Uint8Array[] {
  const encoder = new ChunkStreamEncoder({ chunkSize: CHUNK_SIZE });
  for (const event of syntheticWorkload(EVENTS, 1)) encoder.add(event);
  encoder.flush();
  return encoder.payloads;
}

/** Seconds of the fastest of `runs` calls (the first warms the JIT up as well). */
function bestOf(runs: number, fn: () => void): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    fn();
    best = Math.min(best, performance.now() - start);
  }
  return best / 1000;
}

// Results flow into this module-level sum so the JIT cannot drop the work being timed.
let sink = 0;

function decodeAll(payloads: readonly Uint8Array[]): void {
  const batch = new EventBatch(CHUNK_SIZE);
  let events = 0;
  for (const payload of payloads) {
    batch.clear();
    events += decodeChunk(payload, TICK_HZ, batch).events;
  }
  if (events !== EVENTS) throw new Error(`decoded ${events} events, expected ${EVENTS}`);
  sink += batch.length;
}

/** The naive format: each chunk's rows as one CBOR array of [kind, t, task, a, b, c, v]. */
function asCborArrays(payloads: readonly Uint8Array[]): Uint8Array[] {
  const encoder = new Encoder({ useRecords: false });
  const batch = new EventBatch(CHUNK_SIZE);
  return payloads.map((payload) => {
    batch.clear();
    decodeChunk(payload, TICK_HZ, batch);
    const rows: number[][] = [];
    for (let i = 0; i < batch.length; i++) {
      rows.push([batch.kind[i]!, batch.t[i]!, batch.task[i]!, batch.a[i]!, batch.b[i]!, batch.c[i]!, batch.v[i]!]);
    }
    return Uint8Array.from(encoder.encode(rows)); // a copy: encode() reuses its buffer
  });
}

function decodeCborArrays(blocks: readonly Uint8Array[]): void {
  const decoder = new Decoder({ useRecords: false });
  let rows = 0;
  for (const block of blocks) rows += (decoder.decode(block) as unknown[]).length;
  sink += rows;
}

function traceFileSize(payloads: readonly Uint8Array[]): number {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-"));
  try {
    const path = join(dir, "bench.trace.cbor");
    const writer = new TraceWriter(path);
    writer.header({ tool: "bench/decode", source: "synthetic" });
    const session = writer.session({
      deviceSession: 1, format: WIRE_FORMAT_VERSION, tickHz: TICK_HZ, device: "bench", firmware: "synthetic", mode: "overwrite",
      chunkSize: CHUNK_SIZE, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, filter: 0x7ff,
      anchor: { ticks: 0, unixNs: 0n },
    });
    for (let i = 0; i < payloads.length; i += CHUNKS_PER_ITEM) writer.chunks(session, payloads.slice(i, i + CHUNKS_PER_ITEM));
    writer.footer({ reason: "bench", events: EVENTS });
    writer.close();
    return statSync(path).size;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
