#!/usr/bin/env node
// trace-pull: records a device's trace into a *.trace.cbor file.
//   trace-pull --wasi app.wasm [--live] [-o out.trace.cbor] [-- app args...]
//   trace-pull --port /dev/ttyUSB0 [--baud N] [--dump | --stream | --live] [--duration S] [-o out]

import { basename, join } from "node:path";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { runCli, UsageError, CliError, versionLine } from "./run-cli.js";
import { parseArgs, parseDecimal, parseWholeNumber } from "./args.js";
import { ProgressLine } from "./progress.js";
import { LiveView } from "./live-view.js";
import { runJob } from "./job.js";
import { openInput } from "./input.js";
import { cleanupOnSignal, deliverSignal, exitForSignal, handleSignals, signalNumber } from "./signals.js";
import { useColour } from "./colour.js";
import { HeldOutput } from "./held-output.js";
import { writeStdout, note } from "./stdio.js";
import { TraceTarget } from "./trace-target.js";
import { SerialSourceError } from "../sources/serial.js";
import { SerialPull, type SerialPullStats } from "../pull/serial-pull.js";
import type { IngestStats } from "../pull/ingest.js";
import { pullProblems } from "../pull/problems.js";
import { LinkTimeoutError } from "../link/session.js";
import { CATEGORIES } from "../format/spec.js";
import { planOutput, type OutputPlan } from "../export/output.js";
import { formatBytes, formatCount } from "../report/units.js";
import { TOOL_VERSION } from "./version.js";
import type { LiveRecords, WasiJobInput, WasiJobResult } from "./wasi-job.js";
import { wasiLive } from "./wasi-live.js";
import { LiveOtlpRun, OTLP_PULL_HELP, OTLP_PULL_OPTIONS, planLiveOtlp, type LiveOtlpPlan, type OtlpPullFlags } from "./pull-otlp.js";

const HELP = `Usage:
  trace-pull --wasi APP.wasm [--live] [-o OUT.trace.cbor] [--json] [-- ARGS...]
  trace-pull --port PATH [--baud N] [--dump | --stream | --live] [--duration S] [-o OUT.trace.cbor] [--json]
  trace-pull --port PATH --stream --otlp [--endpoint URL] [--header KEY=VALUE]... [-o OUT.trace.cbor]
  trace-pull --wasi APP.wasm --otlp [--endpoint URL] ... [-o OUT.trace.cbor] [-- ARGS...]

--wasi runs APP.wasm under node:wasi with the taskscope clock, pulls the device core's rings during
and after the run, and writes a trace file (default: APP.trace.cbor). APP.wasm "-" reads the
module from standard input.

--port talks to a device on a serial port (its firmware runs taskscope's link, core/link.ts):
--dump (the default) pulls everything it has recorded so far and exits; --stream keeps pulling as
chunks fill until Ctrl-C or --duration, then pulls the rest. A cable pulled or a device reset is
survived: trace-pull reconnects and carries on (a reset starts a new session in the same file).

Options:
  --wasi FILE           the WebAssembly module to run (it must re-export taskscope's core/host)
  --port PATH           the device's serial port (e.g. /dev/ttyUSB0, /dev/ttyACM0)
  --baud N              line speed (default 115200)
  --dump                pull what the device has and exit (default for --port)
  --stream              pull as the device records, until Ctrl-C or --duration
  --live                a console that follows the device as it runs: tasks, a task's detail,
                        resources, lints (keys: q quit, arrows move, Enter detail, ? help);
                        with --port it implies --stream
  --duration S          stream for S seconds, then stop (implies --stream)
  --clear               discard what the device recorded before the pull starts
  --filter LIST         record only these categories (e.g. task,poll,wake,await), or a 32-bit mask
  -o, --output FILE     trace file to write (default: APP.trace.cbor, or PORT.trace.cbor); "-"
                        writes the trace to standard output when the pull ends (the program's
                        own output then goes to standard error)
  --json                print a summary of the pull as JSON on standard output (schema
                        "taskscope.pull/1"; the program's own output goes to standard error)
  --drain-ms N          --wasi: wall time between drains during the run (default 50)
  -h, --help            show this help
  --version             show the version

${OTLP_PULL_HELP}

The file appears under its name once the device has sent its first records, and grows from there:
a pull that fails before (no such module, no device answering) leaves an existing file as it was,
and one killed later leaves everything received so far. Ctrl-C or SIGTERM ends --wasi at the
program's next event with a complete file (status 130 or 143); --stream first pulls what the
device still holds (Ctrl-C again to stop at once).

Exit status (--wasi): the application's own exit status once the trace is written (134 if it
trapped). Both: 1 if the trace could not be pulled or written; 2 for wrong arguments; 130/143
when stopped by Ctrl-C/SIGTERM.`;

