// Span records as the OpenTelemetry SDK's ReadableSpan, which the official serializers take:
// OTLP/JSON is written by @opentelemetry/otlp-transformer's JsonTraceSerializer from these, and
// tests hold the direct protobuf writer (encode.ts) to that library's ProtobufTraceSerializer.

import type { Attributes, Link, SpanContext, SpanStatus } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { hrTime } from "../clock.js";
import { otel } from "./lazy.js";
import { SpanStatusCode, type Attrs, type AttrKey, type OtlpSpan, type SpanRef, type SpanSource } from "./spans.js";

/** TraceFlags.SAMPLED */
const SAMPLED = 1;

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex");
}

export function spanContext(ref: SpanRef): SpanContext {
  return { traceId: hex(ref.traceId), spanId: hex(ref.spanId), traceFlags: SAMPLED, isRemote: false };
}

export function attributes(attrs: Attrs): Attributes {
  const out: Attributes = {};
  for (let i = 0; i < attrs.length; i += 2) out[(attrs[i] as AttrKey).name] = attrs[i + 1] as Attributes[string];
  return out;
}

/** The SDK Resource of a source's attributes (made once). */
export function resourceOf(source: SpanSource): Resource {
  source.resource ??= otel.resources().resourceFromAttributes(source.attributes);
  return source.resource;
}

export function readableSpan(span: OtlpSpan): ReadableSpan {
  const context = spanContext(span.ref);
  const clock = span.source.clock;
  const start = clock.unixNs(span.startT);
  const end = clock.unixNs(span.endT);
  const d = span.details;
  const status = (d?.error !== undefined ? { code: SpanStatusCode.ERROR, message: d.error } : { code: SpanStatusCode.UNSET }) as SpanStatus;
  const events: TimedEvent[] = (d?.events ?? []).map((e) => ({ name: e.name, time: hrTime(clock.unixNs(e.t)), attributes: attributes(e.attributes), droppedAttributesCount: 0 }));
  const links: Link[] = (d?.links ?? []).map((l) => ({ context: spanContext(l.to), attributes: attributes(l.attributes) }));
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    parentSpanContext: span.parent ? spanContext(span.parent) : undefined,
    startTime: hrTime(start),
    endTime: hrTime(end),
    duration: hrTime(end - start),
    status,
    attributes: attributes(span.attributes),
    links,
    events,
    ended: true,
    resource: resourceOf(span.source),
    instrumentationScope: span.source.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: d?.droppedEvents ?? 0,
    droppedLinksCount: d?.droppedLinks ?? 0,
  };
}
