// trace file -> OTLP, streaming: one pass over the decoded events; spans leave in requests of
// bounded size as they end, to a file, a collector, or both. Memory holds the live tasks and
// flows, one decoded batch and at most a few requests, however long the trace.

import type { Attributes } from "@opentelemetry/api";
import type { Lint } from "../../model/lint.js";
import { openTrace, type TraceOptions, type TraceSummary } from "../../tracefile/trace.js";
import { OutputFile } from "../output.js";
import { Timeline, type TimelineStats } from "../timeline.js";
import type { SendConfig } from "./config.js";
import type { EncodedRequest } from "./encode.js";
import { OtlpFileSink, type OtlpFileFormat } from "./file-sink.js";
import type { HttpSinkOptions, HttpSinkStats, OtlpHttpSink } from "./http-sink.js";
import { sizeOf, type ReadProgress } from "../source.js";
import { OtlpMapper, type OtlpMapStats, type PollMode } from "./mapper.js";
import { requestBuilder, type OtlpEncoding, type RequestBuilder } from "./requests.js";
import { DEFAULT_SPAN_LIMITS, type OtlpSpan, type SpanLimits } from "./spans.js";

export interface ExportProgress extends ReadProgress {
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
  /** Spans per request (default 2048). */
  batchSize?: number;
  /** Bytes per request at most (default 4 MiB; a single larger span goes alone). */
  maxRequestBytes?: number;
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
  /** Requests in the file, and the largest one's size. */
  fileRequests: number;
  largestRequestBytes: number;
  sent: HttpSinkStats | undefined;
}

export const DEFAULT_BATCH_SIZE = 2048;
export const DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export async function exportOtlp(tracePath: string, options: OtlpExportOptions): Promise<OtlpExportResult> {
  if (!options.file && !options.send) throw new Error("exportOtlp: give a file, a collector, or both");
  const limits = {
    maxSpans: Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE),
    maxBytes: Math.max(1024, options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES),
  };
  const trace = openTrace(tracePath, options.traceOptions);
  let output: OutputFile | undefined;
  let fileSink: OtlpFileSink | undefined;
  let httpSink: OtlpHttpSink | undefined;
  try {
    if (options.file) {
      output = new OutputFile(options.file.path);
      fileSink = new OtlpFileSink(output, options.file.format);
    }
    // The HTTP machinery (OpenTelemetry's exporter) is loaded only to send.
    if (options.send) httpSink = new (await import("./http-sink.js")).OtlpHttpSink(options.send, options.sendOptions);

    // One request builder per encoding needed (a file and a collector may want different ones);
    // requests wait in `pending` for the collector's window.
    const pending: EncodedRequest[] = [];
    let largest = 0;
    const builders: RequestBuilder[] = [];
    const fileEncoding: OtlpEncoding | undefined = options.file?.format;
    const sendEncoding: OtlpEncoding | undefined = options.send ? (options.send.protocol === "http/json" ? "json" : "protobuf") : undefined;
    // A request is written to the file at once, so its bytes need not outlive `emit` (the
    // builder fills one buffer again and again); one waiting for the collector is copied.
    for (const encoding of new Set([fileEncoding, sendEncoding])) {
      if (encoding === undefined) continue;
      builders.push(
        requestBuilder(
          encoding,
          limits,
          (request) => {
            largest = Math.max(largest, request.bytes.length);
            if (encoding === fileEncoding) fileSink!.write(request);
            if (encoding === sendEncoding) pending.push(encoding === "protobuf" ? { bytes: request.bytes.slice(), spans: request.spans } : request);
          },
          { transient: true },
        ),
      );
    }
    const add = builders.length === 1 ? builders[0]!.add.bind(builders[0]) : (span: OtlpSpan) => builders.forEach((b) => b.add(span));

    const mapper = new OtlpMapper(
      {
        header: trace.header,
        polls: options.polls ?? "spans",
        limits: options.limits ?? DEFAULT_SPAN_LIMITS,
        lints: options.lints ?? [],
        scope: { name: "taskscope", version: options.toolVersion },
        resourceOverrides: options.resourceOverrides ?? {},
      },
      add,
    );
    const timeline = new Timeline(mapper);
    const size = sizeOf(tracePath);
    const progress = (): void =>
      options.onProgress?.({ bytesRead: trace.readerStats.bytesRead, fileBytes: size, spans: mapper.stats.spans, spansSent: httpSink?.stats.spans ?? 0 });
    const send = async (): Promise<void> => {
      while (pending.length > 0) await httpSink!.write(pending.shift()!);
    };

    for (const { session, batch } of trace.batches()) {
      timeline.consume(batch, session);
      if (pending.length > 0) await send();
      await output?.turn(); // requests written behind free their buffers
      progress();
    }
    const summary = trace.summary();
    timeline.finish(summary);
    for (const b of builders) b.flush();
    await send();
    await httpSink?.close();
    await output?.settle();
    output?.commit();
    progress();
    return {
      summary,
      spans: mapper.stats.spans,
      map: mapper.stats,
      timeline: timeline.stats,
      fileBytes: output?.bytes,
      fileRequests: fileSink?.requests ?? 0,
      largestRequestBytes: largest,
      sent: httpSink?.stats,
    };
  } catch (error) {
    trace.close();
    output?.abort();
    await httpSink?.abort();
    throw error;
  }
}

export { sizeOf };
