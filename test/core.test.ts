// The device core, run as real wasm and read back through the host decoder: every event
// function's encoding, the ring's overwrite/stop semantics, exact loss accounting, the clock's
// 32-bit wrap, names, filtering and drain framing.

import { describe, it, expect } from "vitest";
import { loadHarness, rows, lastCounters, type Harness } from "./support/core-harness.js";
import { decodeRecords } from "../host/format/index.js";
import { EVENT, LOG_ARG } from "../host/format/spec.js";

const OVERWRITE = 0;
const STOP = 1;
const HZ = 1_000_000; // 1 tick = 1000 ns

/** Calls `fn` with the clock reading exactly `ticks`. */
function at(h: Harness, ticks: number, fn: () => void): void {
  h.clock.raw = ticks;
  h.clock.step = 0;
  fn();
}

function named(h: Harness): Record<string, number> {
  const ids: Record<string, number> = {};
  const keys = ["main", "worker", "site", "jobs", "fmt", "mark", "ctr", "flow", "cafe", "mainAgain", "mainSite"];
  keys.forEach((k, i) => (ids[k] = h.e.internFixed!(i)));
  return ids;
}

/** Events (not LOG_ARG rows) decoded so far. */
function eventCount(h: Harness): number {
  let n = 0;
  const k = h.drained.events.kind;
  for (let i = 0; i < h.drained.events.length; i++) if (k[i] !== LOG_ARG) n++;
  return n;
}

