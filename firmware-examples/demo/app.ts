// The demo application's tasks, shared by every scenario. A scenario builds a DemoConfig, turns
// knobs (or swaps a task for a faulty variant), spawns the "main" task and runs the executor.
//
//   main ──┬─ heartbeat        periodic timer, a counter and a log line
//          ├─ producer ──queue (cap 4)──> consumer     producer is faster: backpressure
//          ├─ http-client ──requests──> http-server ──┬─ worker ┐  per request (one flow):
//          │                                          ├─ worker ├─ CPU work, "db" mutex, sleep
//          │                                          └─ worker ┘  then joined by the server
//          └─ joins them all, stops the heartbeat, ends
//
// Nothing here records events itself except the application-level log lines, counters and the
// request flows: spawns, polls, wakes, waits and resource operations come from the executor.

import * as ts from "../../core/index";
import { Executor, Task, Context, Channel, Mutex, Sleep } from "../executor/index";

// Names are interned once at start-up; the hot paths carry the small ids.
export const T_MAIN = ts.taskName("main");
export const T_HEARTBEAT = ts.taskName("heartbeat");
export const T_PRODUCER = ts.taskName("producer");
export const T_CONSUMER = ts.taskName("consumer");
export const T_CLIENT = ts.taskName("http-client");
export const T_SERVER = ts.taskName("http-server");
export const T_WORKER = ts.taskName("worker");

export const SITE_MAIN_JOIN = ts.siteName("main: join children");
export const SITE_HEARTBEAT_TICK = ts.siteName("heartbeat: wait tick");
export const SITE_PRODUCER_SEND = ts.siteName("producer: send item");
export const SITE_CONSUMER_RECV = ts.siteName("consumer: recv item");
export const SITE_CONSUMER_WORK = ts.siteName("consumer: process item");
export const SITE_CLIENT_THINK = ts.siteName("http-client: think time");
export const SITE_CLIENT_SEND = ts.siteName("http-client: send request");
export const SITE_SERVER_RECV = ts.siteName("http-server: recv request");
export const SITE_SERVER_JOIN = ts.siteName("http-server: join workers");
export const SITE_WORKER_YIELD = ts.siteName("worker: yield");
export const SITE_WORKER_LOCK = ts.siteName("worker: lock db");
export const SITE_WORKER_QUERY = ts.siteName("worker: db query");
export const SITE_AUDIT_ACK = ts.siteName("audit: wait ack");
export const T_AUDIT = ts.taskName("audit");

export const FLOW_STATUS = ts.flowName("GET /status");
export const FLOW_USERS = ts.flowName("GET /users");
export const FLOW_ORDER = ts.flowName("POST /orders");

export const LOG_HEARTBEAT = ts.logFormat("heartbeat {}: queue depth {}");
export const LOG_REQUEST_DONE = ts.logFormat("request {} done with {} workers");
export const LOG_SHUTDOWN = ts.logFormat("shutdown: {} requests served, {} items consumed");
export const COUNTER_SERVED = ts.counterName("requests served");
export const COUNTER_QUEUE = ts.counterName("queue depth");

export const LEVEL_DEBUG: u8 = 1;
export const LEVEL_INFO: u8 = 2;

/** Knobs a scenario may turn before App.start(). Defaults: the clean run, ~0.7 s, ~13k events. */
export class DemoConfig {
  requests: i32 = 32;
  /** Time between requests sent by the client. */
  requestGapMs: u32 = 20;
  /** Items the producer sends to the consumer. */
  items: i32 = 600;
  queueCapacity: i32 = 4;
  /** Producer CPU time per item (it is the faster side). */
  produceUs: u32 = 20;
  /** Consumer time per item, sleeping (it is the slower side). */
  consumeMs: u32 = 1;
  heartbeatMs: u32 = 25;
  /** CPU time each worker spends, split in two halves around a yield. */
  workUs: u32 = 120;
  /** How long a worker holds the shared db mutex (sleeping, like a query). */
  dbQueryMs: u32 = 1;
  /** Scenario "leak": every auditEvery-th request also spawns an audit task that waits for an
   *  acknowledgement nobody sends (0: never). */
  auditEvery: u32 = 0;
}

/** Spins for `us` microseconds of CPU, like real work would (without yielding). */
export function busyFor(ex: Executor, us: u32): u32 {
  const end = ts.now() + ex.ticksFromUs(us);
  let x: u32 = 0x9e3779b9;
  while (ts.now() < end) {
    for (let i = 0; i < 64; i++) x = (x ^ (x << 13)) * 0x5bd1e995;
  }
  return x;
}

