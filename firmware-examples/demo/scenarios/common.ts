// Helpers shared by the scenarios: the run deadline and the one line a scenario prints.

import * as ts from "../../../core/index";
import { Executor, RUN_DONE, RUN_STUCK } from "../../executor/index";

/** Longest a scenario runs: a periodic timer could keep a stuck run alive forever, so every
 *  scenario that may get stuck runs against this deadline (RUN_TIMEOUT) as well. */
export const SCENARIO_DEADLINE_MS: u32 = 2000;

export function runWithDeadline(ex: Executor): i32 {
  return ex.run(ts.now() + ex.ticksFromMs(SCENARIO_DEADLINE_MS));
}

/** "done", "stuck" (nothing can run) or "timeout" (the deadline passed). */
export function statusText(status: i32): string {
  return status == RUN_DONE ? "done" : status == RUN_STUCK ? "stuck" : "timeout";
}
