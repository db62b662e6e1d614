// Diagnoses you can trust (issue: the observer never disturbs or misreads what it observes).
// Each test is a program on the example executor (firmware-examples/fixtures/diagnosis.ts, the
// demo) pulled by the real trace-pull --wasi, in which a naive analysis blames the wrong task or
// tells an untrue time; the test checks the report says the true thing. Assertions are about
// which task is named and what is not claimed, never about wall-clock time, so they hold on a
// loaded machine.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { analyzeTrace, type TraceAnalysis } from "../host/model/analyze.js";
import type { Lint } from "../host/model/lint.js";
import { buildReport } from "../host/report/report-data.js";
import { renderTextReport } from "../host/report/text-report.js";
import { runWasi } from "../host/sources/wasi.js";
import { LiveView } from "../host/cli/live-view.js";
import { RECORD_TYPE } from "../host/format/spec.js";
import { performance } from "node:perf_hooks";
import { TraceWriter } from "../host/tracefile/writer.js";
import { TraceIngest } from "../host/pull/ingest.js";
import type { WasiRunResult } from "../host/sources/wasi.js";

const FIXTURE = join(ROOT, "build/test/diagnosis.wasm");
const DEMO = join(ROOT, "build/demo.wasm");
let dir: string;

beforeAll(() => {
  for (const f of [FIXTURE, DEMO, join(ROOT, "dist/host/cli/trace-pull.js")]) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  }
  dir = mkdtempSync(join(tmpdir(), "taskscope-diagnosis-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pull(wasm: string, args: string[], extra: string[] = []): TraceAnalysis {
  const out = join(dir, `${args.join("-") || "default"}-${Math.random().toString(36).slice(2)}.trace.cbor`);
  const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-pull.js"), "--wasi", wasm, "-o", out, ...extra, "--", ...args], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return analyzeTrace(out);
}

const ofKind = (lints: Lint[], kind: Lint["kind"]) => lints.filter((l) => l.kind === kind);
const names = (l: Lint) => l.tasks.map((t) => t.name);

describe("lints that never blame the victim", () => {
  it("a task woken by an interrupt during another task's long poll is that poll's victim, not starved", () => {
    const a = pull(FIXTURE, ["victim"]);
    const longPolls = ofKind(a.lints, "long-poll").filter((l) => l.tasks[0]!.name === "hog");
    expect(longPolls).toHaveLength(1);
    // The long poll names its victim among the tasks it delayed...
    expect(names(longPolls[0]!)).toContain("victim");
    expect(Number(longPolls[0]!.evidence.delayedPolls)).toBeGreaterThanOrEqual(8);
    // ...and nobody is called starved: the victim waited behind the hog, which is reported.
    expect(ofKind(a.lints, "starvation")).toEqual([]);
    // The interrupt handlers' time is counted as interrupt time, not as the hog's poll.
    expect(a.model.executor.isrNs).toBeGreaterThan(0);
  });

  it("a timer that fires late names the poll that held it, and the long poll counts it", () => {
    const a = pull(FIXTURE, ["late-timer"]);
    const late = ofKind(a.lints, "late-timer");
    expect(late).toHaveLength(1);
    expect(late[0]!.tasks[0]!.name).toBe("ticker");
    expect(late[0]!.evidence.delayedBy).toMatch(/^hog \(task \d+\)$/);
    expect(Number(late[0]!.evidence.lateNs)).toBeGreaterThan(20_000_000); // the hog runs 40 ms
    const hog = ofKind(a.lints, "long-poll").find((l) => l.tasks[0]!.name === "hog")!;
    expect(Number(hog.evidence.timersDelayed)).toBe(1);
  });

  it("a deadlock of a producer and two workers is one finding naming all three, and no leak", () => {
    const a = pull(FIXTURE, ["two-workers"]);
    const dead = ofKind(a.lints, "deadlock");
    expect(dead).toHaveLength(1);
    const d = dead[0]!;
    expect(names(d).sort()).toEqual(["producer", "worker", "worker"]);
    expect(d.evidence.tasksInCycle).toBe(3);
    expect(String(d.evidence.resources).split(", ").sort()).toEqual(["jobs", "results"]);
    // Both workers drain `jobs`: the title says so, and never "only" one of them.
    expect(d.title).toMatch(/'jobs', which only worker \(task \d+\) and worker \(task \d+\) drain, both stuck/);
    // The tasks of the deadlock are not reported again, nor their channels.
    expect(ofKind(a.lints, "leak")).toEqual([]);
    expect(ofKind(a.lints, "backpressure")).toEqual([]);
  });
});

describe("lost events are placed where they really are", () => {
  it("events overwritten before the first kept one are 'before the first recorded event', never a negative time", () => {
    // Drained only at the end: the demo's 64-chunk ring overwrites its start.
    const a = pull(DEMO, [], ["--drain-ms", "100000"]);
    const lost = ofKind(a.lints, "lost-events");
    expect(lost).toHaveLength(1);
    const text = `${lost[0]!.title} ${lost[0]!.evidence.ranges}`;
    expect(text).toContain("before the first recorded event");
    expect(text).not.toMatch(/-\d/);
    expect(text).not.toMatch(/\b0ns-0ns\b/);
    const report = renderTextReport(buildReport(a.path, a.summary, a.model, { lints: a.lints, slow: a.slow }));
    expect(report).not.toMatch(/between -/);
  });
});

describe("the observer's own time never shows", () => {
  it("a slow drain (the puller stalls the program inside its clock) lengthens no poll and no wake-to-poll delay", async () => {
    const STALL_MS = 150;
    const stalled: { ms: number; inClock: boolean }[] = [];
    const chunks: Uint8Array[] = [];
    const result = await runWasi({
      wasmPath: DEMO,
      drainIntervalMs: 50,
      onRecords: (bytes) => {
        chunks.push(bytes);
        // The puller is slow: it spins for STALL_MS on every drain, inside the program's clock call.
        // The drain after the program has exited is not inside its clock, and not device time at all.
        const inClock = /\bat clock\b/.test(new Error().stack ?? "");
        const from = performance.now();
        while (performance.now() - from < STALL_MS);
        stalled.push({ ms: performance.now() - from, inClock });
      },
    });
    expect(result.exitCode).toBe(0);
    expect(stalled.length).toBeGreaterThan(3);
    const path = join(dir, "stalled.trace.cbor");
    writeDrains(path, chunks, result);
    const a = analyzeTrace(path);
    // Each stall is far longer than anything the demo does in one poll or between wake and poll:
    // were any of it in device time, some poll or delay would have grown by it.
    const maxPoll = Math.max(...a.model.groups.list.map((g) => g.maxPollNs), ...a.model.tasks.map((t) => t.maxPollNs));
    expect(maxPoll).toBeLessThan(STALL_MS * 1e6);
    expect(a.model.executor.maxWakeDelayNs).toBeLessThan(STALL_MS * 1e6);
    // The time was skipped, and the trace says how much.
    const inside = stalled.filter((s) => s.inClock);
    expect(inside.length).toBeGreaterThan(3);
    expect(result.hidden.observerNs).toBeGreaterThanOrEqual(inside.reduce((sum, s) => sum + s.ms, 0) * 1e6 * 0.99);
    expect(a.summary.sessions[0]!.stalls?.observerNs).toBe(Math.round(result.hidden.observerNs));
  });
});

describe("the live view judges only what it saw", () => {
  /** The demo's lost-wakeup scenario as the drains a board would send, split into records. */
  async function drains(): Promise<{ type: number; bytes: Uint8Array; seq?: number }[][]> {
    const out: { type: number; bytes: Uint8Array; seq?: number }[][] = [];
    await runWasi({ wasmPath: DEMO, args: ["lost-wakeup"], onRecords: (b) => out.push(splitRecords(b)) });
    return out;
  }

  it("calls a task STUCK when its whole history is in the stream, and only then", async () => {
    const all = await drains();
    const full = new LiveView(fakeTty());
    for (const d of all) full.records(join3(d), { ticks: 0, unixNs: 0n });
    expect(full.render()).toMatch(/uart-reader\s+\d+\s+STUCK \(no waker\)/);

    // Attach mid-run: the first drains' chunks (every spawn) were overwritten before the pull.
    // Tasks keep being polled, parking between polls with wakers cloned before the attach.
    const late = new LiveView(fakeTty());
    const firstKept = Math.floor(all.length / 4);
    const tables: string[] = [];
    all.forEach((d, i) => {
      const kept = i < firstKept ? d.filter((r) => r.type !== RECORD_TYPE.CHUNK) : d;
      late.records(join3(kept), { ticks: 0, unixNs: 0n });
      if (i >= firstKept) tables.push(late.render());
    });
    expect(tables.join("\n")).not.toContain("STUCK");
    expect(tables.join("\n")).toMatch(/parked \(waker unknown\)/);
  });

  it("keeps its clock with the events it decoded, whatever the device's counters say", async () => {
    const all = await drains();
    const view = new LiveView(fakeTty());
    for (const d of all) view.records(join3(d.filter((r) => r.type !== RECORD_TYPE.COUNTERS)), { ticks: 0, unixNs: 0n });
    const before = /device time ([^:]+):/.exec(view.render())![1];
    // A COUNTERS record whose clock runs far ahead of every event (the drain before the chunks).
    const counters = all.flat().find((r) => r.type === RECORD_TYPE.COUNTERS)!.bytes.slice();
    new DataView(counters.buffer, counters.byteOffset).setBigUint64(3 + 48, 10n ** 12n, true);
    view.records(counters, { ticks: 0, unixNs: 0n });
    expect(/device time ([^:]+):/.exec(view.render())![1]).toBe(before);
  });
});

// ---- helpers ----

/** Stores drains as trace-pull does (ingest, stalls item, footer). */
function writeDrains(path: string, drains: Uint8Array[], result: WasiRunResult): void {
  const writer = new TraceWriter(path);
  writer.header({ tool: "test/diagnosis", source: "wasi:demo.wasm" });
  const ingest = new TraceIngest(writer);
  for (const d of drains) ingest.push(d, result.anchor);
  ingest.stalls(result.hidden);
  ingest.finish(`exit ${result.exitCode}`);
  writer.close();
}

function splitRecords(bytes: Uint8Array): { type: number; bytes: Uint8Array; seq?: number }[] {
  const out: { type: number; bytes: Uint8Array; seq?: number }[] = [];
  let at = 0;
  while (at + 3 <= bytes.length) {
    const len = bytes[at + 1]! | (bytes[at + 2]! << 8);
    out.push({ type: bytes[at]!, bytes: bytes.slice(at, at + 3 + len) });
    at += 3 + len;
  }
  return out;
}

function join3(records: { bytes: Uint8Array }[]): Uint8Array {
  const out = new Uint8Array(records.reduce((n, r) => n + r.bytes.length, 0));
  let at = 0;
  for (const r of records) {
    out.set(r.bytes, at);
    at += r.bytes.length;
  }
  return out;
}

/** A stream the view draws to (render() is what the assertions read). */
function fakeTty(): NodeJS.WriteStream {
  return { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
}
