// The two server workloads every bench figure is measured on, written as real trace files with
// the reference encoder (test/support/wire-encoder.ts) and TraceWriter:
//
// - "fixed": a fixed population (clients, a worker pool, a ticker: 57 tasks spawned at start-up,
//   none after), one request flow per job. Memory can only grow with the trace if something
//   keeps per-event data.
// - "spawn": a task spawned per request, as most real servers do: a listener accepts, begins the
//   request's flow and spawns a handler that takes a db mutex (contended: the releasing handler
//   wakes the next), waits for its query on a timer (now and then woken from an interrupt
//   handler), writes the response and ends. Handler ids are reused lowest-free-first, as an
//   executor's slab would (the device has at most 256 task slots). About 35 events per request:
//   10 M events make about 285,000 task incarnations. Memory that follows every task that ever
//   lived grows with this trace.

import { EVENT, NAME_KIND, RESOURCE_KIND, RESOURCE_OP, RESOURCE_OUTCOME } from "../host/format/spec.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { ChunkStreamEncoder, prng, type WireEvent } from "../test/support/wire-encoder.js";

export type WorkloadKind = "fixed" | "spawn";

export const WORKLOADS: readonly WorkloadKind[] = ["fixed", "spawn"];

export const WORKLOAD_NAMES: Record<WorkloadKind, string> = {
  fixed: "fixed population (57 tasks)",
  spawn: "a task spawned per request",
};

const CHUNK_SIZE = 256;
const CHUNKS_PER_ITEM = 64;

/** Writes exactly `count` events of a workload as a trace file, streaming (chunks are written as
 *  they fill, never all held). */
export function writeWorkload(path: string, count: number, kind: WorkloadKind = "fixed"): void {
  const writer = new TraceWriter(path);
  writer.header({ tool: `bench/${kind}`, source: "synthetic" });
  const session = writer.session({
    deviceSession: 1, format: 1, tickHz: 1_000_000, device: "bench", firmware: kind === "fixed" ? "server workload" : "spawning server",
    mode: "overwrite", chunkSize: CHUNK_SIZE, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, filter: 0x7ff,
    anchor: { ticks: 0, unixNs: 1_767_225_600_000_000_000n },
  });
  const w = kind === "fixed" ? fixedWorkload() : spawnWorkload();
  writer.names(session, w.names);
  let pending: Uint8Array[] = [];
  const encoder = new ChunkStreamEncoder({ chunkSize: CHUNK_SIZE }, (payload) => {
    pending.push(payload);
    if (pending.length === CHUNKS_PER_ITEM) {
      writer.chunks(session, pending);
      pending = [];
    }
  });
  let written = 0;
  for (const e of w.events) {
    if (written >= count) break;
    encoder.add(e);
    written++;
  }
  encoder.flush();
  if (pending.length > 0) writer.chunks(session, pending);
  writer.footer({ reason: "bench", events: count });
  writer.close();
}

interface Workload {
  names: { id: number; kind: number; text: string }[];
  /** Endless: the writer stops it. */
  events: Generator<WireEvent>;
}

class Names {
  readonly list: { id: number; kind: number; text: string }[] = [];
  add(kind: number, text: string): number {
    this.list.push({ id: this.list.length + 1, kind, text });
    return this.list.length;
  }
}

/** Event times: mostly a few µs apart, now and then a gap (idle, network). */
function clock(seed: number): { random: () => number; ev: (tag: number, fields?: Record<string, number>, args?: number[]) => WireEvent } {
  const random = prng(seed);
  let ticks = 1000;
  return {
    random,
    ev: (tag, fields, args) => {
      ticks += 1 + Math.floor(random() * (random() < 0.95 ? 30 : 3000));
      return { tag, ticks, ...(fields ? { fields } : {}), ...(args ? { args } : {}) };
    },
  };
}

// ---- fixed population ----------------------------------------------------------------------

