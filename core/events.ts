// The async vocabulary an executor calls. Each call: one filter test (a load and a branch when
// the category is off), one clock read, then a handful of stores into the open chunk.
// Not reentrant: an interrupt handler that records must run with interrupts masked (or the
// embedding must serialise calls), as with any single-producer ring.
//
// The executor contract. The analysis (docs/REPORT.md) reads these calls as the executor's
// story; an executor of your own must tell it in this shape, or the report shows lost wake-ups,
// leaks or deadlocks that did not happen and misses ones that did. firmware-examples/executor
// (`taskscope/core/executor`) follows all of it.
//
// - Task ids are small integers from 1 (0 = no task). Ids below TASKSCOPE_MAX_TASKS get request
//   (flow) tracking. An id may be reused once its taskEnd is recorded.
// - taskSpawn before the task's first poll, naming the task being polled as the parent (0 outside
//   polls). Each poll is pollBegin(task) .. pollEnd(ready), with nothing of another task's poll in
//   between; a poll that returns Pending records awaitAt(site, resource) just before pollEnd.
// - Wakers are counted per task, not identified: wakerClone(task) each time a waker for it is
//   stored (a wait list, a timer, a join, a field of a future), wakerDrop(task) each time a stored
//   one is released. Re-polling a task whose waker is still stored records nothing: clone again
//   only after the old one was dropped. A task parked with no stored waker and no wake pending
//   (for --stuck) is a lost wake-up; a drop with no clone before it stops that check for the task.
// - Clone the waker when storing it, not when waking: the count must be above zero for as long as
//   something can wake the task.
// - Wake before drop: waking through a stored waker is wake(task), then wakerDrop(task). In the
//   other order the task is parked with no waker in between, which is what a lost wake-up looks
//   like ("waker dropped without wake", blamed on the task that dropped it).
// - No clone for a self-yield: a task that reschedules itself calls wake(itself) during its own
//   poll (recorded as a self-wake, by reference) and parks; nothing is stored, so nothing is
//   cloned or dropped.
// - Timers and sleeps: one RES_TIMER resource per executor (resourceCreate at start-up, not per
//   sleep: the await site tells sleeps apart). Arming a task's timer is wakerClone(task), and the
//   task parks with awaitAt(site, timer); re-arming an armed timer records nothing. The executor
//   fires it outside any poll: wake(task) (recorded as external), then wakerDrop(task). A timer
//   disarmed unfired (the task was polled at its deadline for another reason, or ended) records
//   wakerDrop only. Deadlines are not recorded. A task left parked on a timer is never called
//   unwakeable (a leak there is info, not a warning).
// - Resources: resourceOp inside the polling task's poll. OUTCOME_BLOCKED when the task parks on
//   the resource (then awaitAt(site, res)), OUTCOME_UNBLOCKED when its retry succeeds,
//   OUTCOME_OK otherwise; `level` is the fill afterwards (items in a channel, holders of a mutex).
//   These make the waits-for graph that deadlocks and backpressure are found in.
// - Ending a task: release the wakers your own resources and timers hold for it (wakerDrop each,
//   as dropping a future would), then taskEnd, never inside the task's own poll (a task that
//   cancels itself ends once that poll has returned).
// - idleBegin/idleEnd around the executor's wait for work, outside any poll (a host draining
//   in-process does it then). isrEnter/isrExit around an interrupt handler that records; a wake
//   inside one is recorded as by that interrupt.

import * as W from "./wire";
import { MAX_TASKS } from "./config";
import { rawClock, lastTicks } from "./clock";
import {
  beginEvent, endEvent, commitFast, countMerged, currentTask, setCurrentTask, wp, wend, evRaw, eventTagAt,
  lastResource, setLastResource, awaitTagAt, awaitEnd, noteAwait, clearAwait,
} from "./ring";
import { putU32, putZigzag } from "./varint";

/** Filter mask: one bit per category (wire.ts CAT_*). 0 until init, so nothing records early. */
export let filter: u32 = 0;

