// The example executor (firmware-examples/executor) and the demo on it, run under node:wasi and
// checked through their decoded traces: the executor must record spawn, poll, wake, waker and
// resource activity by itself, consistently enough that a report can trust it.
//
// Needs the wasm builds: `npm run build:wasm` (or `node firmware-examples/build.mjs executor demo`).

import { existsSync, readFileSync } from "node:fs";
import { describe, expect, test, beforeAll } from "vitest";
import { spec } from "../host/format/index.js";
import { decodeTrace, runDeviceModule, runWasiModule, type DecodedTrace, type WasiRunResult } from "./support/wasi-run.js";

const DEMO = "build/demo.wasm";
const BASIC = "build/test/executor-basic.wasm";
const STUCK = "build/test/executor-stuck.wasm";
const DEVICE = "build/test/executor-device.wasm";

const E = spec.EVENT;
const LOG_ARG = spec.LOG_ARG;
const RES = spec.RESOURCE_KIND;
const OP = spec.RESOURCE_OP;
const OUT = spec.RESOURCE_OUTCOME;

function requireBuilt(path: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build:wasm`);
}

// ---------------------------------------------------------------------------------------------
// Trace model: replays the events in order and collects every broken rule as a message.

interface Incarnation {
  id: number;
  name: string;
  parent: Incarnation | null;
  spawnFlow: number;
  spawnAt: number;
  end?: "done" | "cancel";
  endAt?: number;
  polls: number;
  liveWakers: number;
  /** Live wakers at each of its POLL_PENDINGs, in order. */
  liveAtPending: number[];
  flow: number;
  woken: boolean;
  blockedOn: number;
}

interface ResourceModel {
  id: number;
  kind: number;
  name: string;
  capacity: number;
  level: number;
  maxLevel: number;
  ops: { task: Incarnation | null; op: number; outcome: number; level: number }[];
}

interface FlowModel {
  id: number;
  name: string;
  owner: Incarnation | null;
  ended: boolean;
  spawned: Incarnation[];
  entered: Incarnation[];
}

interface TraceModel {
  tasks: Incarnation[];
  resources: Map<number, ResourceModel>;
  flows: Map<number, FlowModel>;
  violations: string[];
  /** Events by wire tag, LOG_ARG rows excluded. */
  count: Map<number, number>;
}

function analyse(d: DecodedTrace): TraceModel {
  const ev = d.events;
  const names = d.names;
  const violations: string[] = [];
  const tasks: Incarnation[] = [];
  const alive = new Map<number, Incarnation>();
  const lastEnded = new Map<number, Incarnation>(); // ended, id not reused since
  const resources = new Map<number, ResourceModel>();
  const flows = new Map<number, FlowModel>();
  const count = new Map<number, number>();
  let current: Incarnation | null = null;
  let mustEnd: Incarnation | null = null; // POLL_READY seen, TASK_DONE due
  let justEnded: Incarnation | null = null; // for the join wake right after a task end
  let idle = false;
  let prevKind = 0;
  let prevTask = 0;
  let dueDrop: number | null = null; // a consuming wake must be followed by its WAKER_DROP
  let dueTimerWake: number | null = null; // a TIMER_FIRE must be followed by the wake it causes
  const deadlines = new Map<number, number>(); // task id -> armed deadline (ns)

  const bad = (i: number, msg: string) => {
    if (violations.length < 50) violations.push(`#${i} ${spec.kindName(ev.kind[i]!)} task ${ev.task[i]}: ${msg}`);
  };
  const kindOfName = (id: number) => names.kindNameOf(id);
  const lookup = (id: number) => alive.get(id) ?? lastEnded.get(id);

  for (let i = 0; i < ev.length; i++) {
    const kind = ev.kind[i]!;
    if (kind === LOG_ARG) continue;
    const task = ev.task[i]!;
    const a = ev.a[i]!;
    const b = ev.b[i]!;
    const c = ev.c[i]!;
    const v = ev.v[i]!;
    count.set(kind, (count.get(kind) ?? 0) + 1);
    if (dueDrop !== null && !(kind === E.WAKER_DROP && task === dueDrop)) {
      bad(i, `a consuming wake of task ${dueDrop} was not followed by its WAKER_DROP`);
    }
    dueDrop = null;
    if (dueTimerWake !== null && !(kind === E.WAKE_EXT && task === dueTimerWake)) {
      bad(i, `TIMER_FIRE of task ${dueTimerWake} was not followed by its wake`);
    }
    dueTimerWake = null;
    const due = mustEnd as Incarnation | null; // (TS narrows loop-carried state to never)
    if (due && kind !== E.TASK_DONE) bad(i, `POLL_READY of task ${due.id} not followed by TASK_DONE`);
    if (kind !== E.WAKE_TASK && kind !== E.WAKER_DROP && kind !== E.TASK_DONE && kind !== E.TASK_CANCEL) justEnded = null;

    switch (kind) {
      case E.SPAWN: {
        if (alive.has(task)) bad(i, "id spawned while its previous task is alive");
        if (a !== 0 && !alive.has(a)) bad(i, `parent ${a} does not exist`);
        if (a !== (current?.id ?? 0)) bad(i, `parent ${a} is not the polled task ${current?.id ?? 0}`);
        if (b === 0 || kindOfName(b) !== "task") bad(i, `name ${b} is not a task name`);
        const parent = a !== 0 ? (alive.get(a) ?? null) : null;
        if (parent && c !== parent.flow) bad(i, `flow ${c} differs from the parent's flow ${parent.flow}`);
        const inc: Incarnation = {
          id: task,
          name: names.get(b) ?? `?${b}`,
          parent,
          spawnFlow: c,
          spawnAt: i,
          polls: 0,
          liveWakers: 0,
          liveAtPending: [],
          flow: c,
          woken: true, // spawning makes it runnable
          blockedOn: 0,
        };
        if (c !== 0) {
          const f = flows.get(c);
          if (!f) bad(i, `unknown flow ${c}`);
          else f.spawned.push(inc);
        }
        tasks.push(inc);
        alive.set(task, inc);
        lastEnded.delete(task);
        break;
      }
      case E.POLL_BEGIN: {
        const inc = alive.get(task);
        if (!inc) bad(i, "poll of a task that does not exist");
        if (current) bad(i, `nested in the poll of task ${current.id}`);
        if (idle) bad(i, "poll while idle");
        if (inc) {
          if (!inc.woken) bad(i, "polled without a wake since its last poll (spurious poll or double enqueue)");
          inc.woken = false;
          inc.polls++;
        }
        current = inc ?? null;
        break;
      }
      case E.POLL_READY:
      case E.POLL_PENDING: {
        if (!current) {
          bad(i, "poll end outside a poll");
          break;
        }
        if (task !== current.id) bad(i, `ends the poll of ${current.id}`);
        if (kind === E.POLL_READY) mustEnd = current;
        else {
          if (prevKind !== E.AWAIT || prevTask !== task) bad(i, "Pending without an AWAIT just before it");
          current.liveAtPending.push(current.liveWakers);
        }
        current = null;
        break;
      }
      case E.TASK_DONE:
      case E.TASK_CANCEL: {
        const inc = alive.get(task);
        if (!inc) {
          bad(i, "end of a task that does not exist (or ended already)");
          break;
        }
        if (kind === E.TASK_DONE && mustEnd !== inc) bad(i, "TASK_DONE without POLL_READY just before");
        if (current === inc) bad(i, "ended inside its own poll");
        mustEnd = null;
        inc.end = kind === E.TASK_DONE ? "done" : "cancel";
        inc.endAt = i;
        alive.delete(task);
        lastEnded.set(task, inc);
        justEnded = inc;
        break;
      }
      case E.WAKE_TASK:
      case E.WAKE_SELF:
      case E.WAKE_EXT:
      case E.WAKE_IRQ: {
        const inc = alive.get(task);
        if (!inc) bad(i, "wake of a task that does not exist");
        else inc.woken = true;
        if (kind === E.WAKE_SELF && current?.id !== task) bad(i, "self-wake outside the task's own poll");
        if (kind === E.WAKE_EXT && current) bad(i, "external wake inside a poll");
        if (kind === E.WAKE_TASK) {
          const byPolled = current !== null && current.id === a;
          const byEnded = current === null && justEnded !== null && justEnded.id === a;
          if (!byPolled && !byEnded) bad(i, `waker ${a} is neither the polled task nor a task that just ended`);
        }
        if (kind === E.WAKE_IRQ) bad(i, "no interrupts in this executor");
        if (kind !== E.WAKE_SELF) dueDrop = task;
        break;
      }
      case E.WAKER_CLONE: {
        const inc = alive.get(task);
        if (!inc) bad(i, "waker stored for a task that does not exist");
        else inc.liveWakers++;
        break;
      }
      case E.WAKER_DROP: {
        const inc = lookup(task);
        if (!inc) bad(i, "waker dropped for an unknown task");
        else if (--inc.liveWakers < 0) bad(i, "live wakers went negative");
        break;
      }
      case E.AWAIT: {
        if (!current || current.id !== task) bad(i, "await outside the task's poll");
        if (a === 0 || kindOfName(a) !== "site") bad(i, `site ${a} is not a site name`);
        if (b !== 0 && !resources.has(b)) bad(i, `awaits unknown resource ${b}`);
        break;
      }
      case E.RES_CREATE: {
        if (resources.has(a)) bad(i, `resource ${a} created twice`);
        if (kindOfName(b) !== "resource") bad(i, `name ${b} is not a resource name`);
        resources.set(a, { id: a, kind: c, name: names.get(b) ?? `?${b}`, capacity: v, level: 0, maxLevel: 0, ops: [] });
        break;
      }
      case E.RES_OP: {
        const r = resources.get(a);
        if (!r) {
          bad(i, `op on unknown resource ${a}`);
          break;
        }
        if (!current) bad(i, "resource op outside a poll");
        const who = current;
        r.ops.push({ task: who, op: b, outcome: c, level: v });
        if (v > r.capacity) bad(i, `${r.name}: level ${v} above capacity ${r.capacity}`);
        r.maxLevel = Math.max(r.maxLevel, v);
        if (c === OUT.blocked) {
          if (who) who.blockedOn = a;
          if (v !== r.level) bad(i, `${r.name}: a blocked op changed the level ${r.level} -> ${v}`);
          const full = r.kind === RES.channel && b === OP.send ? r.capacity : 1;
          if (b === OP.send && v !== full) bad(i, `${r.name}: send blocked below capacity`);
          if (b === OP.recv && v !== 0) bad(i, `${r.name}: recv blocked with items queued`);
          if (b === OP.acquire && v !== 1) bad(i, `${r.name}: acquire blocked on a free mutex`);
        } else {
          if (c === OUT.unblocked) {
            if (!who || who.blockedOn !== a) bad(i, `${r.name}: unblocked without having blocked on it`);
          } else if (who && who.blockedOn === a) {
            bad(i, `${r.name}: ok after having blocked (should be unblocked)`);
          }
          if (who && who.blockedOn === a) who.blockedOn = 0;
          const expected =
            b === OP.send ? r.level + 1 : b === OP.recv ? r.level - 1 : b === OP.acquire ? r.level + 1 : r.level - 1;
          if (v !== expected) bad(i, `${r.name}: level ${r.level} -> ${v}, expected ${expected}`);
        }
        const ops = r.kind === RES.channel ? [OP.send, OP.recv] : r.kind === RES.mutex ? [OP.acquire, OP.release] : [];
        if (!ops.includes(b as never)) bad(i, `${r.name}: op ${b} on a resource of kind ${r.kind}`);
        r.level = v;
        break;
      }
      case E.FLOW_BEGIN: {
        if (!current) bad(i, "flow begun outside a poll");
        if (flows.has(a)) bad(i, `flow ${a} begun twice`);
        if (kindOfName(b) !== "flow") bad(i, `name ${b} is not a flow name`);
        flows.set(a, { id: a, name: names.get(b) ?? `?${b}`, owner: current, ended: false, spawned: [], entered: [] });
        if (current) current.flow = a;
        break;
      }
      case E.FLOW_END: {
        const f = flows.get(a);
        if (!f) bad(i, `end of unknown flow ${a}`);
        else {
          if (f.ended) bad(i, `flow ${a} ended twice`);
          if (f.owner !== current) bad(i, `flow ${a} ended by another task`);
          f.ended = true;
        }
        if (current && current.flow === a) current.flow = 0;
        break;
      }
      case E.FLOW_ENTER: {
        const inc = alive.get(task);
        const f = flows.get(a);
        if (!inc) bad(i, "flow entered by a task that does not exist");
        if (!f) bad(i, `unknown flow ${a}`);
        if (inc) inc.flow = a;
        if (inc && f) f.entered.push(inc);
        break;
      }
      case E.TIMER_ARM: {
        if (!current) bad(i, "timer armed outside a poll");
        const r = resources.get(a);
        if (!r || r.kind !== RES.timer) bad(i, `timer armed on ${a}, not a timer resource`);
        deadlines.set(task, v);
        break;
      }
      case E.TIMER_FIRE: {
        if (current) bad(i, "timer fired inside a poll");
        if (!alive.has(task)) bad(i, "timer fired for a task that does not exist");
        const deadline = deadlines.get(task);
        if (deadline === undefined) bad(i, "timer fired that was never armed");
        else if (deadline > ev.t[i]!) bad(i, "timer fired before its deadline");
        deadlines.delete(task);
        dueTimerWake = task;
        break;
      }
      case E.LOG:
        if (kindOfName(a) !== "format") bad(i, `format ${a} is not a format name`);
        break;
      case E.COUNTER:
        if (kindOfName(a) !== "counter") bad(i, `name ${a} is not a counter name`);
        break;
      case E.IDLE_BEGIN:
        if (idle || current) bad(i, "idle begins while idle or inside a poll");
        idle = true;
        break;
      case E.IDLE_END:
        if (!idle) bad(i, "idle ends while not idle");
        idle = false;
        break;
      default:
        bad(i, "event this executor never records");
    }
    prevKind = kind;
    prevTask = task;
  }
  if (current) violations.push(`trace ends inside the poll of task ${current.id}`);
  const due = mustEnd as Incarnation | null;
  if (due) violations.push(`trace ends before TASK_DONE of task ${due.id}`);
  return { tasks, resources, flows, violations, count };
}

