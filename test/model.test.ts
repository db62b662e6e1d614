// The insight engine on small exact traces (written with the reference encoder and the real
// trace writer, read back with analyzeTrace): task accounting and histograms, resources, flows,
// and each lint with the evidence it must name, plus the cases that must not raise it.

import { describe, expect, it } from "vitest";
import { analyzeTrace, Analyzer } from "../host/model/analyze.js";
import { openTrace } from "../host/tracefile/trace.js";
import { RETAINED_PER_KIND, MAX_STEPS } from "../host/model/flows.js";
import { DEFAULT_THRESHOLDS } from "../host/model/thresholds.js";
import type { Lint } from "../host/model/lint.js";
import { TraceScript, US, MS, ticker, requests } from "./support/report-trace.js";

const ms = (x: number) => x * 1000; // µs ticks

function lintsOf(s: TraceScript, options: Parameters<typeof analyzeTrace>[1] = {}): Lint[] {
  return analyzeTrace(s.write(), options).lints;
}

function only(lints: Lint[], kind: Lint["kind"]): Lint[] {
  return lints.filter((l) => l.kind === kind);
}


// The histogram has its own tests (test/histogram.test.ts).

describe("task accounting", () => {
  it("splits a task's life into busy, scheduled and idle, with poll and wake-to-poll histograms", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "worker");
    s.poll(200, 1, 100, { site: "worker: wait" }); // scheduled 0..200, busy 200..300
    s.wake(1300, 1); // idle 300..1300
    s.begin(1800, 1).ready(1900, 1); // scheduled 1300..1800, busy 1800..1900
    const { model } = analyzeTrace(s.write());
    const t = model.tasks[0]!;
    expect(t.state).toBe("done");
    expect(t.busyNs).toBe(200 * US);
    expect(t.scheduledNs).toBe(700 * US);
    expect(t.idleNs).toBe(1000 * US);
    expect(t.busyNs + t.scheduledNs + t.idleNs).toBe(1900 * US);
    expect(t.firstPollDelayNs).toBe(200 * US);
    expect(t.pollTime.count).toBe(2);
    expect(t.pollTime.max).toBe(100 * US);
    expect(t.wakeDelay.count).toBe(2);
    expect(t.wakeDelay.max).toBe(500 * US);
    expect(t.wakesExt).toBe(1);
    expect(t.liveWakers).toBe(0);
  });

  it("tracks channel fill, full time, blocked tasks and waits per resource", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "producer").spawn(0, 2, "consumer");
    const ch = s.resource(0, "channel", "jobs", 2);
    s.begin(10, 1).op(11, ch, "send", "ok", 1).op(12, ch, "send", "ok", 2).op(13, ch, "send", "blocked", 2);
    s.clone(13, 1).pending(14, { site: "producer: send", res: ch });
    s.begin(1000, 2).op(1001, ch, "recv", "ok", 1).wake(1002, 1, 2).pending(1003, { site: "consumer: sleep" });
    s.begin(1010, 1).op(1011, ch, "send", "unblocked", 2).pending(1012, { site: "producer: sleep" });
    const { model } = analyzeTrace(s.write());
    const r = model.resources.find((x) => x.name === "jobs")!;
    expect(r.kind).toBe("channel");
    expect(r.capacity).toBe(2);
    expect(r.maxLevel).toBe(2);
    expect(r.blockedOps).toBe(1);
    expect(r.longestFullNs).toBe((1001 - 12) * US);
    expect(r.waits).toBe(1);
    expect(r.waitNs).toBe((1010 - 14) * US);
    expect([...r.senders].map((t) => t.name)).toEqual(["producer"]);
    expect([...r.receivers].map((t) => t.name)).toEqual(["consumer"]);
    expect(model.tasks[0]!.blockedRes).toBe(0); // the later unblocked send cleared it
  });
});

