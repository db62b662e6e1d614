// The device clock an in-process puller gives a WASI program: wall time with the observer's own
// time taken out. Two kinds of time are not the program's and would otherwise show up inside
// whatever it was doing (a poll that looks long, a wake that looks late):
//   - the host's, inside the program's clock calls: drains, progress text, first-call costs, a
//     GC that an allocation there triggered. The program is stopped while its clock call runs,
//     so everything between entering and leaving the call is skipped (enter/leave).
//   - the host's when the program sleeps: a WASI sleep (poll_oneoff) that returns later than the
//     program asked for (sleptOver).
//   - the OS's: the thread was runnable but another process had the CPU. Linux counts this per
//     thread ("run-queue wait", /proc/thread-self/schedstat, 2nd field). When the program ran
//     for at least `gapNs` between two clock calls, the clock reads that counter and skips what
//     it grew by (at most the gap). Between gaps the counter is re-read now and then
//     (`rebaseNs`) without skipping, so short waits stay where they were instead of piling onto
//     the next gap.
//   - the engine's: a garbage collection that starts after the clock call's last reading (set off
//     by the allocation of that reading's own result, say) runs in the program's time. A heap
//     that shrank between two calls shows it; the collector's own record gives its pause.
// What is skipped is counted (StallAccount) and stored with the trace, so the report can say how
// much time the clock hid. Pure arithmetic: the counter and the times are passed in.

import { closeSync, openSync, readSync } from "node:fs";
import type { StallInfo } from "../tracefile/schema.js";

/** What the clock skipped: the trace file's `stalls` item (FORMAT.md section 6). */
export type StallAccount = StallInfo;

export interface StallClockOptions {
  /** Cumulative run-queue wait of this thread, ns (undefined: unknown on this OS). */
  runQueueNs?: () => number;
  /** CPU time of this thread so far, ns: with it, a long gap is also checked for time the
   *  thread was neither running nor waiting for a CPU (blocked in the host). */
  cpuNs?: () => number;
  /** A gap between two readings at least this long is checked against the counter (ns). */
  gapNs?: number;
  /** Re-read the counter (without removing anything) at least this often (ns). */
  rebaseNs?: number;
  /** Bytes in use on this thread's JS heap: between two readings it only drops when a garbage
   *  collection ran. With `gcPausesNs`, a collection in the program's time is skipped. */
  heapUsed?: () => number;
  /** The pauses of the collections since this was last called, ns (the collector's record). */
  gcPausesNs?: () => number;
}

const DEFAULT_GAP_NS = 200_000;
const DEFAULT_REBASE_NS = 5_000_000;

export class StallClock {
  readonly account: StallAccount;
  private readonly runQueue: (() => number) | undefined;
  private readonly cpu: (() => number) | undefined;
  private readonly gapNs: number;
  private readonly rebaseNs: number;
  /** Total hidden so far (observer + run queue), ns. */
  private hiddenNs = 0;
  private lastWallNs = Number.NaN;
  private enteredNs = 0;
  private lastOut = 0;
  private baseRunQueue = 0;
  private baseCpu = 0;
  private baseAtNs = 0;
  private readonly heapUsed: (() => number) | undefined;
  private readonly gcPauses: (() => number) | undefined;
  /** Heap in use when the current call began, and just before the last call's last reading. */
  private heapIn = 0;
  private heapMark = Number.POSITIVE_INFINITY;
  /** The host's own time in the last call (its length, less a sleep inside it), ns. */
  private callHostNs = 0;

  constructor(options: StallClockOptions = {}) {
    this.runQueue = options.runQueueNs;
    this.cpu = options.cpuNs;
    this.heapUsed = options.gcPausesNs ? options.heapUsed : undefined;
    this.gcPauses = options.gcPausesNs;
    this.gapNs = options.gapNs ?? DEFAULT_GAP_NS;
    this.rebaseNs = options.rebaseNs ?? DEFAULT_REBASE_NS;
    this.account = { observerNs: 0, runQueueNs: 0, count: 0, largestNs: 0, sleepOverNs: 0, runQueueKnown: this.runQueue !== undefined };
  }

