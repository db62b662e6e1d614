#!/usr/bin/env node
// trace-pull: records a device's trace into a *.trace.cbor file.
//   trace-pull --wasi app.wasm [-o out.trace.cbor] [-- app args...]
//   trace-pull --port /dev/ttyUSB0 [--baud N] [--dump | --stream | --live] [--duration S] [-o out]

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { runCli, UsageError, CliError } from "./run-cli.js";
import { ProgressLine } from "./progress.js";
import { LiveView } from "./live-view.js";
import { runWasi, WasiSourceError } from "../sources/wasi.js";
import { SerialSourceError } from "../sources/serial.js";
import { TraceIngest, type IngestStats } from "../pull/ingest.js";
import { pullProblems } from "../pull/problems.js";
import { SerialPull, type SerialPullStats } from "../pull/serial-pull.js";
import { LinkTimeoutError } from "../link/session.js";
import { TraceWriter } from "../tracefile/writer.js";
import { CATEGORIES } from "../format/spec.js";
import { formatBytes, formatCount } from "../report/units.js";
import { TOOL_VERSION } from "./version.js";

const HELP = `Usage:
  trace-pull --wasi APP.wasm [-o OUT.trace.cbor] [-- ARGS...]
  trace-pull --port PATH [--baud N] [--dump | --stream | --live] [--duration S] [-o OUT.trace.cbor]

--wasi runs APP.wasm under node:wasi with the taskscope clock, pulls the device core's rings during
and after the run, and writes a trace file (default: APP.trace.cbor).

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
  --live                stream and show a task table that follows the device (implies --stream)
  --duration S          stream for S seconds, then stop (implies --stream)
  --clear               discard what the device recorded before the pull starts
  --filter LIST         record only these categories (e.g. task,poll,wake,await), or a mask
  -o, --output FILE     trace file to write (default: APP.trace.cbor, or PORT.trace.cbor)
  --drain-ms N          --wasi: wall time between drains during the run (default 50)
  -h, --help            show this help

Exit status (--wasi): the application's own exit status once the trace is written (134 if it
trapped). Both: 1 if the trace could not be pulled or written; 2 for wrong arguments.`;

function progressText(s: IngestStats, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const lost = (s.counters?.droppedOverwritten ?? 0) + (s.counters?.droppedFull ?? 0);
  return (
    `pulling: ${formatCount(s.events)} events, ${formatBytes(s.bytes)}, ${s.chunks} chunks, ` +
    `${formatCount(Math.round(s.events / secs))} ev/s` + (lost > 0 ? `, ${formatCount(lost)} dropped on device` : "")
  );
}

function serialProgressText(path: string, s: SerialPullStats, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  // Most important first: a narrow terminal cuts the end off.
  const parts = [
    `${basename(path)}: ${formatCount(s.ingest.events)} events`,
    formatBytes(s.frames.bytes),
    `frames damaged ${s.frames.damaged} lost ${s.link.framesLost}`,
    `${formatCount(Math.round(s.ingest.events / secs))} ev/s ${formatBytes(Math.round(s.frames.bytes / secs))}/s`,
  ];
  if (s.link.chunksLost > 0) parts.push(`${s.link.chunksLost} chunks lost`);
  if (!s.portOpen) parts.push("port closed, reconnecting...");
  return parts.join(", ");
}

