// The live console's parts without a terminal: keys from raw terminal bytes, text measured in
// terminal cells, frames that fit any size exactly, and the analysis behind it, which must be
// the report's own (the same lints from the same records). test/console.test.ts drives the whole
// console in a real terminal.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { EventEmitter } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { cleanEnv, cliPath } from "./support/cli.js";
import { parseKeys, commandFor } from "../host/cli/console-input.js";
import { cellWidth, clip, encodeLine, line, pad, Screen, span, type Line } from "../host/cli/console-screen.js";
import { drawDetail, drawHelp, drawLints, drawResources, drawTasks, type Frame, type Place } from "../host/cli/console-views.js";
import { LiveFeed } from "../host/cli/live-feed.js";
import { LiveConsole } from "../host/cli/live-console.js";
import { decodeRecords } from "../host/format/index.js";
import { formatDuration } from "../host/report/units.js";
import { histogramBins, resourceRows, sortRows, taskDetail, taskRows } from "../host/cli/live-rows.js";
import { Histogram } from "../host/model/histogram.js";
import { analyzeTrace } from "../host/model/analyze.js";
import { runWasi, type WasiRunResult } from "../host/sources/wasi.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { TraceIngest } from "../host/pull/ingest.js";

const DEMO = join(ROOT, "build/demo.wasm");
let dir: string;
beforeAll(() => {
  if (!existsSync(DEMO)) throw new Error(`${DEMO} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), "taskscope-console-units-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// eslint-disable-next-line no-control-regex
const plain = (text: string) => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");

describe("keys from a terminal in raw mode", () => {
  it("reads arrows, paging and Escape in both cursor modes, and characters as themselves", () => {
    expect(parseKeys("\x1b[A\x1b[B\x1bOA\x1bOB\x1b[5~\x1b[6~\x1b[H\x1b[4~\x1b[Z")).toEqual(["up", "down", "up", "down", "pageup", "pagedown", "home", "end", "backtab"]);
    expect(parseKeys("\x1b")).toEqual(["escape"]);
    expect(parseKeys("\x1b\x1b")).toEqual(["escape"]);
    expect(parseKeys("jk\rq\x03\t")).toEqual(["j", "k", "enter", "q", "ctrl-c", "tab"]);
    // An unknown sequence goes whole; what follows is still read.
    expect(parseKeys("\x1b[1;5Pq")).toEqual(["q"]);
    expect(parseKeys("é😀")).toEqual(["é", "😀"]);
  });

  it("maps keys to commands: q and Ctrl-C quit, vi keys move, letters sort", () => {
    expect(commandFor("q")).toEqual({ type: "quit" });
    expect(commandFor("ctrl-c")).toEqual({ type: "quit" });
    expect(commandFor("j")).toEqual({ type: "move", by: 1 });
    expect(commandFor("up")).toEqual({ type: "move", by: -1 });
    expect(commandFor("enter")).toEqual({ type: "open" });
    expect(commandFor("escape")).toEqual({ type: "back" });
    expect(commandFor("p")).toEqual({ type: "sort", key: "polls" });
    expect(commandFor("b")).toEqual({ type: "sort", key: "busy" });
    expect(commandFor("r")).toEqual({ type: "view", view: "resources" });
    expect(commandFor("Z")).toBeUndefined();
  });
});

describe("text in terminal cells", () => {
  it("counts wide characters as two cells and combining marks as none", () => {
    expect(cellWidth("abc")).toBe(3);
    expect(cellWidth("传感器")).toBe(6);
    expect(cellWidth("e\u0301")).toBe(1);
    expect(cellWidth("µs")).toBe(2);
    expect(clip("传感器", 5)).toBe("传感");
    expect(clip("sensor-reader", 7, true)).toBe("sensor…");
    expect(cellWidth(pad("传感器", 7))).toBe(7);
    expect(pad("42", 5, "right")).toBe("   42");
  });

  it("encodes a line exactly as wide as asked, colour only when asked", () => {
    const l: Line = { spans: [span("STUCK", { fg: "red", bold: true }), span(" 传感器 and more text")], fill: { inverse: true } };
    for (const width of [1, 4, 7, 12, 40]) {
      expect(cellWidth(plain(encodeLine(l, width, true)))).toBe(width);
      expect(cellWidth(plain(encodeLine(l, width, false)))).toBe(width);
    }
    expect(encodeLine(l, 40, true)).toContain("\x1b[1;31mSTUCK");
    const bare = encodeLine(l, 40, false);
    expect(bare).toContain("\x1b[1mSTUCK");
    expect(bare).not.toMatch(/\x1b\[[0-9;]*3\dm/);
    expect(bare).toContain("\x1b[7m"); // inverse video is not colour
  });

  it("paints only the lines that changed, within the terminal's size", () => {
    const writes: string[] = [];
    const term = { columns: 20, rows: 3, write: (t: string) => writes.push(t) };
    const screen = new Screen(term, true);
    screen.enter();
    screen.paint([line("one"), line("two"), line("three"), line("four")]);
    const first = writes.at(-1)!;
    expect(first).toContain("\x1b[1;1Hone");
    expect(first).toContain("\x1b[3;1Hthree");
    expect(first).not.toContain("four"); // past the last row
    screen.paint([line("one"), line("TWO"), line("three")]);
    expect(writes.at(-1)).toBe(`\x1b[2;1HTWO${" ".repeat(17)}`);
    screen.paint([line("one"), line("TWO"), line("three")]);
    expect(writes.at(-1)).toBe(`\x1b[2;1HTWO${" ".repeat(17)}`); // nothing new written
    screen.leave();
    expect(writes.at(-1)).toContain("\x1b[?1049l");
    expect(writes.at(-1)).toContain("\x1b[?25h");
  });
});

describe("the console's analysis", () => {
  const demo = demoRun("deadlock");

  it("is the report's: the same records give the same lints", () => {
    const feed = new LiveFeed();
    for (const d of demo.drains) feed.records(d, demo.result.anchor);
    const file = join(dir, "deadlock.trace.cbor");
    const writer = new TraceWriter(file);
    writer.header({ tool: "test", source: "wasi:demo.wasm" });
    const ingest = new TraceIngest(writer);
    for (const d of demo.drains) ingest.push(d, demo.result.anchor);
    ingest.finish("exit 0");
    writer.close();
    const report = analyzeTrace(file);
    const live = feed.lints(true);
    expect(live.length).toBeGreaterThan(0);
    expect(live[0]!.kind).toBe("deadlock");
    // The report also counts losses from the file's summary, which the console does not judge.
    const titles = (lints: typeof live) => lints.filter((l) => l.kind !== "lost-events").map((l) => `${l.severity} ${l.title}`);
    expect(titles(live)).toEqual(titles(report.lints));
    expect(feed.nowNs).toBe(report.model.lastT);
  });

  it("draws every view to exactly the terminal's size, down to a tiny one", () => {
    const feed = new LiveFeed();
    for (const d of demo.drains) feed.records(d, demo.result.anchor);
    const s = feed.session!;
    const lints = feed.lints(true);
    const rows = sortRows(taskRows(feed.model, s.index, feed.nowNs, lints), "state");
    const resources = resourceRows(feed.model, s.index, feed.nowNs);
    expect(rows.map((r) => r.name).sort()).toEqual(["compressor", "telemetry"]);
    expect(resources.find((r) => r.name === "samples")).toMatchObject({ level: 4, capacity: 4, parked: [expect.objectContaining({ name: "telemetry" })] });
    const detail = taskDetail(feed.model, rows[0]!.task, feed.nowNs, lints);
    for (const [width, height] of [[80, 24], [120, 40], [40, 10], [20, 5], [200, 60]] as const) {
      const frame: Frame = { width, height, device: "wasi-demo (taskscope-demo 0.1)", nowNs: feed.nowNs, liveTasks: rows.length, endedTasks: 3, lints, status: "pulled: 13,000 events", notice: "demo.wasm exited with status 0; q to quit" };
      const place: Place = { view: "tasks", cursor: 1, scroll: 0, sort: "state", reverse: false, help: false };
      const views = [drawTasks(frame, place, rows), drawResources(frame, { ...place, view: "resources" }, resources), drawLints(frame, { ...place, view: "lints", cursor: 0 }), drawDetail(frame, detail), drawHelp(frame)];
      for (const v of views) {
        expect(v.lines).toHaveLength(height);
        for (const l of v.lines) expect(cellWidth(plain(encodeLine(l, width, true)))).toBe(width);
      }
    }
  });

  it("bins a histogram into at most the rows it has, losing no value", () => {
    const h = new Histogram();
    for (let i = 1; i <= 1000; i++) h.add(i * 997);
    for (const max of [1, 3, 8, 100]) {
      const bins = histogramBins(h, max);
      expect(bins.length).toBeLessThanOrEqual(max);
      expect(bins.reduce((n, b) => n + b.count, 0)).toBe(1000);
      for (let i = 1; i < bins.length; i++) expect(bins[i]!.low).toBe(bins[i - 1]!.high);
    }
    expect(histogramBins(new Histogram(), 5)).toEqual([]);
    // A task polled a few times (the histogram keeps those values as they are): bins all the same.
    const few = new Histogram();
    for (const v of [0, 1000, 1100, 2000]) few.add(v);
    const bins = histogramBins(few, 100);
    expect(bins[0]).toEqual({ low: 0, high: 1, count: 1 });
    expect(bins.reduce((n, b) => n + b.count, 0)).toBe(4);
    expect(bins.at(-1)).toMatchObject({ count: 1 });
    expect(bins.at(-1)!.low).toBeLessThanOrEqual(2000);
    expect(bins.at(-1)!.high).toBeGreaterThan(2000);
  });
});

describe("the console judges only what it saw", () => {
  /** Runs `fn` with a console over `feed` on a terminal of 100x30; `screen()` draws a frame and
   *  returns what the terminal then shows, row by row. */
  function withConsole(feed: LiveFeed, fn: (screen: () => string[]) => void): void {
    const rows: string[] = [];
    const term = Object.assign(new EventEmitter(), {
      isTTY: true, columns: 100, rows: 30,
      write(text: string): boolean {
        // Frames are whole lines, each after a move to its row's first column.
        for (const m of text.matchAll(/\x1b\[(\d+);1H([^\x1b]*(?:\x1b\[[0-9;]*m[^\x1b]*)*)/g)) rows[Number(m[1]) - 1] = plain(m[2]!).trimEnd();
        return true;
      },
    });
    const c = new LiveConsole(feed, { output: term as unknown as NodeJS.WriteStream, colour: false, onQuit: () => {}, refreshMs: 3_600_000 });
    c.start();
    try {
      fn(() => {
        c.draw();
        return [...rows];
      });
    } finally {
      c.stop();
    }
  }
  /** The device time the title shows. */
  const deviceTime = (screen: string[]) => / │ device time (\S+) │ /.exec(screen[0]!)?.[1];

  const demo = demoRun("lost-wakeup");

  it("calls a task STUCK only when the stream holds its whole history, and its clock is the newest event", () => {
    const full = new LiveFeed();
    withConsole(full, (screen) => {
      for (const d of demo.drains) full.records(d, demo.result.anchor);
      full.lints(true);
      const shown = screen();
      expect(shown.find((l) => l.startsWith(">"))).toMatch(/^>uart-reader\s+\d+\s+STUCK \(no waker\)/);
      expect(deviceTime(shown)).toBe(formatDuration(full.nowNs));
    });

    // Attached mid-run: the first drains' chunks (every spawn, the wakers cloned then) were
    // overwritten before the pull. Every frame drawn from then on is read.
    const late = new LiveFeed();
    const frames: string[][] = [];
    withConsole(late, (screen) => {
      const firstKept = Math.floor(demo.drains.length / 4);
      demo.drains.forEach((d, i) => {
        late.records(i < firstKept ? withoutChunks(d) : d, demo.result.anchor);
        if (i < firstKept) return;
        late.lints(true);
        const shown = screen();
        frames.push(shown);
        expect(deviceTime(shown)).toBe(formatDuration(late.nowNs));
      });
    });
    expect(frames.length).toBeGreaterThan(1);
    expect(frames.flat().filter((l) => l.includes("STUCK"))).toEqual([]);
    expect(frames.flat().some((l) => /parked \(waker unknown\)/.test(l))).toBe(true);
  });

  it("keeps its clock with the events it decoded when the device's counters run ahead", () => {
    const feed = new LiveFeed();
    withConsole(feed, (screen) => {
      for (const d of demo.drains) feed.records(d, demo.result.anchor);
      const before = deviceTime(screen());
      expect(before).toBe(formatDuration(feed.nowNs));
      // A COUNTERS record whose clock is far past every event (as a drain sends before its chunks).
      feed.records(countersAhead(demo.drains, 10n ** 12n), demo.result.anchor);
      expect(deviceTime(screen())).toBe(before);
      // A chunk at a time no device reaches (a flipped high bit in its base time) is set aside
      // as the file's reader does, and counted.
      feed.records(chunkFromTheFuture(demo.drains), demo.result.anchor);
      expect(deviceTime(screen())).toBe(before);
      expect(feed.session!.damagedEvents).toBeGreaterThan(0);
    });
  });
});

/** The demo's drains in `scenario`, as the pull gets them (run before the suite's tests). */
function demoRun(scenario: string): { drains: Uint8Array[]; result: WasiRunResult } {
  const run = { drains: [] as Uint8Array[], result: undefined as unknown as WasiRunResult };
  beforeAll(async () => {
    run.result = await runWasi({ wasmPath: DEMO, args: [scenario], onRecords: (b) => run.drains.push(b) });
  }, 60_000);
  return run;
}

/** Each record of a drain as its own bytes (records are back to back). */
function recordBytes(drain: Uint8Array): { type: string; bytes: Uint8Array }[] {
  const records = decodeRecords(drain);
  return records.map((r, i) => ({ type: r.type, bytes: drain.subarray(r.offset, records[i + 1]?.offset ?? drain.length) }));
}

function withoutChunks(drain: Uint8Array): Uint8Array {
  return Buffer.concat(recordBytes(drain).filter((r) => r.type !== "CHUNK").map((r) => r.bytes));
}

/** The last CHUNK record of the drains, with its base time's top bit set (docs/FORMAT.md 3:
 *  seq u32, then the base time u64). */
function chunkFromTheFuture(drains: Uint8Array[]): Uint8Array {
  const bytes = drains.flatMap(recordBytes).filter((x) => x.type === "CHUNK").at(-1)!.bytes.slice();
  bytes[3 + 4 + 7]! |= 0x40;
  return bytes;
}

/** The first COUNTERS record of the drains with its device clock set to `ticks`. */
function countersAhead(drains: Uint8Array[], ticks: bigint): Uint8Array {
  const r = drains.flatMap(recordBytes).find((x) => x.type === "COUNTERS")!;
  const bytes = r.bytes.slice();
  // docs/FORMAT.md 2.3: "now", the device ticks when the record was written, is the u64 at 48.
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(3 + 48, ticks, true);
  return bytes;
}

describe("trace-pull --live off a terminal", () => {
  it("prints snapshots of the task table, and ends with the program", () => {
    const out = join(dir, "snap.trace.cbor");
    const r = spawnSync(process.execPath, [cliPath("trace-pull"), "--wasi", DEMO, "--live", "-o", out, "--", "lost-wakeup"], { cwd: dir, env: cleanEnv(), encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    const last = r.stdout.trim().split("\n\n").at(-1)!;
    expect(last).toMatch(/^live: wasi-demo, device time \S+: 1 live tasks, \d+ ended$/m);
    expect(last).toMatch(/^uart-reader\s+\d+\s+STUCK \(no waker\)\s+\S+\s+\d+\s+\S+\s+\S+ ago\s+uart-reader: read frame$/m);
    expect(last).toMatch(/^lints: \d+ \(1 error\): lost-wakeup/m);
    expect(r.stdout).toContain("demo lost-wakeup: stuck");
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/\x1b/);
    expect(r.stderr).toMatch(/^trace-pull: wrote .*snap\.trace\.cbor: /m);
  }, 120_000);

  it("refuses --live with --json or -o -, which need standard output", () => {
    for (const extra of [["--json"], ["-o", "-"]]) {
      const r = spawnSync(process.execPath, [cliPath("trace-pull"), "--wasi", DEMO, "--live", ...extra], { cwd: dir, env: cleanEnv(), encoding: "utf8" });
      expect(r.status).toBe(2);
      expect(r.stderr).toContain("--live draws on standard output");
    }
  });
});