function fixedWorkload(seed = 7): Workload {
  const n = new Names();
  const CLIENT = n.add(NAME_KIND.task, "client");
  const WORKER = n.add(NAME_KIND.task, "worker");
  const TICKER = n.add(NAME_KIND.task, "ticker");
  const SITE = {
    think: n.add(NAME_KIND.site, "client: think"),
    send: n.add(NAME_KIND.site, "client: send job"),
    recv: n.add(NAME_KIND.site, "worker: recv job"),
    lock: n.add(NAME_KIND.site, "worker: lock db"),
    query: n.add(NAME_KIND.site, "worker: query"),
    tick: n.add(NAME_KIND.site, "ticker: tick"),
  };
  const JOBS = n.add(NAME_KIND.resource, "jobs");
  const DB = n.add(NAME_KIND.resource, "db");
  const TIMER = n.add(NAME_KIND.resource, "timer");
  const FLOWS = [n.add(NAME_KIND.flow, "GET /status"), n.add(NAME_KIND.flow, "GET /users"), n.add(NAME_KIND.flow, "POST /orders")];
  const DONE = n.add(NAME_KIND.format, "job {} done in {} us");
  return { names: n.list, events: fixedEvents(seed, { CLIENT, WORKER, TICKER, SITE, JOBS, DB, TIMER, FLOWS, DONE }) };
}

const CLIENTS = 8;
const WORKERS = 48;
const RES = { jobs: 1, db: 2, timer: 3 };

/** A server at steady state: clients start requests (a flow each) and hand them to a worker pool
 *  over a bounded channel; a worker takes the db mutex, waits for its query on a timer, releases,
 *  ends the flow and logs. A ticker wakes every so often. No task is spawned after start-up. */
