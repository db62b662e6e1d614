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
import { ProtoWriter, WIRE, putVarint, varintSize } from "../proto-writer.js";
import type { SessionClock } from "../clock.js";
import { attrKey, isShared, SpanStatusCode, type AttrKey, type Attrs, type AttrValue, type OtlpSpan, type SpanEvent, type SpanLink, type SpanSource } from "./spans.js";

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
  /** Its spans, from `start` on: the room before them takes the group's ResourceSpans and
   *  ScopeSpans heads when it is a request's only group, which then leaves from there as it is
   *  (transient requests: a file's, most of the time) instead of being copied. */
  spans: ProtoWriter;
  start: number;
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
      const head = encodeResource(span.source.attributes);
      const scope = encodeScope(span.source.scope);
      const start = 2 + 5 + 5 + head.length + scope.length; // two tags, two lengths below 2^35
      g = { source: span.source, head, scope, spans: new ProtoWriter(Math.max(1 << 16, 2 * start)), start, count: 0 };
      g.spans.pos = start;
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
    let bytes: Uint8Array;
    if (this.request && this.order.length === 1) {
      const g = this.order[0]!;
      const at = g.start - headSize(g);
      putHead(g.spans.buf, at, g);
      bytes = g.spans.buf.subarray(at, g.spans.pos);
    } else {
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
        w.pos = putHead(w.buf, w.pos, g);
        w.raw(g.spans.buf.subarray(g.start, g.spans.pos));
      }
      bytes = this.request ? w.buf.subarray(0, w.pos) : w.pos === w.buf.length ? w.buf : w.bytes();
    }
    // The bytes stay as they are until the next span is added.
    for (const g of this.order) {
      g.spans.pos = g.start;
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
    this.emit({ bytes, spans });
  }

  /** Bytes of the request as it stands (with `adding`'s group counted even if it is new). */
  private size(adding: Group | undefined): number {
    let n = 0;
    const order = this.order;
    for (let i = 0; i < order.length; i++) n += groupSize(order[i]!);
    if (adding && adding.count === 0) n += groupSize(adding);
    return n;
  }

  /** ScopeSpans.spans entry (field 2) of one span. Fixed-size parts (ids, name, kind, times,
   *  an event's or link's head and tail) are written byte by byte after one check for room, and
   *  a span without events, links or error ends with one constant tail: the calls per field
   *  were most of the encoder's time. */
  private encodeSpan(w: ProtoWriter, s: OtlpSpan): void {
    const time = this.time;
    const clock = s.source.clock;
    const name = stringField(s.name);
    const traceId = s.ref.traceId;
    const spanId = s.ref.spanId;
    const parentId = s.parent?.spanId;
    w.ensure(3 + 2 + traceId.length + 2 + spanId.length + (parentId ? 2 + parentId.length : 0) + 1 + (name?.length ?? 0) + 2 + 18);
    const b = w.buf;
    let p = w.pos;
    b[p++] = 0x12; // ScopeSpans.spans
    const at = p;
    p += 2; // its length (endSpan)
    b[p++] = 0x0a; // trace_id
    p = putBytes(b, p, traceId);
    b[p++] = 0x12; // span_id
    p = putBytes(b, p, spanId);
    if (parentId) {
      b[p++] = 0x22; // parent_span_id
      p = putBytes(b, p, parentId);
    }
    if (name) {
      b[p++] = 0x2a; // name
      b.set(name, p);
      w.pos = p + name.length;
    } else {
      w.pos = p;
      w.tag(5, WIRE.bytes);
      w.string(s.name);
      w.ensure(2 + 18);
    }
    const c = w.buf;
    p = w.pos;
    c[p++] = 0x30; // kind
    c[p++] = s.kind + 1;
    clock.unixHalves(s.startT, time);
    c[p++] = 0x39; // start_time_unix_nano
    p = putFixed64(c, p, time[0]!, time[1]!);
    clock.unixHalves(s.endT, time);
    c[p++] = 0x41; // end_time_unix_nano
    p = putFixed64(c, p, time[0]!, time[1]!);
    w.pos = p;
    writeAttrs(w, s.attributes, 9);
    const d = s.details;
    if (!d || (!d.events && !d.links && d.error === undefined && d.droppedEvents === 0 && d.droppedLinks === 0)) {
      w.raw(PLAIN_TAIL);
      endSpan(w, at);
      return;
    }
    w.ensure(2);
    w.buf[w.pos++] = 0x50; // dropped_attributes_count
    w.buf[w.pos++] = 0;
    if (d.events) for (const e of d.events) encodeEvent(w, e, clock, time);
    w.ensure(11);
    w.pos = putVarint(w.buf, putByte(w.buf, w.pos, 0x60), d.droppedEvents); // dropped_events_count
    if (d.links) for (const l of d.links) encodeLink(w, l);
    w.ensure(11 + 3);
    let q = putVarint(w.buf, putByte(w.buf, w.pos, 0x70), d.droppedLinks); // dropped_links_count
    w.buf[q++] = 0x7a; // status
    w.pos = q;
    const st = w.begin();
    if (d.error) {
      w.tag(2, WIRE.bytes);
      w.string(d.error);
    }
    w.ensure(2 + 6);
    q = w.pos;
    w.buf[q++] = 0x18; // Status.code
    w.buf[q++] = d.error !== undefined ? SpanStatusCode.ERROR : SpanStatusCode.UNSET;
    w.pos = q;
    w.end(st);
    w.raw(FLAGS_FIELD);
    endSpan(w, at);
  }
}

