#!/usr/bin/env node
// trace-export: a trace file into OpenTelemetry (OTLP file or OTLP/HTTP) or Perfetto.
//   trace-export --otlp FILE.trace.cbor [-o OUT.json|OUT.pb] [--endpoint URL [--header K=V]...]
//   trace-export --perfetto FILE.trace.cbor [-o OUT.json]

import { existsSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { Lint } from "../model/lint.js";
import { analyzeTrace } from "../model/analyze.js";
import { TraceFileError } from "../tracefile/errors.js";
import { OtlpConfigError, redact, resolveSendConfig, resourceOverridesFromEnv, spanLimitsFromEnv, type SendConfig } from "../export/otlp/config.js";
import { exportOtlp, DEFAULT_BATCH_SIZE, type ExportProgress } from "../export/otlp/export.js";
import type { OtlpFileFormat } from "../export/otlp/file-sink.js";
import { OtlpSendError } from "../export/otlp/http-sink.js";
import type { PollMode } from "../export/otlp/mapper.js";
import { exportPerfetto } from "../export/perfetto/export.js";
import { OutputFile } from "../export/output.js";
import type { TimelineStats } from "../export/timeline.js";
import type { TraceSummary } from "../tracefile/trace.js";
import { formatBytes, formatCount } from "../report/units.js";
import { ProgressLine } from "./progress.js";
import { CliError, UsageError, runCli } from "./run-cli.js";
import { TOOL_VERSION } from "./version.js";

const HELP = `Usage:
  trace-export --otlp FILE.trace.cbor [-o OUT.json | -o OUT.pb] [--endpoint URL [--header KEY=VALUE]...]
  trace-export --perfetto FILE.trace.cbor [-o OUT.json]

--otlp turns the trace into OpenTelemetry traces: a trace per device session and per request
(flow), a span per task under the span of the task that spawned it, polls as child spans, wakes
as links, lints and logs as span events (docs/EXPORT.md has the whole mapping).
--perfetto writes Chrome trace-event JSON that ui.perfetto.dev opens: a track per task grouped
by executor, slices for polls, arrows for wakes, counters for channel fill and memory.

OTLP options:
  -o, --output FILE       write one OTLP ExportTraceServiceRequest: protobuf if FILE ends in .pb,
                          JSON otherwise ("-" for standard output)
  --format json|protobuf  the file format, whatever the name
  --endpoint URL          send over OTLP/HTTP; a URL with no path gets /v1/traces; https uses TLS
  --header KEY=VALUE      a request header, e.g. an API key (repeat for more); never printed
  --protocol PROTOCOL     http/protobuf (default) or http/json
  --timeout MS            time for one batch, retries included (default 10000)
  --polls spans|events    polls as child spans (default) or as events on the task's span
  --batch-size N          spans per write and per request (default ${DEFAULT_BATCH_SIZE})

Perfetto options:
  -o, --output FILE       default: FILE with .perfetto.json in place of .trace.cbor

Both:
  --no-lints              skip the analysis pass that finds lints (lost wake-ups, deadlocks, long
                          polls, ...); it keeps a record per task, so skip it for huge traces
  -h, --help              show this help

Environment (the OpenTelemetry standard ones; flags win): OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_COMPRESSION (gzip),
OTEL_EXPORTER_OTLP_CERTIFICATE (a private CA), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT. An endpoint in the environment sends
when no -o is given; with -o, only --endpoint sends.

Exit status: 0 done; 1 unreadable or corrupt trace, unwritable output, or a collector that
could not be reached or refused the data; 2 wrong arguments.`;

const OPTIONS = {
  otlp: { type: "boolean" },
  perfetto: { type: "boolean" },
  output: { type: "string", short: "o" },
  format: { type: "string" },
  endpoint: { type: "string" },
  header: { type: "string", multiple: true },
  protocol: { type: "string" },
  timeout: { type: "string" },
  polls: { type: "string" },
  "batch-size": { type: "string" },
  "no-lints": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Values that must never be printed, known once the flags are read. */
let secrets: string[] = [];

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.otlp && values.perfetto) throw new UsageError("choose one of --otlp and --perfetto (run twice for both)");
  if (!values.otlp && !values.perfetto) throw new UsageError("choose what to export: --otlp or --perfetto");
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no trace file given" : `give one trace file, not ${positionals.length}`);
  const file = positionals[0]!;

  if (values.perfetto) {
    for (const flag of ["format", "endpoint", "header", "protocol", "timeout", "polls", "batch-size"] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is an OTLP option; it does nothing with --perfetto`);
    }
    checkInput(file);
    return perfetto(file, values.output ?? defaultPerfettoOutput(file), !values["no-lints"]);
  }

  // An endpoint in the environment sends when no file is asked for; with -o, only --endpoint does
  // (a shell that exports OTEL_EXPORTER_OTLP_ENDPOINT for other tools should not make a file
  // export upload as well).
  let send: SendConfig | undefined;
  try {
    const flags = { endpoint: values.endpoint, headers: values.header, protocol: values.protocol, timeoutMs: values.timeout };
    if (values.endpoint !== undefined || values.output === undefined) send = resolveSendConfig(flags, process.env);
  } catch (e) {
    if (e instanceof OtlpConfigError) throw new UsageError(e.message);
    throw e;
  }
  secrets = send?.secrets ?? [];
  if (!send) {
    for (const flag of ["header", "protocol", "timeout"] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} needs somewhere to send: --endpoint URL${values.output === undefined ? " or OTEL_EXPORTER_OTLP_ENDPOINT" : ""}`);
    }
  }
  if (values.output === undefined) {
    if (values.format !== undefined) throw new UsageError("--format needs an output file: -o FILE");
    if (!send) throw new UsageError("nothing to do: give -o FILE to write OTLP, or --endpoint URL (or OTEL_EXPORTER_OTLP_ENDPOINT) to send it");
  }
  const format = fileFormat(values.output, values.format);
  const polls = pollMode(values.polls);
  const batchSize = positiveInt(values["batch-size"], "--batch-size") ?? DEFAULT_BATCH_SIZE;
  let limits;
  try {
    limits = spanLimitsFromEnv(process.env);
  } catch (e) {
    if (e instanceof OtlpConfigError) throw new UsageError(e.message);
    throw e;
  }
  checkInput(file);
  return otlp(file, { output: values.output, format, send, polls, batchSize, limits, lints: !values["no-lints"] });
}

