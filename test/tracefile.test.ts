// host/tracefile: writing, streaming, truncation, corruption and the analysis view.

import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import cbor from "cbor";
import { afterAll, describe, expect, it } from "vitest";
import { DecodeError, EventBatch, decodeChunk } from "../host/format/index.js";
import { EVENT } from "../host/format/spec.js";
import {
  TraceFileError,
  TraceFileReader,
  TraceWriter,
  openTrace,
  plainCborEncoder,
  readWholeTrace,
  type SessionInfo,
  type TraceItem,
} from "../host/tracefile/index.js";
import { ChunkStreamEncoder, encodeChunks, expectedRows, syntheticWorkload, type WireEvent } from "./support/wire-encoder.js";

const dir = mkdtempSync(join(tmpdir(), "taskscope-tracefile-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileCounter = 0;
const tempPath = (name = "t") => join(dir, `${name}-${fileCounter++}.trace.cbor`);

const CREATED = 1_700_000_000_123_456_789n; // > 2^53: must survive as a 64-bit uint
const ENDED = 1_700_000_060_987_654_321n;

const SESSION: SessionInfo = {
  deviceSession: 0xc0ffee, format: 2, tickHz: 1_000_000, device: "sim", firmware: "demo 0.1", mode: "overwrite",
  chunkSize: 128, chunkCount: 16, namesCapacity: 4096, maxTasks: 64, filter: 0x7ff,
  anchor: { ticks: 2 ** 40 + 3, unixNs: 1_700_000_000_000_000_001n },
};

const COUNTERS = {
  recorded: 2 ** 33, drained: 100, droppedFull: 0, droppedOverwritten: 2, chunksOverwritten: 1, namesDropped: 0,
  nextSeq: 9, pendingEvents: 4, now: 2 ** 45, firstDrop: 10, lastDrop: 20, hiddenTicks: 2 ** 35 + 1,
};

function pollEvents(start: number, task: number, count: number): WireEvent[] {
  const events: WireEvent[] = [];
  let ticks = start;
  for (let i = 0; i < count; i++) {
    events.push({ tag: EVENT.WAKE_TASK, ticks: (ticks += 3), fields: { target: task, by: 1 } });
    events.push({ tag: EVENT.POLL_BEGIN, ticks: (ticks += 1), fields: { task } });
    events.push({ tag: EVENT.LOG, ticks: (ticks += 2), fields: { format: 3, level: 2 }, args: [i, -i] });
    events.push({ tag: EVENT.AWAIT, ticks: (ticks += 1), fields: { site: 2, resource: 0 } });
    events.push({ tag: EVENT.POLL_PENDING, ticks: (ticks += 1) });
  }
  return events;
}

const STALLS = { observerNs: 12_345_678, runQueueNs: 2_000_000_000, count: 17, largestNs: 40_000_000, sleepOverNs: 5_000_000, runQueueKnown: true };

/** A small trace: session 0 with a seq gap (chunk 3 missing), a stored loss, session 1. */
function writeSample(path: string) {
  const events0 = pollEvents(100, 2, 40);
  const chunks0 = encodeChunks(events0, { chunkSize: 128 });
  expect(chunks0.length).toBeGreaterThanOrEqual(5);
  const events1 = pollEvents(5_000, 7, 3);
  const chunks1 = encodeChunks(events1, { chunkSize: 128, firstSeq: 40 });

  const w = new TraceWriter(path);
  w.header({ tool: "tracefile.test 1.0", source: "test:sample", created: CREATED });
  const s0 = w.session(SESSION);
  w.names(s0, [{ id: 1, kind: 1, text: "main" }, { id: 2, kind: 2, text: "await here" }, { id: 3, kind: 4, text: "i={} j={}" }]);
  w.chunks(s0, chunks0.slice(0, 3));
  w.counters(s0, COUNTERS);
  w.chunks(s0, chunks0.slice(4)); // seq 3 never arrived
  w.loss(s0, { kind: "link", chunks: 2, fromSeq: 100, toSeq: 101, reason: "crc" });
  const s1 = w.session({ ...SESSION, deviceSession: 2, tickHz: 32_768, mode: "stop" });
  w.names(s1, [{ id: 1, kind: 1, text: "other" }]);
  w.chunks(s1, chunks1);
  w.counters(s1, { ...COUNTERS, nextSeq: 43 });
  w.stalls(s1, STALLS);
  w.footer({ reason: "exit 0", events: 999, ended: ENDED });
  w.close();

  // Events the file holds: chunk 3 of session 0 is missing.
  const kept0 = chunks0.filter((_, i) => i !== 3);
  const rows = (payloads: Uint8Array[], hz: number) => {
    const batch = new EventBatch();
    for (const p of payloads) decodeChunk(p, hz, batch);
    return batch.toEvents();
  };
  return { events0, chunks0, kept0, events1, chunks1, rows0: rows(kept0, 1_000_000), rows1: rows(chunks1, 32_768) };
}

function itemsOf(path: string, options = {}) {
  const reader = new TraceFileReader(path, options);
  const items = [...reader];
  return { items, truncated: reader.truncated, reader };
}

function traceErrorOf(fn: () => unknown): TraceFileError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(TraceFileError);
    return error as TraceFileError;
  }
  throw new Error("expected a TraceFileError, nothing was thrown");
}

