// A server that spawns a task per request, the workload most async firmware has: a load generator
// sends requests (pseudo-random gaps) into the listener's accept queue; the listener spawns a
// handler per request; each handler begins the request's flow, parses it (CPU), takes the shared
// "db" mutex for a query (a sleep), hands its response to the writer through a bounded channel
// and ends. A stats task samples the open-connection count. Handler objects come from a pool, so
// the steady state allocates nothing, but every request is a new task (SPAWN .. TASK_DONE).
//
// Used by `npm run bench` (bytes per event at several clock rates, under WASI) and small enough
// to run on a microcontroller.

import * as ts from "../../core/index";
import { Executor, Task, Context, Channel, Mutex, Sleep, RUN_DONE } from "../executor/index";
import { busyFor } from "../demo/app";

const T_LOADGEN = ts.taskName("loadgen");
const T_LISTENER = ts.taskName("listener");
const T_HANDLER = ts.taskName("handler");
const T_WRITER = ts.taskName("writer");
const T_STATS = ts.taskName("stats");
const SITE_GAP = ts.siteName("loadgen: next arrival");
const SITE_CONNECT = ts.siteName("loadgen: connect");
const SITE_ACCEPT = ts.siteName("listener: accept");
const SITE_SLOT = ts.siteName("listener: wait for a handler slot");
const SITE_LOCK = ts.siteName("handler: lock db");
const SITE_QUERY = ts.siteName("handler: db query");
const SITE_RESPOND = ts.siteName("handler: send response");
const SITE_WRITE = ts.siteName("writer: next response");
const SITE_FLUSH = ts.siteName("writer: flush socket");
const SITE_STATS = ts.siteName("stats: tick");
const FLOW_GET = ts.flowName("GET /item");
const FLOW_PUT = ts.flowName("PUT /item");
const LOG_SLOW = ts.logFormat("request {} waited {} us for the db");
const COUNTER_OPEN = ts.counterName("open requests");

/** Handlers alive at once (the pool); a request beyond it waits in the accept queue. */
const POOL: i32 = 16;

/** xorshift32: the same arrivals on every run. */
class Rng {
  constructor(private x: u32) {}
  next(): u32 {
    let x = this.x;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    this.x = x;
    return x;
  }
}

class Server {
  readonly accept: Channel<u32> = new Channel<u32>("accept", 8);
  readonly responses: Channel<u32> = new Channel<u32>("responses", 4);
  readonly db: Mutex = new Mutex("db");
  readonly pool: StaticArray<Handler> = new StaticArray<Handler>(POOL);
  readonly free: StaticArray<i32> = new StaticArray<i32>(POOL);
  freeCount: i32 = POOL;
  slotWaiter: Sleep = new Sleep();
  open: i32 = 0;
  written: i32 = 0;
  done: bool = false;
  constructor(readonly ex: Executor, readonly requests: i32) {
    for (let i = 0; i < POOL; i++) {
      this.pool[i] = new Handler(this, i);
      this.free[i] = i;
    }
  }
}

class LoadGen extends Task {
  private sleep: Sleep = new Sleep();
  private sent: i32 = 0;
  private waiting: bool = false;
  private rng: Rng = new Rng(0x2545f491);
  constructor(readonly s: Server) {
    super();
  }
  poll(cx: Context): bool {
    while (this.sent < this.s.requests) {
      if (!this.waiting) {
        this.sleep.startUs(200 + (this.rng.next() % 1600)); // ~1 ms apart on average
        this.waiting = true;
      }
      if (!this.sleep.poll(cx, SITE_GAP)) return false;
      if (!this.s.accept.send(cx, <u32>this.sent + 1, SITE_CONNECT)) return false;
      this.waiting = false;
      this.sent++;
    }
    return true;
  }
}

