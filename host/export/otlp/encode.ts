// OTLP/protobuf requests (ExportTraceServiceRequest) written directly from span records, in
// requests of bounded size. The bytes are the ones OpenTelemetry's own serializer
// (@opentelemetry/otlp-transformer's ProtobufTraceSerializer) writes for the same spans: the same
// fields in the same order, the same grouping by resource and scope (a test holds the two
// byte-for-byte equal on real traces). Why not call that serializer: it takes 6 µs a span here,
// 1.1 s per million events of a server trace on its own (docs/EXPORT.md has the measurement),
// while this writer keeps the per-span work to what the bytes need.
//
// Field numbers (opentelemetry/proto/trace/v1/trace.proto, common/v1/common.proto):
//   ExportTraceServiceRequest.resource_spans 1; ResourceSpans: resource 1, scope_spans 2;
//   ScopeSpans: scope 1, spans 2; Span: trace_id 1, span_id 2, parent_span_id 4, name 5,
//   kind 6, start 7, end 8, attributes 9, dropped_attributes_count 10, events 11,
//   dropped_events_count 12, links 13, dropped_links_count 14, status 15, flags 16;
//   Event: time 1, name 2, attributes 3, dropped 4; Link: trace_id 1, span_id 2, attributes 4,
//   dropped 5, flags 6; Status: message 2, code 3; KeyValue: key 1, value 2; AnyValue: string 1,
//   bool 2, int 3, double 4, array 5, bytes 7; ArrayValue.values 1; Resource: attributes 1,
//   dropped 2; InstrumentationScope: name 1, version 2.

import type { Attributes, AttributeValue } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import { ProtoWriter, WIRE, varintSize } from "../proto-writer.js";
import { attrKey, SpanStatusCode, type AttrKey, type Attrs, type AttrValue, type OtlpSpan, type SpanSource } from "./spans.js";

/** One request ready to write or send. */
export interface EncodedRequest {
  bytes: Uint8Array;
  spans: number;
}

/** Span flags: sampled (the trace flags) and "is_remote is known" (0x100), never remote. */
const FLAGS = 0x101;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

/** The spans of one source (session) in the request being built. */
interface Group {
  source: SpanSource;
  /** Resource field (1) and scope field (1 of ScopeSpans), encoded once per source. */
  head: Uint8Array;
  scope: Uint8Array;
  spans: ProtoWriter;
  count: number;
}

/**
 * Builds requests of at most `maxBytes` (a span larger than that goes alone) and `maxSpans`
 * spans, calling `emit` with each one that is full. `flush` emits the last. With `transient`,
 * every request is built in one buffer used again for the next: its bytes are valid only during
 * `emit` (a file writes them at once; whoever keeps them copies them).
 */
