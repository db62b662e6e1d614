// Analysis throughput and memory: a synthetic server workload (clients, a worker pool, a job
// channel, a db mutex, timers, one request flow per job, logs, idle) written as real trace files
// with the reference encoder and TraceWriter, then read with openTrace(...).forEach feeding a
// TraceModel (the trace-report path). Baseline: the same read without the model, in the same run.
// Memory is measured in a fresh child process per trace length (peak RSS and peak heap while
// analysing), at two lengths, to show it does not grow with the length of the trace.
// Prints nothing: the bench runner reports. Run as a child: `analysis.js --measure FILE`.

import { fork } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { EVENT, NAME_KIND, RESOURCE_KIND, RESOURCE_OP, RESOURCE_OUTCOME, WIRE_FORMAT_VERSION } from "../host/format/spec.js";
import { openTrace } from "../host/tracefile/trace.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { Analyzer } from "../host/model/analyze.js";
import { ChunkStreamEncoder, prng, type WireEvent } from "../test/support/wire-encoder.js";

export interface AnalysisBenchResult {
  /** Events in the large trace. */
  events: number;
  /** openTrace().forEach + TraceModel + lints, best of RUNS. */
  analysisEventsPerSec: number;
  /** openTrace().forEach alone on the same file (decode and read). */
  readEventsPerSec: number;
  /** Trace file bytes per event. */
  fileBytesPerEvent: number;
  /** Memory while analysing, per trace length: the largest live heap (after a full GC, sampled
   *  through the run) and the process's peak RSS. */
  memory: MemoryFigures[];
  /** Largest live heap of the long trace over the short one's (1.0 = no growth). */
  heapGrowth: number;
  lints: number;
}

const LONG = 10_000_000;
const SHORT = 2_000_000;
const RUNS = 3;
const CHUNK_SIZE = 256;
const CHUNKS_PER_ITEM = 64;

