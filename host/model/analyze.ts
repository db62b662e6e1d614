// The analysis entry point: a trace file (or a stream of batches) in, the model, the slow-request
// reports and the lints out. trace-report, trace-export and the live view all go through here,
// so they agree on what a trace says.
//
//   const { model, lints } = analyzeTrace("demo.trace.cbor");
//
// or, for batches that arrive over time (a live view):
//
//   const analyzer = new Analyzer();
//   analyzer.consume(batch, session);      // as often as batches come
//   analyzer.lints();                      // at any moment ("now" = the last event)
//   analyzer.finish(summary);              // at the end: closes open intervals

import { openTrace, type TraceSession, type TraceSummary, type TraceOptions } from "../tracefile/trace.js";
import type { EventBatch } from "../format/batch.js";
import { TraceModel, type ModelOptions } from "./trace-model.js";
import type { Lint } from "./lint.js";
import { findLints } from "./lints.js";
import { analyzeSlowRequests, type SlowKindReport } from "./slow-requests.js";

export interface AnalysisOptions extends ModelOptions {
  /** A chunk that does not decode: throw a TraceFileError (default) or skip it and count a loss. */
  badChunks?: TraceOptions["badChunks"];
}

export interface TraceAnalysis {
  path: string;
  summary: TraceSummary;
  model: TraceModel;
  /** Most important first. */
  lints: Lint[];
  slow: SlowKindReport[];
}

/** How far analyzeTrace has read: file bytes and events so far. */
export interface ReadProgress {
  bytesRead: number;
  events: number;
}

/** Reads a whole trace file through the model (streaming: memory does not grow with its
 *  length) and finds the lints. Throws TraceFileError for a file that is not a readable trace.
 *  `onProgress` is called after each batch (a progress line; it must be cheap). */
export function analyzeTrace(path: string, options: AnalysisOptions = {}, onProgress?: (progress: ReadProgress) => void): TraceAnalysis {
  const analyzer = new Analyzer(options);
  const trace = openTrace(path, options.badChunks ? { badChunks: options.badChunks } : {});
  let events = 0;
  const summary = trace.forEach((batch, session) => {
    analyzer.consume(batch, session);
    if (onProgress) {
      events += batch.length;
      onProgress({ bytesRead: trace.readerStats.bytesRead, events });
    }
  });
  const { lints, slow } = analyzer.finish(summary);
  return { path, summary, model: analyzer.model, lints, slow };
}

/** Feeds batches to a TraceModel, noting where chunks went missing between batches. */
export class Analyzer {
  readonly model: TraceModel;
  private readonly seen = new Map<number, { lastSeq: number | undefined; chunks: number; lastT: number }>();
  private summary: TraceSummary | undefined;

  constructor(options: ModelOptions = {}) {
    this.model = new TraceModel(options);
  }

  /** One decoded batch of `session` (a TraceSession from host/tracefile, whose chunk counters
   *  already include this batch). */
  consume(batch: EventBatch, session: TraceSession): void {
    this.noteGaps(batch, session);
    this.model.consume(batch, { index: session.index, name: (id) => session.names.get(id) });
  }

  /** Lints as of the last event consumed. */
  lints(summary: TraceSummary | undefined = this.summary): Lint[] {
    return findLints({ model: this.model, ...(summary ? { summary } : {}) });
  }

  /** Ends the analysis: closes open intervals, then finds the lints. */
  finish(summary?: TraceSummary): { lints: Lint[]; slow: SlowKindReport[] } {
    this.summary = summary;
    this.model.finish();
    const slow = analyzeSlowRequests(this.model, this.model.thresholds);
    const lints = findLints({ model: this.model, slow, ...(summary ? { summary } : {}) });
    return { lints, slow };
  }

  /** The reader counts chunks and keeps the last seq per session; a seq that moved further than
   *  the chunks decoded means chunks are missing somewhere between the previous batch and the
   *  end of this one. */
  private noteGaps(batch: EventBatch, session: TraceSession): void {
    if (batch.length === 0) return;
    const prev = this.seen.get(session.index);
    const firstT = batch.t[0]!;
    const lastT = batch.t[batch.length - 1]!;
    if (session.lastSeq !== undefined) {
      if (prev && prev.lastSeq !== undefined) {
        const expected = (prev.lastSeq + (session.chunks - prev.chunks)) >>> 0;
        const missing = (session.lastSeq - expected) >>> 0;
        if (missing > 0 && missing < 0x80000000) this.model.noteGap(session.index, missing, prev.lastT, lastT);
      } else if (!prev) {
        const firstSeq = (session.lastSeq - (session.chunks - 1)) >>> 0;
        if (firstSeq > 0 && firstSeq < 0x80000000) this.model.noteGap(session.index, firstSeq, firstT, firstT);
      }
    }
    this.seen.set(session.index, { lastSeq: session.lastSeq, chunks: session.chunks, lastT });
  }
}