function* fixedEvents(
  seed: number,
  id: { CLIENT: number; WORKER: number; TICKER: number; SITE: Record<"think" | "send" | "recv" | "lock" | "query" | "tick", number>; JOBS: number; DB: number; TIMER: number; FLOWS: number[]; DONE: number },
): Generator<WireEvent> {
  const { random, ev } = clock(seed);
  const SITE = id.SITE;
  const client = (i: number) => 1 + i;
  const worker = (i: number) => 1 + CLIENTS + i;
  const tickerId = 1 + CLIENTS + WORKERS;
  yield ev(EVENT.RES_CREATE, { res: RES.jobs, kind: RESOURCE_KIND.channel, name: id.JOBS, capacity: 8 });
  yield ev(EVENT.RES_CREATE, { res: RES.db, kind: RESOURCE_KIND.mutex, name: id.DB, capacity: 1 });
  yield ev(EVENT.RES_CREATE, { res: RES.timer, kind: RESOURCE_KIND.timer, name: id.TIMER, capacity: 64 });
  for (let i = 0; i < CLIENTS; i++) yield ev(EVENT.SPAWN, { task: client(i), parent: 0, name: id.CLIENT, flow: 0 });
  for (let i = 0; i < WORKERS; i++) yield ev(EVENT.SPAWN, { task: worker(i), parent: 0, name: id.WORKER, flow: 0 });
  yield ev(EVENT.SPAWN, { task: tickerId, parent: 0, name: id.TICKER, flow: 0 });
  // Everybody parks once, holding a waker.
  for (let t = 1; t <= tickerId; t++) {
    yield ev(EVENT.POLL_BEGIN, { task: t });
    yield ev(EVENT.WAKER_CLONE, { task: t });
    yield ev(EVENT.AWAIT, { site: t <= CLIENTS ? SITE.think : t === tickerId ? SITE.tick : SITE.recv, resource: t > CLIENTS && t < tickerId ? RES.jobs : RES.timer });
    yield ev(EVENT.POLL_PENDING);
  }
  let flow = 0;
  const busy: number[] = []; // workers holding a request: [worker index, flow]
  let nextWorker = 0;
  for (;;) {
    // A client starts a request and hands it to the next worker.
    const c = client(Math.floor(random() * CLIENTS));
    const w = nextWorker;
    nextWorker = (nextWorker + 1) % WORKERS;
    flow++;
    yield ev(EVENT.WAKE_EXT, { target: c });
    yield ev(EVENT.WAKER_DROP, { task: c });
    yield ev(EVENT.POLL_BEGIN, { task: c });
    yield ev(EVENT.FLOW_BEGIN, { flow, name: id.FLOWS[flow % 3]! });
    yield ev(EVENT.RES_OP, { res: RES.jobs, op: RESOURCE_OP.send, outcome: RESOURCE_OUTCOME.ok, level: 1 });
    yield ev(EVENT.WAKE_TASK, { target: worker(w), by: c });
    yield ev(EVENT.WAKER_DROP, { task: worker(w) });
    yield ev(EVENT.FLOW_ENTER, { task: c, flow: 0 });
    yield ev(EVENT.WAKER_CLONE, { task: c });
    yield ev(EVENT.AWAIT, { site: SITE.think, resource: RES.timer });
    yield ev(EVENT.POLL_PENDING);
    // The worker takes the job and starts its query.
    yield ev(EVENT.POLL_BEGIN, { task: worker(w) });
    yield ev(EVENT.RES_OP, { res: RES.jobs, op: RESOURCE_OP.recv, outcome: RESOURCE_OUTCOME.ok, level: 0 });
    yield ev(EVENT.FLOW_ENTER, { task: worker(w), flow });
    yield ev(EVENT.WAKER_CLONE, { task: worker(w) });
    yield ev(EVENT.AWAIT, { site: SITE.query, resource: RES.timer });
    yield ev(EVENT.POLL_PENDING);
    busy.push(w, flow);
    // Older requests finish (a few in flight at a time).
    while (busy.length > 6) {
      const bw = busy.shift()!;
      const bf = busy.shift()!;
      yield ev(EVENT.WAKE_EXT, { target: worker(bw) });
      yield ev(EVENT.WAKER_DROP, { task: worker(bw) });
      yield ev(EVENT.POLL_BEGIN, { task: worker(bw) });
      yield ev(EVENT.RES_OP, { res: RES.db, op: RESOURCE_OP.acquire, outcome: RESOURCE_OUTCOME.ok, level: 1 });
      yield ev(EVENT.RES_OP, { res: RES.db, op: RESOURCE_OP.release, outcome: RESOURCE_OUTCOME.ok, level: 0 });
      yield ev(EVENT.FLOW_END, { flow: bf });
      if (random() < 0.2) yield ev(EVENT.LOG, { format: id.DONE, level: 1 }, [bf, Math.floor(random() * 900)]);
      yield ev(EVENT.FLOW_ENTER, { task: worker(bw), flow: 0 });
      yield ev(EVENT.WAKER_CLONE, { task: worker(bw) });
      yield ev(EVENT.AWAIT, { site: SITE.recv, resource: RES.jobs });
      yield ev(EVENT.POLL_PENDING);
    }
    if (random() < 0.05) {
      yield ev(EVENT.WAKE_EXT, { target: tickerId });
      yield ev(EVENT.WAKER_DROP, { task: tickerId });
      yield ev(EVENT.POLL_BEGIN, { task: tickerId });
      yield ev(EVENT.WAKER_CLONE, { task: tickerId });
      yield ev(EVENT.AWAIT, { site: SITE.tick, resource: RES.timer });
      yield ev(EVENT.POLL_PENDING);
      yield ev(EVENT.IDLE_BEGIN);
      yield ev(EVENT.IDLE_END);
    }
  }
}

// ---- a task spawned per request ------------------------------------------------------------

const LISTENER = 1;
const FIRST_HANDLER = 8;
const HANDLER_SLOTS = 240;
const IN_FLIGHT = 8;
const IRQ_TIMER = 3;
const SPAWN_RES = { socket: 1, db: 2, timer: 3, responses: 4 };

interface Request {
  task: number;
  flow: number;
  /** What the handler waits for: the db lock, its query, its response write. */
  stage: "lock" | "query" | "write";
}

