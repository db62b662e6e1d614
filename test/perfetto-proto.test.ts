// The native Perfetto export (protobuf TrackEvent, the default of --perfetto), decoded with
// Perfetto's published .proto (test/proto, through protobufjs: nothing of the exporter's own
// encoder) and replayed the way Perfetto's trace processor reads it (test/support/perfetto-decode).

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { EVENT } from "../host/format/spec.js";
import { analyzeTrace } from "../host/model/analyze.js";
import type { Lint } from "../host/model/lint.js";
import { readWholeTrace, type WholeTrace } from "../host/tracefile/trace.js";
import { BASE_INFO, ev, pullDemoTrace, sensorScenario, writeSyntheticTrace } from "./support/otlp-traces.js";
import { readPerfetto, trackPath, type PerfettoTrace } from "./support/perfetto-decode.js";
import { ROOT } from "./support/core-harness.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-perfetto-proto-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function exported(trace: string, name: string, lints: readonly Lint[] | Promise<readonly Lint[]> = []) {
  const out = join(dir, name);
  const result = await exportPerfetto(trace, { out, lints });
  const bytes = readFileSync(out);
  return { result, bytes, p: readPerfetto(bytes) };
}

describe("Perfetto protobuf export of the demo firmware's trace", () => {
  let file: string;
  let raw: WholeTrace;
  let p: PerfettoTrace;
  let bytes: Buffer;
  let lints: Lint[];
  let result: Awaited<ReturnType<typeof exportPerfetto>>;
  const rowsOf = (kind: number) => raw.sessions[0]!.rows.filter((r) => r.kind === kind);
  const unixAt = (t: number) => raw.sessions[0]!.info.anchor.unixNs + BigInt(t) - BigInt(raw.sessions[0]!.info.anchor.ticks) * 1000n;

  beforeAll(async () => {
    file = await pullDemoTrace(join(dir, "demo.trace.cbor"), "lost-wakeup");
    raw = readWholeTrace(file);
    lints = analyzeTrace(file).lints;
    ({ result, bytes, p } = await exported(file, "demo.pftrace", lints));
  });

  it("decodes with Perfetto's schema: one sequence, its clock tied to Unix time, every packet counted", () => {
    expect(p.packets).toBe(result.events);
    expect([...p.clocks.keys()]).toEqual([1]);
    const info = raw.sessions[0]!.info;
    const { device, unix } = p.clocks.get(1)!;
    expect(unix - device).toBe(info.anchor.unixNs - BigInt(info.anchor.ticks) * 1000n);
  });

  it("nests a track per task under the executor, under the session's process", () => {
    const process = [...p.tracks.values()].filter((t) => t.process);
    expect(process.map((t) => t.process!.name)).toEqual(["wasi-demo / taskscope-demo 0.1 (session 0)"]);
    const executor = [...p.tracks.values()].find((t) => t.name === "executor")!;
    expect(executor.parent).toBe(process[0]!.uuid);
    const lanes = [...p.tracks.values()].filter((t) => t.parent === executor.uuid);
    expect(lanes.map((t) => t.name)).toContain("uart-reader (task 2)");
    expect(trackPath(p, lanes[0]!.uuid)).toMatch(/^wasi-demo .* \/ executor \/ .+ \(task \d+\)$/);
    // One life slice per task incarnation, each on its lane, polls nested inside it.
    const lives = p.slices.filter((s) => s.category === "task");
    expect(lives).toHaveLength(result.timeline.tasks);
    for (const life of lives) {
      expect(lanes.map((l) => l.uuid)).toContain(life.track);
      expect(life.depth).toBe(0);
      expect(p.tracks.get(life.track)!.name).toBe(`${life.name} (task ${life.args["task_id"]})`);
    }
    const polls = p.slices.filter((s) => s.name === "poll");
    expect(polls).toHaveLength(rowsOf(EVENT.POLL_BEGIN).length);
    for (const poll of polls) {
      expect(poll.depth).toBe(1);
      const life = lives.find((l) => l.track === poll.track && l.begin <= poll.begin && poll.end <= l.end);
      expect(life, `poll at ${poll.begin}`).toBeDefined();
      expect(["ready", "pending", "cut"]).toContain(poll.args["result"]);
    }
    expect(polls.some((s) => s.args["await_site"] === "uart-reader: read frame")).toBe(true);
  });

  it("keeps the trace's times to the nanosecond", () => {
    const spawn = rowsOf(EVENT.SPAWN).find((r) => r.task === 1)!;
    const main = p.slices.find((s) => s.category === "task" && s.name === "main")!;
    expect(main.begin).toBe(unixAt(spawn.t));
    const first = rowsOf(EVENT.POLL_BEGIN)[0]!;
    expect(p.slices.filter((s) => s.name === "poll").map((s) => s.begin)).toContain(unixAt(first.t));
  });

  it("draws a flow for every wake by another task, from the waker's track to the poll it caused", () => {
    const byTask = rowsOf(EVENT.WAKE_TASK).filter((r) => r.a !== r.task && r.a !== 0).length;
    const byIrq = rowsOf(EVENT.WAKE_IRQ).length; // the demo wakes from inside its handlers
    const from = (name: RegExp) => p.flows.filter((f) => name.test(p.tracks.get(f.from.track)!.name)).length;
    expect([from(/\(task \d+\)$/), from(/^interrupts$/)]).toEqual([byTask, byIrq]);
    expect(result.perfetto).toMatchObject({ arrows: byTask + byIrq, droppedArrows: 0 });
    for (const f of p.flows) {
      expect(f.from.name).toBe("wake");
      expect(f.from.within, "a wake happens inside the waker's life").toBeDefined();
      expect(f.to.name === "poll" || f.to.category === "task").toBe(true);
      expect(f.from.at <= f.to.begin || f.to.category === "task").toBe(true);
    }
  });

  it("has counters, logs, idle and a slice per request", () => {
    const counter = (name: string) => p.counters.filter((c) => p.tracks.get(c.track)!.name === name).map((c) => c.value);
    const queue = counter("channel queue (fill)");
    expect(queue.length).toBeGreaterThan(100);
    expect(Math.max(...queue)).toBeLessThanOrEqual(4);
    expect(new Set(counter("mutex db (holders)"))).toEqual(new Set([0, 1]));
    expect(p.instants.filter((i) => i.category === "log")).toHaveLength(rowsOf(EVENT.LOG).length);
    const requests = p.slices.filter((s) => s.category === "request");
    expect(new Set(requests.map((r) => r.name))).toEqual(new Set(["GET /status", "GET /users", "POST /orders"]));
    for (const r of requests) expect(trackPath(p, r.track)).toMatch(/ \/ requests \/ (GET|POST) \//);
    expect(p.slices.filter((s) => s.name === "idle")).toHaveLength(rowsOf(EVENT.IDLE_BEGIN).length);
  });

  it("draws every lint once, on the track of the first task it names", () => {
    expect(lints.map((l) => l.kind)).toContain("lost-wakeup");
    const drawn = p.instants.filter((i) => i.category === "lint");
    expect(drawn).toHaveLength(lints.length);
    expect(result.perfetto.lints).toBe(lints.length);
    const lost = drawn.find((i) => i.args["kind"] === "lost-wakeup")!;
    expect(p.tracks.get(lost.track)!.name).toMatch(/^uart-reader \(task \d+\)$/);
    expect(lost.args["severity"]).toBe("error");
  });

  it("writes the same bytes every time, with lints given, found beside the export or found in its own pass", async () => {
    // A worker thread runs a module file as Node loads it: the built one.
    const { lintsInWorker } = (await import(pathToFileURL(join(ROOT, "dist/host/export/lint-worker.js")).href)) as typeof import("../host/export/lint-worker.js");
    const worker = lintsInWorker(file);
    const again = await exported(file, "again.pftrace", worker.lints);
    expect(Buffer.compare(again.bytes, bytes)).toBe(0);
    // exportPerfetto's own-pass mode: the lints of the export's own model (no second pass over the file).
    const out = join(dir, "own-pass.pftrace");
    const own = await exportPerfetto(file, { out, findLints: true });
    expect(own.perfetto.lints).toBe(lints.length);
    expect(Buffer.compare(readFileSync(out), bytes)).toBe(0);
  });
});

describe("Perfetto protobuf mapping details (synthetic traces)", () => {
  const NAMES = [[1, "sensor"], [1, "logger"], [2, "wait"], [4, "temp {} ok"], [6, "c"], [3, "samples"], [7, "poll sensors"]] as const;

  it("draws interrupt handlers, wakes from them, memory, reused ids on one lane, and lints at their time", async () => {
    const path = writeSyntheticTrace(join(dir, "isr.trace.cbor"), [{
      names: NAMES,
      events: [
        ...sensorScenario([21, -5]),
        ev(EVENT.SPAWN, 60, { task: 1, parent: 2, name: 1, flow: 0 }), // id 1 again: the same lane
        ev(EVENT.POLL_BEGIN, 61, { task: 1 }),
        ev(EVENT.POLL_READY, 62),
        ev(EVENT.TASK_DONE, 63, { task: 1 }),
      ],
    }]);
    const lint = (l: Partial<Lint> & Pick<Lint, "kind" | "atNs" | "tasks" | "title">): Lint => ({ severity: "warning", hint: "h", session: 0, evidence: { n: 1, s: "x" }, ...l });
    const lints = [
      lint({ kind: "long-poll", title: "sensor held the executor", atNs: 41_500, tasks: [{ session: 0, id: 1, name: "sensor" }] }),
      lint({ kind: "leak", title: "logger never finished", atNs: 99_000, tasks: [{ session: 0, id: 2, name: "logger" }] }),
      lint({ kind: "lost-events", title: "ring overflowed", atNs: 5_000, tasks: [] }),
    ];
    const { p, result } = await exported(path, "isr.pftrace", lints);
    const at = (us: number) => BASE_INFO.anchor.unixNs + BigInt(us) * 1000n;
    const track = (name: string) => [...p.tracks.values()].find((t) => t.name === name)!;
    const irq = p.slices.filter((s) => s.track === track("interrupts").uuid);
    expect(irq.map((s) => [s.name, s.begin, s.end])).toEqual([["irq 4", at(31), at(35)], ["irq 9", at(32), at(35)]]);
    // The interrupt's wake is a flow from its handler to the sensor's next poll; the ended
    // sensor's wake of the logger is one too.
    expect(p.flows.map((f) => [p.tracks.get(f.from.track)!.name, f.to.name, p.tracks.get(f.to.track)!.name])).toEqual([
      ["interrupts", "poll", "sensor (task 1)"],
      ["sensor (task 1)", "poll", "logger (task 2)"],
    ]);
    expect(result.perfetto.arrows).toBe(2);
    const mem = p.counters.filter((c) => p.tracks.get(c.track)!.name.startsWith("memory: ")).map((c) => [p.tracks.get(c.track)!.name, c.value]);
    expect(mem.slice(0, 8)).toEqual([
      ["memory: sensor (task 1)", 512], ["memory: all tasks", 512],
      ["memory: logger (task 2)", 100], ["memory: all tasks", 612],
      ["memory: sensor (task 1)", 0], ["memory: all tasks", 100],
      ["memory: logger (task 2)", 0], ["memory: all tasks", 0],
    ]);
    const log = p.instants.find((i) => i.category === "log")!;
    expect([log.name, log.args["level"], log.args["args"], log.within?.name]).toEqual(["temp 21 ok [-5]", "warn", [21, -5], "poll"]);
    // Both sensors (task id 1, twice) share a lane, one life slice after the other.
    const sensors = p.slices.filter((s) => s.category === "task" && s.name === "sensor");
    expect(sensors.map((s) => [s.track, s.args["incarnation"], s.begin, s.end])).toEqual([
      [track("sensor (task 1)").uuid, 1, at(10), at(45)],
      [track("sensor (task 1)").uuid, 2, at(60), at(63)],
    ]);
    const drawn = p.instants.filter((i) => i.category === "lint").map((i) => [i.name, p.tracks.get(i.track)!.name, i.at]);
    expect(drawn).toEqual([
      ["ring overflowed", "executor", at(10)], // no task: the executor's track, at the first event
      ["sensor held the executor", "sensor (task 1)", at(41) + 500n],
      ["logger never finished", "logger (task 2)", at(63)], // past the end: shown at the end
    ]);
    const request = p.slices.filter((s) => s.category === "request");
    expect(request.map((s) => [s.name, s.begin, s.end])).toEqual([["poll sensors", at(22), at(63)]]);
    expect(p.instants.find((i) => i.category === "flow")!.name).toBe("serves poll sensors");
  });

  it("holds the lanes of live tasks and a bounded number of idle ones, however many task ids a trace uses", async () => {
    // 3,000 tasks with ids never reused (an executor numbering tasks upwards), then the first id again.
    const events = [];
    for (let i = 0; i < 3000; i++) {
      const t = 100 + 10 * i;
      events.push(ev(EVENT.SPAWN, t, { task: 1000 + i, parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, t + 1, { task: 1000 + i }), ev(EVENT.POLL_READY, t + 2), ev(EVENT.TASK_DONE, t + 3, { task: 1000 + i }));
    }
    events.push(ev(EVENT.SPAWN, 40_000, { task: 1000, parent: 0, name: 1, flow: 0 }), ev(EVENT.TASK_DONE, 40_001, { task: 1000 }));
    const path = writeSyntheticTrace(join(dir, "ids.trace.cbor"), [{ names: NAMES, events }]);
    const { p, result } = await exported(path, "ids.pftrace");
    expect(result.perfetto.lanes).toBe(3001); // id 1000's lane was forgotten: it gets a new one
    expect(result.perfetto.lanesHeld).toBeLessThanOrEqual(1025);
    const first = [...p.tracks.values()].filter((t) => t.name === "sensor (task 1000)");
    expect(first).toHaveLength(2); // two tracks of one name: Perfetto shows them as one
    expect(p.slices.filter((s) => s.category === "task" && s.args["task_id"] === 1000)).toHaveLength(2);
  });

  it("forgets a forgotten lane's memory counter too: memory follows the live tasks", async () => {
    // 1,100 tasks with ids never reused, each reporting its memory, then the first id again.
    const events = [];
    const task = (id: number, t: number) => [
      ev(EVENT.SPAWN, t, { task: id, parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, t + 1, { task: id }),
      ev(EVENT.MEM, t + 2, { task: id, bytes: 64 }), ev(EVENT.POLL_READY, t + 3), ev(EVENT.TASK_DONE, t + 4, { task: id }),
    ];
    for (let i = 0; i < 1100; i++) events.push(...task(1000 + i, 100 + 10 * i));
    events.push(...task(1000, 20_000), ...task(2099, 20_100));
    const path = writeSyntheticTrace(join(dir, "mem-ids.trace.cbor"), [{ names: NAMES, events }]);
    const { p } = await exported(path, "mem-ids.pftrace");
    const named = (name: string) => [...p.tracks.values()].filter((t) => t.name === name);
    // Task 1000's lane was forgotten: a new lane and a new memory counter, each of the old name.
    expect(named("sensor (task 1000)")).toHaveLength(2);
    expect(named("memory: sensor (task 1000)")).toHaveLength(2);
    // Task 2099's lane was still held: the same lane and counter.
    expect(named("sensor (task 2099)")).toHaveLength(1);
    expect(named("memory: sensor (task 2099)")).toHaveLength(1);
    const counts = p.counters.filter((c) => p.tracks.get(c.track)!.name === "memory: sensor (task 1000)").map((c) => [c.track, c.value]);
    const [a, b] = named("memory: sensor (task 1000)").map((t) => t.uuid);
    expect(counts).toEqual([[a, 64], [a, 0], [b, 64], [b, 0]]);
  });

  it("keeps two sessions as two sequences and processes, each on its own clock", async () => {
    const events = [ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, 20, { task: 1 }), ev(EVENT.POLL_READY, 30), ev(EVENT.TASK_DONE, 31, { task: 1 })];
    const path = writeSyntheticTrace(join(dir, "two.trace.cbor"), [
      { names: NAMES, events },
      { names: NAMES, events, info: { deviceSession: 0x99, anchor: { ticks: 5, unixNs: BASE_INFO.anchor.unixNs + 2_000_000n } } },
    ]);
    const { p } = await exported(path, "two.pftrace");
    expect([...p.clocks.keys()]).toEqual([1, 2]);
    expect([...p.tracks.values()].filter((t) => t.process).map((t) => t.process!.name)).toEqual(["test-board / test-fw 1.0 (session 0)", "test-board / test-fw 1.0 (session 1)"]);
    const lives = p.slices.filter((s) => s.category === "task");
    expect(lives.map((s) => s.begin - BASE_INFO.anchor.unixNs)).toEqual([10_000n, 2_005_000n]);
  });
});