interface OtlpPlan {
  output: string | undefined;
  format: OtlpFileFormat;
  send: SendConfig | undefined;
  polls: PollMode;
  batchSize: number;
  limits: ReturnType<typeof spanLimitsFromEnv>;
  /** Run the insight engine first and carry its lints. */
  lints: boolean;
}

async function otlp(file: string, plan: OtlpPlan): Promise<number> {
  const progress = new ProgressLine();
  let result;
  try {
    const lints = lintsFor(file, plan.lints, progress);
    result = await exportOtlp(file, {
      toolVersion: TOOL_VERSION,
      file: plan.output === undefined ? undefined : { path: plan.output, format: plan.format },
      send: plan.send,
      polls: plan.polls,
      batchSize: plan.batchSize,
      limits: plan.limits,
      lints,
      resourceOverrides: resourceOverridesFromEnv(process.env),
      onProgress: (p) => progress.update(otlpProgressText(p, plan.send !== undefined)),
    });
  } catch (e) {
    progress.done();
    throw failure(e, file, plan.output);
  }
  progress.done();
  const m = result.map;
  if (plan.output !== undefined) {
    const kind = plan.format === "protobuf" ? "OTLP/protobuf" : "OTLP/JSON";
    const where = plan.output === "-" ? "standard output" : plan.output;
    note(`wrote ${where}: ${formatCount(m.spans)} spans in ${formatCount(m.traces)} traces, ${plural(m.lints, "lint")} (${kind}, ${formatBytes(result.fileBytes ?? 0)})`);
  }
  if (plan.send && result.sent) {
    note(`sent ${formatCount(result.sent.spans)} spans in ${formatCount(result.sent.batches)} requests to ${plan.send.displayUrl} (${plan.send.protocol})` +
      (plan.output === undefined ? `, ${plural(m.lints, "lint")}` : ""));
  }
  if (m.droppedEvents > 0 || m.droppedLinks > 0) {
    note(
      `note: ${formatCount(m.droppedEvents)} span events and ${formatCount(m.droppedLinks)} links past the per-span limits ` +
        `(${plan.limits.events} events, ${plan.limits.links} links; OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT) ` +
        `are counted in the spans' dropped counts` + (plan.polls === "events" ? "; --polls spans keeps every poll" : ""),
    );
  }
  commonNotes(file, result.summary, result.timeline);
  return 0;
}

