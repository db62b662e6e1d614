// A puller killed with SIGKILL at any moment leaves a trace file that reads: every complete item,
// at most one partial last item reported as a truncation, never damage. trace-pull --wasi (the
// demo firmware under node:wasi) and trace-pull --port --stream (a simulated board on a pty) are
// killed while writing, at several points of their files; the waits are on the file's growth,
// not on time. Each run writes into a directory of its own, and every file in it is checked: the
// output, or a temporary file beside it if the puller writes one and renames it at the end.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { startPtyPair, type PtyPair } from "./support/pty.js";
import { DeviceSim } from "./support/device-sim.js";
import { openTrace } from "../host/tracefile/trace.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-kill-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The files in a run's directory that have something in them. */
const written = (runDir: string) => readdirSync(runDir).map((f) => join(runDir, f)).filter((f) => statSync(f).size > 0);
const size = (runDir: string) => written(runDir).reduce((n, f) => n + statSync(f).size, 0);

/** A directory of its own for one run. */
function runDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

/** Waits until the run's files hold at least `bytes`, or the process has exited; then SIGKILL.
 *  Returns whether it was still running when killed. */
async function killAt(child: ChildProcess, file: string, bytes: number, limitMs = 60_000): Promise<boolean> {
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  let running = true;
  void exited.then(() => (running = false));
  const deadline = Date.now() + limitMs;
  while (running && size(file) < bytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const killed = running;
  child.kill("SIGKILL");
  await exited;
  return killed;
}

/** Every file the run left reads: a header, the items before the cut, no damage. */
function expectReadable(run: string): { events: number } {
  let events = 0;
  for (const file of written(run)) {
    if (statSync(file).size === 0) continue;
    const summary = openTrace(file).summary();
    expect(summary.damaged, file).toEqual([]);
    events += summary.totals.events;
  }
  return { events };
}

describe("kill -9 leaves a readable trace file", () => {
  it("trace-pull --wasi, killed at several points while it writes", { timeout: 240_000 }, async () => {
    let midway = 0;
    for (const [i, bytes] of [200, 3_000, 9_000, 18_000, 30_000, 42_000].entries()) {
      const run = runDir(`wasi-${i}`);
      const child = spawn(process.execPath, [join(ROOT, "dist/host/cli/trace-pull.js"), "--wasi", join(ROOT, "build/demo.wasm"), "-o", join(run, "out.trace.cbor"), "--drain-ms", "1"], { stdio: "ignore" });
      if (await killAt(child, run, bytes) && written(run).length > 0) midway++;
      expectReadable(run);
    }
    expect(midway, "killed while still running, with a file begun").toBeGreaterThanOrEqual(3);
  });

  describe("trace-pull --port --stream", () => {
    let pty: PtyPair;
    let sim: DeviceSim;
    beforeAll(async () => {
      pty = await startPtyPair(dir, "kill-dev", "kill-host");
      sim = await DeviceSim.start({ tty: pty.a, scenario: "demo-loop" });
    }, 60_000);
    afterAll(async () => {
      await sim?.stop();
      await pty?.stop();
    });

    it("killed at several points while it streams", { timeout: 240_000 }, async () => {
      let withEvents = 0;
      for (const [i, bytes] of [2_000, 12_000, 40_000].entries()) {
        const run = runDir(`port-${i}`);
        const child = spawn(process.execPath, [join(ROOT, "dist/host/cli/trace-pull.js"), "--port", pty.b, "--stream", "-o", join(run, "out.trace.cbor")], { stdio: "ignore" });
        expect(await killAt(child, run, bytes), "still streaming when killed").toBe(true);
        const r = expectReadable(run);
        if (r.events > 0) withEvents++;
      }
      expect(withEvents).toBeGreaterThanOrEqual(2);
    });
  });
});
