// Test helper: reads OTLP trace requests back, independently of the serializer under test. The
// protobuf reader is written from the OTLP .proto definitions (opentelemetry-proto: collector
// trace_service, trace/v1, common/v1, resource/v1) with nothing but the wire format rules; the
// JSON reader follows the OTLP/JSON mapping. Both give the same flat shape, so one set of checks
// covers files, HTTP/JSON and HTTP/protobuf.

export type OtlpValue = string | number | boolean | OtlpValue[] | { [key: string]: OtlpValue } | Uint8Array | null;
export type OtlpAttributes = Record<string, OtlpValue>;

export interface OtlpEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: OtlpAttributes;
}

export interface OtlpLink {
  traceId: string;
  spanId: string;
  attributes: OtlpAttributes;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP enum: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: OtlpAttributes;
  events: OtlpEvent[];
  droppedEventsCount: number;
  links: OtlpLink[];
  droppedLinksCount: number;
  status: { code: number; message: string };
  resource: OtlpAttributes;
  scope: { name: string; version: string };
}

// ---- protobuf ------------------------------------------------------------------------------

interface Field {
  no: number;
  wire: number;
  /** varint / fixed values as bigint; length-delimited as bytes. */
  int?: bigint;
  bytes?: Uint8Array;
}

function readVarint(buf: Uint8Array, pos: { at: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos.at >= buf.length) throw new Error("protobuf: truncated varint");
    const b = buf[pos.at++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
    if (shift > 63n) throw new Error("protobuf: varint too long");
  }
}

function readFixed(buf: Uint8Array, pos: { at: number }, bytes: number): bigint {
  if (pos.at + bytes > buf.length) throw new Error("protobuf: truncated fixed field");
  let v = 0n;
  for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos.at + i]!);
  pos.at += bytes;
  return v;
}

/** Splits a message into its fields, in order (repeated fields appear as often as they occur). */
export function protoFields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  const pos = { at: 0 };
  while (pos.at < buf.length) {
    const key = Number(readVarint(buf, pos));
    const no = key >>> 3;
    const wire = key & 7;
    if (no === 0) throw new Error("protobuf: field number 0");
    if (wire === 0) out.push({ no, wire, int: readVarint(buf, pos) });
    else if (wire === 1) out.push({ no, wire, int: readFixed(buf, pos, 8) });
    else if (wire === 5) out.push({ no, wire, int: readFixed(buf, pos, 4) });
    else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      if (pos.at + len > buf.length) throw new Error("protobuf: truncated length-delimited field");
      out.push({ no, wire, bytes: buf.subarray(pos.at, pos.at + len) });
      pos.at += len;
    } else throw new Error(`protobuf: unsupported wire type ${wire}`);
  }
  return out;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const hex = (b: Uint8Array | undefined) => Buffer.from(b ?? new Uint8Array()).toString("hex");
const str = (b: Uint8Array | undefined) => utf8.decode(b ?? new Uint8Array());
const int64 = (v: bigint) => Number(BigInt.asIntN(64, v));

function pbAnyValue(buf: Uint8Array): OtlpValue {
  for (const f of protoFields(buf)) {
    switch (f.no) {
      case 1: return str(f.bytes);
      case 2: return f.int !== 0n;
      case 3: return int64(f.int!);
      case 4: {
        const view = new DataView(new ArrayBuffer(8));
        view.setBigUint64(0, f.int!, true);
        return view.getFloat64(0, true);
      }
      case 5: return protoFields(f.bytes!).filter((x) => x.no === 1).map((x) => pbAnyValue(x.bytes!));
      case 6: return pbKeyValues(f.bytes!, 1);
      case 7: return f.bytes!.slice();
    }
  }
  return null;
}

function pbKeyValue(buf: Uint8Array): [string, OtlpValue] {
  let key = "";
  let value: OtlpValue = null;
  for (const kv of protoFields(buf)) {
    if (kv.no === 1) key = str(kv.bytes);
    if (kv.no === 2) value = pbAnyValue(kv.bytes!);
  }
  return [key, value];
}

