// Running the built commands as a user does: real processes, real files, pipes and terminals
// (util-linux `script` gives a command a pty). For test/cli*.test.ts.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { constants } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { ROOT } from "./core-harness.js";

export type Command = "trace-pull" | "trace-report" | "trace-export";

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function cliPath(command: Command): string {
  return join(ROOT, "dist/host/cli", `${command}.js`);
}

/** The environment without OTEL_* settings or colour requests from the caller's shell. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith("OTEL_") && k !== "FORCE_COLOR" && k !== "NO_COLOR") env[k] = v;
  }
  return { ...env, ...extra };
}

export function run(command: Command, args: string[], options: { cwd: string; input?: string | Buffer; env?: Record<string, string> }): Run {
  const r = spawnSync(process.execPath, [cliPath(command), ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    env: options.env ?? cleanEnv(),
    maxBuffer: 256 << 20,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a command; `result` settles when it has exited and its output is read. */
export function start(command: Command, args: string[], options: { cwd: string; env?: Record<string, string>; readStdout?: boolean }): { child: ChildProcess; result: Promise<Run> } {
  const child = spawn(process.execPath, [cliPath(command), ...args], { cwd: options.cwd, env: options.env ?? cleanEnv() });
  let stdout = "";
  let stderr = "";
  if (options.readStdout !== false) child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<Run>((resolve) => child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, result };
}

/** A command on a terminal: `script` runs it on a pty; `text` is all it wrote there (stdout and
 *  stderr together), `pid` the command's own process id once it is known. */
export function onTerminal(command: Command, args: string[], options: { cwd: string; env?: Record<string, string> }) {
  const quoted = [process.execPath, cliPath(command), ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  // `exec` makes the command take the shell's process id, which the shell prints first.
  const child = spawn("script", ["-qfec", `echo "PID=$$"; exec ${quoted}`, "/dev/null"], { cwd: options.cwd, env: options.env ?? cleanEnv() });
  const state = { text: "", pid: 0 };
  child.stdout.on("data", (d: Buffer) => {
    state.text += d.toString();
    const m = /PID=(\d+)/.exec(state.text);
    if (m && state.pid === 0) state.pid = Number(m[1]);
  });
  const result = new Promise<{ code: number | null; text: string }>((resolve) => child.once("close", (code) => resolve({ code, text: state.text })));
  return { child, state, result };
}

/** The status a shell reports: the exit code, or 128 + the number of the signal that ended it. */
export function shellStatus(r: { code: number | null; signal: NodeJS.Signals | null }): number {
  if (r.code !== null) return r.code;
  return 128 + (constants.signals[r.signal!] ?? 0);
}

/** One line, no stack trace: what a user sees for bad input. */
export function expectOneLineError(stderr: string, ...fragments: string[]): void {
  const lines = stderr.trim().split("\n").filter((l) => !l.startsWith("Try '"));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toContain("internal error");
  for (const f of fragments) expect(lines[0]).toContain(f);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `cond` holds. The bound only matters when something is broken. */
export async function waitFor(what: string | (() => string), cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw gaveUp(ms, what);
    await sleep(20);
  }
}

/** `p`, or a named error once `ms` have passed: a stage that hangs says which it is, well before
 *  the test's own timeout (which names nothing). */
export async function within<T>(ms: number, what: string | (() => string), p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(gaveUp(ms, what)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error of a wait that ran out; `what` is worked out then, so it can show the latest state. */
function gaveUp(ms: number, what: string | (() => string)): Error {
  return new Error(`gave up after ${ms / 1000} s waiting for ${typeof what === "string" ? what : what()}`);
}
