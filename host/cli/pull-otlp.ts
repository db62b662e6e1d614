// trace-pull --stream --otlp: the flags and the settings they make with the OTEL_* environment
// (as trace-export reads them), the notes a user sees while spans go to the collector, and the
// end: the lints found over the finished file, the last spans, the queue sent within --timeout.
// trace-pull.ts calls in where it parses its flags, opens the pull, and ends it.

import { DEFAULT_BATCH_SIZE, DEFAULT_MAX_REQUEST_BYTES } from "../export/otlp/export.js";
import { batchQueueFromEnv, resolveSendConfig, resourceOverridesFromEnv, spanLimitsFromEnv, type Env } from "../export/otlp/config.js";
import { redactOutput } from "../export/otlp/redact.js";
import type { LiveOtlpExport, LiveOtlpOptions, LiveOtlpResult } from "../export/otlp/live.js";
import type { QueueEvent } from "../export/otlp/send-queue.js";
import type { lintsInWorker } from "../export/lint-worker.js";
import type { Lint } from "../model/lint.js";
import { formatBytes, formatCount } from "../report/units.js";
import { parseWholeNumber } from "./args.js";
import { OTLP_SEND_OPTIONS, byteSize, pollMode, settings } from "./otlp-flags.js";
import { UsageError } from "./run-cli.js";
import { handleSignals } from "./signals.js";
import { MessageChannel, type MessagePort } from "node:worker_threads";
import { relayStore } from "../pull/store-relay.js";

/** The flags, for trace-pull's option table. */
export const OTLP_PULL_OPTIONS = {
  otlp: { type: "boolean" },
  ...OTLP_SEND_OPTIONS,
  "queue-size": { type: "string" },
} as const;

export const OTLP_PULL_HELP = `OTLP while recording (--wasi, or --port with --stream, --live or --duration):
  --otlp                send each span to an OpenTelemetry collector over OTLP/HTTP as soon as it
                        ends, while the trace file is written (the same spans and ids as
                        trace-export --otlp of the file gives); lints go out at the end; --json
                        adds an "otlp" object: sent, dropped (queueFull, refused, unsent), retried
  --endpoint URL        the collector (default: OTEL_EXPORTER_OTLP_ENDPOINT); a URL with no path
                        gets /v1/traces
  --header KEY=VALUE    a request header, e.g. an API key (repeat for more); never printed
  --protocol PROTOCOL   http/protobuf (default) or http/json
  --timeout MS          time for one request, retries included, and for the last spans at the
                        end (default 10000)
  --polls spans|events  polls as child spans (default) or as events on the task's span
  --batch-size N        spans per request at most (default ${DEFAULT_BATCH_SIZE})
  --max-request-bytes N bytes per request at most (default ${DEFAULT_MAX_REQUEST_BYTES / 2 ** 20}MiB)
  --queue-size N        spans waiting for the collector at most (default ${"65,536"}; beyond, spans
                        are dropped and counted); OTEL_BSP_MAX_QUEUE_SIZE sets it too, and
                        OTEL_BSP_SCHEDULE_DELAY the ms a request that is not full waits (1000)
  --no-lints            skip the analysis at the end`;

const DEFAULT_QUEUE_SPANS = 65_536;
const DEFAULT_QUEUE_BYTES = 64 * 2 ** 20;
/** A request that is not full leaves this long after its first span (OTEL_BSP_SCHEDULE_DELAY). */
const DEFAULT_DELAY_MS = 1000;

export interface OtlpPullFlags {
  otlp?: boolean;
  endpoint?: string;
  header?: string[];
  protocol?: string;
  timeout?: string;
  polls?: string;
  "batch-size"?: string;
  "max-request-bytes"?: string;
  "queue-size"?: string;
  "no-lints"?: boolean;
}

export interface LiveOtlpPlan {
  options: Omit<LiveOtlpOptions, "onEvent" | "toolVersion">;
  lints: boolean;
}

const FLAG_NAMES = Object.keys(OTLP_PULL_OPTIONS).filter((f) => f !== "otlp") as (keyof OtlpPullFlags)[];

