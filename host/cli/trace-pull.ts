#!/usr/bin/env node
// trace-pull: records a device's trace into a *.trace.cbor file.
//   trace-pull --wasi app.wasm [-o out.trace.cbor] [-- app args...]

import { parseArgs } from "node:util";
import { basename } from "node:path";
import { runCli, UsageError, CliError } from "./run-cli.js";
import { ProgressLine } from "./progress.js";
import { runWasi, WasiSourceError } from "../sources/wasi.js";
import { TraceIngest, type IngestStats } from "../pull/ingest.js";
import { TraceWriter } from "../tracefile/writer.js";
import { formatBytes, formatCount } from "../report/units.js";
import { TOOL_VERSION } from "./version.js";

const HELP = `Usage:
  trace-pull --wasi APP.wasm [-o OUT.trace.cbor] [-- ARGS...]

Runs APP.wasm under node:wasi with the taskscope clock, pulls the device core's rings during and
after the run, and writes a trace file (default: APP.trace.cbor).

Options:
  --wasi FILE           the WebAssembly module to run (it must re-export taskscope's core/host)
  -o, --output FILE     trace file to write
  --drain-ms N          wall time between drains during the run (default 50)
  -h, --help            show this help

Exit status: the application's own exit status once the trace is written (134 if it trapped);
1 if the trace could not be written; 2 for wrong arguments.`;

function progressText(s: IngestStats, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  const lost = (s.counters?.droppedOverwritten ?? 0) + (s.counters?.droppedFull ?? 0);
  return (
    `pulling: ${formatCount(s.events)} events, ${formatBytes(s.bytes)}, ${s.chunks} chunks, ` +
    `${formatCount(Math.round(s.events / secs))} ev/s` + (lost > 0 ? `, ${formatCount(lost)} dropped on device` : "")
  );
}

async function main(argv: string[]): Promise<number> {
  const split = argv.indexOf("--");
  const own = split >= 0 ? argv.slice(0, split) : argv;
  const appArgs = split >= 0 ? argv.slice(split + 1) : [];
  const { values, positionals } = parseArgs({
    args: own,
    options: {
      wasi: { type: "string" },
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
  if (!values.wasi) throw new UsageError("no source given: use --wasi APP.wasm");
  const drainMs = values["drain-ms"] === undefined ? 50 : Number(values["drain-ms"]);
  if (!Number.isFinite(drainMs) || drainMs < 0) throw new UsageError(`--drain-ms takes a number of milliseconds, not '${values["drain-ms"]}'`);

  const wasm = values.wasi;
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
  const c = s.counters;
  const dropped = (c?.droppedOverwritten ?? 0) + (c?.droppedFull ?? 0);
  const linkLost = c ? c.drained - s.events : 0;
  console.error(
    `trace-pull: wrote ${output}: ${formatCount(s.events)} events, ${s.chunks} chunks, ${formatBytes(writer.size)}` +
      (dropped > 0 ? `; ${formatCount(dropped)} events dropped on the device (ring full)` : "; nothing lost") +
      (linkLost > 0 ? `; ${formatCount(linkLost)} lost in transfer` : "") +
      (s.damaged > 0 ? `; ${s.damaged} damaged records left out` : ""),
  );
  if (result.trap) console.error(`trace-pull: ${basename(wasm)} trapped: ${result.trap} (the trace up to the trap is in the file)`);
  else if (result.exitCode !== 0) console.error(`trace-pull: ${basename(wasm)} exited with status ${result.exitCode}`);
  return result.exitCode;
}

await runCli("trace-pull", main);