describe("lost wake-up", () => {
  it("names a task that returned Pending without storing a waker, and its await site", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 60, timer);
    s.spawn(100, 2, "reader");
    s.poll(200, 2, 50, { site: "reader: read frame", clone: false });
    const lints = lintsOf(s);
    expect(lints[0]!.kind).toBe("lost-wakeup");
    expect(lints[0]!.severity).toBe("error");
    expect(lints[0]!.tasks[0]!.name).toBe("reader");
    expect(lints[0]!.site).toBe("reader: read frame");
    expect(lints[0]!.evidence.reason).toBe("Pending without a stored waker");
    expect(lints[0]!.atNs).toBe(250 * US);
  });

  it("names the task that dropped the last waker", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 60, timer);
    s.spawn(100, 2, "sensor-a").spawn(100, 3, "sensor-b");
    s.poll(200, 2, 10, { site: "sensor: wait sample" }); // stores its waker
    s.begin(300, 3).drop(305, 2).clone(306, 3).pending(310, { site: "sensor: wait sample" }); // overwrites a's waker
    s.wake(5000, 3); // b is woken, a never is
    s.begin(5100, 3).ready(5200, 3);
    const [first] = lintsOf(s);
    expect(first!.kind).toBe("lost-wakeup");
    expect(first!.tasks.map((t) => t.name)).toEqual(["sensor-a", "sensor-b"]);
    expect(first!.evidence.droppedBy).toBe("sensor-b (task 3)");
    expect(first!.evidence.reason).toBe("waker dropped without wake");
  });

  it("reports a task cancelled after sitting with no waker, not one that still holds a waker", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 60, timer);
    s.spawn(100, 2, "lost").spawn(100, 3, "fine");
    s.poll(200, 2, 10, { site: "lost: wait", clone: false });
    s.poll(300, 3, 10, { site: "fine: wait" });
    s.cancel(ms(40), 2);
    const lints = lintsOf(s);
    const lost = only(lints, "lost-wakeup");
    expect(lost).toHaveLength(1);
    expect(lost[0]!.tasks[0]!.name).toBe("lost");
    expect(lost[0]!.title).toContain("then cancelled");
  });

  it("does not fire for consuming wakes, self-wakes by reference, or short gaps", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "yielder");
    for (let i = 0; i < 20; i++) s.begin(i * 100, 1).wakeSelf(i * 100 + 10, 1).pending(i * 100 + 20, { site: "yield" });
    s.begin(2100, 1).ready(2200, 1);
    s.spawn(0, 2, "sleeper");
    s.poll(10, 2, 5, { site: "sleep" });
    s.wake(ms(30), 2);
    s.begin(ms(30) + 5, 2).ready(ms(30) + 10, 2);
    expect(only(lintsOf(s), "lost-wakeup")).toEqual([]);
  });
});