/** Shared state and resources of one run. */
export class App {
  readonly queue: Channel<u32>;
  readonly requests: Channel<u32>;
  readonly db: Mutex;
  /** Created only when cfg.auditEvery > 0 (the clean trace stays as it was). */
  auditAcks: Channel<u32> | null = null;
  served: i32 = 0;
  consumed: i32 = 0;
  stopping: bool = false;

  /** Creates the resources; call after ts.init() and after constructing the executor. */
  constructor(readonly ex: Executor, readonly cfg: DemoConfig) {
    this.queue = new Channel<u32>("queue", cfg.queueCapacity);
    this.requests = new Channel<u32>("requests", 8);
    this.db = new Mutex("db");
    if (cfg.auditEvery > 0) this.auditAcks = new Channel<u32>("audit-acks", 4);
  }

  /** Spawns the root task from outside any task (parent 0). */
  start(): u32 {
    return this.ex.spawn(new MainTask(this), T_MAIN);
  }
}

/** Spawns the services, waits for the finite ones, then stops the heartbeat. */
export class MainTask extends Task {
  private state: i32 = 0;
  private heartbeat: u32 = 0;
  private children: StaticArray<u32> = new StaticArray<u32>(4);
  private joined: i32 = 0;

  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    const app = this.app;
    const ex = app.ex;
    if (this.state == 0) {
      this.heartbeat = ex.spawn(new Heartbeat(app), T_HEARTBEAT);
      this.children[0] = ex.spawn(new Producer(app), T_PRODUCER);
      this.children[1] = ex.spawn(new Consumer(app), T_CONSUMER);
      this.children[2] = ex.spawn(new HttpClient(app), T_CLIENT);
      this.children[3] = ex.spawn(new HttpServer(app), T_SERVER);
      this.state = 1;
    }
    if (this.state == 1) {
      while (this.joined < this.children.length) {
        if (!ex.join(cx, this.children[this.joined], SITE_MAIN_JOIN)) return false;
        this.joined++;
      }
      app.stopping = true;
      this.state = 2;
    }
    if (!ex.join(cx, this.heartbeat, SITE_MAIN_JOIN)) return false;
    ts.log2(LOG_SHUTDOWN, LEVEL_INFO, app.served, app.consumed);
    return true;
  }
}

/** Ticks every heartbeatMs (drift-free), samples the queue depth, logs every 10th beat. */
export class Heartbeat extends Task {
  private sleep: Sleep = new Sleep();
  private beats: i64 = 0;
  private started: bool = false;

  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    const ex = this.app.ex;
    if (!this.started) {
      this.sleep.startMs(this.app.cfg.heartbeatMs);
      this.started = true;
    }
    while (this.sleep.poll(cx, SITE_HEARTBEAT_TICK)) {
      this.beats++;
      const depth = <i64>this.app.queue.length;
      ts.counter(COUNTER_QUEUE, depth);
      if (this.beats % 10 == 0) ts.log2(LOG_HEARTBEAT, LEVEL_INFO, this.beats, depth);
      if (this.app.stopping) return true;
      this.sleep.until(this.sleep.deadline + ex.ticksFromMs(this.app.cfg.heartbeatMs));
    }
    return false;
  }
}

/** Produces `items` numbered items as fast as it can; the bounded queue holds it back. */
export class Producer extends Task {
  private next: u32 = 1;
  private pending: bool = false; // an item is computed but not yet sent

  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    const app = this.app;
    while (this.next <= <u32>app.cfg.items) {
      if (!this.pending) {
        busyFor(app.ex, app.cfg.produceUs);
        this.pending = true;
      }
      if (!app.queue.send(cx, this.next, SITE_PRODUCER_SEND)) return false;
      this.pending = false;
      this.next++;
    }
    return true;
  }
}

/** Takes items off the queue and spends consumeMs on each (sleeping, like I/O). */
export class Consumer extends Task {
  private sleep: Sleep = new Sleep();
  private working: bool = false;

  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    const app = this.app;
    while (app.consumed < app.cfg.items) {
      if (!this.working) {
        if (!app.queue.recv(cx, SITE_CONSUMER_RECV)) return false;
        this.sleep.startMs(app.cfg.consumeMs);
        this.working = true;
      }
      if (!this.sleep.poll(cx, SITE_CONSUMER_WORK)) return false;
      this.working = false;
      app.consumed++;
    }
    return true;
  }
}