export class ProtobufRequests {
  private readonly groups = new Map<SpanSource, Group>();
  /** Groups of the current request, in order of their first span (the serializer's order). */
  private order: Group[] = [];
  private count = 0;
  private readonly time = [0, 0];
  /** The request buffer used again and again (transient requests). */
  private readonly request: ProtoWriter | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly maxSpans: number,
    private readonly emit: (request: EncodedRequest) => void,
    options: { transient?: boolean } = {},
  ) {
    if (options.transient) this.request = new ProtoWriter(1 << 16);
  }

  add(span: OtlpSpan): void {
    if (this.count >= this.maxSpans) this.flush();
    let g = this.groups.get(span.source);
    if (!g) {
      g = { source: span.source, head: encodeResource(span.source.attributes), scope: encodeScope(span.source.scope), spans: new ProtoWriter(1 << 16), count: 0 };
      this.groups.set(span.source, g);
    }
    const before = g.spans.pos;
    this.encodeSpan(g.spans, span);
    if (this.count > 0 && this.size(g) > this.maxBytes) {
      // It does not fit: the request goes without it, and it starts the next one.
      g.spans.pos = before;
      this.flush();
      this.encodeSpan(g.spans, span);
    }
    if (g.count++ === 0) this.order.push(g);
    this.count++;
  }

  /** Emits the request being built, if it has spans. */
  flush(): void {
    if (this.count === 0) return;
    const size = this.size(undefined);
    let w: ProtoWriter;
    if (this.request) {
      w = this.request;
      w.reset();
      w.ensure(size);
    } else {
      w = new ProtoWriter(size);
    }
    for (const g of this.order) {
      const scopeLen = g.scope.length + g.spans.pos;
      const rsLen = g.head.length + 1 + varintSize(scopeLen) + scopeLen;
      w.tag(1, WIRE.bytes);
      w.varint(rsLen);
      w.raw(g.head);
      w.tag(2, WIRE.bytes);
      w.varint(scopeLen);
      w.raw(g.scope);
      w.raw(g.spans.buf.subarray(0, g.spans.pos));
      g.spans.reset();
      g.count = 0;
    }
    const spans = this.count;
    // A source with no span in a whole request (its session ended) is forgotten, buffer and all:
    // a pull whose board resets again and again must not keep one per session.
    if (this.groups.size > this.order.length) {
      for (const [source, g] of this.groups) if (!this.order.includes(g)) this.groups.delete(source);
    }
    this.order = [];
    this.count = 0;
    this.emit({ bytes: this.request ? w.buf.subarray(0, w.pos) : w.pos === w.buf.length ? w.buf : w.bytes(), spans });
  }

  /** Bytes of the request as it stands (with `adding`'s group counted even if it is new). */
  private size(adding: Group | undefined): number {
    let n = 0;
    const order = this.order;
    for (let i = 0; i < order.length; i++) n += groupSize(order[i]!);
    if (adding && adding.count === 0) n += groupSize(adding);
    return n;
  }

  /** ScopeSpans.spans entry (field 2) of one span. */
  private encodeSpan(w: ProtoWriter, s: OtlpSpan): void {
    const time = this.time;
    const clock = s.source.clock;
    w.tag(2, WIRE.bytes);
    const at = w.begin();
    w.tag(1, WIRE.bytes);
    w.bytesField(s.ref.traceId);
    w.tag(2, WIRE.bytes);
    w.bytesField(s.ref.spanId);
    if (s.parent) {
      w.tag(4, WIRE.bytes);
      w.bytesField(s.parent.spanId);
    }
    w.tag(5, WIRE.bytes);
    w.string(s.name);
    w.tag(6, WIRE.varint);
    w.varint(s.kind + 1);
    clock.unixHalves(s.startT, time);
    w.tag(7, WIRE.fixed64);
    w.fixed64(time[0]!, time[1]!);
    clock.unixHalves(s.endT, time);
    w.tag(8, WIRE.fixed64);
    w.fixed64(time[0]!, time[1]!);
    writeAttrs(w, s.attributes, 9);
    w.tag(10, WIRE.varint);
    w.varint(0);
    const d = s.details;
    if (d?.events) {
      for (const e of d.events) {
        w.tag(11, WIRE.bytes);
        const ea = w.begin();
        clock.unixHalves(e.t, time);
        w.tag(1, WIRE.fixed64);
        w.fixed64(time[0]!, time[1]!);
        w.tag(2, WIRE.bytes);
        w.string(e.name);
        writeAttrs(w, e.attributes, 3);
        w.tag(4, WIRE.varint);
        w.varint(0);
        w.end(ea);
      }
    }
    w.tag(12, WIRE.varint);
    w.varint(d?.droppedEvents ?? 0);
    if (d?.links) {
      for (const l of d.links) {
        w.tag(13, WIRE.bytes);
        const la = w.begin();
        w.tag(1, WIRE.bytes);
        w.bytesField(l.to.traceId);
        w.tag(2, WIRE.bytes);
        w.bytesField(l.to.spanId);
        writeAttrs(w, l.attributes, 4);
        w.tag(5, WIRE.varint);
        w.varint(0);
        w.tag(6, WIRE.fixed32);
        w.fixed32(FLAGS);
        w.end(la);
      }
    }
    w.tag(14, WIRE.varint);
    w.varint(d?.droppedLinks ?? 0);
    w.tag(15, WIRE.bytes);
    const st = w.begin();
    if (d?.error) {
      w.tag(2, WIRE.bytes);
      w.string(d.error);
    }
    w.tag(3, WIRE.varint);
    w.varint(d?.error !== undefined ? SpanStatusCode.ERROR : SpanStatusCode.UNSET);
    w.end(st);
    w.tag(16, WIRE.fixed32);
    w.fixed32(FLAGS);
    w.end(at);
  }
}

/** Bytes of a group's ResourceSpans field in a request. */
function groupSize(g: Group): number {
  const scopeLen = g.scope.length + g.spans.pos;
  const rsLen = g.head.length + 1 + varintSize(scopeLen) + scopeLen;
  return 1 + varintSize(rsLen) + rsLen;
}

