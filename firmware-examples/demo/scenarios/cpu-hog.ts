// "cpu-hog": CPU-heavy work inside one task serializes a fan-out. For each request a gateway
// hands the image to a long-lived decoder task and fans out three fetches (metadata, thumbnail,
// permissions) that would overlap their I/O. The decoder decodes the whole image in one poll,
// without yielding, so the fetches that were ready to start wait behind it and the request takes
// the decode time plus the fetches, one after the other, instead of the longest of them.
//
// Expected: the first lint is a long poll of decoder after 'decoder: recv frame', naming the
// delay it caused the fetch tasks.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Channel, Sleep } from "../../executor/index";
import { busyFor } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_GATEWAY = ts.taskName("gateway");
const T_DECODER = ts.taskName("decoder");
const T_FETCH = ts.taskName("fetch");
const SITE_GW_GAP = ts.siteName("gateway: next request");
const SITE_GW_JOIN = ts.siteName("gateway: join fetches");
const SITE_GW_DECODED = ts.siteName("gateway: recv decoded");
const SITE_GW_SEND = ts.siteName("gateway: send frame");
const SITE_DEC_RECV = ts.siteName("decoder: recv frame");
const SITE_DEC_SEND = ts.siteName("decoder: send decoded");
const SITE_FETCH_IO = ts.siteName("fetch: io");
const FLOW_THUMB = ts.flowName("GET /thumbnail");
const REQUESTS: i32 = 10;
const DECODE_US: u32 = 15_000;
const FETCH_MS: u32 = 3;
const GAP_MS: u32 = 10;

class Pipes {
  frames: Channel<u32> = new Channel<u32>("frames", 2);
  decoded: Channel<u32> = new Channel<u32>("decoded", 2);
}

/** Decodes frames: all the CPU work in the same poll that received the frame. */
class Decoder extends Task {
  private have: bool = false;
  private frame: u32 = 0;
  constructor(readonly ex: Executor, readonly pipes: Pipes) {
    super();
  }
  poll(cx: Context): bool {
    while (true) {
      if (!this.have) {
        if (!this.pipes.frames.recv(cx, SITE_DEC_RECV)) return false;
        this.frame = this.pipes.frames.received;
        if (this.frame == 0) return true; // end of input
        busyFor(this.ex, DECODE_US); // BUG: no yield inside a 15 ms computation
        this.have = true;
      }
      if (!this.pipes.decoded.send(cx, this.frame, SITE_DEC_SEND)) return false;
      this.have = false;
    }
  }
}

/** One fetch: a little CPU, then I/O (a sleep). */
class Fetch extends Task {
  private sleep: Sleep = new Sleep();
  private started: bool = false;
  constructor(readonly ex: Executor) {
    super();
  }
  reset(): void {
    this.started = false;
  }
  poll(cx: Context): bool {
    if (!this.started) {
      busyFor(this.ex, 50);
      this.sleep.startMs(FETCH_MS);
      this.started = true;
    }
    return this.sleep.poll(cx, SITE_FETCH_IO);
  }
}

class Gateway extends Task {
  private sleep: Sleep = new Sleep();
  private state: i32 = 0;
  private request: i32 = 0;
  private flow: u32 = 0;
  private fetches: StaticArray<Fetch>;
  private handles: StaticArray<u32> = new StaticArray<u32>(3);
  private joined: i32 = 0;
  constructor(readonly ex: Executor, readonly pipes: Pipes) {
    super();
    this.fetches = new StaticArray<Fetch>(3);
    for (let i = 0; i < 3; i++) this.fetches[i] = new Fetch(ex);
  }
  poll(cx: Context): bool {
    while (true) {
      if (this.state == 0) {
        if (this.request >= REQUESTS) {
          if (!this.pipes.frames.send(cx, 0, SITE_GW_SEND)) return false; // tell the decoder to stop
          return true;
        }
        this.sleep.startMs(GAP_MS);
        this.state = 1;
      }
      if (this.state == 1) {
        if (!this.sleep.poll(cx, SITE_GW_GAP)) return false;
        this.request++;
        this.flow = ts.flowBegin(FLOW_THUMB);
        this.state = 2;
      }
      if (this.state == 2) {
        // The frame goes to the decoder first (it is woken first), then the fetches start.
        if (!this.pipes.frames.send(cx, <u32>this.request, SITE_GW_SEND)) return false;
        for (let i = 0; i < 3; i++) {
          this.fetches[i].reset();
          this.handles[i] = this.ex.spawn(this.fetches[i], T_FETCH);
        }
        this.joined = 0;
        this.state = 3;
      }
      if (this.state == 3) {
        while (this.joined < 3) {
          if (!this.ex.join(cx, this.handles[this.joined], SITE_GW_JOIN)) return false;
          this.joined++;
        }
        this.state = 4;
      }
      if (!this.pipes.decoded.recv(cx, SITE_GW_DECODED)) return false;
      ts.flowEnd(this.flow);
      this.state = 0;
    }
  }
}

export function cpuHog(): i32 {
  const ex = new Executor();
  const pipes = new Pipes();
  ex.spawn(new Decoder(ex, pipes), T_DECODER);
  ex.spawn(new Gateway(ex, pipes), T_GATEWAY);
  const status = runWithDeadline(ex);
  console.log(`demo cpu-hog: ${statusText(status)}, ${REQUESTS} requests, each decoded in one ${DECODE_US / 1000} ms poll`);
  return 0;
}