/** Span.events entry (field 11) of one event. */
function encodeEvent(w: ProtoWriter, e: SpanEvent, clock: SessionClock, time: number[]): void {
  const name = stringField(e.name);
  w.ensure(2 + 9 + 1 + (name?.length ?? 0));
  const b = w.buf;
  let p = w.pos;
  b[p++] = 0x5a; // Span.events
  const at = p++; // its length (end)
  clock.unixHalves(e.t, time);
  b[p++] = 0x09; // time_unix_nano
  p = putFixed64(b, p, time[0]!, time[1]!);
  if (name) {
    b[p++] = 0x12; // name
    b.set(name, p);
    w.pos = p + name.length;
  } else {
    w.pos = p;
    w.tag(2, WIRE.bytes);
    w.string(e.name);
  }
  writeSharedAttrs(w, e.attributes, 3);
  w.ensure(2);
  w.buf[w.pos++] = 0x20; // dropped_attributes_count
  w.buf[w.pos++] = 0;
  w.end(at);
}

/** Span.links entry (field 13) of one link. */
function encodeLink(w: ProtoWriter, l: SpanLink): void {
  const traceId = l.to.traceId;
  const spanId = l.to.spanId;
  w.ensure(2 + 2 + traceId.length + 2 + spanId.length);
  const b = w.buf;
  let p = w.pos;
  b[p++] = 0x6a; // Span.links
  const at = p++; // its length (end)
  b[p++] = 0x0a; // trace_id
  p = putBytes(b, p, traceId);
  b[p++] = 0x12; // span_id
  p = putBytes(b, p, spanId);
  w.pos = p;
  writeSharedAttrs(w, l.attributes, 4);
  w.raw(LINK_TAIL);
  w.end(at);
}

/** Span.flags (field 16, fixed32). */
const FLAGS_FIELD = new Uint8Array([0x85, 0x01, FLAGS & 0xff, FLAGS >>> 8, 0, 0]);

/** The end of a link: dropped_attributes_count 0, flags. */
const LINK_TAIL = new Uint8Array([0x28, 0, 0x35, FLAGS & 0xff, FLAGS >>> 8, 0, 0]);

/** The end of a span with no events, links or error: dropped_attributes_count 0,
 *  dropped_events_count 0, dropped_links_count 0, status { code UNSET }, flags. */
const PLAIN_TAIL = new Uint8Array([0x50, 0, 0x60, 0, 0x70, 0, 0x7a, 2, 0x18, SpanStatusCode.UNSET, ...FLAGS_FIELD]);

/** A byte at `p`; returns the end. */
function putByte(b: Uint8Array, p: number, byte: number): number {
  b[p] = byte;
  return p + 1;
}

/** Length-delimited bytes below 128 at `p` (ids); returns the end. The ids' own lengths (8, 16)
 *  are copied unrolled: a loop or TypedArray.set costs twice as much for so few bytes. */
