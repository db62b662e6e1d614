// Test harness around the device core: exposes every event function, the wire constants (as
// wasm globals, for the spec test), fixed names (strings cannot cross from JS without a loader)
// and a deterministic mixed workload. Built with the stub runtime: see test/core-*.test.ts.

import * as ts from "../../core/index";
export * from "../../core/host";
export * from "../../core/wire";
export {
  taskSpawn, pollBegin, pollEnd, taskEnd, wake, wakeByTask, wakeAndDrop, wakeByTaskAndDrop, wakeByIrq, wakeExternal, wakerClone,
  wakerDrop, awaitAt, resourceCreate, resourceOp, resourceDrop, flowBegin, flowEnd, flowEnter,
  flowEnterTask, currentFlow, log0, log1, log2, log3, log4, mark, counter, memSample, idleBegin,
  idleEnd, isrEnter, isrExit, setFilter, timerArm, timerFire, timerFireWake,
} from "../../core/events";
export { CHUNK_SIZE, CHUNK_COUNT, NAMES_BYTES, MAX_TASKS } from "../../core/config";

export function setup(mode: u8, hz: u32): void {
  ts.init(mode, hz, "harness", "core-harness 1", 0x1234);
}

/** Interns the fixed test names; returns the id of each in order (as a packed count check). */
export function internFixed(which: i32): u32 {
  switch (which) {
    case 0: return ts.taskName("main");
    case 1: return ts.taskName("worker");
    case 2: return ts.siteName("worker: recv job");
    case 3: return ts.resourceName("jobs");
    case 4: return ts.logFormat("served {} in {}us");
    case 5: return ts.markName("checkpoint");
    case 6: return ts.counterName("queue depth");
    case 7: return ts.flowName("GET /status");
    case 8: return ts.taskName("café ☕ 𝄞"); // 2-, 3- and 4-byte UTF-8
    case 9: return ts.taskName("main"); // duplicate: must return the id of case 0
    case 10: return ts.siteName("main"); // same text, other kind: a new id
    default: return 0;
  }
}

/** Interns a name longer than 255 UTF-8 bytes (to check it is cut, not dropped). */
export function internLong(): u32 {
  return ts.taskName(
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" +
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdéé",
  );
}

let rng: u32 = 1;

// @ts-ignore: decorator
@inline function next(): u32 {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}

/** Records about `n` events of a mixed async workload (polls, wakes, awaits, resources, logs);
 *  returns how many calls were made. Deterministic for a seed. */
export function stress(n: i32, seed: u32): i32 {
  rng = seed == 0 ? 1 : seed;
  let calls = 0;
  while (calls < n) {
    const task = 1 + (next() & 15);
    ts.pollBegin(task);
    calls++;
    const r = next() & 15;
    if (r < 4) {
      ts.wake(1 + (next() & 15));
      calls++;
    } else if (r < 6) {
      ts.resourceOp(1, ts.OP_SEND, <u8>(r & 1), next() & 3);
      calls++;
    } else if (r == 6) {
      ts.log2(1, 2, <i64>next(), -(<i64>(next() & 0xffff)));
      calls++;
    } else if (r == 7) {
      ts.counter(2, <i64>(next() & 0xff) - 128);
      calls++;
    } else if (r == 8) {
      ts.wake(task);
      calls++;
    }
    const pending = (next() & 3) != 0;
    if (pending) {
      ts.awaitAt(3, 1);
      calls++;
    }
    ts.pollEnd(!pending);
    calls++;
  }
  return calls;
}

/** A tight loop of poll begin/end pairs: the cheapest realistic event, for the benchmark. */
export function pollLoop(n: i32): void {
  for (let i = 0; i < n; i++) {
    ts.pollBegin(<u32>(i & 7) + 1);
    ts.pollEnd(false);
  }
}
export { nowTicks } from "../../core/ring";
