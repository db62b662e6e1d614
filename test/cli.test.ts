// The commands as a user runs them: built JavaScript in dist/, real processes, real files.
// trace-pull runs real wasm under node:wasi; trace-report reads what it wrote.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { cliPath, expectOneLineError, run as runCommand, type Command } from "./support/cli.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-cli-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(cli: Command, args: string[]) {
  return runCommand(cli, args, { cwd: dir });
}

describe("trace-pull --wasi and trace-report on the demo", () => {
  let file: string;
  let pull: ReturnType<typeof run>;
  beforeAll(() => {
    file = join(dir, "demo.trace.cbor");
    pull = run("trace-pull", ["--wasi", join(ROOT, "build/demo.wasm"), "-o", file]);
  });

  it("pulls the whole run into a trace file, quietly when not on a terminal", () => {
    expect(pull.code, pull.stderr).toBe(0);
    expect(pull.stdout).toBe("demo: 32 requests served\n"); // the application's own output
    expect(pull.stderr).toMatch(/^trace-pull: wrote .*demo\.trace\.cbor: [\d,]+ events, [\d,]+ chunks, .*; nothing lost\n$/);
    expect(pull.stderr).not.toContain("\r"); // no progress line off a terminal
    expect(pull.stderr).not.toContain("ExperimentalWarning");
  });

  it("writes a file whose events, counters and footer agree exactly", () => {
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toBe("exit 0");
    expect(trace.truncated).toBeUndefined();
    const s = trace.sessions[0]!;
    expect(s.info.device).toBe("wasi-demo");
    const c = s.counters!;
    expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
    expect(c.pendingEvents).toBe(0);
    expect(s.events).toBe(c.drained); // nothing lost between the device and the file
    expect(trace.footer?.events).toBe(s.events);
    const names = new Set(s.names.entries().map((n) => n.text));
    for (const n of ["main", "producer", "consumer", "http-server", "worker"]) expect(names).toContain(n);
  });

  it("prints a task table with every task, its parent and its times", () => {
    const r = run("trace-report", [file, "--all-tasks"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("device wasi-demo, firmware taskscope-demo 0.1, 1 MHz clock");
    expect(r.stdout).toContain("lost: nothing");
    expect(r.stdout).toMatch(/^tasks \(78, \d+ kept in detail/m);
    // The workers the analysis kept, one row each, and one row of averages for the rest.
    const rows = r.stdout.split("\n").filter((l) => /^worker\s+\d+\s+http-server\s+done/.test(l));
    const others = /^worker x(\d+) \(others, avg\)\s+7\.\.\d+\s+http-server\s+done/m.exec(r.stdout);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.length + Number(others![1])).toBe(72);
    expect(r.stdout).toMatch(/^main\s+1\s+-\s+done/m);
  });

  it("reports the same facts as JSON, every task accounted for", () => {
    const r = run("trace-report", [file, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.schema).toBe("taskscope.report/3");
    expect(report.complete).toBe(true);
    // All 78 tasks ended: each is in exactly one group; a few of each group are kept in detail.
    const groups = report.taskGroups as { name: string; count: number; exemplars: number[] }[];
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(78);
    expect(report.analysis.tasksSeen).toBe(78);
    expect(report.tasks.map((t: { index: number }) => t.index).sort((a: number, b: number) => a - b)).toEqual(
      groups.flatMap((g) => g.exemplars).sort((a, b) => a - b),
    );
    expect(groups.find((g) => g.name === "worker")!.count).toBe(72);
    const session = report.sessions[0];
    expect(session.loss).toMatchObject({ droppedOnDevice: 0, lostInTransfer: 0, exact: true });
    const trace = readWholeTrace(file);
    expect(session.events).toBe(trace.sessions[0]!.events);
    for (const t of report.tasks) {
      expect(t.state).toBe("done");
      // Every moment of a task's life is busy, scheduled or idle.
      expect(Math.abs(t.busyNs + t.scheduledNs + t.idleNs - t.totalNs)).toBeLessThan(1);
    }
    const workers = report.tasks.filter((t: { name: string }) => t.name === "worker");
    expect(workers.every((w: { parentName: string }) => w.parentName === "http-server")).toBe(true);
  });

  it("reads a file cut off mid-record up to its last complete record", () => {
    const bytes = readFileSync(file);
    const cut = join(dir, "cut.trace.cbor");
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = run("trace-report", [cut]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/warning: the file ends inside a record at byte \d+/);
    expect(r.stdout).toContain("tasks (");
  });

  it("rejects a corrupt file with one line naming the byte offset", () => {
    const bytes = Buffer.from(readFileSync(file));
    const at = 0; // the header: damage further in is skipped and reported (test/hostile-file.test.ts)
    bytes.fill(0xff, at, at + 64);
    const bad = join(dir, "bad.trace.cbor");
    writeFileSync(bad, bytes);
    const r = run("trace-report", [bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expectOneLineError(r.stderr, "trace-report:", "bad.trace.cbor", "byte");
  });
});

describe("trace-pull on a terminal", () => {
  it("shows a progress line that rewrites itself, then the summary", () => {
    // util-linux `script` gives the command a real pty as its terminal.
    const file = join(dir, "tty.trace.cbor");
    const cmd = `${process.execPath} ${cliPath("trace-pull")} --wasi ${join(ROOT, "build/demo.wasm")} -o ${file}`;
    const r = spawnSync("script", ["-qfec", cmd, "/dev/null"], { cwd: dir, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const updates = r.stdout.split("\r").filter((s) => s.startsWith("pulling: "));
    expect(updates.length).toBeGreaterThan(1);
    expect(updates.at(-1)).toMatch(/^pulling: [\d,]+ events, [\d.]+ [KM]?i?B, [\d,]+ chunks, [\d,]+ ev\/s/);
    expect(r.stdout).toMatch(/trace-pull: wrote .*: [\d,]+ events/);
  });
});

describe("trace-pull keeps what was recorded when the application traps", () => {
  it("drains the rings after the trap and exits 134", () => {
    const file = join(dir, "trap.trace.cbor");
    const r = run("trace-pull", ["--wasi", join(ROOT, "build/test/trap-app.wasm"), "-o", file]);
    expect(r.code).toBe(134);
    expect(r.stderr).toContain("trapped: unreachable");
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toMatch(/^trap: /);
    expect(trace.sessions[0]!.events).toBe(1 + 2 * 500); // the spawn and every poll begin/end
  });
});

describe("bad input gets one clear line", () => {
  it("a missing trace file", () => {
    const r = run("trace-report", ["nope.trace.cbor"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "nope.trace.cbor", "no such file");
  });

  it("a file that is not a trace", () => {
    writeFileSync(join(dir, "notes.txt"), "hello, this is not CBOR\n");
    const r = run("trace-report", ["notes.txt"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "notes.txt");
  });

  it("unknown flags and missing arguments exit 2", () => {
    let r = run("trace-report", ["--frobnicate", "x"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--frobnicate");
    r = run("trace-report", []);
    expect(r.code).toBe(2);
    r = run("trace-pull", ["-o", "x.trace.cbor"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no source given");
    r = run("trace-pull", ["--wasi", "a.wasm", "--drain-ms", "soon"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--drain-ms");
  });

  it("a module that is missing, not wasm, or lacks the host interface", () => {
    let r = run("trace-pull", ["--wasi", "missing.wasm"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "missing.wasm", "ENOENT");
    writeFileSync(join(dir, "junk.wasm"), "not wasm");
    r = run("trace-pull", ["--wasi", "junk.wasm", "-o", "junk.trace.cbor"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "junk.wasm", "not a valid WebAssembly module");
    writeFileSync(join(dir, "empty.wasm"), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    r = run("trace-pull", ["--wasi", "empty.wasm", "-o", "empty.trace.cbor"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "does not export the taskscope host interface", "taskscope_drain");
    expect(existsSync(join(dir, "empty.trace.cbor"))).toBe(false); // nothing was pulled: no file
  });
});
