// "fanout-serial" and "fanout-spawned": a fetcher fans out batches of 8 requests (each a flow:
// fetch the response, decode it, store the result). Serial: the fetcher begins all 8 requests,
// then works through them itself one after another, so "8 in flight" is one at a time. Spawned
// (the fix): a task per request, so their fetches and stores overlap; the decodes still take
// turns on the one executor.
//
// Expected: fanout-serial's first lint is `serialized` for 'GET /thumb', with the await sites and
// an estimate close to the batch time fanout-spawned measures; fanout-spawned gets no such lint.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Sleep } from "../../executor/index";
import { busyFor } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_FETCHER = ts.taskName("fetcher");
const T_REQUEST = ts.taskName("thumb request");
const SITE_FETCH = ts.siteName("thumb: fetch response");
const SITE_STORE = ts.siteName("thumb: store result");
const SITE_GAP = ts.siteName("fetcher: next batch");
const FLOW_THUMB = ts.flowName("GET /thumb");
const BATCHES: i32 = 10;
const FANOUT: i32 = 8;
const FETCH_US: u32 = 3000;
const DECODE_US: u32 = 300;
const STORE_US: u32 = 1000;
const GAP_US: u32 = 2000;
/** Long enough for a spawned batch to finish before the next one. */
const SPAWNED_BATCH_US: u32 = 12000;

let finished: i32 = 0;

class Devices {
  readonly http: u32 = ts.resourceCreate(ts.RES_IO, ts.resourceName("http"), 16);
  readonly store: u32 = ts.resourceCreate(ts.RES_IO, ts.resourceName("thumb store"), 16);
}

/** One request's steps: fetch, decode, store; true when done. Used by both variants. */
class Steps {
  state: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly dev: Devices) {}
  poll(cx: Context): bool {
    if (this.state == 0) {
      this.sleep.startUs(FETCH_US);
      this.state = 1;
    }
    if (this.state == 1) {
      if (!this.sleep.poll(cx, SITE_FETCH, this.dev.http)) return false;
      busyFor(this.ex, DECODE_US);
      this.sleep.startUs(STORE_US);
      this.state = 2;
    }
    if (!this.sleep.poll(cx, SITE_STORE, this.dev.store)) return false;
    this.state = 0;
    finished++;
    return true;
  }
}

/** Serial: begins a batch's requests, then serves them one at a time. */
class SerialFetcher extends Task {
  private batch: i32 = 0;
  private next: i32 = -1; // -1: begin a batch; FANOUT: the gap after it
  private flows: StaticArray<u32> = new StaticArray<u32>(FANOUT);
  private steps: Steps;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly dev: Devices) {
    super();
    this.steps = new Steps(ex, dev);
  }
  poll(cx: Context): bool {
    while (this.batch < BATCHES) {
      if (this.next < 0) {
        for (let i = 0; i < FANOUT; i++) this.flows[i] = ts.flowBegin(FLOW_THUMB);
        this.next = 0;
      }
      while (this.next < FANOUT) {
        const flow = this.flows[this.next];
        ts.flowEnter(flow);
        if (!this.steps.poll(cx)) return false;
        ts.flowEnd(flow);
        this.next++;
        if (this.next == FANOUT) this.sleep.startUs(GAP_US);
      }
      ts.flowEnter(0);
      if (!this.sleep.poll(cx, SITE_GAP)) return false;
      this.batch++;
      this.next = -1;
    }
    return true;
  }
}

class Request extends Task {
  private steps: Steps;
  constructor(readonly ex: Executor, readonly dev: Devices) {
    super();
    this.steps = new Steps(ex, dev);
  }
  poll(cx: Context): bool {
    if (!this.steps.poll(cx)) return false;
    ts.flowEnd(ts.currentFlow());
    return true;
  }
}

/** Spawned: a task per request. */
class SpawningFetcher extends Task {
  private batch: i32 = 0;
  private armed: bool = false;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly dev: Devices) {
    super();
  }
  poll(cx: Context): bool {
    while (this.batch < BATCHES) {
      if (!this.armed) {
        for (let i = 0; i < FANOUT; i++) {
          ts.flowBegin(FLOW_THUMB);
          this.ex.spawn(new Request(this.ex, this.dev), T_REQUEST); // inherits the flow
        }
        ts.flowEnter(0);
        this.sleep.startUs(SPAWNED_BATCH_US);
        this.armed = true;
      }
      if (!this.sleep.poll(cx, SITE_GAP)) return false;
      this.armed = false;
      this.batch++;
    }
    return true;
  }
}

export function fanoutSerial(): i32 {
  const ex = new Executor();
  ex.spawn(new SerialFetcher(ex, new Devices()), T_FETCHER);
  const status = runWithDeadline(ex);
  console.log(`demo fanout-serial: ${statusText(status)}, ${finished} of ${BATCHES * FANOUT} requests`);
  return 0;
}

export function fanoutSpawned(): i32 {
  const ex = new Executor();
  ex.spawn(new SpawningFetcher(ex, new Devices()), T_FETCHER);
  const status = runWithDeadline(ex);
  console.log(`demo fanout-spawned: ${statusText(status)}, ${finished} of ${BATCHES * FANOUT} requests`);
  return 0;
}