describe("deadlock", () => {
  it("finds two tasks blocked on full channels that only the other drains", () => {
    const s = new TraceScript();
    const ab = s.resource(0, "channel", "a-to-b", 1);
    const ba = s.resource(0, "channel", "b-to-a", 1);
    s.spawn(0, 1, "alpha").spawn(0, 2, "beta");
    // A round that works: each receives from the other once.
    s.begin(10, 1).op(11, ab, "send", "ok", 1).op(12, ba, "recv", "blocked", 0).clone(12, 1).pending(13, { site: "alpha: recv", res: ba });
    s.begin(20, 2).op(21, ab, "recv", "ok", 0).op(22, ba, "send", "ok", 1).wake(22, 1, 2).pending(23, { site: "beta: idle" });
    s.begin(30, 1).op(31, ba, "recv", "unblocked", 0).op(32, ab, "send", "ok", 1).op(33, ab, "send", "blocked", 1);
    s.clone(33, 1).pending(34, { site: "alpha: send", res: ab });
    s.wake(40, 2);
    s.begin(50, 2).op(51, ba, "send", "ok", 1).op(52, ba, "send", "blocked", 1).clone(52, 2).pending(53, { site: "beta: send", res: ba });
    s.mark(ms(100), "end");
    const lints = lintsOf(s);
    const [first] = lints;
    expect(first!.kind).toBe("deadlock");
    expect(first!.tasks.map((t) => t.name)).toEqual(["alpha", "beta"]); // alpha blocked first
    expect(first!.site).toBe("alpha: send");
    expect(first!.resource).toBe("a-to-b");
    expect(first!.title).toContain("which only beta (task 2) drains");
    // The full channels are part of the deadlock, not a separate backpressure finding, and the
    // two tasks are not reported again as leaks.
    expect(only(lints, "backpressure")).toEqual([]);
    expect(only(lints, "leak")).toEqual([]);
  });

  it("finds a lock-order cycle between two mutexes", () => {
    const s = new TraceScript();
    const m1 = s.resource(0, "mutex", "m1", 1);
    const m2 = s.resource(0, "mutex", "m2", 1);
    s.spawn(0, 1, "left").spawn(0, 2, "right");
    s.begin(10, 1).op(11, m1, "acquire", "ok", 1).wakeSelf(12, 1).pending(13, { site: "left: yield" });
    s.begin(20, 2).op(21, m2, "acquire", "ok", 1).op(22, m1, "acquire", "blocked", 1).clone(22, 2).pending(23, { site: "right: lock m1", res: m1 });
    s.begin(30, 1).op(31, m2, "acquire", "blocked", 1).clone(31, 1).pending(32, { site: "left: lock m2", res: m2 });
    s.mark(ms(50), "end");
    const [first] = lintsOf(s);
    expect(first!.kind).toBe("deadlock");
    expect(first!.tasks.map((t) => t.name).sort()).toEqual(["left", "right"]);
    expect(first!.hint).toContain("order");
  });

  it("is not a deadlock while a helper can still run", () => {
    const s = new TraceScript();
    const ch = s.resource(0, "channel", "jobs", 1);
    const timer = s.resource(0, "timer", "timer", 8);
    s.spawn(0, 1, "sender").spawn(0, 2, "slow-receiver");
    s.begin(10, 2).op(11, ch, "recv", "blocked", 0).clone(11, 2).pending(12, { site: "recv", res: ch });
    s.begin(20, 1).op(21, ch, "send", "ok", 1).wake(21, 2, 1).op(22, ch, "send", "blocked", 1).clone(22, 1).pending(23, { site: "send", res: ch });
    s.begin(30, 2).op(31, ch, "recv", "unblocked", 0).wake(31, 1, 2).pending(32, { site: "nap", res: timer }); // sleeps on a timer: it will come back
    s.begin(40, 1).op(41, ch, "send", "ok", 1).op(42, ch, "send", "blocked", 1).clone(42, 1).pending(43, { site: "send", res: ch });
    s.mark(ms(50), "end");
    expect(only(lintsOf(s), "deadlock")).toEqual([]);
  });
});

