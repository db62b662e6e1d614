// trace-report: docs/REPORT.md against the code (JSON fields, lint kinds, thresholds and their
// defaults), the text layout, the options (window, task filter, thresholds) and their errors as
// a user sees them (dist/ CLI in a real process), and the bounds of the HTML timeline.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { parseMarkdownTables, type MarkdownTable } from "./support/spec-tables.js";
import { TraceScript, requests, ticker, MS } from "./support/report-trace.js";
import { analyzeTrace } from "../host/model/analyze.js";
import { LINT_KINDS } from "../host/model/lints.js";
import { DEFAULT_THRESHOLDS, THRESHOLD_SPECS, formatThreshold, parseDuration } from "../host/model/thresholds.js";
import { buildReport, type ReportData } from "../host/report/report-data.js";
import { renderTextReport } from "../host/report/text-report.js";
import { buildTimelines } from "../host/report/timeline.js";
import { renderHtmlReport } from "../host/report/html-report.js";

const REPORT_MD = readFileSync(join(ROOT, "docs/REPORT.md"), "utf8");
const TABLES = parseMarkdownTables(REPORT_MD);
const table = (name: string): MarkdownTable => {
  const t = TABLES.find((x) => x.name === name);
  if (!t) throw new Error(`docs/REPORT.md has no table \`${name}\``);
  return t;
};
const unquote = (cell: string) => cell.replace(/^`|`$/g, "");

