// Export throughput in process, warm (best of a few runs), on both workloads (bench/workloads.ts)
// at 1 M events: OTLP (protobuf and JSON files) and Perfetto (protobuf and JSON) beside the
// baseline of only decoding the same file, and where the time goes: decoding, following the
// events (the Timeline, with a sink that does nothing), and the export's own sink (mapping,
// encoding, writing). No lint pass: the commands section measures the whole commands.
// Each export writes a new file: the previous run's output is removed before it, untimed, since
// the kernel's freeing of a replaced file (its pages, at the rename) is the cost of deleting that
// file, in proportion to its size, not of exporting (~50 ms for the 93 MB of OTLP at 1 M events).
// The commands section replaces its output every run, as a user re-running a command does.
// Prints nothing: the bench runner reports.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportOtlp } from "../host/export/otlp/export.js";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { Timeline, type TimelineSink } from "../host/export/timeline.js";
import { openTrace } from "../host/tracefile/trace.js";
import { bestOf, figure, type Figure } from "./figure.js";
import { WORKLOAD_NAMES, WORKLOADS, writeWorkload, type WorkloadKind } from "./workloads.js";

const EVENTS = 1_000_000;
const RUNS = 3;

type Export = "otlpProtobuf" | "otlpJson" | "perfettoProtobuf" | "perfettoJson";

export interface ExportTimes {
  events: number;
  /** Seconds: decoding alone, decoding + Timeline (a sink doing nothing), and each export. */
  decodeS: number;
  timelineS: number;
  exports: Record<Export, number>;
  spans: number;
}

export type ExportBenchResult = Record<WorkloadKind, ExportTimes>;

/** A sink that does nothing: what following the events costs on its own. */
const nothing: TimelineSink<undefined> = {
  sessionStart() {}, taskStart: () => undefined, pollBegin() {}, pollEnd() {}, wake() {}, taskEnd() {}, flowBegin() {}, flowEnd() {},
  flowEnter() {}, log() {}, mark() {}, counter() {}, memory() {}, resourceOp() {}, idle() {}, interrupt() {}, sessionEnd() {},
};

export async function benchExport(): Promise<ExportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-export-"));
  try {
    const out = (name: string) => join(dir, name);
    const fresh = (name: string) => () => rmSync(out(name), { force: true });
    const result = {} as ExportBenchResult;
    for (const kind of WORKLOADS) {
      const trace = out(`${kind}.trace.cbor`);
      writeWorkload(trace, EVENTS, kind);
      let spans = 0;
      result[kind] = {
        events: EVENTS,
        decodeS: await bestOf(RUNS, () => openTrace(trace).forEach(() => undefined)),
        timelineS: await bestOf(RUNS, () => {
          const timeline = new Timeline(nothing);
          timeline.finish(openTrace(trace).forEach((batch, session) => timeline.consume(batch, session)));
        }),
        exports: {
          otlpProtobuf: await bestOf(RUNS, async () => {
            spans = (await exportOtlp(trace, { toolVersion: "bench", file: { path: out("o.pb"), format: "protobuf" } })).spans;
          }, fresh("o.pb")),
          otlpJson: await bestOf(RUNS, () => exportOtlp(trace, { toolVersion: "bench", file: { path: out("o.jsonl"), format: "json" } }), fresh("o.jsonl")),
          perfettoProtobuf: await bestOf(RUNS, () => exportPerfetto(trace, { out: out("p.pftrace") }), fresh("p.pftrace")),
          perfettoJson: await bestOf(RUNS, () => exportPerfetto(trace, { out: out("p.json"), format: "json" }), fresh("p.json")),
        },
        spans,
      };
      rmSync(trace, { force: true });
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const EXPORTS: { id: Export; what: string; withinDecode?: number }[] = [
  { id: "otlpProtobuf", what: "OTLP protobuf file export", withinDecode: 20 },
  { id: "otlpJson", what: "OTLP/JSON file export" },
  { id: "perfettoProtobuf", what: "Perfetto protobuf export", withinDecode: 7 },
  { id: "perfettoJson", what: "Perfetto JSON export" },
];

export function exportFigures(r: ExportBenchResult): Figure[] {
  const out: Figure[] = [];
  for (const kind of WORKLOADS) {
    const x = r[kind];
    const m = `${x.events / 1e6} M events, ${WORKLOAD_NAMES[kind]}`;
    for (const e of EXPORTS) {
      out.push(
        figure({
          id: `export_${e.id}_${kind}_s`,
          what: `${e.what}, ${m}, in process (${(x.events / x.exports[e.id] / 1e6).toFixed(2)} M events/s${e.id === "otlpProtobuf" ? `, ${((1000 * x.spans) / x.events).toFixed(0)} spans per 1000 events` : ""})`,
          value: x.exports[e.id],
          unit: "s",
          baseline: { what: "decoding the same trace", value: x.decodeS },
          ...(e.withinDecode ? { target: { op: "<=" as const, value: e.withinDecode, on: "ratio" as const } } : {}),
        }),
      );
    }
    // Where the time of the two default exports goes.
    for (const e of ["otlpProtobuf", "perfettoProtobuf"] as const) {
      const total = x.exports[e];
      out.push(
        figure({
          id: `export_${e}_${kind}_split_timeline_s`,
          what: `${e === "otlpProtobuf" ? "OTLP" : "Perfetto"} export, ${m}: following the events (Timeline)`,
          value: Math.max(0, x.timelineS - x.decodeS),
          unit: "s",
          baseline: { what: "the whole export", value: total },
        }),
        figure({
          id: `export_${e}_${kind}_split_sink_s`,
          what: `${e === "otlpProtobuf" ? "OTLP" : "Perfetto"} export, ${m}: the sink (mapping, encoding, writing)`,
          value: Math.max(0, total - x.timelineS),
          unit: "s",
          baseline: { what: "the whole export", value: total },
        }),
      );
    }
  }
  return out;
}
