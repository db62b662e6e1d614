// OTLP export (host/export/otlp): the demo firmware's real trace and small synthetic ones into
// files (protobuf written directly, held byte-for-byte to OpenTelemetry's own serializer; JSON by
// that library's serializer), read back with an independent decoder.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportOtlp, type OtlpExportOptions } from "../host/export/otlp/export.js";
import { EVENT } from "../host/format/spec.js";
import type { Lint } from "../host/model/lint.js";
import { readWholeTrace, type WholeTrace } from "../host/tracefile/trace.js";
import { TraceFileError } from "../host/tracefile/errors.js";
import { ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import { OtlpMapper } from "../host/export/otlp/mapper.js";
import { readableSpan } from "../host/export/otlp/readable.js";
import { ProtobufRequests, type EncodedRequest } from "../host/export/otlp/encode.js";
import { DEFAULT_SPAN_LIMITS, retainSpan, type OtlpSpan as SpanRecord } from "../host/export/otlp/spans.js";
import { Timeline } from "../host/export/timeline.js";
import { analyzeTrace } from "../host/model/analyze.js";
import { openTrace } from "../host/tracefile/trace.js";
import { decodeOtlpFile, otlpFileRequests, type OtlpSpan } from "./support/otlp-decode.js";
import { checkOtlp, spanSignature, type OtlpIndex } from "./support/otlp-check.js";
import { BASE_INFO, ev, pullDemoTrace, writeSyntheticTrace } from "./support/otlp-traces.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-otlp-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const attr = (s: { attributes: Record<string, unknown> }, k: string) => s.attributes[k];

async function toJson(trace: string, name: string, options: Partial<OtlpExportOptions> = {}): Promise<OtlpSpan[]> {
  const out = join(dir, name);
  await exportOtlp(trace, { toolVersion: "test", file: { path: out, format: "json" }, ...options });
  return decodeOtlpFile(readFileSync(out), "json");
}

/** Unix ns of a decoded time, computed here from the session anchor (1 MHz: 1000 ns per tick). */
function unixAt(trace: WholeTrace, t: number): bigint {
  const { anchor, tickHz } = trace.sessions[0]!.info;
  expect(tickHz).toBe(1_000_000);
  return anchor.unixNs + BigInt(t) - BigInt(anchor.ticks) * 1000n;
}

describe("OTLP export of the demo firmware's trace", () => {
  let file: string;
  let raw: WholeTrace;
  let spans: OtlpSpan[];
  let idx: OtlpIndex;
  const named = (n: string) => spans.filter((s) => s.name === n);

  beforeAll(async () => {
    file = await pullDemoTrace(join(dir, "demo.trace.cbor"));
    raw = readWholeTrace(file);
    spans = await toJson(file, "demo.json");
    idx = checkOtlp(spans);
  });

  it("writes JSON Lines and framed protobuf files holding the same spans, in requests of bounded size", async () => {
    const pb = join(dir, "demo.pb");
    const result = await exportOtlp(file, { toolVersion: "test", file: { path: pb, format: "protobuf" }, batchSize: 100, maxRequestBytes: 16 * 1024 });
    const requests = otlpFileRequests(readFileSync(pb), "protobuf");
    const fromPb = decodeOtlpFile(readFileSync(pb), "protobuf");
    expect(result.spans).toBe(spans.length);
    expect(spanSignature(fromPb)).toEqual(spanSignature(spans));
    // At most 100 spans and 16 KiB a request: every request is one a collector takes.
    expect(result.fileRequests).toBe(requests.length);
    expect(requests.length).toBeGreaterThan(fromPb.length / 100);
    for (const r of requests) expect(r.length).toBeLessThanOrEqual(16 * 1024);
    expect(Math.max(...requests.map((r) => r.length))).toBe(result.largestRequestBytes);
    const json = otlpFileRequests(readFileSync(join(dir, "demo.json")), "json");
    expect(json.length).toBeGreaterThan(0);
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  it("writes protobuf byte for byte as OpenTelemetry's own serializer does", () => {
    // The same span records, in the same batches, through both: the direct encoder and the
    // official ProtobufTraceSerializer on the SDK's ReadableSpan.
    const trace = openTrace(file);
    const records: SpanRecord[] = [];
    // The demo's lints, and an error (it sets the span's status) on the main task, with an
    // evidence of each kind of value.
    const t0 = raw.sessions[0]!.rows[0]!.t;
    const lints: Lint[] = [
      ...analyzeTrace(file).lints,
      { kind: "deadlock", severity: "error", title: "main stuck ✗", hint: "h", session: 0, tasks: [{ session: 0, id: 1, name: "main" }], atNs: t0 + 5000, evidence: { n: 2, x: 1.5, s: "é" } },
    ];
    const mapper = new OtlpMapper(
      { header: trace.header, polls: "spans", limits: DEFAULT_SPAN_LIMITS, lints, scope: { name: "taskscope", version: "test" }, resourceOverrides: { "deployment.environment": "test", "n": 3 } },
      (span) => records.push(retainSpan(span)),
    );
    const timeline = new Timeline(mapper);
    for (const { session, batch } of trace.batches()) timeline.consume(batch, session);
    timeline.finish(trace.summary());
    expect(records.some((r) => r.details?.events?.some((e) => e.name.startsWith("lint: ")))).toBe(true);
    expect(records.some((r) => r.details?.error !== undefined)).toBe(true);
    const requests: EncodedRequest[] = [];
    const encoder = new ProtobufRequests(1 << 30, 250, (r) => requests.push(r));
    for (const r of records) encoder.add(r);
    encoder.flush();
    expect(requests).toHaveLength(Math.ceil(records.length / 250));
    requests.forEach((request, i) => {
      const official = ProtobufTraceSerializer.serializeRequest(records.slice(i * 250, (i + 1) * 250).map(readableSpan))!;
      expect(Buffer.compare(Buffer.from(request.bytes), Buffer.from(official)), `request ${i}`).toBe(0);
    });
    // Transient requests (one buffer used again, what a file gets): a request of one source
    // leaves from its spans' own buffer, one of several sources is put together; the same bytes.
    const source = records[0]!.source;
    const other = { attributes: { ...source.attributes, "taskscope.session.index": 1 }, scope: source.scope, clock: source.clock };
    const mixed = records.map((r, i) => (Math.floor(i / 100) % 3 === 2 ? { ...r, source: other } : r));
    for (const [name, spans] of [["one source", records], ["two sources", mixed]] as const) {
      const got: Buffer[] = [];
      const transient = new ProtobufRequests(1 << 30, 250, (r) => got.push(Buffer.from(r.bytes)), { transient: true });
      for (const r of spans) transient.add(r);
      transient.flush();
      expect(got).toHaveLength(Math.ceil(spans.length / 250));
      got.forEach((bytes, i) => {
        const official = ProtobufTraceSerializer.serializeRequest(spans.slice(i * 250, (i + 1) * 250).map(readableSpan))!;
        expect(Buffer.compare(bytes, Buffer.from(official)), `${name}, request ${i}`).toBe(0);
      });
    }
  });

  it("makes one trace per device session and one per request (flow)", () => {
    const roots = idx.roots;
    const session = roots.filter((r) => r.name === "wasi-demo session 0");
    expect(session).toHaveLength(1);
    const flows = roots.filter((r) => r !== session[0]);
    expect(flows).toHaveLength(32); // the demo serves 32 requests
    expect(flows.every((f) => f.kind === 2)).toBe(true); // SERVER: a request being served
    const count = (n: string) => flows.filter((f) => f.name === n).length;
    expect([count("GET /status"), count("GET /users"), count("POST /orders")]).toEqual([16, 8, 8]);
    expect(new Set(flows.map((f) => f.traceId)).size).toBe(32);
    for (const f of flows) {
      expect(attr(f, "taskscope.task.name")).toBe("http-server");
      expect(attr(f, "taskscope.flow.ended")).toBe(true);
      // Linked to the server task's span, which lives in the session trace.
      expect(f.links.map((l) => idx.byId.get(`${l.traceId}/${l.spanId}`)?.name)).toEqual(["http-server"]);
    }
  });

  it("puts every task under the span of the task that spawned it, in its flow's trace", () => {
    const session = idx.roots.find((r) => r.name.endsWith("session 0"))!;
    const main = named("main")[0]!;
    expect(main.parentSpanId).toBe(session.spanId);
    for (const n of ["heartbeat", "producer", "consumer", "http-client", "http-server"]) {
      const [s] = named(n);
      expect(s!.parentSpanId, n).toBe(main.spanId);
      expect(s!.traceId).toBe(session.traceId);
    }
    const workers = named("worker");
    expect(workers).toHaveLength(72);
    for (const w of workers) {
      const parent = idx.byId.get(`${w.traceId}/${w.parentSpanId}`)!;
      expect(parent.kind).toBe(2); // the request's span: the server was serving it when it spawned them
      expect(attr(w, "taskscope.flow.name")).toBe(parent.name);
      expect(attr(w, "taskscope.task.parent_name")).toBe("http-server");
      expect(attr(w, "taskscope.task.state")).toBe("done");
    }
    for (const f of idx.roots.filter((r) => r.kind === 2)) {
      const n = idx.children(f).filter((c) => c.name === "worker").length;
      expect(n).toBe(f.name === "POST /orders" ? 3 : 2);
    }
  });

  it("makes every poll a child span with its result, await site and resource", () => {
    // A poll whose parent span (the request it served) ended during it goes on in a second part.
    const polls = named("poll").filter((p) => attr(p, "taskscope.poll.result") !== "continues");
    const pollBegins = raw.sessions[0]!.rows.filter((r) => r.kind === EVENT.POLL_BEGIN).length;
    expect(polls).toHaveLength(pollBegins);
    for (const p of polls) {
      const parent = idx.byId.get(`${p.traceId}/${p.parentSpanId}`)!;
      expect(parent.name === attr(p, "taskscope.task.name") || (parent.kind === 2 && attr(p, "taskscope.task.name") === "http-server")).toBe(true);
      expect(["ready", "pending"]).toContain(attr(p, "taskscope.poll.result"));
    }
    const split = named("poll").filter((p) => attr(p, "taskscope.poll.result") === "continues");
    expect(split.length).toBeGreaterThan(0);
    for (const first of split) {
      const next = named("poll").find((p) => p !== first && attr(p, "taskscope.task.name") === attr(first, "taskscope.task.name") && attr(p, "taskscope.poll.index") === attr(first, "taskscope.poll.index") && attr(p, "taskscope.poll.part") === 2)!;
      expect(next.startTimeUnixNano).toBe(first.endTimeUnixNano);
      expect(idx.byId.get(`${first.traceId}/${first.parentSpanId}`)!.endTimeUnixNano).toBe(first.endTimeUnixNano);
    }
    // The server's polls while serving a request are in that request's trace.
    const serverInFlows = polls.filter((p) => attr(p, "taskscope.task.name") === "http-server" && idx.byId.get(`${p.traceId}/${p.parentSpanId}`)!.kind === 2);
    expect(serverInFlows.length).toBeGreaterThanOrEqual(32);
    const workerPending = polls.filter((p) => attr(p, "taskscope.task.name") === "worker" && attr(p, "taskscope.poll.result") === "pending");
    expect(new Set(workerPending.map((p) => attr(p, "taskscope.await.site")))).toEqual(new Set(["worker: yield", "worker: lock db", "worker: db query"]));
    const lockWaits = workerPending.filter((p) => attr(p, "taskscope.await.site") === "worker: lock db");
    for (const p of lockWaits) {
      expect(attr(p, "taskscope.await.resource")).toBe("db");
      expect(attr(p, "taskscope.await.resource_kind")).toBe("mutex");
    }
    const producer = named("poll").filter((p) => attr(p, "taskscope.task.name") === "producer").map((p) => attr(p, "taskscope.poll.index"));
    expect(producer).toEqual(producer.map((_, i) => i + 1));
  });

  it("makes every wake by another task a link from the poll it caused to the waker", () => {
    const rows = raw.sessions[0]!.rows;
    const byTask = rows.filter((r) => r.kind === EVENT.WAKE_TASK && r.a !== r.task && r.a !== 0).length;
    const links = spans.flatMap((s) => s.links.filter((l) => l.attributes["taskscope.link"] === "woken by").map((l) => ({ s, l })));
    expect(links.length).toBe(byTask);
    for (const { s, l } of links) {
      expect(s.name).toBe("poll");
      const waker = idx.byId.get(`${l.traceId}/${l.spanId}`)!;
      const wakerTask = waker.name === "poll" ? attr(waker, "taskscope.task.name") : waker.kind === 2 ? attr(waker, "taskscope.task.name") : waker.name;
      expect(wakerTask).toBe(l.attributes["taskscope.task.name"]);
    }
    const producerWokenBy = new Set(links.filter(({ s }) => attr(s, "taskscope.task.name") === "producer").map(({ l }) => l.attributes["taskscope.task.name"]));
    expect(producerWokenBy).toEqual(new Set(["consumer"]));
    // Timer wakes come from outside any task: an attribute, no link.
    const timerWoken = spans.filter((s) => s.name === "poll" && attr(s, "taskscope.wake.source") === "external");
    expect(timerWoken.length).toBeGreaterThan(100);
    expect(timerWoken.every((s) => s.links.length === 0)).toBe(true);
  });

  it("carries the trace's own times, in Unix nanoseconds, exactly", () => {
    const rows = raw.sessions[0]!.rows;
    const session = idx.roots.find((r) => r.name.endsWith("session 0"))!;
    expect(session.startTimeUnixNano).toBe(unixAt(raw, rows[0]!.t));
    expect(session.endTimeUnixNano).toBe(unixAt(raw, rows[rows.length - 1]!.t));
    const spawnMain = rows.find((r) => r.kind === EVENT.SPAWN && r.task === 1)!;
    expect(named("main")[0]!.startTimeUnixNano).toBe(unixAt(raw, spawnMain.t));
    const firstPoll = rows.find((r) => r.kind === EVENT.POLL_BEGIN && r.task === 3)!;
    const firstEnd = rows.find((r) => (r.kind === EVENT.POLL_PENDING || r.kind === EVENT.POLL_READY) && r.task === 3 && r.t >= firstPoll.t)!;
    const p = named("poll").find((s) => attr(s, "taskscope.task.name") === "producer" && attr(s, "taskscope.poll.index") === 1)!;
    expect(p.startTimeUnixNano).toBe(unixAt(raw, firstPoll.t));
    expect(p.endTimeUnixNano).toBe(unixAt(raw, firstEnd.t));
  });

  it("names the device and firmware in the resource", () => {
    const r = spans[0]!.resource;
    expect(r["service.name"]).toBe("taskscope-demo 0.1");
    expect(r["taskscope.device"]).toBe("wasi-demo");
    expect(r["taskscope.firmware"]).toBe("taskscope-demo 0.1");
    expect(r["taskscope.tick_hz"]).toBe(1_000_000);
    expect(r["taskscope.device_session"]).toBe(raw.sessions[0]!.info.deviceSession);
    expect(spans[0]!.scope).toEqual({ name: "taskscope", version: "test" });
  });

  it("gives the same ids, and the same bytes, every time the same file is exported", async () => {
    await exportOtlp(file, { toolVersion: "test", file: { path: join(dir, "again.json"), format: "json" } });
    const again = readFileSync(join(dir, "again.json"));
    expect(again.length).toBe(readFileSync(join(dir, "demo.json")).length);
    expect(Buffer.compare(again, readFileSync(join(dir, "demo.json")))).toBe(0);
  });

  it("--polls events: polls become events on the task's span, within the per-span limit", async () => {
    const ev = await toJson(file, "events.json", { polls: "events", limits: { events: 128, links: 128 } });
    checkOtlp(ev);
    expect(ev.filter((s) => s.name === "poll")).toHaveLength(0);
    const producer = ev.find((s) => s.name === "producer")!;
    const polls = Number(attr(producer, "taskscope.task.polls"));
    expect(polls).toBeGreaterThan(128);
    // Its events are its polls and its blocking channel operations, the first 128 kept and the
    // rest counted, not lost silently.
    const producerId = Number(attr(producer, "taskscope.task.id"));
    const blocking = raw.sessions[0]!.rows.filter((r) => r.kind === EVENT.RES_OP && r.task === producerId && r.c !== 0).length;
    expect(producer.events).toHaveLength(128);
    expect(producer.droppedEventsCount).toBe(polls + blocking - 128);
    expect(producer.events[0]!.name).toBe("poll");
    const wokenByOthers = raw.sessions[0]!.rows.filter((r) => r.kind === EVENT.WAKE_TASK && r.task === producerId && r.a !== producerId).length;
    expect(producer.links.length + producer.droppedLinksCount).toBe(wokenByOthers);
    expect(producer.links).toHaveLength(Math.min(128, wokenByOthers));
    const worker = ev.find((s) => s.name === "worker")!;
    const pe = worker.events.filter((e) => e.name === "poll");
    expect(pe.length).toBe(Number(attr(worker, "taskscope.task.polls")));
    expect(pe.every((e) => typeof e.attributes["taskscope.poll.duration_ns"] === "number")).toBe(true);
  });
});

describe("OTLP mapping details (synthetic traces)", () => {
  // Names: 1 task "server", 2 task "consumer", 3 site "recv", 4 flow "GET /x", 5 format "got {}",
  // 6 resource "jobs", 7 task "worker".
  const NAMES = [[1, "server"], [1, "consumer"], [2, "recv"], [7, "GET /x"], [4, "got {}"], [3, "jobs"], [1, "worker"]] as const;

  it("gives a task that enters a flow a span in that flow's trace while it serves it", async () => {
    const path = writeSyntheticTrace(join(dir, "enter.trace.cbor"), [{
      names: NAMES,
      events: [
        ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }),
        ev(EVENT.SPAWN, 11, { task: 2, parent: 0, name: 2, flow: 0 }),
        ev(EVENT.POLL_BEGIN, 20, { task: 1 }),
        ev(EVENT.FLOW_BEGIN, 21, { flow: 9, name: 4 }),
        ev(EVENT.RES_CREATE, 22, { res: 3, kind: 0, name: 6, capacity: 4 }),
        ev(EVENT.RES_OP, 23, { res: 3, op: 0, outcome: 0, level: 1 }),
        ev(EVENT.WAKE_TASK, 24, { target: 2, by: 1 }),
        ev(EVENT.AWAIT, 25, { site: 3, resource: 3 }),
        ev(EVENT.POLL_PENDING, 26),
        ev(EVENT.POLL_BEGIN, 30, { task: 2 }),
        ev(EVENT.RES_OP, 31, { res: 3, op: 1, outcome: 0, level: 0 }),
        ev(EVENT.FLOW_ENTER, 32, { task: 2, flow: 9 }),
        ev(EVENT.LOG, 33, { format: 5, level: 2 }, [7]),
        ev(EVENT.SPAWN, 34, { task: 3, parent: 2, name: 7, flow: 9 }),
        ev(EVENT.POLL_PENDING, 35),
        ev(EVENT.POLL_BEGIN, 40, { task: 2 }),
        ev(EVENT.FLOW_ENTER, 41, { task: 2, flow: 0 }),
        ev(EVENT.POLL_PENDING, 42),
        ev(EVENT.POLL_BEGIN, 50, { task: 1 }),
        ev(EVENT.FLOW_END, 51, { flow: 9 }),
        ev(EVENT.POLL_PENDING, 52),
      ],
    }]);
    const spans = await toJson(path, "enter.json");
    const idx = checkOtlp(spans);
    const flow = spans.find((s) => s.name === "GET /x")!;
    const segment = spans.find((s) => s.name === "consumer" && s.traceId === flow.traceId)!;
    expect(segment.parentSpanId).toBe(flow.spanId);
    expect(attr(segment, "taskscope.flow.entered")).toBe(true);
    expect(segment.startTimeUnixNano).toBe(BASE_INFO.anchor.unixNs + 32_000n);
    expect(segment.endTimeUnixNano).toBe(BASE_INFO.anchor.unixNs + 41_000n);
    const consumer = spans.find((s) => s.name === "consumer" && s.traceId !== flow.traceId)!;
    expect(segment.links.map((l) => l.spanId)).toEqual([consumer.spanId]);
    // The poll it was in when it entered stays under its task span; the log after the enter
    // goes on that poll; the worker it spawns while serving the flow hangs under the segment.
    const worker = spans.find((s) => s.name === "worker")!;
    expect(worker.traceId).toBe(flow.traceId);
    expect(worker.parentSpanId).toBe(segment.spanId);
    const secondPoll = spans.find((s) => s.name === "poll" && attr(s, "taskscope.task.name") === "consumer" && attr(s, "taskscope.poll.index") === 2)!;
    expect(secondPoll.parentSpanId).toBe(segment.spanId);
    const log = spans.flatMap((s) => s.events.filter((e) => e.name === "log"))[0]!;
    expect(log.attributes["message"]).toBe("got 7");
    expect(log.attributes["log.severity"]).toBe("info");
    // A poll belongs where the task was when it began: the server's first poll (in which it
    // began the flow) is in the session trace, its next one, serving the flow, in the flow's.
    // It ends the flow during that poll: the poll's part so far ends with the flow's span, the rest
    // goes on under the server's own span.
    const serverPolls = spans.filter((s) => s.name === "poll" && attr(s, "taskscope.task.name") === "server");
    expect(serverPolls.map((p) => p.traceId === flow.traceId)).toEqual([false, true, false]);
    expect(serverPolls[1]!.parentSpanId).toBe(flow.spanId);
    expect(flow.endTimeUnixNano).toBe(BASE_INFO.anchor.unixNs + 51_000n);
    expect(serverPolls.slice(1).map((p) => [attr(p, "taskscope.poll.index"), attr(p, "taskscope.poll.result"), attr(p, "taskscope.poll.part") ?? null, p.endTimeUnixNano - BASE_INFO.anchor.unixNs]))
      .toEqual([[2, "continues", 1, 51_000n], [2, "pending", 2, 52_000n]]);
    expect(serverPolls[2]!.parentSpanId).toBe(spans.find((s) => s.name === "server")!.spanId);
    expect(idx.roots).toHaveLength(2);
    // The consumer was woken by the server during the server's poll: the link points at that poll.
    const wokenPoll = spans.find((s) => s.name === "poll" && attr(s, "taskscope.task.name") === "consumer" && attr(s, "taskscope.poll.index") === 1)!;
    expect(wokenPoll.links.map((l) => idx.byId.get(`${l.traceId}/${l.spanId}`)!.name)).toEqual(["poll"]);
    // Runnable since its spawn at 11 µs, polled at 30 µs: 19 µs scheduled, made runnable by the spawn.
    expect(attr(wokenPoll, "taskscope.poll.scheduled_ns")).toBe(19_000);
    expect(attr(wokenPoll, "taskscope.wake.source")).toBe("spawn");
  });

  it("places lints as span events on the tasks they name, errors as the span's status", async () => {
    const path = writeSyntheticTrace(join(dir, "lints.trace.cbor"), [{
      names: NAMES,
      events: [
        ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }),
        ev(EVENT.SPAWN, 11, { task: 2, parent: 1, name: 2, flow: 0 }),
        ev(EVENT.POLL_BEGIN, 20, { task: 2 }),
        ev(EVENT.AWAIT, 21, { site: 3, resource: 0 }),
        ev(EVENT.POLL_PENDING, 22),
        ev(EVENT.TASK_DONE, 30, { task: 2 }),
        ev(EVENT.SPAWN, 40, { task: 2, parent: 1, name: 7, flow: 0 }),
        ev(EVENT.POLL_BEGIN, 50, { task: 2 }),
        ev(EVENT.POLL_READY, 60),
        ev(EVENT.TASK_DONE, 61, { task: 2 }),
        ev(EVENT.POLL_BEGIN, 70, { task: 1 }),
        ev(EVENT.POLL_PENDING, 80),
      ],
    }]);
    const lint = (l: Partial<Lint> & Pick<Lint, "kind" | "atNs" | "tasks">): Lint => ({
      severity: "warning", title: `${l.kind} title`, hint: "do something", session: 0, evidence: {}, ...l,
    });
    const t = (id: number, name: string) => ({ session: 0, id, name });
    const lints: Lint[] = [
      lint({ kind: "lost-wakeup", severity: "error", atNs: 22_000, tasks: [t(2, "consumer")], site: "recv", evidence: { parkedNs: 8000, site: "recv" } }),
      lint({ kind: "long-poll", atNs: 55_000, untilNs: 60_000, tasks: [t(2, "worker")] }),
      lint({ kind: "deadlock", atNs: 75_000, tasks: [t(1, "server"), t(2, "worker")] }),
      lint({ kind: "lost-events", severity: "error", atNs: 10_000, tasks: [] }),
      lint({ kind: "leak", atNs: 12_000, tasks: [t(99, "ghost")] }),
      // Between the two incarnations of id 2: on neither task's span, but the session's.
      lint({ kind: "starvation", atNs: 35_000, tasks: [t(2, "worker")] }),
    ];
    const spans = await toJson(path, "lints.json", { lints });
    checkOtlp(spans);
    const lintsOn = (s: OtlpSpan) => s.events.filter((e) => e.name.startsWith("lint: ")).map((e) => e.name.slice(6));
    const consumer = spans.find((s) => s.name === "consumer")!;
    expect(lintsOn(consumer)).toEqual(["lost-wakeup"]);
    expect(consumer.status).toEqual({ code: 2, message: "lost-wakeup title" });
    const e = consumer.events.find((x) => x.name === "lint: lost-wakeup")!;
    expect(e.timeUnixNano).toBe(BASE_INFO.anchor.unixNs + 22_000n);
    expect(e.attributes).toMatchObject({
      "taskscope.lint.kind": "lost-wakeup", "taskscope.lint.severity": "error", "message": "lost-wakeup title",
      "taskscope.lint.hint": "do something", "taskscope.lint.site": "recv", "taskscope.lint.evidence.parkedNs": 8000,
    });
    // Task id 2 again, a second incarnation: its own lints only.
    const worker = spans.find((s) => s.name === "worker")!;
    expect(attr(worker, "taskscope.task.incarnation")).toBe(2);
    expect(lintsOn(worker)).toEqual(["long-poll"]);
    expect(worker.status.code).toBe(0);
    expect(worker.events.find((x) => x.name === "lint: long-poll")!.attributes["taskscope.lint.duration_ns"]).toBe(5000);
    // The server (alive at the end) takes the deadlock; the worker had ended by then, so the
    // lint's other half goes to the session with the lints about no task or an unseen one.
    const server = spans.find((s) => s.name === "server")!;
    expect(lintsOn(server)).toEqual(["deadlock"]);
    const session = spans.find((s) => s.name === "test-board session 0")!;
    expect(lintsOn(session)).toEqual(["lost-events", "leak", "starvation"]);
    expect(session.status.code).toBe(2);
    expect(spans.flatMap(lintsOn).sort()).toEqual(["deadlock", "leak", "long-poll", "lost-events", "lost-wakeup", "starvation"]);
  });

  it("exports a trace that starts mid-poll, with tasks whose spawn is not recorded", async () => {
    const path = writeSyntheticTrace(join(dir, "midway.trace.cbor"), [{
      names: NAMES,
      contextTask: 5,
      events: [
        ev(EVENT.AWAIT, 100, { site: 3, resource: 0 }),
        ev(EVENT.POLL_PENDING, 101),
        ev(EVENT.WAKE_IRQ, 110, { target: 5, irq: 7 }),
        ev(EVENT.POLL_BEGIN, 111, { task: 5 }),
        ev(EVENT.MARK, 112, { name: 3 }),
        ev(EVENT.POLL_PENDING, 113),
      ],
    }]);
    const result = await exportOtlp(path, { toolVersion: "test", file: { path: join(dir, "midway.json"), format: "json" } });
    expect(result.timeline.pollEndsWithoutBegin).toBe(1);
    const spans = decodeOtlpFile(readFileSync(join(dir, "midway.json")), "json");
    checkOtlp(spans);
    const task = spans.find((s) => s.name === "task 5")!;
    expect(attr(task, "taskscope.task.spawn_recorded")).toBe(false);
    expect(attr(task, "taskscope.task.state")).toBe("alive at end of trace");
    expect(task.startTimeUnixNano).toBe(BASE_INFO.anchor.unixNs + 100_000n);
    const poll = spans.find((s) => s.name === "poll")!;
    expect(attr(poll, "taskscope.wake.source")).toBe("irq");
    expect(poll.links).toEqual([]);
    expect(poll.events.map((e) => e.name)).toEqual(["mark: recv"]);
  });

  it("keeps two sessions apart: own resource, own session trace, distinct ids for equal task ids", async () => {
    const events = [ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, 20, { task: 1 }), ev(EVENT.POLL_READY, 30), ev(EVENT.TASK_DONE, 31, { task: 1 })];
    const path = writeSyntheticTrace(join(dir, "two.trace.cbor"), [
      { names: NAMES, events },
      { names: NAMES, events, info: { deviceSession: 0x5678, anchor: { ticks: 0, unixNs: BASE_INFO.anchor.unixNs + 5_000_000_000n } } },
    ]);
    const spans = await toJson(path, "two.json");
    const idx = checkOtlp(spans);
    expect(idx.roots.map((r) => r.name).sort()).toEqual(["test-board session 0", "test-board session 1"]);
    const servers = spans.filter((s) => s.name === "server");
    expect(servers).toHaveLength(2);
    expect(servers[0]!.spanId).not.toBe(servers[1]!.spanId);
    expect(servers[0]!.traceId).not.toBe(servers[1]!.traceId);
    expect(servers.map((s) => Number(s.resource["taskscope.device_session"])).sort((p, q) => p - q)).toEqual([0x1234, 0x5678]);
    expect(servers[1]!.startTimeUnixNano - servers[0]!.startTimeUnixNano).toBe(5_000_000_000n);
  });

  it("converts ticks of a clock that does not divide 1e9 exactly (32768 Hz)", async () => {
    const unix = 1_790_000_000_123_456_789n;
    const path = writeSyntheticTrace(join(dir, "rtc.trace.cbor"), [{
      names: NAMES,
      info: { tickHz: 32768, anchor: { ticks: 1000, unixNs: unix } },
      events: [ev(EVENT.SPAWN, 3 * 32768 + 5, { task: 1, parent: 0, name: 1, flow: 0 }), ev(EVENT.TASK_DONE, 2 ** 40 + 3, { task: 1 })],
    }]);
    const spans = await toJson(path, "rtc.json");
    const server = spans.find((s) => s.name === "server")!;
    const at = (ticks: bigint) => unix + ((ticks - 1000n) * 1_000_000_000n) / 32768n;
    expect(server.startTimeUnixNano).toBe(at(3n * 32768n + 5n));
    expect(server.endTimeUnixNano).toBe(at(2n ** 40n + 3n));
  });

  it("counts links past the per-span limit in the span's dropped count", async () => {
    const wakes = Array.from({ length: 5 }, (_, i) => ev(EVENT.WAKE_TASK, 30 + i, { target: 2, by: 1 }));
    const path = writeSyntheticTrace(join(dir, "limits.trace.cbor"), [{
      names: NAMES,
      events: [
        ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }),
        ev(EVENT.SPAWN, 11, { task: 2, parent: 0, name: 2, flow: 0 }),
        ev(EVENT.POLL_BEGIN, 20, { task: 1 }),
        ...wakes,
        ev(EVENT.POLL_PENDING, 40),
        ev(EVENT.POLL_BEGIN, 50, { task: 2 }),
        ev(EVENT.POLL_PENDING, 60),
      ],
    }]);
    const result = await exportOtlp(path, { toolVersion: "test", file: { path: join(dir, "limits.json"), format: "json" }, limits: { events: 128, links: 2 } });
    const poll = decodeOtlpFile(readFileSync(join(dir, "limits.json")), "json").find((s) => s.name === "poll" && attr(s, "taskscope.task.name") === "consumer")!;
    expect(poll.links).toHaveLength(2);
    expect(poll.droppedLinksCount).toBe(3);
    expect(result.map.droppedLinks).toBe(3);
  });

  it("exports a file cut off mid-record up to the cut, and says so in the session span", async () => {
    const path = writeSyntheticTrace(join(dir, "cut.trace.cbor"), [{
      names: NAMES,
      events: Array.from({ length: 400 }, (_, i) => ev(i % 2 === 0 ? EVENT.POLL_BEGIN : EVENT.POLL_PENDING, 10 + i, i % 2 === 0 ? { task: 1 } : {})),
      chunkSize: 128,
    }]);
    const bytes = readFileSync(path);
    writeFileSync(join(dir, "cut2.trace.cbor"), bytes.subarray(0, bytes.length - 40));
    const result = await exportOtlp(join(dir, "cut2.trace.cbor"), { toolVersion: "test", file: { path: join(dir, "cut.json"), format: "json" } });
    expect(result.summary.truncated).toBeDefined();
    const spans = decodeOtlpFile(readFileSync(join(dir, "cut.json")), "json");
    const session = spans.find((s) => s.name === "test-board session 0")!;
    expect(attr(session, "taskscope.trace.truncated_at_byte")).toBe(result.summary.truncated!.offset);
    expect(spans.filter((s) => s.name === "poll").length).toBeGreaterThan(100);
  });

  it("stops at a corrupt file with its byte offset, leaving no output behind", async () => {
    const path = writeSyntheticTrace(join(dir, "bad.trace.cbor"), [{
      names: NAMES,
      events: Array.from({ length: 2000 }, (_, i) => ev(i % 2 === 0 ? EVENT.POLL_BEGIN : EVENT.POLL_PENDING, 10 + i, i % 2 === 0 ? { task: 1 } : {})),
    }]);
    const bytes = Buffer.from(readFileSync(path));
    bytes.fill(0xff, 0, 32); // the header: damage further in is skipped and reported (test/hostile-file.test.ts)
    writeFileSync(path, bytes);
    const out = join(dir, "bad.json");
    const error = await exportOtlp(path, { toolVersion: "test", file: { path: out, format: "json" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TraceFileError);
    expect((error as TraceFileError).message).toMatch(/byte \d+/);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });
});
