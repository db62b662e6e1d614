// The long part of a command (reading a trace, analysing, exporting, running a WASI program) runs
// in a worker thread, so the main thread is always free to take Ctrl-C and SIGTERM: the
// analysis and the exports are long synchronous loops, and a signal handler on the thread that
// runs them would wait for them to finish. On a signal the main thread stops the worker, removes
// the job's partial outputs and exits 130 (SIGINT) or 143 (SIGTERM), well within a second.
//
//   const value = await runJob<Result>(new URL("./report-job.js", import.meta.url), input, { outputs });
//
// A job module exports `run(input, context)` (job-worker.ts); its input and result cross the
// thread boundary by structured clone, so they are plain data.

import { Worker, type Transferable } from "node:worker_threads";
import { isatty } from "node:tty";
import { removeQuietly, type OutputPlan } from "../export/output.js";
import { CliError, PipeClosed } from "./run-cli.js";
import { exitForSignal, handleSignals, signalNumber } from "./signals.js";

export interface JobOptions {
  /** Outputs the job writes: their temporary files are removed when it is stopped. */
  outputs?: readonly OutputPlan[];
  /**
   * What a signal does: "abort" (default) stops the job at once; "finish" asks it to end
   * (context.stopSignal()) and waits up to graceMs for it to finish its output (a trace file
   * with its footer), then stops it. A second signal stops it at once either way.
   */
  onSignal?: "abort" | "finish";
  graceMs?: number;
  /** Takes what the job sends along the way (context.post), in order, before its result. */
  onData?: (value: unknown) => void;
  /** Objects moved to the worker with its input (a MessagePort the job talks on, say). */
  transfer?: readonly Transferable[];
  /** The worker's young generation, MiB (default 8, see below). */
  youngGenerationMb?: number;
}

/** What the worker sends back. */
export type JobMessage =
  | { type: "data"; value: unknown }
  | { type: "done"; value: unknown }
  | { type: "error"; message: string; exitCode?: number; usage?: boolean; pipeClosed?: boolean; stack?: string };

/** Shared with the worker: [0] terminal columns, [1] stop requested (signal number, 0 if not). */
export const SHARED_COLUMNS = 0;
export const SHARED_STOP = 1;

export interface JobWorkerData {
  module: string;
  input: unknown;
  shared: SharedArrayBuffer;
}

/** Runs `module`'s job in a worker thread and returns its result (or throws its error). */
export async function runJob<R>(module: URL, input: unknown, options: JobOptions = {}): Promise<R> {
  const shared = new SharedArrayBuffer(8);
  const flags = new Int32Array(shared);
  const columns = (): void => void Atomics.store(flags, SHARED_COLUMNS, process.stderr.columns ?? 0);
  if (isatty(2)) {
    columns();
    process.stderr.on("resize", columns);
  }
  let stopping: NodeJS.Signals | undefined;
  let finished = false;
  let graceTimer: NodeJS.Timeout | undefined;
  const stopNow = async (signal: NodeJS.Signals): Promise<void> => {
    if (finished) return;
    // Give the worker a moment to stop (it may be blocked in a system call, and then it cannot
    // be joined): its outputs are only removed once it no longer writes them.
    const stopped = await Promise.race([worker.terminate().then(() => true), delay(400, false)]);
    for (const plan of options.outputs ?? []) if (plan.kind === "replace") removeQuietly(plan.temp);
    exitForSignal(signal, { threadsIdle: stopped });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    const again = stopping !== undefined;
    stopping = signal;
    if (options.onSignal === "finish" && !again) {
      Atomics.store(flags, SHARED_STOP, signalNumber(signal));
      graceTimer = setTimeout(() => void stopNow(signal), options.graceMs ?? 500);
      return;
    }
    void stopNow(signal);
  };
  // Listening before the worker starts: it creates the outputs a signal must remove.
  const stopHandling = handleSignals(onSignal);
  const data: JobWorkerData = { module: module.href, input, shared };
  // A worker's young generation grows to ~34 MiB where the main thread's stays at ~8 MiB on the
  // same work (50 MiB more peak RSS on a 1.5 M-event report); hold it to the main thread's size,
  // unless the job asks for more (fewer collections of a job that allocates per event).
  const worker = new Worker(new URL("./job-worker.js", import.meta.url), {
    workerData: data,
    transferList: [...(options.transfer ?? [])] as never,
    stdout: false,
    stderr: false,
    resourceLimits: { maxYoungGenerationSizeMb: options.youngGenerationMb ?? 8 },
  });

  try {
    const message = await new Promise<JobMessage>((resolve, reject) => {
      let settled = false;
      worker.on("message", (m: JobMessage) => {
        if (m.type === "data") {
          options.onData?.(m.value);
          return;
        }
        settled = true;
        resolve(m);
      });
      worker.once("error", (e) => {
        settled = true;
        reject(e);
      });
      worker.once("exit", (code) => {
        if (!settled) reject(new Error(`the worker thread stopped (exit ${code}) without a result`));
      });
    });
    if (message.type === "done") return message.value as R;
    if (message.type === "data") throw new Error("unreachable: data is not a result");
    if (message.pipeClosed) throw new PipeClosed();
    if (message.exitCode !== undefined) throw new CliError(message.message, message.exitCode, message.usage === true);
    const internal = new Error(message.message);
    if (message.stack) internal.stack = message.stack;
    throw internal;
  } finally {
    finished = true;
    if (graceTimer) clearTimeout(graceTimer);
    stopHandling();
    process.stderr.off("resize", columns);
    await worker.terminate();
  }
}

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms).unref());
}