function serialProgressText(path: string, s: SerialPullStats, startedMs: number, otlp?: string): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  // Most important first: a narrow terminal cuts the end off.
  const parts = [
    `${basename(path)}: ${formatCount(s.ingest.events)} events`,
    formatBytes(s.frames.bytes),
    `frames damaged ${formatCount(s.frames.damaged)} lost ${formatCount(s.link.framesLost)}`,
    `${formatCount(Math.round(s.ingest.events / secs))} ev/s ${formatBytes(Math.round(s.frames.bytes / secs))}/s`,
  ];
  if (s.link.chunksLost > 0) parts.push(`${formatCount(s.link.chunksLost)} chunks lost`);
  if (!s.portOpen) parts.push("port closed, reconnecting...");
  if (otlp) parts.push(otlp);
  return parts.join(", ");
}

/** "task,poll" or "0x3" or "3" -> a filter mask (32 bits: the device's filter word). */
function parseFilter(text: string): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) {
    const mask = Number(text);
    if (!Number.isSafeInteger(mask) || mask > 0xffffffff) throw new UsageError(`--filter: the mask ${text} is wider than the device's 32-bit filter`);
    return mask;
  }
  let mask = 0;
  for (const name of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const cat = CATEGORIES.find((c) => c.name === name);
    if (!cat) throw new UsageError(`--filter: unknown category '${name}' (known: ${CATEGORIES.map((c) => c.name).join(", ")})`);
    mask |= 1 << cat.bit;
  }
  return mask >>> 0;
}

interface Flags extends OtlpPullFlags {
  output?: string;
  json?: boolean;
  baud?: string;
  dump?: boolean;
  stream?: boolean;
  live?: boolean;
  duration?: string;
  clear?: boolean;
  filter?: string;
  "drain-ms"?: string;
}

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf("--");
  const own = split >= 0 ? argv.slice(0, split) : argv;
  const appArgs = split >= 0 ? argv.slice(split + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    options: {
      wasi: { type: "string" },
      port: { type: "string" },
      baud: { type: "string" },
      dump: { type: "boolean" },
      stream: { type: "boolean" },
      live: { type: "boolean" },
      duration: { type: "string" },
      clear: { type: "boolean" },
      filter: { type: "string" },
      output: { type: "string", short: "o" },
      json: { type: "boolean" },
      "drain-ms": { type: "string" },
      ...OTLP_PULL_OPTIONS,
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    writeStdout(HELP + "\n");
    return 0;
  }
  if (values.version) {
    writeStdout(versionLine("trace-pull") + "\n");
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (application arguments go after --)`);
  if (values.wasi && values.port) throw new UsageError("give one source: --wasi or --port, not both");
  if (values.json && values.output === "-") throw new UsageError("--json prints the summary on standard output, and -o - writes the trace there: give -o FILE");
  if (values.live && (values.json || values.output === "-")) throw new UsageError("--live draws on standard output: it goes with neither --json nor -o -");
  if (values.port) return pullSerial(values.port, values, appArgs);
  if (!values.wasi) throw new UsageError("no source given: use --wasi APP.wasm or --port PATH");
  for (const flag of ["baud", "dump", "stream", "duration", "clear", "filter"] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --port`);
  }
  const otlp = planLiveOtlp(values, process.env, { streaming: true });
  return pullWasi(values.wasi, values, appArgs, otlp);
}

/** The output's plan; "-" also gets a temporary file to collect the trace in, which `release`
 *  removes (as does a signal). */
function traceOutput(output: string, inputs: string[]): { plan: OutputPlan; spool: string | undefined; release(): void } {
  const plan = planOutput(output, inputs);
  if (plan.kind !== "stdout") return { plan, spool: undefined, release: () => {} };
  let dir: string | undefined;
  const remove = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const forget = cleanupOnSignal(remove); // first: a signal from here on removes the directory
  dir = mkdtempSync(join(tmpdir(), "taskscope-pull-"));
  return {
    plan,
    spool: join(dir, "out.trace.cbor"),
    release: () => {
      remove();
      forget();
    },
  };
}

