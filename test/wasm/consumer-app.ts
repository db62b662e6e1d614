// A user's firmware, as README.md "Building your own firmware against taskscope" describes it:
// test/package.test.ts copies it into a project outside the repository that has only the packed
// taskscope installed, and compiles it there with that project's asc. Not built by build.mjs (the
// imports name the installed package).
//
//   main ──┬─ sensor-reader ──readings (cap 2)──> uplink ── radio (mutex, held while sending)
//          └─ joins both

import * as ts from "taskscope/core";
import { Executor, Task, Context, Channel, Mutex, Sleep, RUN_DONE } from "taskscope/core/executor";
export * from "taskscope/core/host";

ts.init(ts.MODE_OVERWRITE, 1_000_000, "my-board", "my-firmware 1.0");

const T_MAIN = ts.taskName("main");
const T_SENSOR = ts.taskName("sensor-reader");
const T_UPLINK = ts.taskName("uplink");
const SITE_JOIN = ts.siteName("main: join");
const SITE_SAMPLE = ts.siteName("sensor: wait for sample");
const SITE_SEND = ts.siteName("sensor: send reading");
const SITE_RECV = ts.siteName("uplink: recv reading");
const SITE_LOCK = ts.siteName("uplink: lock radio");
const SITE_TX = ts.siteName("uplink: transmit");

const READINGS: u32 = 5;
const ex = new Executor();
const readings = new Channel<u32>("readings", 2);
const radio = new Mutex("radio");

class SensorReader extends Task {
  private sleep: Sleep = new Sleep();
  private sent: u32 = 0;
  private sampled: bool = false;
  poll(cx: Context): bool {
    while (this.sent < READINGS) {
      if (!this.sampled) {
        if (this.sleep.deadline == 0) this.sleep.startMs(1);
        if (!this.sleep.poll(cx, SITE_SAMPLE)) return false;
        this.sleep.deadline = 0;
        this.sampled = true;
      }
      if (!readings.send(cx, 100 + this.sent, SITE_SEND)) return false;
      this.sampled = false;
      this.sent++;
    }
    return true;
  }
}

class Uplink extends Task {
  private sleep: Sleep = new Sleep();
  private state: i32 = 0;
  private done: u32 = 0;
  poll(cx: Context): bool {
    while (this.done < READINGS) {
      if (this.state == 0) {
        if (!readings.recv(cx, SITE_RECV)) return false;
        this.state = 1;
      }
      if (this.state == 1) {
        if (!radio.lock(cx, SITE_LOCK)) return false;
        this.sleep.startUs(300);
        this.state = 2;
      }
      if (!this.sleep.poll(cx, SITE_TX)) return false;
      radio.unlock();
      this.state = 0;
      this.done++;
    }
    return true;
  }
}

class Main extends Task {
  private sensor: u32 = 0;
  private uplink: u32 = 0;
  poll(cx: Context): bool {
    if (this.sensor == 0) {
      this.sensor = ex.spawn(new SensorReader(), T_SENSOR);
      this.uplink = ex.spawn(new Uplink(), T_UPLINK);
    }
    return ex.join(cx, this.sensor, SITE_JOIN) && ex.join(cx, this.uplink, SITE_JOIN);
  }
}

ex.spawn(new Main(), T_MAIN);
if (ex.run() != RUN_DONE) process.exit(1);