let dir: string;
beforeAll(() => {
  if (!existsSync(join(ROOT, "dist/host/cli/trace-report.js"))) throw new Error("dist/ is missing: run npm run build");
  dir = mkdtempSync(join(tmpdir(), "taskscope-report-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function report(args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-report.js"), ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A trace with something of everything: a slow cluster on a mutex, a deadlock between two
 *  channels, a parked leak, a ticker. */
function richTrace(): string {
  const s = requests(120, 60, 3, 15);
  const t0 = 200_000; // µs, after the requests
  const ab = s.resource(t0, "channel", "a-to-b", 1);
  const ba = s.resource(t0, "channel", "b-to-a", 1);
  s.spawn(t0, 101, "alpha").spawn(t0, 102, "beta");
  s.begin(t0 + 10, 101).op(t0 + 11, ab, "send", "ok", 1).op(t0 + 12, ba, "recv", "blocked", 0).clone(t0 + 12, 101).pending(t0 + 13, { site: "alpha: recv", res: ba });
  s.begin(t0 + 20, 102).op(t0 + 21, ab, "recv", "ok", 0).op(t0 + 22, ba, "send", "ok", 1).wake(t0 + 22, 101, 102).pending(t0 + 23, { site: "beta: idle" });
  s.begin(t0 + 30, 101).op(t0 + 31, ba, "recv", "unblocked", 0).op(t0 + 32, ab, "send", "ok", 1).op(t0 + 33, ab, "send", "blocked", 1);
  s.clone(t0 + 33, 101).pending(t0 + 34, { site: "alpha: send", res: ab });
  s.wake(t0 + 40, 102);
  s.begin(t0 + 50, 102).op(t0 + 51, ba, "send", "ok", 1).op(t0 + 52, ba, "send", "blocked", 1).clone(t0 + 52, 102).pending(t0 + 53, { site: "beta: send", res: ba });
  const timer = s.resource(0, "timer", "timer", 8);
  for (let i = 0; i < 60; i++) {
    if (i > 0) s.wake(t0 + 1000 * i + 100, 103);
    else s.spawn(t0 + 100, 103, "ticker");
    s.poll(t0 + 1000 * i + 200, 103, 20, { site: "ticker: tick", res: timer });
  }
  s.mark(t0 + 300_000, "end");
  return s.write(join(dir, `rich-${Math.random().toString(36).slice(2)}.trace.cbor`), {
    stalls: { observerNs: 4_000_000, runQueueNs: 12_000_000, count: 5, largestNs: 6_000_000, sleepOverNs: 3_000_000, runQueueKnown: true },
  });
}

/** Every object of each documented type in a report, by table name. */
function objectsByTable(r: ReportData): Map<string, object[]> {
  const m = new Map<string, object[]>();
  const add = (name: string, ...xs: object[]) => m.set(name, [...(m.get(name) ?? []), ...xs]);
  add("report", r);
  add("session", ...r.sessions);
  add("loss", ...r.sessions.map((s) => s.loss));
  add("executor", r.executor);
  add("stalls", ...r.sessions.flatMap((s) => (s.stalls ? [s.stalls] : [])));
  add("task", ...r.tasks);
  add("task-group", ...r.taskGroups);
  add("analysis", r.analysis);
  add(
    "histogram",
    ...r.tasks.flatMap((t) => [t.pollNs, t.wakeToPollNs]),
    ...r.taskGroups.flatMap((g) => [g.pollNs, g.wakeToPollNs, g.lifetimeNs]),
    ...r.flows.flatMap((f) => [f.latencyNs, f.busyNs]),
  );
  add("task-concurrency", ...[...r.tasks, ...r.taskGroups].flatMap((t) => (t.concurrency ? [t.concurrency] : [])));
  add("gauge", ...r.flows.flatMap((f) => [f.inFlight, f.served]).filter((g) => g !== null));
  add("resource", ...r.resources);
  add("wait-edge", ...r.waitsFor);
  add("flow-kind", ...r.flows);
  add("slow-requests", ...r.slowRequests);
  add("cause", ...r.slowRequests.flatMap((s) => s.causes));
  add("lint", ...r.lints);
  add("lint-task", ...r.lints.flatMap((l) => l.tasks));
  return m;
}

describe("docs/REPORT.md matches the code", () => {
  it("documents every field of the JSON report, and nothing that is not there", () => {
    const path = richTrace();
    const a = analyzeTrace(path);
    const data = JSON.parse(JSON.stringify(buildReport(path, a.summary, a.model, { lints: a.lints, slow: a.slow }))) as ReportData;
    const kinds = new Set(data.lints.map((l) => l.kind));
    // The trace exercises the optional parts too.
    for (const k of ["deadlock", "slow-requests", "leak"] as const) expect(kinds).toContain(k);
    expect(data.waitsFor.length).toBeGreaterThan(0);
    for (const [name, objects] of objectsByTable(data)) {
      expect(objects.length, name).toBeGreaterThan(0);
      const documented = table(name).rows.map((row) => unquote(row["field"]!));
      const seen = new Set(objects.flatMap((o) => Object.keys(o)));
      for (const key of seen) expect(documented, `${name}.${key} is not documented`).toContain(key);
      for (const key of documented) expect([...seen], `${name}.${key} is documented but never produced`).toContain(key);
    }
    expect(data.schema).toBe("taskscope.report/3");
    expect(Object.keys(data.thresholds).sort()).toEqual(THRESHOLD_SPECS.map((s) => s.key).sort());
  });

  it("lists every lint kind", () => {
    expect(table("lint-kinds").rows.map((r) => unquote(r["kind"]!)).sort()).toEqual([...LINT_KINDS].sort());
  });

  it("gives every threshold with its flag, key, default and meaning, as --help does", () => {
    const rows = table("thresholds").rows;
    expect(rows.map((r) => unquote(r["key"]!))).toEqual(THRESHOLD_SPECS.map((s) => s.key));
    const help = report(["--help"]);
    expect(help.code).toBe(0);
    for (const spec of THRESHOLD_SPECS) {
      const row = rows.find((r) => unquote(r["key"]!) === spec.key)!;
      const def = formatThreshold(spec, DEFAULT_THRESHOLDS[spec.key]);
      expect(unquote(row["flag"]!)).toBe(`--${spec.flag}`);
      expect(row["default"]).toBe(def);
      expect(row["meaning"]).toBe(spec.what);
      expect(help.stdout).toContain(`--${spec.flag}`);
      expect(help.stdout).toContain(`${spec.what} (default ${def})`);
    }
  });
});

describe("the text report", () => {
  it("prints lints first, then executor, tasks, spawn tree, resources and flows", () => {
    const path = richTrace();
    const r = report([path]);
    expect(r.code, r.stderr).toBe(0);
    const order = ["lints (", "executor:", "tasks (", "spawn tree:", "resources (", "flows ("].map((h) => r.stdout.indexOf(`\n${h}`));
    for (const at of order) expect(at).toBeGreaterThan(0);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(r.stdout).toMatch(/\n1\. ERROR deadlock: alpha \(task 101\) waits at 'alpha: send'/);
    expect(r.stdout).toMatch(/slow 'GET \/orders' \(p99: 2 of 120 .*\):\n {2}\+[\d.]+ms 'handler: lock db' on 'db' \(.*\), held by backup \(task 1\)/);
    expect(r.stdout).toMatch(/^ticker\s+103\s+-\s+parked\s.*ticker: tick \(timer\)$/m);
  });

  it("says 'lints: none' for a healthy trace", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "once").begin(10, 1).ready(20, 1);
    const text = renderTextReport(buildReport("x", analyzeTrace(s.write()).summary, analyzeTrace(s.write()).model));
    expect(text).toContain("\nlints: none\n");
  });
});

describe("options", () => {
  it("a window: times and counts from --since, the end at --until", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    ticker(s, 1, 400, timer);
    const path = s.write();
    const all = JSON.parse(report([path, "--json"]).stdout) as ReportData;
    const r = report([path, "--json", "--since", "100ms", "--until", "0.3s"]);
    expect(r.code, r.stderr).toBe(0);
    const win = JSON.parse(r.stdout) as ReportData;
    expect(win.window).toEqual({ sinceNs: 100 * MS, untilNs: 300 * MS });
    expect(win.sessions[0]!.lastNs).toBe(win.sessions[0]!.firstNs + 300 * MS); // the window's end
    expect(win.tasks[0]!.polls).toBeLessThan(all.tasks[0]!.polls / 1.5);
    expect(win.tasks[0]!.totalNs).toBeCloseTo(200 * MS, -5);
    expect(report([path, "--since", "100ms"]).stdout).toContain("showing: window 100ms to end");
  });

  it("a task filter keeps the matching tasks and the lints that name them", () => {
    const path = richTrace();
    const r = JSON.parse(report([path, "--json", "--task", "alp*", "--task", "103"]).stdout) as ReportData;
    expect(new Set(r.tasks.map((t) => t.name))).toEqual(new Set(["alpha", "ticker"]));
    expect(r.taskFilter).toEqual(["alp*", "103"]);
    expect(r.lints.map((l) => l.kind).sort()).toEqual(["deadlock", "leak"]);
  });

  it("a threshold flag changes what is reported", () => {
    const s = new TraceScript();
    s.spawn(0, 1, "cruncher").begin(10, 1).ready(3010, 1); // a 3 ms poll
    s.mark(200_000, "end");
    const path = s.write();
    expect((JSON.parse(report([path, "--json"]).stdout) as ReportData).lints).toEqual([]);
    const low = JSON.parse(report([path, "--json", "--long-poll", "2ms"]).stdout) as ReportData;
    expect(low.lints.map((l) => l.kind)).toEqual(["long-poll"]);
    expect(low.thresholds.longPollNs).toBe(2 * MS);
  });

  it("wrong options exit 2 with one line naming the option", () => {
    const path = richTrace();
    const cases: [string[], string][] = [
      [["--long-poll", "5"], "--long-poll takes a duration"],
      [["--slow-percentile", "100"], "--slow-percentile takes a percentile"],
      [["--self-wake-ratio", "2"], "--self-wake-ratio takes a share"],
      [["--self-wake-min", "1.5"], "--self-wake-min takes a whole number"],
      [["--since", "soon"], "--since takes a duration"],
      [["--since", "2s", "--until", "1s"], "--until (1s) must be after --since (2s)"],
      [["--json", "--html", "x.html"], "--json and --html"],
      [["--frobnicate"], "--frobnicate"],
    ];
    for (const [args, message] of cases) {
      const r = report([path, ...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr.split("\n")[0]).toContain(message);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });

  it("an HTML file that cannot be written is one line and exit 1", () => {
    const r = report([richTrace(), "--html", join(dir, "no-such-dir", "x.html")]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^trace-report: cannot write .*x\.html: no such file or directory \(ENOENT\)$/);
  });

  it("parses durations", () => {
    expect(parseDuration("5ms")).toBe(5e6);
    expect(parseDuration("1.5s")).toBe(1.5e9);
    expect(parseDuration("250us")).toBe(250e3);
    expect(parseDuration("250µs")).toBe(250e3);
    expect(parseDuration("800ns")).toBe(800);
    expect(parseDuration("5")).toBeUndefined();
    expect(parseDuration("-1ms")).toBeUndefined();
  });
});

describe("HTML timeline bounds", () => {
  it("draws detail only around the lints of a trace too big to draw, within the slice and lane caps", () => {
    const s = new TraceScript();
    const timer = s.resource(0, "timer", "timer", 8);
    const tasks = 200;
    for (let id = 1; id <= tasks; id++) s.spawn(0, id, `w${id}`);
    // 200 tasks x 78 polls: 15,600 polls, ~47,000 slices, more than a 10,000-slice budget;
    // rounds 40 and 41 leave room for one long poll in the middle.
    for (let round = 0; round < 80; round++) {
      if (round === 40 || round === 41) continue;
      for (let id = 1; id <= tasks; id++) {
        const t = 1000 + round * 5000 + id * 20;
        if (round > 0) s.wake(t - 5, id);
        s.poll(t, id, 5, { site: "wait", res: timer });
      }
    }
    s.spawn(201_000, 500, "hog").begin(201_010, 500).ready(209_000, 500); // one long poll in the middle
    const path = s.write();
    const analysis = analyzeTrace(path);
    expect(analysis.lints[0]!.kind).toBe("long-poll");
    const timelines = buildTimelines(path, analysis, {}, { maxSlices: 10_000, maxLanes: 50 });
    const tl = timelines[0]!;
    expect(tl.totalPolls).toBe(15_601);
    expect(tl.slices.lane.length).toBeLessThanOrEqual(10_000);
    expect(tl.lanes.length).toBe(50);
    expect(tl.lanes[tl.lanes.length - 1]!.name).toBe(`other tasks (${tasks + 1 - 49})`);
    expect(tl.lanes.some((l) => l.name === "hog" && l.flagged)).toBe(true);
    expect(tl.windows.length).toBeGreaterThanOrEqual(1);
    const hogAt = analysis.lints[0]!.atNs - tl.startNs;
    expect(tl.windows.some((w) => w.fromNs <= hogAt && w.toNs >= hogAt)).toBe(true);
    expect(tl.windows.reduce((n, w) => n + w.toNs - w.fromNs, 0)).toBeLessThan(tl.durationNs);
    // Busy time per lane still covers the whole trace.
    const bins = tl.density.busy[0]!;
    expect(bins.filter((x) => x > 0).length).toBeGreaterThanOrEqual(70); // one per poll of w1
    expect(bins.findIndex((x) => x > 0)).toBeLessThan(bins.length * 0.05);
    expect(bins.findLastIndex((x) => x > 0)).toBeGreaterThan(bins.length * 0.95);

    const data = buildReport(path, analysis.summary, analysis.model, { lints: analysis.lints, slow: analysis.slow });
    const html = renderHtmlReport(data, timelines);
    const file = join(dir, "big.html");
    writeFileSync(file, html);
    expect(statSync(file).size).toBeLessThan(3_000_000);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//);
  });
});