async function pullWasi(wasm: string, values: Flags, appArgs: string[], otlp: LiveOtlpPlan | undefined): Promise<number> {
  const drainMs = values["drain-ms"] === undefined ? 50 : parseDecimal(values["drain-ms"], "--drain-ms", "a number of milliseconds", true);
  const fromStdin = wasm === "-";
  const output = values.output ?? (fromStdin ? "stdin.trace.cbor" : `${basename(wasm).replace(/\.wasm$/, "")}.trace.cbor`);
  const { plan, spool, release } = traceOutput(output, fromStdin ? [] : [wasm]);
  // "-" (or a FIFO) is copied to a temporary file first; a missing file is runWasi's to report.
  const module = fromStdin || existsSync(wasm) ? await openInput(wasm) : undefined;
  try {
    return await runWasiJob(fromStdin ? "stdin.wasm" : wasm, module?.path ?? wasm, plan, spool, drainMs, values, appArgs, otlp);
  } finally {
    module?.release();
    release();
  }
}

async function runWasiJob(name: string, path: string, plan: OutputPlan, spool: string | undefined, drainMs: number, values: Flags, appArgs: string[], otlpPlan: LiveOtlpPlan | undefined): Promise<number> {
  const otlp = otlpPlan ? await LiveOtlpRun.start(otlpPlan, TOOL_VERSION, (text) => note("trace-pull", text)) : undefined;
  const relay = otlp?.workerPort();
  const app = basename(name);
  const job: WasiJobInput = {
    name,
    path,
    args: appArgs,
    drainMs,
    plan,
    spool,
    programStdout: plan.kind === "stdout" || values.json ? 2 : 1,
    tool: `taskscope ${TOOL_VERSION} trace-pull`,
    ...(relay ? { storePort: relay.port } : {}),
  };
  const live = values.live ? wasiLive() : undefined;
  let r: WasiJobResult;
  let held: HeldOutput | undefined;
  try {
    live?.view.start();
    if (live?.view.interactive) {
      // The program's own output would tear the console's frame: it is printed once it closes.
      held = new HeldOutput();
      job.programStdout = held.stdout;
      job.programStderr = held.stderr;
    }
    job.live = live !== undefined;
    // Asked to stop, the job ends the program and finishes the file; if it cannot within the grace
    // time (the program blocks in a read), the file keeps what was drained so far.
    r = await runJob<WasiJobResult>(new URL("./wasi-job.js", import.meta.url), job, {
      outputs: [plan],
      onSignal: "finish",
      graceMs: 500,
      transfer: relay ? [relay.port] : [],
      ...(live ? { onData: (m: unknown) => live.take(m as LiveRecords) } : {}),
    });
    // The program ended by itself: the console stays, on a complete trace, until q.
    if (live?.view.readsKeys && r.stoppedBy === 0) {
      live.view.notice(`${app} ${r.trap ? "trapped" : `exited with status ${r.exitCode}`}; q to quit (the trace is complete: ${r.output})`);
      await live.ended();
    }
  } catch (e) {
    otlp?.abort();
    throw e;
  } finally {
    live?.view.stop();
    held?.release();
  }
  await relay?.stored;
  // The worker copied "-" to standard output and removed its spool: only a named file is read
  // back for the lints.
  const sent = await otlp?.finish(plan.kind === "replace" ? plan.path : undefined, undefined);
  const s = r.stats;
  const where = r.output;
  if (values.json) {
    writeStdout(JSON.stringify(pullSummary(`wasi:${basename(job.name)}`, where, r.bytes, s, { exitCode: r.exitCode, trap: r.trap ?? null, interrupted: r.stoppedBy !== 0, ...(otlp && sent ? { otlp: otlp.json(sent) } : {}) }), null, 2) + "\n");
  } else {
    note(
      "trace-pull",
      `wrote ${where}: ${formatCount(s.events)} events, ${formatCount(s.chunks)} chunks, ${formatBytes(r.bytes)}` +
        (s.droppedOnDevice > 0 ? `; ${formatCount(s.droppedOnDevice)} events dropped on the device (ring full)` : "; nothing lost") +
        (s.lostInTransfer > 0 ? `; ${formatCount(s.lostInTransfer)} lost in transfer` : "") +
        (s.damaged > 0 ? `; ${formatCount(s.damaged)} damaged records left out` : ""),
    );
    for (const line of pullProblems(s)) note("trace-pull", line);
    if (otlp && sent) note("trace-pull", otlp.summaryLine(sent));
  }
  if (sent?.stoppedBy && r.stoppedBy === 0) return 128 + signalNumber(sent.stoppedBy);
  if (r.stoppedBy !== 0) {
    note("trace-pull", `stopped ${app} (the trace up to then is in ${where}, complete)`);
    return 128 + r.stoppedBy;
  }
  if (r.trap) note("trace-pull", `${app} trapped: ${r.trap} (the trace up to the trap is in the file)`);
  else if (r.exitCode !== 0) note("trace-pull", `${app} exited with status ${r.exitCode}`);
  return r.exitCode;
}

