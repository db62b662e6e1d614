// Fuzz target: a trace file through everything trace-report does with it (reader, analysis,
// text, JSON and HTML report). A TraceFileError is a handled error (it must name an offset);
// any other exception escaping is a crash. For a mutant that only changed bytes in place, a
// truncation that swallows more than the seed's last item means damage was read as a clean stop.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeTrace } from "../../host/model/analyze.js";
import { buildReport } from "../../host/report/report-data.js";
import { renderTextReport } from "../../host/report/text-report.js";
import { renderHtmlReport } from "../../host/report/html-report.js";
import { buildTimelines } from "../../host/report/timeline.js";
import { TraceFileError } from "../../host/tracefile/errors.js";
import { INCOMPLETE, scanCborItem } from "../../host/tracefile/cbor-scan.js";
import { writeSyntheticTrace, ev } from "../support/otlp-traces.js";
import { EVENT } from "../../host/format/spec.js";
import { scratchFile, type FuzzTarget, type Outcome, type Seed } from "./target.js";

/** Item boundaries of a trace file (for item-level mutations). */
export function itemMarks(bytes: Uint8Array): number[] {
  const marks = [0];
  let p = 0;
  while (p < bytes.length) {
    let end: number;
    try {
      end = scanCborItem(bytes, p);
    } catch {
      break;
    }
    if (end === INCOMPLETE) break;
    marks.push(end);
    p = end;
  }
  return marks;
}

/**
 * Hot spots of a trace file: every CBOR head (the byte that says a value's type and length, and
 * the value bytes after it) and, inside each chunk, its seq, base time and the base's top byte.
 */
export function hotSpots(bytes: Uint8Array): number[] {
  const hot: number[] = [];
  let p = 0;
  const item = (depth: number): void => {
    if (p >= bytes.length || depth > 16) throw new RangeError("end");
    const head = p;
    const ib = bytes[p++]!;
    const major = ib >> 5;
    const ai = ib & 0x1f;
    hot.push(head);
    let arg = ai;
    if (ai >= 24 && ai <= 27) {
      const n = 1 << (ai - 24);
      hot.push(head + 1);
      arg = 0;
      for (let i = 0; i < n; i++) arg = arg * 256 + (bytes[p + i] ?? 0);
      p += n;
    } else if (ai > 27) throw new RangeError("indefinite");
    if (major === 2) {
      // A chunk payload: seq (u32), base ticks (u64) and its top byte.
      hot.push(p, p + 4, p + 11);
      p += arg;
    } else if (major === 3) p += arg;
    else if (major === 4) for (let i = 0; i < arg; i++) item(depth + 1);
    else if (major === 5) for (let i = 0; i < 2 * arg; i++) item(depth + 1);
    else if (major === 6) item(depth + 1);
  };
  try {
    while (p < bytes.length) item(0);
  } catch {
    // the rest is not well-formed: enough spots found
  }
  return hot.filter((h) => h < bytes.length);
}

/** Small synthetic traces: several sessions, names, losses, counters, logs, wraps of the tick. */
export function syntheticTraceSeeds(dir: string): Seed[] {
  const seeds: Seed[] = [];
  const tasks = (base: number, n: number) => {
    const out = [];
    let t = base;
    out.push(ev(EVENT.RES_CREATE, (t += 5), { res: 1, kind: 0, name: 3, capacity: 4 }));
    out.push(ev(EVENT.FLOW_BEGIN, (t += 1), { flow: 1, name: 5 }));
    for (let i = 0; i < n; i++) {
      const id = 2 + (i % 5);
      out.push(ev(EVENT.SPAWN, (t += 3), { task: id, parent: 1, name: 1, flow: 1 }));
      out.push(ev(EVENT.POLL_BEGIN, (t += 2), { task: id }));
      out.push(ev(EVENT.RES_OP, (t += 1), { res: 1, op: i % 2, outcome: i % 3, level: i % 5 }));
      out.push(ev(EVENT.LOG, (t += 1), { format: 4, level: 2 }, [i, -i]));
      out.push(ev(EVENT.AWAIT, (t += 1), { site: 2, resource: 1 }));
      out.push(ev(EVENT.POLL_PENDING, (t += 4)));
      out.push(ev(EVENT.WAKE_TASK, (t += 7), { target: id, by: 1 }));
      out.push(ev(EVENT.POLL_BEGIN, (t += 2), { task: id }));
      out.push(ev(EVENT.POLL_READY, (t += 30)));
      out.push(ev(EVENT.TASK_DONE, (t += 1), { task: id }));
    }
    out.push(ev(EVENT.FLOW_END, (t += 1), { flow: 1 }));
    return out;
  };
  const names: [number, string][] = [[1, "worker"], [2, "recv"], [3, "queue"], [4, "i={} j={}"], [7, "request"]];
  const files: [string, Parameters<typeof writeSyntheticTrace>[1]][] = [
    ["one", [{ names, events: tasks(100, 12), counters: {} }]],
    ["two", [{ names, events: tasks(100, 6), counters: { droppedOverwritten: 5, chunksOverwritten: 1 } }, { names, events: tasks(4_000_000_000, 6), info: { deviceSession: 9, tickHz: 32_768, mode: "stop" } }]],
    ["small-chunks", [{ names, events: tasks(2 ** 32 - 500, 20), chunkSize: 128, counters: {} }]],
  ];
  for (const [name, sessions] of files) {
    const path = writeSyntheticTrace(join(dir, `seed-${name}.trace.cbor`), sessions);
    const bytes = new Uint8Array(readFileSync(path));
    seeds.push({ bytes, marks: itemMarks(bytes), hot: hotSpots(bytes) });
  }
  return seeds;
}

export class TraceFileTarget implements FuzzTarget {
  readonly name = "tracefile";
  private readonly path: string;
  private runs = 0;

  constructor(
    readonly seeds: Seed[],
    dir: string,
  ) {
    this.path = scratchFile(dir, "fuzz");
  }

  run(input: Uint8Array, seed?: Seed, inPlace = false): Outcome {
    writeFileSync(this.path, input);
    const outcome: Outcome = { error: undefined };
    try {
      const analysis = analyzeTrace(this.path);
      const report = buildReport(this.path, analysis.summary, analysis.model, { lints: analysis.lints, slow: analysis.slow });
      renderTextReport(report);
      JSON.stringify(report);
      // The HTML report re-reads the file: one input in 32.
      if ((++this.runs & 31) === 0) renderHtmlReport(report, buildTimelines(this.path, analysis, {}));
      const t = analysis.summary.truncated;
      if (t && inPlace && seed?.marks && seed.marks.length >= 2) {
        const lastItem = seed.marks[seed.marks.length - 1]! - seed.marks[seed.marks.length - 2]!;
        if (t.bytes > lastItem) outcome.misread = `truncated at ${t.offset} (${t.bytes} bytes) in a file changed in place`;
      }
    } catch (e) {
      if (!(e instanceof TraceFileError)) throw e;
      outcome.error = e.message;
      if (!Number.isFinite(e.offset) || !/byte \d+/.test(e.message)) outcome.noOffset = true;
    }
    return outcome;
  }
}