export function setFilter(mask: u32): void {
  filter = mask & W.CAT_ALL;
}

// Per-task current flow (request), so spawn and channel hand-off can carry it.
const FLOW_OF: usize = memory.data(MAX_TASKS * 4, 4);
let nextFlow: u32 = 1;
let nextResource: u32 = 1;
let isrDepth: u32 = 0;
let isrCurrent: u32 = 0;

export function resetEventState(): void {
  // Flow and resource ids keep counting across a re-init: ids handed out before stay unique.
  memory.fill(FLOW_OF, 0, <usize>MAX_TASKS * 4);
  isrDepth = 0;
  executorIdle = false;
  isrCurrent = 0;
}

// @ts-ignore: decorator
@inline function flowOf(task: u32): u32 {
  return task < <u32>MAX_TASKS ? load<u32>(FLOW_OF + (<usize>task << 2)) : 0;
}

// @ts-ignore: decorator
@inline function setFlowOf(task: u32, flow: u32): void {
  if (task < <u32>MAX_TASKS) store<u32>(FLOW_OF + (<usize>task << 2), flow);
}

// @ts-ignore: decorator
@inline function on(cat: u32): bool {
  return (filter & cat) != 0;
}

// The three common shapes (no field, one, two u32 fields) have a fast path for the usual case,
// a delta and fields below 128 and room in the open chunk: one 16-bit store for tag + delta, a
// byte per field, and one counter. Everything else goes through beginEvent out of line.

// `events`: how many events the wire event stands for (a compact form stands for 2 or 3).

function rec0Slow(tag: u8, raw: u32, events: u32): void {
  const p = beginEvent(tag, 0, raw);
  if (p != 0) endEvent(p, events);
}

function rec1Slow(tag: u8, x: u32, raw: u32, events: u32): void {
  const p = beginEvent(tag, 5, raw);
  if (p != 0) endEvent(putU32(p, x), events);
}

function rec2Slow(tag: u8, x: u32, y: u32, raw: u32, events: u32): void {
  let p = beginEvent(tag, 10, raw);
  if (p == 0) return;
  p = putU32(p, x);
  endEvent(putU32(p, y), events);
}

// @ts-ignore: decorator
@inline function rec0(tag: u8, events: u32 = 1): void {
  const raw = rawClock();
  const p = wp;
  const dt = raw - evRaw;
  if (dt < 0x80 && p + 2 <= wend) {
    store<u16>(p, <u16>tag | (<u16>dt << 8));
    commitFast(p + 2, raw, events);
  } else rec0Slow(tag, raw, events);
}

// @ts-ignore: decorator
@inline function rec1(tag: u8, x: u32, events: u32 = 1): void {
  const raw = rawClock();
  const p = wp;
  const dt = raw - evRaw;
  if ((dt | x) < 0x80 && p + 3 <= wend) {
    store<u16>(p, <u16>tag | (<u16>dt << 8));
    store<u8>(p, <u8>x, 2); // (an immediate offset: one address for the whole event)
    commitFast(p + 3, raw, events);
  } else rec1Slow(tag, x, raw, events);
}

// @ts-ignore: decorator
@inline function rec2(tag: u8, x: u32, y: u32, events: u32 = 1): void {
  const raw = rawClock();
  const p = wp;
  const dt = raw - evRaw;
  if ((dt | x | y) < 0x80 && p + 4 <= wend) {
    store<u16>(p, <u16>tag | (<u16>dt << 8));
    store<u16>(p, <u16>x | (<u16>y << 8), 2);
    commitFast(p + 4, raw, events);
  } else rec2Slow(tag, x, y, raw, events);
}

// ---- tasks ----

/** A task was created by `parent` (0 = outside any task). It inherits the parent's flow. Record
 *  it before the task's first poll; `parent` is the task being polled. */