/** Sends `requests` request numbers to the server, one every requestGapMs. */
export class HttpClient extends Task {
  private sleep: Sleep = new Sleep();
  private next: u32 = 1;
  private thinking: bool = false;

  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    const app = this.app;
    while (this.next <= <u32>app.cfg.requests) {
      if (!this.thinking) {
        this.sleep.startMs(app.cfg.requestGapMs);
        this.thinking = true;
      }
      if (!this.sleep.poll(cx, SITE_CLIENT_THINK)) return false;
      if (!app.requests.send(cx, this.next, SITE_CLIENT_SEND)) return false;
      this.thinking = false;
      this.next++;
    }
    return true;
  }
}

/** Requests come in three kinds; the kind decides the flow name and how many workers serve it. */
export function requestFlowName(request: u32): u32 {
  const k = request % 4;
  return k == 3 ? FLOW_ORDER : k == 1 ? FLOW_USERS : FLOW_STATUS;
}

export function requestWorkers(request: u32): i32 {
  return request % 4 == 3 ? 3 : 2;
}

/** Serves requests one at a time: each is a flow, fanned out to workers that are joined before
 *  the response. Worker objects are reused across requests (no allocation per request). */
export class HttpServer extends Task {
  private state: i32 = 0;
  private request: u32 = 0;
  private flow: u32 = 0;
  private workers: StaticArray<Worker> = new StaticArray<Worker>(3);
  private handles: StaticArray<u32> = new StaticArray<u32>(3);
  private fanout: i32 = 0;
  private joined: i32 = 0;

  constructor(readonly app: App) {
    super();
    for (let i = 0; i < 3; i++) this.workers[i] = new Worker(app);
  }

  poll(cx: Context): bool {
    const app = this.app;
    const ex = app.ex;
    while (true) {
      if (this.state == 0) {
        if (app.served >= app.cfg.requests) return true;
        if (!app.requests.recv(cx, SITE_SERVER_RECV)) return false;
        this.request = app.requests.received;
        this.flow = ts.flowBegin(requestFlowName(this.request));
        this.fanout = requestWorkers(this.request);
        for (let i = 0; i < this.fanout; i++) {
          const w = this.workers[i];
          w.reset(this.request, i);
          this.handles[i] = ex.spawn(w, T_WORKER);
        }
        // The leak: the audit task is spawned and forgotten (no handle kept, nothing ever
        // sends the acknowledgement it waits for).
        if (app.cfg.auditEvery > 0 && this.request % app.cfg.auditEvery == 0) ex.spawn(new Audit(app), T_AUDIT);
        this.joined = 0;
        this.state = 1;
      }
      while (this.joined < this.fanout) {
        if (!ex.join(cx, this.handles[this.joined], SITE_SERVER_JOIN)) return false;
        this.joined++;
      }
      app.served++;
      ts.log2(LOG_REQUEST_DONE, LEVEL_DEBUG, this.request, this.fanout);
      ts.counter(COUNTER_SERVED, app.served);
      ts.flowEnd(this.flow);
      this.state = 0;
    }
  }
}

/** One piece of a request: CPU work with a yield in the middle, then a "query" holding the
 *  shared db mutex. */
export class Worker extends Task {
  private state: i32 = 0;
  private sleep: Sleep = new Sleep();
  request: u32 = 0;
  part: i32 = 0;

  constructor(readonly app: App) {
    super();
  }

  reset(request: u32, part: i32): void {
    this.state = 0;
    this.request = request;
    this.part = part;
  }

  poll(cx: Context): bool {
    const app = this.app;
    const half = app.cfg.workUs / 2;
    if (this.state == 0) {
      busyFor(app.ex, half);
      this.state = 1;
      cx.yieldNow(SITE_WORKER_YIELD);
      return false;
    }
    if (this.state == 1) {
      busyFor(app.ex, half);
      this.state = 2;
    }
    if (this.state == 2) {
      if (!app.db.lock(cx, SITE_WORKER_LOCK)) return false;
      this.sleep.startMs(app.cfg.dbQueryMs);
      this.state = 3;
    }
    if (!this.sleep.poll(cx, SITE_WORKER_QUERY)) return false;
    app.db.unlock();
    return true;
  }

  onCancel(): void {
    // Cancelled mid-query: give the db back so the other workers are not stuck behind us.
    if (this.state == 3) this.app.db.unlock(); // state 3: the lock is ours
  }
}

/** Scenario "leak": waits for an acknowledgement of its request that never comes. */
export class Audit extends Task {
  constructor(readonly app: App) {
    super();
  }

  poll(cx: Context): bool {
    return this.app.auditAcks!.recv(cx, SITE_AUDIT_ACK);
  }
}
