// A small cooperative executor whose scheduling is recorded through the taskscope core as a side
// effect: an application spawns tasks and awaits resources; every spawn, poll, wake, waker
// hand-off, await point and task end lands in the trace without tracing code in the tasks.
//
// Tasks are hand-written state machines (AssemblyScript has no closures or async): a Task's
// poll() runs until it would block, records where it parks (via the resource it awaits) and
// returns false (Pending), or returns true (Ready) when finished.
//
// Storage is fixed at construction: a slab of MAX_TASKS slots indexed by task id, an intrusive
// ready list and an indexed timer heap over the same ids. Nothing in the steady state allocates
// except what the application itself creates (cx.waker() is the one convenience that does).
//
// Only one executor may exist at a time (a new one may replace one whose tasks have all ended):
// the core's task ids, current task and flow table are global, so two executors would hand out
// colliding ids in the same trace.

import * as ts from "../../core/index";
import { waitUntil } from "./platform";

/** Task slots (ids 1..MAX_TASKS). Override with `asc --use EXECUTOR_MAX_TASKS=n`. */
// @ts-ignore: compile-time constant supplied by --use
export const MAX_TASKS: i32 = isDefined(EXECUTOR_MAX_TASKS) ? EXECUTOR_MAX_TASKS : 64;
// Ids at or above the core's MAX_TASKS lose flow tracking; ids share a u32 handle with a
// 16-bit generation. (A static check that survives noAssert, unlike assert().)
if (MAX_TASKS < 1 || MAX_TASKS >= ts.MAX_TASKS || MAX_TASKS > 0xffff) {
  ERROR("EXECUTOR_MAX_TASKS must be 1..(TASKSCOPE_MAX_TASKS - 1) and <= 65535");
}

/** run() result: every task ended. */
export const RUN_DONE: i32 = 0;
/** run() result: tasks remain but none is ready and no timer is armed, so nothing can ever wake
 *  them (a lost wake-up or a deadlock). A real executor would sleep forever; we return so the
 *  application can report the stuck tasks (see liveTasks/parkedSite) and end the run. */
export const RUN_STUCK: i32 = 1;
/** run() result: the deadline passed with tasks remaining (e.g. a periodic task keeps a timer
 *  armed while another task waits forever, which RUN_STUCK cannot see). */
export const RUN_TIMEOUT: i32 = 2;

// A handle names one incarnation of a task: generation << 16 | id. Ids are reused after a task
// ends; the generation lets stale handles (wakers or joins outliving their task) be recognised.
// @ts-ignore: decorator
@inline function idOf(handle: u32): u32 {
  return handle & 0xffff;
}
// @ts-ignore: decorator
@inline function genOf(handle: u32): u32 {
  return handle >> 16;
}

let instance: Executor | null = null;

/** Stops the program on a misuse of the executor. The device target compiles `abort` away
 *  (asconfig `abort=`), so there it is a plain trap without the message. */
export function fail(message: string): void {
  if (isDefined(ASC_WASI)) abort(message);
  unreachable();
}

/** The executor that is currently constructed. Resources use it to schedule the tasks they wake. */
export function executor(): Executor {
  const ex = instance;
  if (ex === null) fail("taskscope executor: no Executor constructed");
  return changetype<Executor>(ex);
}

/** A task: a state machine the executor polls. Keep per-await state in fields. */
export abstract class Task {
  /** Advances the task; returns true when it has finished (Ready), false when it parked
   *  (Pending) after arranging to be woken (awaiting a resource, a timer, a join or a yield). */
  abstract poll(cx: Context): bool;

  /** Called when the task is cancelled before it finished: release what it holds (unlock a
   *  mutex, drop wakers you stored yourself). Runs outside any poll. */
  onCancel(): void {}
}

/** What a poll knows about itself: the task being polled and how to get woken. One Context is
 *  reused for every poll. */
export class Context {
  /** Task id (1..MAX_TASKS), as recorded in the trace. */
  id: u32 = 0;
  /** Handle of this incarnation of the task (for join/cancel and wakers). */
  handle: u32 = 0;