export function taskSpawn(task: u32, parent: u32, name: u32): void {
  const flow = flowOf(parent);
  setFlowOf(task, flow);
  if (!on(W.CAT_TASK)) return;
  let p = beginEvent(W.TAG_SPAWN, 20, rawClock());
  if (p == 0) return;
  p = putU32(p, task);
  p = putU32(p, parent);
  p = putU32(p, name);
  endEvent(putU32(p, flow));
}

/** The executor starts polling `task`. Until pollEnd, nothing of another task's poll. */
// @ts-ignore: decorator
@inline export function pollBegin(task: u32): void {
  setCurrentTask(task);
  if (on(W.CAT_POLL)) rec1(W.TAG_POLL_BEGIN, task);
}

/** The current poll returned: Ready (`ready`) or Pending (after awaitAt, so the task's await
 *  site and resource are known). A Pending right after the task's AWAIT (nothing recorded
 *  between) is merged into it (AWAIT_PENDING: no bytes, no clock read). */
// @ts-ignore: decorator
@inline export function pollEnd(ready: bool): void {
  if (on(W.CAT_POLL)) {
    if (!ready && wp == awaitEnd) {
      const at = awaitTagAt;
      store<u8>(at, load<u8>(at) == W.TAG_AWAIT ? W.TAG_AWAIT_PENDING : W.TAG_AWAIT_SAME_PENDING);
      countMerged();
      clearAwait();
    } else rec0(ready ? W.TAG_POLL_READY : W.TAG_POLL_PENDING);
  }
  setCurrentTask(0);
}

/** The task ended: completed, or cancelled (dropped before it was Ready). Release the wakers
 *  your resources and timers hold for it first (wakerDrop each); its id is free after this. */
export function taskEnd(task: u32, cancelled: bool): void {
  setFlowOf(task, 0);
  if (on(W.CAT_TASK)) rec1(cancelled ? W.TAG_TASK_CANCEL : W.TAG_TASK_DONE, task);
}

// ---- wakes ----

/** `target` was woken; the source is inferred: an interrupt handler if inside one, the polled
 *  task if inside a poll (a self-wake if it is the target), otherwise external. Through a stored
 *  waker: wake, then wakerDrop. A self-yield (wake(itself) in its own poll) clones no waker. */
// @ts-ignore: decorator
@inline export function wake(target: u32): void {
  if (!on(W.CAT_WAKE)) return;
  if (isrDepth != 0) rec2(W.TAG_WAKE_IRQ, target, isrCurrent);
  else if (currentTask == 0) rec1(W.TAG_WAKE_EXT, target);
  else if (currentTask == target) rec1(W.TAG_WAKE_SELF, target);
  else rec2(W.TAG_WAKE_TASK, target, currentTask);
}

/** `target` was woken on behalf of task `by` while `by` is not being polled (e.g. a joiner woken
 *  when `by` ends, after its last poll). */
export function wakeByTask(target: u32, by: u32): void {
  if (!on(W.CAT_WAKE)) return;
  if (target == by) rec1(W.TAG_WAKE_SELF, target);
  else rec2(W.TAG_WAKE_TASK, target, by);
}

/** A stored waker woke `target` and was used up by it (a wake by value): the wake, source
 *  inferred as for wake(), then WAKER_DROP, in one wire event. */
export function wakeAndDrop(target: u32): void {
  if (!on(W.CAT_WAKE)) return;
  const d = W.WAKE_DROP_OFFSET;
  if (isrDepth != 0) rec2(W.TAG_WAKE_IRQ + d, target, isrCurrent, 2);
  else if (currentTask == 0) rec1(W.TAG_WAKE_EXT + d, target, 2);
  else if (currentTask == target) rec1(W.TAG_WAKE_SELF + d, target, 2);
  else rec2(W.TAG_WAKE_TASK + d, target, currentTask, 2);
}

