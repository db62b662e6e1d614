// The HTML timeline's data (host/report/timeline.ts) on small exact traces: look-alike tasks
// folded into one lane per name with a sub-lane per task, labels that tell reused ids apart, a
// row for every task a lint names (kept by the model or not), deadlock cycles with their
// resources, requests in flight per kind checked against a sweep of the script's own times, and
// the bounds on a trace too big to draw. (The page itself: html.test.ts, html-scale.test.ts.)

import { describe, expect, it } from "vitest";
import { analyzeTrace } from "../host/model/analyze.js";
import { buildTimelines, SLICE_STUCK, type SessionTimeline } from "../host/report/timeline.js";
import { TraceScript, requests } from "./support/report-trace.js";

const ms = (x: number) => x * 1000; // µs ticks

function timelineOf(path: string, options: Parameters<typeof buildTimelines>[3] = {}) {
  const analysis = analyzeTrace(path);
  return { analysis, tl: buildTimelines(path, analysis, {}, options)[0]! };
}

/** Every label a row can show: lanes and sub-lanes. */
function labels(tl: SessionTimeline): string[] {
  return [...tl.lanes.map((l) => l.label), ...tl.subLanes.map((s) => s.label)];
}

describe("HTML timeline: folded look-alikes", () => {
  // 200 requests, each served by its own short "handler" (ids 10..59 reused four times);
  // requests 100..103 wait 20 ms for the db, held by "backup".
  const path = requests(200, 100, 4, 20).write();

  it("gives a name's ended look-alikes one shared lane, with a sub-lane per task drawn in detail", () => {
    const { tl } = timelineOf(path);
    expect(tl.lanes.map((l) => [l.label, l.task >= 0, l.shared])).toEqual([
      ["backup (1)", true, 1],
      ["handler x200", false, 200],
    ]);
    const handlers = tl.lanes.findIndex((l) => l.label === "handler x200");
    const subs = tl.subLanes.filter((s) => s.lane === handlers);
    expect(subs).toHaveLength(200); // the whole trace is drawn in detail: every handler is listed
    // Each sub-lane's slices are its task's: a handler is polled twice or three times.
    for (let s = 0; s < tl.subLanes.length; s++) {
      const polls = tl.slices.kind.filter((k, i) => tl.slices.sub[i] === s && k <= 1).length;
      expect(polls).toBeGreaterThanOrEqual(1);
      expect(polls).toBeLessThanOrEqual(2);
    }
    expect(tl.slices.sub.every((s, i) => (s >= 0) === (tl.slices.lane[i] === handlers))).toBe(true);
  });

  it("labels reused ids with their incarnation: no two rows read alike", () => {
    const { tl } = timelineOf(path);
    const all = labels(tl);
    expect(new Set(all).size).toBe(all.length);
    expect(all).toContain("handler (10)");
    expect(all).toContain("handler (10, 2nd)");
    expect(all).toContain("handler (10, 4th)");
    expect(tl.subLanes.find((s) => s.label === "handler (10, 3rd)")).toMatchObject({ id: 10, incarnation: 3 });
  });

  it("caps the sub-lanes of a shared lane, but lists every task a lint names", () => {
    const { analysis, tl } = timelineOf(path, { maxSubLanes: 20 });
    const lint = analysis.lints.find((l) => l.kind === "slow-requests")!;
    expect(lint.tasks[0]!.name).toBe("backup");
    const named = lint.tasks.map((t) => t.index!);
    // Some slow handlers (requests 100..103) are not among the model's kept examples, yet each
    // has a row: backup its lane, the handlers sub-lanes past the cap.
    const kept = new Set(analysis.model.tasks.map((t) => t.index));
    expect(named.filter((i) => !kept.has(i)).length).toBeGreaterThanOrEqual(1);
    for (const index of named) expect(tl.lanes.some((l) => l.task === index) || tl.subLanes.some((s) => s.task === index), String(index)).toBe(true);
    expect(tl.subLanes.filter((s) => s.flagged).map((s) => s.task).sort((a, b) => a - b)).toEqual(named.filter((i) => i !== lint.tasks[0]!.index).sort((a, b) => a - b));
    expect(tl.subLanes.length).toBeLessThanOrEqual(20 + named.length);
    // Tasks past the cap are drawn in the shared row: no slice is lost.
    const all = timelineOf(path).tl;
    expect(tl.slices.lane.length).toBe(all.slices.lane.length);
    expect(tl.slices.sub.filter((s) => s < 0).length).toBeGreaterThan(0);
  });

  // The script's own times (report-trace.ts requests()): request i begins at (i+1) ms and ends
  // 98 µs later, or 20 ms + 98 µs later for the four slow ones.
  const steps: [number, number][] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = ms(i + 1) * 1000;
    const slow = i >= 100 && i < 104;
    steps.push([t0, 1], [t0 + (slow ? ms(20) * 1000 : 0) + 98_000, -1]);
  }
  steps.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const at = (t: number) => steps.filter(([s]) => s <= t).reduce((n, [, d]) => n + d, 0);

  /** The level the exact steps give at `rel` (ns from the session's start), inside a window. */
  const replay = (k: SessionTimeline["inflight"][number], w: SessionTimeline["windows"][number], rel: number) => {
    let n = 0;
    for (let j = 0; j < k.points.t.length && k.points.t[j]! <= rel; j++) if (k.points.t[j]! >= w.fromNs) n = k.points.n[j]!;
    return n;
  };

  it("tracks requests in flight: exact steps in the detail windows, the most per bin elsewhere", () => {
    const { tl } = timelineOf(path, { bins: 50 });
    expect(tl.inflight.map((k) => k.kind)).toEqual(["GET /orders"]);
    const k = tl.inflight[0]!;
    let max = 0;
    let level = 0;
    for (const [, d] of steps) max = Math.max(max, (level += d));
    expect(k.max).toBe(max);
    expect(k.max).toBe(5); // the four slow ones and a fast one beside them
    expect(k.exactToNs).toBe(tl.durationNs);
    // Replaying the exact steps gives the sweep's level at every step time.
    const start = tl.startNs;
    for (const [t] of steps) expect(replay(k, tl.windows[0]!, t - start), `at ${t}`).toBe(at(t));
    // Bins: the most in flight at any moment within each.
    const binNs = tl.density.binNs;
    k.binMax.forEach((v, b) => {
      const from = start + b * binNs;
      const to = from + binNs;
      let most = at(from);
      for (const [t] of steps) if (t >= from && t < to) most = Math.max(most, at(t));
      expect(v, `bin ${b}`).toBe(most);
    });
  });

  it("keeps in-flight steps exact up to where their budget ran out, in windows around the lints", () => {
    const { tl } = timelineOf(path, { maxSlices: 300, bins: 50 });
    expect(tl.windows.length).toBeGreaterThanOrEqual(1);
    expect(tl.windows.reduce((n, w) => n + w.toNs - w.fromNs, 0)).toBeLessThan(tl.durationNs);
    const k = tl.inflight[0]!;
    expect(k.exactToNs).toBeLessThan(tl.durationNs); // the budget ran out
    expect(k.points.t.length).toBeLessThanOrEqual(150);
    expect(k.points.t.length).toBeGreaterThan(0);
    let checked = 0;
    for (const [t] of steps) {
      const rel = t - tl.startNs;
      const w = tl.windows.find((x) => rel >= x.fromNs && rel <= x.toNs);
      if (!w || rel >= k.exactToNs) continue;
      expect(replay(k, w, rel), `at ${rel}`).toBe(at(t));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
    // The bins do not depend on the detail: the same as with the whole trace drawn.
    expect(k.binMax).toEqual(timelineOf(path, { bins: 50 }).tl.inflight[0]!.binMax);
  });
});