/** Rules every complete run must satisfy besides the per-event ones. */
function checkComplete(d: DecodedTrace, m: TraceModel): void {
  expect(m.violations).toEqual([]);
  // Each task ended exactly once (an end of an unknown or ended task is a violation above).
  expect(m.tasks.filter((t) => !t.end).map((t) => `${t.id} ${t.name}`)).toEqual([]);
  // Every task has a name and a parent chain back to a root spawned outside any task.
  for (const t of m.tasks) {
    expect(t.name).not.toMatch(/^\?/);
    let p: Incarnation | null = t;
    const seen = new Set<Incarnation>();
    while (p) {
      expect(seen.has(p)).toBe(false);
      seen.add(p);
      if (p.parent) expect(p.parent.spawnAt).toBeLessThan(p.spawnAt);
      p = p.parent;
    }
  }
  // Every waker the executor stored was consumed or released.
  expect(m.tasks.filter((t) => t.liveWakers !== 0).map((t) => `${t.id} ${t.name}: ${t.liveWakers}`)).toEqual([]);
  for (const f of m.flows.values()) expect(f.ended).toBe(true);
  checkCounters(d, { lossless: true });
}

/** FORMAT.md 2.3: recorded == drained + dropped_overwritten + pending_events, decoded == drained. */
function checkCounters(d: DecodedTrace, opts: { lossless: boolean }): void {
  const k = d.counters;
  expect(k.recorded).toBe(k.drained + k.droppedOverwritten + k.pendingEvents);
  expect(d.wireEvents).toBe(k.drained);
  expect(k.pendingEvents).toBe(0); // flushed and drained to the end
  const seqs = d.chunks.map((c) => c.seq);
  const first = opts.lossless ? 0 : k.chunksOverwritten;
  expect(seqs).toEqual(Array.from({ length: k.nextSeq - first }, (_, i) => first + i));
  if (opts.lossless) {
    expect(k.droppedOverwritten).toBe(0);
    expect(k.droppedFull).toBe(0);
  }
}

