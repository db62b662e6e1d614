// Perfetto export (host/export/perfetto), its Chrome trace-event JSON form (--format json),
// checked strictly against what Perfetto's JSON importer needs (its own tools are not available
// offline), replayed in the order its importer processes events (by time; at one time complete
// slices longest first, then the rest in file order): slices properly nested on their own track,
// flow arrows paired and bound to the slice open on their track, counters numeric and in time
// order, names for every process and thread, and the tokenizer's constraints (ph and ts first, no
// arrays at an event's top level, no control characters or \u escapes). The native protobuf form
// is tested in perfetto-proto.test.ts, speedscope's reading of this one in
// perfetto-speedscope.test.ts.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { EVENT } from "../host/format/spec.js";
import type { Lint } from "../host/model/lint.js";
import { readWholeTrace, type WholeTrace } from "../host/tracefile/trace.js";
import { BASE_INFO, ev, pullDemoTrace, sensorScenario, writeSyntheticTrace } from "./support/otlp-traces.js";

interface TraceEvent {
  ph: string;
  ts?: number;
  dur?: number;
  pid: number;
  tid?: number;
  name?: string;
  cat?: string;
  id?: number;
  bp?: string;
  s?: string;
  args?: Record<string, unknown>;
}

interface Checked {
  events: TraceEvent[];
  otherData: Record<string, unknown>;
  threadNames: Map<string, string>;
  processNames: Map<number, string>;
  /** Slices per track, in the order the importer opens them. */
  slices: Map<string, Slice[]>;
  /** The slice each flow event ("s"/"f", by id) is bound to. */
  bound: Map<TraceEvent, Slice>;
}

interface Slice {
  name: string;
  begin: number;
  end: number;
  args: Record<string, unknown>;
  depth: number;
  parent: Slice | undefined;
}

const track = (e: TraceEvent) => `${e.pid}/${e.tid}`;