/** wakeByTask, consuming the waker (WAKE_TASK or WAKE_SELF, then WAKER_DROP). */
export function wakeByTaskAndDrop(target: u32, by: u32): void {
  if (!on(W.CAT_WAKE)) return;
  const d = W.WAKE_DROP_OFFSET;
  if (target == by) rec1(W.TAG_WAKE_SELF + d, target, 2);
  else rec2(W.TAG_WAKE_TASK + d, target, by, 2);
}

/** `target` was woken by interrupt `irq` (outside isrEnter/isrExit; inside them, wake() says so). */
export function wakeByIrq(target: u32, irq: u32): void {
  if (on(W.CAT_WAKE)) rec2(W.TAG_WAKE_IRQ, target, irq);
}

/** `target` was woken from outside the executor's tasks (a fired timer, I/O), even inside a poll. */
export function wakeExternal(target: u32): void {
  if (on(W.CAT_WAKE)) rec1(W.TAG_WAKE_EXT, target);
}

/** A waker for `task` was stored somewhere (a future registered interest): once per waker stored,
 *  when it is stored. Storing again one still held records nothing; a self-yield stores none. The
 *  polled task storing its own waker, the usual case, is written without the id
 *  (WAKER_CLONE_CURRENT). */
// @ts-ignore: decorator
@inline export function wakerClone(task: u32): void {
  if (!on(W.CAT_WAKE)) return;
  if (task == currentTask) rec0(W.TAG_WAKER_CLONE_CURRENT);
  else rec1(W.TAG_WAKER_CLONE, task);
}

/** A stored waker for `task` was released: after the wake when waking through it (wake, then
 *  drop), alone when it is discarded unused. */
// @ts-ignore: decorator
@inline export function wakerDrop(task: u32): void {
  if (on(W.CAT_WAKE)) rec1(W.TAG_WAKER_DROP, task);
}

// ---- await points and resources ----

function awaitSlow(tag: u8, site: u32, resource: u32, raw: u32): void {
  let p = beginEvent(tag, 10, raw);
  if (p == 0) return;
  p = putU32(p, site);
  if (tag == W.TAG_AWAIT) p = putU32(p, resource);
  endEvent(p);
  noteAwait(eventTagAt, p);
}

/** The current task parks at await point `site` (a name id), waiting on `resource` (0 = none;
 *  the executor's timer resource for a sleep). Call just before the poll returns Pending: the
 *  POLL_PENDING is then merged into this event.
 *  The resource is left out when it is the one the last resource event named (AWAIT_SAME). */
// @ts-ignore: decorator
@inline export function awaitAt(site: u32, resource: u32): void {
  if (!on(W.CAT_AWAIT)) return;
  const raw = rawClock();
  const p = wp;
  const dt = raw - evRaw;
  if (resource == lastResource) {
    if ((dt | site) < 0x80 && p + 3 <= wend) {
      store<u16>(p, <u16>W.TAG_AWAIT_SAME | (<u16>dt << 8));
      store<u8>(p, <u8>site, 2);
      commitFast(p + 3, raw);
      noteAwait(p, p + 3);
    } else awaitSlow(W.TAG_AWAIT_SAME, site, resource, raw);
  } else {
    setLastResource(resource);
    if ((dt | site | resource) < 0x80 && p + 4 <= wend) {
      store<u16>(p, <u16>W.TAG_AWAIT | (<u16>dt << 8));
      store<u16>(p, <u16>site | (<u16>resource << 8), 2);
      commitFast(p + 4, raw);
      noteAwait(p, p + 4);
    } else awaitSlow(W.TAG_AWAIT, site, resource, raw);
  }
}

/** Creates a resource id for a channel, mutex, timer or io object (wire.ts RES_*). Timers: one
 *  RES_TIMER per executor, which every sleeping task awaits. */
export function resourceCreate(kind: u8, name: u32, capacity: u32): u32 {
  const res = nextResource++;
  if (!on(W.CAT_RESOURCE)) return res;
  setLastResource(res);
  let p = beginEvent(W.TAG_RES_CREATE, 16, rawClock());
  if (p == 0) return res;
  p = putU32(p, res);
  store<u8>(p, kind);
  p = putU32(p + 1, name);
  endEvent(putU32(p, capacity));
  return res;
}