class Listener extends Task {
  private have: bool = false;
  private request: u32 = 0;
  private accepted: i32 = 0;
  constructor(readonly s: Server) {
    super();
  }
  poll(cx: Context): bool {
    const s = this.s;
    while (this.accepted < s.requests) {
      if (!this.have) {
        if (!s.accept.recv(cx, SITE_ACCEPT)) return false;
        this.request = s.accept.received;
        this.have = true;
      }
      if (s.freeCount == 0) {
        // Every handler is busy: check again shortly (a real server would bound this too).
        if (!s.slotWaiter.poll(cx, SITE_SLOT)) return false;
        s.slotWaiter.startUs(100);
        return s.slotWaiter.poll(cx, SITE_SLOT);
      }
      const slot = s.free[--s.freeCount];
      const h = s.pool[slot];
      h.reset(this.request);
      s.ex.spawn(h, T_HANDLER);
      s.open++;
      this.have = false;
      this.accepted++;
    }
    return true;
  }
}

class Handler extends Task {
  private state: i32 = 0;
  private request: u32 = 0;
  private flow: u32 = 0;
  private lockedAt: u64 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly s: Server, readonly slot: i32) {
    super();
  }
  reset(request: u32): void {
    this.state = 0;
    this.request = request;
  }
  poll(cx: Context): bool {
    const s = this.s;
    if (this.state == 0) {
      this.flow = ts.flowBegin(this.request % 3 == 0 ? FLOW_PUT : FLOW_GET);
      busyFor(s.ex, 30); // parse the request
      this.lockedAt = ts.now();
      this.state = 1;
    }
    if (this.state == 1) {
      if (!s.db.lock(cx, SITE_LOCK)) return false;
      const waited = ts.now() - this.lockedAt;
      if (waited > s.ex.ticksFromUs(2000)) ts.log2(LOG_SLOW, 3, this.request, <i64>((waited * 1_000_000) / ts.tickHz()));
      this.sleep.startUs(300 + (this.request % 7) * 50);
      this.state = 2;
    }
    if (this.state == 2) {
      if (!this.sleep.poll(cx, SITE_QUERY)) return false;
      s.db.unlock();
      this.state = 3;
    }
    if (!s.responses.send(cx, this.request, SITE_RESPOND)) return false;
    ts.flowEnd(this.flow);
    s.open--;
    s.free[s.freeCount++] = this.slot;
    return true;
  }
}

class Writer extends Task {
  private sleep: Sleep = new Sleep();
  private flushing: bool = false;
  constructor(readonly s: Server) {
    super();
  }
  poll(cx: Context): bool {
    const s = this.s;
    while (s.written < s.requests) {
      if (!this.flushing) {
        if (!s.responses.recv(cx, SITE_WRITE)) return false;
        this.sleep.startUs(80);
        this.flushing = true;
      }
      if (!this.sleep.poll(cx, SITE_FLUSH)) return false;
      this.flushing = false;
      s.written++;
    }
    s.done = true;
    return true;
  }
}

class Stats extends Task {
  private sleep: Sleep = new Sleep();
  private started: bool = false;
  constructor(readonly s: Server) {
    super();
  }
  poll(cx: Context): bool {
    if (!this.started) {
      this.sleep.startMs(10);
      this.started = true;
    }
    while (this.sleep.poll(cx, SITE_STATS)) {
      ts.counter(COUNTER_OPEN, this.s.open);
      if (this.s.done) return true;
      this.sleep.until(this.sleep.deadline + this.s.ex.ticksFromMs(10));
    }
    return false;
  }
}

/** Serves `requests` requests; returns the executor status (RUN_DONE when all were served). */
export function runServer(requests: i32): i32 {
  const ex = new Executor();
  const s = new Server(ex, requests);
  ex.spawn(new Listener(s), T_LISTENER);
  ex.spawn(new Writer(s), T_WRITER);
  ex.spawn(new Stats(s), T_STATS);
  ex.spawn(new LoadGen(s), T_LOADGEN);
  return ex.run();
}

export { RUN_DONE };
