// The analysis keeps state per live task, resource and kind, never per task that has ended:
// an ended task folds into its group, and only a bounded number of examples per group keep a
// record. Counted in records, not bytes, on traces that spawn a task per request; and a trace
// that spawns the same ids again and again with no end in between (the hostile-file case).

import { describe, it, expect } from "vitest";
import { analyzeTrace } from "../host/model/analyze.js";
import { TraceScript, requests } from "./support/report-trace.js";

const ms = (x: number) => x * 1000;

describe("memory bounded by what is alive", () => {
  it("holds the same number of task records after 2,000 and after 20,000 requests, each served by its own task", () => {
    const short = analyzeTrace(requests(2_000, 0, 0, 0).write());
    const long = analyzeTrace(requests(20_000, 0, 0, 0).write());
    for (const a of [short, long]) {
      // Every task is accounted for (in its group, or alive at the end), but few keep a record.
      const grouped = a.model.groups.list.reduce((n, g) => n + g.count, 0);
      const alive = a.model.tasks.filter((t) => t.end === "alive").length;
      expect(grouped + alive).toBe(a.model.taskCount);
      expect(a.model.heldRecords).toBeLessThanOrEqual(80);
    }
    expect(long.model.taskCount).toBe(20_001);
    expect(long.model.heldRecords).toBe(short.model.heldRecords);
    expect(long.model.tasks.length).toBe(short.model.tasks.length);
    // The request latencies still cover all of them.
    expect(long.model.flows.kinds[0]!.latency.count).toBe(20_000);
  });

  it("reads ids spawned again 2,000 times with no end in between in bounded records, each old task closed as lost", () => {
    const s = new TraceScript();
    for (let round = 0; round < 2_000; round++) {
      for (let id = 1; id <= 20; id++) s.spawn(ms(round) + id, id, `t${id % 4}`);
      for (let id = 1; id <= 20; id++) s.poll(ms(round) + 100 + id * 10, id, 5, { site: "wait" });
    }
    const a = analyzeTrace(s.write());
    expect(a.model.taskCount).toBe(40_000);
    expect(a.model.stats.lostEnds).toBe(20 * 1_999);
    const lost = a.model.groups.list.filter((g) => g.end === "lost").reduce((n, g) => n + g.count, 0);
    expect(lost).toBe(20 * 1_999);
    expect(a.model.heldRecords).toBeLessThanOrEqual(20 + 4 * 5 + 64);
  });
});