/** The repeated KeyValue field `fieldNo` of a message, as attributes. */
function pbKeyValues(buf: Uint8Array, fieldNo: number): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const f of protoFields(buf)) {
    if (f.no !== fieldNo) continue;
    const [key, value] = pbKeyValue(f.bytes!);
    out[key] = value;
  }
  return out;
}

/** An ExportTraceServiceRequest (protobuf) as spans, each with its resource and scope. */
export function decodeProtobufRequest(buf: Uint8Array): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of protoFields(buf)) {
    if (rs.no !== 1) throw new Error(`ExportTraceServiceRequest: unexpected field ${rs.no}`);
    let resource: OtlpAttributes = {};
    const scopes: Uint8Array[] = [];
    for (const f of protoFields(rs.bytes!)) {
      if (f.no === 1) resource = pbKeyValues(f.bytes!, 1);
      if (f.no === 2) scopes.push(f.bytes!);
    }
    for (const ss of scopes) {
      const scope = { name: "", version: "" };
      const raw: Uint8Array[] = [];
      for (const f of protoFields(ss)) {
        if (f.no === 1) {
          for (const g of protoFields(f.bytes!)) {
            if (g.no === 1) scope.name = str(g.bytes);
            if (g.no === 2) scope.version = str(g.bytes);
          }
        }
        if (f.no === 2) raw.push(f.bytes!);
      }
      for (const s of raw) spans.push(pbSpan(s, resource, scope));
    }
  }
  return spans;
}

function pbSpan(buf: Uint8Array, resource: OtlpAttributes, scope: { name: string; version: string }): OtlpSpan {
  const span: OtlpSpan = {
    traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0, startTimeUnixNano: 0n, endTimeUnixNano: 0n,
    attributes: {}, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0,
    status: { code: 0, message: "" }, resource, scope,
  };
  for (const f of protoFields(buf)) {
    switch (f.no) {
      case 1: span.traceId = hex(f.bytes); break;
      case 2: span.spanId = hex(f.bytes); break;
      case 4: span.parentSpanId = hex(f.bytes); break;
      case 5: span.name = str(f.bytes); break;
      case 6: span.kind = Number(f.int); break;
      case 7: span.startTimeUnixNano = f.int!; break;
      case 8: span.endTimeUnixNano = f.int!; break;
      case 9: {
        const [key, value] = pbKeyValue(f.bytes!);
        span.attributes[key] = value;
        break;
      }
      case 11: {
        const e: OtlpEvent = { timeUnixNano: 0n, name: "", attributes: {} };
        for (const g of protoFields(f.bytes!)) {
          if (g.no === 1) e.timeUnixNano = g.int!;
          if (g.no === 2) e.name = str(g.bytes);
        }
        e.attributes = pbKeyValues(f.bytes!, 3);
        span.events.push(e);
        break;
      }
      case 12: span.droppedEventsCount = Number(f.int); break;
      case 13: {
        const l: OtlpLink = { traceId: "", spanId: "", attributes: pbKeyValues(f.bytes!, 4) };
        for (const g of protoFields(f.bytes!)) {
          if (g.no === 1) l.traceId = hex(g.bytes);
          if (g.no === 2) l.spanId = hex(g.bytes);
        }
        span.links.push(l);
        break;
      }
      case 14: span.droppedLinksCount = Number(f.int); break;
      case 15:
        for (const g of protoFields(f.bytes!)) {
          if (g.no === 2) span.status.message = str(g.bytes);
          if (g.no === 3) span.status.code = Number(g.int);
        }
        break;
    }
  }
  return span;
}

// ---- JSON ----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function jsonAnyValue(v: Json | undefined): OtlpValue {
  if (!v) return null;
  if ("stringValue" in v) return String(v["stringValue"]);
  if ("boolValue" in v) return Boolean(v["boolValue"]);
  if ("intValue" in v) return Number(v["intValue"]); // a number or a decimal string
  if ("doubleValue" in v) return Number(v["doubleValue"]);
  if ("arrayValue" in v) return (((v["arrayValue"] as Json)["values"] as Json[]) ?? []).map(jsonAnyValue);
  if ("kvlistValue" in v) return jsonKeyValues(((v["kvlistValue"] as Json)["values"] as Json[]) ?? []);
  if ("bytesValue" in v) return Uint8Array.from(Buffer.from(String(v["bytesValue"]), "base64"));
  return null;
}