function spawnWorkload(seed = 11): Workload {
  const n = new Names();
  const name = {
    listener: n.add(NAME_KIND.task, "listener"),
    handler: n.add(NAME_KIND.task, "handler"),
    accept: n.add(NAME_KIND.site, "listener: accept"),
    lock: n.add(NAME_KIND.site, "handler: lock db"),
    query: n.add(NAME_KIND.site, "handler: query"),
    write: n.add(NAME_KIND.site, "handler: write response"),
    socket: n.add(NAME_KIND.resource, "socket"),
    db: n.add(NAME_KIND.resource, "db"),
    timer: n.add(NAME_KIND.resource, "timer"),
    responses: n.add(NAME_KIND.resource, "responses"),
    flows: [n.add(NAME_KIND.flow, "GET /status"), n.add(NAME_KIND.flow, "GET /users"), n.add(NAME_KIND.flow, "POST /orders")],
    took: n.add(NAME_KIND.format, "request {} took {} us"),
    inFlight: n.add(NAME_KIND.counter, "requests in flight"),
  };
  return { names: n.list, events: spawnEvents(seed, name) };
}

function* spawnEvents(seed: number, name: {
  listener: number; handler: number; accept: number; lock: number; query: number; write: number;
  socket: number; db: number; timer: number; responses: number; flows: number[]; took: number; inFlight: number;
}): Generator<WireEvent> {
  const { random, ev } = clock(seed);
  const free = new Set<number>();
  for (let id = FIRST_HANDLER; id < FIRST_HANDLER + HANDLER_SLOTS; id++) free.add(id);
  const lowestFree = (): number => {
    for (let id = FIRST_HANDLER; ; id++) if (free.has(id)) return id;
  };
  yield ev(EVENT.RES_CREATE, { res: SPAWN_RES.socket, kind: RESOURCE_KIND.io, name: name.socket, capacity: 0 });
  yield ev(EVENT.RES_CREATE, { res: SPAWN_RES.db, kind: RESOURCE_KIND.mutex, name: name.db, capacity: 1 });
  yield ev(EVENT.RES_CREATE, { res: SPAWN_RES.timer, kind: RESOURCE_KIND.timer, name: name.timer, capacity: 64 });
  yield ev(EVENT.RES_CREATE, { res: SPAWN_RES.responses, kind: RESOURCE_KIND.channel, name: name.responses, capacity: 16 });
  yield ev(EVENT.SPAWN, { task: LISTENER, parent: 0, name: name.listener, flow: 0 });
  yield ev(EVENT.POLL_BEGIN, { task: LISTENER });
  yield ev(EVENT.WAKER_CLONE, { task: LISTENER });
  yield ev(EVENT.AWAIT, { site: name.accept, resource: SPAWN_RES.socket });
  yield ev(EVENT.POLL_PENDING);

  const inFlight: Request[] = [];
  const lockWaiters: Request[] = [];
  let dbHolder: Request | undefined;
  let flow = 0;
  let responses = 0;

  // The handler's poll that takes the db lock (first poll, or after the holder woke it).
  function* lockAndQuery(r: Request, woken: boolean): Generator<WireEvent> {
    if (dbHolder && !woken) {
      yield ev(EVENT.RES_OP, { res: SPAWN_RES.db, op: RESOURCE_OP.acquire, outcome: RESOURCE_OUTCOME.blocked, level: 1 });
      yield ev(EVENT.WAKER_CLONE, { task: r.task });
      yield ev(EVENT.AWAIT, { site: name.lock, resource: SPAWN_RES.db });
      yield ev(EVENT.POLL_PENDING);
      r.stage = "lock";
      lockWaiters.push(r);
      return;
    }
    dbHolder = r;
    yield ev(EVENT.RES_OP, { res: SPAWN_RES.db, op: RESOURCE_OP.acquire, outcome: woken ? RESOURCE_OUTCOME.unblocked : RESOURCE_OUTCOME.ok, level: 1 });
    yield ev(EVENT.WAKER_CLONE, { task: r.task });
    yield ev(EVENT.AWAIT, { site: name.query, resource: SPAWN_RES.timer });
    yield ev(EVENT.POLL_PENDING);
    r.stage = "query";
  }

  for (;;) {
    if (inFlight.length < IN_FLIGHT) {
      // A connection: the listener begins the request's flow and spawns its handler.
      const r: Request = { task: lowestFree(), flow: ++flow, stage: "lock" };
      free.delete(r.task);
      yield ev(EVENT.WAKE_EXT, { target: LISTENER });
      yield ev(EVENT.WAKER_DROP, { task: LISTENER });
      yield ev(EVENT.POLL_BEGIN, { task: LISTENER });
      yield ev(EVENT.RES_OP, { res: SPAWN_RES.socket, op: RESOURCE_OP.recv, outcome: RESOURCE_OUTCOME.ok, level: 0 });
      yield ev(EVENT.FLOW_BEGIN, { flow: r.flow, name: name.flows[r.flow % 3]! });
      yield ev(EVENT.SPAWN, { task: r.task, parent: LISTENER, name: name.handler, flow: r.flow });
      yield ev(EVENT.FLOW_ENTER, { task: LISTENER, flow: 0 });
      yield ev(EVENT.WAKER_CLONE, { task: LISTENER });
      yield ev(EVENT.AWAIT, { site: name.accept, resource: SPAWN_RES.socket });
      yield ev(EVENT.POLL_PENDING);
      inFlight.push(r);
      // The new handler runs at once.
      yield ev(EVENT.POLL_BEGIN, { task: r.task });
      yield ev(EVENT.MEM, { task: r.task, bytes: 512 + Math.floor(random() * 1536) });
      yield* lockAndQuery(r, false);
      if (random() < 0.1) yield ev(EVENT.COUNTER, { name: name.inFlight, value: inFlight.length });
      continue;
    }
    // The oldest request that is not waiting for the lock moves on.
    const r = inFlight.find((x) => x.stage !== "lock")!;
    if (r.stage === "query") {
      // Its query is done: the timer wakes it (now and then from the timer's interrupt handler).
      if (random() < 0.1) {
        yield ev(EVENT.ISR_ENTER, { irq: IRQ_TIMER });
        yield ev(EVENT.WAKE_IRQ, { target: r.task, irq: IRQ_TIMER });
        yield ev(EVENT.ISR_EXIT, { irq: IRQ_TIMER });
      } else {
        yield ev(EVENT.WAKE_EXT, { target: r.task });
      }
      yield ev(EVENT.WAKER_DROP, { task: r.task });
      yield ev(EVENT.POLL_BEGIN, { task: r.task });
      yield ev(EVENT.RES_OP, { res: SPAWN_RES.db, op: RESOURCE_OP.release, outcome: RESOURCE_OUTCOME.ok, level: 0 });
      dbHolder = undefined;
      const next = lockWaiters.shift();
      if (next) {
        yield ev(EVENT.WAKE_TASK, { target: next.task, by: r.task });
        yield ev(EVENT.WAKER_DROP, { task: next.task });
      }
      yield ev(EVENT.RES_OP, { res: SPAWN_RES.responses, op: RESOURCE_OP.send, outcome: RESOURCE_OUTCOME.ok, level: ++responses });
      yield ev(EVENT.WAKER_CLONE, { task: r.task });
      yield ev(EVENT.AWAIT, { site: name.write, resource: SPAWN_RES.socket });
      yield ev(EVENT.POLL_PENDING);
      r.stage = "write";
      if (next) {
        // The woken handler takes the lock in its next poll.
        yield ev(EVENT.POLL_BEGIN, { task: next.task });
        yield* lockAndQuery(next, true);
      }
      continue;
    }
    // Its response is written: it ends the request and finishes.
    yield ev(EVENT.WAKE_EXT, { target: r.task });
    yield ev(EVENT.WAKER_DROP, { task: r.task });
    yield ev(EVENT.POLL_BEGIN, { task: r.task });
    yield ev(EVENT.RES_OP, { res: SPAWN_RES.responses, op: RESOURCE_OP.recv, outcome: RESOURCE_OUTCOME.ok, level: --responses });
    if (random() < 0.3) yield ev(EVENT.LOG, { format: name.took, level: 2 }, [r.flow, Math.floor(random() * 2000)]);
    yield ev(EVENT.FLOW_END, { flow: r.flow });
    yield ev(EVENT.POLL_READY);
    yield ev(EVENT.TASK_DONE, { task: r.task });
    inFlight.splice(inFlight.indexOf(r), 1);
    free.add(r.task);
    if (random() < 0.05) {
      yield ev(EVENT.IDLE_BEGIN);
      yield ev(EVENT.IDLE_END);
    }
  }
}
