// The live OTLP export (trace-pull --stream --otlp) in process: a trace stored item by item
// through the pull's store tap while its spans go to a real local collector, compared with
// trace-export --otlp of the finished file; the send queue against a collector that answers 503,
// refuses, or is down; and the memory it holds over a long spawn-per-request run, counted in
// records. The whole command, with simulated boards on ptys, is test/fleet.test.ts.

import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setImmediate as yieldNow } from "node:timers/promises";
import { resolveSendConfig } from "../host/export/otlp/config.js";
import { exportOtlp } from "../host/export/otlp/export.js";
import { OtlpRequestSender } from "../host/export/otlp/http-sink.js";
import { LiveOtlpExport, type LiveOtlpOptions } from "../host/export/otlp/live.js";
import { SendQueue, type QueueEvent, type SendQueueOptions } from "../host/export/otlp/send-queue.js";
import { DEFAULT_SPAN_LIMITS, SpanDetails, SpanKind, type OtlpSpan as MappedSpan } from "../host/export/otlp/spans.js";
import { SessionClock } from "../host/export/clock.js";
import { EVENT } from "../host/format/spec.js";
import { analyzeTrace } from "../host/model/analyze.js";
import type { Lint } from "../host/model/lint.js";
import { TappedTraceWriter } from "../host/pull/store-tap.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { writeWorkload } from "../bench/workloads.js";
import { TestCollector } from "./support/collector.js";
import { checkOtlp, spanSignature } from "./support/otlp-check.js";
import { decodeOtlpFile, type OtlpSpan } from "./support/otlp-decode.js";
import { BASE_INFO, ev, pullDemoTrace } from "./support/otlp-traces.js";
import { replayTrace } from "../bench/replay.js";
import { encodeChunks } from "./support/wire-encoder.js";

