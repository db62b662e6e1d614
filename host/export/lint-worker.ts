// The insight engine's lints for a trace file, found in a worker thread so that an export can
// stream the file at the same time (two passes over the file on two cores instead of one after
// the other). The worker runs the same analysis trace-report does (host/model/analyze.ts).

import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { analyzeTrace } from "../model/analyze.js";
import type { Lint } from "../model/lint.js";
import { TraceFileError } from "../tracefile/errors.js";

const YOUNG_GENERATION_MB = 24;

type Answer = { lints: Lint[] } | { error: string; offset?: number; traceFile: boolean };

/** Starts the analysis of `file` in a worker; the promise settles with its lints. */
export function lintsInWorker(file: string): { lints: Promise<Lint[]>; stop: () => void } {
  // A young generation of 24 MB (not the default, derived from the machine): at 10 M events of
  // a task-per-request trace the process peaked 16 MiB higher with the default, for no less CPU.
  const worker = new Worker(new URL(import.meta.url), { workerData: { file }, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB } });
  const lints = new Promise<Lint[]>((resolve, reject) => {
    worker.once("message", (answer: Answer) => {
      if ("lints" in answer) resolve(answer.lints);
      else reject(answer.traceFile ? new TraceFileError(answer.offset ?? 0, answer.error) : new Error(answer.error));
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`the analysis worker stopped (exit ${code})`)));
  });
  lints.catch(() => undefined); // the caller awaits it; a failure is reported there
  return { lints, stop: () => void worker.terminate() };
}

if (!isMainThread && parentPort && (workerData as { file?: unknown } | null)?.file !== undefined) {
  const { file } = workerData as { file: string };
  let answer: Answer;
  try {
    answer = { lints: analyzeTrace(file).lints };
  } catch (e) {
    answer = e instanceof TraceFileError
      ? { error: e.detail, offset: e.offset, traceFile: true }
      : { error: e instanceof Error ? (e.stack ?? e.message) : String(e), traceFile: false };
  }
  parentPort.postMessage(answer);
}
