// trace file -> OTLP, streaming: one pass over the decoded events; spans leave in batches as they
// end, to a file, a collector, or both. Memory holds the live tasks and flows, one decoded batch
// and at most a few span batches, however long the trace.

import { statSync } from "node:fs";
import type { Attributes } from "@opentelemetry/api";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Lint } from "../../model/lint.js";
import { openTrace, type TraceOptions, type TraceSummary } from "../../tracefile/trace.js";
import { OutputFile } from "../output.js";
import { Timeline, type TimelineStats } from "../timeline.js";
import type { SendConfig } from "./config.js";
import { OtlpFileSink, type OtlpFileFormat } from "./file-sink.js";
import { OtlpHttpSink, type HttpSinkOptions, type HttpSinkStats } from "./http-sink.js";
import { OtlpMapper, type OtlpMapStats, type PollMode } from "./mapper.js";
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from "./spans.js";

export interface ExportProgress {
  /** Trace file bytes read so far, and the file's size. */
  bytesRead: number;
  fileBytes: number;
  spans: number;
  /** Spans a collector has accepted. */
  spansSent: number;
}

export interface OtlpExportOptions {
  /** taskscope's version, for the instrumentation scope. */
  toolVersion: string;
  /** Write to this file ("-": standard output). */
  file?: { path: string; format: OtlpFileFormat };
  /** Send to this collector. */
  send?: SendConfig;
  sendOptions?: HttpSinkOptions;
  polls?: PollMode;
  /** Lints to place as span events (from the insight engine). */
  lints?: readonly Lint[];
  /** Spans per file write / request (default 512). */
  batchSize?: number;
  limits?: SpanLimits;
  resourceOverrides?: Attributes;
  onProgress?: (progress: ExportProgress) => void;
  traceOptions?: TraceOptions;
}

export interface OtlpExportResult {
  summary: TraceSummary;
  spans: number;
  map: OtlpMapStats;
  timeline: TimelineStats;
  fileBytes: number | undefined;
  sent: HttpSinkStats | undefined;
}

export const DEFAULT_BATCH_SIZE = 512;

export async function exportOtlp(tracePath: string, options: OtlpExportOptions): Promise<OtlpExportResult> {
  if (!options.file && !options.send) throw new Error("exportOtlp: give a file, a collector, or both");
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const trace = openTrace(tracePath, options.traceOptions);
  let output: OutputFile | undefined;
  let fileSink: OtlpFileSink | undefined;
  let httpSink: OtlpHttpSink | undefined;
  try {
    if (options.file) {
      output = new OutputFile(options.file.path);
      fileSink = new OtlpFileSink(output, options.file.format);
    }
    if (options.send) httpSink = new OtlpHttpSink(options.send, options.sendOptions);

    const queue: ReadableSpan[] = [];
    const mapper = new OtlpMapper(
      {
        header: trace.header,
        polls: options.polls ?? "spans",
        limits: options.limits ?? DEFAULT_SPAN_LIMITS,
        lints: options.lints ?? [],
        scope: { name: "taskscope", version: options.toolVersion },
        resourceOverrides: options.resourceOverrides ?? {},
      },
      (span) => queue.push(span),
    );
    const timeline = new Timeline(mapper);
    const size = sizeOf(tracePath);
    const progress = (): void =>
      options.onProgress?.({ bytesRead: trace.readerStats.bytesRead, fileBytes: size, spans: mapper.stats.spans, spansSent: httpSink?.stats.spans ?? 0 });

    const drain = async (all: boolean): Promise<void> => {
      while (queue.length >= batchSize || (all && queue.length > 0)) {
        const batch = queue.splice(0, batchSize);
        fileSink?.write(batch);
        await httpSink?.write(batch);
      }
    };

    for (const { session, batch } of trace.batches()) {
      timeline.consume(batch, session);
      await drain(false);
      progress();
    }
    const summary = trace.summary();
    timeline.finish(summary);
    await drain(true);
    fileSink?.close();
    await httpSink?.close();
    output?.commit();
    progress();
    return {
      summary,
      spans: mapper.stats.spans,
      map: mapper.stats,
      timeline: timeline.stats,
      fileBytes: output?.bytes,
      sent: httpSink?.stats,
    };
  } catch (error) {
    trace.close();
    output?.abort();
    await httpSink?.abort();
    throw error;
  }
}

export function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
