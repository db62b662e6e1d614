// OTLP while a pull records: the items the pull stores (host/pull/store-tap.ts) are read back as
// a file reader would (../live-trace.ts), through the same timeline and mapper as trace-export
// --otlp (export.ts), and each span leaves for the collector as soon as it ends, through a
// bounded queue (send-queue.ts). Ids come from the same scheme (../ids.ts) and the same file
// header, so a later `trace-export --otlp` of the trace file gives the same spans with the same
// ids. Lints need the whole trace: they come at the end (finish), on the spans still open.
//
// Memory: the live tasks and open flows of the timeline and mapper, what the analysis model
// keeps (bounded by what is alive, host/model/trace-model.ts), one decoded batch, the queue.

import type { Attributes } from "@opentelemetry/api";
import type { EventBatch } from "../../format/batch.js";
import type { Lint } from "../../model/lint.js";
import type { TraceHeader } from "../../tracefile/schema.js";
import type { TraceSession } from "../../tracefile/trace.js";
import { LiveTrace, type LiveTraceSink } from "../live-trace.js";
import { Timeline, type TimelineStats } from "../timeline.js";
import type { SendConfig } from "./config.js";
import { OtlpRequestSender } from "./http-sink.js";
import { OtlpMapper, type OtlpMapStats, type OtlpTask, type PollMode } from "./mapper.js";
import { SendQueue, type QueueEvent, type SendQueueStats } from "./send-queue.js";
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from "./spans.js";

export interface LiveOtlpOptions {
  /** taskscope's version, for the instrumentation scope. */
  toolVersion: string;
  send: SendConfig;
  polls?: PollMode;
  limits?: SpanLimits;
  resourceOverrides?: Attributes;
  /** Spans and bytes per request at most. */
  batchSize: number;
  maxRequestBytes: number;
  /** Spans and bytes waiting at most (beyond: dropped and counted). */
  queueSpans: number;
  queueBytes: number;
  /** A request that is not full leaves this long after its first span. */
  delayMs: number;
  /** First pause after a failed try (ms). */
  retryPauseMs?: number;
  onEvent?: (event: QueueEvent) => void;
}

export interface LiveOtlpResult {
  map: OtlpMapStats;
  timeline: TimelineStats;
  queue: SendQueueStats;
  /** Lints placed (each once). */
  lints: number;
  /** The live export broke (a bug): what it had sent still counts; the trace file is whole. */
  failure: string | undefined;
}

/** What the live export holds now, in records (not bytes): the figures that must stay flat over a
 *  long run. */
export interface LiveOtlpHeld {
  /** Tasks the timeline follows (live, or ended and not yet handed over). */
  tasks: number;
  /** Records the analysis model holds (host/model/trace-model.ts heldRecords). */
  modelRecords: number;
  /** Session and flow spans open. */
  openSpans: number;
  /** Spans and bytes in the queue. */
  queuedSpans: number;
  queuedBytes: number;
}

export class LiveOtlpExport implements LiveTraceSink {
  /** Give this to the pull (SerialPullOptions.store). */
  readonly store: LiveTrace;
  readonly queue: SendQueue;
  private mapper: OtlpMapper | undefined;
  private timeline: Timeline<OtlpTask> | undefined;
  private failure: unknown;
  private finished = false;

  constructor(private readonly options: LiveOtlpOptions) {
    this.store = new LiveTrace(this);
    const concurrency = 4;
    this.queue = new SendQueue(new OtlpRequestSender(options.send, concurrency, { serverErrorRetries: 0 }), {
      encoding: options.send.protocol === "http/json" ? "json" : "protobuf",
      limits: { maxSpans: Math.max(1, options.batchSize), maxBytes: Math.max(1024, options.maxRequestBytes) },
      maxSpans: Math.max(1, options.queueSpans),
      maxBytes: Math.max(1024, options.queueBytes),
      delayMs: options.delayMs,
      concurrency,
      ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
    });
  }

  header(header: TraceHeader): void {
    this.mapper = new OtlpMapper(
      {
        header,
        polls: this.options.polls ?? "spans",
        limits: this.options.limits ?? DEFAULT_SPAN_LIMITS,
        lints: [],
        scope: { name: "taskscope", version: this.options.toolVersion },
        resourceOverrides: this.options.resourceOverrides ?? {},
      },
      (span) => this.queue.add(span),
    );
    this.timeline = new Timeline(this.mapper);
  }

  batch(batch: EventBatch, session: TraceSession): void {
    this.timeline!.consume(batch, session);
  }

  failed(error: unknown): void {
    this.failure = error;
  }

  get held(): LiveOtlpHeld {
    return {
      tasks: this.timeline?.heldTasks ?? 0,
      modelRecords: this.timeline?.model.heldRecords ?? 0,
      openSpans: this.mapper?.openSpans ?? 0,
      queuedSpans: this.queue.queued,
      queuedBytes: this.queue.queuedBytes,
    };
  }

  /** Spans made so far. */
  get spans(): number {
    return this.mapper?.stats.spans ?? 0;
  }

  /**
   * The pull is over and its file complete: tasks still alive end their spans ("alive at end of
   * trace"), sessions and flows close, `lints` go on the spans still open (the session span takes
   * those whose tasks' spans already left), then the queue is sent, waiting at most until
   * `deadline` (Date.now() ms) or `signal`.
   */
  async finish(lints: readonly Lint[], deadline: number, signal?: AbortSignal): Promise<LiveOtlpResult> {
    if (!this.finished && this.mapper && this.timeline && this.failure === undefined) {
      this.finished = true;
      try {
        this.mapper.setLints(lints);
        this.timeline.finish(this.store.summary());
      } catch (error) {
        this.failure = error;
      }
    }
    await this.queue.close(deadline, signal);
    return {
      map: this.mapper?.stats ?? { spans: 0, traces: 0, droppedEvents: 0, droppedLinks: 0, lints: 0, splitPolls: 0 },
      timeline: this.timeline?.stats ?? { sessions: 0, tasks: 0, polls: 0, wakes: 0, pollEndsWithoutBegin: 0, staleWakes: 0 },
      queue: this.queue.stats,
      lints: this.mapper?.stats.lints ?? 0,
      failure: this.failure === undefined ? undefined : this.failure instanceof Error ? this.failure.message : String(this.failure),
    };
  }

  /** Stops sending at once (the pull failed before anything was recorded). */
  abort(): void {
    this.queue.stop();
  }
}
