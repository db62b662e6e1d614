// Test helper: the structural rules every exported OTLP trace must keep, whatever carried it
// (file, HTTP/JSON, HTTP/protobuf). Throws with the first broken rule; returns lookups for the
// test's own assertions.

import type { OtlpSpan } from "./otlp-decode.js";

export interface OtlpIndex {
  byId: Map<string, OtlpSpan>;
  byTrace: Map<string, OtlpSpan[]>;
  roots: OtlpSpan[];
  children(span: OtlpSpan): OtlpSpan[];
}

const key = (traceId: string, spanId: string) => `${traceId}/${spanId}`;

/** `singleRoot`: every trace has exactly one root (true for complete traces; a trace whose flow
 *  began before the recording may have more). Always: every event lies within its span's time,
 *  and every poll and flow-enter span (the spans whose parent a task moves between) ends within
 *  its parent. */
export function checkOtlp(spans: readonly OtlpSpan[], options: { singleRoot?: boolean } = {}): OtlpIndex {
  const byId = new Map<string, OtlpSpan>();
  const byTrace = new Map<string, OtlpSpan[]>();
  const kids = new Map<string, OtlpSpan[]>();
  for (const s of spans) {
    if (!/^[0-9a-f]{32}$/.test(s.traceId) || /^0+$/.test(s.traceId)) throw new Error(`bad trace id ${s.traceId} on ${s.name}`);
    if (!/^[0-9a-f]{16}$/.test(s.spanId) || /^0+$/.test(s.spanId)) throw new Error(`bad span id ${s.spanId} on ${s.name}`);
    if (s.parentSpanId !== "" && !/^[0-9a-f]{16}$/.test(s.parentSpanId)) throw new Error(`bad parent id on ${s.name}`);
    const k = key(s.traceId, s.spanId);
    if (byId.has(k)) throw new Error(`span ${k} (${s.name}) appears twice`);
    byId.set(k, s);
    const list = byTrace.get(s.traceId) ?? [];
    list.push(s);
    byTrace.set(s.traceId, list);
    if (s.endTimeUnixNano < s.startTimeUnixNano) throw new Error(`${s.name} ${k} ends before it starts`);
    if (s.startTimeUnixNano < 1_000_000_000_000_000_000n) throw new Error(`${s.name} starts at ${s.startTimeUnixNano}: not a Unix time in ns`);
    if (s.scope.name !== "taskscope") throw new Error(`scope ${s.scope.name}`);
    for (const e of s.events) {
      if (e.timeUnixNano < s.startTimeUnixNano || e.timeUnixNano > s.endTimeUnixNano) {
        throw new Error(`event ${e.name} of ${s.name} ${k} at ${e.timeUnixNano} lies outside its span (${s.startTimeUnixNano}-${s.endTimeUnixNano})`);
      }
    }
    for (const attr of ["service.name", "taskscope.device", "taskscope.firmware"]) {
      if (typeof s.resource[attr] !== "string") throw new Error(`resource of ${s.name} lacks ${attr}`);
    }
  }
  const roots: OtlpSpan[] = [];
  for (const s of spans) {
    if (s.parentSpanId === "") {
      roots.push(s);
      continue;
    }
    const parent = byId.get(key(s.traceId, s.parentSpanId));
    if (!parent) throw new Error(`${s.name} ${key(s.traceId, s.spanId)} has a parent ${s.parentSpanId} that is not in its trace`);
    const moves = s.name === "poll" || s.attributes["taskscope.flow.entered"] === true;
    if (moves && (s.startTimeUnixNano < parent.startTimeUnixNano || s.endTimeUnixNano > parent.endTimeUnixNano)) {
      throw new Error(`${s.name} ${key(s.traceId, s.spanId)} (${s.startTimeUnixNano}-${s.endTimeUnixNano}) is not within its parent ${parent.name} (${parent.startTimeUnixNano}-${parent.endTimeUnixNano})`);
    }
    const list = kids.get(key(parent.traceId, parent.spanId)) ?? [];
    list.push(s);
    kids.set(key(parent.traceId, parent.spanId), list);
    for (const l of s.links) {
      if (!byId.has(key(l.traceId, l.spanId))) throw new Error(`${s.name} links to ${key(l.traceId, l.spanId)}, which was not exported`);
    }
  }
  for (const root of roots) {
    for (const l of root.links) {
      if (!byId.has(key(l.traceId, l.spanId))) throw new Error(`${root.name} links to a span that was not exported`);
    }
  }
  for (const [traceId, list] of options.singleRoot === false ? [] : byTrace) {
    const r = list.filter((s) => s.parentSpanId === "");
    if (r.length !== 1) throw new Error(`trace ${traceId} has ${r.length} roots (${r.map((s) => s.name).join(", ")})`);
  }
  return { byId, byTrace, roots, children: (span) => kids.get(key(span.traceId, span.spanId)) ?? [] };
}

/** Span identities and names, sorted: two exports of the same file must give the same set. */
export function spanSignature(spans: readonly OtlpSpan[]): string[] {
  return spans.map((s) => `${s.traceId}/${s.spanId}<${s.parentSpanId} ${s.name} ${s.startTimeUnixNano}-${s.endTimeUnixNano} L${s.links.length} E${s.events.length}`).sort();
}