/** The strict check; throws on the first broken rule. */
function checkPerfetto(text: string): Checked {
  if (/\\u[0-9a-fA-F]{4}/.test(text)) throw new Error("a \\u escape: Perfetto's JSON tokenizer rejects them");
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) throw new Error("a raw control character");
  const doc = JSON.parse(text) as { traceEvents: TraceEvent[]; otherData: Record<string, unknown> };
  expect(Object.keys(doc)).toEqual(["traceEvents", "otherData"]);
  // Each event on its own line, keys in the order the tokenizer scans.
  const lines = text.split("\n").filter((l) => l.startsWith('{"ph"'));
  if (lines.length !== doc.traceEvents.length) throw new Error("events not one per line");
  const threadNames = new Map<string, string>();
  const processNames = new Map<number, string>();
  const flows = new Map<number, { s?: TraceEvent; f?: TraceEvent }>();
  const asyncOpen = new Map<string, TraceEvent>();
  const counterLast = new Map<string, number>();
  const tidOwner = new Map<number, number>();
  const used = new Set<string>();
  const onTracks: { e: TraceEvent; i: number }[] = [];
  doc.traceEvents.forEach((e, i) => {
    const where = `event ${i} ${JSON.stringify(e).slice(0, 120)}`;
    const keys = Object.keys(e);
    if (keys[0] !== "ph") throw new Error(`${where}: ph is not the first key`);
    if (e.ph !== "M" && keys[1] !== "ts") throw new Error(`${where}: ts is not the second key`);
    for (const k of keys) if (Array.isArray((e as unknown as Record<string, unknown>)[k])) throw new Error(`${where}: array at top level`);
    if (!["X", "i", "C", "s", "f", "b", "e", "M"].includes(e.ph)) throw new Error(`${where}: phase ${e.ph}`);
    if (typeof e.pid !== "number") throw new Error(`${where}: no pid`);
    if (e.tid !== undefined) {
      const owner = tidOwner.get(e.tid);
      if (owner !== undefined && owner !== e.pid) throw new Error(`${where}: tid ${e.tid} used in two processes`);
      tidOwner.set(e.tid, e.pid);
    }
    if (e.ph === "M") {
      if (e.ts !== undefined) throw new Error(`${where}: metadata with ts`);
      const name = String(e.args?.["name"] ?? "");
      if (!name) throw new Error(`${where}: unnamed`);
      if (e.name === "process_name") processNames.set(e.pid, name);
      else if (e.name === "thread_name") threadNames.set(track(e), name);
      else throw new Error(`${where}: metadata ${e.name}`);
      return;
    }
    if (typeof e.ts !== "number" || !Number.isFinite(e.ts)) throw new Error(`${where}: ts`);
    if (Math.abs(e.ts * 1000 - Math.round(e.ts * 1000)) > 1e-3) throw new Error(`${where}: ts finer than 1 ns`);
    if (e.ph === "C") {
      const key = `${e.pid}/${e.name}`;
      if (!e.args || Object.keys(e.args).length === 0) throw new Error(`${where}: counter without values`);
      for (const v of Object.values(e.args)) if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`${where}: counter value ${v}`);
      if ((counterLast.get(key) ?? -Infinity) > e.ts) throw new Error(`${where}: counter ${key} goes back in time`);
      counterLast.set(key, e.ts);
      return;
    }
    if (e.ph === "b" || e.ph === "e") {
      const key = `${e.pid}/${e.cat}/${e.id}`;
      if (e.id === undefined || !e.name) throw new Error(`${where}: async event without id or name`);
      if (e.ph === "b") {
        if (asyncOpen.has(key)) throw new Error(`${where}: async ${key} begun twice`);
        asyncOpen.set(key, e);
      } else {
        const b = asyncOpen.get(key);
        if (!b || b.name !== e.name || b.ts! > e.ts) throw new Error(`${where}: async end without its begin`);
        asyncOpen.delete(key);
      }
      return;
    }
    // Thread-track events: X, i, s, f.
    if (e.tid === undefined) throw new Error(`${where}: no tid`);
    used.add(track(e));
    if (e.ph === "X") {
      if (!e.name) throw new Error(`${where}: unnamed slice`);
      if (typeof e.dur !== "number" || e.dur < 0 || Math.abs(e.dur * 1000 - Math.round(e.dur * 1000)) > 1e-3) throw new Error(`${where}: dur`);
    }
    if (e.ph === "i" && e.s !== "t" && e.s !== "p" && e.s !== "g") throw new Error(`${where}: instant scope`);
    if (e.ph === "s" || e.ph === "f") {
      if (typeof e.id !== "number" || e.cat !== "wake" || e.name !== "wake") throw new Error(`${where}: flow id/cat/name`);
      const pair = flows.get(e.id) ?? {};
      if (pair[e.ph]) throw new Error(`${where}: flow ${e.id} has two ${e.ph}`);
      pair[e.ph] = e;
      if (e.ph === "f" && e.bp !== "e") throw new Error(`${where}: flow end not bound to its enclosing slice`);
      flows.set(e.id, pair);
    }
    onTracks.push({ e, i });
  });
  // The importer's order: by time; at one time complete slices first, the longest first; then
  // the rest in file order.
  const rank = (e: TraceEvent) => (e.ph === "X" ? -e.dur! : Number.POSITIVE_INFINITY);
  onTracks.sort((a, b) => a.e.ts! - b.e.ts! || rank(a.e) - rank(b.e) || a.i - b.i);
  const stacks = new Map<string, Slice[]>();
  const slices: Checked["slices"] = new Map();
  const bound = new Map<TraceEvent, Slice>();
  for (const { e, i } of onTracks) {
    const t = track(e);
    const stack = stacks.get(t) ?? [];
    stacks.set(t, stack);
    const where = `event ${i} ${JSON.stringify(e).slice(0, 120)}`;
    if (e.ph === "s" || e.ph === "f") {
      // Bound to the slice on top of the track's stack, as it stands.
      const top = stack.at(-1);
      if (!top) throw new Error(`${where}: flow ${e.ph} outside any slice on ${t}: it would not bind`);
      bound.set(e, top);
      continue;
    }
    const dur = e.ph === "X" ? e.dur! : 0;
    // Slices ended by now leave the stack (closed on the left, open on the right).
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      if (top.end < e.ts! || (top.end === e.ts! && !(top.end === top.begin && dur === 0))) stack.pop();
      else break;
    }
    const parent = stack.at(-1);
    if (e.ph === "i") continue;
    const slice: Slice = { name: e.name!, begin: e.ts!, end: e.ts! + dur, args: { ...e.args }, depth: stack.length, parent };
    if (parent && slice.end > parent.end + 1e-9) throw new Error(`${where}: slice ${slice.name} ends after its parent ${parent.name} on ${t}`);
    stack.push(slice);
    const list = slices.get(t) ?? [];
    list.push(slice);
    slices.set(t, list);
  }
  for (const [key] of asyncOpen) throw new Error(`async slice ${key} never closed`);
  for (const [id, pair] of flows) {
    if (!pair.s || !pair.f) throw new Error(`flow ${id} is not paired`);
    if (pair.s.ts! > pair.f.ts!) throw new Error(`flow ${id} ends before it starts`);
  }
  for (const t of used) {
    if (!threadNames.has(t)) throw new Error(`track ${t} has no thread_name`);
    if (!processNames.has(Number(t.split("/")[0]))) throw new Error(`process of ${t} has no process_name`);
  }
  return { events: doc.traceEvents, otherData: doc.otherData, threadNames, processNames, slices, bound };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-perfetto-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Result = Awaited<ReturnType<typeof exportPerfetto>>;