function perfetto(file: string, output: string, withLints: boolean): number {
  const progress = new ProgressLine();
  let result;
  try {
    const lints = lintsFor(file, withLints, progress);
    result = exportPerfetto(file, {
      out: output,
      lints,
      onProgress: (p) => progress.update(`exporting: ${percent(p.bytesRead, p.fileBytes)} of ${formatBytes(p.fileBytes)}, ${formatCount(p.events)} trace events`),
    });
  } catch (e) {
    progress.done();
    throw failure(e, file, output);
  }
  progress.done();
  const where = output === "-" ? "standard output" : output;
  note(
    `wrote ${where}: ${formatCount(result.events)} trace events, ${formatCount(result.timeline.tasks)} task tracks, ` +
      `${formatCount(result.perfetto.arrows)} wake arrows, ${plural(result.perfetto.lints, "lint")} (${formatBytes(result.bytes)}); open it in ui.perfetto.dev`,
  );
  if (result.perfetto.droppedArrows > 0) {
    note(`note: ${formatCount(result.perfetto.droppedArrows)} wake arrows not drawn: tasks woken more than 64 times between two polls`);
  }
  commonNotes(file, result.summary, result.timeline);
  return 0;
}

/**
 * The insight engine's lints for the trace (a first pass, host/model/analyze.ts), so both
 * exports show the same findings as trace-report. --no-lints skips that pass.
 */
function lintsFor(file: string, enabled: boolean, progress: ProgressLine): Lint[] {
  if (!enabled) return [];
  progress.update("analysing: finding lints...", true);
  return analyzeTrace(file).lints;
}

function commonNotes(file: string, summary: TraceSummary, timeline: TimelineStats): void {
  if (summary.truncated) {
    note(`warning: ${file} ends inside a record at byte ${summary.truncated.offset} (the writer was stopped); exported everything before it`);
  }
  for (const d of summary.damaged.slice(0, 5)) note(`warning: ${file} is damaged at byte ${d.offset}, ${formatCount(d.bytes)} bytes skipped: ${d.reason}`);
  if (summary.damagedStretches > 5) note(`warning: ${formatCount(summary.damagedStretches - 5)} more damaged places in ${file}; exported everything else`);
  if (summary.duplicateChunks > 0) note(`warning: ${formatCount(summary.duplicateChunks)} chunks stored twice in ${file}; exported once`);
  if (timeline.pollEndsWithoutBegin > 0) {
    note(`note: ${formatCount(timeline.pollEndsWithoutBegin)} polls began before the trace did and are left out (their start is unknown)`);
  }
  if (timeline.staleWakes > 0) {
    note(`note: ${formatCount(timeline.staleWakes)} wakes or ends of tasks that had already ended are left out`);
  }
}

function otlpProgressText(p: ExportProgress, sending: boolean): string {
  return (
    `exporting: ${percent(p.bytesRead, p.fileBytes)} of ${formatBytes(p.fileBytes)}, ${formatCount(p.spans)} spans` +
    (sending ? `, ${formatCount(p.spansSent)} sent` : "")
  );
}

function plural(n: number, what: string): string {
  return `${formatCount(n)} ${what}${n === 1 ? "" : "s"}`;
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.min(100, Math.floor((100 * part) / whole))}%` : "0%";
}

function note(text: string): void {
  console.error(`trace-export: ${redact(text, secrets)}`);
}

function checkInput(file: string): void {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);
}

function defaultPerfettoOutput(file: string): string {
  const name = basename(file).replace(/(\.trace)?\.cbor$/, "");
  return join(dirname(file), `${name}.perfetto.json`);
}

function fileFormat(output: string | undefined, flag: string | undefined): OtlpFileFormat {
  if (flag !== undefined) {
    if (flag === "json" || flag === "protobuf") return flag;
    throw new UsageError(`--format takes json or protobuf, not '${flag}'`);
  }
  return output !== undefined && /\.(pb|binpb|protobuf)$/i.test(output) ? "protobuf" : "json";
}

function pollMode(value: string | undefined): PollMode {
  if (value === undefined) return "spans";
  if (value === "spans" || value === "events") return value;
  throw new UsageError(`--polls takes spans or events, not '${value}'`);
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} takes a whole number above 0, not '${value}'`);
  return n;
}

/** The one line a failed export prints. */
function failure(e: unknown, file: string, output: string | undefined): unknown {
  if (e instanceof TraceFileError) return new CliError(`${file}: ${e.message}`);
  if (e instanceof OtlpSendError) return new CliError(redact(e.message, secrets));
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string" && typeof err.syscall === "string") {
    if (err.path === file || err.syscall === "read") return new CliError(`${file}: cannot read (${err.code})`);
    return new CliError(`cannot write ${output ?? err.path ?? "the output"}: ${err.code}`);
  }
  if (e instanceof Error) {
    // A bug, not bad input: still never print a secret.
    e.message = redact(e.message, secrets);
    if (e.stack) e.stack = redact(e.stack, secrets);
  }
  return e;
}

// Interrupted: leave no partial output behind, and exit as a shell expects (128 + SIGINT).
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    OutputFile.abortAll();
    process.exit(signal === "SIGINT" ? 130 : 143);
  });
}

await runCli("trace-export", main);
