// trace-export's long part, run in a worker thread (job.ts): the OTLP settings (flags and the
// OTEL_* environment), the lint pass, the export itself with a progress line, and the notes the
// command prints (every secret redacted). trace-export.ts parses the flags and prints.

import type { Lint } from "../model/lint.js";
import { analyzeTrace } from "../model/analyze.js";
import { TraceFileError } from "../tracefile/errors.js";
import { redact, resolveSendConfig, resourceOverridesFromEnv, spanLimitsFromEnv, type SendConfig } from "../export/otlp/config.js";
import { exportOtlp, sizeOf, DEFAULT_BATCH_SIZE, DEFAULT_MAX_REQUEST_BYTES } from "../export/otlp/export.js";
import type { OtlpFileFormat } from "../export/otlp/file-sink.js";
import { OtlpSendError } from "../export/otlp/config.js";
import type { PollMode } from "../export/otlp/mapper.js";
import { exportPerfetto } from "../export/perfetto/export.js";
import { OutputError, ioErrorText } from "../export/output.js";
import type { TimelineStats } from "../export/timeline.js";
import type { TraceSummary } from "../tracefile/trace.js";
import { formatBytes, formatCount } from "../report/units.js";
import { StepMeter, type ProgressLine } from "./progress.js";
import { CliError, UsageError } from "./run-cli.js";
import { parseWholeNumber } from "./args.js";
import { byteSize, pollMode, settings } from "./otlp-flags.js";
import type { JobContext } from "./job-worker.js";

export interface ExportJobInput {
  kind: "otlp" | "perfetto";
  /** The trace as the user named it, and the file to read. */
  name: string;
  path: string;
  /** Output file ("-": standard output); for Perfetto always set (trace-export picks the default). */
  output: string | undefined;
  lints: boolean;
  /** OTLP flags as given. */
  format?: string;
  endpoint?: string;
  header?: string[];
  protocol?: string;
  timeout?: string;
  polls?: string;
  batchSize?: string;
  maxRequestBytes?: string;
  toolVersion: string;
  env: Record<string, string | undefined>;
}

export interface ExportJobResult {
  /** Lines for standard error, secrets already redacted ("wrote ...", "note: ...", "warning: ..."). */
  notes: string[];
  /** The --json summary (schema "taskscope.export/1"). */
  summary: Record<string, unknown>;
}

/** Values that must never be printed, known once the settings are read. */
let secrets: string[] = [];

export async function run(input: ExportJobInput, context: JobContext): Promise<ExportJobResult> {
  return input.kind === "perfetto" ? perfetto(input, context.progress) : otlp(input, context.progress);
}

interface OtlpPlan {
  output: string | undefined;
  format: OtlpFileFormat;
  send: SendConfig | undefined;
  polls: PollMode;
  batchSize: number;
  maxRequestBytes: number;
  limits: ReturnType<typeof spanLimitsFromEnv>;
  /** Run the insight engine first and carry its lints. */
  lints: boolean;
}

/** The OTLP settings from the flags and the environment (UsageError when they do not fit). */
function otlpPlan(input: ExportJobInput): OtlpPlan {
  const env = input.env;
  // An endpoint in the environment sends when no file is asked for; with -o, only --endpoint does
  // (a shell that exports OTEL_EXPORTER_OTLP_ENDPOINT for other tools should not make a file
  // export upload as well).
  const flags = { endpoint: input.endpoint, headers: input.header, protocol: input.protocol, timeoutMs: input.timeout };
  if (input.timeout !== undefined) parseWholeNumber(input.timeout, "--timeout", 1);
  const send = input.endpoint !== undefined || input.output === undefined ? settings(() => resolveSendConfig(flags, env)) : undefined;
  secrets = send?.secrets ?? [];
  if (!send) {
    for (const [flag, value] of [["header", input.header], ["protocol", input.protocol], ["timeout", input.timeout]] as const) {
      if (value !== undefined) throw new UsageError(`--${flag} needs somewhere to send: --endpoint URL${input.output === undefined ? " or OTEL_EXPORTER_OTLP_ENDPOINT" : ""}`);
    }
  }
  if (input.output === undefined) {
    if (input.format !== undefined) throw new UsageError("--format needs an output file: -o FILE");
    if (!send) throw new UsageError("nothing to do: give -o FILE to write OTLP, or --endpoint URL (or OTEL_EXPORTER_OTLP_ENDPOINT) to send it");
  }
  const batchSize = input.batchSize === undefined ? DEFAULT_BATCH_SIZE : parseWholeNumber(input.batchSize, "--batch-size", 1);
  const maxRequestBytes = input.maxRequestBytes === undefined ? DEFAULT_MAX_REQUEST_BYTES : byteSize(input.maxRequestBytes, "--max-request-bytes");
  const limits = settings(() => spanLimitsFromEnv(env));
  return { output: input.output, format: fileFormat(input.output, input.format), send, polls: pollMode(input.polls), batchSize, maxRequestBytes, limits, lints: input.lints };
}

