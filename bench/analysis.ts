// Analysis throughput: the fixed-population server workload (bench/workloads.ts) read with
// openTrace(...).forEach feeding the Analyzer (the trace-report path). Baseline: the same read
// without the model, in the same run. Memory is measured whole-process on both workloads by
// bench/commands.ts (trace-report's peak RSS), with nothing added to the measured process.
// Prints nothing: the bench runner reports.

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTrace } from "../host/tracefile/trace.js";
import { Analyzer } from "../host/model/analyze.js";
import { figure, type Figure } from "./figure.js";
import { writeWorkload } from "./workloads.js";

export interface AnalysisBenchResult {
  /** Events in the trace. */
  events: number;
  /** openTrace().forEach + TraceModel + lints, best of RUNS. */
  analysisEventsPerSec: number;
  /** openTrace().forEach alone on the same file (decode and read). */
  readEventsPerSec: number;
  /** Trace file bytes per event. */
  fileBytesPerEvent: number;
  lints: number;
}

const LONG = 10_000_000;
const RUNS = 3;

export async function benchAnalysis(): Promise<AnalysisBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-analysis-"));
  try {
    const long = join(dir, "long.trace.cbor");
    writeWorkload(long, LONG);

    let analysisS = Number.POSITIVE_INFINITY;
    let readS = Number.POSITIVE_INFINITY;
    let lints = 0;
    for (let run = 0; run < RUNS; run++) {
      let t = performance.now();
      let events = 0;
      openTrace(long).forEach((batch) => (events += batch.length));
      readS = Math.min(readS, (performance.now() - t) / 1000);
      t = performance.now();
      const analyzer = new Analyzer();
      const summary = openTrace(long).forEach((batch, session) => analyzer.consume(batch, session));
      lints = analyzer.finish(summary).lints.length;
      analysisS = Math.min(analysisS, (performance.now() - t) / 1000);
      if (summary.totals.events !== LONG) throw new Error(`read ${summary.totals.events} events, wrote ${LONG}`);
    }
    return {
      events: LONG,
      analysisEventsPerSec: LONG / analysisS,
      readEventsPerSec: LONG / readS,
      fileBytesPerEvent: statSync(long).size / LONG,
      lints,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function analysisFigures(ana: AnalysisBenchResult): Figure[] {
  return [
    figure({
      id: "analysis_events_per_s",
      what: `analysis (model + lints), ${(ana.events / 1e6).toFixed(0)} M events, in process, warm`,
      value: ana.analysisEventsPerSec,
      unit: "events/s",
      baseline: { what: "reading the same file alone", value: ana.readEventsPerSec },
      target: { op: ">=", value: 5e6 },
    }),
  ];
}
