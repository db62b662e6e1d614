// OTLP/HTTP to a collector through the official OTLPTraceExporter (JSON or protobuf). The
// exporter already retries what the OTLP specification calls retryable (429, 502, 503, 504 and
// network errors, honouring Retry-After) with exponential backoff inside its export timeout;
// other 5xx answers (a collector's 500 while it restarts, say) get a few more tries here. A few
// batches are in flight at once; the first failure stops the export.

import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPTraceExporter as JsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as ProtobufExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { redact, type SendConfig } from "./config.js";

/** The export could not be delivered; the message is safe to print (secrets removed). */
export class OtlpSendError extends Error {}

export interface HttpSinkOptions {
  /** Batches in flight at once (default 4). */
  concurrency?: number;
  /** Extra tries for 5xx answers the exporter does not retry (default 3), and the first delay. */
  serverErrorRetries?: number;
  serverErrorBackoffMs?: number;
}

export interface HttpSinkStats {
  /** Export calls that succeeded, and the spans in them. */
  batches: number;
  spans: number;
  /** Tries repeated here after a 5xx the exporter does not retry. */
  retries: number;
}

type Exporter = JsonExporter | ProtobufExporter;

export class OtlpHttpSink {
  readonly stats: HttpSinkStats = { batches: 0, spans: 0, retries: 0 };
  private readonly exporter: Exporter;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: OtlpSendError | undefined;
  private readonly concurrency: number;
  private readonly retries: number;
  private readonly backoffMs: number;

  constructor(
    private readonly config: SendConfig,
    options: HttpSinkOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.retries = options.serverErrorRetries ?? 3;
    this.backoffMs = options.serverErrorBackoffMs ?? 500;
    const settings = {
      url: config.url,
      headers: { ...config.headers },
      timeoutMillis: config.timeoutMillis,
      // Above our own window, so the exporter never refuses a batch for being one too many.
      concurrencyLimit: this.concurrency + 1,
    };
    this.exporter = config.protocol === "http/json" ? new JsonExporter(settings) : new ProtobufExporter(settings);
  }

  /** Starts sending a batch; waits while the window is full. Throws the first failure. */
  async write(spans: ReadableSpan[]): Promise<void> {
    if (spans.length === 0) return;
    while (this.inFlight.size >= this.concurrency && !this.failure) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const sending = this.send(spans).then(
      () => {
        this.stats.batches++;
        this.stats.spans += spans.length;
      },
      (error: unknown) => {
        this.failure ??= error instanceof OtlpSendError ? error : new OtlpSendError(this.safe(String(error)));
      },
    );
    const tracked = sending.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  /** Waits for every batch; throws the first failure. */
  async close(): Promise<void> {
    try {
      while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    } finally {
      await this.exporter.shutdown().catch(() => undefined);
    }
    if (this.failure) throw this.failure;
  }

  /** Stops without waiting for answers (after a failure elsewhere). */
  async abort(): Promise<void> {
    await this.exporter.shutdown().catch(() => undefined);
  }

  private async send(spans: ReadableSpan[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const result = await new Promise<ExportResult>((resolve) => this.exporter.export(spans, resolve));
      if (result.code === ExportResultCode.SUCCESS) return;
      const status = httpStatus(result.error);
      if (status !== undefined && status >= 500 && status !== 501 && status !== 505 && attempt < this.retries) {
        this.stats.retries++;
        await sleep(this.backoffMs * 2 ** attempt);
        continue;
      }
      throw new OtlpSendError(this.safe(this.describe(result.error)));
    }
  }

  private describe(error: unknown): string {
    const url = this.config.displayUrl;
    const e = (error ?? {}) as { message?: unknown; code?: unknown; data?: unknown };
    const message = typeof e.message === "string" ? e.message : String(error);
    const status = httpStatus(error);
    if (status !== undefined) {
      const body = typeof e.data === "string" ? oneLine(e.data).slice(0, 160) : "";
      return `${url} answered HTTP ${status}${message && message !== "undefined" ? ` ${message}` : ""}${body ? `: ${body}` : ""}`;
    }
    if (/retryable status/i.test(message)) {
      return `${url} kept answering "try again later" (HTTP 429, 502, 503 or 504) until the export timeout of ${this.config.timeoutMillis} ms`;
    }
    if (/timed out/i.test(message)) return `${url} did not answer within ${this.config.timeoutMillis} ms`;
    const code = typeof e.code === "string" ? e.code : "";
    if (/CERT|SSL|TLS/i.test(code) || /certificate/i.test(message)) {
      return `TLS to ${url} failed: ${oneLine(message)} (a private CA goes in OTEL_EXPORTER_OTLP_CERTIFICATE)`;
    }
    return `cannot reach ${url}: ${oneLine(message)}${code && !message.includes(code) ? ` (${code})` : ""}`;
  }

  private safe(text: string): string {
    return redact(text, this.config.secrets);
  }
}

/** The HTTP status of an OTLPExporterError, if the error is one. */
function httpStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "number" && code >= 100 && code <= 599 ? code : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