/** The --json summary of a pull (schema "taskscope.pull/1"). */
function pullSummary(source: string, output: string, bytes: number, s: IngestStats, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    schema: "taskscope.pull/1",
    source,
    output,
    bytes,
    sessions: s.sessions,
    events: s.events,
    chunks: s.chunks,
    droppedOnDevice: s.droppedOnDevice,
    lostInTransfer: s.lostInTransfer,
    pulledEarlier: s.pulledEarlier,
    damagedRecords: s.damaged,
    problems: s.problems,
    ...extra,
  };
}

/** Closing dump after a stop: how long to wait for the device before keeping what arrived. */
const STOP_GRACE_MS = 5000;

async function pullSerial(path: string, values: Flags, appArgs: string[]): Promise<number> {
  if (appArgs.length > 0) throw new UsageError("arguments after -- go with --wasi");
  if (values["drain-ms"] !== undefined) throw new UsageError("--drain-ms goes with --wasi");
  const baud = values.baud === undefined ? 115200 : parseWholeNumber(values.baud, "--baud", 1);
  const duration = values.duration === undefined ? undefined : parseDecimal(values.duration, "--duration", "a number of seconds above 0");
  const streaming = values.stream === true || values.live === true || duration !== undefined;
  if (values.dump && streaming) throw new UsageError("--dump pulls once; --stream, --live and --duration keep pulling: choose one");
  const filter = values.filter === undefined ? undefined : parseFilter(values.filter);
  const otlp = planLiveOtlp(values, process.env, { streaming });
  const { plan, spool, release } = traceOutput(values.output ?? `${basename(path)}.trace.cbor`, []);
  try {
    return await runSerial(path, new TraceTarget(plan, spool), { baud, duration, streaming, filter, otlp }, values);
  } finally {
    release();
  }
}

interface SerialPlan {
  baud: number;
  duration: number | undefined;
  streaming: boolean;
  filter: number | undefined;
  /** --otlp: spans to a collector while recording. */
  otlp: LiveOtlpPlan | undefined;
}