describe("core: every event function round-trips through the host decoder", () => {
  it("encodes each event kind with the fields FORMAT.md gives", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    at(h, 1000, () => h.e.setup!(OVERWRITE, HZ));
    const n = named(h);
    let t = 1000;
    const step = (fn: () => void) => at(h, ++t, fn);
    step(() => e.taskSpawn!(1, 0, n.main!));
    step(() => e.taskSpawn!(2, 1, n.worker!));
    step(() => e.pollBegin!(1));
    let flow = 0;
    step(() => (flow = e.flowBegin!(n.flow!)));
    step(() => e.taskSpawn!(3, 1, n.worker!)); // inherits the flow
    step(() => e.wake!(2)); // inside task 1's poll: by task 1
    step(() => e.wake!(1)); // self
    step(() => e.wakerClone!(1));
    step(() => e.awaitAt!(n.site!, 7));
    let res = 0;
    step(() => (res = e.resourceCreate!(0, n.jobs!, 4)));
    step(() => e.resourceOp!(res, 0, 1, 4));
    step(() => e.log2!(n.fmt!, 2, 12345n, -7n));
    step(() => e.mark!(n.mark!));
    step(() => e.counter!(n.ctr!, -42n));
    step(() => e.memSample!(1, 4096));
    step(() => e.pollEnd!(0));
    step(() => e.wake!(1)); // outside any poll: external
    step(() => e.wakeByIrq!(1, 9));
    step(() => e.isrEnter!(9));
    step(() => e.wake!(2)); // inside an interrupt handler
    step(() => e.isrExit!(9));
    step(() => e.idleBegin!());
    step(() => e.idleEnd!());
    step(() => e.flowEnterTask!(2, flow));
    step(() => e.flowEnd!(flow));
    step(() => e.wakerDrop!(1));
    step(() => e.wakeByTask!(3, 2));
    step(() => e.wakeByTask!(3, 3));
    step(() => e.wakeExternal!(2));
    step(() => e.log0!(n.fmt!, 0));
    step(() => e.log1!(n.fmt!, 1, 1n));
    step(() => e.log3!(n.fmt!, 3, 1n, 2n, 3n));
    step(() => e.log4!(n.fmt!, 4, -1n, 2n ** 40n, -(2n ** 52n), 0n));
    step(() => e.resourceDrop!(res));
    step(() => e.taskEnd!(2, 0));
    step(() => e.taskEnd!(3, 1));
    h.drainAll();

    const ns = (k: number) => (1000 + k) * 1000;
    const r = (k: number, name: string, task: number, a = 0, b = 0, c = 0, v = 0) => ({
      kind: name === "LOG_ARG" ? LOG_ARG : EVENT[name as keyof typeof EVENT],
      t: ns(k),
      task,
      a,
      b,
      c,
      v,
    });
    expect(rows(h)).toEqual([
      r(1, "SPAWN", 1, 0, n.main!, 0),
      r(2, "SPAWN", 2, 1, n.worker!, 0),
      r(3, "POLL_BEGIN", 1),
      r(4, "FLOW_BEGIN", 1, flow, n.flow!),
      r(5, "SPAWN", 3, 1, n.worker!, flow),
      r(6, "WAKE_TASK", 2, 1),
      r(7, "WAKE_SELF", 1, 1),
      r(8, "WAKER_CLONE", 1),
      r(9, "AWAIT", 1, n.site!, 7),
      r(10, "RES_CREATE", 1, res, n.jobs!, 0, 4),
      r(11, "RES_OP", 1, res, 0, 1, 4),
      r(12, "LOG", 1, n.fmt!, 2, 2),
      r(12, "LOG_ARG", 1, 0, 0, 0, 12345),
      r(12, "LOG_ARG", 1, 0, 0, 0, -7),
      r(13, "MARK", 1, n.mark!),
      r(14, "COUNTER", 1, n.ctr!, 0, 0, -42),
      r(15, "MEM", 1, 0, 0, 0, 4096),
      r(16, "POLL_PENDING", 1),
      r(17, "WAKE_EXT", 1),
      r(18, "WAKE_IRQ", 1, 9),
      r(19, "ISR_ENTER", 0, 9),
      r(20, "WAKE_IRQ", 2, 9),
      r(21, "ISR_EXIT", 0, 9),
      r(22, "IDLE_BEGIN", 0),
      r(23, "IDLE_END", 0),
      r(24, "FLOW_ENTER", 2, flow),
      r(25, "FLOW_END", 0, flow),
      r(26, "WAKER_DROP", 1),
      r(27, "WAKE_TASK", 3, 2),
      r(28, "WAKE_SELF", 3, 3),
      r(29, "WAKE_EXT", 2),
      r(30, "LOG", 0, n.fmt!, 0, 0),
      r(31, "LOG", 0, n.fmt!, 1, 1),
      r(31, "LOG_ARG", 0, 0, 0, 0, 1),
      r(32, "LOG", 0, n.fmt!, 3, 3),
      r(32, "LOG_ARG", 0, 0, 0, 0, 1),
      r(32, "LOG_ARG", 0, 0, 0, 0, 2),
      r(32, "LOG_ARG", 0, 0, 0, 0, 3),
      r(33, "LOG", 0, n.fmt!, 4, 4),
      r(33, "LOG_ARG", 0, 0, 0, 0, -1),
      r(33, "LOG_ARG", 0, 0, 0, 0, 2 ** 40),
      r(33, "LOG_ARG", 0, 0, 0, 0, -(2 ** 52)),
      r(33, "LOG_ARG", 0, 0, 0, 0, 0),
      r(34, "RES_DROP", 0, res),
      r(35, "TASK_DONE", 2),
      r(36, "TASK_CANCEL", 3),
    ]);
    expect(flow).toBe(1);
    expect(res).toBe(1);
  });

  it("encodes multi-byte varints: large ids, long gaps, wide values (the slow path)", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    at(h, 0, () => h.e.setup!(OVERWRITE, HZ));
    at(h, 10, () => e.pollBegin!(300_000));
    at(h, 10 + 1_000_000_000, () => e.wake!(70_000)); // a gap of 1e9 ticks inside one chunk
    at(h, 10 + 1_000_000_200, () => e.resourceOp!(2 ** 31, 3, 2, 2 ** 32 - 1));
    at(h, 10 + 1_000_000_201, () => e.counter!(1, -(2n ** 53n)));
    at(h, 10 + 1_000_000_202, () => e.pollEnd!(1));
    h.drainAll();
    expect(rows(h)).toEqual([
      { kind: EVENT.POLL_BEGIN, t: 10_000, task: 300_000, a: 0, b: 0, c: 0, v: 0 },
      { kind: EVENT.WAKE_TASK, t: 1_000_000_010_000, task: 70_000, a: 300_000, b: 0, c: 0, v: 0 },
      { kind: EVENT.RES_OP, t: 1_000_000_210_000, task: 300_000, a: 2 ** 31, b: 3, c: 2, v: 2 ** 32 - 1 },
      { kind: EVENT.COUNTER, t: 1_000_000_211_000, task: 300_000, a: 1, b: 0, c: 0, v: -(2 ** 53) },
      { kind: EVENT.POLL_READY, t: 1_000_000_212_000, task: 300_000, a: 0, b: 0, c: 0, v: 0 },
    ]);
  });
});

