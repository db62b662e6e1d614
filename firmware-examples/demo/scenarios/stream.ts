// "stream-serial" and "stream-overlap": a pipeline reads items from a sensor bus and writes each
// to flash. Serial: one task awaits the next item, processes it, awaits the write, then awaits
// the next item: the bus and the flash take turns, and the run takes the sum of both. Overlapped
// (the fix): a reader task prefetches items into a small channel while the writer writes, so the
// bus and the flash work at the same time and the run takes about the longer of the two.
//
// Expected: stream-serial's first lint is `serialized`, naming 'pipeline: next item' and
// 'pipeline: write item' with an estimate close to what stream-overlap measures; stream-overlap
// gets no such lint.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Channel, Sleep } from "../../executor/index";
import { busyFor } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_PIPELINE = ts.taskName("pipeline");
const T_READER = ts.taskName("reader");
const SITE_NEXT = ts.siteName("pipeline: next item");
const SITE_WRITE = ts.siteName("pipeline: write item");
const SITE_READ = ts.siteName("reader: read item");
const SITE_PUSH = ts.siteName("reader: push item");
const SITE_TAKE = ts.siteName("pipeline: take item");
const ITEMS: i32 = 60;
const READ_US: u32 = 2000;
const WRITE_US: u32 = 1500;
const PROCESS_US: u32 = 100;

let written: i32 = 0;

/** The two simulated devices (RES_IO): an operation completes after a fixed time. */
class Devices {
  readonly bus: u32 = ts.resourceCreate(ts.RES_IO, ts.resourceName("sensor bus"), 4);
  readonly flash: u32 = ts.resourceCreate(ts.RES_IO, ts.resourceName("flash"), 4);
}

/** Serial: next item, process, write, next item... */
class SerialPipeline extends Task {
  private state: i32 = 0;
  private done: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly dev: Devices) {
    super();
  }
  poll(cx: Context): bool {
    while (this.done < ITEMS) {
      if (this.state == 0) {
        this.sleep.startUs(READ_US);
        this.state = 1;
      }
      if (this.state == 1) {
        if (!this.sleep.poll(cx, SITE_NEXT, this.dev.bus)) return false;
        busyFor(this.ex, PROCESS_US);
        this.sleep.startUs(WRITE_US);
        this.state = 2;
      }
      if (!this.sleep.poll(cx, SITE_WRITE, this.dev.flash)) return false;
      written++;
      this.done++;
      this.state = 0;
    }
    return true;
  }
}

/** Overlapped: reads ahead into the channel. */
class Reader extends Task {
  private state: i32 = 0;
  private done: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly items: Channel<i32>, readonly dev: Devices) {
    super();
  }
  poll(cx: Context): bool {
    while (this.done < ITEMS) {
      if (this.state == 0) {
        this.sleep.startUs(READ_US);
        this.state = 1;
      }
      if (this.state == 1) {
        if (!this.sleep.poll(cx, SITE_READ, this.dev.bus)) return false;
        this.state = 2;
      }
      if (!this.items.send(cx, this.done, SITE_PUSH)) return false;
      this.done++;
      this.state = 0;
    }
    return true;
  }
}

/** Overlapped: takes prefetched items, processes and writes them. */
class Writer extends Task {
  private state: i32 = 0;
  private done: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly items: Channel<i32>, readonly dev: Devices) {
    super();
  }
  poll(cx: Context): bool {
    while (this.done < ITEMS) {
      if (this.state == 0) {
        if (!this.items.recv(cx, SITE_TAKE)) return false;
        busyFor(this.ex, PROCESS_US);
        this.sleep.startUs(WRITE_US);
        this.state = 1;
      }
      if (!this.sleep.poll(cx, SITE_WRITE, this.dev.flash)) return false;
      written++;
      this.done++;
      this.state = 0;
    }
    return true;
  }
}

export function streamSerial(): i32 {
  const ex = new Executor();
  ex.spawn(new SerialPipeline(ex, new Devices()), T_PIPELINE);
  const status = runWithDeadline(ex);
  console.log(`demo stream-serial: ${statusText(status)}, ${written} of ${ITEMS} items written`);
  return 0;
}

export function streamOverlap(): i32 {
  const ex = new Executor();
  const dev = new Devices();
  const items = new Channel<i32>("items", 2);
  ex.spawn(new Reader(items, dev), T_READER);
  ex.spawn(new Writer(ex, items, dev), T_PIPELINE);
  const status = runWithDeadline(ex);
  console.log(`demo stream-overlap: ${statusText(status)}, ${written} of ${ITEMS} items written`);
  return 0;
}