async function otlp(input: ExportJobInput, progress: ProgressLine): Promise<ExportJobResult> {
  const plan = otlpPlan(input);
  const file = input.path;
  const notes: string[] = [];
  const meter = new StepMeter("exporting");
  let result;
  try {
    const lints = lintsFor(input, plan.lints, progress);
    result = await exportOtlp(file, {
      toolVersion: input.toolVersion,
      file: plan.output === undefined ? undefined : { path: plan.output, format: plan.format },
      send: plan.send,
      polls: plan.polls,
      batchSize: plan.batchSize,
      maxRequestBytes: plan.maxRequestBytes,
      limits: plan.limits,
      lints,
      resourceOverrides: resourceOverridesFromEnv(input.env),
      onProgress: (p) =>
        progress.update(() => meter.text(p.bytesRead, p.fileBytes, [`${formatCount(p.spans)} spans`, ...(plan.send !== undefined ? [`${formatCount(p.spansSent)} sent`] : [])])),
    });
  } catch (e) {
    progress.done();
    throw failure(e, input.name, plan.output);
  }
  progress.done();
  const m = result.map;
  const kind = plan.format === "protobuf" ? "OTLP/protobuf" : "OTLP/JSON Lines";
  if (plan.output !== undefined) {
    const where = plan.output === "-" ? "standard output" : plan.output;
    notes.push(
      `wrote ${where}: ${formatCount(m.spans)} spans in ${formatCount(m.traces)} traces, ${plural(m.lints, "lint")} ` +
        `(${kind}, ${formatBytes(result.fileBytes ?? 0)} in ${plural(result.fileRequests, "request")} of at most ${formatBytes(plan.maxRequestBytes)})`,
    );
  }
  if (plan.send && result.sent) {
    notes.push(
      `sent ${formatCount(result.sent.spans)} spans in ${formatCount(result.sent.batches)} requests to ${plan.send.displayUrl} (${plan.send.protocol})` +
        (plan.output === undefined ? `, ${plural(m.lints, "lint")}` : ""),
    );
  }
  if (m.droppedEvents > 0 || m.droppedLinks > 0) {
    notes.push(
      `note: ${formatCount(m.droppedEvents)} span events and ${formatCount(m.droppedLinks)} links past the per-span limits ` +
        `(${plan.limits.events} events, ${plan.limits.links} links; OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT) ` +
        `are counted in the spans' dropped counts` + (plan.polls === "events" ? "; --polls spans keeps every poll" : ""),
    );
  }
  notes.push(...commonNotes(input.name, result.summary, result.timeline));
  return done(notes, {
    format: "otlp",
    output: plan.output ?? null,
    fileFormat: plan.output === undefined ? null : kind,
    bytes: result.fileBytes ?? null,
    spans: m.spans,
    traces: m.traces,
    lints: m.lints,
    droppedSpanEvents: m.droppedEvents,
    droppedLinks: m.droppedLinks,
    sent: plan.send && result.sent ? { url: plan.send.displayUrl, protocol: plan.send.protocol, spans: result.sent.spans, requests: result.sent.batches } : null,
    ...summaryFields(result.summary, result.timeline),
  });
}

async function perfetto(input: ExportJobInput, progress: ProgressLine): Promise<ExportJobResult> {
  const output = input.output!;
  const format = input.format === "json" ? "json" : "protobuf";
  const meter = new StepMeter("exporting");
  let result;
  // Protobuf takes its lints last, so they are found in a worker thread while the export runs
  // its light model on this one (at 10 M events less wall time and less CPU than the full model
  // in the export's own pass, whose larger heap costs more GC; the same peak RSS). JSON needs
  // them first (a pass of its own before the export).
  const inWorker = input.lints && format === "protobuf" ? (await import("../export/lint-worker.js")).lintsInWorker(input.path) : undefined;
  try {
    result = await exportPerfetto(input.path, {
      out: output,
      format,
      lints: inWorker ? inWorker.lints : lintsFor(input, input.lints, progress),
      onProgress: (p) => progress.update(() => meter.text(p.bytesRead, p.fileBytes, [`${formatCount(p.events)} ${format === "json" ? "trace events" : "packets"}`])),
    });
  } catch (e) {
    inWorker?.stop();
    progress.done();
    throw failure(e, input.name, output);
  }
  progress.done();
  const where = output === "-" ? "standard output" : output;
  const notes = [
    `wrote ${where}: ${formatCount(result.events)} ${format === "json" ? "trace events" : "packets"}, ${formatCount(result.timeline.tasks)} tasks, ` +
      `${formatCount(result.perfetto.arrows)} wake arrows, ${plural(result.perfetto.lints, "lint")} (${format === "json" ? "JSON" : "protobuf"}, ${formatBytes(result.bytes)}); open it in ui.perfetto.dev`,
  ];
  if (result.perfetto.droppedArrows > 0) {
    notes.push(`note: ${formatCount(result.perfetto.droppedArrows)} wake arrows not drawn: tasks woken more than 64 times between two polls`);
  }
  notes.push(...commonNotes(input.name, result.summary, result.timeline));
  return done(notes, {
    format: "perfetto",
    fileFormat: format,
    output,
    bytes: result.bytes,
    traceEvents: result.events,
    taskTracks: result.timeline.tasks,
    wakeArrows: result.perfetto.arrows,
    wakeArrowsNotDrawn: result.perfetto.droppedArrows,
    lints: result.perfetto.lints,
    ...summaryFields(result.summary, result.timeline),
  });
}