describe("long polls and starvation", () => {
  it("names a long poll, the site it resumed from and the delay it caused others", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "decoder").spawn(0, 2, "fetch");
    s.poll(10, 2, 5, { site: "fetch: io" });
    s.poll(20, 1, 5, { site: "decoder: recv frame" });
    s.wake(100, 1);
    s.begin(200, 1).wake(ms(2), 2, 1).pending(ms(20), { site: "decoder: recv frame" }); // 19.8 ms poll
    s.begin(ms(20) + 10, 2).ready(ms(20) + 20, 2);
    const { lints, model } = analyzeTrace(s.write());
    const [first] = lints;
    expect(first!.kind).toBe("long-poll");
    expect(first!.tasks[0]!.name).toBe("decoder");
    expect(first!.tasks[1]!.name).toBe("fetch");
    expect(first!.site).toBe("decoder: recv frame");
    expect(first!.evidence.longestNs).toBe((ms(20) - 200) * US);
    expect(first!.evidence.delayCausedNs).toBe((ms(20) - ms(2)) * US);
    // The delay is explained by the long poll: fetch was not passed over ("starved").
    expect(model.tasks[1]!.passedOverMaxNs).toBe(0);
  });

  it("flags a task passed over again and again by tasks woken after it, and names them", () => {
    const s = new TraceScript();
    for (let id = 1; id <= 4; id++) s.spawn(0, id, id === 4 ? "background" : `svc${id}`);
    for (let round = 0; round < 20; round++) {
      const base = ms(10 * round + 1);
      // background is woken first, but a priority executor runs the three services woken after
      // it first, 1.5 ms each, before it gets its turn.
      s.wake(base, 4);
      for (let id = 1; id <= 3; id++) s.wake(base + id * 10, id);
      for (let id = 1; id <= 3; id++) s.poll(base + 100 + (id - 1) * 1600, id, 1500, { site: `wait ${id}` });
      s.poll(base + 100 + 3 * 1600, 4, 20, { site: "wait 4" });
    }
    const starving = only(lintsOf(s), "starvation");
    expect(starving).toHaveLength(1);
    expect(starving[0]!.tasks[0]!.name).toBe("background");
    // 19 of its 20 turns came after the three 1.5 ms polls (in the first, all four were spawned
    // together, background last: that is its turn in order, not being passed over).
    expect(starving[0]!.evidence.meanPassedOverNs).toBe((19 * 3 * 1500 * US) / 20);
    expect(starving[0]!.title).toMatch(/mostly 'svc\d'/);
    expect([1, 2, 3].map((i) => starving[0]!.evidence[`passedOverBy${i}`]).sort()).toEqual(["svc1", "svc2", "svc3"]);
  });

  it("does not call a task starved for waiting its turn in a FIFO queue, however long", () => {
    const s = new TraceScript();
    for (let id = 1; id <= 4; id++) s.spawn(0, id, id === 4 ? "background" : `svc${id}`);
    for (let round = 0; round < 20; round++) {
      const base = ms(10 * round + 1);
      // woken last, polled last, after 4.5 ms of others' work: a busy executor, not an unfair one
      for (let id = 1; id <= 4; id++) s.wake(base + id * 10, id);
      for (let id = 1; id <= 4; id++) s.poll(base + 100 + (id - 1) * 1600, id, id === 4 ? 20 : 1500, { site: `wait ${id}` });
    }
    expect(only(lintsOf(s), "starvation")).toEqual([]);
  });

  it("flags a self-wake busy loop only when most of many wakes are self-wakes", () => {
    const loop = (n: number) => {
      const s = new TraceScript();
      s.spawn(0, 1, "spinner");
      for (let i = 0; i < n; i++) s.begin(i * 50 + 1, 1).wakeSelf(i * 50 + 10, 1).pending(i * 50 + 20, { site: "spinner: check flag" });
      return only(lintsOf(s), "self-wake-loop");
    };
    const found = loop(DEFAULT_THRESHOLDS.selfWakeMin + 20);
    expect(found).toHaveLength(1);
    expect(found[0]!.site).toBe("spinner: check flag");
    expect(loop(DEFAULT_THRESHOLDS.selfWakeMin - 20)).toEqual([]);
  });
});

describe("late timers", () => {
  // A sleeper arms a 10 ms timer at 0; the executor finds it due at 28 ms. What happened in
  // between decides whom the lint names.
  function lateSleeper(between: (s: TraceScript) => void): Lint {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 0);
    s.spawn(0, 1, "sleeper").spawn(0, 2, "blip").spawn(0, 3, "hog");
    s.begin(10, 1).clone(20, 1).timerArm(20, timer, ms(10)).pending(30, { site: "sleeper: tick", res: timer });
    s.poll(40, 2, 5, { site: "blip: wait" }).poll(50, 3, 5, { site: "hog: wait" });
    between(s);
    s.timerFire(ms(28) + 20, 1, timer).poll(ms(28) + 30, 1, 10, { site: "sleeper: done" });
    s.done(ms(29), 1).done(ms(29), 2).done(ms(29), 3);
    const late = only(lintsOf(s), "late-timer");
    expect(late).toHaveLength(1);
    return late[0]!;
  }

  it("names the poll that ran over the deadline", () => {
    const l = lateSleeper((s) => s.wake(ms(9), 3).poll(ms(9), 3, ms(19), { site: "hog: work" }));
    expect(l.tasks.map((t) => t.name)).toEqual(["sleeper", "hog"]);
    expect(l.evidence["delayedBy"]).toMatch(/^hog/);
  });

  it("does not blame a short poll that fell inside a late wake-up: the executor slept past it", () => {
    const l = lateSleeper((s) => s.idle(100, ms(28)).wake(ms(28), 2).poll(ms(28), 2, 5, { site: "blip: wait" }));
    expect(l.tasks.map((t) => t.name)).toEqual(["sleeper"]);
    expect(l.evidence["delayedBy"]).toBeUndefined();
    expect(l.title).toContain("the executor was idle past the deadline");
  });

  it("says when neither a poll nor idling covers the lateness", () => {
    const l = lateSleeper((s) => s.wake(ms(20), 2).poll(ms(20), 2, 5, { site: "blip: wait" }));
    expect(l.tasks.map((t) => t.name)).toEqual(["sleeper"]);
    expect(l.title).toContain("no poll and no idle time covers most of it");
  });
});