async function exported(trace: string, name: string, lints: Lint[] = []): Promise<{ text: string; c: Checked; result: Result }> {
  const out = join(dir, name);
  const result = await exportPerfetto(trace, { out, lints, format: "json" });
  const text = readFileSync(out, "utf8");
  return { text, c: checkPerfetto(text), result };
}

describe("Perfetto export of the demo firmware's trace", () => {
  let raw: WholeTrace;
  let file: string;
  let c: Checked;
  let result: Result;
  const rowsOf = (kind: number) => raw.sessions[0]!.rows.filter((r) => r.kind === kind);

  beforeAll(async () => {
    file = await pullDemoTrace(join(dir, "demo.trace.cbor"));
    raw = readWholeTrace(file);
    ({ c, result } = await exported(file, "demo.json"));
  });

  it("passes the strict structure check", () => {
    expect(c.events.length).toBe(result.events);
    expect(c.processNames.size).toBe(1);
    expect([...c.processNames.values()][0]).toBe("wasi-demo / taskscope-demo 0.1 (session 0)");
  });

  it("has a track per task, named, grouped under the executor's process", () => {
    const names = [...c.threadNames.values()];
    expect(names.filter((n) => /^worker \(task \d+\)$/.test(n))).toHaveLength(72);
    for (const n of ["executor", "main (task 1)", "producer (task 3)", "http-server (task 6)"]) expect(names).toContain(n);
    expect(result.timeline.tasks).toBe(78);
    // Each task track: one slice for its life, its polls nested inside it.
    for (const [t, list] of c.slices) {
      if (c.threadNames.get(t) === "executor") continue;
      const life = list.filter((s) => s.name !== "poll");
      expect(life, c.threadNames.get(t)).toHaveLength(1);
      for (const p of list.filter((s) => s.name === "poll")) {
        expect(p.begin).toBeGreaterThanOrEqual(life[0]!.begin);
        expect(p.end).toBeLessThanOrEqual(life[0]!.end);
      }
      expect(life[0]!.args["state"]).toBe("done");
    }
  });

  it("has a slice per poll, with its result and await site", () => {
    const polls = [...c.slices.values()].flat().filter((s) => s.name === "poll");
    expect(polls).toHaveLength(rowsOf(EVENT.POLL_BEGIN).length);
    expect(polls.filter((p) => p.args["result"] === "ready")).toHaveLength(78);
    expect(polls.some((p) => p.args["await_site"] === "worker: lock db" && p.args["await_resource"] === "mutex db")).toBe(true);
  });

  it("draws an arrow for every wake by another task, from the waker to the poll it caused", () => {
    const wakes = rowsOf(EVENT.WAKE_TASK).filter((r) => r.a !== r.task && r.a !== 0);
    const starts = c.events.filter((e) => e.ph === "s");
    expect(starts).toHaveLength(wakes.length);
    expect(result.perfetto.droppedArrows).toBe(0);
    // consumer -> producer arrows start on the consumer's track and end on the producer's.
    const consumer = [...c.threadNames].find(([, n]) => n === "consumer (task 4)")![0];
    const producer = [...c.threadNames].find(([, n]) => n === "producer (task 3)")![0];
    const ends = new Map(c.events.filter((e) => e.ph === "f").map((e) => [e.id, e]));
    const fromConsumer = starts.filter((s) => track(s) === consumer);
    expect(fromConsumer.length).toBeGreaterThan(100);
    const main = [...c.threadNames].find(([, n]) => n === "main (task 1)")![0];
    // It wakes the producer each time it takes an item, and main (joining it) when it ends.
    expect(fromConsumer.filter((s) => track(ends.get(s.id)!) === producer).length).toBe(fromConsumer.length - 1);
    expect(track(ends.get(fromConsumer.at(-1)!.id)!)).toBe(main);
    // Each arrow ends at the poll the wake caused: bound to the poll that starts at its time.
    for (const f of ends.values()) {
      const to = c.bound.get(f)!;
      expect([to.name, to.begin]).toEqual(["poll", f.ts]);
    }
    // And starts inside the waker: its poll, or its life.
    for (const s of starts) expect(c.bound.get(s)!.begin).toBeLessThanOrEqual(s.ts!);
  });

  it("has counters for channel fill, mutex holders and the application's counters", () => {
    const counter = (name: string) => c.events.filter((e) => e.ph === "C" && e.name === name);
    const queue = counter("channel queue").map((e) => e.args!["fill"] as number);
    expect(queue.length).toBeGreaterThan(500);
    expect(Math.max(...queue)).toBe(4); // the queue's capacity: the producer is faster
    expect(new Set(counter("mutex db").map((e) => e.args!["holders"]))).toEqual(new Set([0, 1]));
    const served = counter("requests served").map((e) => e.args!["value"]);
    expect(served.at(-1)).toBe(32);
    expect(counter("queue depth").length).toBe(rowsOf(EVENT.COUNTER).length - served.length);
  });

  it("has an instant per log line with its text, and a slice per request", () => {
    const logs = c.events.filter((e) => e.ph === "i" && e.cat === "log");
    expect(logs).toHaveLength(rowsOf(EVENT.LOG).length);
    expect(logs.map((l) => l.name)).toContain("shutdown: 32 requests served, 600 items consumed");
    expect(logs.find((l) => l.name!.startsWith("shutdown"))!.args!["level"]).toBe("info");
    const requests = c.events.filter((e) => e.ph === "b");
    expect(requests).toHaveLength(32);
    expect(new Set(requests.map((r) => r.name))).toEqual(new Set(["GET /status", "GET /users", "POST /orders"]));
    const idle = c.slices.get(`${c.events[0]!.pid}/${c.events[0]!.pid}`)!.filter((s) => s.name === "idle");
    expect(idle.length).toBe(rowsOf(EVENT.IDLE_BEGIN).length);
  });

  it("keeps the trace's times: ts is µs since time_base_unix_ns, to the nanosecond", () => {
    const info = raw.sessions[0]!.info;
    const base = BigInt(String((c.otherData["taskscope"] as Record<string, unknown>)["time_base_unix_ns"]));
    const first = raw.sessions[0]!.rows[0]!;
    expect(base).toBe(info.anchor.unixNs + BigInt(first.t) - BigInt(info.anchor.ticks) * 1000n);
    const spawnMain = rowsOf(EVENT.SPAWN).find((r) => r.task === 1)!;
    const mainBegin = c.events.find((e) => e.ph === "X" && e.name === "main")!;
    expect(BigInt(Math.round(mainBegin.ts! * 1000))).toBe(BigInt(spawnMain.t - first.t));
  });

  it("writes the same bytes every time", async () => {
    await exportPerfetto(file, { out: join(dir, "again.json"), format: "json" });
    expect(Buffer.compare(readFileSync(join(dir, "again.json")), readFileSync(join(dir, "demo.json")))).toBe(0);
  });
});