function jsonKeyValues(list: Json[] | undefined): OtlpAttributes {
  const out: OtlpAttributes = {};
  for (const kv of list ?? []) out[String(kv["key"])] = jsonAnyValue(kv["value"] as Json);
  return out;
}

/** An ExportTraceServiceRequest (OTLP/JSON text) as spans. */
export function decodeJsonRequest(text: string): OtlpSpan[] {
  const request = JSON.parse(text) as Json;
  const keys = Object.keys(request);
  if (keys.some((k) => k !== "resourceSpans")) throw new Error(`ExportTraceServiceRequest: unexpected keys ${keys.join(", ")}`);
  const spans: OtlpSpan[] = [];
  for (const rs of (request["resourceSpans"] as Json[]) ?? []) {
    const resource = jsonKeyValues((rs["resource"] as Json | undefined)?.["attributes"] as Json[]);
    for (const ss of (rs["scopeSpans"] as Json[]) ?? []) {
      const sc = (ss["scope"] as Json | undefined) ?? {};
      const scope = { name: String(sc["name"] ?? ""), version: String(sc["version"] ?? "") };
      for (const s of (ss["spans"] as Json[]) ?? []) {
        const status = (s["status"] as Json | undefined) ?? {};
        spans.push({
          traceId: String(s["traceId"]),
          spanId: String(s["spanId"]),
          parentSpanId: s["parentSpanId"] ? String(s["parentSpanId"]) : "",
          name: String(s["name"]),
          kind: Number(s["kind"] ?? 0),
          startTimeUnixNano: BigInt(String(s["startTimeUnixNano"])),
          endTimeUnixNano: BigInt(String(s["endTimeUnixNano"])),
          attributes: jsonKeyValues(s["attributes"] as Json[]),
          events: ((s["events"] as Json[]) ?? []).map((e) => ({
            timeUnixNano: BigInt(String(e["timeUnixNano"])),
            name: String(e["name"]),
            attributes: jsonKeyValues(e["attributes"] as Json[]),
          })),
          droppedEventsCount: Number(s["droppedEventsCount"] ?? 0),
          links: ((s["links"] as Json[]) ?? []).map((l) => ({
            traceId: String(l["traceId"]),
            spanId: String(l["spanId"]),
            attributes: jsonKeyValues(l["attributes"] as Json[]),
          })),
          droppedLinksCount: Number(s["droppedLinksCount"] ?? 0),
          status: { code: Number(status["code"] ?? 0), message: String(status["message"] ?? "") },
          resource,
          scope,
        });
      }
    }
  }
  return spans;
}

// ---- files ---------------------------------------------------------------------------------

/** The requests of an OTLP file as trace-export writes it: JSON Lines (one request a line), or
 *  protobuf requests each after its length as a 4-byte big-endian number (the OpenTelemetry
 *  Collector file exporter's framing). */
export function otlpFileRequests(bytes: Uint8Array, format: "json" | "protobuf"): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (format === "json") {
    const text = Buffer.from(bytes).toString("utf8");
    if (!text.endsWith("\n")) throw new Error("OTLP JSON Lines file does not end with a newline");
    for (const line of text.slice(0, -1).split("\n")) out.push(Buffer.from(line, "utf8"));
    return out;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new Error(`cut inside a length at byte ${at}`);
    const n = view.getUint32(at, false);
    if (at + 4 + n > bytes.length) throw new Error(`cut inside a request at byte ${at}`);
    out.push(bytes.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  return out;
}

/** Every span of an OTLP file, request after request. */
export function decodeOtlpFile(bytes: Uint8Array, format: "json" | "protobuf"): OtlpSpan[] {
  return otlpFileRequests(bytes, format).flatMap((r) => (format === "json" ? decodeJsonRequest(Buffer.from(r).toString("utf8")) : decodeProtobufRequest(r)));
}