const byName = (m: TraceModel, name: string) => m.tasks.filter((t) => t.name === name);
const resourceNamed = (m: TraceModel, name: string) => {
  const r = [...m.resources.values()].find((x) => x.name === name);
  if (!r) throw new Error(`no resource named ${name}`);
  return r;
};
/** Event indices (LOG_ARG rows included in numbering) matching a predicate. */
function rows(d: DecodedTrace, pred: (kind: number, task: number, a: number, i: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < d.events.length; i++) if (pred(d.events.kind[i]!, d.events.task[i]!, d.events.a[i]!, i)) out.push(i);
  return out;
}

// ---------------------------------------------------------------------------------------------

describe("demo (clean scenario)", () => {
  let run: WasiRunResult;
  let d: DecodedTrace;
  let m: TraceModel;

  beforeAll(async () => {
    requireBuilt(DEMO);
    run = await runWasiModule(DEMO);
    d = decodeTrace(run.bytes);
    m = analyse(d);
  });

  test("ends by itself with exit code 0 and prints one line", () => {
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("demo: 32 requests served\n");
    expect(run.stderr).toBe("");
    // How long it took on the host says nothing on a loaded machine; its own clock does.
    const spanMs = (d.events.t[d.events.length - 1]! - d.events.t[0]!) / 1e6;
    expect(spanMs).toBeGreaterThan(300);
    expect(spanMs).toBeLessThan(5000);
  });

  test("exports the host interface and identifies itself", () => {
    for (const name of ["taskscope_drain", "taskscope_pending", "taskscope_flush", "taskscope_buffer", "_start"]) {
      expect(typeof run.exports[name]).toBe("function");
    }
    expect(d.info.tickHz).toBe(1_000_000);
    expect(d.info.device).toBe("wasi-demo");
    expect(d.info.firmware).toBe("taskscope-demo 0.1");
    expect(d.info.ringMode).toBe("overwrite");
  });

  test("trace is consistent: polls, ends, wakes, wakers, resources, flows", () => {
    checkComplete(d, m);
  });

  test("size: 10k-50k events at a few bytes each", () => {
    const events = d.counters.recorded;
    expect(events).toBeGreaterThan(10_000);
    expect(events).toBeLessThan(50_000);
    const perEvent = d.chunkBytes / d.wireEvents;
    expect(perEvent).toBeLessThan(4.5);
    console.log(
      `demo: ${events} events, ${d.chunks.length} chunks, ${d.chunkBytes} chunk bytes, ` +
        `${perEvent.toFixed(2)} bytes/event, ${run.wallMs.toFixed(0)} ms`,
    );
  });

  test("the task tree: main spawns the services, the server spawns the workers", () => {
    const counts = Object.fromEntries(
      ["main", "heartbeat", "producer", "consumer", "http-client", "http-server", "worker"].map((n) => [n, byName(m, n).length]),
    );
    // 32 requests: every 4th (3, 7, ...) takes 3 workers, the others 2.
    expect(counts).toEqual({ main: 1, heartbeat: 1, producer: 1, consumer: 1, "http-client": 1, "http-server": 1, worker: 72 });
    const main = byName(m, "main")[0]!;
    expect(main.parent).toBeNull();
    for (const n of ["heartbeat", "producer", "consumer", "http-client", "http-server"]) expect(byName(m, n)[0]!.parent).toBe(main);
    const server = byName(m, "http-server")[0]!;
    for (const w of byName(m, "worker")) expect(w.parent).toBe(server);
    expect(m.tasks.every((t) => t.end === "done")).toBe(true);
    // Ids stay below the core's MAX_TASKS (flows are tracked) and are reused.
    expect(Math.max(...m.tasks.map((t) => t.id))).toBeLessThan(d.info.maxTasks);
    expect(new Set(m.tasks.map((t) => t.id)).size).toBeLessThan(m.tasks.length);
  });

  test("each request is a flow begun and ended by the server, carrying its workers", () => {
    const server = byName(m, "http-server")[0]!;
    const flows = [...m.flows.values()];
    expect(flows).toHaveLength(32);
    const perKind = new Map<string, number>();
    for (const f of flows) {
      expect(f.owner).toBe(server);
      expect(f.ended).toBe(true);
      perKind.set(f.name, (perKind.get(f.name) ?? 0) + 1);
      expect(f.spawned.every((t) => t.name === "worker" && t.parent === server)).toBe(true);
      expect(f.spawned).toHaveLength(f.name === "POST /orders" ? 3 : 2);
    }
    expect(Object.fromEntries(perKind)).toEqual({ "GET /users": 8, "GET /status": 16, "POST /orders": 8 });
    // Every worker serves exactly one request.
    expect(flows.reduce((s, f) => s + f.spawned.length, 0)).toBe(byName(m, "worker").length);
  });

  test("backpressure: the producer fills the bounded queue and blocks", () => {
    const q = resourceNamed(m, "queue");
    expect(q.kind).toBe(RES.channel);
    expect(q.capacity).toBe(4);
    expect(q.maxLevel).toBe(4);
    const producer = byName(m, "producer")[0]!;
    const blockedSends = q.ops.filter((o) => o.task === producer && o.op === OP.send && o.outcome === OUT.blocked);
    const unblockedSends = q.ops.filter((o) => o.task === producer && o.op === OP.send && o.outcome === OUT.unblocked);
    expect(blockedSends.length).toBeGreaterThan(100);
    expect(unblockedSends.length).toBe(blockedSends.length);
    const recvs = q.ops.filter((o) => o.op === OP.recv && o.outcome !== OUT.blocked);
    expect(recvs).toHaveLength(600);
  });

  test("the db mutex is contended by workers and never held twice", () => {
    const db = resourceNamed(m, "db");
    expect(db.kind).toBe(RES.mutex);
    expect(db.maxLevel).toBe(1);
    const acquired = db.ops.filter((o) => o.op === OP.acquire && o.outcome !== OUT.blocked);
    expect(acquired).toHaveLength(72);
    expect(db.ops.filter((o) => o.op === OP.release)).toHaveLength(72);
    expect(db.ops.some((o) => o.outcome === OUT.blocked)).toBe(true);
    expect(db.ops.every((o) => o.task?.name === "worker")).toBe(true);
  });

  test("sleeps await the executor's timer resource at named sites", () => {
    const timer = resourceNamed(m, "timer");
    expect(timer.kind).toBe(RES.timer);
    const sites = new Set<string>();
    for (const i of rows(d, (k, _t, _a, i) => k === E.AWAIT && d.events.b[i] === timer.id)) sites.add(d.names.get(d.events.a[i]!)!);
    expect([...sites].sort()).toEqual([
      "consumer: process item",
      "heartbeat: wait tick",
      "http-client: think time",
      "worker: db query",
    ]);
  });

  test("wakes: timers wake from outside, joins are woken by the finished worker, yields are self-wakes", () => {
    const server = byName(m, "http-server")[0]!;
    const joinWakes = rows(d, (k, t, _a, i) => k === E.WAKE_TASK && t === server.id && i > 0 && d.events.kind[i - 1] === E.TASK_DONE);
    expect(joinWakes).toHaveLength(72);
    for (const i of joinWakes) expect(d.events.a[i]).toBe(d.events.task[i - 1]); // by the worker that ended
    expect(m.count.get(E.WAKE_SELF)).toBe(72); // one yield per worker
    expect(m.count.get(E.WAKE_EXT)).toBeGreaterThan(500); // timer expiries
    expect(m.count.get(E.WAKER_CLONE)).toBe(m.count.get(E.WAKER_DROP));
  });

  test("application log lines and counters come through", () => {
    const logs = rows(d, (k) => k === E.LOG).map((i) => d.names.get(d.events.a[i]!));
    expect(logs.filter((s) => s === "request {} done with {} workers")).toHaveLength(32);
    expect(logs.filter((s) => s === "shutdown: {} requests served, {} items consumed")).toHaveLength(1);
    const served = rows(d, (k, _t, a) => k === E.COUNTER && d.names.get(a) === "requests served").map((i) => d.events.v[i]);
    expect(served).toEqual(Array.from({ length: 32 }, (_, i) => i + 1));
  });

  test("the executor idles (poll_oneoff) instead of spinning", () => {
    let idleNs = 0;
    for (const i of rows(d, (k) => k === E.IDLE_BEGIN)) {
      let j = i + 1;
      while (d.events.kind[j] !== E.IDLE_END) j++;
      idleNs += d.events.t[j]! - d.events.t[i]!;
    }
    const spanNs = d.events.t[d.events.length - 1]! - d.events.t[0]!;
    expect(idleNs / spanNs).toBeGreaterThan(0.3);
  });
});