describe("HTML timeline: deadlocks", () => {
  it("draws a lock-order ring of three as a cycle: each member, its resource, who holds it", () => {
    const s = new TraceScript();
    const m = [s.resource(0, "mutex", "m1", 1), s.resource(0, "mutex", "m2", 1), s.resource(0, "mutex", "m3", 1)];
    const names = ["alpha", "beta", "gamma"];
    names.forEach((n, i) => s.spawn(0, i + 1, n));
    s.spawn(0, 4, "late");
    // Each takes its own mutex and yields, then each asks for the next one's.
    names.forEach((n, i) => s.begin(10 + i * 10, i + 1).op(11 + i * 10, m[i]!, "acquire", "ok", 1).wakeSelf(12 + i * 10, i + 1).pending(13 + i * 10, { site: `${n}: yield` }));
    names.forEach((n, i) => {
      const t = 100 + i * 10;
      const next = m[(i + 1) % 3]!;
      s.begin(t, i + 1).op(t + 1, next, "acquire", "blocked", 1).clone(t + 1, i + 1).pending(t + 2, { site: `${n}: lock m${((i + 1) % 3) + 1}`, res: next });
    });
    // A fourth task queues on m1 behind them.
    s.begin(200, 4).op(201, m[0]!, "acquire", "blocked", 1).clone(201, 4).pending(202, { site: "late: lock m1", res: m[0]! });
    s.mark(ms(50), "end");
    const { analysis, tl } = timelineOf(s.write());
    expect(analysis.lints[0]!.kind).toBe("deadlock");
    expect(tl.cycles).toHaveLength(1);
    const c = tl.cycles[0]!;
    const index = (name: string) => analysis.model.tasks.find((t) => t.name === name)!.index;
    // Wait order: alpha (blocked first) waits for m2, held by beta, who waits for m3, held by
    // gamma, who waits for m1, held by alpha.
    expect(c.members.map((e) => [e.label, e.op, e.resource, e.site, e.to])).toEqual([
      ["alpha (1)", "acquire", "m2", "alpha: lock m2", [index("beta")]],
      ["beta (2)", "acquire", "m3", "beta: lock m3", [index("gamma")]],
      ["gamma (3)", "acquire", "m1", "gamma: lock m1", [index("alpha")]],
    ]);
    expect(c.members.map((e) => e.sinceNs)).toEqual([101_000, 111_000, 121_000].map((t) => t - tl.startNs));
    expect(c.behind.map((e) => [e.label, e.resource, e.to])).toEqual([["late (4)", "m1", [index("alpha")]]]);
    // Every one of them sits stuck from its park to the end, drawn as such in its own lane.
    for (const name of ["alpha", "beta", "gamma", "late"]) {
      const lane = tl.lanes.findIndex((l) => l.task === index(name));
      expect(lane, name).toBeGreaterThanOrEqual(0);
      expect(tl.lanes[lane]!.flagged).toBe(true);
      const stuck = tl.slices.kind.map((k, i) => [k, i] as const).filter(([k, i]) => k === SLICE_STUCK && tl.slices.lane[i] === lane);
      expect(stuck, name).toHaveLength(1);
      expect(tl.slices.t1[stuck[0]![1]]).toBe(tl.durationNs);
    }
  });
});

