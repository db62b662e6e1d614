// Finished spans as the OTLP mapper makes them: plain records with binary ids, device times and
// attributes as a flat key/value list, so that a span costs a handful of small objects and can
// be encoded directly (encode.ts) or turned into the SDK's ReadableSpan for the official
// serializers and exporters (readable.ts). The spans already happened, so no SDK tracer (with
// its clock and random ids) is involved; times and ids come from the trace file.

import type { Attributes } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Resource } from "@opentelemetry/resources";
import type { SessionClock } from "../clock.js";
import { ProtoWriter, WIRE } from "../proto-writer.js";

/** Where a span is: enough to parent or link to it (16 and 8 bytes). */
export interface SpanRef {
  traceId: Uint8Array;
  spanId: Uint8Array;
}

/** An attribute key, with its KeyValue.key field encoded once. */
export interface AttrKey {
  readonly name: string;
  /** KeyValue field 1 (tag, length, UTF-8). */
  readonly encoded: Uint8Array;
  /** This key with string values seen often, each as a KeyValue message after its tag
   *  (encode.ts): all of them, and the first few again for a scan that finds them sooner. */
  readonly values: Map<string, Uint8Array>;
  readonly first: string[];
  readonly firstBytes: Uint8Array[];
}

export type AttrValue = string | number | boolean | readonly (string | number)[];

/** Attributes in order: key, value, key, value, ... (no key twice). */
export type Attrs = (AttrKey | AttrValue)[];

const keys = new Map<string, AttrKey>();

/** The key named `name` (made once, then shared). */
export function attrKey(name: string): AttrKey {
  let key = keys.get(name);
  if (!key) {
    const w = new ProtoWriter(name.length + 8);
    w.tag(1, WIRE.bytes);
    w.string(name);
    key = { name, encoded: w.bytes(), values: new Map(), first: [], firstBytes: [] };
    keys.set(name, key);
  }
  return key;
}

const shared = new WeakSet<Attrs>();

/** Marks an attribute list that several events or links share and nothing changes any more: the
 *  encoder encodes it once (encode.ts). (Not frozen: a frozen array's elements are another kind,
 *  which makes every attribute loop slower.) */
export function sharedAttrs(attrs: Attrs): Attrs {
  shared.add(attrs);
  return attrs;
}

/** Whether `attrs` was marked by sharedAttrs. */
export function isShared(attrs: Attrs): boolean {
  return shared.has(attrs);
}

/**
 * An attribute list built in place: `begin`, `add`..., `done`. One list filled again for each
 * span costs no array per span (the mapper's spans leave at once); `done`'s array is valid until
 * the next `begin`. (Setting a smaller length keeps the array's storage: V8 trims it only when
 * less than half of it stays in use.)
 */
export class AttrList {
  private readonly list: Attrs = [];
  private n = 0;

  begin(): this {
    this.n = 0;
    return this;
  }

  add(key: AttrKey, value: AttrValue): this {
    this.list[this.n++] = key;
    this.list[this.n++] = value;
    return this;
  }

  done(): Attrs {
    if (this.list.length !== this.n) this.list.length = this.n; // a length set costs a runtime call
    return this.list;
  }
}

export interface SpanEvent {
  name: string;
  /** Device time (ns since the device clock's zero). */
  t: number;
  attributes: Attrs;
}

export interface SpanLink {
  to: SpanRef;
  attributes: Attrs;
}

/** What every span of a device session shares: its resource, scope and clock. */
export interface SpanSource {
  /** The resource's attributes, in order. */
  attributes: Attributes;
  scope: InstrumentationScope;
  clock: SessionClock;
  /** The SDK's Resource of these attributes, made when first needed (readable.ts). */
  resource?: Resource;
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
  events: SpanEvent[] | undefined;
  links: SpanLink[] | undefined;
  droppedEvents = 0;
  droppedLinks = 0;
  /** ERROR with this message, when set. */
  error: string | undefined;

  constructor(private readonly limits: SpanLimits) {}

  /** Adds an event unless the span has its limit's worth (`always` is for lints: never dropped);
   *  returns it, so attributes known later can still be added. */
  event(name: string, t: number, attributes: Attrs, always = false): SpanEvent | undefined {
    const events = (this.events ??= []);
    if (!always && events.length >= this.limits.events) {
      this.droppedEvents++;
      return undefined;
    }
    const event: SpanEvent = { name, t, attributes };
    events.push(event);
    return event;
  }

  link(to: SpanRef, attributes: Attrs): void {
    const links = (this.links ??= []);
    if (links.length >= this.limits.links) {
      this.droppedLinks++;
      return;
    }
    links.push({ to, attributes });
  }

  /** Marks the span as failed; the first message stays. */
  fail(message: string): void {
    this.error ??= message;
  }
}

export interface OtlpSpan {
  ref: SpanRef;
  parent: SpanRef | undefined;
  name: string;
  kind: SpanKind;
  /** Device times (ns since the device clock's zero); end is never before start. */
  startT: number;
  endT: number;
  attributes: Attrs;
  details: SpanDetails | undefined;
  source: SpanSource;
}

/** A copy of a span record that stays as it is (the mapper fills its record again for the next
 *  span): its own ref, id bytes and attribute list. */
export function retainSpan(span: OtlpSpan): OtlpSpan {
  return {
    ...span,
    ref: { traceId: span.ref.traceId, spanId: new Uint8Array(span.ref.spanId) },
    attributes: span.attributes.slice(),
  };
}

/** @opentelemetry/api's SpanKind and SpanStatusCode values (the API itself is not loaded for them). */
export const SpanKind = { INTERNAL: 0, SERVER: 1 } as const;
export type SpanKind = (typeof SpanKind)[keyof typeof SpanKind];
export const SpanStatusCode = { UNSET: 0, ERROR: 2 } as const;