describe("demo scenarios and ring loss", () => {
  test("an unknown scenario is refused with exit code 2", async () => {
    requireBuilt(DEMO);
    const r = await runWasiModule(DEMO, { args: ["no-such-scenario"] });
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('unknown scenario "no-such-scenario" (known: clean, stream-overlap, fanout-spawned, queue-bounded)');
  });

  test("'clean' by name is the default", async () => {
    const r = await runWasiModule(DEMO, { args: ["clean"] });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe("demo: 32 requests served\n");
  });

  test("drained at every clock read (inside init, polls and idling), the trace is still exact", async () => {
    const r = await runWasiModule(DEMO, { drainIntervalMs: 0 });
    expect(r.exitCode).toBe(0);
    expect(r.drains).toBeGreaterThan(10_000);
    const d = decodeTrace(r.bytes);
    checkComplete(d, analyse(d));
  });

  test("drained only at the end: the overwrite ring loses chunks, the counters stay exact", async () => {
    const r = await runWasiModule(DEMO, { drainIntervalMs: false });
    expect(r.exitCode).toBe(0);
    const d = decodeTrace(r.bytes);
    const k = d.counters;
    expect(k.chunksOverwritten).toBeGreaterThan(0);
    expect(k.droppedOverwritten).toBeGreaterThan(0);
    expect(k.chunksOverwritten).toBe(k.nextSeq - d.info.chunkCount);
    checkCounters(d, { lossless: false });
    expect(k.firstDrop).toBeGreaterThan(0);
    expect(k.lastDrop).toBeGreaterThanOrEqual(k.firstDrop);
  });
});

