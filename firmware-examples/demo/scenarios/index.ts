// Scenario registry. The demo runs the scenario named by its first argument (WASI argv[1]):
//   trace-pull --wasi build/demo.wasm -- <scenario>
// To add one: write scenarios/<name>.ts exporting `function <name>(): i32` (exit code; print
// one short line to stdout, nothing else), import it here, add it to SCENARIOS and the switch.
// Reuse ../app (DemoConfig knobs, task classes) and end the run yourself if it gets stuck:
// Executor.run() returns RUN_STUCK instead of sleeping forever, and runWithDeadline (common.ts)
// bounds runs that a periodic timer would keep alive.
//
// Each failure scenario reproduces one thing trace-report should name (test/scenario.test.ts
// checks that its first lint does):
//   clean          the demo as it should behave: no lint
//   lost-wakeup    a hand-written future returns Pending without storing a waker
//   deadlock       two tasks blocked on full bounded channels that the other should drain
//   cpu-hog        a CPU-heavy decode in one poll serializes a fan-out
//   slow-requests  requests that queue on one shared resource, clustered in time
//   leak           tasks spawned and forgotten, waiting forever
//   stream-serial  a pipeline whose reads and writes take turns (stream-overlap: prefetching, fixed)
//   fanout-serial  8 requests in flight served one at a time by one task (fanout-spawned: fixed)
//   queue-growing  an unbounded channel whose receiver is slower than its sender (queue-bounded: the
//                  bounded control)

import { clean } from "./clean";
import { lostWakeup } from "./lost-wakeup";
import { deadlock } from "./deadlock";
import { cpuHog } from "./cpu-hog";
import { slowRequests } from "./slow-requests";
import { leak } from "./leak";
import { streamSerial, streamOverlap } from "./stream";
import { fanoutSerial, fanoutSpawned } from "./fanout";
import { queueGrowing, queueBounded } from "./queue";

/** Scenario names, for the usage message: the normal run, and the ones that reproduce a failure. */
export const SCENARIOS = "clean, stream-overlap, fanout-spawned, queue-bounded";
export const FAILURE_SCENARIOS = "lost-wakeup, deadlock, cpu-hog, slow-requests, leak, stream-serial, fanout-serial, queue-growing";

export const DEFAULT_SCENARIO = "clean";

/** Runs scenario `name`; returns its exit code, or -1 if there is no such scenario. */
export function runScenario(name: string): i32 {
  if (name == "clean") return clean();
  if (name == "lost-wakeup") return lostWakeup();
  if (name == "deadlock") return deadlock();
  if (name == "cpu-hog") return cpuHog();
  if (name == "slow-requests") return slowRequests();
  if (name == "leak") return leak();
  if (name == "stream-serial") return streamSerial();
  if (name == "stream-overlap") return streamOverlap();
  if (name == "fanout-serial") return fanoutSerial();
  if (name == "fanout-spawned") return fanoutSpawned();
  if (name == "queue-growing") return queueGrowing();
  if (name == "queue-bounded") return queueBounded();
  return -1;
}