function putBytes(b: Uint8Array, p: number, bytes: Uint8Array): number {
  const n = bytes.length;
  b[p++] = n;
  if (n === 8 || n === 16) {
    b[p] = bytes[0]!;
    b[p + 1] = bytes[1]!;
    b[p + 2] = bytes[2]!;
    b[p + 3] = bytes[3]!;
    b[p + 4] = bytes[4]!;
    b[p + 5] = bytes[5]!;
    b[p + 6] = bytes[6]!;
    b[p + 7] = bytes[7]!;
    if (n === 8) return p + 8;
    b[p + 8] = bytes[8]!;
    b[p + 9] = bytes[9]!;
    b[p + 10] = bytes[10]!;
    b[p + 11] = bytes[11]!;
    b[p + 12] = bytes[12]!;
    b[p + 13] = bytes[13]!;
    b[p + 14] = bytes[14]!;
    b[p + 15] = bytes[15]!;
    return p + 16;
  }
  for (let i = 0; i < n; i++) b[p++] = bytes[i]!;
  return p;
}

/** A fixed64 from its halves at `p`, little-endian; returns the end. */
function putFixed64(b: Uint8Array, p: number, lo: number, hi: number): number {
  b[p] = lo;
  b[p + 1] = lo >>> 8;
  b[p + 2] = lo >>> 16;
  b[p + 3] = lo >>> 24;
  b[p + 4] = hi;
  b[p + 5] = hi >>> 8;
  b[p + 6] = hi >>> 16;
  b[p + 7] = hi >>> 24;
  return p + 8;
}

/** Ends a span whose length has two bytes reserved at `at` (most spans are 128 B - 16 KiB):
 *  the length goes there, and the body moves only when its length needs one byte or three+. */