describe("core: clock", () => {
  it("keeps time monotonic across the 32-bit counter wrap", () => {
    const h = loadHarness();
    h.clock.raw = 2 ** 32 - 500;
    h.clock.step = 7;
    h.e.setup!(OVERWRITE, HZ);
    for (let i = 0; i < 300; i++) h.e.pollBegin!(1 + (i % 3)), h.e.pollEnd!(0);
    h.drainAll();
    const t = h.drained.events.t;
    expect(h.drained.events.length).toBe(600);
    for (let i = 1; i < 600; i++) expect(t[i]! - t[i - 1]!).toBe(7000);
    expect(t[0]).toBe((2 ** 32 - 500 + 7) * 1000);
  });

  it("does not alias a silence longer than a wrap when now() was read in between", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: number[]) => number | bigint>;
    at(h, 100, () => h.e.setup!(OVERWRITE, HZ));
    at(h, 100, () => e.pollBegin!(1));
    // The executor idles for 5 * 2^30 ticks (more than one wrap), reading now() on its way.
    let raw = 100;
    for (let i = 0; i < 5; i++) {
      raw = (raw + 2 ** 30) % 2 ** 32;
      at(h, raw, () => void e.nowTicks!());
    }
    at(h, (raw + 5) % 2 ** 32, () => e.pollEnd!(0));
    h.drainAll();
    const t = h.drained.events.t;
    expect((t[1]! - t[0]!) / 1000).toBe(5 * 2 ** 30 + 5);
  });
});