  /** The executor polling this task. */
  get executor(): Executor {
    return executor();
  }

  /** A new stored waker for this task (records WAKER_CLONE). Allocates; long-lived futures
   *  should own a Waker and call waker.register(cx) on each Pending instead. */
  waker(): Waker {
    const w = new Waker();
    w.register(this);
    return w;
  }

  /** Reschedules this task behind the others that are ready (records WAKE_SELF and AWAIT);
   *  the caller then returns false. Lets a long computation share the CPU. */
  yieldNow(site: u32): void {
    ts.wake(this.id); // by reference: no waker is stored, so no clone/drop pair
    this.executor.schedule(this.id);
    this.park(site, 0);
  }

  /** Records that the task parks at `site` waiting on resource `res` (0 = none). Call just
   *  before returning false; the built-in resources do it for you. */
  park(site: u32, res: u32): void {
    ts.awaitAt(site, res);
    this.executor.noteParked(this.id, site, res);
  }
}

/** A stored waker: remembers one task and makes it runnable once. Waking consumes it (wake then
 *  WAKER_DROP); dropping it unused records WAKER_DROP only. A Waker object can be reused:
 *  register() again after it was consumed. */
export class Waker {
  private handle: u32 = 0;

  /** True while it holds a task. */
  get isSet(): bool {
    return this.handle != 0;
  }

  /** The task id it holds (0 if empty). */
  get task(): u32 {
    return idOf(this.handle);
  }

  /** Stores a waker for the polled task. Registering the task it already holds records nothing
   *  (a re-poll of a still-parked task); holding another task's waker drops that one first. */
  register(cx: Context): void {
    if (this.handle == cx.handle) return;
    if (this.handle != 0) this.drop();
    this.handle = cx.handle;
    ts.wakerClone(cx.id);
  }

  /** Wakes the task (recorded with its inferred source) and consumes the waker. */
  wake(): void {
    const h = this.handle;
    if (h == 0) return;
    this.handle = 0;
    executor().wakeHandle(h);
  }

  /** Releases the waker without waking. */
  drop(): void {
    const h = this.handle;
    if (h == 0) return;
    this.handle = 0;
    executor().dropWaker(h);
  }
}

/** A FIFO of parked tasks' wakers, for resources with several waiters. Each task appears at most
 *  once, so re-polling a parked task does not record a second clone. */
export class WaitQueue {
  private q: StaticArray<u32>;
  private head: i32 = 0;
  private count: i32 = 0;

  constructor(capacity: i32 = MAX_TASKS) {
    this.q = new StaticArray<u32>(capacity);
  }

  get length(): i32 {
    return this.count;
  }

  /** Stores the polled task's waker (records WAKER_CLONE unless it is already queued). */
  register(cx: Context): void {
    const cap = this.q.length;
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.q[(this.head + i) % cap]) == cx.handle) return;
    }
    if (this.count == cap) this.purgeStale();
    if (this.count == cap) fail("taskscope executor: WaitQueue full");
    unchecked((this.q[(this.head + this.count) % cap] = cx.handle));
    this.count++;
    ts.wakerClone(cx.id);
    cx.executor.noteWaitingIn(cx.id, this);
  }

  /** Removes the waker of task incarnation `handle` if it is queued (records WAKER_DROP).
   *  The executor calls it when a task ends while parked here. */
  remove(handle: u32): bool {
    const cap = this.q.length;
    for (let i = 0; i < this.count; i++) {
      if (unchecked(this.q[(this.head + i) % cap]) != handle) continue;
      // Close the gap, keeping FIFO order of the others.
      for (let j = i; j < this.count - 1; j++) {
        unchecked((this.q[(this.head + j) % cap] = unchecked(this.q[(this.head + j + 1) % cap])));
      }
      this.count--;
      executor().dropWaker(handle);
      return true;
    }
    return false;
  }

  /** Wakes the longest-waiting task that still exists; returns false if there was none.
   *  Wakers of tasks that ended meanwhile are dropped on the way. */
  wakeOne(): bool {
    const ex = executor();
    while (this.count > 0) {
      const h = this.pop();
      if (ex.isAlive(h)) {
        ex.wakeHandle(h);
        return true;
      }
      ex.dropWaker(h);
    }
    return false;
  }

  /** Wakes every waiting task. */
  wakeAll(): void {
    while (this.wakeOne()) {}
  }

  /** Drops every stored waker without waking (e.g. the resource is going away). */
  dropAll(): void {
    const ex = executor();
    while (this.count > 0) ex.dropWaker(this.pop());
  }

  private pop(): u32 {
    const h = unchecked(this.q[this.head]);
    this.head = (this.head + 1) % this.q.length;
    this.count--;
    return h;
  }

  // Entries of tasks that ended while parked here: their wakers are released.
  private purgeStale(): void {
    const ex = executor();
    const n = this.count;
    for (let i = 0; i < n; i++) {
      const h = this.pop();
      if (ex.isAlive(h)) {
        unchecked((this.q[(this.head + this.count) % this.q.length] = h));
        this.count++;
      } else {
        ex.dropWaker(h);
      }
    }
  }
}

