// Spans into OTLP requests (ExportTraceServiceRequest) of bounded size, so a collector accepts
// every one (collectors cap a request at a few MiB): protobuf written directly (encode.ts),
// OTLP/JSON by OpenTelemetry's JsonTraceSerializer. Each request holds at most `maxSpans` spans
// and `maxBytes` bytes; a single span larger than that goes alone.

import { ProtobufRequests, type EncodedRequest } from "./encode.js";
import { readableSpan } from "./readable.js";
import { retainSpan, type OtlpSpan } from "./spans.js";
import { otel } from "./lazy.js";

export type OtlpEncoding = "protobuf" | "json";

export interface RequestLimits {
  maxBytes: number;
  maxSpans: number;
}

export interface RequestBuilder {
  /** Takes a span; keeps nothing of the record itself (the mapper reuses it, see OtlpMapper). */
  add(span: OtlpSpan): void;
  /** Emits the last request, if any. */
  flush(): void;
}

/** `transient`: a request's bytes are valid only during `emit` (protobuf builds each one in the
 *  same buffer); whoever keeps them copies them. */
export function requestBuilder(
  encoding: OtlpEncoding,
  limits: RequestLimits,
  emit: (request: EncodedRequest) => void,
  options: { transient?: boolean } = {},
): RequestBuilder {
  return encoding === "protobuf" ? new ProtobufRequests(limits.maxBytes, limits.maxSpans, emit, options) : new JsonRequests(limits, emit);
}

/** OTLP/JSON requests: batches are sized from the bytes per span seen so far, and a batch that
 *  still comes out too large is halved until it fits. */
class JsonRequests implements RequestBuilder {
  /** Copies of the records (the mapper fills the same one again), turned into the serializer's
   *  spans when their request is made. */
  private spans: OtlpSpan[] = [];
  private target: number;

  constructor(
    private readonly limits: RequestLimits,
    private readonly emit: (request: EncodedRequest) => void,
  ) {
    this.target = Math.min(limits.maxSpans, 256);
  }

  add(span: OtlpSpan): void {
    this.spans.push(retainSpan(span));
    if (this.spans.length >= this.target) this.flush();
  }

  flush(): void {
    if (this.spans.length === 0) return;
    const spans = this.spans;
    this.spans = [];
    this.serialize(spans);
  }

  private serialize(spans: OtlpSpan[]): void {
    const bytes = otel.transformer().JsonTraceSerializer.serializeRequest(spans.map(readableSpan))!;
    if (bytes.length > this.limits.maxBytes && spans.length > 1) {
      const half = spans.length >> 1;
      this.serialize(spans.slice(0, half));
      this.serialize(spans.slice(half));
      return;
    }
    const perSpan = bytes.length / spans.length;
    this.target = Math.max(1, Math.min(this.limits.maxSpans, Math.floor((0.85 * this.limits.maxBytes) / perSpan)));
    this.emit({ bytes, spans: spans.length });
  }
}

export type { EncodedRequest };