// ---------------------------------------------------------------------------------------------

describe("executor semantics (fixture)", () => {
  let run: WasiRunResult;
  let d: DecodedTrace;
  let m: TraceModel;
  const one = (name: string) => {
    const t = byName(m, name);
    expect(t).toHaveLength(1);
    return t[0]!;
  };

  beforeAll(async () => {
    requireBuilt(BASIC);
    run = await runWasiModule(BASIC);
    d = decodeTrace(run.bytes);
    m = analyse(d);
  });

  test("runs to completion and the trace is consistent", () => {
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe("basic: status=0 sleeperPolls=2 received=15 timers=18 in order live=0\n");
    checkComplete(d, m);
    expect(d.info.ringMode).toBe("stop");
  });

  test("two wakes of a parked task are both recorded but poll it once", () => {
    const sleeper = one("a-sleeper");
    const waker = one("a-waker");
    const wakes = rows(d, (k, t) => k === E.WAKE_TASK && t === sleeper.id);
    expect(wakes).toHaveLength(2);
    for (const i of wakes) expect(d.events.a[i]).toBe(waker.id);
    expect(sleeper.polls).toBe(2);
    expect(rows(d, (k, t) => k === E.WAKER_CLONE && t === sleeper.id)).toHaveLength(2);
    expect(rows(d, (k, t) => k === E.WAKER_DROP && t === sleeper.id)).toHaveLength(2);
    // The parked sleeper held both wakers while parked.
    expect(sleeper.liveAtPending).toEqual([2]);
  });

  test("join: the parent is woken by the child that finished", () => {
    const parent = one("b-parent");
    const short = one("b-short");
    expect(short.parent).toBe(parent);
    const i = short.endAt!;
    expect(d.events.kind[i]).toBe(E.TASK_DONE);
    expect(d.events.kind[i + 1]).toBe(E.WAKE_TASK);
    expect(d.events.task[i + 1]).toBe(parent.id);
    expect(d.events.a[i + 1]).toBe(short.id);
    expect(d.events.kind[i + 2]).toBe(E.WAKER_DROP);
    expect(parent.end).toBe("done");
  });

  test("cancel: a sleeping task's timer waker is released and the run does not wait for it", () => {
    const long = one("b-long");
    expect(long.end).toBe("cancel");
    const i = long.endAt!;
    expect(d.events.kind[i - 1]).toBe(E.WAKER_DROP);
    expect(d.events.task[i - 1]).toBe(long.id);
    expect(rows(d, (k, t) => (k === E.WAKE_EXT || k === E.WAKE_TASK) && t === long.id)).toEqual([]);
    expect(d.events.t[i]! - d.events.t[long.spawnAt]!).toBeLessThan(2e9); // it was sleeping 10 s: cancelled, not slept out
    const self = one("b-self-cancel");
    expect(self.end).toBe("cancel");
    expect(d.events.kind[self.endAt! - 1]).toBe(E.POLL_PENDING); // ends after its poll returned
  });

  test("channel: blocking both ways, level within capacity, the sender's flow follows the message", () => {
    const ch = resourceNamed(m, "c-chan");
    const receiver = one("c-receiver");
    const sender = one("c-sender");
    expect(ch.capacity).toBe(1);
    expect(ch.maxLevel).toBe(1);
    const recvOps = ch.ops.filter((o) => o.task === receiver).map((o) => o.outcome);
    expect(recvOps[0]).toBe(OUT.blocked);
    expect(recvOps[1]).toBe(OUT.unblocked);
    expect(recvOps.filter((o) => o !== OUT.blocked)).toHaveLength(5);
    const sendOps = ch.ops.filter((o) => o.task === sender);
    expect(sendOps.some((o) => o.outcome === OUT.blocked)).toBe(true);
    expect(sendOps.filter((o) => o.outcome !== OUT.blocked)).toHaveLength(5);
    const flows = [...m.flows.values()].filter((f) => f.name === "job C");
    expect(flows).toHaveLength(1);
    expect(flows[0]!.owner).toBe(sender);
    expect(flows[0]!.entered).toEqual([receiver]); // entered once, not per message
  });

  test("mutex: one holder at a time, waiters block then acquire unblocked", () => {
    const mu = resourceNamed(m, "d-mutex");
    const acquires = mu.ops.filter((o) => o.op === OP.acquire).map((o) => o.outcome);
    expect(acquires).toEqual([OUT.ok, OUT.blocked, OUT.blocked, OUT.unblocked, OUT.unblocked]);
    expect(mu.ops.filter((o) => o.op === OP.release)).toHaveLength(3);
    expect(mu.maxLevel).toBe(1);
  });

  test("timers fire in deadline order after cancellations from the middle of the heap", () => {
    const timers = byName(m, "f-timer");
    expect(timers).toHaveLength(24);
    expect(timers.filter((t) => t.end === "cancel")).toHaveLength(6);
    for (const t of timers.filter((t) => t.end === "cancel")) {
      expect(t.polls).toBe(1); // armed, then cancelled while sleeping
      expect(d.events.kind[t.endAt! - 1]).toBe(E.WAKER_DROP);
    }
    // Each surviving timer was woken from outside (the timer) exactly once.
    for (const t of timers.filter((t) => t.end === "done")) {
      expect(rows(d, (k, task, _a, i) => k === E.WAKE_EXT && task === t.id && i > t.spawnAt && i < t.endAt!)).toHaveLength(1);
    }
  });

  test("a waker that outlives its task is released without waking anything", () => {
    const leaker = one("e-leaker");
    const late = one("e-late");
    const drops = rows(d, (k, t) => k === E.WAKER_DROP && t === leaker.id);
    expect(drops).toHaveLength(1);
    expect(drops[0]!).toBeGreaterThan(leaker.endAt!);
    expect(rows(d, (k, t, _a, i) => k >= E.WAKE_TASK && k <= E.WAKE_EXT && t === leaker.id && i > leaker.endAt!)).toEqual([]);
    expect(late.end).toBe("done");
  });
});