describe("core: names", () => {
  it("interns once per (kind, text), in UTF-8, ids from 1", () => {
    const h = loadHarness();
    h.e.setup!(OVERWRITE, HZ);
    const n = named(h);
    expect([n.main, n.worker, n.site, n.jobs, n.fmt, n.mark, n.ctr, n.flow, n.cafe]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(n.mainAgain).toBe(n.main);
    expect(n.mainSite).toBe(10);
    const long = h.e.internLong!();
    h.drainAll();
    const names = h.drained.names;
    expect(names.get(9)).toBe("café ☕ 𝄞");
    expect(names.kindNameOf(1)).toBe("task");
    expect(names.kindNameOf(10)).toBe("site");
    expect(names.get(10)).toBe("main");
    expect(names.get(5)).toBe("served {} in {}us");
    // 254 ASCII bytes + "éé" (2 bytes each): cut at 254, not 255, which would split an "é".
    expect(Buffer.byteLength(names.get(long)!)).toBe(254);
    expect(names.get(long)!.endsWith("abcd")).toBe(true);
  });

  it("returns id 0 and counts the loss when the table is full", () => {
    const h = loadHarness("build/test/core-harness-small.wasm"); // 64-byte names table
    h.e.setup!(OVERWRITE, HZ);
    const ids = Array.from({ length: 11 }, (_, i) => h.e.internFixed!(i));
    expect(ids).toContain(0);
    h.drainAll();
    const stored = h.drained.names.size;
    expect(lastCounters(h).namesDropped).toBe(ids.slice(0, 9).filter((x) => x === 0).length + (ids[10] === 0 ? 1 : 0));
    expect(stored).toBeGreaterThan(0);
    expect(ids.filter((x) => x !== 0).every((x) => x <= stored)).toBe(true);
  });
});

describe("core: ring and loss accounting", () => {
  it("overwrite mode keeps the newest chunks and counts every overwritten event", () => {
    const h = loadHarness("build/test/core-harness-small.wasm"); // 4 chunks of 128 bytes
    h.e.setup!(OVERWRITE, HZ);
    const calls = h.e.stress!(3000, 7);
    h.drainAll();
    const c = lastCounters(h);
    expect(c.recorded).toBe(calls);
    expect(c.droppedFull).toBe(0);
    expect(c.pendingEvents).toBe(0);
    expect(c.drained + c.droppedOverwritten).toBe(c.recorded);
    expect(eventCount(h)).toBe(c.drained);
    // Received chunks are the newest, contiguous, ending just before next_seq.
    const seqs = h.drained.chunkSeqs;
    expect(seqs.length).toBeLessThanOrEqual(4);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    expect(seqs.at(-1)).toBe(c.nextSeq - 1);
    expect(c.chunksOverwritten).toBe(seqs[0]);
    expect(c.firstDrop).toBeGreaterThan(0);
    expect(c.lastDrop).toBeGreaterThanOrEqual(c.firstDrop);
  });

  it("stop mode keeps the oldest chunks, refuses the rest, and resumes after a drain", () => {
    const h = loadHarness("build/test/core-harness-small.wasm");
    h.e.setup!(STOP, HZ);
    const calls = h.e.stress!(3000, 11);
    h.drainAll();
    let c = lastCounters(h);
    expect(h.drained.chunkSeqs).toEqual([0, 1, 2, 3]);
    expect(c.recorded + c.droppedFull).toBe(calls);
    expect(c.droppedOverwritten).toBe(0);
    expect(eventCount(h)).toBe(c.drained);
    expect(c.drained).toBe(c.recorded);
    // The ring is free again: recording continues with the next sequence number.
    const more = h.e.stress!(50, 12);
    h.drainAll();
    c = lastCounters(h);
    expect(h.drained.chunkSeqs.slice(4)[0]).toBe(4);
    expect(c.recorded + c.droppedFull).toBe(calls + more);
    expect(eventCount(h)).toBe(c.drained);
  });

  it("holds recorded == drained + overwritten + pending at every drain", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const h = loadHarness("build/test/core-harness-small.wasm");
      h.e.setup!(OVERWRITE, HZ);
      let calls = 0;
      for (let round = 0; round < 40; round++) {
        calls += h.e.stress!(((seed * 37 + round * 101) % 400) + 1, seed * 1000 + round);
        if (round % 3 === 0) h.e.taskscope_flush!();
        h.drain();
        const c = lastCounters(h);
        expect(c.recorded).toBe(calls);
        expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
        expect(eventCount(h)).toBe(c.drained);
      }
    }
  });

  it("carries the polling context into a new chunk", () => {
    const h = loadHarness("build/test/core-harness-small.wasm");
    const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    h.e.setup!(OVERWRITE, HZ);
    e.pollBegin!(42);
    for (let i = 0; i < 40; i++) e.mark!(1); // 3 bytes each: spills over into the next chunks
    e.pollEnd!(1);
    h.drainAll();
    expect(h.drained.chunkSeqs.length).toBeGreaterThan(1);
    const ev = h.drained.events.toEvents();
    expect(ev.filter((x) => x.name === "MARK").every((x) => x.task === 42)).toBe(true);
    expect(ev.at(-1)).toMatchObject({ name: "POLL_READY", task: 42 });
  });
});

