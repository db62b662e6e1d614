// Spans of a live export on their way to a collector: gathered into requests of bounded size
// (requests.ts), sent through OpenTelemetry's exporter (http-sink.ts) a few at a time, with a
// bounded number waiting. A file export stops at the first failure; a live pull must go on
// recording whatever the collector does, so here:
//   - a partial request leaves `delayMs` after its first span (the SDK's BatchSpanProcessor
//     schedule), a full one at once;
//   - a request that could not be delivered (the collector down, 5xx, no answer in time, after
//     the exporter's own retries) goes back to the head of the queue and is tried again after a
//     pause that grows as the exporter's backoff does (1 s, x1.5, at most 5 s), one request at a
//     time until one goes through;
//   - a request the collector refuses (HTTP 4xx) is dropped and counted: it would be refused again;
//   - a span that comes while the queue is full (`maxSpans` spans or `maxBytes` bytes waiting or
//     on their way) is dropped and counted, as the BatchSpanProcessor drops them;
//   - at the end, whatever has not gone through when the time is up is counted as unsent.
// So every span is counted once: sent (the collector said yes), or dropped for one of those
// three reasons. Nothing is sent again once the collector has accepted it.

import type { OtlpSendError } from "./config.js";
import type { OtlpRequestSender } from "./http-sink.js";
import { requestBuilder, type EncodedRequest, type OtlpEncoding, type RequestBuilder, type RequestLimits } from "./requests.js";
import type { OtlpSpan } from "./spans.js";

export interface SendQueueOptions {
  encoding: OtlpEncoding;
  limits: RequestLimits;
  /** Spans waiting or on their way at most (those being gathered into a request included). */
  maxSpans: number;
  /** Encoded bytes waiting or on their way at most. */
  maxBytes: number;
  /** A request that is not full leaves this long after its first span. */
  delayMs: number;
  /** Requests on their way at once (default 4). */
  concurrency?: number;
  /** First pause after a failed try (default 1000 ms; then x1.5, at most 5 s). */
  retryPauseMs?: number;
  onEvent?: (event: QueueEvent) => void;
}

/** What a user should hear about, once each time it starts. */
export type QueueEvent =
  | { kind: "failing"; reason: string; queued: number }
  | { kind: "full"; queued: number }
  | { kind: "refused"; reason: string; spans: number }
  | { kind: "recovered"; droppedMeanwhile: number };

export interface SendQueueStats {
  /** Spans given to the queue. */
  spans: number;
  /** Spans and requests the collector accepted. */
  sent: number;
  requests: number;
  /** Requests tried again after a try that failed. */
  retried: number;
  /** Spans dropped: the queue was full, the collector refused them, time ran out at the end. */
  droppedFull: number;
  refused: number;
  unsent: number;
  /** The most spans and bytes ever waiting or on their way at once. */
  peakSpans: number;
  peakBytes: number;
}

const MAX_PAUSE_MS = 5000;

export class SendQueue {
  readonly stats: SendQueueStats = { spans: 0, sent: 0, requests: 0, retried: 0, droppedFull: 0, refused: 0, unsent: 0, peakSpans: 0, peakBytes: 0 };
  private readonly builder: RequestBuilder;
  private readonly waiting: EncodedRequest[] = [];
  private readonly inFlight = new Set<EncodedRequest>();
  /** Spans in the request being gathered; spans and bytes waiting or on their way. */
  private gathering = 0;
  private queuedSpans = 0;
  private bytes = 0;
  private readonly concurrency: number;
  private readonly firstPauseMs: number;
  private pauseMs: number;
  private delayTimer: NodeJS.Timeout | undefined;
  private pauseTimer: NodeJS.Timeout | undefined;
  /** Since the last try that failed, until one goes through. */
  private failing = false;
  /** Since the first span dropped for want of room, until a request goes through. */
  private full = false;
  /** Spans dropped since the trouble began (failing or full). */
  private droppedInTrouble = 0;
  private readonly refusals = new Set<string>();
  /** Set by close() when the queue has drained or given up. */
  private settle: (() => void) | undefined;
  private stopped = false;

  constructor(
    private readonly sender: OtlpRequestSender,
    private readonly options: SendQueueOptions,
  ) {
    this.builder = requestBuilder(options.encoding, options.limits, (request) => this.enqueue(request));
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.firstPauseMs = options.retryPauseMs ?? 1000;
    this.pauseMs = this.firstPauseMs;
  }

  /** Spans waiting or on their way (those being gathered included). */
  get queued(): number {
    return this.gathering + this.queuedSpans;
  }