describe("leaks and backpressure", () => {
  it("reports tasks left parked forever by a parent that ended, and says nothing can wake them", () => {
    const s = new TraceScript();
    const acks = s.resource(0, "channel", "acks", 4);
    s.spawn(0, 1, "server");
    s.begin(10, 1).spawn(11, 2, "audit", 1).spawn(12, 3, "audit", 1).ready(13, 1);
    for (const id of [2, 3]) s.begin(10 * id, id).op(10 * id + 1, acks, "recv", "blocked", 0).clone(10 * id + 1, id).pending(10 * id + 2, { site: "audit: wait ack", res: acks });
    s.mark(ms(200), "end");
    const [first] = lintsOf(s);
    expect(first!.kind).toBe("leak");
    expect(first!.severity).toBe("warning");
    expect(first!.tasks.map((t) => t.name)).toEqual(["audit", "audit"]);
    expect(first!.site).toBe("audit: wait ack");
    expect(first!.resource).toBe("acks");
    expect(first!.evidence.unwakeable).toBe("no live task sends on 'acks'");
  });

  it("reports a service still alive at the end only as info", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 200, timer);
    const lints = lintsOf(s);
    expect(lints).toHaveLength(1);
    expect(lints[0]!.kind).toBe("leak");
    expect(lints[0]!.severity).toBe("info");
  });

  it("reports a bounded channel full for longer than the threshold, naming the blocked sender", () => {
    const build = (fullMs: number) => {
      const s = new TraceScript();
      const q = s.resource(0, "channel", "queue", 1);
      s.spawn(0, 1, "producer").spawn(0, 2, "consumer");
      s.begin(10, 1).op(11, q, "send", "ok", 1).op(12, q, "send", "blocked", 1).clone(12, 1).pending(13, { site: "producer: send", res: q });
      s.begin(ms(fullMs), 2).op(ms(fullMs) + 1, q, "recv", "ok", 0).wake(ms(fullMs) + 2, 1, 2).ready(ms(fullMs) + 3, 2);
      s.begin(ms(fullMs) + 10, 1).op(ms(fullMs) + 11, q, "send", "unblocked", 1).ready(ms(fullMs) + 12, 1);
      return only(lintsOf(s), "backpressure");
    };
    const found = build(150);
    expect(found).toHaveLength(1);
    expect(found[0]!.tasks[0]!.name).toBe("producer");
    expect(found[0]!.site).toBe("producer: send");
    expect(found[0]!.resource).toBe("queue");
    expect(build(60)).toEqual([]);
  });
});

describe("lost events", () => {
  it("reports chunks missing in the file with the time range they fall in", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "worker");
    for (let i = 0; i < 400; i++) s.wake(i * 1000 + 1, 1).poll(i * 1000 + 10, 1, 5, { site: "wait" });
    const path = s.write(undefined, { chunkSize: 128, dropChunks: [10, 11] });
    const { lints, summary } = analyzeTrace(path);
    const lost = only(lints, "lost-events");
    expect(lost).toHaveLength(1);
    expect(summary.losses.some((l) => l.kind === "seq-gap" && l.chunks === 2)).toBe(true);
    expect(lost[0]!.evidence.lostInTransfer).toBeGreaterThan(0);
    expect(lost[0]!.atNs).toBeGreaterThan(0);
    expect(lost[0]!.untilNs!).toBeGreaterThan(lost[0]!.atNs);
    expect(lost[0]!.untilNs!).toBeLessThan(400 * MS);
  });
});

