// The WASI puller's clock (host/sources/stall-clock.ts) skips time that is not the program's: the
// puller's own work inside a clock call, and run-queue waits the OS reports. Driven with a fake
// run-queue counter and fake wall times, so the arithmetic is checked exactly.

import { describe, it, expect } from "vitest";
import { StallClock, threadSchedReader } from "../host/sources/stall-clock.js";

const US = 1_000;
const MS = 1_000_000;

/** A clock with a run-queue counter the test moves by hand. */
function clock() {
  let rq = 0;
  const c = new StallClock({ runQueueNs: () => rq });
  const call = (wall: number, hostWork = 0) => {
    const t = c.enter(wall);
    c.leave(wall + hostWork);
    return t;
  };
  return { c, call, wait: (ns: number) => (rq += ns) };
}

describe("StallClock", () => {
  it("skips the host's work inside a clock call, all of it", () => {
    const { c, call } = clock();
    expect(call(0)).toBe(0);
    expect(call(100 * US, 40 * MS)).toBe(100 * US); // a 40 ms drain inside this call
    expect(call(40 * MS + 200 * US)).toBe(200 * US); // the program ran 100 µs after it
    expect(c.account.observerNs).toBe(40 * MS);
  });

  it("skips run-queue wait that happened while the program ran, at most the time that passed", () => {
    const { c, call, wait } = clock();
    call(0);
    wait(3 * MS); // preempted for 3 ms inside a 4 ms stretch
    expect(call(4 * MS)).toBe(1 * MS);
    wait(10 * MS); // a counter that says more than the time that passed
    expect(call(6 * MS)).toBe(1 * MS);
    expect(c.account.runQueueNs).toBe(5 * MS);
    expect(c.account.count).toBe(2);
    expect(c.account.largestNs).toBe(3 * MS);
  });

  it("does not pile short waits between gaps onto the next gap", () => {
    const { c, call, wait } = clock();
    call(0);
    // 100 short stretches of 100 µs, each with 50 µs of run-queue wait (below the 200 µs gap):
    // the counter is re-read every 5 ms without skipping, so at most one re-read period's worth
    // can land on the next gap.
    let t = 0;
    for (let i = 0; i < 100; i++) {
      t += 100 * US;
      wait(50 * US);
      call(t);
    }
    wait(0);
    const before = c.account.runQueueNs;
    t += 10 * MS; // a legitimately long stretch of work, no waiting in it
    call(t);
    expect(c.account.runQueueNs - before).toBeLessThanOrEqual(5 * MS / 2);
  });

  it("skips what a sleep overran, and a wait for a CPU just before the sleep began", () => {
    const { c, call, wait } = clock();
    call(0);
    // The program read its clock at 0, asked to sleep 1 ms, but was preempted for 12 ms before
    // the sleep began; then the sleep itself returned 3 ms late, 2 ms of it waiting for a CPU.
    wait(12 * MS);
    c.sleepBegins(12 * MS + 50 * US);
    wait(2 * MS);
    c.sleptOver(12 * MS + 50 * US, 16 * MS + 50 * US, 1 * MS);
    // Device time: 50 µs of program before the sleep, the 1 ms asked for, nothing else.
    expect(call(16 * MS + 50 * US)).toBe(1 * MS + 50 * US);
    expect(c.account.runQueueNs).toBe(12 * MS);
    expect(c.account.sleepOverNs).toBe(3 * MS);
  });

  it("skips time the thread was blocked while the program ran, never time it spent on a CPU", () => {
    let rq = 0;
    let cpu = 0;
    const c = new StallClock({ runQueueNs: () => rq, cpuNs: () => cpu });
    const call = (wall: number) => {
      const t = c.enter(wall);
      c.leave(wall);
      return t;
    };
    call(0);
    // 10 ms passed: 2 ms on a CPU, 3 ms waiting for one, 5 ms blocked (the program cannot block).
    cpu += 2 * MS;
    rq += 3 * MS;
    expect(call(10 * MS)).toBe(2 * MS);
    // A long poll: 10 ms all on a CPU: all of it is the program's.
    cpu += 10 * MS;
    expect(call(20 * MS)).toBe(12 * MS);
    expect(c.account.runQueueNs).toBe(8 * MS);
  });

  describe("garbage collections in the program's time", () => {
    /** A clock with a fake heap and collector record: `collect(pauseNs)` is one collection. */
    function gcClock(withRunQueue = false) {
      let heap = 1_000_000;
      let pauses = 0;
      let rq = 0;
      const c = new StallClock({
        ...(withRunQueue ? { runQueueNs: () => rq } : {}),
        heapUsed: () => heap,
        gcPausesNs: () => {
          const p = pauses;
          pauses = 0;
          return p;
        },
      });
      /** One clock call: entered at `wall`, the host works `hostWork`, `atEnd` runs between the
       *  heap mark and the last reading (a collection set off there). */
      const call = (wall: number, hostWork = 0, atEnd?: () => void) => {
        const t = c.enter(wall);
        heap += 100; // the call's own allocations
        c.markHeap();
        atEnd?.();
        c.leave(wall + hostWork);
        return t;
      };
      const collect = (pauseNs: number) => {
        heap -= 500_000;
        pauses += pauseNs;
      };
      return { c, call, collect, wait: (ns: number) => (rq += ns) };
    }

    it("skips a collection that ran after a call's last reading, once", () => {
      const { c, call, collect } = gcClock();
      call(0, 10 * US);
      collect(6 * MS); // set off by the last reading's own allocation: in the program's time
      // 7 ms passed since the call left: 6 ms collecting, 1 ms of program.
      expect(call(7 * MS + 10 * US)).toBe(1 * MS);
      expect(call(8 * MS + 10 * US)).toBe(2 * MS);
      expect(c.account.observerNs).toBe(6 * MS + 10 * US);
    });

    it("does not skip again a collection that ran inside the call, which the call already hid", () => {
      const { c, call, collect } = gcClock();
      call(0);
      // The heap mark's own allocation set off a 6 ms collection before the last reading: the
      // call lasted 6 ms and all of it is hidden.
      call(1 * MS, 6 * MS, () => collect(6 * MS));
      expect(call(8 * MS)).toBe(2 * MS);
      expect(c.account.observerNs).toBe(6 * MS);
    });

    it("drops collections inside a call from the record, so a later one is not inflated", () => {
      const { c, call, collect } = gcClock();
      call(0);
      // A 30 ms collection inside a drain (before the call's heap mark), all hidden with the call.
      expect(c.enter(1 * MS)).toBe(1 * MS);
      collect(30 * MS);
      c.markHeap();
      c.leave(31 * MS);
      // Then a 2 ms one after a later call's last reading: only its own pause is skipped.
      call(32 * MS);
      collect(2 * MS);
      expect(call(35 * MS)).toBe(3 * MS);
      expect(c.account.observerNs).toBe(32 * MS);
    });

    it("counts a wait for a CPU inside the collection's pause once", () => {
      const { c, call, collect, wait } = gcClock(true);
      call(0);
      call(1 * MS);
      // 10 ms pass: a 9 ms collection of which 8 ms waiting for a CPU, then 1 ms of program.
      collect(9 * MS);
      wait(8 * MS);
      expect(call(11 * MS)).toBe(1 * MS + 1 * MS);
      expect(c.account.runQueueNs + c.account.observerNs).toBe(9 * MS);
    });
  });

  it("never goes backwards, and is plain wall time with nothing to skip", () => {
    const { call } = clock();
    const times = [0, 10, 20, 1_000, 300 * US, 301 * US].map((w) => call(w));
    expect(times).toEqual([0, 10, 20, 1_000, 300 * US, 301 * US]);
  });

  it("without a run-queue counter (not Linux) still skips the host's own work", () => {
    const c = new StallClock();
    c.enter(0);
    c.leave(5 * MS);
    expect(c.enter(6 * MS)).toBe(1 * MS);
    expect(c.account.runQueueKnown).toBe(false);
  });

  it("reads this thread's CPU time and run-queue counter on Linux", () => {
    const r = threadSchedReader();
    if (process.platform !== "linux") return expect(r).toBeUndefined();
    expect(r).toBeDefined();
    const a = r!.runQueueNs();
    const b = r!.runQueueNs();
    expect(Number.isInteger(a) && a >= 0).toBe(true);
    expect(b).toBeGreaterThanOrEqual(a);
    // CPU time is this thread's and up to date: spinning 20 ms of wall time (on a CPU most of it, even on a busy
    // machine) moves it by at least a millisecond and by no more than the wall time.
    const c0 = r!.cpuNs();
    const w0 = process.hrtime.bigint();
    while (process.hrtime.bigint() - w0 < 20_000_000n);
    const c1 = r!.cpuNs();
    const wall = Number(process.hrtime.bigint() - w0);
    expect(c1 - c0).toBeGreaterThan(1_000_000);
    expect(c1 - c0).toBeLessThanOrEqual(wall);
    // Up to date at each reading, not only at the scheduler's ticks: readings a few µs apart
    // differ, where the kernel's tick-updated figure would stay the same for milliseconds.
    let changes = 0;
    let last = r!.cpuNs();
    for (let i = 0; i < 50; i++) {
      const now = r!.cpuNs();
      if (now !== last) changes++;
      last = now;
    }
    expect(changes).toBeGreaterThan(25);
    r!.close();
  });
});
