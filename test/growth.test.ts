// The `growing` lint on exact traces: a channel whose level keeps rising (an unbounded queue
// whose receiver is slower than its sender) and a task whose memory keeps rising get it; the
// shapes that must not get it do not: a bounded channel that fills and empties, a level that
// rises then drains, one that rises then plateaus, noise around a flat level, a late burst, a
// trace too short to tell, and the memory of a task that ended. Also: the gauges the model keeps
// are bounded by live tasks, and the lint reaches the JSON report.

import { describe, expect, it } from "vitest";
import { analyzeTrace } from "../host/model/analyze.js";
import { buildReport } from "../host/report/report-data.js";
import { renderTextReport } from "../host/report/text-report.js";
import { judgeGrowth, kendallTau, theilSen, GROWTH_BINS } from "../host/model/growth.js";
import { StepSeries } from "../host/model/gauge.js";
import type { Lint } from "../host/model/lint.js";
import { TraceScript, MS } from "./support/report-trace.js";

const PRODUCER = 1;
const CONSUMER = 2;

/** A channel whose level follows `levelAt(ms)` for `durMs` ms: every `stepUs` µs the producer
 *  sends one item, and the consumer takes as many as bring the level back to the target (more
 *  sends when it is above). Each operation is a poll of its own (woken, polled, parked again with
 *  a waker), so no other lint has anything to say. */
function channelTrace(levelAt: (ms: number) => number, durMs: number, options: { capacity?: number; stepUs?: number } = {}): TraceScript {
  const s = new TraceScript();
  const ch = s.resource(0, "channel", "items", options.capacity ?? 0);
  s.spawn(0, PRODUCER, "producer").spawn(0, CONSUMER, "consumer");
  s.poll(2, PRODUCER, 1, { site: "producer: next", res: 0 });
  s.poll(4, CONSUMER, 1, { site: "consumer: take", res: ch });
  const step = options.stepUs ?? 500;
  let level = 0;
  const op = (us: number, up: boolean) => {
    const task = up ? PRODUCER : CONSUMER;
    level += up ? 1 : -1;
    s.wake(us, task).begin(us + 1, task).op(us + 2, ch, up ? "send" : "recv", "ok", level);
    s.clone(us + 3, task).pending(us + 3, { site: up ? "producer: next" : "consumer: take", res: up ? 0 : ch });
  };
  for (let t = 10; t <= durMs * 1000; t += step) {
    const want = Math.max(0, Math.round(levelAt(t / 1000)));
    let us = t;
    op(us, true);
    while (want !== level) op((us += 5), want > level);
  }
  return s;
}

function growing(s: TraceScript, options: Parameters<typeof analyzeTrace>[1] = {}): Lint[] {
  return analyzeTrace(s.write(), options).lints.filter((l) => l.kind === "growing");
}

/** Deterministic noise in [-1, 1] (a linear congruential generator, so runs are identical). */
function noise(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return (x / 0x1_0000_0000) * 2 - 1;
  };
}

describe("growing: a channel's level", () => {
  it("names an unbounded channel that fills for the whole trace, with from, to, rate and span", () => {
    // The consumer takes 2 items for every 3 the producer sends: +1 item per 3 ms, 600 ms.
    const lints = growing(channelTrace((ms) => ms / 3, 600));
    expect(lints).toHaveLength(1);
    const l = lints[0]!;
    expect(l.severity).toBe("warning");
    expect(l.resource).toBe("items");
    expect(l.title).toMatch(/^growing: channel 'items' \(unbounded\) grew from \d+ to 2\d\d items over 6\d\dms \(\+3\d\d\/s\), sent to by producer, received by consumer$/);
    expect(l.evidence.what).toBe("channel");
    expect(l.evidence.capacity).toBe(0);
    expect(l.evidence.level).toBe(200);
    expect(l.evidence.ratePerS as number).toBeGreaterThan(300);
    expect(l.evidence.ratePerS as number).toBeLessThan(370);
    expect(l.evidence.spanNs as number).toBeGreaterThan(590 * MS);
    expect(l.tasks.map((t) => t.name)).toEqual(["producer", "consumer"]);
    expect(l.hint).toContain("bound the channel");
  });

  it("a rising level with noise on it still counts (the trend is robust)", () => {
    const r = noise(7);
    expect(growing(channelTrace((ms) => 20 + ms / 5 + 15 * r(), 600))).toHaveLength(1);
  });

  it("not for a bounded channel that fills and empties around its capacity (the fixed variant)", () => {
    const r = noise(3);
    expect(growing(channelTrace(() => 2 + 2 * r(), 600, { capacity: 4 }))).toEqual([]);
  });

  it("not for a level that rises and then drains", () => {
    expect(growing(channelTrace((ms) => (ms < 400 ? ms / 4 : Math.max(0, 100 - (ms - 400) / 2)), 600))).toEqual([]);
    // Even when it drains only over the last sixth of the trace.
    expect(growing(channelTrace((ms) => (ms < 500 ? ms / 5 : 100 - (ms - 500)), 600))).toEqual([]);
  });

  it("not for a level that rises and then plateaus", () => {
    const a = growing(channelTrace((ms) => Math.min(ms / 3, 100), 600));
    const r = noise(11);
    const b = growing(channelTrace((ms) => Math.min(ms / 4, 80) + 6 * r(), 800));
    expect(a).toEqual([]);
    expect(b).toEqual([]);
  });

  it("not for noise around a flat level, whatever the seed", () => {
    for (let seed = 1; seed <= 8; seed++) {
      const r = noise(seed);
      expect(growing(channelTrace(() => 30 + 25 * r(), 400, { stepUs: 300 })), `seed ${seed}`).toEqual([]);
    }
  });

  it("not for a burst at the end of a flat trace, nor for a trace too short to tell", () => {
    expect(growing(channelTrace((ms) => (ms < 520 ? 3 : 3 + (ms - 520)), 600))).toEqual([]);
    const short = channelTrace((ms) => ms, 60, { stepUs: 200 });
    expect(growing(short)).toEqual([]); // 60 ms < --growth-min 100ms
    expect(growing(short, { thresholds: { growthMinNs: 20 * MS } })).toHaveLength(1);
  });

  it("judges only what the window shows (--since)", () => {
    // Flat for 400 ms, then rising: from 300 ms on, it is growth over most of what is seen.
    const s = channelTrace((ms) => (ms < 400 ? 5 : 5 + (ms - 400) / 2), 800);
    expect(growing(s)).toEqual([]);
    expect(growing(s, { window: { sinceNs: 380 * MS } })).toHaveLength(1);
  });
});

