// The serial link's figures, through a real pty (socat) to the simulated board:
//   link efficiency  = CHUNK payload bytes delivered / every byte the device put on the wire,
//                      streaming the demo workload with the default settings (frames, CRC,
//                      COBS, delimiters, names, STATUS and answers all count as wire bytes);
//                      beside the same ratio for the in-process WASI drain (records, no framing);
//   pull rate        = events and bytes per second trace-pull's pipeline stores while the board
//                      records as fast as it can, beside the pty's own raw byte rate.
// No console output: run.ts prints the figures.

import { mkdtempSync, rmSync, openSync, closeSync, readSync, writeSync, constants } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { decodeRecords, decodeChunk, EventBatch } from "../host/format/index.js";
import { LOG_ARG } from "../host/format/spec.js";
import { SerialPull } from "../host/pull/serial-pull.js";
import { runWasi } from "../host/sources/wasi.js";
import { DeviceSim } from "../test/support/device-sim.js";
import { startPtyPair } from "../test/support/pty.js";

export interface LinkFigures {
  /** CHUNK payload bytes / wire bytes, demo workload streamed over the link. */
  linkEfficiency: number;
  /** The same bytes over the records the in-process drain hands over (no framing). */
  drainEfficiency: number;
  /** Record bytes delivered / wire bytes: what the framing alone costs. */
  framingEfficiency: number;
  demoEvents: number;
  demoWireBytes: number;
  /** Events per second stored while the board floods the link. */
  pullEventsPerSec: number;
  /** Wire bytes per second received meanwhile. */
  pullBytesPerSec: number;
  /** Events the flooding board overwrote because the link could not keep up. */
  pullDroppedShare: number;
  /** Raw bytes per second through the same kind of pty pair, no protocol. */
  ptyBytesPerSec: number;
}

const ROOT = resolve(import.meta.dirname, "../..");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Tally {
  chunkBytes: number;
  recordBytes: number;
  events: number;
}

function tally(t: Tally, bytes: Uint8Array, batch: EventBatch): void {
  t.recordBytes += bytes.length;
  for (const r of decodeRecords(bytes)) {
    if (r.type !== "CHUNK") continue;
    t.chunkBytes += r.payload.length;
    batch.clear();
    decodeChunk(r.payload, 1_000_000, batch);
    for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) t.events++;
  }
}

/** Streams `scenario` for `ms` through a fresh pty pair; returns what was stored and received. */
async function streamThroughPty(dir: string, scenario: string, ms: number) {
  const pty = await startPtyPair(dir, `dev-${scenario}`, `host-${scenario}`);
  const t: Tally = { chunkBytes: 0, recordBytes: 0, events: 0 };
  const batch = new EventBatch(4096);
  try {
    const pull = await SerialPull.open({
      path: pty.b,
      baudRate: 115200,
      output: join(dir, `${scenario}.trace.cbor`),
      tool: "taskscope bench",
      mode: "stream",
      tap: (bytes) => tally(t, bytes, batch),
    });
    const done = pull.run();
    const sim = await DeviceSim.start({ tty: pty.a, scenario });
    const started = performance.now();
    await sleep(ms);
    pull.stop();
    await done;
    const seconds = (performance.now() - started) / 1000;
    const stats = pull.stats;
    await pull.close("bench");
    await sim.stop();
    return { tally: t, wireBytes: stats.frames.bytes, seconds, counters: stats.ingest.counters };
  } finally {
    await pty.stop();
  }
}

/** Raw throughput of a pty pair: one end written as fast as it takes, the other read. */
async function rawPtyRate(dir: string): Promise<number> {
  const pty = await startPtyPair(dir, "raw-a", "raw-b");
  const flags = constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK;
  const a = openSync(pty.a, flags);
  const b = openSync(pty.b, flags);
  try {
    const block = Buffer.alloc(4096, 0x55);
    const sink = Buffer.alloc(65536);
    const total = 16 << 20;
    let sent = 0;
    let received = 0;
    const started = performance.now();
    while (received < total && performance.now() - started < 10_000) {
      if (sent < total) {
        try {
          sent += writeSync(a, block, 0, Math.min(block.length, total - sent));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        }
      }
      try {
        received += readSync(b, sink, 0, sink.length, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
        await sleep(0);
      }
    }
    return received / ((performance.now() - started) / 1000);
  } finally {
    closeSync(a);
    closeSync(b);
    await pty.stop();
  }
}

export async function benchLink(): Promise<LinkFigures> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-link-"));
  try {
    // The in-process drain of the same workload: its records carry the chunks with no framing.
    const drain: Tally = { chunkBytes: 0, recordBytes: 0, events: 0 };
    const batch = new EventBatch(4096);
    await runWasi({ wasmPath: resolve(ROOT, "build/demo.wasm"), onRecords: (bytes) => tally(drain, bytes, batch) });

    const demo = await streamThroughPty(dir, "demo-loop", 3000);
    const flood = await streamThroughPty(dir, "flood", 3000);
    const c = flood.counters;
    return {
      linkEfficiency: demo.tally.chunkBytes / demo.wireBytes,
      drainEfficiency: drain.chunkBytes / drain.recordBytes,
      framingEfficiency: demo.tally.recordBytes / demo.wireBytes,
      demoEvents: demo.tally.events,
      demoWireBytes: demo.wireBytes,
      pullEventsPerSec: flood.tally.events / flood.seconds,
      pullBytesPerSec: flood.wireBytes / flood.seconds,
      pullDroppedShare: c && c.recorded > 0 ? (c.droppedOverwritten + c.droppedFull) / c.recorded : 0,
      ptyBytesPerSec: await rawPtyRate(dir),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