async function runSerial(path: string, target: TraceTarget, { baud, duration, streaming, filter, otlp: otlpPlan }: SerialPlan, values: Flags): Promise<number> {

  const progress = new ProgressLine();
  const started = Date.now();
  let pull: SerialPull | undefined;
  const live = values.live
    ? new LiveView(process.stdout, {
        status: () => (pull ? serialProgressText(path, pull.stats, started) : ""),
        input: process.stdin,
        colour: useColour(1),
        onQuit: () => void deliverSignal("SIGINT"), // the stream ends as on Ctrl-C
      })
    : undefined;
  let reason = streaming ? "stopped" : "dump complete";
  let interrupts = 0;
  /** A signal that cut the pull short: during a dump, or a second one during a stream (the first
   *  ends a stream the normal way, with its closing dump). */
  let stoppedBy: NodeJS.Signals | undefined;
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    signalled = true;
    if (!streaming || interrupts > 1) stoppedBy = signal;
    reason = "interrupted";
    const p = pull;
    if (!p) {
      // Still opening the port: nothing received, nothing to keep.
      target.discard();
      exitForSignal(signal);
    }
    if (streaming && interrupts === 1) {
      if (live?.interactive) live.notice("stopping: pulling what the device still holds (q again to stop now)");
      else if (progress.enabled) {
        // Someone at a terminal pressed Ctrl-C and waits: say why it takes a moment.
        progress.clear();
        note("trace-pull", "stopping: pulling what the device still holds (Ctrl-C again to stop now)");
      }
      p.stop();
      setTimeout(() => p.abandon(), STOP_GRACE_MS).unref();
    } else {
      p.abandon();
    }
  };
  const stopHandling = handleSignals(onSignal);
  const say = (text: string) => {
    progress.clear();
    note("trace-pull", text);
  };
  const otlp = otlpPlan ? await LiveOtlpRun.start(otlpPlan, TOOL_VERSION, say) : undefined;
  try {
    pull = await SerialPull.open({
      path,
      baudRate: baud,
      output: target.writePath,
      tool: `taskscope ${TOOL_VERSION} trace-pull`,
      mode: streaming ? "stream" : "dump",
      clear: values.clear === true,
      filter,
      tap: (bytes, anchor) => {
        target.publish();
        live?.records(bytes, anchor);
      },
      store: otlp?.live.store,
    });
  } catch (e) {
    stopHandling();
    otlp?.abort();
    target.discard();
    if (e instanceof SerialSourceError) throw new CliError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new CliError(`cannot write ${target.name}: ${code}`);
    throw e;
  }
  const p = pull;
  const timer = duration === undefined ? undefined : setTimeout(() => {
    reason = "duration";
    p.stop();
    setTimeout(() => p.abandon(), STOP_GRACE_MS).unref();
  }, duration * 1000);
  const ticker = live ? undefined : setInterval(() => progress.update(() => serialProgressText(path, p.stats, started, otlp?.progressText())), 200);
  live?.start();

  let failure: Error | undefined;
  try {
    await p.run();
  } catch (e) {
    if (!(e instanceof LinkTimeoutError)) throw e;
    failure = e;
    reason = `failed: ${e.message}`;
  } finally {
    if (timer) clearTimeout(timer);
    if (ticker) clearInterval(ticker);
    live?.stop();
    progress.done();
    stopHandling();
  }
  await p.close(reason);
  const s = p.stats;
  if (failure && s.link.sessions === 0) {
    otlp?.abort();
    target.discard();
    throw new CliError(`${failure.message} on ${path}: is a device with taskscope's link attached, at ${baud} baud?`);
  }
  const sent = await otlp?.finish(target.plan.kind === "direct" ? undefined : target.writePath, progress.enabled ? say : undefined);
  if (sent?.stoppedBy) stoppedBy ??= sent.stoppedBy;
  target.finish();
  if (values.json) {
    writeStdout(JSON.stringify(pullSummary(`serial:${path}`, target.name, p.writer.size, s.ingest, {
      link: { frames: s.frames.frames, damagedFrames: s.frames.damaged, missingFrames: s.link.framesLost, chunksMissing: s.link.chunksLost, chunksSentAgain: s.link.chunksRecovered, deviceSessions: s.link.sessions, portReopened: s.reopened, deviceFaults: s.link.faultNotes, chunksRejected: s.link.chunksRejected },
      interrupted: signalled,
      failure: failure?.message ?? null,
      ...(otlp && sent ? { otlp: otlp.json(sent) } : {}),
    }), null, 2) + "\n");
  } else {
    note("trace-pull", serialSummary(target.name, p.writer.size, s));
    for (const line of pullProblems(s.ingest, s.link)) note("trace-pull", line);
    if (otlp && sent) note("trace-pull", otlp.summaryLine(sent));
  }
  if (failure) throw new CliError(`${failure.message} on ${path} (what arrived before is in ${target.name})`);
  return stoppedBy ? 128 + signalNumber(stoppedBy) : 0;
}

function serialSummary(output: string, size: number, s: SerialPullStats): string {
  const { droppedOnDevice: dropped, lostInTransfer: linkLost, pulledEarlier } = s.ingest;
  const parts = [`wrote ${output}: ${formatCount(s.ingest.events)} events, ${formatCount(s.ingest.chunks)} chunks, ${formatBytes(size)}`];
  parts.push(dropped > 0 ? `${formatCount(dropped)} events dropped on the device (ring full)` : "nothing dropped on the device");
  parts.push(linkLost > 0 ? `${formatCount(linkLost)} events lost on the link` : "nothing lost on the link");
  if (pulledEarlier > 0) parts.push(`${formatCount(pulledEarlier)} events went to an earlier pull of this boot (not in this file)`);
  if (s.link.chunksLost > 0) parts.push(`${formatCount(s.link.chunksLost)} chunks missing (lost on the link, or overwritten before they were sent)`);
  const link = [`${formatCount(s.frames.frames)} frames`];
  if (s.frames.damaged > 0) link.push(`${formatCount(s.frames.damaged)} damaged`);
  if (s.link.framesLost > 0) link.push(`${formatCount(s.link.framesLost)} missing`);
  if (s.link.chunksRecovered > 0) link.push(`${formatCount(s.link.chunksRecovered)} chunks sent again`);
  if (s.link.sessions > 1) link.push(`${formatCount(s.link.sessions)} device sessions (reset or cleared)`);
  if (s.reopened > 0) link.push(`port reopened ${formatCount(s.reopened)} time${s.reopened === 1 ? "" : "s"}`);
  parts.push(`link: ${link.join(", ")}`);
  return parts.join("; ");
}

await runCli("trace-pull", main);