/** The current task did `op` (OP_*) on `res` with `outcome` (OUTCOME_*); `level` is the fill
 *  afterwards (items in a channel, holders of a mutex). Inside the task's poll: BLOCKED when it
 *  parks on `res`, UNBLOCKED when its retry succeeds, OK otherwise. */
// @ts-ignore: decorator
@inline export function resourceOp(res: u32, op: u8, outcome: u8, level: u32): void {
  if (!on(W.CAT_RESOURCE)) return;
  setLastResource(res);
  let p = beginEvent(W.TAG_RES_OP, 11, rawClock());
  if (p == 0) return;
  p = putU32(p, res);
  // A small level (the usual channel fill) rides in the opcode's high nibble: one byte saved.
  if (level < 15) {
    store<u8>(p, op | (outcome << 2) | (<u8>(level + 1) << 4));
    endEvent(p + 1);
  } else {
    store<u8>(p, op | (outcome << 2));
    endEvent(putU32(p + 1, level));
  }
}

export function resourceDrop(res: u32): void {
  if (!on(W.CAT_RESOURCE)) return;
  setLastResource(res);
  rec1(W.TAG_RES_DROP, res);
}

// ---- flows (requests) ----

/** The current task starts serving a new request; returns its flow id. Tasks it spawns inherit
 *  it; pass `currentFlow()` along with messages and call `flowEnter` on receipt. */
export function flowBegin(name: u32): u32 {
  const flow = nextFlow++;
  setFlowOf(currentTask, flow);
  if (on(W.CAT_FLOW)) rec2(W.TAG_FLOW_BEGIN, flow, name);
  return flow;
}

export function flowEnd(flow: u32): void {
  if (flowOf(currentTask) == flow) setFlowOf(currentTask, 0);
  if (on(W.CAT_FLOW)) rec1(W.TAG_FLOW_END, flow);
}

/** The current task now serves `flow` (it received a message that carried it). */
export function flowEnter(flow: u32): void {
  flowEnterTask(currentTask, flow);
}

export function flowEnterTask(task: u32, flow: u32): void {
  if (flowOf(task) == flow) return;
  setFlowOf(task, flow);
  if (on(W.CAT_FLOW)) rec2(W.TAG_FLOW_ENTER, task, flow);
}

/** The flow the current task serves (0 = none). */
export function currentFlow(): u32 {
  return flowOf(currentTask);
}

// ---- logs, marks, counters, memory ----

function logHeader(format: u32, level: u8, argc: u8): usize {
  const p = beginEvent(W.TAG_LOG, 6 + <i32>argc * 10, rawClock());
  if (p == 0) return 0;
  const q = putU32(p, format);
  store<u8>(q, (level << 4) | argc);
  return q + 1;
}

/** A log line: `format` is an interned format name, `{}` marks each argument. Levels 0..4. */
export function log0(format: u32, level: u8): void {
  if (!on(W.CAT_LOG)) return;
  const p = logHeader(format, level, 0);
  if (p != 0) endEvent(p);
}

export function log1(format: u32, level: u8, a: i64): void {
  if (!on(W.CAT_LOG)) return;
  const p = logHeader(format, level, 1);
  if (p != 0) endEvent(putZigzag(p, a));
}

export function log2(format: u32, level: u8, a: i64, b: i64): void {
  if (!on(W.CAT_LOG)) return;
  let p = logHeader(format, level, 2);
  if (p == 0) return;
  p = putZigzag(p, a);
  endEvent(putZigzag(p, b));
}

export function log3(format: u32, level: u8, a: i64, b: i64, c: i64): void {
  if (!on(W.CAT_LOG)) return;
  let p = logHeader(format, level, 3);
  if (p == 0) return;
  p = putZigzag(p, a);
  p = putZigzag(p, b);
  endEvent(putZigzag(p, c));
}