function endSpan(w: ProtoWriter, at: number): void {
  const length = w.pos - at - 2;
  if (length >= 0x80 && length < 0x4000) {
    w.buf[at] = (length & 0x7f) | 0x80;
    w.buf[at + 1] = length >>> 7;
    return;
  }
  const size = varintSize(length);
  w.ensure(size);
  const b = w.buf;
  b.copyWithin(at + size, at + 2, w.pos);
  w.pos += size - 2;
  let v = length;
  let p = at;
  while (v > 0x7f) {
    b[p++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  b[p] = v;
}

/** Names cached at most (task names, "poll", event names); past them, names are encoded each time. */
const CACHED_NAMES = 4096;
const names = new Map<string, Uint8Array>();

/** A span's or event's name as a string field after its tag (length, UTF-8), if cached or
 *  still cacheable. */
function stringField(name: string): Uint8Array | undefined {
  const hit = names.get(name);
  if (hit) return hit;
  if (names.size >= CACHED_NAMES) return undefined;
  scratch.reset();
  scratch.string(name);
  const bytes = scratch.bytes();
  names.set(name, bytes);
  return bytes;
}

/** Bytes of a group's ResourceSpans field in a request. */
function groupSize(g: Group): number {
  const scopeLen = g.scope.length + g.spans.pos - g.start;
  const rsLen = g.head.length + 1 + varintSize(scopeLen) + scopeLen;
  return 1 + varintSize(rsLen) + rsLen;
}

/** Bytes of a group's ResourceSpans field before its spans. */
function headSize(g: Group): number {
  return groupSize(g) - (g.spans.pos - g.start);
}

/** A group's ResourceSpans field up to its spans, at `p` (room made); returns the end. */
function putHead(b: Uint8Array, p: number, g: Group): number {
  const scopeLen = g.scope.length + g.spans.pos - g.start;
  const rsLen = g.head.length + 1 + varintSize(scopeLen) + scopeLen;
  b[p++] = 0x0a; // ExportTraceServiceRequest.resource_spans
  p = putVarint(b, p, rsLen);
  b.set(g.head, p);
  p += g.head.length;
  b[p++] = 0x12; // ResourceSpans.scope_spans
  p = putVarint(b, p, scopeLen);
  b.set(g.scope, p);
  return p + g.scope.length;
}

/** KeyValue entries of `attrs` as message field `field` (below 16: a one-byte tag). The common
 *  values (a cached string, a whole number, a boolean) are written with their lengths known up
 *  front; the rest as nested messages. */
function writeAttrs(w: ProtoWriter, attrs: Attrs, field: number): void {
  const tag = field * 8 + WIRE.bytes;
  for (let i = 0; i < attrs.length; i += 2) {
    const key = attrs[i] as AttrKey;
    const value = attrs[i + 1] as AttrValue;
    const k = key.encoded;
    if (typeof value === "string") {
      // A KeyValue whose value comes again and again (a task name, a result) is encoded once;
      // once a key has its fill of values (a wake's time, a log line), the rest are written
      // straight in.
      const kv = keyValueBytes(key, value);
      if (kv) {
        const n = kv.length;
        w.ensure(1 + n);
        const b = w.buf;
        b[w.pos] = tag;
        b.set(kv, w.pos + 1);
        w.pos += 1 + n;
        continue;
      }
      w.ensure(k.length + 5);
      const b = w.buf;
      let p = w.pos;
      b[p++] = tag;
      const kvAt = p++; // its length (end)
      b.set(k, p);
      p += k.length;
      b[p++] = 0x12; // KeyValue.value
      const v = p++; // its length (end)
      b[p++] = 0x0a; // AnyValue.string_value
      w.pos = p;
      w.string(value);
      w.end(v);
      w.end(kvAt);
      continue;
    }
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
      // KeyValue { key, value: AnyValue { int_value } }.
      const n = varintSize(value);
      const length = k.length + 3 + n;
      if (length < 0x80) {
        w.ensure(2 + length);
        const b = w.buf;
        let p = w.pos;
        b[p++] = tag;
        b[p++] = length;
        b.set(k, p);
        p += k.length;
        b[p++] = 0x12; // KeyValue.value
        b[p++] = 1 + n;
        b[p++] = 0x18; // AnyValue.int_value
        w.pos = putVarint(b, p, value);
        continue;
      }
    } else if (typeof value === "boolean" && k.length + 4 < 0x80) {
      // KeyValue { key, value: AnyValue { bool_value } }.
      w.ensure(2 + k.length + 4);
      const b = w.buf;
      let p = w.pos;
      b[p++] = tag;
      b[p++] = k.length + 4;
      b.set(k, p);
      p += k.length;
      b[p++] = 0x12; // KeyValue.value
      b[p++] = 2;
      b[p++] = 0x10; // AnyValue.bool_value
      b[p++] = value ? 1 : 0;
      w.pos = p;
      continue;
    }
    w.tag(field, WIRE.bytes);
    const kv = w.begin();
    w.raw(k);
    w.tag(2, WIRE.bytes);
    const v = w.begin();
    writeAnyValue(w, value);
    w.end(v);
    w.end(kv);
  }
}

/** Attribute lists many events or links share (sharedAttrs), encoded once: by list. */
const shared = new WeakMap<Attrs, { field: number; bytes: Uint8Array }>();

/** An event's or link's attributes: a shared list's bytes as encoded the first time. */
function writeSharedAttrs(w: ProtoWriter, attrs: Attrs, field: number): void {
  if (!isShared(attrs)) return writeAttrs(w, attrs, field);
  const known = shared.get(attrs);
  if (known && known.field === field) return w.raw(known.bytes);
  const start = w.pos;
  writeAttrs(w, attrs, field);
  shared.set(attrs, { field, bytes: w.buf.slice(start, w.pos) });
}

/** Values cached per key, at most this many (beyond them, values are encoded each time). */
const CACHED_VALUES = 512;
/** Values per key found by a scan before the map: the first few a key takes (a result, a
 *  resource's kind; usually the same string each time, which compares at once). */
const FIRST_VALUES = 8;
const scratch = new ProtoWriter(1024);

/** The KeyValue message of a key and a string value after its tag (length, message), if cached
 *  or still cacheable. */
function keyValueBytes(key: AttrKey, value: string): Uint8Array | undefined {
  const cache = key.values;
  if (cache.size >= CACHED_VALUES) return undefined;
  const first = key.first;
  for (let i = 0; i < first.length; i++) if (first[i] === value) return key.firstBytes[i];
  const hit = cache.get(value);
  if (hit) return hit;
  scratch.reset();
  const kv = scratch.begin();
  scratch.raw(key.encoded);
  scratch.tag(2, WIRE.bytes);
  const v = scratch.begin();
  scratch.tag(1, WIRE.bytes);
  scratch.string(value);
  scratch.end(v);
  scratch.end(kv);
  const bytes = scratch.bytes();
  cache.set(value, bytes);
  if (first.length < FIRST_VALUES) {
    first.push(value);
    key.firstBytes.push(bytes);
  }
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