  /** Bytes of the requests waiting or on their way. */
  get queuedBytes(): number {
    return this.bytes;
  }

  add(span: OtlpSpan): void {
    this.stats.spans++;
    if (this.stopped) {
      this.stats.unsent++;
      return;
    }
    if (this.queued >= this.options.maxSpans || this.bytes >= this.options.maxBytes) {
      this.drop();
      return;
    }
    this.gathering++;
    this.builder.add(span);
    this.stats.peakSpans = Math.max(this.stats.peakSpans, this.queued);
    if (this.gathering > 0 && !this.delayTimer) {
      this.delayTimer = setTimeout(() => this.flushGathered(), this.options.delayMs);
      this.delayTimer.unref();
    }
  }

  /**
   * Sends what is left and waits for the collector's answers, at most until `deadline` (ms, as
   * Date.now()) or until `signal` aborts; what has not gone through by then is counted unsent.
   */
  async close(deadline: number, signal?: AbortSignal): Promise<void> {
    this.flushGathered();
    if (this.waiting.length > 0 || this.inFlight.size > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        const onAbort = () => resolve();
        signal?.addEventListener("abort", onAbort, { once: true });
        if (signal?.aborted) resolve();
        this.settle = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        this.pump();
      });
    }
    this.stop();
    const unsent = this.queuedSpans;
    this.stats.unsent += unsent;
    this.queuedSpans = 0;
    this.bytes = 0;
    this.waiting.length = 0;
    // With answers still due, the exporter's shutdown would wait for them: leave them behind.
    if (this.inFlight.size === 0) await this.sender.shutdown();
    this.inFlight.clear();
  }

  /** Stops at once: nothing more is sent, and nothing more is counted. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.delayTimer);
    clearTimeout(this.pauseTimer);
    this.delayTimer = this.pauseTimer = undefined;
  }

  private flushGathered(): void {
    clearTimeout(this.delayTimer);
    this.delayTimer = undefined;
    this.builder.flush();
  }

  private enqueue(request: EncodedRequest): void {
    this.gathering -= request.spans;
    this.queuedSpans += request.spans;
    this.bytes += request.bytes.length;
    this.stats.peakBytes = Math.max(this.stats.peakBytes, this.bytes);
    this.waiting.push(request);
    this.pump();
  }

  private pump(): void {
    const window = this.failing ? 1 : this.concurrency;
    while (!this.stopped && !this.pauseTimer && this.inFlight.size < window && this.waiting.length > 0) {
      const request = this.waiting.shift()!;
      this.inFlight.add(request);
      this.sender.send(request).then(
        () => this.answered(request, undefined),
        (error: unknown) => this.answered(request, error as OtlpSendError),
      );
    }
    if (this.settle && this.waiting.length === 0 && this.inFlight.size === 0) this.settle();
  }

  private answered(request: EncodedRequest, error: OtlpSendError | undefined): void {
    if (this.stopped || !this.inFlight.delete(request)) return; // given up on already
    if (!error) {
      this.forget(request);
      this.stats.sent += request.spans;
      this.stats.requests++;
      if (this.failing || this.full) {
        this.options.onEvent?.({ kind: "recovered", droppedMeanwhile: this.droppedInTrouble });
        this.failing = this.full = false;
        this.droppedInTrouble = 0;
        this.pauseMs = this.firstPauseMs;
      }
    } else if (error.refused === true) {
      this.forget(request);
      this.stats.refused += request.spans;
      if (!this.refusals.has(error.message)) {
        this.refusals.add(error.message);
        this.options.onEvent?.({ kind: "refused", reason: error.message, spans: request.spans });
      }
    } else {
      // Not delivered: first in line again, after a pause.
      this.waiting.unshift(request);
      this.stats.retried++;
      if (!this.failing) {
        this.failing = true;
        this.options.onEvent?.({ kind: "failing", reason: error instanceof Error ? error.message : String(error), queued: this.queued });
      }
      if (!this.pauseTimer) {
        this.pauseTimer = setTimeout(() => {
          this.pauseTimer = undefined;
          this.pump();
        }, this.pauseMs);
        this.pauseTimer.unref();
        this.pauseMs = Math.min(MAX_PAUSE_MS, this.pauseMs * 1.5);
      }
    }
    this.pump();
  }

  private forget(request: EncodedRequest): void {
    this.queuedSpans -= request.spans;
    this.bytes -= request.bytes.length;
  }

  private drop(): void {
    this.stats.droppedFull++;
    this.droppedInTrouble++;
    if (!this.full) {
      this.full = true;
      this.options.onEvent?.({ kind: "full", queued: this.queued });
    }
  }
}
