// Bytes per event on the demo workload: the example firmware run in-process under node:wasi,
// its drained records decoded here. Chunk bytes per event is the figure SystemView (2-6 B),
// Trice (>= 4 B) and Percepio (>= 8 B) quote; the drain-stream figure adds record headers,
// INFO, names and counters.

import { resolve } from "node:path";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { runWasi } from "../host/sources/wasi.js";
import { decodeRecords, decodeChunk, EventBatch } from "../host/format/index.js";
import { LOG_ARG } from "../host/format/spec.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { TraceIngest } from "../host/pull/ingest.js";

export interface DemoFigures {
  events: number;
  chunkBytesPerEvent: number;
  streamBytesPerEvent: number;
  traceFileBytesPerEvent: number;
  /** Share of the drain stream that is event payload (chunk bodies after their headers). */
  payloadShare: number;
}

const ROOT = resolve(import.meta.dirname, "../..");

export async function benchDemoWorkload(): Promise<DemoFigures> {
  const dir = mkdtempSync(resolve(tmpdir(), "taskscope-bench-"));
  const file = resolve(dir, "demo.trace.cbor");
  try {
    const writer = new TraceWriter(file);
    writer.header({ tool: "taskscope bench", source: "wasi:demo.wasm" });
    const ingest = new TraceIngest(writer);
    let streamBytes = 0;
    let chunkBytes = 0;
    let chunkHeaderBytes = 0;
    let events = 0;
    let tickHz = 1_000_000;
    const batch = new EventBatch();
    await runWasi({
      wasmPath: resolve(ROOT, "build/demo.wasm"),
      onRecords: (bytes, anchor) => {
        ingest.push(bytes, anchor);
        streamBytes += bytes.length;
        for (const r of decodeRecords(bytes)) {
          if (r.type === "INFO") tickHz = r.tickHz;
          if (r.type !== "CHUNK") continue;
          chunkBytes += r.payload.length;
          batch.clear();
          decodeChunk(r.payload, tickHz, batch);
          chunkHeaderBytes += 13; // seq + base + a one-byte context task
          for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
        }
      },
    });
    ingest.finish("bench");
    writer.close();
    return {
      events,
      chunkBytesPerEvent: chunkBytes / events,
      streamBytesPerEvent: streamBytes / events,
      traceFileBytesPerEvent: statSync(file).size / events,
      payloadShare: (chunkBytes - chunkHeaderBytes) / streamBytes,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
