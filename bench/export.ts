// Export throughput and memory: OTLP (protobuf and JSON files) and Perfetto JSON from the
// synthetic server workload of the analysis bench (long-lived tasks, one request flow per job),
// beside the baseline of only decoding the same trace file; and the heap each export retains
// for a trace and for one four times as long (streaming: the same).
// Prints nothing: the bench runner reports.

import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportOtlp } from "../host/export/otlp/export.js";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { openTrace } from "../host/tracefile/trace.js";
import { writeWorkload } from "./analysis.js";

export interface ExportBenchResult {
  /** Wire events in the timed trace, and in the one 4x as long. */
  events: number;
  longEvents: number;
  /** Trace-file bytes per event: what holding the input alone would cost. */
  fileBytesPerEvent: number;
  decodeEventsPerSec: number;
  otlpProtobufEventsPerSec: number;
  otlpJsonEventsPerSec: number;
  perfettoEventsPerSec: number;
  /** Spans made per 1000 events (how much OTLP a trace becomes). */
  spansPerKiloEvent: number;
  /** Peak retained heap (after GC) above the starting point, MiB, for the trace and for one 4x as long. */
  otlpHeapMiB: { base: number; long: number };
  perfettoHeapMiB: { base: number; long: number };
}

const EVENTS = 1_000_000;
const LONG = 4 * EVENTS;
const RUNS = 3;

export async function benchExport(): Promise<ExportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-export-"));
  try {
    const trace = join(dir, "base.trace.cbor");
    const long = join(dir, "long.trace.cbor");
    writeWorkload(trace, EVENTS);
    writeWorkload(long, LONG);
    const out = (name: string) => join(dir, name);

    const decodeS = await bestOf(async () => {
      openTrace(trace).forEach(() => undefined);
    });
    let spans = 0;
    const pbS = await bestOf(async () => {
      spans = (await exportOtlp(trace, { toolVersion: "bench", file: { path: out("o.pb"), format: "protobuf" } })).spans;
    });
    const jsonS = await bestOf(async () => {
      await exportOtlp(trace, { toolVersion: "bench", file: { path: out("o.json"), format: "json" } });
    });
    const pfS = await bestOf(async () => {
      exportPerfetto(trace, { out: out("p.json") });
    });

    const otlpHeap = async (path: string) =>
      peakHeap(async (sample) => {
        await exportOtlp(path, { toolVersion: "bench", file: { path: out("m.pb"), format: "protobuf" }, onProgress: sample });
      });
    const pfHeap = async (path: string) =>
      peakHeap(async (sample) => {
        exportPerfetto(path, { out: out("m.json"), onProgress: sample });
      });

    return {
      events: EVENTS,
      longEvents: LONG,
      fileBytesPerEvent: statSync(trace).size / EVENTS,
      decodeEventsPerSec: EVENTS / decodeS,
      otlpProtobufEventsPerSec: EVENTS / pbS,
      otlpJsonEventsPerSec: EVENTS / jsonS,
      perfettoEventsPerSec: EVENTS / pfS,
      spansPerKiloEvent: (1000 * spans) / EVENTS,
      otlpHeapMiB: { base: await otlpHeap(trace), long: await otlpHeap(long) },
      perfettoHeapMiB: { base: await pfHeap(trace), long: await pfHeap(long) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seconds of the fastest of RUNS calls. */
async function bestOf(fn: () => Promise<void>): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < RUNS; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best / 1000;
}

/** Largest heap retained while `fn` runs, above where it started: at every 16th progress call a
 *  full GC runs first, so the figure is what the export holds on to (what streaming bounds), not
 *  garbage V8 has not yet collected. */
async function peakHeap(fn: (sample: () => void) => Promise<void>): Promise<number> {
  const gc = exposedGc();
  gc();
  const start = process.memoryUsage().heapUsed;
  let peak = start;
  let calls = 0;
  await fn(() => {
    if (calls++ % 16 !== 0) return;
    gc();
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  });
  return Math.max(0, peak - start) / (1 << 20);
}

/** The engine's gc(), without requiring node --expose-gc on the command line. */
function exposedGc(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
