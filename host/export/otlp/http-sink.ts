// OTLP/HTTP to a collector through OpenTelemetry's own exporter machinery: the OTLPTraceExporter
// of @opentelemetry/exporter-trace-otlp-proto / -http is OTLPExporterBase over the HTTP export
// delegate with a serializer; this is the same construction with the requests already encoded
// (requests.ts: bounded in size, so the collector accepts each). The delegate already retries
// what the OTLP specification calls retryable (429, 502, 503, 504 and network errors, honouring
// Retry-After) with exponential backoff inside its export timeout, and reads the standard
// OTEL_EXPORTER_OTLP_* variables (headers, compression, TLS files); other 5xx answers (a
// collector's 500 while it restarts, say) get a few more tries here. A few requests are in
// flight at once; the first failure stops the export.

import { ExportResultCode, type ExportResult } from "@opentelemetry/core";
import { OTLPExporterBase } from "@opentelemetry/otlp-exporter-base";
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from "@opentelemetry/otlp-exporter-base/node-http";
import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { OtlpSendError, redact, type SendConfig } from "./config.js";
import type { EncodedRequest } from "./encode.js";

export { OtlpSendError };

export interface HttpSinkOptions {
  /** Batches in flight at once (default 4). */
  concurrency?: number;
  /** Extra tries for 5xx answers the exporter does not retry (default 3), and the first delay. */
  serverErrorRetries?: number;
  serverErrorBackoffMs?: number;
}

export interface HttpSinkStats {
  /** Requests that succeeded, the spans in them, and the largest one's size. */
  batches: number;
  spans: number;
  largestRequestBytes: number;
  /** Tries repeated here after a 5xx the exporter does not retry. */
  retries: number;
}

/** What OTLPTraceExporter's constructors pass for span exporters over HTTP. */
const COMPONENT_TYPE = "otlp_http_span_exporter";

/** An OTLP trace exporter whose requests arrive encoded: the serializer passes them through. */
function exporterFor(config: SendConfig, concurrencyLimit: number): OTLPExporterBase<EncodedRequest> {
  const json = config.protocol === "http/json";
  const settings = {
    url: config.url,
    headers: { ...config.headers },
    timeoutMillis: config.timeoutMillis,
    concurrencyLimit,
  };
  const serializer = {
    serializeRequest: (request: EncodedRequest) => request.bytes,
    deserializeResponse: (json ? JsonTraceSerializer : ProtobufTraceSerializer).deserializeResponse,
  };
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(settings, "TRACES", "v1/traces", { "Content-Type": json ? "application/json" : "application/x-protobuf" }),
    serializer,
    COMPONENT_TYPE,
    { name: "span", countItems: (request: EncodedRequest) => request.spans },
    undefined,
  );
  return new OTLPExporterBase(delegate);
}

export class OtlpHttpSink {
  readonly stats: HttpSinkStats = { batches: 0, spans: 0, largestRequestBytes: 0, retries: 0 };
  private readonly exporter: OTLPExporterBase<EncodedRequest>;
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
    // Above our own window, so the exporter never refuses a request for being one too many.
    this.exporter = exporterFor(config, this.concurrency + 1);
  }

  /** Starts sending a request; waits while the window is full. Throws the first failure. */
  async write(request: EncodedRequest): Promise<void> {
    while (this.inFlight.size >= this.concurrency && !this.failure) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const sending = this.send(request).then(
      () => {
        this.stats.batches++;
        this.stats.spans += request.spans;
        this.stats.largestRequestBytes = Math.max(this.stats.largestRequestBytes, request.bytes.length);
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

  private async send(request: EncodedRequest): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const result = await new Promise<ExportResult>((resolve) => this.exporter.export(request, resolve));
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