export async function benchAnalysis(): Promise<AnalysisBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-analysis-"));
  try {
    const long = join(dir, "long.trace.cbor");
    const short = join(dir, "short.trace.cbor");
    writeWorkload(long, LONG);
    writeWorkload(short, SHORT);

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
    const memory = [await measureInChild(short), await measureInChild(long)];
    return {
      events: LONG,
      analysisEventsPerSec: LONG / analysisS,
      readEventsPerSec: LONG / readS,
      fileBytesPerEvent: statSync(long).size / LONG,
      memory,
      heapGrowth: memory[1]!.liveHeapBytes / memory[0]!.liveHeapBytes,
      lints,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- the workload ----------------------------------------------------------------------------

const CLIENTS = 8;
const WORKERS = 48;
const SITES = ["client: think", "client: send job", "worker: recv job", "worker: lock db", "worker: query", "ticker: tick"];
const FLOWS = ["GET /status", "GET /users", "POST /orders"];

/** Names: tasks, sites, resources, flows, a log format. */
function names(): { id: number; kind: number; text: string }[] {
  const out: { id: number; kind: number; text: string }[] = [];
  const add = (kind: number, text: string) => out.push({ id: out.length + 1, kind, text });
  add(NAME_KIND.task, "client"); // 1
  add(NAME_KIND.task, "worker"); // 2
  add(NAME_KIND.task, "ticker"); // 3
  for (const s of SITES) add(NAME_KIND.site, s); // 4..9
  add(NAME_KIND.resource, "jobs"); // 10
  add(NAME_KIND.resource, "db"); // 11
  add(NAME_KIND.resource, "timer"); // 12
  for (const f of FLOWS) add(NAME_KIND.flow, f); // 13..15
  add(NAME_KIND.format, "job {} done in {} us"); // 16
  return out;
}

const SITE = { think: 4, send: 5, recv: 6, lock: 7, query: 8, tick: 9 };
const RES = { jobs: 1, db: 2, timer: 3 };

/** A server at steady state: clients start requests (a flow each) and hand them to a worker pool
 *  over a bounded channel; a worker takes the db mutex, waits for its query on a timer, releases,
 *  ends the flow and logs. A ticker wakes every so often. No task is ever spawned after start-up,
 *  so the model's size is fixed and memory can only grow if the analysis kept per-event data. */
function* serverWorkload(count: number, seed = 7): Generator<WireEvent> {
  const random = prng(seed);
  let ticks = 1000;
  let n = 0;
  const ev = (tag: number, fields?: Record<string, number>, args?: number[]): WireEvent => {
    ticks += 1 + Math.floor(random() * (random() < 0.95 ? 30 : 3000));
    n++;
    return { tag, ticks, ...(fields ? { fields } : {}), ...(args ? { args } : {}) };
  };
  const client = (i: number) => 1 + i;
  const worker = (i: number) => 1 + CLIENTS + i;
  const tickerId = 1 + CLIENTS + WORKERS;
  yield ev(EVENT.RES_CREATE, { res: RES.jobs, kind: RESOURCE_KIND.channel, name: 10, capacity: 8 });
  yield ev(EVENT.RES_CREATE, { res: RES.db, kind: RESOURCE_KIND.mutex, name: 11, capacity: 1 });
  yield ev(EVENT.RES_CREATE, { res: RES.timer, kind: RESOURCE_KIND.timer, name: 12, capacity: 64 });
  for (let i = 0; i < CLIENTS; i++) yield ev(EVENT.SPAWN, { task: client(i), parent: 0, name: 1, flow: 0 });
  for (let i = 0; i < WORKERS; i++) yield ev(EVENT.SPAWN, { task: worker(i), parent: 0, name: 2, flow: 0 });
  yield ev(EVENT.SPAWN, { task: tickerId, parent: 0, name: 3, flow: 0 });
  // Everybody parks once, holding a waker.
  for (let id = 1; id <= tickerId; id++) {
    yield ev(EVENT.POLL_BEGIN, { task: id });
    yield ev(EVENT.WAKER_CLONE, { task: id });
    yield ev(EVENT.AWAIT, { site: id <= CLIENTS ? SITE.think : id === tickerId ? SITE.tick : SITE.recv, resource: id > CLIENTS && id < tickerId ? RES.jobs : RES.timer });
    yield ev(EVENT.POLL_PENDING);
  }
  let flow = 0;
  const busy: number[] = []; // workers holding a request: [worker index, flow]
  let nextWorker = 0;
  while (n < count) {
    // A client starts a request and hands it to the next worker.
    const c = client(Math.floor(random() * CLIENTS));
    const w = nextWorker;
    nextWorker = (nextWorker + 1) % WORKERS;
    flow++;
    yield ev(EVENT.WAKE_EXT, { target: c });
    yield ev(EVENT.WAKER_DROP, { task: c });
    yield ev(EVENT.POLL_BEGIN, { task: c });
    yield ev(EVENT.FLOW_BEGIN, { flow, name: 13 + (flow % 3) });
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
      if (random() < 0.2) yield ev(EVENT.LOG, { format: 16, level: 1 }, [bf, Math.floor(random() * 900)]);
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

/** Writes exactly `count` events of the workload as a trace file, streaming (chunks are written
 *  as they fill, never all held). */
export function writeWorkload(path: string, count: number): void {
  const writer = new TraceWriter(path);
  writer.header({ tool: "bench/analysis", source: "synthetic" });
  const session = writer.session({
    deviceSession: 1, format: WIRE_FORMAT_VERSION, tickHz: 1_000_000, device: "bench", firmware: "server workload", mode: "overwrite",
    chunkSize: CHUNK_SIZE, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, filter: 0x7ff,
    anchor: { ticks: 0, unixNs: 0n },
  });
  writer.names(session, names());
  let pending: Uint8Array[] = [];
  const encoder = new ChunkStreamEncoder({ chunkSize: CHUNK_SIZE }, (payload) => {
    pending.push(payload);
    if (pending.length === CHUNKS_PER_ITEM) {
      writer.chunks(session, pending);
      pending = [];
    }
  });
  let written = 0;
  for (const e of serverWorkload(Number.POSITIVE_INFINITY)) {
    if (written >= count) break;
    encoder.add(e);
    written++;
  }
  encoder.flush();
  if (pending.length > 0) writer.chunks(session, pending);
  writer.footer({ reason: "bench", events: count });
  writer.close();
}

// ---- memory, measured in a fresh process ----------------------------------------------------

export interface MemoryFigures {
  events: number;
  /** Largest heap still in use after a full GC, sampled every GC_EVERY batches and at the end. */
  liveHeapBytes: number;
  /** Peak resident set of the process (includes garbage awaiting collection and read buffers). */
  peakRssBytes: number;
  tasks: number;
  /** Requests analysed. */
  flows: number;
}

const GC_EVERY = 64;

function measureInChild(path: string): Promise<MemoryFigures> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--measure", path], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
      execArgv: ["--expose-gc"],
    });
    let result: MemoryFigures | undefined;
    child.once("message", (m) => (result = m as MemoryFigures));
    child.once("error", reject);
    child.once("exit", (code) => (result ? resolve(result) : reject(new Error(`memory probe exited ${code}`))));
  });
}

/** In the child: analyse `path`, measuring the live heap now and then. */
function measureHere(path: string): MemoryFigures {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --expose-gc");
  const live = () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
  let liveHeap = live();
  let batches = 0;
  const analyzer = new Analyzer();
  const summary = openTrace(path).forEach((batch, session) => {
    analyzer.consume(batch, session);
    if (++batches % GC_EVERY === 0) liveHeap = Math.max(liveHeap, live());
  });
  analyzer.finish(summary);
  liveHeap = Math.max(liveHeap, live());
  return {
    events: summary.totals.events,
    liveHeapBytes: liveHeap,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    tasks: analyzer.model.tasks.length,
    flows: analyzer.model.flows.finished,
  };
}

if (process.argv[2] === "--measure" && process.argv[3]) {
  process.send!(measureHere(process.argv[3]), () => process.disconnect());
}
