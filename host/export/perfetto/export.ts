// trace file -> Chrome trace-event JSON for Perfetto UI, streaming: one pass over the decoded
// events, each trace event written as soon as it is known. Memory holds the live tasks and one
// decoded batch.

import { basename } from "node:path";
import type { Lint } from "../../model/lint.js";
import { openTrace, type TraceOptions, type TraceSummary } from "../../tracefile/trace.js";
import { sizeOf, type ExportProgress } from "../otlp/export.js";
import { OutputFile } from "../output.js";
import { Timeline, type TimelineStats } from "../timeline.js";
import { PerfettoMapper, type PerfettoStats } from "./mapper.js";
import { TraceEventWriter } from "./writer.js";

export interface PerfettoExportOptions {
  /** Output path ("-": standard output). */
  out: string;
  lints?: readonly Lint[];
  onProgress?: (progress: Omit<ExportProgress, "spans" | "spansSent"> & { events: number }) => void;
  traceOptions?: TraceOptions;
}

export interface PerfettoExportResult {
  summary: TraceSummary;
  /** Trace events written. */
  events: number;
  bytes: number;
  perfetto: PerfettoStats;
  timeline: TimelineStats;
}

export function exportPerfetto(tracePath: string, options: PerfettoExportOptions): PerfettoExportResult {
  const trace = openTrace(tracePath, options.traceOptions);
  const size = sizeOf(tracePath);
  let output: OutputFile | undefined;
  try {
    output = new OutputFile(options.out);
    const writer = new TraceEventWriter(output);
    const mapper = new PerfettoMapper(writer, options.lints ?? []);
    const timeline = new Timeline(mapper);
    for (const { session, batch } of trace.batches()) {
      timeline.consume(batch, session);
      options.onProgress?.({ bytesRead: trace.readerStats.bytesRead, fileBytes: size, events: writer.events });
    }
    const summary = trace.summary();
    timeline.finish(summary);
    writer.close({
      taskscope: {
        format: "taskscope.perfetto/1",
        trace_file: basename(tracePath),
        created_unix_ns: trace.header.created.toString(),
        tool: trace.header.tool,
        source: trace.header.source,
        // ts 0 is this Unix time; ts are microseconds after it.
        time_base_unix_ns: mapper.timeBaseUnixNs?.toString() ?? null,
        sessions: summary.sessions.map((s) => ({
          index: s.index,
          pid: mapper.sessionPids().find((p) => p.index === s.index)?.pid ?? null,
          device: s.info.device,
          firmware: s.info.firmware,
          device_session: s.info.deviceSession,
          tick_hz: s.info.tickHz,
          events: s.events,
        })),
        wake_arrows: mapper.stats.arrows,
        wake_arrows_not_drawn: mapper.stats.droppedArrows,
        lints: mapper.stats.lints,
        truncated_at_byte: summary.truncated?.offset ?? null,
      },
    });
    output.commit();
    return { summary, events: writer.events, bytes: output.bytes, perfetto: mapper.stats, timeline: timeline.stats };
  } catch (error) {
    trace.close();
    output?.abort();
    throw error;
  }
}
