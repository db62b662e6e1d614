// trace-pull --otlp's export, in process, beside trace-export --otlp's file export of the same
// trace in the same run: the trace is stored again item by item as a pull stores it (a tapped
// TraceWriter writing a copy, bench/replay.ts), and every span goes to a loopback collector in
// another process over OTLP/HTTP protobuf through the send queue. The replay waits while the
// queue is more than half full (a device cannot outrun its puller's collector for long without
// drops; here nothing is dropped, so the figure is the rate at which spans are delivered).
// Warm, best of a few runs, on both workloads at 1 M events. Prints nothing: the runner reports.

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldNow } from "node:timers/promises";
import { resolveSendConfig } from "../host/export/otlp/config.js";
import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_REQUEST_BYTES, exportOtlp } from "../host/export/otlp/export.js";
import { LiveOtlpExport } from "../host/export/otlp/live.js";
import { TappedTraceWriter } from "../host/pull/store-tap.js";
import { bestOf, figure, type Figure } from "./figure.js";
import { replayTrace } from "./replay.js";
import { WORKLOAD_NAMES, WORKLOADS, writeWorkload, type WorkloadKind } from "./workloads.js";

const EVENTS = 1_000_000;
const RUNS = 3;
const QUEUE_SPANS = 65_536;

export interface LiveExportTimes {
  events: number;
  /** Seconds: trace-export's file export, and the live export with every span delivered. */
  fileS: number;
  liveS: number;
  spans: number;
  /** Spans the live export did not deliver (must be 0 for the figure to mean anything). */
  dropped: number;
}

export type LiveExportBenchResult = Record<WorkloadKind, LiveExportTimes>;

export async function benchLiveExport(): Promise<LiveExportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-live-"));
  const collector = fork(join(import.meta.dirname, "loopback-collector.js"), [], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      collector.once("message", (m) => resolve(m as number));
      collector.once("error", reject);
    });
    const send = resolveSendConfig({ endpoint: `http://127.0.0.1:${port}` }, {})!;
    const result = {} as LiveExportBenchResult;
    for (const kind of WORKLOADS) {
      const trace = join(dir, `${kind}.trace.cbor`);
      writeWorkload(trace, EVENTS, kind);
      let spans = 0;
      let dropped = 0;
      const fileS = await bestOf(RUNS, () => exportOtlp(trace, { toolVersion: "bench", file: { path: join(dir, "o.pb"), format: "protobuf" } }));
      const liveS = await bestOf(RUNS, async () => {
        const live = new LiveOtlpExport({
          toolVersion: "bench",
          send,
          batchSize: DEFAULT_BATCH_SIZE,
          maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
          queueSpans: QUEUE_SPANS,
          queueBytes: 64 * 2 ** 20,
          delayMs: 1000,
        });
        const writer = new TappedTraceWriter(join(dir, "copy.trace.cbor"), live.store);
        await replayTrace(trace, writer, async () => {
          while (live.queue.queued > QUEUE_SPANS / 2) await yieldNow();
        });
        writer.close();
        const r = await live.finish([], Date.now() + 60_000);
        spans = r.map.spans;
        dropped = r.queue.droppedFull + r.queue.refused + r.queue.unsent;
      });
      result[kind] = { events: EVENTS, fileS, liveS, spans, dropped };
      rmSync(trace, { force: true });
    }
    return result;
  } finally {
    collector.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function liveExportFigures(r: LiveExportBenchResult): Figure[] {
  return WORKLOADS.map((kind) => {
    const x = r[kind];
    return figure({
      id: `live_otlp_${kind}_s`,
      what: `trace-pull --otlp's export to a loopback collector, ${x.events / 1e6} M events, ${WORKLOAD_NAMES[kind]}, in process (${(x.events / x.liveS / 1e6).toFixed(2)} M events/s, ${x.spans} spans, ${x.dropped} dropped)`,
      value: x.liveS,
      unit: "s",
      baseline: { what: `trace-export --otlp to a protobuf file (${(x.events / x.fileS / 1e6).toFixed(2)} M events/s)`, value: x.fileS },
    });
  });
}