describe("stuck runs", () => {
  test("run() returns RUN_STUCK instead of hanging; the stuck tasks can be listed and cancelled", async () => {
    requireBuilt(STUCK);
    const r = await runWasiModule(STUCK);
    expect(r.exitCode).toBe(0);
    const d = decodeTrace(r.bytes);
    const m = analyse(d);
    const match =
      /^stuck: status=1 live=2 (\d+)@(\d+)\/(\d+) (\d+)@(\d+)\/(\d+); after cancel: status=0 live=0; with a timer armed: status=2 live=2; after cancel: status=0 live=0\n$/.exec(
        r.stdout,
      );
    expect(match, r.stdout).not.toBeNull();
    const [, id1, site1, res1, id2, site2, res2] = match!.map(Number);
    const recv = byName(m, "stuck-recv")[0]!;
    const lost = byName(m, "stuck-lost")[0]!;
    expect([id1, id2]).toEqual([recv.id, lost.id]);
    expect(d.names.get(site1!)).toBe("stuck: recv never");
    expect(res1).toBe(resourceNamed(m, "never").id);
    expect(d.names.get(site2!)).toBe("stuck: lost wake-up");
    expect(res2).toBe(0);
    // The signatures a report can use: the deadlocked task still has a stored waker, the task
    // with the lost wake-up has none (nothing can ever wake it).
    const lastPoll = (t: Incarnation) => rows(d, (k, task) => k === E.POLL_BEGIN && task === t.id).at(-1)!;
    const liveAt = (t: Incarnation, at: number) =>
      rows(d, (k, task, _a, i) => task === t.id && i < at && (k === E.WAKER_CLONE || k === E.WAKER_DROP)).reduce(
        (s, i) => s + (d.events.kind[i] === E.WAKER_CLONE ? 1 : -1),
        0,
      );
    const cancelAt = Math.min(recv.endAt!, lost.endAt!);
    expect(liveAt(recv, cancelAt - 1)).toBe(1);
    expect(liveAt(lost, cancelAt - 1)).toBe(0);
    expect(lastPoll(recv)).toBeLessThan(cancelAt);
    expect(recv.end).toBe("cancel");
    expect(lost.end).toBe("cancel");
    checkComplete(d, m); // after cancelling, every waker is released

    // Second run: a periodic task keeps a timer armed, so only the deadline (20 ms) ends it.
    const periodic = byName(m, "periodic")[0]!;
    const recv2 = byName(m, "stuck-recv")[1]!;
    expect(periodic.end).toBe("cancel");
    expect(recv2.end).toBe("cancel");
    const ms = (d.events.t[periodic.endAt!]! - d.events.t[periodic.spawnAt]!) / 1e6;
    expect(ms).toBeGreaterThanOrEqual(19);
    expect(periodic.polls).toBeGreaterThanOrEqual(5); // ticked every 2 ms meanwhile
    expect(d.events.kind[periodic.endAt! - 1]).toBe(E.WAKER_DROP); // its armed timer released
  });
});

