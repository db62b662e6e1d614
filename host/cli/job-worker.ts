// Worker-thread side of runJob (job.ts): loads the job module, runs it, sends back its result or
// its error as plain data. A job module exports:
//
//   export async function run(input: Input, context: JobContext): Promise<Result>

import { parentPort, workerData } from "node:worker_threads";
import { CliError, UsageError, systemCallMessage } from "./run-cli.js";
import { OutputError } from "../export/output.js";
import { ProgressLine, stderrSink } from "./progress.js";
import { SHARED_COLUMNS, SHARED_STOP, type JobMessage, type JobWorkerData } from "./job.js";

export interface JobContext {
  /** The command's progress line (drawn on standard error when it is a terminal). */
  progress: ProgressLine;
  /** The number of the signal that asked the command to stop (jobs run with onSignal
   *  "finish"), 0 while none has. */
  stopSignal(): number;
  /** Sends `value` (plain data) to the main thread's onData now, while the job runs. */
  post(value: unknown): void;
}

type JobModule = { run(input: unknown, context: JobContext): Promise<unknown> };

const data = workerData as JobWorkerData;
const flags = new Int32Array(data.shared);
const context: JobContext = {
  progress: new ProgressLine(stderrSink(() => Atomics.load(flags, SHARED_COLUMNS))),
  stopSignal: () => Atomics.load(flags, SHARED_STOP),
  post: (value) => parentPort!.postMessage({ type: "data", value } satisfies JobMessage),
};

let message: JobMessage;
try {
  const job = (await import(data.module)) as JobModule;
  message = { type: "done", value: await job.run(data.input, context) };
} catch (e) {
  message = describe(e);
} finally {
  context.progress.done();
}
parentPort!.postMessage(message);

function describe(e: unknown): JobMessage {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "EPIPE") return { type: "error", message: "standard output closed", pipeClosed: true };
  if (e instanceof CliError) return { type: "error", message: e.message, exitCode: e.exitCode, usage: e instanceof UsageError };
  if (e instanceof OutputError) return { type: "error", message: e.message, exitCode: 1 };
  const io = systemCallMessage(e);
  if (io) return { type: "error", message: io, exitCode: 1 };
  return { type: "error", message: err?.message ?? String(e), ...(err?.stack ? { stack: err.stack } : {}) };
}
