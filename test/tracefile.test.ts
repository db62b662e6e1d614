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

describe("a reader that reuses its buffer (the analysis view's)", () => {
  it("yields the same items as one that reads into fresh buffers, whatever the block size", () => {
    const path = tempPath("reuse");
    writeSample(path);
    // Byte strings are views into the buffer: copy them as they come, before the next item.
    const snapshot = (reader: TraceFileReader) => {
      const out: string[] = [];
      for (const item of reader) out.push(JSON.stringify(item, (_, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : typeof v === "bigint" ? `${v}n` : v)));
      return out;
    };
    const expected = snapshot(new TraceFileReader(path));
    for (const blockSize of [64, 100, 257, 1000, 1 << 20]) {
      const reader = new TraceFileReader(path, { blockSize, reuseBuffer: true });
      expect(snapshot(reader), `block ${blockSize}`).toEqual(expected);
      expect(reader.stats.largestBuffer).toBeLessThanOrEqual(2 * Math.max(blockSize, 64) + (blockSize < 1000 ? 2048 : 0));
    }
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

  function writeSampleFile() {
    const path = tempPath();
    writeSample(path);
    return path;
  }

  function errorReading(bytes: Uint8Array | string) {
    const path = tempPath("bad");
    writeFileSync(path, bytes);
    return traceErrorOf(() => readWholeTrace(path));
  }

  function damageReading(bytes: Uint8Array | string) {
    const path = tempPath("bad");
    writeFileSync(path, bytes);
    return readWholeTrace(path);
  }

  it("malformed CBOR in the middle: that stretch is skipped (offset, bytes), the rest is read", () => {
    const { bytes, items } = sampleBytes();
    const target = items[4]!; // counters
    const broken = bytes.slice();
    broken[target.offset] = 0xff; // a break where an item should start
    const trace = damageReading(broken);
    expect(trace.damaged).toEqual([{ offset: target.offset, bytes: items[5]!.offset - target.offset, reason: expect.stringMatching(/^bad CBOR item: break outside/) }]);
    expect(trace.truncated).toBeUndefined();
    expect(trace.sessions[0]!.counters).toBeUndefined(); // the damaged item
    expect(trace.sessions[1]!.counters?.nextSeq).toBe(43);
    expect(trace.footer?.reason).toBe("exit 0");
    expect(trace.totals).toEqual(readWholeTrace(writeSampleFile()).totals);

    const reserved = bytes.slice();
    reserved[target.offset] = 0x1c; // additional information 28 is reserved
    expect(damageReading(reserved).damaged).toEqual([expect.objectContaining({ offset: target.offset, reason: expect.stringMatching(/reserved/) })]);
  });

  it("a flipped bit in a byte string's head is damage, not a clean stop: everything after it is read", () => {
    const path = tempPath();
    writeSample(path);
    const { items } = itemsOf(path);
    const bytes = new Uint8Array(readFileSync(path));
    const item = items.find((i): i is Extract<TraceItem, { type: "chunks" }> => i.type === "chunks")!;
    const head = item.chunkOffsets[1]! - 2; // 0x58 len: a byte string with a one-byte length
    expect(bytes[head]).toBe(0x58);
    for (const flipped of [0x5a, 0x5b, 0x59]) {
      const broken = bytes.slice();
      broken[head] = flipped; // its length now read from 4, 8 or 2 bytes
      const trace = damageReading(broken);
      expect(trace.truncated, `head ${flipped.toString(16)}`).toBeUndefined();
      expect(trace.damaged).toHaveLength(1);
      expect(trace.damaged[0]!.offset).toBe(item.offset);
      expect(trace.damaged[0]!.bytes).toBe(items[items.indexOf(item) + 1]!.offset - item.offset);
      expect(trace.footer?.reason).toBe("exit 0");
      expect(trace.sessions[1]!.events).toBeGreaterThan(0);
    }
    // A file cut inside an item is a truncation, not damage.
    const cut = damageReading(bytes.subarray(0, item.chunkOffsets[1]! + 5));
    expect(cut.truncated).toEqual({ offset: item.offset, bytes: item.chunkOffsets[1]! + 5 - item.offset });
    expect(cut.damaged).toEqual([]);
  });

  it("a length running past the end with a damaged item after it is damage, not truncation (fuzz: misread-aeb46564e317)", () => {
    const path = tempPath();
    writeSample(path);
    const { items } = itemsOf(path);
    const bytes = new Uint8Array(readFileSync(path));
    const chunks = items.filter((i): i is Extract<TraceItem, { type: "chunks" }> => i.type === "chunks");
    const item = chunks.at(-1)!;
    const footer = items.at(-1)!;
    expect(footer.type).toBe("footer");
    // The last chunks item, then the footer (the counters and stalls between them left out).
    const broken = Buffer.concat([bytes.subarray(0, items[items.indexOf(item) + 1]!.offset), bytes.subarray(footer.offset)]);
    const footerAt = broken.length - (bytes.length - footer.offset);
    expect(broken[item.chunkOffsets[0]! - 2]).toBe(0x58);
    broken[item.chunkOffsets[0]! - 2] = 0x59; // its first payload's length now read from 2 bytes: past the end
    broken[footerAt + 8] = 0xfe; // the footer's inner map head: reserved, so no valid item follows
    const trace = damageReading(broken);
    expect(trace.truncated).toBeUndefined();
    expect(trace.damaged).toEqual([{ offset: item.offset, bytes: broken.length - item.offset, reason: expect.stringMatching(new RegExp(`^item runs past the end .*; an item starts again at byte ${footerAt}, so the file was not cut off$`)) }]);
    // Cut inside the footer instead, with nothing after it: a truncation, as before.
    const cut = damageReading(bytes.subarray(0, footer.offset + 10));
    expect(cut.truncated).toEqual({ offset: footer.offset, bytes: 10 });
    expect(cut.damaged).toEqual([]);
  });

  it("wrong keys or types: the item is damaged, and a lost session item costs only its own session", () => {
    const { bytes, items } = sampleBytes();
    const session = items[1]!;
    const text = Buffer.from(bytes).toString("latin1");
    const renamed = damageReading(Buffer.from(text.replace("tick_hz", "tick_hx"), "latin1"));
    expect(renamed.damaged[0]).toEqual({ offset: session.offset, bytes: items[7]!.offset - session.offset, reason: 'session: unknown key "tick_hx"' });
    // Session 1 is read (as the first session of the file), and says why.
    expect(renamed.sessions).toHaveLength(1);
    expect(renamed.sessions[0]!.info.deviceSession).toBe(2);
    expect(renamed.sessions[0]!.events).toBeGreaterThan(0);
    expect(renamed.damaged[1]).toMatchObject({ offset: items[7]!.offset, bytes: 0, reason: expect.stringMatching(/session item\(s\) before session 1 are missing/) });
    const badMode = damageReading(Buffer.from(text.replace("overwrite", "overwrote"), "latin1"));
    expect(badMode.damaged[0]).toMatchObject({ offset: session.offset, reason: 'session: unknown mode "overwrote"' });
  });

  it("a chunk that does not decode: counted as a damaged chunk (or, asked for, an error naming its offset)", () => {
    const path = tempPath();
    writeSample(path);
    const { items } = itemsOf(path);
    const item = items.find((i): i is Extract<TraceItem, { type: "chunks" }> => i.type === "chunks")!;
    const chunkAt = item.chunkOffsets[1]!;
    const bytes = new Uint8Array(readFileSync(path));
    bytes[chunkAt + 14] = 0x3f; // first event tag of the second chunk (after the 14-byte header)
    const bad = tempPath("skip");
    writeFileSync(bad, bytes);
    const error = traceErrorOf(() => readWholeTrace(bad, { badChunks: "throw" }));
    expect(error.offset).toBe(chunkAt);
    expect(error.detail).toContain(`unknown event tag 0x3f at byte ${chunkAt + 14}`);
    expect(error.cause).toBeInstanceOf(DecodeError);
    expect((error.cause as DecodeError).offset).toBe(chunkAt + 14);

    const trace = readWholeTrace(bad);
    expect(trace.losses.filter((l) => l.kind !== "link")).toEqual([
      { session: 0, kind: "decode", chunks: 1, fromSeq: 1, toSeq: 1, offset: chunkAt, reason: `unknown event tag 0x3f at byte ${chunkAt + 14}` },
      expect.objectContaining({ kind: "seq-gap", fromSeq: 3, toSeq: 3 }),
    ]);
  });

  it("items out of order, unknown items, bad names: each is damage with its offset; versions are errors", () => {
    const enc = plainCborEncoder();
    const header = enc.encode({ taskscope: 1, created: 1, tool: "t", source: "s" });
    const file = (...rest: object[]) => Buffer.concat([Buffer.from(header), ...rest.map((r) => Buffer.from(enc.encode(r)))]);
    const at = Buffer.from(header).length;
    const footer = { footer: { ended: 1, reason: "r", sessions: 0, chunks: 0, events: 0 } };
    const only = (trace: ReturnType<typeof damageReading>) => {
      expect(trace.damaged).toHaveLength(1);
      return trace.damaged[0]!;
    };
    expect(only(damageReading(file({ session: 3, names: [] }, footer)))).toMatchObject({ offset: at, reason: "names item refers to session 3, which was never declared" });
    expect(only(damageReading(file({ taskscope: 1, created: 1, tool: "t", source: "s" }, footer)))).toMatchObject({ offset: at, reason: "second header" });
    expect(only(damageReading(file(footer, footer))).reason).toMatch(/after the footer/);
    expect(only(damageReading(file({ hello: 1 }, footer)))).toMatchObject({ offset: at, reason: "unknown item (hello)" });
    expect(only(damageReading(file({ session: 1, chunks: [new Uint8Array(20)] }, footer))).reason).toMatch(/never declared/);
    const session = {
      session: 0, device_session: 1, format: 1, tick_hz: 1000, device: "d", firmware: "f", mode: "stop",
      chunk_size: 128, chunk_count: 2, names_capacity: 10, max_tasks: 4, filter: 1, anchor: { ticks: 0, unix_ns: 0 },
    };
    const sessionAt = at + Buffer.from(enc.encode(session)).length;
    expect(only(damageReading(file({ ...session, session: 1 }))).reason).toMatch(/session item\(s\) before session 1 are missing/);
    expect(only(damageReading(file(session, { ...session, session: 0 })))).toMatchObject({ offset: sessionAt, reason: expect.stringMatching(/out of order/) });
    expect(only(damageReading(file(session, { session: 0, names: [[2, 1, "x"]] }))).reason).toMatch(/^names of session 0: gap in name ids/);
    expect(only(damageReading(file(session, { session: 0, names: [[1, 9, "x"]] }))).reason).toMatch(/unknown kind 9/);
    expect(only(damageReading(file({ ...session, tick_hz: -1 }))).reason).toMatch(/"tick_hz" must be an unsigned integer/);
    expect(only(damageReading(file({ session: 0, chunks: [] }))).reason).toMatch(/never declared|non-empty/);
    // A newer format is not damage: the file cannot be read by this version.
    expect(errorReading(file({ ...session, format: 3 })).detail).toMatch(/wire format 3, this reader knows 1 and 2/);
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

describe("values no device reaches: set aside, counted, the rest read", () => {
  /** A one-session trace of `n` chunks of polls; `edit` may change the payloads first. */
  function trace(options: { anchorTicks?: number; n?: number; edit?: (payloads: Uint8Array[]) => Uint8Array[]; counters?: object[] } = {}) {
    const path = tempPath("values");
    let payloads = encodeChunks(pollEvents(100, 2, 12 * (options.n ?? 6)), { chunkSize: 128 });
    if (options.edit) payloads = options.edit(payloads.map((p) => p.slice()));
    const w = new TraceWriter(path);
    w.header({ tool: "t", source: "s", created: CREATED });
    const s = w.session({ ...SESSION, anchor: { ticks: options.anchorTicks ?? SESSION.anchor.ticks, unixNs: SESSION.anchor.unixNs } });
    for (const p of payloads) w.chunks(s, [p]);
    for (const c of options.counters ?? []) w.counters(s, { ...COUNTERS, ...c });
    w.footer({ reason: "exit 0", events: 0 });
    w.close();
    return { path, payloads };
  }
  const seqOf = (p: Uint8Array) => new DataView(p.buffer, p.byteOffset).getUint32(0, true);
  const setSeq = (p: Uint8Array, v: number) => new DataView(p.buffer, p.byteOffset).setUint32(0, v >>> 0, true);

  it("a chunk whose base time has its top bit set (2^63 ticks): one damaged chunk, the others analysed", () => {
    const { path, payloads } = trace({ edit: (ps) => ((ps[0]![11] = 0x80), ps) });
    const t = readWholeTrace(path);
    expect(t.losses).toEqual([expect.objectContaining({ kind: "decode", chunks: 1, fromSeq: 0, reason: expect.stringMatching(/time of ~2\^63\.0 ticks is out of range/) })]);
    expect(t.sessions[0]!.chunks).toBe(payloads.length - 1);
    expect(t.sessions[0]!.damagedEvents).toBeGreaterThan(0);
  });

  it("a clock anchor of 2^63 ticks: set aside with its offset, times placed at the file's creation", () => {
    const { path } = trace({ anchorTicks: 2 ** 63 });
    const t = readWholeTrace(path);
    expect(t.damaged).toEqual([expect.objectContaining({ bytes: 0, reason: expect.stringMatching(/clock anchor time of ~2\^63\.0 ticks is out of range/) })]);
    expect(t.sessions[0]!.info.anchor).toEqual({ ticks: 0, unixNs: CREATED });
    expect(t.totals.events).toBeGreaterThan(0);
  });

  it("counters that go backwards, or past 2^53: the later item set aside, the earlier kept", () => {
    const { path } = trace({ counters: [{}, { recorded: 5 }, { droppedOverwritten: 2 ** 60 }] });
    const t = readWholeTrace(path);
    expect(t.damaged.map((d) => d.reason)).toEqual([
      expect.stringMatching(/counters of session 0: counter recorded went backwards \(8589934592 then 5\)/),
      expect.stringMatching(/counters of session 0: counter droppedOverwritten = ~2\^60\.0 is out of range/),
    ]);
    expect(t.sessions[0]!.counters).toEqual(COUNTERS);
  });

  it("a seq that jumps by 2^31 once: a damaged number, no 2^31-chunk gap; a jump the next chunk confirms is a gap", () => {
    const jumped = trace({ edit: (ps) => (setSeq(ps[2]!, seqOf(ps[2]!) + 0x80000000), ps) });
    const a = readWholeTrace(jumped.path);
    expect(a.losses).toEqual([]);
    expect(a.damaged).toEqual([expect.objectContaining({ bytes: 0, reason: expect.stringMatching(/chunk seq 2147483650 out of sequence between 1 and 3/) })]);
    expect(a.totals.chunks).toBe(jumped.payloads.length); // its events are kept
    // Every chunk from the third on moved by 2^25: a real jump, believed, reported as one gap.
    const moved = trace({ edit: (ps) => ps.map((p, i) => (i >= 2 ? (setSeq(p, seqOf(p) + 2 ** 25), p) : p)) });
    const b = readWholeTrace(moved.path);
    expect(b.damaged).toEqual([]);
    expect(b.losses).toEqual([expect.objectContaining({ kind: "seq-gap", chunks: 2 ** 25, fromSeq: 2 })]);
  });

  it("a chunks item stored twice (and a chunk inside another): each chunk counted once, the copies counted", () => {
    const { path, payloads } = trace({ edit: (ps) => [...ps.slice(0, 3), ps[1]!, ...ps.slice(3), ps[0]!] });
    const t = readWholeTrace(path);
    expect(t.duplicateChunks).toBe(2);
    expect(t.totals.chunks).toBe(payloads.length - 2);
    expect(t.losses).toEqual([]);
    expect(t.damaged).toEqual([]);
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