describe("HTML timeline bounds with folded lanes", () => {
  it("lists only tasks drawn in detail as sub-lanes when the trace is too big to draw", () => {
    const s = new TraceScript();
    // 3,000 short jobs (ids reused), 2 polls each: 6,000 polls, far past a 2,000-slice budget;
    // one long poll in the middle gives the only detail window.
    for (let i = 0; i < 3000; i++) {
      const id = 10 + (i % 40);
      const t = 100 + i * 100 + (i >= 1500 ? 10_200 : 0); // (room for the hog's poll)
      s.spawn(t, id, "job").poll(t + 5, id, 3, { site: "job: wait" }).wake(t + 20, id).begin(t + 30, id).ready(t + 33, id);
    }
    s.spawn(150_050, 5, "hog").begin(150_100, 5).ready(160_100, 5);
    const { analysis, tl } = timelineOf(s.write(), { maxSlices: 2000 });
    expect(analysis.lints[0]!.kind).toBe("long-poll");
    expect(tl.lanes.find((l) => l.task < 0)).toMatchObject({ label: "job x3000", shared: 3000 });
    expect(tl.windows).toHaveLength(1);
    expect(tl.slices.lane.length).toBeLessThanOrEqual(2000);
    // Sub-lanes only for jobs with something drawn, all inside the window, each label unique.
    const w = tl.windows[0]!;
    expect(tl.subLanes.length).toBeGreaterThan(0);
    expect(tl.subLanes.length).toBeLessThan(3000 / 4);
    for (const sub of tl.subLanes) expect(sub.toNs >= w.fromNs && sub.fromNs <= w.toNs, sub.label).toBe(true);
    const all = labels(tl);
    expect(new Set(all).size).toBe(all.length);
    // The overview still covers every job: busy time in the shared lane from start to end.
    const shared = tl.lanes.findIndex((l) => l.task < 0);
    const bins = tl.density.busy[shared]!;
    expect(bins.findIndex((x) => x > 0)).toBeLessThan(bins.length * 0.02);
    expect(bins.findLastIndex((x) => x > 0)).toBeGreaterThan(bins.length * 0.98);
  });
});
