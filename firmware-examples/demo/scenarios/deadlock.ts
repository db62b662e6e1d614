// "deadlock": two tasks each blocked on a full bounded channel the other should drain.
// telemetry sends samples to compressor and reads back one ack per sample. For a while it
// alternates (send one, read its ack); then it flushes a burst of samples before reading any
// ack. compressor acks every sample before taking the next, so once the small "acks" channel is
// full it blocks sending an ack, while telemetry blocks sending into the full "samples" channel:
// neither will ever drain the other. The demo application runs alongside and finishes normally.
//
// Expected: the first lint is a deadlock between telemetry (at 'telemetry: send sample') and
// compressor (at 'compressor: send ack').

import * as ts from "../../../core/index";
import { Executor, Task, Context, Channel, Sleep } from "../../executor/index";
import { App, DemoConfig } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_TELEMETRY = ts.taskName("telemetry");
const T_COMPRESSOR = ts.taskName("compressor");
const SITE_SEND_SAMPLE = ts.siteName("telemetry: send sample");
const SITE_RECV_ACK = ts.siteName("telemetry: recv ack");
const SITE_PERIOD = ts.siteName("telemetry: sample period");
const SITE_RECV_SAMPLE = ts.siteName("compressor: recv sample");
const SITE_SEND_ACK = ts.siteName("compressor: send ack");
const CALM_ROUNDS: i32 = 10;
const BURST: i32 = 12;

class Links {
  samples: Channel<u32> = new Channel<u32>("samples", 4);
  acks: Channel<u32> = new Channel<u32>("acks", 2);
}

class Telemetry extends Task {
  private sleep: Sleep = new Sleep();
  private round: i32 = 0;
  private sent: i32 = 0; // samples sent this round
  private acked: i32 = 0;
  private waiting: bool = false;
  constructor(readonly links: Links) {
    super();
  }
  poll(cx: Context): bool {
    while (true) {
      if (this.waiting) {
        if (!this.sleep.poll(cx, SITE_PERIOD)) return false;
        this.waiting = false;
      }
      const want = this.round < CALM_ROUNDS ? 1 : BURST;
      // BUG: the burst sends everything before reading any ack.
      while (this.sent < want) {
        if (!this.links.samples.send(cx, <u32>this.sent, SITE_SEND_SAMPLE)) return false;
        this.sent++;
      }
      while (this.acked < want) {
        if (!this.links.acks.recv(cx, SITE_RECV_ACK)) return false;
        this.acked++;
      }
      this.round++;
      this.sent = 0;
      this.acked = 0;
      this.sleep.startMs(4);
      this.waiting = true;
    }
  }
}

class Compressor extends Task {
  private holding: bool = false;
  private sample: u32 = 0;
  constructor(readonly links: Links) {
    super();
  }
  poll(cx: Context): bool {
    while (true) {
      if (!this.holding) {
        if (!this.links.samples.recv(cx, SITE_RECV_SAMPLE)) return false;
        this.sample = this.links.samples.received;
        this.holding = true;
      }
      if (!this.links.acks.send(cx, this.sample, SITE_SEND_ACK)) return false;
      this.holding = false;
    }
  }
}

export function deadlock(): i32 {
  const ex = new Executor();
  const cfg = new DemoConfig();
  cfg.requests = 12;
  const app = new App(ex, cfg);
  const links = new Links();
  app.start();
  ex.spawn(new Telemetry(links), T_TELEMETRY);
  ex.spawn(new Compressor(links), T_COMPRESSOR);
  const status = runWithDeadline(ex);
  console.log(`demo deadlock: ${statusText(status)}, ${app.served} requests served, ${ex.liveTasks} task(s) never finished`);
  return 0;
}