function writeAttrs(w: ProtoWriter, attrs: Attrs, field: number): void {
  const tag = field * 8 + WIRE.bytes; // one byte: the fields used are below 16
  for (let i = 0; i < attrs.length; i += 2) {
    const key = attrs[i] as AttrKey;
    const value = attrs[i + 1] as AttrValue;
    if (typeof value === "string") {
      // A KeyValue whose value comes again and again (a task name, a result) is encoded once;
      // once a key has its fill of values (a wake's time, a log line), the rest are written
      // straight in like any other value (below).
      const kv = keyValueBytes(key, value);
      if (kv) {
        w.tag(field, WIRE.bytes);
        w.bytesField(kv);
        continue;
      }
    } else if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
      // KeyValue { key, value: AnyValue { int_value } }, lengths known up front.
      const n = varintSize(value);
      const k = key.encoded;
      w.ensure(k.length + n + 8);
      w.buf[w.pos++] = tag;
      w.varint(k.length + 3 + n);
      w.raw(k);
      w.buf[w.pos++] = 0x12; // KeyValue.value
      w.buf[w.pos++] = 1 + n;
      w.buf[w.pos++] = 0x18; // AnyValue.int_value
      w.varint(value);
      continue;
    }
    w.tag(field, WIRE.bytes);
    const kv = w.begin();
    w.raw(key.encoded);
    w.tag(2, WIRE.bytes);
    const v = w.begin();
    writeAnyValue(w, value);
    w.end(v);
    w.end(kv);
  }
}

/** Values cached per key, at most this many (beyond them, values are encoded each time). */
const CACHED_VALUES = 512;
const scratch = new ProtoWriter(1024);

/** The KeyValue message of a key and a string value, if cached or still cacheable. */
function keyValueBytes(key: AttrKey, value: string): Uint8Array | undefined {
  const cache = key.values;
  const hit = cache.get(value);
  if (hit) return hit;
  if (cache.size >= CACHED_VALUES) return undefined;
  scratch.reset();
  scratch.raw(key.encoded);
  scratch.tag(2, WIRE.bytes);
  const v = scratch.begin();
  scratch.tag(1, WIRE.bytes);
  scratch.string(value);
  scratch.end(v);
  const bytes = scratch.bytes();
  cache.set(value, bytes);
  return bytes;
}

function writeAnyValue(w: ProtoWriter, value: AttributeValue | AttrValue): void {
  switch (typeof value) {
    case "string":
      w.tag(1, WIRE.bytes);
      w.string(value);
      return;
    case "boolean":
      w.tag(2, WIRE.varint);
      w.varint(value ? 1 : 0);
      return;
    case "number":
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        w.tag(3, WIRE.varint);
        w.varint(value);
      } else {
        w.tag(4, WIRE.fixed64);
        w.double(value);
      }
      return;
    default:
      if (Array.isArray(value)) {
        w.tag(5, WIRE.bytes);
        const a = w.begin();
        for (const item of value) {
          w.tag(1, WIRE.bytes);
          const i = w.begin();
          if (item !== null && item !== undefined) writeAnyValue(w, item as AttrValue);
          w.end(i);
        }
        w.end(a);
      }
  }
}

/** ResourceSpans.resource (field 1) of a resource's attributes. */
function encodeResource(attributes: Attributes): Uint8Array {
  const w = new ProtoWriter(1024);
  w.tag(1, WIRE.bytes);
  const at = w.begin();
  writeAttrs(w, attrsOf(attributes), 1);
  w.tag(2, WIRE.varint);
  w.varint(0);
  w.end(at);
  return w.bytes();
}

/** ScopeSpans.scope (field 1) of an instrumentation scope. */
function encodeScope(scope: InstrumentationScope): Uint8Array {
  const w = new ProtoWriter(256);
  w.tag(1, WIRE.bytes);
  const at = w.begin();
  w.tag(1, WIRE.bytes);
  w.string(scope.name);
  if (scope.version) {
    w.tag(2, WIRE.bytes);
    w.string(scope.version);
  }
  w.end(at);
  return w.bytes();
}

/** SDK attributes as a flat list (undefined values left out, as the serializer does). */
export function attrsOf(attributes: Attributes): Attrs {
  const out: Attrs = [];
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== null) out.push(attrKey(k), v as AttrValue);
  return out;
}
