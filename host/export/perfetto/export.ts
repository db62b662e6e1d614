// trace file -> Perfetto, streaming: one pass over the decoded events, each event written as soon
// as it is known. Memory holds the live tasks, their lanes and one decoded batch.
//
// Native protobuf (TrackEvent, the default) or the legacy Chrome trace-event JSON. The protobuf
// export writes its lints last (Perfetto sorts by time on load), so it takes them as a promise
// (trace-export finds them in a worker thread meanwhile, host/export/lint-worker.ts), or finds
// them in its own pass over the file (`findLints`: the timeline's model then runs the full
// analysis instead of the light mode). The JSON export places lints in time order as it goes, so
// it needs them first.

import { basename } from "node:path";
import type { Lint } from "../../model/lint.js";
import { openTrace, type TraceOptions, type TraceSummary } from "../../tracefile/trace.js";
import { sizeOf, type ReadProgress } from "../source.js";
import { OutputFile } from "../output.js";
import { Timeline, type TimelineStats } from "../timeline.js";
import { PerfettoMapper } from "./mapper.js";
import { PacketWriter } from "./packets.js";
import { PerfettoTrackMapper } from "./track-mapper.js";
import { TraceEventWriter } from "./writer.js";

export type PerfettoFormat = "protobuf" | "json";

export interface PerfettoExportOptions {
  /** Output path ("-": standard output). */
  out: string;
  /** "protobuf" (default): Perfetto's TracePacket format; "json": Chrome trace-event JSON. */
  format?: PerfettoFormat;
  /** Lints to draw; with protobuf they may still be being found. */
  lints?: readonly Lint[] | Promise<readonly Lint[]>;
  /** Protobuf only: draw the insight engine's lints, found in this export's own pass over the
   *  file (`lints` is then left out). */
  findLints?: boolean;
  onProgress?: (progress: ReadProgress & { events: number }) => void;
  traceOptions?: TraceOptions;
}

export interface PerfettoStats {
  /** Wake arrows drawn, and those not drawn (a task woken more than 64 times between polls). */
  arrows: number;
  droppedArrows: number;
  lints: number;
  /** Protobuf: task lanes made, and the most held in memory at once. */
  lanes?: number;
  lanesHeld?: number;
}

export interface PerfettoExportResult {
  summary: TraceSummary;
  format: PerfettoFormat;
  /** Trace events (JSON) or packets (protobuf) written. */
  events: number;
  bytes: number;
  perfetto: PerfettoStats;
  timeline: TimelineStats;
}

export async function exportPerfetto(tracePath: string, options: PerfettoExportOptions): Promise<PerfettoExportResult> {
  const format = options.format ?? "protobuf";
  if (options.findLints && format !== "protobuf") throw new Error("exportPerfetto: findLints needs the protobuf format (JSON places lints as it goes)");
  const lints = Promise.resolve(options.lints ?? []);
  lints.catch(() => undefined); // awaited below; a failure is reported there, not as unhandled
  const trace = openTrace(tracePath, options.traceOptions);
  const size = sizeOf(tracePath);
  let output: OutputFile | undefined;
  try {
    output = new OutputFile(options.out);
    const progress = (events: number) => options.onProgress?.({ bytesRead: trace.readerStats.bytesRead, fileBytes: size, events });

    if (format === "protobuf") {
      const packets = new PacketWriter(output);
      const mapper = new PerfettoTrackMapper(packets);
      const timeline = new Timeline(mapper, { findLints: options.findLints === true });
      for (const { session, batch } of trace.batches()) {
        timeline.consume(batch, session);
        progress(packets.packets);
      }
      const summary = trace.summary();
      const found = timeline.finish(summary, { lints: options.findLints === true });
      mapper.lints(options.findLints ? found : await lints);
      packets.flush();
      output.commit();
      return { summary, format, events: packets.packets, bytes: output.bytes, perfetto: mapper.stats, timeline: timeline.stats };
    }

    const writer = new TraceEventWriter(output);
    const mapper = new PerfettoMapper(writer, await lints);
    const timeline = new Timeline(mapper);
    for (const { session, batch } of trace.batches()) {
      timeline.consume(batch, session);
      progress(writer.events);
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
    return { summary, format, events: writer.events, bytes: output.bytes, perfetto: mapper.stats, timeline: timeline.stats };
  } catch (error) {
    trace.close();
    output?.abort();
    throw error;
  }
}