function done(notes: string[], fields: Record<string, unknown>): ExportJobResult {
  const safe = notes.map((n) => redact(n, secrets));
  return { notes: safe, summary: { schema: "taskscope.export/1", ...fields, notes: safe } };
}

function summaryFields(summary: TraceSummary, timeline: TimelineStats): Record<string, unknown> {
  return {
    truncatedAtByte: summary.truncated?.offset ?? null,
    pollsBeforeTraceStart: timeline.pollEndsWithoutBegin,
    staleWakes: timeline.staleWakes,
  };
}

/**
 * The insight engine's lints for the trace (a first pass, host/model/analyze.ts), so both
 * exports show the same findings as trace-report. --no-lints skips that pass.
 */
function lintsFor(input: ExportJobInput, enabled: boolean, progress: ProgressLine): Lint[] {
  if (!enabled) return [];
  const size = sizeOf(input.path);
  const meter = new StepMeter("finding lints");
  progress.update(() => meter.text(0, size), true);
  return analyzeTrace(input.path, {}, (p) => progress.update(() => meter.text(p.bytesRead, size, [`${formatCount(p.events)} events`]))).lints;
}

function commonNotes(name: string, summary: TraceSummary, timeline: TimelineStats): string[] {
  const notes: string[] = [];
  if (summary.truncated) {
    notes.push(`warning: ${name} ends inside a record at byte ${summary.truncated.offset} (the writer was stopped); exported everything before it`);
  }
  for (const d of summary.damaged.slice(0, 5)) notes.push(`warning: ${name} is damaged at byte ${d.offset}, ${formatCount(d.bytes)} bytes skipped: ${d.reason}`);
  if (summary.damagedStretches > 5) notes.push(`warning: ${formatCount(summary.damagedStretches - 5)} more damaged places in ${name}; exported everything else`);
  if (summary.duplicateChunks > 0) notes.push(`warning: ${formatCount(summary.duplicateChunks)} chunks stored twice in ${name}; exported once`);
  if (timeline.pollEndsWithoutBegin > 0) {
    notes.push(`note: ${formatCount(timeline.pollEndsWithoutBegin)} polls began before the trace did and are left out (their start is unknown)`);
  }
  if (timeline.staleWakes > 0) {
    notes.push(`note: ${formatCount(timeline.staleWakes)} wakes or ends of tasks that had already ended are left out`);
  }
  return notes;
}

function plural(n: number, what: string): string {
  return `${formatCount(n)} ${what}${n === 1 ? "" : "s"}`;
}

function fileFormat(output: string | undefined, flag: string | undefined): OtlpFileFormat {
  if (flag !== undefined) {
    if (flag === "json" || flag === "protobuf") return flag;
    throw new UsageError(`--format takes json or protobuf, not '${flag}'`);
  }
  return output !== undefined && /\.(pb|binpb|protobuf)$/i.test(output) ? "protobuf" : "json";
}

/** The one line a failed export prints. */
function failure(e: unknown, name: string, output: string | undefined): unknown {
  if (e instanceof TraceFileError) return new CliError(`${name}: ${e.message}`);
  if (e instanceof OtlpSendError) return new CliError(redact(e.message, secrets));
  if (e instanceof OutputError) return new CliError(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err.code === "string" && typeof err.syscall === "string") {
    if (err.code === "EPIPE") return e; // the reader of standard output left: end quietly
    if (err.syscall === "read" || err.syscall === "open") return new CliError(`${name}: cannot read (${err.code})`);
    return new CliError(`cannot write ${output ?? err.path ?? "the output"}: ${ioErrorText(err)}`);
  }
  if (e instanceof Error) {
    // A bug, not bad input: still never print a secret.
    e.message = redact(e.message, secrets);
    if (e.stack) e.stack = redact(e.stack, secrets);
  }
  return e;
}
