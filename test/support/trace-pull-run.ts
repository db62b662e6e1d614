// Runs the built trace-pull as a user does (a real process), and waits on what a test watches.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./core-harness.js";

export interface PullResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts dist/host/cli/trace-pull.js in `cwd`; `result` settles when it exits. */
export function startPull(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(process.execPath, [join(ROOT, "dist/host/cli/trace-pull.js"), ...args], { cwd, env });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<PullResult>((done) => child.once("exit", (code, signal) => done({ code, signal, stdout, stderr })));
  return { child, result, stdout: () => stdout };
}

/** Waits until `cond` holds. The bound is generous (a loaded CI box is slow) and only matters when
 *  something is broken: the wait ends as soon as the condition holds. */
export async function waitFor(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
