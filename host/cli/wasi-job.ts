// trace-pull --wasi's run, in a worker thread (job.ts): the program runs under node:wasi here
// while the main thread stays free for Ctrl-C and SIGTERM. Asked to stop, the program is ended
// at its next clock reading, the rings are drained and the file gets its footer ("interrupted"):
// a complete trace of everything recorded.

import { basename } from "node:path";
import type { MessagePort } from "node:worker_threads";
import { runWasi, WasiSourceError } from "../sources/wasi.js";
import { TraceIngest, type IngestStats } from "../pull/ingest.js";
import { TraceWriter } from "../tracefile/writer.js";
import type { ClockAnchor } from "../tracefile/schema.js";
import { TappedTraceWriter, type StoreTap } from "../pull/store-tap.js";
import { portTap } from "../pull/store-relay.js";
import { formatBytes, formatCount } from "../report/units.js";
import { ioErrorText, type OutputPlan } from "../export/output.js";
import { CliError } from "./run-cli.js";
import { StepMeter } from "./progress.js";
import { TraceTarget } from "./trace-target.js";
import type { JobContext } from "./job-worker.js";

export interface WasiJobInput {
  /** The module as the user named it, and the file to read it from. */
  name: string;
  path: string;
  args: string[];
  drainMs: number;
  plan: OutputPlan;
  spool: string | undefined;
  /** Host fd for the program's standard output (2 when ours carries the trace or JSON). */
  programStdout: number;
  /** Host fd for the program's standard error (default 2). */
  programStderr?: number;
  /** --live: each drain's records are also posted to the main thread (LiveRecords) as they are
   *  stored, and no progress line is drawn (the live view shows the figures). */
  live?: boolean;
  tool: string;
  /** --otlp: every stored item is posted here too, for the live export on the main thread. */
  storePort?: MessagePort;
}

/** What a --live job posts per drain: the records as stored, and the pull's figures so far. */
export interface LiveRecords {
  bytes: Uint8Array;
  anchor: ClockAnchor;
  stats: IngestStats;
}

export interface WasiJobResult {
  output: string;
  bytes: number;
  stats: IngestStats;
  exitCode: number;
  trap: string | undefined;
  /** The signal number that stopped the run, 0 if none did. */
  stoppedBy: number;
}

export async function run(input: WasiJobInput, context: JobContext): Promise<WasiJobResult> {
  const tap = input.storePort ? portTap(input.storePort) : undefined;
  try {
    return await pull(input, context, tap);
  } finally {
    tap?.end();
  }
}

async function pull(input: WasiJobInput, context: JobContext, tap: StoreTap | undefined): Promise<WasiJobResult> {
  const { progress } = context;
  const target = new TraceTarget(input.plan, input.spool);
  let writer: TraceWriter;
  try {
    writer = tap ? new TappedTraceWriter(target.writePath, tap) : new TraceWriter(target.writePath);
    writer.header({ tool: input.tool, source: `wasi:${basename(input.name)}` });
  } catch (e) {
    target.discard();
    throw new CliError(`cannot write ${target.name}: ${ioErrorText(e)}`);
  }
  const ingest = new TraceIngest(writer);
  const meter = new StepMeter("pulling");
  let writeFailure: unknown;

  let result;
  try {
    result = await runWasi({
      wasmPath: input.path,
      args: input.args,
      drainIntervalMs: input.drainMs,
      stdout: input.programStdout,
      ...(input.programStderr !== undefined ? { stderr: input.programStderr } : {}),
      beforeOutput: () => progress.clear(),
      shouldStop: () => writeFailure !== undefined || context.stopSignal() !== 0,
      onRecords: (bytes, anchor) => {
        if (writeFailure !== undefined) return;
        try {
          ingest.push(bytes, anchor);
          target.publish();
        } catch (e) {
          writeFailure = e; // the disk is full, say: end the run at its next clock reading
          return;
        }
        // Posting copies the bytes inside the program's clock call, which hides the time.
        if (input.live) context.post({ bytes, anchor, stats: ingest.stats } satisfies LiveRecords);
        else progress.update(() => progressText(meter, ingest.stats));
      },
    });
  } catch (e) {
    progress.done();
    try {
      writer.close();
    } finally {
      target.discard();
    }
    if (e instanceof WasiSourceError) throw new CliError(e.message);
    throw e;
  }
  progress.done();
  if (writeFailure !== undefined) {
    try {
      writer.close();
    } catch {
      // the same failure again
    }
    if (!target.isPublished) {
      target.discard();
      throw new CliError(`cannot write ${target.name}: ${ioErrorText(writeFailure)}`);
    }
    throw new CliError(`cannot write ${target.name}: ${ioErrorText(writeFailure)}; it holds the trace up to then, without its end`);
  }
  const stoppedBy = result.stopped ? context.stopSignal() : 0;
  const reason = result.stopped ? "interrupted" : result.trap ? `trap: ${result.trap}` : `exit ${result.exitCode}`;
  ingest.stalls(result.hidden);
  ingest.finish(reason);
  writer.close();
  target.finish();
  return { output: target.name, bytes: writer.size, stats: ingest.stats, exitCode: result.exitCode, trap: result.trap, stoppedBy };
}

/** "pulling: 12,345 events, 45.7 KiB, 176 chunks, 2,000 ev/s" (and what the device dropped). */
export function progressText(meter: StepMeter, s: IngestStats): string {
  const lost = (s.counters?.droppedOverwritten ?? 0) + (s.counters?.droppedFull ?? 0);
  const extra = [formatBytes(s.bytes), `${formatCount(s.chunks)} chunks`];
  if (lost > 0) extra.push(`${formatCount(lost)} dropped on device`);
  return meter.countText(s.events, "events", extra, "ev");
}