/** "task,poll" or "0x3" or "3" -> a filter mask. */
function parseFilter(text: string): number {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text)) return Number(text);
  let mask = 0;
  for (const name of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const cat = CATEGORIES.find((c) => c.name === name);
    if (!cat) throw new UsageError(`--filter: unknown category '${name}' (known: ${CATEGORIES.map((c) => c.name).join(", ")})`);
    mask |= 1 << cat.bit;
  }
  return mask;
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
      "drain-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}' (application arguments go after --)`);
  if (values.wasi && values.port) throw new UsageError("give one source: --wasi or --port, not both");
  if (values.port) return pullSerial(values.port, values, appArgs);
  if (!values.wasi) throw new UsageError("no source given: use --wasi APP.wasm or --port PATH");
  for (const flag of ["baud", "dump", "stream", "live", "duration", "clear", "filter"] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} goes with --port`);
  }
  return pullWasi(values.wasi, values, appArgs);
}

async function pullWasi(wasm: string, values: { output?: string; "drain-ms"?: string }, appArgs: string[]): Promise<number> {
  const drainMs = values["drain-ms"] === undefined ? 50 : Number(values["drain-ms"]);
  if (!Number.isFinite(drainMs) || drainMs < 0) throw new UsageError(`--drain-ms takes a number of milliseconds, not '${values["drain-ms"]}'`);

  const output = values.output ?? `${basename(wasm).replace(/\.wasm$/, "")}.trace.cbor`;
  let writer: TraceWriter;
  try {
    writer = new TraceWriter(output);
  } catch (e) {
    throw new CliError(`cannot write ${output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  writer.header({ tool: `taskscope ${TOOL_VERSION} trace-pull`, source: `wasi:${basename(wasm)}` });
  const ingest = new TraceIngest(writer);
  const progress = new ProgressLine();
  const started = Date.now();

  let result;
  try {
    result = await runWasi({
      wasmPath: wasm,
      args: appArgs,
      drainIntervalMs: drainMs,
      onRecords: (bytes, anchor) => {
        ingest.push(bytes, anchor);
        progress.update(progressText(ingest.stats, started));
      },
    });
  } catch (e) {
    progress.done();
    writer.footer({ reason: `failed: ${(e as Error).message}`, events: ingest.stats.events });
    writer.close();
    if (e instanceof WasiSourceError) throw new CliError(e.message);
    throw e;
  }
  const reason = result.trap ? `trap: ${result.trap}` : `exit ${result.exitCode}`;
  ingest.finish(reason);
  writer.close();
  progress.done();

  const s = ingest.stats;
  const dropped = s.droppedOnDevice;
  const linkLost = s.lostInTransfer;
  console.error(
    `trace-pull: wrote ${output}: ${formatCount(s.events)} events, ${s.chunks} chunks, ${formatBytes(writer.size)}` +
      (dropped > 0 ? `; ${formatCount(dropped)} events dropped on the device (ring full)` : "; nothing lost") +
      (linkLost > 0 ? `; ${formatCount(linkLost)} lost in transfer` : "") +
      (s.damaged > 0 ? `; ${s.damaged} damaged records left out` : ""),
  );
  for (const line of pullProblems(s)) console.error(`trace-pull: ${line}`);
  if (result.trap) console.error(`trace-pull: ${basename(wasm)} trapped: ${result.trap} (the trace up to the trap is in the file)`);
  else if (result.exitCode !== 0) console.error(`trace-pull: ${basename(wasm)} exited with status ${result.exitCode}`);
  return result.exitCode;
}

interface SerialFlags {
  baud?: string;
  dump?: boolean;
  stream?: boolean;
  live?: boolean;
  duration?: string;
  clear?: boolean;
  filter?: string;
  output?: string;
  "drain-ms"?: string;
}

/** Closing dump after a stop: how long to wait for the device before keeping what arrived. */
const STOP_GRACE_MS = 5000;