describe("growing: a task's memory", () => {
  function memTrace(bytesAt: (ms: number) => number, durMs: number, endAtMs?: number): TraceScript {
    const s = new TraceScript();
    s.spawn(0, 1, "cache");
    s.spawn(0, 2, "ticker");
    for (let ms = 1; ms <= durMs; ms += 2) {
      const us = ms * 1000;
      if (endAtMs !== undefined && ms >= endAtMs) {
        if (ms - 2 < endAtMs) s.wake(us, 1).begin(us + 1, 1).ready(us + 2, 1);
      } else {
        s.wake(us, 1).begin(us + 1, 1).mem(us + 2, 1, Math.round(bytesAt(ms))).clone(us + 3, 1).pending(us + 3, { site: "cache: next key" });
      }
      s.wake(us + 500, 2).begin(us + 501, 2).clone(us + 502, 2).pending(us + 502, { site: "ticker: tick" });
    }
    return s;
  }

  it("names a task whose memory keeps rising, where it is parked and how fast", () => {
    const lints = growing(memTrace((ms) => 4096 + 200 * ms, 500));
    expect(lints).toHaveLength(1);
    const l = lints[0]!;
    expect(l.tasks.map((t) => t.name)).toEqual(["cache"]);
    expect(l.site).toBe("cache: next key");
    expect(l.title).toMatch(/^growing: memory of cache \(task 1\) grew from 4\.\d KiB to 10\d\.\d KiB over 49\dms \(\+19\d\.\d KiB\/s\), parked at 'cache: next key' at the end$/);
    expect(l.evidence.what).toBe("memory");
    expect(l.evidence.memoryBytes).toBe(4096 + 200 * 499);
  });

  it("not for memory that rises and is freed, nor for a task that ended (its gauge is dropped)", () => {
    expect(growing(memTrace((ms) => 4096 + 200 * (ms < 300 ? ms : 600 - ms), 500))).toEqual([]);
    const { model, lints } = analyzeTrace(memTrace((ms) => 4096 + 200 * ms, 500, 450).write());
    expect(lints.filter((l) => l.kind === "growing")).toEqual([]);
    expect(model.growth.memory.size).toBe(0);
  });

  it("keeps gauges for live tasks only: 2,000 tasks with memory samples, 3 alive at the end", () => {
    const s = new TraceScript();
    for (let i = 0; i < 2000; i++) {
      const id = 10 + (i % 100);
      const us = i * 100;
      s.spawn(us, id, "handler").begin(us + 1, id).mem(us + 2, id, 512 + i);
      if (i < 1997) s.ready(us + 3, id);
      else s.clone(us + 3, id).pending(us + 3, { site: "handler: wait" });
    }
    const { model } = analyzeTrace(s.write());
    expect(model.growth.memory.size).toBe(3);
  });
});

describe("growing: the lint in the report", () => {
  it("is in the JSON and text report like any lint", () => {
    const path = channelTrace((ms) => ms / 3, 600).write();
    const a = analyzeTrace(path);
    const report = buildReport(path, a.summary, a.model, { lints: a.lints, slow: a.slow });
    const json = JSON.parse(JSON.stringify(report)) as { lints: Lint[] };
    expect(json.lints.map((l) => l.kind)).toContain("growing");
    expect(renderTextReport(report, { allTasks: false, color: false })).toMatch(/^1\. warning growing: channel 'items' \(unbounded\)/m);
  });
});

describe("growing: the statistics", () => {
  it("Kendall's tau and the Theil-Sen slope on known data", () => {
    expect(kendallTau([1, 2, 3, 4])).toBe(1);
    expect(kendallTau([4, 3, 2, 1])).toBe(-1);
    expect(kendallTau([1, 3, 2, 4])).toBeCloseTo(4 / 6);
    // One wild outlier does not move the slope.
    expect(theilSen([0, 1, 2, 3, 4, 5, 6], [0, 2, 4, 600, 8, 10, 12])).toBe(2);
  });

  it("a series keeps at most GROWTH_BINS bins however long it runs", () => {
    const series = new StepSeries(GROWTH_BINS);
    for (let i = 0; i < 100_000; i++) series.set(i * 1000, i);
    expect(series.view(1e8).mean.length).toBeLessThanOrEqual(GROWTH_BINS);
    expect(judgeGrowth(series, 1e8, 1e8, 100 * MS, 4)).toBeDefined();
  });
});
