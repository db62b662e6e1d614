// Finished spans as the OpenTelemetry SDK's ReadableSpan, which the official serializers and
// exporters take. They are plain objects: the spans already happened, so no SDK tracer (with its
// clock and random ids) is involved; times and ids come from the trace file.

import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type Link, type SpanContext, type SpanStatus } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { hrTime } from "../clock.js";

/** Where a span is: enough to parent or link to it. */
export interface SpanRef {
  traceId: string;
  spanId: string;
}

/** Per-span limits on events and links, like the SDK's (OTEL_SPAN_EVENT_COUNT_LIMIT and
 *  OTEL_SPAN_LINK_COUNT_LIMIT, 128 by default); what goes past them is counted as dropped. */
export interface SpanLimits {
  events: number;
  links: number;
}

export const DEFAULT_SPAN_LIMITS: SpanLimits = { events: 128, links: 128 };

/** Events and links of one span still being built, with the limits applied as they arrive. */
export class SpanDetails {
  readonly events: TimedEvent[] = [];
  readonly links: Link[] = [];
  droppedEvents = 0;
  droppedLinks = 0;
  status: SpanStatus = { code: SpanStatusCode.UNSET };

  constructor(private readonly limits: SpanLimits) {}

  /** Adds an event unless the span has its limit's worth (`always` is for lints: never dropped);
   *  returns it, so attributes known later can still be filled in. */
  event(name: string, unixNs: bigint, attributes: Attributes, always = false): TimedEvent | undefined {
    if (!always && this.events.length >= this.limits.events) {
      this.droppedEvents++;
      return undefined;
    }
    const event: TimedEvent = { name, time: hrTime(unixNs), attributes, droppedAttributesCount: 0 };
    this.events.push(event);
    return event;
  }

  link(to: SpanRef, attributes: Attributes): void {
    if (this.links.length >= this.limits.links) {
      this.droppedLinks++;
      return;
    }
    this.links.push({ context: spanContext(to), attributes });
  }

  /** Marks the span as failed; the first message stays. */
  error(message: string): void {
    if (this.status.code !== SpanStatusCode.ERROR) this.status = { code: SpanStatusCode.ERROR, message };
  }
}

export interface FinishedSpan {
  ref: SpanRef;
  parent: SpanRef | undefined;
  name: string;
  kind: SpanKind;
  startNs: bigint;
  endNs: bigint;
  attributes: Attributes;
  details: SpanDetails | undefined;
  resource: Resource;
  scope: InstrumentationScope;
}

export function spanContext(ref: SpanRef): SpanContext {
  return { traceId: ref.traceId, spanId: ref.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false };
}

const NO_STATUS: SpanStatus = { code: SpanStatusCode.UNSET };

export function readableSpan(span: FinishedSpan): ReadableSpan {
  const context = spanContext(span.ref);
  const end = span.endNs >= span.startNs ? span.endNs : span.startNs;
  const d = span.details;
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => context,
    parentSpanContext: span.parent ? spanContext(span.parent) : undefined,
    startTime: hrTime(span.startNs),
    endTime: hrTime(end),
    duration: hrTime(end - span.startNs),
    status: d?.status ?? NO_STATUS,
    attributes: span.attributes,
    links: d?.links ?? [],
    events: d?.events ?? [],
    ended: true,
    resource: span.resource,
    instrumentationScope: span.scope,
    droppedAttributesCount: 0,
    droppedEventsCount: d?.droppedEvents ?? 0,
    droppedLinksCount: d?.droppedLinks ?? 0,
  };
}

export { SpanKind };