describe("write and read back", () => {
  it("round-trips every item type", () => {
    const path = tempPath();
    const sample = writeSample(path);
    const { items, truncated } = itemsOf(path);
    expect(truncated).toBeUndefined();
    expect(items.map((i) => i.type)).toEqual([
      "header", "session", "names", "chunks", "counters", "chunks", "loss", "session", "names", "chunks", "counters", "stalls", "footer",
    ]);
    expect(items[0]).toMatchObject({ offset: 0, header: { version: 3, created: CREATED, tool: "tracefile.test 1.0", source: "test:sample" } });
    expect(items[1]).toMatchObject({ session: 0, info: SESSION });
    const chunks = items.filter((i): i is Extract<TraceItem, { type: "chunks" }> => i.type === "chunks");
    expect(chunks.flatMap((c) => c.chunks.map((p) => [...p]))).toEqual([...sample.kept0, ...sample.chunks1].map((p) => [...p]));
    // Chunk offsets point at the payload bytes in the file.
    const file = readFileSync(path);
    for (const item of chunks) {
      item.chunks.forEach((p, k) => expect([...file.subarray(item.chunkOffsets[k]!, item.chunkOffsets[k]! + p.length)]).toEqual([...p]));
    }
    expect(items[4]).toMatchObject({ type: "counters", session: 0, counters: COUNTERS });
    expect(items[6]).toMatchObject({ type: "loss", loss: { kind: "link", chunks: 2, fromSeq: 100, toSeq: 101, reason: "crc" } });
    expect(items.at(-2)).toMatchObject({ type: "stalls", session: 1, stalls: STALLS });
    expect(items.at(-1)).toMatchObject({ footer: { ended: ENDED, reason: "exit 0", sessions: 2, chunks: sample.kept0.length + sample.chunks1.length, events: 999 } });
  });

  it("readWholeTrace: sessions, names, rows, counters, losses (stored and seq gaps), totals", () => {
    const path = tempPath();
    const sample = writeSample(path);
    const trace = readWholeTrace(path);
    expect(trace.header.created).toBe(CREATED);
    expect(trace.sessions).toHaveLength(2);
    const [s0, s1] = trace.sessions;
    expect(s0!.info).toEqual(SESSION);
    expect(s0!.names.get(3)).toBe("i={} j={}");
    expect(s0!.names.kindNameOf(2)).toBe("site");
    expect(s1!.names.get(1)).toBe("other");
    expect(s0!.rows).toEqual(sample.rows0);
    expect(s1!.rows).toEqual(sample.rows1);
    expect(s1!.rows).toEqual(expectedRows(sample.events1, 32_768));
    expect(s0!.counters).toEqual(COUNTERS);
    expect(s1!.counters!.nextSeq).toBe(43);
    expect(s0!.lastSeq).toBe(sample.chunks0.length - 1);
    expect(trace.losses.map(({ offset: _, ...l }) => l)).toEqual([
      { session: 0, kind: "seq-gap", chunks: 1, fromSeq: 3, toSeq: 3 },
      { session: 0, kind: "link", chunks: 2, fromSeq: 100, toSeq: 101, reason: "crc" },
    ]);
    const wireEvents = sample.rows0.filter((r) => r.name !== "LOG_ARG").length + sample.rows1.filter((r) => r.name !== "LOG_ARG").length;
    expect(trace.totals).toEqual({
      chunks: sample.kept0.length + sample.chunks1.length,
      events: wireEvents,
      rows: sample.rows0.length + sample.rows1.length,
    });
    expect(trace.footer).toMatchObject({ reason: "exit 0", ended: ENDED });
    expect(trace.truncated).toBeUndefined();
  });

  it("a gap the writer already stored as a loss is reported once", () => {
    const path = tempPath();
    const payloads = encodeChunks(pollEvents(0, 1, 40), { chunkSize: 128 });
    expect(payloads.length).toBeGreaterThan(3);
    const w = new TraceWriter(path);
    w.header({ tool: "t", source: "s" });
    const s = w.session(SESSION);
    w.chunks(s, [payloads[0]!]);
    w.loss(s, { kind: "link", chunks: 2, fromSeq: 1, toSeq: 2 });
    w.chunks(s, [payloads[3]!]);
    w.close();
    const trace = readWholeTrace(path);
    expect(trace.losses.map((l) => [l.kind, l.fromSeq, l.toSeq])).toEqual([["link", 1, 2]]);
    expect(trace.footer).toBeUndefined();
  });

  it("the streaming API gives one reused batch per chunks item and the same summary", () => {
    const path = tempPath();
    const sample = writeSample(path);
    const trace = openTrace(path);
    expect(trace.header.source).toBe("test:sample");
    const seen: number[] = [];
    let batchObject: EventBatch | undefined;
    for (const { session, batch } of trace.batches()) {
      seen.push(batch.length);
      batchObject ??= batch;
      expect(batch).toBe(batchObject);
      expect(session.info.tickHz).toBe(session.index === 0 ? 1_000_000 : 32_768);
    }
    expect(seen.reduce((a, b) => a + b, 0)).toBe(sample.rows0.length + sample.rows1.length);
    expect(seen).toHaveLength(3);
    expect(trace.summary().totals.rows).toBe(sample.rows0.length + sample.rows1.length);
    expect(() => [...trace.batches()]).toThrow(/already read/);
  });

  it("writes 64-bit uints as uints and refuses misuse", () => {
    const path = tempPath();
    const w = new TraceWriter(path);
    expect(() => w.session(SESSION)).toThrow(/header first/);
    w.header({ tool: "t", source: "s", created: 2n ** 64n - 1n });
    expect(() => w.header({ tool: "t", source: "s" })).toThrow(/already/);
    expect(() => w.chunks(0, [new Uint8Array(13)])).toThrow(/not declared/);
    expect(() => w.counters(0, COUNTERS)).toThrow(/not declared/);
    w.session({ ...SESSION, anchor: { ticks: 2 ** 53, unixNs: 2n ** 63n } });
    expect(() => w.loss(0, { kind: "link", chunks: -1 })).toThrow(RangeError);
    w.close();
    expect(() => w.footer({ reason: "x", events: 0 })).toThrow(/closed/);
    const { items } = itemsOf(path);
    expect(items[0]).toMatchObject({ header: { created: 2n ** 64n - 1n } });
    expect(items[1]).toMatchObject({ info: { anchor: { ticks: 2 ** 53, unixNs: 2n ** 63n } } });
  });
});