describe("core: wire format 2 compact events", () => {
  /** The event bytes of every chunk drained so far (after each chunk's header). */
  function eventBytes(h: Harness, records: ReturnType<Harness["drain"]>[]): number[][] {
    const out: number[][] = [];
    for (const rs of records) for (const r of rs) if (r.type === "CHUNK") out.push([...r.payload.subarray(14)]);
    return out;
  }

  it("writes the groups an executor records as single wire events, decoded to the same rows", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    at(h, 1000, () => h.e.setup!(OVERWRITE, HZ));
    at(h, 1001, () => e.pollBegin!(5));
    at(h, 1002, () => e.wakerClone!(5)); // the polled task's own waker
    at(h, 1003, () => e.awaitAt!(3, 7));
    at(h, 1009, () => e.pollEnd!(0)); // merged into the AWAIT: its time, no bytes
    at(h, 1010, () => e.wakeAndDrop!(5)); // outside a poll: external
    at(h, 1011, () => e.pollBegin!(5));
    at(h, 1012, () => e.resourceOp!(7, 1, 0, 0));
    at(h, 1013, () => e.awaitAt!(4, 7)); // the resource the last event named
    at(h, 1014, () => e.pollEnd!(0));
    at(h, 1015, () => e.timerFireWake!(5, 2)); // an executor's timer check
    at(h, 1016, () => e.pollBegin!(6));
    at(h, 1017, () => e.timerFireWake!(5, 2)); // inside a poll: the long forms
    at(h, 1018, () => e.wakeByTaskAndDrop!(9, 6));
    at(h, 1019, () => e.wakerClone!(9)); // another task's waker: the id is written
    at(h, 1020, () => e.pollEnd!(1));
    h.e.taskscope_flush!();
    const drained = [h.drain()];
    expect(eventBytes(h, drained)).toEqual([[
      0x02, 0, 5,
      0x20, 1,
      0x27, 1, 3, 7,
      0x24, 7, 5,
      0x02, 1, 5,
      0x0f, 1, 7, 0x11,
      0x28, 1, 4,
      0x25, 2, 5, 2,
      0x02, 1, 6,
      0x1d, 1, 5, 2, 0x21, 0, 5, 6,
      0x21, 1, 9, 6,
      0x09, 1, 9,
      0x03, 1,
    ]]);
    expect(h.drained.events.toEvents().map((x) => [x.name, x.t / 1000, x.task, x.a, x.b])).toEqual([
      ["POLL_BEGIN", 1001, 5, 0, 0],
      ["WAKER_CLONE", 1002, 5, 0, 0],
      ["AWAIT", 1003, 5, 3, 7],
      ["POLL_PENDING", 1003, 5, 0, 0],
      ["WAKE_EXT", 1010, 5, 0, 0],
      ["WAKER_DROP", 1010, 5, 0, 0],
      ["POLL_BEGIN", 1011, 5, 0, 0],
      ["RES_OP", 1012, 5, 7, 1],
      ["AWAIT", 1013, 5, 4, 7],
      ["POLL_PENDING", 1013, 5, 0, 0],
      ["TIMER_FIRE", 1015, 5, 2, 0],
      ["WAKE_EXT", 1015, 5, 0, 0],
      ["WAKER_DROP", 1015, 5, 0, 0],
      ["POLL_BEGIN", 1016, 6, 0, 0],
      ["TIMER_FIRE", 1017, 5, 2, 0],
      ["WAKE_TASK", 1017, 5, 6, 0],
      ["WAKER_DROP", 1017, 5, 0, 0],
      ["WAKE_TASK", 1018, 9, 6, 0],
      ["WAKER_DROP", 1018, 9, 0, 0],
      ["WAKER_CLONE", 1019, 9, 0, 0],
      ["POLL_READY", 1020, 6, 0, 0],
    ]);
    // Counted as the events they stand for, on the device as on the host.
    expect(lastCounters(h)).toMatchObject({ recorded: 21, drained: 21, pendingEvents: 0 });
  });

  it("uses the long forms when a category of the group is off, or a chunk boundary lies between", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
    at(h, 1000, () => h.e.setup!(OVERWRITE, HZ));
    const all = h.global("CAT_ALL");
    h.e.taskscope_set_filter!(all & ~h.global("CAT_POLL"));
    at(h, 1001, () => e.awaitAt!(3, 7));
    at(h, 1002, () => e.pollEnd!(0)); // poll is off: nothing merged, nothing written
    h.e.taskscope_set_filter!(all & ~h.global("CAT_TIMER"));
    at(h, 1003, () => e.timerFireWake!(5, 2)); // timer off: the wake and the drop only
    h.e.taskscope_set_filter!(all);
    at(h, 1004, () => e.pollBegin!(5));
    at(h, 1005, () => e.awaitAt!(3, 7));
    h.e.taskscope_flush!(); // the AWAIT's chunk is sealed (and may be sent): never patched
    at(h, 1006, () => e.pollEnd!(0));
    h.e.taskscope_flush!();
    const drained = [h.drain()];
    expect(eventBytes(h, drained)).toEqual([
      [0x0d, 0, 3, 7, 0x24, 2, 5, 0x02, 1, 5, 0x26, 1, 3],
      [0x04, 0],
    ]);
    expect(h.drained.events.toEvents().map((x) => x.name)).toEqual([
      "AWAIT", "WAKE_EXT", "WAKER_DROP", "POLL_BEGIN", "AWAIT", "POLL_PENDING",
    ]);
    expect(h.drained.events.toEvents().at(-1)!.task).toBe(5); // the context task of the new chunk
  });
});