describe("device build", () => {
  test("the executor runs without WASI (spinning idle) and records the same way", async () => {
    requireBuilt(DEVICE);
    const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(DEVICE)));
    expect(imports.map((i) => `${i.module}.${i.name}`)).toEqual(["taskscope.clock"]);
    const r = await runDeviceModule(DEVICE, "main");
    expect(r.result).toBe(0);
    const d = decodeTrace(r.bytes);
    const m = analyse(d);
    checkComplete(d, m);
    expect(m.tasks.map((t) => t.name)).toEqual(["ticker", "sink"]);
    expect(d.info.chunkCount).toBe(8);
    expect(m.count.get(E.IDLE_BEGIN)).toBeGreaterThanOrEqual(4);
  });
});

describe("build script", () => {
  test("the entries table lists every module this file needs, in the documented shape", async () => {
    const path: string = "../firmware-examples/build.mjs";
    const { ENTRIES } = (await import(path)) as { ENTRIES: { entry: string; out: string; target: string; use?: string[] }[] };
    for (const e of ENTRIES) {
      expect(typeof e.entry).toBe("string");
      expect(e.out).toMatch(/^build\/.+\.wasm$/);
      expect(["wasi", "device"]).toContain(e.target);
      if (e.use) expect(e.use.every((u) => /^\w+=/.test(u))).toBe(true);
    }
    const outs = ENTRIES.map((e) => e.out);
    expect(new Set(outs).size).toBe(outs.length);
    for (const p of [DEMO, BASIC, STUCK, DEVICE]) expect(outs).toContain(p);
  });
});