describe("an independent CBOR decoder (the cbor package) reads the file", () => {
  it("as a plain CBOR sequence of maps, byte strings and unsigned integers", async () => {
    const path = tempPath();
    const sample = writeSample(path);
    const file = readFileSync(path);
    const items = cbor.decodeAllSync(file) as Record<string, unknown>[];
    expect(items).toHaveLength(13);
    expect(items[0]).toEqual({ taskscope: 3, created: CREATED, tool: "tracefile.test 1.0", source: "test:sample" });
    expect(items[1]).toEqual({
      session: 0, device_session: 0xc0ffee, format: 2, tick_hz: 1_000_000, device: "sim", firmware: "demo 0.1",
      mode: "overwrite", chunk_size: 128, chunk_count: 16, names_capacity: 4096, max_tasks: 64, filter: 0x7ff,
      anchor: { ticks: 2 ** 40 + 3, unix_ns: 1_700_000_000_000_000_001n },
    });
    expect(items[2]).toEqual({ session: 0, names: [[1, 1, "main"], [2, 2, "await here"], [3, 4, "i={} j={}"]] });
    const chunks = items[3]!.chunks as Uint8Array[];
    expect(chunks.map((c) => [...c])).toEqual(sample.kept0.slice(0, 3).map((c) => [...c]));
    expect(items[4]).toEqual({
      session: 0,
      counters: {
        recorded: 2 ** 33, drained: 100, dropped_full: 0, dropped_overwritten: 2, chunks_overwritten: 1, names_dropped: 0,
        next_seq: 9, pending_events: 4, now: 2 ** 45, first_drop: 10, last_drop: 20, hidden: 2 ** 35 + 1,
      },
    });
    expect(items[6]).toEqual({ session: 0, loss: { kind: "link", chunks: 2, from_seq: 100, to_seq: 101, reason: "crc" } });
    expect(items[11]).toEqual({
      session: 1, stalls: { observer_ns: 12_345_678, run_queue_ns: 2_000_000_000, count: 17, largest_ns: 40_000_000, sleep_over_ns: 5_000_000, run_queue_known: true },
    });
    expect(items[12]).toEqual({ footer: { ended: ENDED, reason: "exit 0", sessions: 2, chunks: sample.kept0.length + sample.chunks1.length, events: 999 } });

    // Diagnostic notation shows the encoding: no tags, no floats, byte strings as h'..'.
    const diagnostic = await cbor.diagnose(file);
    const outsideStrings = diagnostic.replace(/"[^"]*"/g, '""').replace(/h'[0-9a-f]*'/g, "h''");
    expect(outsideStrings).not.toMatch(/\d\(/); // a tag would read 64(h'...')
    expect(outsideStrings).not.toMatch(/\d_\d|\d\.\d|e\+|NaN|Infinity/); // no float (2**40 as a float reads 1099511627776_3)
    expect(diagnostic).toContain(`"created": ${CREATED}`);
    expect(diagnostic).toMatch(/"chunks": \[h'/);
  });
});

describe("trace file 1 (wire format 1) still reads", () => {
  it("a file written before wire format 2: its chunks decode by the session's format, no hidden counter", () => {
    const enc = plainCborEncoder();
    const events: WireEvent[] = [
      { tag: EVENT.POLL_BEGIN, ticks: 100, fields: { task: 3 } },
      { tag: EVENT.WAKER_CLONE, ticks: 101, fields: { task: 3 } },
      { tag: EVENT.AWAIT, ticks: 102, fields: { site: 2, resource: 1 } },
      { tag: EVENT.POLL_PENDING, ticks: 103 },
    ];
    const chunks = encodeChunks(events, { format: 1 });
    const counters = {
      recorded: 4, drained: 4, dropped_full: 0, dropped_overwritten: 0, chunks_overwritten: 0, names_dropped: 0,
      next_seq: 1, pending_events: 0, now: 200, first_drop: 0, last_drop: 0,
    };
    const items = [
      { taskscope: 1, created: 1, tool: "taskscope 0.1", source: "serial:/dev/ttyUSB0" },
      {
        session: 0, device_session: 5, format: 1, tick_hz: 1_000_000, device: "old", firmware: "fw", mode: "overwrite",
        chunk_size: 256, chunk_count: 4, names_capacity: 64, max_tasks: 8, filter: 0x7ff, anchor: { ticks: 0, unix_ns: 0 },
      },
      { session: 0, names: [[1, 2, "site"]] },
      { session: 0, chunks },
      { session: 0, counters },
      { footer: { ended: 2, reason: "exit 0", sessions: 1, chunks: 1, events: 4 } },
    ];
    const path = tempPath("v1");
    writeFileSync(path, Buffer.concat(items.map((i) => Buffer.from(enc.encode(i)))));
    const trace = readWholeTrace(path);
    expect(trace.header?.version).toBe(1);
    const session = trace.sessions[0]!;
    expect(session.info.format).toBe(1);
    expect(session.events).toBe(4);
    expect(session.rows.map((r) => [r.name, r.task])).toEqual([["POLL_BEGIN", 3], ["WAKER_CLONE", 3], ["AWAIT", 3], ["POLL_PENDING", 3]]);
    expect(session.counters).toEqual({
      recorded: 4, drained: 4, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0, namesDropped: 0,
      nextSeq: 1, pendingEvents: 0, now: 200, firstDrop: 0, lastDrop: 0,
    });
    // The same chunks read as format 2 would be misread: the session's format decides.
    expect(() => decodeChunk(chunks[0]!, 1_000_000, new EventBatch(), 0, 2)).toThrow(DecodeError);
  });
});

describe("truncation: a file cut at every byte", () => {
  it("reads all complete items and reports the partial one, or says the header is incomplete", () => {
    const path = tempPath();
    writeSample(path);
    const full = readFileSync(path);
    const complete = itemsOf(path).items;
    const ends = complete.map((item, i) => complete[i + 1]?.offset ?? full.length);
    const cut = tempPath("cut");
    for (let n = 0; n <= full.length; n++) {
      writeFileSync(cut, full.subarray(0, n));
      if (n < ends[0]!) {
        const error = traceErrorOf(() => [...new TraceFileReader(cut)]);
        expect(error.detail).toMatch(n === 0 ? /^empty file/ : /^trace file ends inside its header/);
        expect(error.offset).toBe(0);
        continue;
      }
      const { items, truncated } = itemsOf(cut, { blockSize: 64 });
      const whole = ends.filter((e) => e <= n).length;
      expect(items.map((i) => i.offset)).toEqual(complete.slice(0, whole).map((i) => i.offset));
      if (ends.includes(n)) expect(truncated).toBeUndefined();
      else expect(truncated).toEqual({ offset: ends[whole - 1]!, bytes: n - ends[whole - 1]! });
      // The analysis view reads the same prefix without trouble.
      const trace = readWholeTrace(cut);
      expect(trace.truncated).toEqual(truncated);
    }
  });
});

describe("corruption and foreign files", () => {
  function sampleBytes() {
    const path = tempPath();
    writeSample(path);
    const items = itemsOf(path).items;
    return { bytes: new Uint8Array(readFileSync(path)), items };
  }

  function errorReading(bytes: Uint8Array | string) {
    const path = tempPath("bad");
    writeFileSync(path, bytes);
    return traceErrorOf(() => readWholeTrace(path));
  }

  it("malformed CBOR in the middle names the item's offset", () => {
    const { bytes, items } = sampleBytes();
    const target = items[4]!; // counters
    const broken = bytes.slice();
    broken[target.offset] = 0xff; // a break where an item should start
    const error = errorReading(broken);
    expect(error.offset).toBe(target.offset);
    expect(error.detail).toMatch(/^bad CBOR item: break outside/);
    expect(error.message).toContain(`trace file byte ${target.offset}`);

    const reserved = bytes.slice();
    reserved[target.offset] = 0x1c; // additional information 28 is reserved
    expect(errorReading(reserved)).toMatchObject({ offset: target.offset, detail: expect.stringMatching(/reserved/) });
  });

  it("wrong keys or types name the item's offset", () => {
    const { bytes, items } = sampleBytes();
    const session = items[1]!;
    const text = Buffer.from(bytes).toString("latin1");
    const renamed = Buffer.from(text.replace("tick_hz", "tick_hx"), "latin1");
    expect(errorReading(renamed)).toMatchObject({ offset: session.offset, detail: 'session: unknown key "tick_hx"' });
    const badMode = Buffer.from(text.replace("overwrite", "overwrote"), "latin1");
    expect(errorReading(badMode)).toMatchObject({ offset: session.offset, detail: 'session: unknown mode "overwrote"' });
  });

  it("a chunk that does not decode names the chunk's offset and the reason", () => {
    const path = tempPath();
    writeSample(path);
    const { items } = itemsOf(path);
    const item = items.find((i): i is Extract<TraceItem, { type: "chunks" }> => i.type === "chunks")!;
    const chunkAt = item.chunkOffsets[1]!;
    const bytes = new Uint8Array(readFileSync(path));
    bytes[chunkAt + 14] = 0x3f; // first event tag of the second chunk (after the 14-byte header)
    const error = errorReading(bytes);
    expect(error.offset).toBe(chunkAt);
    expect(error.detail).toContain(`unknown event tag 0x3f at byte ${chunkAt + 14}`);
    expect(error.cause).toBeInstanceOf(DecodeError);
    expect((error.cause as DecodeError).offset).toBe(chunkAt + 14);

    // Or drop it and count it as a decode loss.
    const bad = tempPath("skip");
    writeFileSync(bad, bytes);
    const trace = readWholeTrace(bad, { badChunks: "skip" });
    expect(trace.losses.filter((l) => l.kind !== "link")).toEqual([
      { session: 0, kind: "decode", chunks: 1, fromSeq: 1, toSeq: 1, offset: chunkAt, reason: `unknown event tag 0x3f at byte ${chunkAt + 14}` },
      expect.objectContaining({ kind: "seq-gap", fromSeq: 3, toSeq: 3 }),
    ]);
  });

  it("items out of order: undeclared session, second header, item after footer, bad names", () => {
    const enc = plainCborEncoder();
    const header = enc.encode({ taskscope: 1, created: 1, tool: "t", source: "s" });
    const file = (...rest: object[]) => Buffer.concat([Buffer.from(header), ...rest.map((r) => Buffer.from(enc.encode(r)))]);
    const at = Buffer.from(header).length;
    expect(errorReading(file({ session: 3, names: [] }))).toMatchObject({
      offset: at, detail: "names item refers to session 3, which was never declared",
    });
    expect(errorReading(file({ taskscope: 1, created: 1, tool: "t", source: "s" }))).toMatchObject({ offset: at, detail: "second header" });
    expect(errorReading(file({ footer: { ended: 1, reason: "r", sessions: 0, chunks: 0, events: 0 } }, { footer: { ended: 1, reason: "r", sessions: 0, chunks: 0, events: 0 } })).detail).toMatch(/after the footer/);
    expect(errorReading(file({ hello: 1 }))).toMatchObject({ offset: at, detail: "unknown item (hello)" });
    expect(errorReading(file({ session: 1, chunks: [new Uint8Array(20)] })).detail).toMatch(/never declared/);
    const session = {
      session: 0, device_session: 1, format: 1, tick_hz: 1000, device: "d", firmware: "f", mode: "stop",
      chunk_size: 128, chunk_count: 2, names_capacity: 10, max_tasks: 4, filter: 1, anchor: { ticks: 0, unix_ns: 0 },
    };
    expect(errorReading(file({ ...session, session: 1 })).detail).toMatch(/out of order/);
    const gap = errorReading(file(session, { session: 0, names: [[2, 1, "x"]] }));
    expect(gap.detail).toMatch(/^names of session 0: gap in name ids/);
    expect(errorReading(file(session, { session: 0, names: [[1, 9, "x"]] })).detail).toMatch(/unknown kind 9/);
    expect(errorReading(file({ ...session, format: 3 })).detail).toMatch(/wire format 3, this reader knows 1 and 2/);
    expect(errorReading(file({ ...session, tick_hz: -1 })).detail).toMatch(/"tick_hz" must be an unsigned integer/);
    expect(errorReading(file({ session: 0, chunks: [] })).detail).toMatch(/never declared|non-empty/);
  });

  it("files that are not taskscope traces get a clear error", () => {
    expect(errorReading(new Uint8Array(0))).toMatchObject({ offset: 0, detail: "empty file: not a taskscope trace file" });
    expect(errorReading("hello, world\n").detail).toMatch(/^not a taskscope trace file/);
    expect(errorReading(Buffer.from(plainCborEncoder().encode({ a: 1 }))).detail).toMatch(/^not a taskscope trace file/);
    expect(errorReading(Buffer.from(plainCborEncoder().encode({ taskscope: 4, created: 0, tool: "t", source: "s" }))).detail).toMatch(/version 4/);
    expect(errorReading(new Uint8Array(100_000).fill(0xbf)).detail).toMatch(/^not a taskscope trace file/);
    const zeros = errorReading(new Uint8Array(10).fill(0));
    expect(zeros.detail).toMatch(/^not a taskscope trace file/);
  });
});

describe("streaming a large trace", () => {
  it("2M events in constant memory, in blocks", { timeout: 120_000 }, () => {
    const path = tempPath("large");
    const total = 2_000_000;
    const w = new TraceWriter(path);
    w.header({ tool: "t", source: "synthetic" });
    const s = w.session({ ...SESSION, chunkSize: 256 });
    let pending: Uint8Array[] = [];
    const encoder = new ChunkStreamEncoder({ chunkSize: 256 }, (payload) => {
      pending.push(payload);
      if (pending.length === 64) {
        w.chunks(s, pending);
        pending = [];
      }
    });
    for (const e of syntheticWorkload(total, 7)) encoder.add(e);
    encoder.flush();
    w.chunks(s, pending);
    w.footer({ reason: "done", events: total });
    w.close();
    const fileSize = statSync(path).size;

    const blockSize = 256 << 10;
    const trace = openTrace(path, { blockSize });
    const baseline = memory();
    let peak = 0;
    let rows = 0;
    let batches = 0;
    for (const { batch } of trace.batches()) {
      rows += batch.length;
      if (++batches % 50 === 0) peak = Math.max(peak, memory() - baseline);
    }
    const summary = trace.summary();
    expect(summary.totals.events).toBe(total);
    expect(summary.footer?.events).toBe(total);
    expect(summary.losses).toEqual([]);
    expect(rows).toBe(summary.totals.rows);
    // Held in memory at once, the decoded columns alone would take 41 bytes a row (> 80 MB).
    expect(rows * 41).toBeGreaterThan(80e6);
    expect(peak).toBeLessThan(40e6);
    expect(trace.readerStats.bytesRead).toBe(fileSize);
    expect(trace.readerStats.largestBuffer).toBeLessThanOrEqual(2 * blockSize);
  });
});

function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
