// Export throughput in process, warm (best of a few passes), on both workloads (bench/workloads.ts)
// at 1 M events: OTLP (protobuf and JSON files) and Perfetto (protobuf and JSON) beside the
// baseline of only decoding the same file, and where the time goes: decoding, following the
// events (the Timeline, with a sink that does nothing), and the export's own sink (mapping,
// encoding, writing). No lint pass: the commands section measures the whole commands.
// Each figure's passes run in a process of their own (bench/export-pass.ts), as a user's process
// runs one export: in one shared process the exports ran 10-25 % slower after the others had
// trained the JIT on their sinks (measured on spawn-1m).
// Each export writes a new file: the previous pass's output is removed before it, untimed, since
// the kernel's freeing of a replaced file (its pages, at the rename) is the cost of deleting that
// file, in proportion to its size, not of exporting (~50 ms for the 93 MB of OTLP at 1 M events).
// The commands section replaces its output every run, as a user re-running a command does.
// Prints nothing: the bench runner reports.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Pass } from "./export-pass.js";
import { figure, type Figure } from "./figure.js";
import { measureProcess } from "./process.js";
import { WORKLOAD_NAMES, WORKLOADS, writeWorkload, type WorkloadKind } from "./workloads.js";

const EVENTS = 1_000_000;
/** Passes per process: the first is cold, the figure is the best. */
const PASSES = 5;
const PASS_SCRIPT = join(resolve(import.meta.dirname), "export-pass.js");

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

/** Best pass of `what` in a fresh process, and the spans of its last pass (OTLP). */
async function bestPass(what: Pass, trace: string, out: string): Promise<{ s: number; spans: number }> {
  const r = await measureProcess(process.execPath, [PASS_SCRIPT, what, trace, out, String(PASSES)], { stdout: "keep" });
  const { passS, spans } = JSON.parse(r.stdout) as { passS: number[]; spans: number };
  return { s: Math.min(...passS), spans };
}

export async function benchExport(): Promise<ExportBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-export-"));
  try {
    const result = {} as ExportBenchResult;
    for (const kind of WORKLOADS) {
      const trace = join(dir, `${kind}.trace.cbor`);
      const out = join(dir, "out");
      writeWorkload(trace, EVENTS, kind);
      const otlp = await bestPass("otlpProtobuf", trace, out);
      result[kind] = {
        events: EVENTS,
        decodeS: (await bestPass("decode", trace, out)).s,
        timelineS: (await bestPass("timeline", trace, out)).s,
        exports: {
          otlpProtobuf: otlp.s,
          otlpJson: (await bestPass("otlpJson", trace, out)).s,
          perfettoProtobuf: (await bestPass("perfettoProtobuf", trace, out)).s,
          perfettoJson: (await bestPass("perfettoJson", trace, out)).s,
        },
        spans: otlp.spans,
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