export function log4(format: u32, level: u8, a: i64, b: i64, c: i64, d: i64): void {
  if (!on(W.CAT_LOG)) return;
  let p = logHeader(format, level, 4);
  if (p == 0) return;
  p = putZigzag(p, a);
  p = putZigzag(p, b);
  p = putZigzag(p, c);
  endEvent(putZigzag(p, d));
}

export function mark(name: u32): void {
  if (on(W.CAT_MARK)) rec1(W.TAG_MARK, name);
}

export function counter(name: u32, value: i64): void {
  if (!on(W.CAT_MARK)) return;
  let p = beginEvent(W.TAG_COUNTER, 15, rawClock());
  if (p == 0) return;
  p = putU32(p, name);
  endEvent(putZigzag(p, value));
}

/** A sample of the memory `task` holds, in bytes. */
export function memSample(task: u32, bytes: u32): void {
  if (!on(W.CAT_MEM)) return;
  let p = beginEvent(W.TAG_MEM, 15, rawClock());
  if (p == 0) return;
  p = putU32(p, task);
  endEvent(putU32(p, bytes));
}

// ---- executor idle, interrupts ----

/** True between idleBegin and idleEnd: a host that drains in-process waits for this so the drain
 *  lands in idle time instead of inside a poll (see taskscope_drain_hint). */
export let executorIdle = false;

/** The executor waits for work (nothing ready): call outside any poll, idleEnd when it resumes. */
// @ts-ignore: decorator
@inline export function idleBegin(): void {
  if (on(W.CAT_IDLE)) rec0(W.TAG_IDLE_BEGIN);
  executorIdle = true;
}

// @ts-ignore: decorator
@inline export function idleEnd(): void {
  if (on(W.CAT_IDLE)) rec0(W.TAG_IDLE_END); // its clock read happens while still idle
  executorIdle = false;
}

export function isrEnter(irq: u32): void {
  isrDepth++;
  isrCurrent = irq;
  if (on(W.CAT_ISR)) rec1(W.TAG_ISR_ENTER, irq);
}

export function isrExit(irq: u32): void {
  if (isrDepth > 0) isrDepth--;
  if (on(W.CAT_ISR)) rec1(W.TAG_ISR_EXIT, irq);
}

// ---- timers ----

/** The current task armed a timer of resource `res` (kind timer) for `deadline` (device ticks,
 *  as `now()` counts them). Arming again replaces the task's previous deadline. */
export function timerArm(res: u32, deadline: u64): void {
  if (!on(W.CAT_TIMER)) return;
  setLastResource(res);
  let p = beginEvent(W.TAG_TIMER_ARM, 15, rawClock());
  if (p == 0) return;
  p = putU32(p, res);
  // beginEvent extended the clock to this event's time: the deadline goes as a signed distance.
  endEvent(putZigzag(p, <i64>(deadline - lastTicks())));
}

/** The executor found `task`'s timer (resource `res`) due; the wake it causes follows. */
export function timerFire(task: u32, res: u32): void {
  if (!on(W.CAT_TIMER)) return;
  setLastResource(res);
  rec2(W.TAG_TIMER_FIRE, task, res);
}

/** `task`'s timer (resource `res`) fired and woke it with the waker the timer held: TIMER_FIRE,
 *  the wake and the waker's drop. Outside polls and interrupts (an executor's timer check) this
 *  is one wire event (TIMER_FIRE_WAKE); elsewhere the three are recorded as usual. */
export function timerFireWake(task: u32, res: u32): void {
  if ((filter & (W.CAT_TIMER | W.CAT_WAKE)) == (W.CAT_TIMER | W.CAT_WAKE) && currentTask == 0 && isrDepth == 0) {
    setLastResource(res);
    rec2(W.TAG_TIMER_FIRE_WAKE, task, res, 3);
  } else {
    timerFire(task, res);
    wakeAndDrop(task);
  }
}
