// taskscope serial device: the demo application with the core's serial link, as a board would run
// it. The host (trace-pull --port) starts every exchange; the device answers over its UART.
// Under the test simulator (test/support/device-sim.ts) this runs under node:wasi, with the UART
// wired to a pseudo-terminal.
//
//   argv[1]  scenario: demo (the demo once, then idle), demo-loop (the demo again and again,
//            until the board is asked to wind down: then idle), stuck (the demo plus a task that
//            loses its wake-up), flood (events as fast as possible)
//   argv[2]  session id for this boot (decimal; 0 or absent: derived from the clock)

import * as ts from "../../core/index";
import { Executor, Task, Context, RUN_DONE, RUN_STUCK } from "../executor/index";
import { waitUntil } from "../executor/platform";
import { App, DemoConfig } from "../demo/app";
import { serviceLink } from "./link-service";
import { windDownRequested } from "./uart";

export * from "../../core/link-host";

/** Events recorded since init, read by the simulator to check what the host received. */
export function device_recorded(): u64 {
  return ts.eventsRecorded();
}

let scenarioDone = false;

/** 1 once the scenario has run its course and the board only idles (demo, stuck): it records
 *  nothing more, so a test can wait for this instead of guessing how long the demo takes. */
export function device_scenario_done(): u32 {
  return scenarioDone ? 1 : 0;
}

const argv = process.argv;
const scenario = argv.length > 1 ? argv[1] : "demo";
const session = argv.length > 2 ? <u32>I64.parseInt(argv[2]) : 0;

ts.init(ts.MODE_OVERWRITE, 1_000_000, "serial-sim", "taskscope-serial-device 0.1", session);

/** How long the executor runs before the link gets a turn (ticks are microseconds). */
const SLICE: u64 = 5_000;
const IDLE_POLL: u64 = 2_000;

const T_STUCK = ts.taskName("sensor-reader");
const SITE_STUCK = ts.siteName("sensor-reader: wait sample");

/** A hand-written future with the classic bug: it parks without storing a waker anywhere, so
 *  nothing can ever wake it (a lost wake-up). */
class LostWakeup extends Task {
  poll(cx: Context): bool {
    cx.park(SITE_STUCK, 0);
    return false;
  }
}

/** Runs the executor in slices, servicing the link in between; returns when every task ended,
 *  or keeps going forever if some task never ends. */
function runWithLink(ex: Executor): void {
  while (true) {
    const status = ex.run(ts.now() + SLICE);
    serviceLink();
    if (status == RUN_DONE) return;
    // Stuck: nothing can run again. Keep the link alive so the host can watch.
    if (status == RUN_STUCK) idleForever();
  }
}

function idleForever(): void {
  scenarioDone = true;
  while (true) {
    serviceLink();
    waitUntil(ts.now() + IDLE_POLL);
  }
}

function runDemo(stuck: bool): void {
  const ex = new Executor();
  const app = new App(ex, new DemoConfig());
  app.start();
  if (stuck) ex.spawn(new LostWakeup(), T_STUCK);
  runWithLink(ex);
}

/** As many events as the core takes, with the link serviced every few hundred. */
function flood(): void {
  let i: u32 = 0;
  while (true) {
    for (let k = 0; k < 256; k++) {
      const task = (i & 15) + 1;
      ts.pollBegin(task);
      ts.wake((i * 7) & 15);
      ts.pollEnd(false);
      i++;
    }
    serviceLink();
  }
}

if (scenario == "demo") {
  runDemo(false);
  idleForever();
} else if (scenario == "demo-loop") {
  while (!windDownRequested()) runDemo(false);
  idleForever();
} else if (scenario == "stuck") {
  runDemo(true);
  idleForever();
} else if (scenario == "flood") {
  flood();
} else {
  process.stderr.write(`serial-device: unknown scenario "${scenario}" (demo, demo-loop, stuck, flood)\n`);
  process.exit(2);
}