describe("Perfetto mapping details (synthetic traces)", () => {
  // 1 task "sensor", 2 task "logger", 3 site "wait", 4 format "temp {} ok\u0001", 5 counter "c",
  // 6 resource "samples", 7 flow "poll\nsensors".
  const NAMES = [[1, "sensor"], [1, "logger"], [2, "wait"], [4, "temp {} ok\u0001"], [6, "c"], [3, "samples"], [7, "poll\nsensors"]] as const;

  it("draws interrupt handlers, arrows from them, memory and lints where they belong", async () => {
    const path = writeSyntheticTrace(join(dir, "isr.trace.cbor"), [{
      names: NAMES,
      events: sensorScenario([21]),
    }]);
    const lint = (l: Partial<Lint> & Pick<Lint, "kind" | "atNs" | "tasks" | "title">): Lint => ({ severity: "warning", hint: "h", session: 0, evidence: { n: 1 }, ...l });
    const lints = [
      lint({ kind: "long-poll", title: "sensor held the executor", atNs: 41_500, tasks: [{ session: 0, id: 1, name: "sensor" }] }),
      lint({ kind: "leak", title: "logger never finished", atNs: 99_000, tasks: [{ session: 0, id: 2, name: "logger" }] }),
      lint({ kind: "lost-events", title: "ring overflowed", atNs: 5_000, tasks: [] }),
    ];
    const { c, result, text } = await exported(path, "isr.json", lints);
    expect(text).not.toContain("\u0001");
    const tid = (name: string) => Number([...c.threadNames].find(([, n]) => n === name)![0].split("/")[1]);
    const irqSlices = c.slices.get(`1/${tid("interrupts")}`)!;
    expect(irqSlices.map((s) => [s.name, s.begin, s.end, s.depth])).toEqual([["irq 4", 21, 25, 0], ["irq 9", 22, 25, 1]]);
    // The interrupt's wake is an arrow from its handler to the sensor's next poll; the ended
    // sensor's wake of the logger is an arrow too (its track is still open when it wakes).
    const starts = c.events.filter((e) => e.ph === "s");
    expect(starts.map((e) => e.tid)).toEqual([tid("interrupts"), tid("sensor (task 1)")]);
    expect(result.perfetto.arrows).toBe(2);
    const mem = c.events.filter((e) => e.ph === "C" && e.cat === "memory").map((e) => [e.name, e.args!["bytes"]]);
    expect(mem).toEqual([
      ["memory: sensor (task 1)", 512], ["memory: all tasks", 512],
      ["memory: logger (task 2)", 100], ["memory: all tasks", 612],
      ["memory: sensor (task 1)", 0], ["memory: all tasks", 100],
      ["memory: logger (task 2)", 0], ["memory: all tasks", 0],
    ]);
    const log = c.events.find((e) => e.cat === "log")!;
    expect(log.name).toBe("temp 21 ok ");
    expect(log.args!["level"]).toBe("warn");
    const instants = c.events.filter((e) => e.cat === "lint");
    expect(instants.map((e) => [e.name, e.tid, e.ts])).toEqual([
      ["ring overflowed", 1, 0], // no task: the executor's track, at the first event
      ["sensor held the executor", tid("sensor (task 1)"), 31.5],
      ["logger never finished", tid("logger (task 2)"), 42], // past the end: shown at the end
    ]);
    expect(instants[0]!.args).toMatchObject({ kind: "lost-events", severity: "warning", evidence: { n: 1 } });
    const request = c.events.filter((e) => e.ph === "b" || e.ph === "e");
    expect(request.map((e) => [e.ph, e.name, e.ts])).toEqual([["b", "poll sensors", 12], ["e", "poll sensors", 42]]);
    expect(c.events.find((e) => e.cat === "flow")!.name).toBe("serves poll sensors");
    const idle = c.slices.get("1/1")!.filter((s) => s.name === "idle");
    expect(idle.map((s) => [s.begin, s.end])).toEqual([[20, 26]]);
  });

  it("exports a trace that starts mid-poll and one cut off mid-record", async () => {
    const events = [
      ev(EVENT.POLL_PENDING, 100),
      ...Array.from({ length: 300 }, (_, i) => ev(i % 2 === 0 ? EVENT.POLL_BEGIN : EVENT.POLL_PENDING, 101 + i, i % 2 === 0 ? { task: 3 } : {})),
    ];
    const path = writeSyntheticTrace(join(dir, "mid.trace.cbor"), [{ names: NAMES, events, contextTask: 3, chunkSize: 128 }]);
    const { result, c } = await exported(path, "mid.json");
    expect(result.timeline.pollEndsWithoutBegin).toBe(1);
    expect([...c.slices.values()].flat().filter((s) => s.name === "poll")).toHaveLength(150);
    const bytes = readFileSync(path);
    const cut = join(dir, "cut.trace.cbor");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 30));
    const r2 = await exported(cut, "cut.json");
    expect(r2.result.summary.truncated).toBeDefined();
    expect((r2.c.otherData["taskscope"] as Record<string, unknown>)["truncated_at_byte"]).toBe(r2.result.summary.truncated!.offset);
  });

  it("keeps two sessions in two processes with their own tracks, on one time axis", async () => {
    const events = [ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, 20, { task: 1 }), ev(EVENT.POLL_READY, 30), ev(EVENT.TASK_DONE, 31, { task: 1 })];
    const path = writeSyntheticTrace(join(dir, "two.trace.cbor"), [
      { names: NAMES, events },
      { names: NAMES, events, info: { deviceSession: 0x99, anchor: { ticks: 0, unixNs: BASE_INFO.anchor.unixNs + 2_000_000n } } },
    ]);
    const { c } = await exported(path, "two.json");
    expect([...c.processNames.values()]).toEqual(["test-board / test-fw 1.0 (session 0)", "test-board / test-fw 1.0 (session 1)"]);
    const lifeBegins = c.events.filter((e) => e.ph === "X" && e.name === "sensor");
    expect(lifeBegins.map((e) => e.pid)).toEqual([1, 3]);
    expect(lifeBegins.map((e) => e.ts)).toEqual([0, 2000]);
  });

  it("leaves nothing behind for a corrupt file", async () => {
    const path = writeSyntheticTrace(join(dir, "bad.trace.cbor"), [{
      names: NAMES,
      events: Array.from({ length: 2000 }, (_, i) => ev(i % 2 === 0 ? EVENT.POLL_BEGIN : EVENT.POLL_PENDING, 10 + i, i % 2 === 0 ? { task: 1 } : {})),
    }]);
    const bytes = Buffer.from(readFileSync(path));
    bytes.fill(0xff, bytes.length >> 1, (bytes.length >> 1) + 32);
    writeFileSync(path, bytes);
    for (const format of ["json", "protobuf"] as const) {
      await expect(exportPerfetto(path, { out: join(dir, `bad.${format}`), format })).rejects.toThrow(/byte \d+/);
      expect(existsSync(join(dir, `bad.${format}`))).toBe(false);
    }
  });
});