describe("core: filter and drain", () => {
  it("records nothing for a disabled category and everything else as before", () => {
    const h = loadHarness();
    h.e.setup!(OVERWRITE, HZ);
    const all = h.global("CAT_ALL");
    h.e.taskscope_set_filter!(all & ~h.global("CAT_POLL"));
    expect(h.e.taskscope_filter!()).toBe(all & ~2);
    h.e.stress!(2000, 3);
    h.drainAll();
    const kinds = new Set(h.drained.events.toEvents().map((x) => x.name));
    expect(kinds.has("POLL_BEGIN") || kinds.has("POLL_READY") || kinds.has("POLL_PENDING")).toBe(false);
    expect(kinds.has("AWAIT")).toBe(true);
    const before = lastCounters(h).recorded;
    h.e.taskscope_set_filter!(0);
    h.e.stress!(2000, 4);
    h.drainAll();
    expect(lastCounters(h).recorded).toBe(before);
  });

  it("never splits a record and always closes a drain with COUNTERS", () => {
    const h = loadHarness();
    h.e.setup!(OVERWRITE, HZ);
    named(h);
    h.e.stress!(5000, 9);
    h.e.taskscope_flush!();
    const buf = h.e.taskscope_buffer!();
    const min = h.e.taskscope_min_drain_bytes!();
    expect(min).toBe(3 + 6 + 2 + 255 + 83); // a 255-byte name outweighs a 256-byte chunk record
    expect(h.e.taskscope_drain_into!(buf, min - 1)).toBe(0); // refused: could stall
    const sizes: number[] = [];
    let guard = 0;
    while (h.e.taskscope_pending!() !== 0 && guard++ < 10_000) {
      const n = h.e.taskscope_drain_into!(buf, min);
      const bytes = new Uint8Array(h.e.memory.buffer, buf, n).slice();
      const recs = decodeRecords(bytes);
      expect(recs.at(-1)!.type).toBe("COUNTERS");
      sizes.push(n);
    }
    expect(h.e.taskscope_pending!()).toBe(0);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(min);
    expect(sizes.length).toBeGreaterThan(5);
  });

  it("tells a host where the executor is: in a poll, between polls, idle", () => {
    const h = loadHarness();
    const e = h.e as unknown as Record<string, (...a: number[]) => number>;
    h.e.setup!(OVERWRITE, HZ);
    const hint = () => h.e.taskscope_drain_hint!();
    expect(hint()).toBe(1);
    e.pollBegin!(3);
    expect(hint()).toBe(0);
    e.pollEnd!(0);
    expect(hint()).toBe(1);
    e.idleBegin!();
    expect(hint()).toBe(2);
    e.idleEnd!();
    expect(hint()).toBe(1);
    h.e.taskscope_set_filter!(0); // the hint does not depend on what is recorded
    e.idleBegin!();
    expect(hint()).toBe(2);
    e.idleEnd!();
    expect(h.e.taskscope_chunk_count!()).toBe(h.global("CHUNK_COUNT"));
    expect(h.e.taskscope_unsent_chunks!()).toBe(0);
  });

  it("hands over nothing before init (INFO must come first)", () => {
    const h = loadHarness();
    h.e.internFixed!(0); // names interned at start-up, before init
    expect(h.e.taskscope_pending!()).toBe(0);
    expect(h.e.taskscope_drain!()).toBe(0);
    h.e.setup!(OVERWRITE, HZ);
    h.drainAll();
    expect(h.drained.info).toHaveLength(1);
    expect(h.drained.names.get(1)).toBe("main");
  });

  it("describes the ring in INFO", () => {
    const h = loadHarness();
    h.e.setup!(STOP, 32_768);
    h.drainAll();
    expect(h.drained.info).toHaveLength(1);
    expect(h.drained.info[0]).toMatchObject({
      version: 2,
      ringMode: "stop",
      chunkSize: h.global("CHUNK_SIZE"),
      chunkCount: h.global("CHUNK_COUNT"),
      namesCapacity: h.global("NAMES_BYTES"),
      maxTasks: h.global("MAX_TASKS"),
      tickHz: 32_768,
      filter: h.global("CAT_ALL"),
      sessionId: 0x1234,
      device: "harness",
      firmware: "core-harness 1",
    });
    // Asking again re-sends INFO and the whole names table.
    h.e.taskscope_resend_info!();
    h.drainAll();
    expect(h.drained.info).toHaveLength(2);
  });
});