/** The live export's settings, or undefined without --otlp (UsageError when they do not fit). */
export function planLiveOtlp(flags: OtlpPullFlags, env: Env, where: { streaming: boolean }): LiveOtlpPlan | undefined {
  if (!flags.otlp) {
    const stray = FLAG_NAMES.find((f) => flags[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} goes with --otlp`);
    return undefined;
  }
  if (!where.streaming) throw new UsageError("--otlp sends spans while a stream records: add --stream (or --duration S); trace-export --otlp sends a finished trace");
  if (flags.timeout !== undefined) parseWholeNumber(flags.timeout, "--timeout", 1);
  const send = settings(() => resolveSendConfig({ endpoint: flags.endpoint, headers: flags.header, protocol: flags.protocol, timeoutMs: flags.timeout }, env));
  if (!send) throw new UsageError("--otlp needs a collector: --endpoint URL, or OTEL_EXPORTER_OTLP_ENDPOINT");
  const queue = settings(() => batchQueueFromEnv(env));
  return {
    options: {
      send,
      polls: pollMode(flags.polls),
      limits: settings(() => spanLimitsFromEnv(env)),
      resourceOverrides: settings(() => resourceOverridesFromEnv(env)),
      batchSize: flags["batch-size"] === undefined ? DEFAULT_BATCH_SIZE : parseWholeNumber(flags["batch-size"], "--batch-size", 1),
      maxRequestBytes: flags["max-request-bytes"] === undefined ? DEFAULT_MAX_REQUEST_BYTES : byteSize(flags["max-request-bytes"], "--max-request-bytes"),
      queueSpans: flags["queue-size"] !== undefined ? parseWholeNumber(flags["queue-size"], "--queue-size", 1) : (queue.queueSize ?? DEFAULT_QUEUE_SPANS),
      queueBytes: DEFAULT_QUEUE_BYTES,
      delayMs: queue.delayMs ?? DEFAULT_DELAY_MS,
    },
    lints: !flags["no-lints"],
  };
}

/** How the end went: the export's figures, and the signal that cut it short, if one did. */
export interface LiveOtlpEnd extends LiveOtlpResult {
  stoppedBy: NodeJS.Signals | undefined;
  lintError: string | undefined;
}

/** A live export from start to end, with what it tells the user on the way (`say`: one line on
 *  standard error). Everything written to standard error from then on hides the secrets. */
export class LiveOtlpRun {
  private constructor(
    private readonly plan: LiveOtlpPlan,
    readonly live: LiveOtlpExport,
  ) {}

  /** OpenTelemetry's exporter is loaded here, only for a pull that sends. */
  static async start(plan: LiveOtlpPlan, toolVersion: string, say: (text: string) => void): Promise<LiveOtlpRun> {
    const secrets = plan.options.send.secrets;
    redactOutput([process.stderr], () => secrets);
    const { LiveOtlpExport } = await import("../export/otlp/live.js");
    const url = plan.options.send.displayUrl;
    return new LiveOtlpRun(plan, new LiveOtlpExport({ ...plan.options, toolVersion, onEvent: (e) => say(eventText(e, url, plan.options.queueSpans)) }));
  }

  /**
   * For a pull in a worker thread (--wasi): the port to give the job (moved with its input),
   * whose stored items reach the live export here; `stored` settles once the worker's last item
   * has been taken in (or the worker went away).
   */
  workerPort(): { port: MessagePort; stored: Promise<void> } {
    const { port1, port2 } = new MessageChannel();
    return { port: port2, stored: relayStore(port1, this.live.store) };
  }

  /** For the progress line: "1,234 spans sent" (and what waits). */
  progressText(): string {
    const q = this.live.queue;
    const parts = [`${formatCount(q.stats.sent)} spans sent`];
    if (q.queued > 0) parts.push(`${formatCount(q.queued)} queued`);
    const dropped = q.stats.droppedFull + q.stats.refused;
    if (dropped > 0) parts.push(`${formatCount(dropped)} dropped`);
    return parts.join(", ");
  }

  /**
   * The pull is over and `file` complete (undefined: a pipe or device, not to be read back, so no
   * lints): finds the lints over it (in a worker, so the queue keeps
   * sending meanwhile), sends the last spans and waits for the collector at most --timeout.
   * Ctrl-C or SIGTERM stops waiting at once (what is left is counted unsent).
   */
  async finish(file: string | undefined, say: ((text: string) => void) | undefined): Promise<LiveOtlpEnd> {
    const abort = new AbortController();
    let stoppedBy: NodeJS.Signals | undefined;
    let worker: ReturnType<typeof lintsInWorker> | undefined;
    const stopHandling = handleSignals((signal) => {
      stoppedBy ??= signal;
      worker?.stop();
      abort.abort();
    });
    let lints: Lint[] = [];
    let lintError: string | undefined;
    try {
      if (this.plan.lints && this.live.spans > 0 && file === undefined) {
        lintError = "the trace went to a pipe or device, not to a file to read back";
      } else if (this.plan.lints && this.live.spans > 0 && file !== undefined) {
        say?.("finding lints over the trace, then sending the last spans (Ctrl-C to stop now)");
        const start = (await import("../export/lint-worker.js")).lintsInWorker;
        if (!abort.signal.aborted) {
          worker = start(file);
          try {
            lints = await worker.lints;
          } catch (e) {
            if (!abort.signal.aborted) lintError = `the analysis failed (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`;
          }
        }
      }
      const deadline = Date.now() + this.plan.options.send.timeoutMillis;
      const result = await this.live.finish(lints, deadline, abort.signal);
      return { ...result, stoppedBy, lintError };
    } finally {
      stopHandling();
    }
  }

  /** Stops at once (the pull failed before anything was recorded). */
  abort(): void {
    this.live.abort();
  }

  /** The summary line: where the spans went, and every one that did not. */
  summaryLine(r: LiveOtlpEnd): string {
    const send = this.plan.options.send;
    const q = r.queue;
    const parts = [
      `OTLP: sent ${formatCount(q.sent)} of ${formatCount(r.map.spans)} spans in ${formatCount(q.requests)} requests to ${send.displayUrl} (${send.protocol}), ${plural(r.lints, "lint")}`,
    ];
    const dropped = q.droppedFull + q.refused + q.unsent;
    if (dropped === 0) parts.push("none dropped");
    else {
      const why = [];
      if (q.droppedFull > 0) why.push(`${formatCount(q.droppedFull)} while the queue was full (${formatCount(this.plan.options.queueSpans)} spans, ${formatBytes(this.plan.options.queueBytes)})`);
      if (q.refused > 0) why.push(`${formatCount(q.refused)} refused by the collector`);
      if (q.unsent > 0) why.push(`${formatCount(q.unsent)} not delivered when the pull ended`);
      parts.push(`${formatCount(dropped)} dropped: ${why.join(", ")}; trace-export --otlp of the trace file sends them all, with the same ids`);
    }
    if (q.retried > 0) parts.push(`${plural(q.retried, "request")} tried again`);
    if (r.lintError) parts.push(`no lints: ${r.lintError}`);
    if (r.failure) parts.push(`the live export stopped early (${r.failure}); the trace file is complete`);
    return parts.join("; ");
  }

  /** The "otlp" object of trace-pull's --json summary. */
  json(r: LiveOtlpEnd): Record<string, unknown> {
    const send = this.plan.options.send;
    const q = r.queue;
    return {
      url: send.displayUrl,
      protocol: send.protocol,
      spans: r.map.spans,
      traces: r.map.traces,
      lints: r.lints,
      sent: q.sent,
      requests: q.requests,
      retried: q.retried,
      dropped: { queueFull: q.droppedFull, refused: q.refused, unsent: q.unsent },
      queue: { maxSpans: this.plan.options.queueSpans, maxBytes: this.plan.options.queueBytes, peakSpans: q.peakSpans, peakBytes: q.peakBytes },
      droppedSpanEvents: r.map.droppedEvents,
      droppedLinks: r.map.droppedLinks,
      lintError: r.lintError ?? null,
      failure: r.failure ?? null,
    };
  }
}

function eventText(e: QueueEvent, url: string, queueSpans: number): string {
  switch (e.kind) {
    case "failing":
      return `OTLP: ${e.reason}; keeping spans queued (up to ${formatCount(queueSpans)}) and trying again`;
    case "full":
      return `OTLP: the queue is full (${formatCount(e.queued)} spans wait for ${url}): dropping new spans, counted, until it takes them again`;
    case "refused":
      return `OTLP: ${e.reason}: ${plural(e.spans, "span")} dropped (refused requests are not sent again)`;
    case "recovered":
      return `OTLP: ${url} takes spans again${e.droppedMeanwhile > 0 ? ` (${formatCount(e.droppedMeanwhile)} dropped meanwhile)` : ""}`;
  }
}

function plural(n: number, what: string): string {
  return `${formatCount(n)} ${what}${n === 1 ? "" : "s"}`;
}
