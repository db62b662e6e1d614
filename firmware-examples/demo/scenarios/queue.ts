// "queue-growing" and "queue-bounded": a sampler reads a sensor every millisecond and hands each
// sample through a channel to an uploader, which takes 1.5 ms to send one over the uplink. The
// uploader is slower than the sampler, so something has to give. Bounded (the control): the
// channel holds 4 samples, the sampler waits when it is full and runs at the uploader's pace.
// Growing (the "fix" for a sampler stuck on a full channel): the channel is unbounded, the
// sampler never waits, and the queue grows by a sample every 3 ms for as long as the device runs
// (here 400 ms, then the run is stopped).
//
// Expected: queue-growing's first lint is `growing` on the channel 'samples', sent to by sampler
// and received by uploader; queue-bounded gets no lint.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Channel, Sleep } from "../../executor/index";

const T_SAMPLER = ts.taskName("sampler");
const T_UPLOADER = ts.taskName("uploader");
const SITE_TICK = ts.siteName("sampler: next tick");
const SITE_PUSH = ts.siteName("sampler: push sample");
const SITE_TAKE = ts.siteName("uploader: take sample");
const SITE_SEND = ts.siteName("uploader: send sample");
const SAMPLE_US: u32 = 1000;
const UPLOAD_US: u32 = 1500;
const RUN_MS: u32 = 400;
/** Storage of the unbounded channel: more than a run can queue. */
const UNBOUNDED_STORAGE: i32 = 1024;

let sampled: i32 = 0;
let uploaded: i32 = 0;

class Sampler extends Task {
  private state: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly samples: Channel<i32>) {
    super();
  }
  poll(cx: Context): bool {
    while (true) {
      if (this.state == 0) {
        this.sleep.startUs(SAMPLE_US);
        this.state = 1;
      }
      if (this.state == 1) {
        if (!this.sleep.poll(cx, SITE_TICK)) return false;
        this.state = 2;
      }
      if (!this.samples.send(cx, sampled, SITE_PUSH)) return false;
      sampled++;
      this.state = 0;
    }
  }
}

class Uploader extends Task {
  private state: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly samples: Channel<i32>, readonly uplink: u32) {
    super();
  }
  poll(cx: Context): bool {
    while (true) {
      if (this.state == 0) {
        if (!this.samples.recv(cx, SITE_TAKE)) return false;
        this.sleep.startUs(UPLOAD_US);
        this.state = 1;
      }
      if (!this.sleep.poll(cx, SITE_SEND, this.uplink)) return false;
      uploaded++;
      this.state = 0;
    }
  }
}

function run(name: string, samples: Channel<i32>): i32 {
  const ex = new Executor();
  const uplink = ts.resourceCreate(ts.RES_IO, ts.resourceName("uplink"), 1);
  ex.spawn(new Sampler(samples), T_SAMPLER);
  ex.spawn(new Uploader(samples, uplink), T_UPLOADER);
  ex.run(ts.now() + ex.ticksFromMs(RUN_MS)); // a device that runs until it is switched off
  ex.cancelAll();
  console.log(`demo ${name}: stopped after ${RUN_MS}ms, ${sampled} samples taken, ${uploaded} uploaded, ${samples.length} queued`);
  return 0;
}

export function queueGrowing(): i32 {
  return run("queue-growing", new Channel<i32>("samples", UNBOUNDED_STORAGE, true));
}

export function queueBounded(): i32 {
  return run("queue-bounded", new Channel<i32>("samples", 4));
}
