// One in-process export figure, in a process of its own (bench/export.ts starts one per figure),
// so that nothing runs in the measured process that a user's would not: no other export or sink
// has trained the JIT on other shapes, and no earlier section's heap is around.
//   node dist/bench/export-pass.js WHAT TRACE OUT PASSES
// WHAT: decode | timeline | otlpProtobuf | otlpJson | perfettoProtobuf | perfettoJson. Prints
// {"passS":[...],"spans":N} on stdout: the first pass cold, the later ones warm. OUT is removed
// before each pass, untimed: each export writes a new file (bench/export.ts says why).

import { rmSync } from "node:fs";
import { exportOtlp } from "../host/export/otlp/export.js";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { Timeline, type TimelineSink } from "../host/export/timeline.js";
import { openTrace } from "../host/tracefile/trace.js";

/** A sink that does nothing: what following the events costs on its own. */
const nothing: TimelineSink<undefined> = {
  sessionStart() {}, taskStart: () => undefined, pollBegin() {}, pollEnd() {}, wake() {}, taskEnd() {}, flowBegin() {}, flowEnd() {},
  flowEnter() {}, log() {}, mark() {}, counter() {}, memory() {}, resourceOp() {}, idle() {}, interrupt() {}, sessionEnd() {},
};

export const PASSES = {
  decode: async (trace: string) => void openTrace(trace).forEach(() => undefined),
  timeline: async (trace: string) => {
    const timeline = new Timeline(nothing);
    timeline.finish(openTrace(trace).forEach((batch, session) => timeline.consume(batch, session)));
  },
  otlpProtobuf: async (trace: string, out: string) => (await exportOtlp(trace, { toolVersion: "bench", file: { path: out, format: "protobuf" } })).spans,
  otlpJson: async (trace: string, out: string) => void (await exportOtlp(trace, { toolVersion: "bench", file: { path: out, format: "json" } })),
  perfettoProtobuf: async (trace: string, out: string) => void (await exportPerfetto(trace, { out })),
  perfettoJson: async (trace: string, out: string) => void (await exportPerfetto(trace, { out, format: "json" })),
} satisfies Record<string, (trace: string, out: string) => Promise<number | void>>;

export type Pass = keyof typeof PASSES;

if (process.argv[1] && import.meta.filename === process.argv[1]) {
  const [what, trace, out, passes] = process.argv.slice(2);
  if (!what || !(what in PASSES) || !trace || !out) {
    console.error(`usage: export-pass.js ${Object.keys(PASSES).join("|")} TRACE OUT [PASSES]`);
    process.exit(2);
  }
  const pass = PASSES[what as Pass];
  const passS: number[] = [];
  let spans = 0;
  for (let i = 0; i < Number(passes ?? 1); i++) {
    rmSync(out, { force: true });
    const start = performance.now();
    spans = (await pass(trace, out)) ?? spans;
    passS.push((performance.now() - start) / 1000);
  }
  rmSync(out, { force: true });
  console.log(JSON.stringify({ passS, spans }));
}