export class Executor {
  // Slot arrays indexed by task id; index 0 is the ready list's sentinel.
  private tasks: StaticArray<Task | null> = new StaticArray<Task | null>(MAX_TASKS + 1);
  private gen: StaticArray<u16> = new StaticArray<u16>(MAX_TASKS + 1);
  private alive: StaticArray<bool> = new StaticArray<bool>(MAX_TASKS + 1);
  private queued: StaticArray<bool> = new StaticArray<bool>(MAX_TASKS + 1);
  private cancelPending: StaticArray<bool> = new StaticArray<bool>(MAX_TASKS + 1);
  private nameOf: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private joiner: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private blockedOn: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private parkSite: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private parkRes: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private polls: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  // Where the executor's own resources hold a task's waker, so ending the task releases it
  // (as dropping a future deregisters it): the wait queue it last parked in, the task it joins.
  private waitingIn: StaticArray<WaitQueue | null> = new StaticArray<WaitQueue | null>(MAX_TASKS + 1);
  private joining: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);

  // Ready list: circular, doubly linked through the slots, so a task that ends while queued
  // is unlinked in O(1) and the list never needs more room than the slab.
  private rnext: StaticArray<u16> = new StaticArray<u16>(MAX_TASKS + 1);
  private rprev: StaticArray<u16> = new StaticArray<u16>(MAX_TASKS + 1);
  private readyCount: i32 = 0;

  // Free ids, FIFO: an id is reused as late as possible, so a trace reader rarely sees an id
  // come back while late events of its previous task are still around.
  private freeIds: StaticArray<u16> = new StaticArray<u16>(MAX_TASKS);
  private freeHead: i32 = 0;
  private freeCount: i32 = 0;

  // Timers: an indexed binary heap of task ids ordered by (deadline, arming order). A task
  // sleeps on at most one deadline, so the heap never exceeds the slab, and a task that ends
  // while sleeping is removed in O(log n) instead of leaving a stale entry.
  private heap: StaticArray<u16> = new StaticArray<u16>(MAX_TASKS);
  private heapPos: StaticArray<i32> = new StaticArray<i32>(MAX_TASKS + 1);
  private timerAt: StaticArray<u64> = new StaticArray<u64>(MAX_TASKS + 1);
  private timerSeq: StaticArray<u32> = new StaticArray<u32>(MAX_TASKS + 1);
  private heapLen: i32 = 0;
  private nextSeq: u32 = 0;

  private running: u32 = 0;
  private live: i32 = 0;
  private cx: Context;

  /** The one timer resource of this executor. Every sleeping task awaits it: a resource per
   *  Sleep would cost a RES_CREATE/RES_DROP pair (and a fresh resource id) per sleep, while the
   *  await site already tells sleeps apart. */
  readonly timerResource: u32;

  /** Call after ts.init(): the timer resource is recorded at construction. */
  constructor() {
    const prev = instance;
    if (prev !== null && prev.live > 0) fail("taskscope executor: one Executor at a time");
    this.cx = new Context();
    instance = this;
    for (let i = 0; i < MAX_TASKS; i++) unchecked((this.freeIds[i] = <u16>(i + 1)));
    this.freeCount = MAX_TASKS;
    for (let i = 0; i <= MAX_TASKS; i++) unchecked((this.heapPos[i] = -1));
    this.timerResource = ts.resourceCreate(ts.RES_TIMER, ts.resourceName("timer"), <u32>MAX_TASKS);
  }

  // ---- spawning, joining, cancelling ----

  /** Starts `task` under the interned task name `name` (ts.taskName at start-up) and returns its
   *  handle (0 if all MAX_TASKS slots are in use). A spawn from inside a poll records the polled
   *  task as the parent; the child inherits its flow. */
  spawn(task: Task, name: u32): u32 {
    if (this.freeCount == 0) return 0;
    const id = <u32>unchecked(this.freeIds[this.freeHead]);
    this.freeHead = (this.freeHead + 1) % MAX_TASKS;
    this.freeCount--;
    const g = <u16>(unchecked(this.gen[id]) + 1);
    unchecked((this.gen[id] = g));
    unchecked((this.tasks[id] = task));
    unchecked((this.alive[id] = true));
    unchecked((this.cancelPending[id] = false));
    unchecked((this.nameOf[id] = name));
    unchecked((this.joiner[id] = 0));
    unchecked((this.blockedOn[id] = 0));
    unchecked((this.parkSite[id] = 0));
    unchecked((this.parkRes[id] = 0));
    unchecked((this.polls[id] = 0));
    unchecked((this.waitingIn[id] = null));
    unchecked((this.joining[id] = 0));
    this.live++;
    ts.taskSpawn(id, this.running, name);
    this.schedule(id);
    return (<u32>g << 16) | id;
  }

  /** Awaits the end (completion or cancellation) of the task `child` (a spawn handle). Returns
   *  true once it has ended; otherwise parks the polled task at `site` (one joiner per task). */
  join(cx: Context, child: u32, site: u32): bool {
    if (!this.isAlive(child)) return true;
    const id = idOf(child);
    const j = unchecked(this.joiner[id]);
    if (j != cx.handle) {
      if (j != 0) this.dropWaker(j);
      unchecked((this.joiner[id] = cx.handle));
      unchecked((this.joining[cx.id] = child));
      ts.wakerClone(cx.id);
    }
    cx.park(site, 0);
    return false;
  }

  /** Cancels a task before it finishes (records TASK_CANCEL, wakes its joiner). A task may
   *  cancel itself: it ends when its current poll returns. False if it had already ended. */
  cancel(handle: u32): bool {
    if (!this.isAlive(handle)) return false;
    const id = idOf(handle);
    if (id == this.running) {
      unchecked((this.cancelPending[id] = true));
    } else {
      this.finish(id, true);
    }
    return true;
  }

  /** Cancels every remaining task, e.g. after run() returned RUN_STUCK. */
  cancelAll(): void {
    for (let id: u32 = 1; id <= <u32>MAX_TASKS; id++) {
      if (unchecked(this.alive[id])) this.cancel(this.handleOf(id));
    }
  }

  // ---- the run loop ----

  /** Polls ready tasks until every task has ended (RUN_DONE), nothing can make progress
   *  (RUN_STUCK), or the device clock passes `deadline` (RUN_TIMEOUT; ticks, e.g.
   *  `ts.now() + ex.ticksFromMs(2000)`). Sleeps (recorded as idle) while only timers are
   *  pending. May be called again to continue. */
  run(deadline: u64 = u64.MAX_VALUE): i32 {
    const bounded = deadline != u64.MAX_VALUE;
    while (true) {
      if (this.heapLen > 0 || bounded) {
        const now = ts.now();
        if (this.heapLen > 0) this.fireTimers(now);
        if (now >= deadline) return this.live == 0 ? RUN_DONE : RUN_TIMEOUT;
      }
      // Poll the tasks that are ready now, then look at the clock again: timers due meanwhile
      // join the queue behind them, so a busy executor cannot starve sleepers indefinitely.
      let batch = this.readyCount;
      if (batch > 0) {
        while (batch-- > 0 && this.readyCount > 0) this.pollOne(this.popReady());
        continue;
      }
      if (this.live == 0) return RUN_DONE;
      // Nothing ready and no timer: no event inside the executor can ever wake a task again.
      if (this.heapLen == 0) return RUN_STUCK;
      const next = unchecked(this.timerAt[unchecked(this.heap[0])]);
      ts.idleBegin();
      waitUntil(next < deadline ? next : deadline);
      ts.idleEnd();
    }
  }

  private pollOne(id: u32): void {
    const task = unchecked(this.tasks[id]);
    if (task === null) return;
    const cx = this.cx;
    cx.id = id;
    cx.handle = this.handleOf(id);
    this.running = id;
    unchecked((this.polls[id] = unchecked(this.polls[id]) + 1));
    ts.pollBegin(id);
    const ready = task.poll(cx);
    ts.pollEnd(ready);
    this.running = 0;
    if (ready) {
      this.finish(id, false);
    } else if (unchecked(this.cancelPending[id])) {
      this.finish(id, true);
    }
  }

  private finish(id: u32, cancelled: bool): void {
    if (unchecked(this.queued[id])) this.unlinkReady(id);
    // Release the wakers our own resources hold for this task, as dropping a future would: a
    // task that ends (usually cancelled) while parked leaves no live waker behind. Wakers the
    // application stored itself are its business (Task.onCancel).
    const handle = this.handleOf(id);
    if (unchecked(this.heapPos[id]) >= 0) {
      this.heapRemove(id);
      ts.wakerDrop(id);
    }
    const queue = unchecked(this.waitingIn[id]);
    if (queue !== null) {
      unchecked((this.waitingIn[id] = null));
      queue.remove(handle);
    }
    const child = unchecked(this.joining[id]);
    if (child != 0) {
      unchecked((this.joining[id] = 0));
      const cid = idOf(child);
      if (this.isAlive(child) && unchecked(this.joiner[cid]) == handle) {
        unchecked((this.joiner[cid] = 0));
        ts.wakerDrop(id);
      }
    }
    if (cancelled) {
      const task = unchecked(this.tasks[id]);
      if (task !== null) task.onCancel();
    }
    ts.taskEnd(id, cancelled);
    unchecked((this.alive[id] = false));
    unchecked((this.tasks[id] = null));
    this.live--;
    const j = unchecked(this.joiner[id]);
    unchecked((this.joiner[id] = 0));
    if (j != 0) {
      if (this.isAlive(j)) {
        const jid = idOf(j);
        // Completion wakes the joiner on behalf of the task that ended; a cancellation from
        // inside another poll is that task's doing (the core infers it).
        // (The wake uses up the stored waker: wake and WAKER_DROP in one wire event.)
        if (this.running == 0) ts.wakeByTaskAndDrop(jid, id);
        else ts.wakeAndDrop(jid);
        this.schedule(jid);
      } else {
        this.dropWaker(j);
      }
    }
    // Freed last, after every event that names the id.
    unchecked((this.freeIds[(this.freeHead + this.freeCount) % MAX_TASKS] = <u16>id));
    this.freeCount++;
  }

  // ---- wakes ----

  /** Makes task `id` runnable (no event; callers record the wake). A task already in the ready
   *  queue stays where it is; a task woken during its own poll is queued behind the others. */
  schedule(id: u32): void {
    if (unchecked(this.queued[id]) || !unchecked(this.alive[id])) return;
    unchecked((this.queued[id] = true));
    const tail = <u32>unchecked(this.rprev[0]);
    unchecked((this.rnext[tail] = <u16>id));
    unchecked((this.rprev[id] = <u16>tail));
    unchecked((this.rnext[id] = 0));
    unchecked((this.rprev[0] = <u16>id));
    this.readyCount++;
  }

  /** Consumes a stored waker: records the wake (source inferred by the core), schedules the task
   *  and records WAKER_DROP. A waker whose task has ended only releases. */
  wakeHandle(h: u32): void {
    if (!this.isAlive(h)) {
      this.dropWaker(h);
      return;
    }
    const id = idOf(h);
    ts.wakeAndDrop(id);
    this.schedule(id);
  }

  /** Releases a stored waker without waking. Recorded unless its task id has been reused since
   *  (then the drop would be charged to the wrong task in the trace). */
  dropWaker(h: u32): void {
    const id = idOf(h);
    if (id == 0 || id > <u32>MAX_TASKS) return;
    if (<u32>unchecked(this.gen[id]) == genOf(h)) ts.wakerDrop(id);
  }

  // ---- timers ----

  /** Converts milliseconds to device ticks. */
  ticksFromMs(ms: u32): u64 {
    return (<u64>ms * <u64>ts.tickHz()) / 1000;
  }

  /** Converts microseconds to device ticks. */
  ticksFromUs(us: u32): u64 {
    return (<u64>us * <u64>ts.tickHz()) / 1_000_000;
  }

  /** Returns true once the device clock has reached `deadline` (ticks); otherwise arms the
   *  polled task's timer (the timer stores its waker) and parks it at `site`, on the timer
   *  resource or on `res` (an I/O device whose completion the timer stands in for). */
  sleepUntil(cx: Context, deadline: u64, site: u32, res: u32 = 0): bool {
    const id = cx.id;
    const armed = unchecked(this.heapPos[id]) >= 0;
    if (ts.now() >= deadline) {
      if (armed) {
        // Polled for another reason right at the deadline: the timer's waker goes unused.
        this.heapRemove(id);
        ts.wakerDrop(id);
      }
      return true;
    }
    if (!armed) {
      unchecked((this.timerAt[id] = deadline));
      unchecked((this.timerSeq[id] = this.nextSeq++));
      this.heapInsert(id);
      ts.wakerClone(id);
      ts.timerArm(this.timerResource, deadline);
    } else if (unchecked(this.timerAt[id]) != deadline) {
      // Re-armed for another deadline: same stored waker, new position.
      this.heapRemove(id);
      unchecked((this.timerAt[id] = deadline));
      unchecked((this.timerSeq[id] = this.nextSeq++));
      this.heapInsert(id);
      ts.timerArm(this.timerResource, deadline);
    }
    cx.park(site, res != 0 ? res : this.timerResource);
    return false;
  }

  private fireTimers(now: u64): void {
    while (this.heapLen > 0) {
      const id = <u32>unchecked(this.heap[0]);
      if (unchecked(this.timerAt[id]) > now) return;
      this.heapRemove(id);
      // TIMER_FIRE (how late it fired: this time minus its deadline), the wake (outside any
      // poll: external) and the drop of the waker the timer held, as one wire event.
      ts.timerFireWake(id, this.timerResource);
      this.schedule(id);
    }
  }

  // @ts-ignore: decorator
  @inline private before(a: u32, b: u32): bool {
    const ta = unchecked(this.timerAt[a]);
    const tb = unchecked(this.timerAt[b]);
    return ta < tb || (ta == tb && <i32>(unchecked(this.timerSeq[a]) - unchecked(this.timerSeq[b])) < 0);
  }

  private heapSet(i: i32, id: u32): void {
    unchecked((this.heap[i] = <u16>id));
    unchecked((this.heapPos[id] = i));
  }

  private heapInsert(id: u32): void {
    let i = this.heapLen++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pid = <u32>unchecked(this.heap[parent]);
      if (!this.before(id, pid)) break;
      this.heapSet(i, pid);
      i = parent;
    }
    this.heapSet(i, id);
  }

  private heapRemove(id: u32): void {
    const i = unchecked(this.heapPos[id]);
    unchecked((this.heapPos[id] = -1));
    const last = <u32>unchecked(this.heap[--this.heapLen]);
    if (last == id) return;
    // Put the last entry in the hole and restore the order in whichever direction it breaks.
    let k = i;
    while (k > 0) {
      const parent = (k - 1) >> 1;
      const pid = <u32>unchecked(this.heap[parent]);
      if (!this.before(last, pid)) break;
      this.heapSet(k, pid);
      k = parent;
    }
    if (k == i) {
      while (true) {
        const l = 2 * k + 1;
        if (l >= this.heapLen) break;
        let c = l;
        if (l + 1 < this.heapLen && this.before(<u32>unchecked(this.heap[l + 1]), <u32>unchecked(this.heap[l]))) c = l + 1;
        const cid = <u32>unchecked(this.heap[c]);
        if (!this.before(cid, last)) break;
        this.heapSet(k, cid);
        k = c;
      }
    }
    this.heapSet(k, last);
  }

  // ---- ready list ----

  private popReady(): u32 {
    const id = <u32>unchecked(this.rnext[0]);
    this.unlinkReady(id);
    return id;
  }

  private unlinkReady(id: u32): void {
    const n = unchecked(this.rnext[id]);
    const p = unchecked(this.rprev[id]);
    unchecked((this.rnext[p] = n));
    unchecked((this.rprev[n] = p));
    unchecked((this.queued[id] = false));
    this.readyCount--;
  }

  // ---- bookkeeping used by resources ----

  /** OUTCOME_UNBLOCKED if the polled task had been blocked on `res` (clearing that), else
   *  OUTCOME_OK. Resources call it when an operation succeeds. */
  outcomeFor(cx: Context, res: u32): u8 {
    if (unchecked(this.blockedOn[cx.id]) == res) {
      unchecked((this.blockedOn[cx.id] = 0));
      return ts.OUTCOME_UNBLOCKED;
    }
    return ts.OUTCOME_OK;
  }

  /** Remembers that the polled task blocked on `res` (so its eventual success is UNBLOCKED). */
  markBlocked(cx: Context, res: u32): void {
    unchecked((this.blockedOn[cx.id] = res));
  }

  noteWaitingIn(id: u32, queue: WaitQueue): void {
    unchecked((this.waitingIn[id] = queue));
  }

  noteParked(id: u32, site: u32, res: u32): void {
    unchecked((this.parkSite[id] = site));
    unchecked((this.parkRes[id] = res));
  }

  // ---- introspection (for reports of stuck runs and for tests) ----

  /** True while the task incarnation `handle` has not ended. */
  isAlive(handle: u32): bool {
    const id = idOf(handle);
    if (id == 0 || id > <u32>MAX_TASKS) return false;
    return unchecked(this.alive[id]) && <u32>unchecked(this.gen[id]) == genOf(handle);
  }

  /** Current handle of task id `id` (meaningful while it is alive). */
  handleOf(id: u32): u32 {
    return ((<u32>unchecked(this.gen[id])) << 16) | id;
  }

  /** Number of tasks that have not ended. */
  get liveTasks(): i32 {
    return this.live;
  }

  /** The task being polled (0 outside polls). */
  get runningTask(): u32 {
    return this.running;
  }

  /** Next live task id after `after` (0 when there is none): `for (let id = ex.nextLive(0);
   *  id != 0; id = ex.nextLive(id))`. */
  nextLive(after: u32): u32 {
    for (let id = after + 1; id <= <u32>MAX_TASKS; id++) if (unchecked(this.alive[id])) return id;
    return 0;
  }

  /** Task name id given at spawn. */
  taskNameOf(id: u32): u32 {
    return unchecked(this.nameOf[id]);
  }

  /** Await site and resource where task `id` last parked (0 if it never did). */
  parkedSite(id: u32): u32 {
    return unchecked(this.parkSite[id]);
  }

  parkedResource(id: u32): u32 {
    return unchecked(this.parkRes[id]);
  }

  /** Polls of task `id` so far (of its current or last incarnation). */
  pollCount(id: u32): u32 {
    return unchecked(this.polls[id]);
  }
}