  /** The program calls its clock at wall time `wallNs`: returns its device time (ns, same
   *  origin), which never goes backwards. The program ran since the previous leave(); a long
   *  run is checked for run-queue wait. */
  enter(wallNs: number): number {
    this.programRan(wallNs, this.collectedSinceMark());
    this.enteredNs = wallNs;
    const out = wallNs - this.hiddenNs;
    if (out > this.lastOut) this.lastOut = out;
    return this.lastOut;
  }

  /** The program ran from the previous reading to `wallNs`: a long run is checked against the
   *  run-queue counter, and what the thread waited for a CPU in it is skipped. */
  private programRan(wallNs: number, collectedNs: number): void {
    const ran = wallNs - this.lastWallNs;
    const rq = this.runQueue;
    if (!rq) {
      if (collectedNs > 0 && ran === ran) this.skip(0, Math.min(ran, collectedNs));
      return;
    }
    if (this.lastWallNs !== this.lastWallNs) {
      this.rebase(rq(), wallNs);
      return;
    }
    if (ran >= this.gapNs || collectedNs > 0) {
      const now = rq();
      const cpu = this.cpu?.();
      const waited = Math.min(Math.max(0, now - this.baseRunQueue), ran);
      // Between two of its host calls a WASI program cannot block: what the thread spent neither
      // running nor runnable (a page fault behind a lock that a preempted helper thread holds)
      // is the host's: a garbage collection waiting for its helper threads, which other processes
      // keep from a CPU. Run-queue wait and CPU time are the scheduler's exact counts for this
      // thread, so what is left of the gap is the time it was blocked.
      const blocked = cpu === undefined ? 0 : Math.max(0, ran - waited - Math.max(0, cpu - this.baseCpu));
      this.rebase(now, wallNs, cpu);
      // A collection's pause holds its own waits for a CPU and for its helper threads, so the
      // two overlap: skip the larger, never their sum (errs towards skipping less).
      const collected = Math.max(0, Math.min(ran, collectedNs) - waited - blocked);
      this.skip(waited + blocked, collected);
    } else if (wallNs - this.baseAtNs >= this.rebaseNs) {
      this.rebase(rq(), wallNs);
    }
  }

  private skip(osNs: number, engineNs: number): void {
    const total = osNs + engineNs;
    if (total <= 0) return;
    this.hiddenNs += total;
    this.account.runQueueNs += osNs;
    this.account.observerNs += engineNs;
    this.account.count++;
    if (total > this.account.largestNs) this.account.largestNs = total;
  }

  /** Called at the start of a host call: the pauses of collections that ran in the program's
   *  time since the last call's last reading (0 when the heap did not shrink). A collection that
   *  ran inside the last call, between its heap mark and its last reading, was hidden with the
   *  call: it is told apart by its pause, longer than all the host's time in that call. */
  private collectedSinceMark(): number {
    const heap = this.heapUsed;
    if (!heap) return 0;
    const now = heap();
    this.heapIn = now;
    if (now >= this.heapMark) return 0;
    this.heapMark = Number.POSITIVE_INFINITY;
    const paused = this.gcPauses!();
    return paused > this.callHostNs ? paused : 0;
  }

  /** Called just before a host call's last reading of the wall clock, after all its other work:
   *  notes the heap, so that a collection after that reading is found by the next call. One
   *  inside this call is hidden with it, so its pause is dropped from the collector's record. */
  markHeap(): void {
    const heap = this.heapUsed;
    if (!heap) return;
    const now = heap();
    if (now < this.heapIn) this.gcPauses!();
    this.heapMark = now;
  }