describe("flows and slow requests", () => {
  it("finds where the slowest requests lost their time, who held the resource, and that they cluster", () => {
    const s = requests(300, 150, 4, 20);
    const { lints, slow } = analyzeTrace(s.write());
    const [first] = lints;
    expect(first!.kind).toBe("slow-requests");
    expect(first!.site).toBe("handler: lock db");
    expect(first!.resource).toBe("db");
    expect(first!.tasks[0]!.name).toBe("backup");
    expect(first!.evidence.clustered).toBe("yes");
    const r = slow.find((x) => x.kind === "GET /orders")!;
    expect(r.flows).toBe(300);
    expect(r.slowCount).toBe(3); // 300 - floor(300 * 0.99)
    expect(r.causes[0]!.blocker?.name).toBe("backup");
    expect(r.causes[0]!.extraNs).toBeGreaterThan(15 * MS);
  });

  it("stays quiet for uniform requests and for kinds with too few flows", () => {
    expect(only(lintsOf(requests(300, 0, 0, 0)), "slow-requests")).toEqual([]);
    expect(only(lintsOf(requests(15, 5, 2, 20)), "slow-requests")).toEqual([]);
  });

  it("keeps memory bounded: only the slowest flows of a kind in detail, steps capped", () => {
    const s = requests(2000, 500, 3, 10);
    const { model } = analyzeTrace(s.write());
    const kind = model.flows.kinds[0]!;
    expect(kind.latency.count).toBe(2000);
    expect(kind.retained.length).toBe(RETAINED_PER_KIND);
    expect(Math.min(...kind.retained.map((f) => f.endedAt - f.beganAt))).toBeGreaterThanOrEqual(kind.latency.quantile(0.9) * 0.8);
    for (const f of kind.retained) expect(f.steps.length).toBeLessThanOrEqual(MAX_STEPS);
    expect(model.flows.active.size).toBe(0);
  });
});

describe("report window", () => {
  it("accounts only from --since and stops at --until, keeping the state from before", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 100, timer);
    s.spawn(100, 2, "reader");
    s.poll(200, 2, 50, { site: "reader: read", clone: false }); // lost before the window starts
    const all = analyzeTrace(s.write());
    const windowed = analyzeTrace(s.write(), { window: { sinceNs: 50 * MS, untilNs: 80 * MS } });
    const span = windowed.model.sessions[0]!;
    expect(span.lastT).toBe(80 * MS + span.firstT);
    const ticks = windowed.model.tasks[0]!;
    expect(ticks.polls).toBeLessThan(all.model.tasks[0]!.polls);
    expect(ticks.polls).toBeGreaterThanOrEqual(5);
    expect(ticks.busyNs + ticks.scheduledNs + ticks.idleNs).toBeCloseTo(30 * MS, -3);
    // The reader's state (parked without a waker) carried into the window.
    expect(only(windowed.lints, "lost-wakeup")[0]?.tasks[0]?.name).toBe("reader");
  });
});

describe("lint order", () => {
  it("puts errors first, then the larger impact", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 90, timer); // an info leak (alive at the end)
    s.spawn(100, 2, "reader");
    s.poll(200, 2, 50, { site: "read", clone: false }); // error
    s.spawn(ms(100), 3, "cruncher");
    s.begin(ms(100) + 100, 3).ready(ms(110) + 100, 3); // warning: long poll
    s.mark(ms(300), "end");
    const kinds = lintsOf(s).map((l) => `${l.severity}:${l.kind}`);
    expect(kinds).toEqual(["error:lost-wakeup", "warning:long-poll", "info:leak"]);
  });
});

describe("Analyzer for batches that arrive over time", () => {
  it("gives lints at any moment, as of the last event, and the same ones at the end", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 60, timer);
    s.spawn(100, 2, "reader");
    s.poll(200, 2, 50, { site: "reader: read frame", clone: false });
    for (let i = 0; i < 40; i++) s.mark(300 + i * 100, "busy start"); // fills the first chunks within 5 ms
    const analyzer = new Analyzer();
    const seen: string[][] = [];
    const summary = openTrace(s.write(undefined, { chunkSize: 128, chunksPerItem: 1 })).forEach((batch, session) => {
      analyzer.consume(batch, session);
      seen.push(analyzer.lints().map((l) => l.kind));
    });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen[0]).toEqual([]); // too early: stuck for less than --stuck
    expect(seen[seen.length - 1]).toEqual(["lost-wakeup"]);
    const { lints } = analyzer.finish(summary);
    expect(lints.map((l) => `${l.kind} ${l.tasks[0]!.name}`)).toEqual(["lost-wakeup reader"]);
  });
});
