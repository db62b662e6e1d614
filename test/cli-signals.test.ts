// Stopping: Ctrl-C (SIGINT) or SIGTERM stops every command, leaves no partial output, and leaves
// existing files as they were; trace-pull leaves a complete trace of what was recorded. Real
// child processes and real signals; the assertions are on the outcome (status, files), never on
// time. Where the moment matters (a command in the middle of a long synchronous loop), the test
// freezes the command with SIGSTOP, checks that it is still in that step, and only then sends
// the signal and lets it go on (SIGCONT): the outcome cannot depend on how fast this machine is.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { writeWorkload } from "../bench/workloads.js";
import { cleanEnv, onTerminal, shellStatus, start, waitFor } from "./support/cli.js";

const FOREVER = join(ROOT, "build/test/forever-app.wasm");
const SIGNALS = [["SIGINT", 130], ["SIGTERM", 143]] as const;

let dir: string;
/** TMPDIR of the commands: a copy of standard input must not outlive them. */
let tmp: string;
let big: string;

beforeAll(() => {
  if (!existsSync(FOREVER)) throw new Error(`${FOREVER} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), "taskscope-signals-"));
  tmp = join(dir, "tmp");
  mkdirSync(tmp);
  big = join(dir, "big.trace.cbor");
  // Big enough that every command is still in its loop when the test has seen it start and
  // signals it (the analysis reads 1.5 M events in about half a second).
  writeWorkload(big, 4_000_000);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = () => cleanEnv({ TMPDIR: tmp });
const leftovers = () => [...readdirSync(dir).filter((f) => f.endsWith(".partial")), ...readdirSync(tmp)];

describe("trace-pull --wasi", () => {
  for (const [signal, status] of SIGNALS) {
    it(`${signal} ends the program and leaves a complete trace of it (status ${status})`, async () => {
      const file = join(dir, `forever-${signal}.trace.cbor`);
      writeFileSync(file, "an older trace");
      const p = start("trace-pull", ["--wasi", FOREVER, "-o", file], { cwd: dir, env: env() });
      // The program never ends by itself: wait until its records are in the file.
      await waitFor("the session in the file", () => {
        try {
          return readWholeTrace(file).sessions[0]!.events > 0;
        } catch {
          return false; // still the older file, or a first item half written
        }
      });
      p.child.kill(signal);
      const r = await p.result;
      expect(shellStatus(r), r.stderr).toBe(status);
      expect(r.code).toBe(status); // it finished the file itself, within the grace time
      const trace = readWholeTrace(file);
      expect(trace.footer?.reason).toBe("interrupted");
      expect(trace.truncated).toBeUndefined();
      const s = trace.sessions[0]!;
      const c = s.counters!;
      expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
      expect(c.pendingEvents).toBe(0); // the rings were drained after the stop
      expect(s.events).toBe(c.drained);
      expect(r.stderr).toMatch(/stopped forever-app\.wasm \(the trace up to then is in .*, complete\)/);
      expect(leftovers()).toEqual([]);
    }, 60_000);
  }
});

describe("trace-export reading a FIFO", () => {
  for (const [signal, status] of SIGNALS) {
    it(`${signal} stops it while no writer has opened the FIFO, and while one stalls (status ${status})`, async () => {
      const fifo = join(dir, `in-${signal}.fifo`);
      expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
      // No writer yet: the command waits in open().
      let p = start("trace-export", ["--perfetto", fifo, "-o", "fifo.pf.json"], { cwd: dir, env: env() });
      await waitFor("the copy of the input to begin", () => readdirSync(tmp).length > 0);
      p.child.kill(signal);
      let r = await p.result;
      expect(shellStatus(r), r.stderr).toBe(status);
      expect(existsSync(join(dir, "fifo.pf.json"))).toBe(false);
      expect(leftovers()).toEqual([]);

      // A writer that sends half a trace and then keeps the FIFO open.
      p = start("trace-export", ["--otlp", fifo, "-o", "fifo.json"], { cwd: dir, env: env() });
      const fd = openSync(fifo, "w");
      const bytes = readFileSync(big);
      writeSync(fd, bytes.subarray(0, 1 << 16));
      await waitFor("the copy to hold what was written", () => readdirSync(tmp).some((d) => existsSync(join(tmp, d, "input.trace.cbor"))));
      p.child.kill(signal);
      r = await p.result;
      closeSync(fd);
      expect(shellStatus(r), r.stderr).toBe(status);
      expect(existsSync(join(dir, "fifo.json"))).toBe(false);
      expect(leftovers()).toEqual([]);
    }, 60_000);
  }
});

/** Freezes `pid`, runs `check` (true: it is still where the test wants it), then sends `signal`
 *  and lets it go on. */
function stopAndSignal(pid: number, signal: NodeJS.Signals, check: () => boolean): void {
  process.kill(pid, "SIGSTOP");
  try {
    expect(check(), "the command had already finished that step").toBe(true);
    process.kill(pid, signal);
  } finally {
    process.kill(pid, "SIGCONT");
  }
}

describe("in the middle of a long synchronous step", () => {
  it("trace-export: SIGINT mid-export removes the partial file and leaves the existing output", async () => {
    const out = join(dir, "existing.pf.json");
    writeFileSync(out, "the user's file\n");
    const p = start("trace-export", ["--perfetto", big, "--no-lints", "-o", out], { cwd: dir, env: env() });
    const partial = () => readdirSync(dir).some((f) => f.startsWith("existing.pf.json.") && f.endsWith(".partial"));
    await waitFor("the export to be writing", partial);
    stopAndSignal(p.child.pid!, "SIGINT", () => partial() && readFileSync(out, "utf8") === "the user's file\n");
    const r = await p.result;
    expect(shellStatus(r), r.stderr).toBe(130);
    expect(readFileSync(out, "utf8")).toBe("the user's file\n");
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it("trace-report: SIGTERM during the analysis, on a terminal: the progress line is cleared, the HTML file stays", async () => {
    const html = join(dir, "existing.html");
    writeFileSync(html, "the user's report\n");
    const t = onTerminal("trace-report", [big, "--html", html], { cwd: dir, env: env() });
    await waitFor("the analysis to show progress", () => t.state.pid > 0 && /\rreading: \d+%/.test(t.state.text));
    stopAndSignal(t.state.pid, "SIGTERM", () => !t.state.text.includes("building the report") && readFileSync(html, "utf8") === "the user's report\n");
    // `script`, which gives the command its terminal, stops itself when it sees its child stopped
    // by SIGSTOP and waits for a SIGCONT of its own: without one it never reaps the command (a
    // zombie) and the test hangs, whenever `script` noticed the stop before the child went on.
    const resume = setInterval(() => t.child.kill("SIGCONT"), 50);
    const { code, text } = await t.result.finally(() => clearInterval(resume));
    expect(code, text.slice(-500)).toBe(143);
    expect(text.endsWith("\r\x1b[K")).toBe(true);
    expect(readFileSync(html, "utf8")).toBe("the user's report\n");
    expect(leftovers()).toEqual([]);
  }, 60_000);

  it("trace-export writing to a pipe nobody reads any more: SIGINT still stops it", async () => {
    const p = start("trace-export", ["--perfetto", big, "--no-lints", "-o", "-"], { cwd: dir, env: env(), readStdout: false });
    // Take the first bytes (the export is in its loop), then read no more: its ~100 MB cannot
    // get through, so whenever the signal lands the export is inside that loop, writing or waiting.
    await new Promise((resolve) => p.child.stdout!.once("data", resolve));
    p.child.stdout!.pause();
    p.child.kill("SIGINT");
    const r = await p.result;
    expect(shellStatus(r), r.stderr).toBe(130);
    expect(r.stderr).toBe("");
  }, 60_000);

  it.skipIf(!wchanReadable())("trace-export blocked opening a FIFO nobody reads: SIGINT still stops it", async () => {
    const fifo = join(dir, "out.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const p = start("trace-export", ["--perfetto", big, "--no-lints", "-o", fifo], { cwd: dir, env: env() });
    // A thread of the command sits in the kernel's FIFO open, where it cannot be interrupted.
    await waitFor("the export to wait in open()", () => threadsWaitingIn(p.child.pid!, /wait_for_partner|fifo_open/));
    p.child.kill("SIGINT");
    const r = await p.result;
    expect(shellStatus(r), r.stderr).toBe(130);
  }, 60_000);
});

/** Whether a thread of `pid` waits in a kernel function matching `where` (/proc/PID/task/TID/wchan). */
function threadsWaitingIn(pid: number, where: RegExp): boolean {
  try {
    return readdirSync(`/proc/${pid}/task`).some((tid) => where.test(readFileSync(`/proc/${pid}/task/${tid}/wchan`, "utf8")));
  } catch {
    return false;
  }
}

/** /proc shows where threads wait (some kernels hide it and show 0): this process has idle threads. */
function wchanReadable(): boolean {
  return threadsWaitingIn(process.pid, /[a-z]/);
}