  /** The program starts a host sleep at `wallNs`. What it ran since its last reading is checked
   *  first: a wait for a CPU just before the sleep is not part of the sleep's overshoot, and
   *  would be lost when sleptOver starts counting afresh. */
  sleepBegins(wallNs: number): void {
    this.programRan(wallNs, this.collectedSinceMark());
    this.lastWallNs = wallNs;
  }

  /** The program was in its host's sleep call (WASI poll_oneoff) from `fromNs` to `toNs`, of
   *  which `sleptNs` in the sleep itself, after asking for `askedNs`. Device time moves on by
   *  what it asked for (less if the sleep returned early); everything else in the call is the
   *  host's and is skipped: timer slack, waking up late, waiting for a CPU after the timer
   *  fired, and the host's own work around the sleep (reading the request, a garbage collection
   *  an allocation there set off, whose helper threads may wait behind other processes). */
  sleptOver(fromNs: number, toNs: number, askedNs: number, sleptNs = toNs - fromNs, runQueueAtEnd?: number): void {
    const over = Math.max(0, toNs - fromNs - Math.min(askedNs, sleptNs));
    this.callHostNs = Math.max(0, toNs - fromNs - sleptNs);
    this.hiddenNs += over;
    this.account.sleepOverNs += over;
    // Any run-queue wait since the sleep began is inside that overshoot: start counting afresh
    // (from a reading taken before `toNs`, when the caller has one, so no host work is left
    // between the two).
    if (this.runQueue) this.rebase(runQueueAtEnd ?? this.runQueue(), toNs);
    this.lastWallNs = toNs;
  }

  /** The clock call returns at `wallNs`: the host's time inside it is hidden (a run-queue wait
   *  inside it too, so after a long one the counter is re-read). */
  leave(wallNs: number): void {
    const d = Math.max(0, wallNs - this.enteredNs);
    this.callHostNs = d;
    this.hiddenNs += d;
    this.account.observerNs += d;
    if (this.runQueue && d >= this.gapNs) this.rebase(this.runQueue(), wallNs);
    this.lastWallNs = wallNs;
  }

  private rebase(runQueueNs: number, wallNs: number, cpuNs = this.cpu?.()): void {
    this.baseRunQueue = runQueueNs;
    if (cpuNs !== undefined) this.baseCpu = cpuNs;
    this.baseAtNs = wallNs;
  }
}

/** This thread's scheduler counters from /proc/thread-self/schedstat, or undefined where the OS
 *  does not provide them: CPU time (1st field) and run-queue wait (2nd field), both cumulative ns
 *  and exact (the scheduler's own account, not tick samples). The file is opened once: a reading
 *  costs a few µs. */
export interface ThreadSchedReader {
  /** Time this thread spent on a CPU so far, ns. */
  cpuNs: () => number;
  /** Time this thread was runnable but waited for a CPU so far, ns. */
  runQueueNs: () => number;
  close: () => void;
}

export function threadSchedReader(): ThreadSchedReader | undefined {
  let fd: number;
  try {
    fd = openSync("/proc/thread-self/schedstat", "r");
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(96);
  // "<cpu ns> <run-queue wait ns> <timeslices>": the field-th number of the line.
  const field = (index: number): number => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    let i = 0;
    for (let skip = index; skip > 0; skip--) {
      while (i < n && buf[i] !== 0x20) i++;
      i++;
    }
    let v = 0;
    for (; i < n; i++) {
      const c = buf[i]! - 0x30;
      if (c < 0 || c > 9) break;
      v = v * 10 + c;
    }
    return v;
  };
  // The kernel brings a running thread's CPU time up to date only at a tick or a context switch
  // (steps of up to 4 ms at HZ=250), but getrusage (process.cpuUsage) brings the calling thread's
  // up to date first: after it the first field is exact to the nanosecond.
  const cpuNs = (): number => {
    process.cpuUsage();
    return field(0);
  };
  const runQueueNs = (): number => field(1);
  try {
    runQueueNs();
  } catch {
    closeSync(fd);
    return undefined;
  }
  return { cpuNs, runQueueNs, close: () => closeSync(fd) };
}