let dir: string;
let demo: string;
const collectors: TestCollector[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-otlp-live-"));
  // A scenario with a real finding (the clean demo has none on a quiet machine).
  demo = await pullDemoTrace(join(dir, "demo.trace.cbor"), "slow-requests");
});
afterEach(async () => {
  for (const c of collectors.splice(0)) await c.close().catch(() => undefined);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collector(): Promise<TestCollector> {
  const c = await TestCollector.start();
  collectors.push(c);
  return c;
}

function liveOptions(url: string, extra: Partial<LiveOtlpOptions> = {}): LiveOtlpOptions {
  return {
    toolVersion: "test",
    send: resolveSendConfig({ endpoint: url }, {})!,
    batchSize: 64,
    maxRequestBytes: 1 << 20,
    queueSpans: 1 << 20,
    queueBytes: 1 << 30,
    delayMs: 5,
    ...extra,
  };
}

/** Stores `file` again through the pull's tap into a live export sending to `c`, yielding between
 *  items so requests go while the trace is written; then ends it with `lints`. */
async function streamLive(file: string, c: TestCollector, lints: readonly Lint[] = [], extra: Partial<LiveOtlpOptions> = {}) {
  const live = new LiveOtlpExport(liveOptions(c.url, extra));
  const out = join(dir, `live-${Math.random().toString(36).slice(2)}.trace.cbor`);
  const writer = new TappedTraceWriter(out, live.store);
  let sentWhileWriting = 0;
  await replayTrace(file, writer, async () => {
    await yieldNow();
    sentWhileWriting = live.queue.stats.sent;
  });
  writer.close();
  const result = await live.finish(lints, Date.now() + 20_000);
  return { live, result, out, sentWhileWriting };
}

async function fileExport(file: string, lints: readonly Lint[] = []): Promise<OtlpSpan[]> {
  const out = join(dir, `file-${Math.random().toString(36).slice(2)}.json`);
  await exportOtlp(file, { toolVersion: "test", file: { path: out, format: "json" }, lints });
  return decodeOtlpFile(readFileSync(out), "json");
}

const lintEvents = (spans: readonly OtlpSpan[]) =>
  new Set(spans.flatMap((s) => s.events.filter((e) => e.name.startsWith("lint: ")).map((e) => `${e.name} | ${String(e.attributes["message"])}`)));

/** Spans without their lint events (the one thing a live export places differently). */
const withoutLints = (spans: readonly OtlpSpan[]) => spans.map((s) => ({ ...s, events: s.events.filter((e) => !e.name.startsWith("lint: ")) }));

describe("spans sent while the trace is written", () => {
  it("are the very spans trace-export --otlp makes of the file (ids, parents, names, times, links, events), lints on the spans still open", async () => {
    const lints = analyzeTrace(demo).lints;
    expect(lints.length).toBeGreaterThan(0);
    const c = await collector();
    const { result, sentWhileWriting } = await streamLive(demo, c, lints);
    const live = c.spans();
    const fromFile = await fileExport(demo, lints);
    expect(fromFile.length).toBeGreaterThan(1000);
    checkOtlp(live);
    expect(spanSignature(withoutLints(live))).toEqual(spanSignature(withoutLints(fromFile)));
    // Attributes too (the task's figures, the session's loss account).
    const byId = new Map(fromFile.map((s) => [s.spanId, s]));
    for (const s of live) expect(s.attributes, s.name).toEqual(byId.get(s.spanId)!.attributes);
    // They left while it was written, not at the end; and each once.
    expect(sentWhileWriting).toBeGreaterThan(fromFile.length / 2);
    expect(result.queue).toMatchObject({ sent: fromFile.length, droppedFull: 0, refused: 0, unsent: 0 });
    expect(c.requests.every((r) => r.spans.length <= 64)).toBe(true);
    // Every lint, once each; those whose tasks' spans had left are on the session's span.
    expect(result.lints).toBe(lints.length);
    expect(lintEvents(live)).toEqual(lintEvents(fromFile));
    const session = live.find((s) => s.parentSpanId === "" && s.name.endsWith("session 0"))!;
    expect(session.events.some((e) => e.name.startsWith("lint: "))).toBe(true);
  });

  it("keeps sessions apart and counts their losses as the file's reader does (a gap, a stored link loss)", async () => {
    const c = await collector();
    const file = join(dir, "losses.trace.cbor");
    const names = [{ id: 1, kind: 1, text: "worker" }];
    const events = [];
    for (let i = 0; i < 400; i++) {
      const t = 10 + i * 10;
      events.push(ev(EVENT.SPAWN, t, { task: 1 + (i % 7), parent: 0, name: 1, flow: 0 }), ev(EVENT.POLL_BEGIN, t + 1, { task: 1 + (i % 7) }), ev(EVENT.POLL_READY, t + 2), ev(EVENT.TASK_DONE, t + 3, { task: 1 + (i % 7) }));
    }
    const payloads = encodeChunks(events, { chunkSize: 64 });
    expect(payloads.length).toBeGreaterThan(12);
    const w = new TraceWriter(file);
    w.header({ tool: "test", source: "synthetic", created: 1_800_000_000_000_000_000n });
    for (const [n, deviceSession] of [[0, 0x11], [1, 0x22]] as const) {
      const s = w.session({ ...BASE_INFO, deviceSession });
      w.names(s, names);
      // Chunk 3 missing with no word of it (a seq gap); chunk 6 lost on the link, said so first.
      w.chunks(s, payloads.slice(0, 3));
      w.chunks(s, payloads.slice(4, 6));
      w.loss(s, { kind: "link", chunks: 1, fromSeq: 6, toSeq: 6, reason: "gave up" });
      w.chunks(s, payloads.slice(7, n === 0 ? 10 : 12));
      w.counters(s, { recorded: 1600, drained: 1600, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0, namesDropped: 0, nextSeq: 12, pendingEvents: 0, now: 0, firstDrop: 0, lastDrop: 0 });
    }
    w.footer({ reason: "test", events: 0 });
    w.close();
    await streamLive(file, c);
    const live = c.spans();
    const fromFile = await fileExport(file);
    expect(spanSignature(live)).toEqual(spanSignature(fromFile));
    const sessions = live.filter((s) => s.parentSpanId === "");
    expect(sessions.map((s) => s.name).sort()).toEqual(["test-board session 0", "test-board session 1"]);
    for (const s of sessions) {
      expect(s.attributes["taskscope.loss.missing_chunks"]).toBe(2);
      expect(s.attributes).toEqual(fromFile.find((f) => f.spanId === s.spanId)!.attributes);
    }
  });
});

// ---- the queue ---------------------------------------------------------------------------------

const SOURCE = {
  attributes: { "service.name": "queue-test", "taskscope.device": "board", "taskscope.firmware": "fw" },
  scope: { name: "taskscope", version: "test" },
  clock: new SessionClock({ ticks: 0, unixNs: 1_800_000_000_000_000_000n }, 1_000_000),
};

/** `n` distinct spans (span ids 1..n). */
function spans(n: number, from = 1): MappedSpan[] {
  const traceId = new Uint8Array(16).fill(7);
  return Array.from({ length: n }, (_, i) => {
    const spanId = new Uint8Array(8);
    new DataView(spanId.buffer).setUint32(4, from + i);
    return {
      ref: { traceId, spanId }, parent: undefined, name: "s", kind: SpanKind.INTERNAL, startT: 1000 * i, endT: 1000 * i + 10,
      attributes: [], details: new SpanDetails(DEFAULT_SPAN_LIMITS), source: SOURCE,
    };
  });
}

function queueTo(c: TestCollector, options: Partial<SendQueueOptions> = {}) {
  // A short export timeout: the exporter gives up on a 503 at once (its backoff would not fit),
  // so the queue's own retries are what is tested, with short pauses.
  const send = resolveSendConfig({ endpoint: c.url, timeoutMs: "300" }, {})!;
  const events: QueueEvent[] = [];
  const queue = new SendQueue(new OtlpRequestSender(send, 4, { serverErrorRetries: 0 }), {
    encoding: "protobuf", limits: { maxSpans: 10, maxBytes: 1 << 20 }, maxSpans: 1000, maxBytes: 1 << 30, delayMs: 5, retryPauseMs: 20,
    onEvent: (e) => events.push(e), ...options,
  });
  return { queue, events };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const received = (c: TestCollector) => c.spans().map((s) => s.spanId);

describe("the send queue", () => {
  it("tries again while the collector answers 503 and delivers every span once", async () => {
    const c = await collector();
    c.hold({ status: 503 });
    const { queue, events } = queueTo(c);
    for (const s of spans(95)) queue.add(s);
    await until("a few 503s", () => c.requests.length >= 4);
    expect(queue.stats.sent).toBe(0);
    c.hold(undefined);
    await queue.close(Date.now() + 20_000);
    const ids = received(c);
    expect(new Set(ids).size).toBe(95);
    expect(ids).toHaveLength(95);
    expect(queue.stats).toMatchObject({ spans: 95, sent: 95, droppedFull: 0, refused: 0, unsent: 0 });
    expect(queue.stats.retried).toBeGreaterThanOrEqual(3);
    expect(events.map((e) => e.kind)).toEqual(["failing", "recovered"]);
    expect(events[0]).toMatchObject({ reason: expect.stringContaining("try again later") });
  });

  it("drops and counts what comes while it is full, the collector down; sends the rest once when it is back", async () => {
    const c = await collector();
    await c.down();
    const { queue, events } = queueTo(c, { maxSpans: 50 });
    for (const s of spans(40)) queue.add(s);
    await until("a failed try", () => events.some((e) => e.kind === "failing"));
    for (const s of spans(160, 41)) queue.add(s);
    expect(queue.stats.droppedFull).toBe(150);
    expect(queue.queued).toBe(50);
    await c.up();
    await until("the collector to take spans", () => events.some((e) => e.kind === "recovered"));
    for (const s of spans(5, 1000)) queue.add(s); // room again
    await queue.close(Date.now() + 20_000);
    const ids = received(c);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(55);
    expect(queue.stats).toMatchObject({ spans: 205, sent: 55, droppedFull: 150, refused: 0, unsent: 0 });
    expect(queue.stats.peakSpans).toBe(50);
    expect(events.map((e) => e.kind)).toEqual(["failing", "full", "recovered"]);
    expect(events[0]).toMatchObject({ reason: expect.stringContaining("ECONNREFUSED") });
    expect(events[2]).toMatchObject({ droppedMeanwhile: 150 });
  });

  it("counts what the collector refuses (HTTP 400), says so once, and goes on", async () => {
    const c = await collector();
    c.hold({ status: 400, body: "bad data" });
    const { queue, events } = queueTo(c);
    for (const s of spans(30)) queue.add(s);
    await until("the refusals", () => queue.stats.refused === 30);
    c.hold(undefined);
    for (const s of spans(7, 100)) queue.add(s);
    await queue.close(Date.now() + 20_000);
    expect(queue.stats).toMatchObject({ spans: 37, sent: 7, refused: 30, droppedFull: 0, unsent: 0 });
    expect(events.filter((e) => e.kind === "refused")).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: expect.stringContaining("HTTP 400") });
  });

  it("gives up at the deadline and counts what is left as unsent", async () => {
    const c = await collector();
    await c.down();
    const { queue } = queueTo(c);
    for (const s of spans(25)) queue.add(s);
    await queue.close(Date.now() + 300);
    expect(queue.stats).toMatchObject({ spans: 25, sent: 0, unsent: 25 });
    expect(queue.queued).toBe(0);
    const abort = new AbortController();
    const q2 = queueTo(c).queue;
    for (const s of spans(5)) q2.add(s);
    abort.abort();
    await q2.close(Date.now() + 60_000, abort.signal);
    expect(q2.stats).toMatchObject({ spans: 5, sent: 0, unsent: 5 });
  });
});

describe("memory over a long run", () => {
  it("holds as many tasks, model records and open spans after 100,000 events as after 10,000 (a task per request)", async () => {
    const file = join(dir, "spawn.trace.cbor");
    writeWorkload(file, 100_000, "spawn");
    const c = await collector();
    // A small queue: requests leave while the trace is written, and what does not fit is dropped.
    const live = new LiveOtlpExport(liveOptions(c.url, { queueSpans: 4096, queueBytes: 1 << 20, batchSize: 512 }));
    const writer = new TappedTraceWriter(join(dir, "spawn-live.trace.cbor"), live.store);
    const samples: { events: number; held: ReturnType<() => typeof live.held> }[] = [];
    let events = 0;
    await replayTrace(file, writer, async () => {
      events = live.store.summary().totals.events;
      samples.push({ events, held: live.held });
      if (samples.length % 16 === 0) await yieldNow();
    });
    writer.close();
    const result = await live.finish([], Date.now() + 20_000);
    const early = samples.filter((s) => s.events <= 10_000);
    const late = samples.filter((s) => s.events > 10_000);
    expect(early.length).toBeGreaterThan(0);
    expect(late.length).toBeGreaterThan(early.length * 4);
    const max = (list: typeof samples, k: keyof (typeof samples)[0]["held"]) => Math.max(...list.map((s) => s.held[k]));
    for (const k of ["tasks", "modelRecords", "openSpans"] as const) {
      expect(max(late, k), k).toBeLessThanOrEqual(max(early, k));
    }
    expect(max(samples, "tasks")).toBeLessThan(300); // the device has 256 task slots
    expect(max(samples, "queuedSpans")).toBeLessThanOrEqual(4096);
    expect(max(samples, "queuedBytes")).toBeLessThanOrEqual((1 << 20) + (1 << 20));
    // Every span accounted for: sent or dropped, once.
    const q = result.queue;
    expect(q.sent + q.droppedFull + q.refused + q.unsent).toBe(result.map.spans);
    expect(result.timeline.tasks).toBeGreaterThan(2_500);
    const ids = received(c);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(q.sent);
  }, 120_000);
});
