// A reusable timer future: set a deadline, then poll it until it fires. Keep one per task (a
// field) and re-arm it, rather than allocating a Sleep per wait.

import * as ts from "../../core/index";
import { Context, executor } from "./executor";

export class Sleep {
  /** Deadline in device ticks. */
  deadline: u64 = 0;

  /** Arms the sleep to end `ms` milliseconds from now. Returns this for chaining. */
  startMs(ms: u32): Sleep {
    this.deadline = ts.now() + executor().ticksFromMs(ms);
    return this;
  }

  /** Arms the sleep to end `us` microseconds from now. */
  startUs(us: u32): Sleep {
    this.deadline = ts.now() + executor().ticksFromUs(us);
    return this;
  }

  /** Arms the sleep to end at an absolute deadline (ticks), e.g. for drift-free periods. */
  until(deadline: u64): Sleep {
    this.deadline = deadline;
    return this;
  }

  /** True once the deadline has passed; otherwise parks the polled task at `site` on the
   *  executor's timer resource, or on `res` (a simulated I/O device's resource). */
  poll(cx: Context, site: u32, res: u32 = 0): bool {
    return executor().sleepUntil(cx, this.deadline, site, res);
  }
}