async function pullSerial(path: string, values: SerialFlags, appArgs: string[]): Promise<number> {
  if (appArgs.length > 0) throw new UsageError("arguments after -- go with --wasi");
  if (values["drain-ms"] !== undefined) throw new UsageError("--drain-ms goes with --wasi");
  const baud = values.baud === undefined ? 115200 : Number(values.baud);
  if (!Number.isInteger(baud) || baud <= 0) throw new UsageError(`--baud takes a line speed such as 115200, not '${values.baud}'`);
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (duration !== undefined && !(duration > 0)) throw new UsageError(`--duration takes a number of seconds, not '${values.duration}'`);
  const streaming = values.stream === true || values.live === true || duration !== undefined;
  if (values.dump && streaming) throw new UsageError("--dump pulls once; --stream, --live and --duration keep pulling: choose one");
  const filter = values.filter === undefined ? undefined : parseFilter(values.filter);
  const output = values.output ?? `${basename(path)}.trace.cbor`;

  const progress = new ProgressLine();
  const started = Date.now();
  let pull: SerialPull | undefined;
  const live = values.live ? new LiveView(process.stdout, { status: () => (pull ? serialProgressText(path, pull.stats, started) : "") }) : undefined;
  try {
    pull = await SerialPull.open({
      path,
      baudRate: baud,
      output,
      tool: `taskscope ${TOOL_VERSION} trace-pull`,
      mode: streaming ? "stream" : "dump",
      clear: values.clear === true,
      filter,
      tap: live ? (bytes, anchor) => live.records(bytes, anchor) : undefined,
    });
  } catch (e) {
    if (e instanceof SerialSourceError) throw new CliError(e.message);
    const code = (e as NodeJS.ErrnoException).code;
    if (code) throw new CliError(`cannot write ${output}: ${code}`);
    throw e;
  }
  const p = pull;
  let reason = streaming ? "stopped" : "dump complete";
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    reason = "interrupted";
    if (streaming && interrupts === 1) {
      p.stop();
      setTimeout(() => p.abandon(), STOP_GRACE_MS).unref();
    } else {
      p.abandon();
    }
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);
  const timer = duration === undefined ? undefined : setTimeout(() => {
    reason = "duration";
    p.stop();
    setTimeout(() => p.abandon(), STOP_GRACE_MS).unref();
  }, duration * 1000);
  const ticker = live ? undefined : setInterval(() => progress.update(serialProgressText(path, p.stats, started)), 200);
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
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }
  await p.close(reason);
  const s = p.stats;
  if (failure && s.link.sessions === 0) {
    throw new CliError(`${failure.message} on ${path}: is a device with taskscope's link attached, at ${baud} baud?`);
  }
  console.error(serialSummary(output, p.writer.size, s));
  for (const line of pullProblems(s.ingest, s.link)) console.error(`trace-pull: ${line}`);
  if (failure) throw new CliError(`${failure.message} on ${path} (what arrived before is in ${output})`);
  return 0;
}

function serialSummary(output: string, size: number, s: SerialPullStats): string {
  const { droppedOnDevice: dropped, lostInTransfer: linkLost, pulledEarlier } = s.ingest;
  const parts = [`trace-pull: wrote ${output}: ${formatCount(s.ingest.events)} events, ${s.ingest.chunks} chunks, ${formatBytes(size)}`];
  parts.push(dropped > 0 ? `${formatCount(dropped)} events dropped on the device (ring full)` : "nothing dropped on the device");
  parts.push(linkLost > 0 ? `${formatCount(linkLost)} events lost on the link` : "nothing lost on the link");
  if (pulledEarlier > 0) parts.push(`${formatCount(pulledEarlier)} events went to an earlier pull of this boot (not in this file)`);
  if (s.link.chunksLost > 0) parts.push(`${formatCount(s.link.chunksLost)} chunks missing (lost on the link, or overwritten before they were sent)`);
  const link = [`${formatCount(s.frames.frames)} frames`];
  if (s.frames.damaged > 0) link.push(`${s.frames.damaged} damaged`);
  if (s.link.framesLost > 0) link.push(`${s.link.framesLost} missing`);
  if (s.link.chunksRecovered > 0) link.push(`${s.link.chunksRecovered} chunks sent again`);
  if (s.link.sessions > 1) link.push(`${s.link.sessions} device sessions (reset or cleared)`);
  if (s.reopened > 0) link.push(`port reopened ${s.reopened} time${s.reopened === 1 ? "" : "s"}`);
  parts.push(`link: ${link.join(", ")}`);
  return parts.join("; ");
}

await runCli("trace-pull", main);
