// host/format against the reference encoder (test/support/wire-encoder.ts) and FORMAT.md.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DecodeError,
  EventBatch,
  NameTable,
  decodeChunk,
  decodeChunkHeader,
  decodeRecordStream,
  decodeRecords,
  readVarU32,
  readVarU64,
  readZigzag64,
  type ChunkRecord,
  type CountersRecord,
  type InfoRecord,
  type NamesRecord,
} from "../host/format/index.js";
import { COMPACT_EVENT, COMPACT_EVENTS, EVENT, EVENTS, LOG_ARG, RECORD_TYPE, parseFields } from "../host/format/spec.js";
import {
  ChunkStreamEncoder,
  chunkRecord,
  concatBytes,
  countersRecord,
  encodeChunk,
  encodeChunks,
  encodeEvent,
  encodeRecord,
  expectedRows,
  infoRecord,
  logMeta,
  namesRecord,
  opcode,
  varint,
  zigzag,
  type CounterValues,
  type InfoFields,
  type WireEvent,
} from "./support/wire-encoder.js";

const TICK_HZ = 1_000_000;

function decodeAll(payloads: readonly Uint8Array[], tickHz = TICK_HZ) {
  const batch = new EventBatch(4);
  const headers = payloads.map((p) => decodeChunk(p, tickHz, batch));
  return { rows: batch.toEvents(), headers, batch };
}

/** The DecodeError a call throws (fails the test if it throws anything else or nothing). */
function decodeErrorOf(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecodeError);
    return error as DecodeError;
  }
  throw new Error("expected a DecodeError, nothing was thrown");
}

/** A chunk header followed by raw event bytes, for malformed cases. */
function rawChunk(eventBytes: readonly number[], contextTask = 0): Uint8Array {
  const header = encodeChunk({ seq: 7, baseTicks: 100, contextTask, events: [] });
  return concatBytes([header, eventBytes]);
}

/** One event of every kind with distinctive field values (argc 3 for LOG). */
function oneOfEach(): WireEvent[] {
  let ticks = 1_000;
  return EVENTS.map((spec, i) => {
    const fields: Record<string, number | bigint> = {};
    parseFields(spec.fields).forEach((f, k) => {
      if (!f.repeated) fields[f.name] = 100 + i * 10 + k;
    });
    if (spec.tag === EVENT.RES_CREATE) fields.kind = 2;
    if (spec.tag === EVENT.TIMER_ARM) fields.due = -250; // a deadline already past
    if (spec.tag === EVENT.RES_OP) fields.opcode = opcode(3, 2);
    if (spec.tag === EVENT.LOG) fields.meta = logMeta(4, 3);
    if (spec.tag === EVENT.COUNTER) fields.value = -123456789012n;
    ticks += 1 + i * 37;
    return { tag: spec.tag, ticks, fields, args: spec.tag === EVENT.LOG ? [-1, 0, 2n ** 62n] : undefined };
  });
}

describe("varint readers", () => {
  const read = (bytes: number[], reader: typeof readVarU32, base = 0) => {
    const cur = { pos: 0 };
    const value = reader(Uint8Array.from(bytes), cur, bytes.length, base);
    return { value, pos: cur.pos };
  };

  it("reads u32 limits and stops after the last byte", () => {
    expect(read([0x00], readVarU32)).toEqual({ value: 0, pos: 1 });
    expect(read([0x7f, 0x55], readVarU32)).toEqual({ value: 127, pos: 1 });
    expect(read([0x80, 0x01], readVarU32)).toEqual({ value: 128, pos: 2 });
    expect(read(varint(0xffffffff), readVarU32)).toEqual({ value: 0xffffffff, pos: 5 });
    expect(read(varint(0x7fffffff), readVarU32)).toEqual({ value: 0x7fffffff, pos: 5 });
  });

  it("rejects u32 varints that are too long, overflow or end early", () => {
    expect(decodeErrorOf(() => read([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], readVarU32, 50))).toMatchObject({ offset: 50, reason: expect.stringMatching(/too long/) });
    expect(decodeErrorOf(() => read([0xff, 0xff, 0xff, 0xff, 0x1f], readVarU32, 50)).reason).toMatch(/exceeds u32/);
    expect(decodeErrorOf(() => read([0x80, 0x80], readVarU32, 50))).toMatchObject({ offset: 50, reason: "truncated varint" });
  });

  it("reads u64 exactly up to 2^53 and rejects 11-byte or overflowing ones", () => {
    expect(read(varint(2 ** 53), readVarU64).value).toBe(2 ** 53);
    expect(read(varint(2n ** 53n - 1n), readVarU64).value).toBe(Number.MAX_SAFE_INTEGER);
    expect(read(varint(2n ** 64n - 1n), readVarU64)).toEqual({ value: 2 ** 64, pos: 10 });
    expect(decodeErrorOf(() => read([...Array(10).fill(0x80), 0x01], readVarU64)).reason).toMatch(/too long/);
    expect(decodeErrorOf(() => read([...Array(9).fill(0xff), 0x02], readVarU64)).reason).toMatch(/exceeds u64/);
  });

  it("zigzag round-trips signed values, extremes included", () => {
    for (const n of [0n, -1n, 1n, -64n, 63n, 2n ** 53n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n)]) {
      expect(read(varint(zigzag(n)), readZigzag64).value).toBe(Number(n));
    }
    expect(Object.is(read(varint(zigzag(0)), readZigzag64).value, 0)).toBe(true);
  });
});

describe("decodeChunk: round trips", () => {
  it("decodes every event kind as the events table says", () => {
    const events = oneOfEach();
    const payload = encodeChunk({ seq: 1, baseTicks: 1_000, contextTask: 9, events });
    const { rows, headers } = decodeAll([payload]);
    expect(headers[0]).toEqual({ seq: 1, baseTicks: 1_000, contextTask: 9, contextResource: 0, events: EVENTS.length });
    expect(rows).toEqual(expectedRows(events, TICK_HZ, { contextTask: 9, baseTicks: 1_000 }));
    expect(rows.map((r) => r.name)).toEqual([...EVENTS.map((e) => e.name).flatMap((n) => (n === "LOG" ? [n, "LOG_ARG", "LOG_ARG", "LOG_ARG"] : [n]))]);
  });

  it("spells out the decoded view of the packed and derived columns", () => {
    const events: WireEvent[] = [
      { tag: EVENT.POLL_BEGIN, ticks: 10, fields: { task: 5 } },
      { tag: EVENT.RES_CREATE, ticks: 11, fields: { res: 3, kind: 1, name: 8, capacity: 4 } },
      { tag: EVENT.RES_OP, ticks: 12, fields: { res: 3, op: 2, outcome: 1, level: 1 } },
      { tag: EVENT.LOG, ticks: 13, fields: { format: 6, level: 3 }, args: [-5, 7] },
      { tag: EVENT.WAKE_SELF, ticks: 14, fields: { target: 5 } },
      { tag: EVENT.COUNTER, ticks: 15, fields: { name: 9, value: -42 } },
      { tag: EVENT.MEM, ticks: 16, fields: { task: 2, bytes: 4096 } },
      { tag: EVENT.POLL_PENDING, ticks: 17 },
      { tag: EVENT.MARK, ticks: 18, fields: { name: 4 } },
    ];
    const { rows } = decodeAll([encodeChunk({ seq: 0, baseTicks: 10, contextTask: 0, events })]);
    const t = (ticks: number) => ticks * 1000; // 1 MHz: 1 tick = 1000 ns
    expect(rows).toEqual([
      { kind: 0x02, name: "POLL_BEGIN", t: t(10), task: 5, a: 0, b: 0, c: 0, v: 0 },
      { kind: 0x0e, name: "RES_CREATE", t: t(11), task: 5, a: 3, b: 8, c: 1, v: 4 },
      { kind: 0x0f, name: "RES_OP", t: t(12), task: 5, a: 3, b: 2, c: 1, v: 1 },
      { kind: 0x14, name: "LOG", t: t(13), task: 5, a: 6, b: 3, c: 2, v: 0 },
      { kind: LOG_ARG, name: "LOG_ARG", t: t(13), task: 5, a: 0, b: 0, c: 0, v: -5 },
      { kind: LOG_ARG, name: "LOG_ARG", t: t(13), task: 5, a: 0, b: 0, c: 0, v: 7 },
      { kind: 0x06, name: "WAKE_SELF", t: t(14), task: 5, a: 5, b: 0, c: 0, v: 0 },
      { kind: 0x16, name: "COUNTER", t: t(15), task: 5, a: 9, b: 0, c: 0, v: -42 },
      { kind: 0x17, name: "MEM", t: t(16), task: 2, a: 0, b: 0, c: 0, v: 4096 },
      { kind: 0x04, name: "POLL_PENDING", t: t(17), task: 5, a: 0, b: 0, c: 0, v: 0 },
      { kind: 0x15, name: "MARK", t: t(18), task: 0, a: 4, b: 0, c: 0, v: 0 },
    ]);
  });

  it("keeps 64-bit times: bases and deltas past 2^32 ticks, no wrap", () => {
    const base = 2n ** 40n + 17n;
    const events: WireEvent[] = [
      { tag: EVENT.MARK, ticks: base, fields: { name: 1 } },
      { tag: EVENT.MARK, ticks: base + 2n ** 33n + 5n, fields: { name: 2 } },
      { tag: EVENT.MARK, ticks: base + 2n ** 33n + 6n, fields: { name: 3 } },
      { tag: EVENT.MARK, ticks: 2n ** 52n, fields: { name: 4 } },
    ];
    const { rows, headers } = decodeAll([encodeChunk({ seq: 0xffffffff, baseTicks: base - 1n, contextTask: 0, events })], 1e9);
    expect(headers[0]!.baseTicks).toBe(Number(base - 1n));
    expect(headers[0]!.seq).toBe(0xffffffff);
    expect(rows.map((r) => r.t)).toEqual(events.map((e) => Number(e.ticks))); // 1 GHz: ns = ticks
    expect(rows.map((r) => r.t)).toEqual(expectedRows(events, 1e9, { baseTicks: base - 1n }).map((r) => r.t));
  });

  it("rounds a base past 2^53 ticks once, to the nearest double", () => {
    for (const base of [2n ** 53n + 1n, 2n ** 63n + 12345n, 2n ** 64n - 1n]) {
      const payload = encodeChunk({ seq: 0, baseTicks: base, contextTask: 0, events: [{ tag: EVENT.IDLE_BEGIN, ticks: base }] });
      expect(decodeChunkHeader(payload).baseTicks).toBe(Number(base));
      expect(decodeAll([payload], 1e9).rows[0]!.t).toBe(Number(base));
    }
  });

  it("converts ticks with ns = ticks * 1e9 / tick_hz", () => {
    const events: WireEvent[] = [{ tag: EVENT.IDLE_BEGIN, ticks: 3 }, { tag: EVENT.IDLE_END, ticks: 32_771 }];
    const { rows } = decodeAll([encodeChunk({ seq: 0, baseTicks: 0, contextTask: 0, events })], 32_768);
    expect(rows.map((r) => r.t)).toEqual([(3 * 1e9) / 32_768, (32_771 * 1e9) / 32_768]);
  });

  it("applies the current-task rule across chunk boundaries, each chunk on its own", () => {
    // One long poll of task 3 spills over several 128-byte chunks.
    const events: WireEvent[] = [{ tag: EVENT.POLL_BEGIN, ticks: 1, fields: { task: 3 } }];
    for (let i = 0; i < 60; i++) events.push({ tag: EVENT.RES_OP, ticks: 2 + i, fields: { res: 100 + i, op: 0, outcome: 0, level: i } });
    events.push({ tag: EVENT.AWAIT, ticks: 70, fields: { site: 5, resource: 6 } });
    events.push({ tag: EVENT.POLL_PENDING, ticks: 71 });
    events.push({ tag: EVENT.MARK, ticks: 72, fields: { name: 1 } });
    for (let i = 0; i < 40; i++) events.push({ tag: EVENT.IDLE_BEGIN, ticks: 73 + i });
    const payloads = encodeChunks(events, { chunkSize: 128, firstSeq: 40 });
    expect(payloads.length).toBeGreaterThan(2);
    const headers = payloads.map((p) => decodeChunkHeader(p));
    expect(headers.map((h) => h.seq)).toEqual(payloads.map((_, i) => 40 + i));
    expect(headers[1]!.contextTask).toBe(3); // opened inside the poll
    expect(headers.at(-1)!.contextTask).toBe(0); // opened after POLL_PENDING

    const whole = decodeAll(payloads).rows;
    expect(whole).toEqual(expectedRows(events, TICK_HZ));
    expect(whole.filter((r) => r.name === "RES_OP").every((r) => r.task === 3)).toBe(true);
    expect(whole.find((r) => r.name === "MARK")!.task).toBe(0);
    // Decoding the second chunk alone gives the same rows as in the whole stream.
    const alone = decodeAll([payloads[1]!]).rows;
    const start = decodeAll([payloads[0]!]).rows.length;
    expect(alone).toEqual(whole.slice(start, start + alone.length));
  });

  it("packs chunks no larger than the slot, each starting with its header", () => {
    const events = oneOfEach();
    for (const size of [128, 200, 256]) {
      const payloads = encodeChunks([...events, ...events.map((e) => ({ ...e, ticks: Number(e.ticks) + 100_000 }))], { chunkSize: size });
      for (const p of payloads) expect(p.length).toBeLessThanOrEqual(size);
      expect(decodeAll(payloads).rows.length).toBe(2 * (EVENTS.length + 3));
    }
  });
});

describe("wire format 2: compact events and the resource state", () => {
  const C = COMPACT_EVENT;

  it("every compact form expands to the events its row lists, at its time", () => {
    const events: WireEvent[] = [
      { tag: EVENT.POLL_BEGIN, ticks: 10, fields: { task: 5 } },
      { tag: C.WAKER_CLONE_CURRENT, ticks: 11 },
      { tag: EVENT.RES_OP, ticks: 12, fields: { res: 7, op: 1, outcome: 1, level: 0 } },
      { tag: C.AWAIT_SAME_PENDING, ticks: 13, fields: { site: 3 } },
      { tag: C.WAKE_EXT_DROP, ticks: 20, fields: { target: 6 } },
      { tag: C.TIMER_FIRE_WAKE, ticks: 21, fields: { task: 8, res: 2 } },
      { tag: EVENT.POLL_BEGIN, ticks: 30, fields: { task: 6 } },
      { tag: C.WAKE_TASK_DROP, ticks: 31, fields: { target: 9, by: 6 } },
      { tag: C.WAKE_SELF_DROP, ticks: 32, fields: { target: 6 } },
      { tag: C.AWAIT_SAME, ticks: 33, fields: { site: 4 } },
      { tag: EVENT.POLL_PENDING, ticks: 34 },
      { tag: C.WAKE_IRQ_DROP, ticks: 40, fields: { target: 6, irq: 11 } },
      { tag: EVENT.POLL_BEGIN, ticks: 50, fields: { task: 6 } },
      { tag: C.AWAIT_PENDING, ticks: 51, fields: { site: 12, resource: 13 } },
    ];
    for (const c of COMPACT_EVENTS) expect(events.some((e) => e.tag === c.tag), c.name).toBe(true);
    const payload = encodeChunk({ seq: 4, baseTicks: 10, contextTask: 0, events });
    const { rows, headers } = decodeAll([payload]);
    expect(rows).toEqual(expectedRows(events, TICK_HZ, { baseTicks: 10 }));
    const at = (t: number) => rows.filter((r) => r.t === t * 1000).map((r) => [r.name, r.task, r.a, r.b]);
    // Spelled out for a few, so the reference encoder's reading of the table is checked too.
    expect(at(11)).toEqual([["WAKER_CLONE", 5, 0, 0]]);
    expect(at(13)).toEqual([["AWAIT", 5, 3, 7], ["POLL_PENDING", 5, 0, 0]]);
    expect(at(21)).toEqual([["TIMER_FIRE", 8, 2, 0], ["WAKE_EXT", 8, 0, 0], ["WAKER_DROP", 8, 0, 0]]);
    expect(at(31)).toEqual([["WAKE_TASK", 9, 6, 0], ["WAKER_DROP", 9, 0, 0]]);
    expect(at(33)).toEqual([["AWAIT", 6, 4, 2]]); // the resource state: TIMER_FIRE's res
    expect(at(40)).toEqual([["WAKE_IRQ", 6, 11, 0], ["WAKER_DROP", 6, 0, 0]]);
    expect(at(51)).toEqual([["AWAIT", 6, 12, 13], ["POLL_PENDING", 6, 0, 0]]);
    // The header counts events as the device does: every event a compact form stands for.
    expect(headers[0]!.events).toBe(rows.length);
    expect(rows.length).toBe(22); // 14 wire events
  });

  it("the resource state starts as the chunk's context resource, each chunk on its own", () => {
    const events: WireEvent[] = [
      { tag: EVENT.POLL_BEGIN, ticks: 1, fields: { task: 2 } },
      { tag: C.AWAIT_SAME, ticks: 2, fields: { site: 1 } },
    ];
    const { rows } = decodeAll([encodeChunk({ seq: 0, baseTicks: 1, contextTask: 0, contextResource: 9, events })]);
    expect(rows[1]).toMatchObject({ name: "AWAIT", a: 1, b: 9 });
    // Through the chunker: a chunk opened after a resource event carries it in its header.
    const many: WireEvent[] = [{ tag: EVENT.RES_DROP, ticks: 0, fields: { res: 44 } }];
    for (let i = 1; i < 200; i++) many.push({ tag: C.AWAIT_SAME, ticks: i, fields: { site: i % 100 } });
    const payloads = encodeChunks(many, { chunkSize: 128 });
    expect(payloads.length).toBeGreaterThan(2);
    const all = decodeAll(payloads).rows;
    expect(all.slice(1).every((r) => r.name === "AWAIT" && r.b === 44)).toBe(true);
    expect(decodeChunkHeader(payloads[2]!).contextResource).toBe(44);
  });

  it("reads format 1 chunks by their session's version, where compact tags are unknown", () => {
    const events = oneOfEach();
    const v1 = encodeChunk({ seq: 1, baseTicks: 1_000, contextTask: 9, events, format: 1 });
    const v2 = encodeChunk({ seq: 1, baseTicks: 1_000, contextTask: 9, events });
    expect(v2.length).toBe(v1.length + 1); // the context resource
    const batch = new EventBatch();
    expect(decodeChunk(v1, TICK_HZ, batch, 0, 1)).toEqual({ seq: 1, baseTicks: 1_000, contextTask: 9, contextResource: 0, events: EVENTS.length });
    expect(batch.toEvents()).toEqual(expectedRows(events, TICK_HZ, { contextTask: 9, baseTicks: 1_000 }));
    expect(decodeChunkHeader(v1, 0, 1).eventsOffset).toBe(13);
    const compact = concatBytes([encodeChunk({ seq: 0, baseTicks: 0, contextTask: 1, events: [], format: 1 }), [C.WAKER_CLONE_CURRENT, 0]]);
    expect(decodeErrorOf(() => decodeChunk(compact, TICK_HZ, new EventBatch(), 0, 1))).toMatchObject({ offset: 13, reason: "unknown event tag 0x20" });
    expect(() => encodeChunks([{ tag: C.AWAIT_SAME, ticks: 0, fields: { site: 1 } }], { format: 1 })).toThrow(/compact/);
  });

  it("a compact event cut short is named in the error", () => {
    const bytes = encodeEvent({ tag: C.TIMER_FIRE_WAKE, ticks: 0, fields: { task: 300, res: 2 } }, 0);
    const payload = concatBytes([encodeChunk({ seq: 0, baseTicks: 0, contextTask: 0, events: [] }), bytes.slice(0, 3)]);
    expect(decodeErrorOf(() => decodeChunk(payload, TICK_HZ, new EventBatch()))).toMatchObject({ offset: 14, reason: "truncated TIMER_FIRE_WAKE event" });
  });
});

describe("decodeChunk: malformed input", () => {
  const BASE = 1000;
  const EVENTS_AT = BASE + 14; // header (12) + 1-byte context task and resource varints

  function errorFor(payload: Uint8Array) {
    const batch = new EventBatch(2);
    batch.push(0x02, 1, 1, 0, 0, 0, 0); // a row from an earlier chunk must survive
    const error = decodeErrorOf(() => decodeChunk(payload, TICK_HZ, batch, BASE));
    expect(batch.length).toBe(1);
    expect(batch.toEvents()[0]!.name).toBe("POLL_BEGIN");
    return { offset: error.offset, reason: error.reason, message: error.message };
  }

  it("truncated header", () => {
    const full = rawChunk([]);
    for (let n = 0; n < full.length; n++) {
      expect(errorFor(full.subarray(0, n))).toMatchObject({ offset: BASE, reason: expect.stringMatching(/^truncated chunk header/) });
    }
    // context task varint cut short, then the context resource
    const header = encodeChunk({ seq: 1, baseTicks: 0, contextTask: 300, contextResource: 400, events: [] });
    expect(errorFor(header.subarray(0, 13)).reason).toBe("truncated chunk header (context task)");
    expect(errorFor(header.subarray(0, 15)).reason).toBe("truncated chunk header (context resource)");
  });

  it("truncated event, at the event's tag byte", () => {
    const ok = [...encodeEvent({ tag: EVENT.MARK, ticks: 0, fields: { name: 1 } }, 0)];
    const spawn = encodeEvent({ tag: EVENT.SPAWN, ticks: 0, fields: { task: 1, parent: 200, name: 3, flow: 4 } }, 300);
    for (let cut = 1; cut < spawn.length; cut++) {
      expect(errorFor(rawChunk([...ok, ...spawn.slice(0, cut)]))).toEqual({
        offset: EVENTS_AT + ok.length,
        reason: "truncated SPAWN event",
        message: `truncated SPAWN event at byte ${EVENTS_AT + ok.length}`,
      });
    }
    const log = encodeEvent({ tag: EVENT.LOG, ticks: 0, fields: { format: 1, level: 1 }, args: [1, -1000] }, 0);
    for (let cut = 1; cut < log.length; cut++) {
      expect(errorFor(rawChunk(log.slice(0, cut)))).toMatchObject({ offset: EVENTS_AT, reason: "truncated LOG event" });
    }
  });

  it("varint too long, at the varint's first byte", () => {
    const dt11 = [EVENT.IDLE_BEGIN, ...Array(10).fill(0x80), 0x00];
    expect(errorFor(rawChunk(dt11))).toMatchObject({ offset: EVENTS_AT + 1, reason: expect.stringMatching(/varint too long/) });
    const field6 = [EVENT.MARK, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
    expect(errorFor(rawChunk(field6))).toMatchObject({ offset: EVENTS_AT + 2, reason: expect.stringMatching(/varint too long/) });
    const over = [EVENT.MARK, 0x00, 0xff, 0xff, 0xff, 0xff, 0x7f];
    expect(errorFor(rawChunk(over))).toMatchObject({ offset: EVENTS_AT + 2, reason: "varint exceeds u32" });
  });

  it("unknown tag, at the tag byte, even as the last byte", () => {
    const ok = encodeEvent({ tag: EVENT.IDLE_END, ticks: 0 }, 1);
    expect(errorFor(rawChunk([...ok, 0x3f, 0x00]))).toEqual({
      offset: EVENTS_AT + 2,
      reason: "unknown event tag 0x3f",
      message: `unknown event tag 0x3f at byte ${EVENTS_AT + 2}`,
    });
    expect(errorFor(rawChunk([0x00]))).toMatchObject({ offset: EVENTS_AT, reason: "unknown event tag 0x00" });
    expect(errorFor(rawChunk([LOG_ARG, 0x00]))).toMatchObject({ reason: "unknown event tag 0x40" });
    expect(errorFor(rawChunk([0x29, 0x00]))).toMatchObject({ reason: "unknown event tag 0x29" }); // past the compact tags
  });

  it("resource kind and outcome out of range, at the field", () => {
    const kind = encodeEvent({ tag: EVENT.RES_CREATE, ticks: 0, fields: { res: 1, kind: 4, name: 1, capacity: 1 } }, 0);
    expect(errorFor(rawChunk(kind))).toMatchObject({ offset: EVENTS_AT + 3, reason: "unknown resource kind 4" });
    const outcome = encodeEvent({ tag: EVENT.RES_OP, ticks: 0, fields: { res: 1, opcode: opcode(1, 3), level: 0 } }, 0);
    expect(errorFor(rawChunk(outcome))).toMatchObject({ offset: EVENTS_AT + 3, reason: "unknown resource outcome 3" });
    const huge = [EVENT.RES_OP, 0x00, 0x01, ...varint(0xffffffff), 0x00];
    expect(errorFor(rawChunk(huge)).reason).toMatch(/unknown resource outcome/);
  });

  it("LOG argc above 8 and level above 7, at the meta byte", () => {
    const args9 = encodeEvent({ tag: EVENT.LOG, ticks: 0, fields: { format: 1, meta: logMeta(0, 9) }, args: Array(9).fill(1) }, 0);
    expect(errorFor(rawChunk(args9))).toMatchObject({ offset: EVENTS_AT + 3, reason: "LOG argc 9 above 8" });
    const level8 = encodeEvent({ tag: EVENT.LOG, ticks: 0, fields: { format: 1, meta: logMeta(8, 0) } }, 0);
    expect(errorFor(rawChunk(level8))).toMatchObject({ offset: EVENTS_AT + 3, reason: "LOG level 8 above 7" });
    const ok = encodeEvent({ tag: EVENT.LOG, ticks: 0, fields: { format: 1, meta: logMeta(7, 8) }, args: Array(8).fill(-1) }, 0);
    expect(decodeAll([rawChunk(ok)]).rows).toHaveLength(9);
  });

  it("rolls back only the failing chunk's rows", () => {
    const good = encodeChunk({ seq: 0, baseTicks: 0, contextTask: 0, events: oneOfEach() });
    const bad = rawChunk([...encodeEvent({ tag: EVENT.MARK, ticks: 0, fields: { name: 1 } }, 0), 0x3f, 0x00]);
    const batch = new EventBatch(1);
    decodeChunk(good, TICK_HZ, batch);
    const rows = batch.length;
    expect(() => decodeChunk(bad, TICK_HZ, batch)).toThrow(DecodeError);
    expect(batch.length).toBe(rows);
    decodeChunk(good, TICK_HZ, batch);
    expect(batch.length).toBe(2 * rows);
  });

  it("rejects a non-positive tick rate", () => {
    for (const hz of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(decodeErrorOf(() => decodeChunk(rawChunk([]), hz, new EventBatch(), 5)).offset).toBe(5);
    }
  });
});

describe("decodeRecords", () => {
  const info: InfoFields = {
    ringMode: "stop", chunkSize: 256, chunkCount: 64, namesCapacity: 4096, maxTasks: 256,
    tickHz: 32_768, filter: 0x7ff, sessionId: 0xdeadbeef, device: "nrf52 ✓", firmware: "blinky 1.0",
  };
  const counters: CounterValues = {
    recorded: 2n ** 40n, drained: 1000, droppedFull: 0, droppedOverwritten: 5, chunksOverwritten: 1,
    namesDropped: 2, nextSeq: 17, pendingEvents: 3, now: 2n ** 50n + 1n, firstDrop: 9, lastDrop: 2n ** 53n, hiddenTicks: 77,
  };
  const chunk = encodeChunk({ seq: 3, baseTicks: 5, contextTask: 0, events: [{ tag: EVENT.IDLE_BEGIN, ticks: 6 }] });
  const names = [{ kind: 1, text: "main" }, { kind: 2, text: "net.rs:42" }, { kind: 4, text: "rx {} bytes" }];
  const stream = concatBytes([infoRecord(info), namesRecord(1, names), chunkRecord(chunk), countersRecord(counters)]);

  it("decodes INFO, NAMES, CHUNK and COUNTERS with absolute offsets", () => {
    const records = decodeRecords(stream, 500);
    expect(records.map((r) => r.type)).toEqual(["INFO", "NAMES", "CHUNK", "COUNTERS"]);
    const [i, n, c, k] = records as [InfoRecord, NamesRecord, ChunkRecord, CountersRecord];
    expect(i).toEqual({ type: "INFO", offset: 500, version: 2, ...info });
    expect(n).toMatchObject({ firstId: 1, entries: names.map((e, idx) => ({ id: 1 + idx, ...e })) });
    expect(n.offset).toBe(500 + infoRecord(info).length);
    expect(c.payloadOffset).toBe(c.offset + 3);
    expect([...c.payload]).toEqual([...chunk]);
    expect(stream[c.payloadOffset - 500 - 3]).toBe(RECORD_TYPE.CHUNK);
    expect(k).toEqual({
      type: "COUNTERS", offset: k.offset, recorded: 2 ** 40, drained: 1000, droppedFull: 0, droppedOverwritten: 5,
      chunksOverwritten: 1, namesDropped: 2, nextSeq: 17, pendingEvents: 3, now: 2 ** 50 + 1, firstDrop: 9, lastDrop: 2 ** 53,
      hiddenTicks: 77,
    });
  });

  it("reads a wire format 1 device: INFO version 1, COUNTERS of 72 bytes without hidden", () => {
    const { hiddenTicks: _, ...v1 } = counters;
    const records = decodeRecords(concatBytes([infoRecord({ ...info, version: 1 }), countersRecord(v1)]));
    expect((records[0] as InfoRecord).version).toBe(1);
    expect(countersRecord(v1).length).toBe(3 + 72);
    const k = records[1] as CountersRecord;
    expect(k.lastDrop).toBe(2 ** 53);
    expect("hiddenTicks" in k).toBe(false);
  });

  it("streaming: a record split across reads is waited for, at every split point", () => {
    for (let split = 0; split <= stream.length; split++) {
      const first = decodeRecordStream(stream.subarray(0, split), 0);
      const rest = decodeRecordStream(stream.subarray(first.consumed), first.consumed);
      expect(rest.consumed).toBe(stream.length - first.consumed);
      expect([...first.records, ...rest.records].map((r) => r.offset)).toEqual(decodeRecords(stream).map((r) => r.offset));
    }
  });

  it("a complete buffer that ends mid-record is a truncation error at the record", () => {
    const cut = stream.length - 10;
    const error = decodeErrorOf(() => decodeRecords(stream.subarray(0, cut), 100));
    expect(error.reason).toMatch(/^truncated COUNTERS record/);
    expect(error.offset).toBe(100 + stream.length - countersRecord(counters).length);
  });

  it("rejects malformed records at the right byte", () => {
    const at = (bytes: Uint8Array) => {
      const e = decodeErrorOf(() => decodeRecords(bytes, 10));
      return { offset: e.offset, reason: e.reason };
    };
    expect(at(Uint8Array.of(0x09, 0, 0))).toEqual({ offset: 10, reason: "unknown record type 0x09" });
    expect(at(concatBytes([chunkRecord(chunk), [0x00]]))).toEqual({ offset: 10 + chunk.length + 3, reason: "unknown record type 0x00" });
    const badMagic = infoRecord(info);
    badMagic[4] = 0x51;
    expect(at(badMagic)).toMatchObject({ offset: 14, reason: expect.stringMatching(/magic/) });
    expect(at(infoRecord({ ...info, version: 3 }))).toMatchObject({ offset: 17, reason: "unsupported wire format version 3" });
    const badMode = infoRecord(info);
    badMode[3 + 5] = 2;
    expect(at(badMode)).toMatchObject({ offset: 18, reason: "unknown ring mode 2" });
    expect(at(infoRecord({ ...info, tickHz: 0 })).reason).toBe("tick_hz is 0");
    expect(at(infoRecord({ ...info, chunkSize: 64 })).reason).toMatch(/chunk size 64/);
    const trailing = encodeRecord(RECORD_TYPE.INFO, concatBytes([infoRecord(info).subarray(3), [0]]));
    expect(at(trailing).reason).toMatch(/unexpected bytes after INFO/);
    expect(at(namesRecord(0, names)).reason).toMatch(/first id is 0/);
    expect(at(namesRecord(1, [{ kind: 8, text: "x" }]))).toEqual({ offset: 19, reason: "unknown name kind 8" });
    const badUtf8 = namesRecord(1, [{ kind: 1, text: "ab" }]);
    badUtf8[3 + 8] = 0xff;
    expect(at(badUtf8)).toEqual({ offset: 21, reason: "invalid UTF-8 in name" });
    const shortNames = namesRecord(1, names);
    shortNames[3 + 4] = 4; // claims 4 entries, has 3
    expect(at(shortNames).reason).toMatch(/truncated NAMES/);
    expect(at(encodeRecord(RECORD_TYPE.COUNTERS, new Uint8Array(71))).reason).toMatch(/71 bytes, expected 80 \(or 72 from a format 1 device\)/);
    expect(at(encodeRecord(RECORD_TYPE.COUNTERS, new Uint8Array(76))).reason).toMatch(/76 bytes/);
    expect(at(encodeRecord(RECORD_TYPE.CHUNK, new Uint8Array(12))).reason).toMatch(/truncated chunk header/);
  });
});

describe("NameTable", () => {
  it("adds consecutive ids, accepts repeats that agree, rejects gaps and disagreements", () => {
    const table = new NameTable();
    table.addEntries([{ id: 1, kind: 1, text: "main" }, { id: 2, kind: 2, text: "site" }]);
    table.addEntries([{ id: 2, kind: 2, text: "site" }, { id: 3, kind: 4, text: "{}" }]);
    expect(table.size).toBe(3);
    expect([table.get(0), table.get(1), table.get(3), table.get(4)]).toEqual([undefined, "main", "{}", undefined]);
    expect([table.kindOf(2), table.kindNameOf(3), table.kindOf(9)]).toEqual([2, "format", undefined]);
    expect(decodeErrorOf(() => table.addEntries([{ id: 5, kind: 1, text: "x" }], 77))).toMatchObject({ offset: 77, reason: expect.stringMatching(/gap/) });
    expect(decodeErrorOf(() => table.addEntries([{ id: 3, kind: 4, text: "other" }], 78)).reason).toMatch(/redefined/);
    expect(decodeErrorOf(() => table.addEntries([{ id: 4, kind: 1, text: "a" }, { id: 6, kind: 1, text: "b" }])).reason).toMatch(/consecutive/);
    expect(table.size).toBe(4); // id 4 of the rejected batch is in; the batch stopped at the error
  });

  it("takes NAMES records", () => {
    const table = new NameTable();
    const [rec] = decodeRecords(namesRecord(1, [{ kind: 3, text: "uart" }])) as [NamesRecord];
    table.addRecord(rec);
    expect(table.entries()).toEqual([{ id: 1, kind: 3, text: "uart" }]);
  });
});

describe("EventBatch", () => {
  it("grows by doubling, keeps rows, and clears", () => {
    const batch = new EventBatch(2);
    for (let i = 0; i < 5; i++) batch.push(EVENT.MARK, i, 1, i, 0, 0, 0.5);
    expect(batch.capacity).toBe(8);
    expect(batch.toEvents().map((e) => e.a)).toEqual([0, 1, 2, 3, 4]);
    batch.reserve(100);
    expect(batch.capacity).toBe(128);
    expect(batch.row(4)).toEqual({ kind: EVENT.MARK, name: "MARK", t: 4, task: 1, a: 4, b: 0, c: 0, v: 0.5 });
    batch.clear();
    expect(batch.length).toBe(0);
    expect(batch.toEvents()).toEqual([]);
  });
});

// ---- property tests ---------------------------------------------------------------------------

const u32 = fc.oneof(fc.integer({ min: 0, max: 127 }), fc.integer({ min: 0, max: 0xffffffff }));
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
const dtArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 127 }).map(BigInt) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 35n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 40n }) },
);

/** Field values for one event kind, within the ranges the format allows. */
function eventArb(): fc.Arbitrary<Omit<WireEvent, "ticks">> {
  return fc.constantFrom(...EVENTS).chain((spec) => {
    const fields: Record<string, fc.Arbitrary<number | bigint>> = {};
    for (const f of parseFields(spec.fields)) {
      if (f.repeated) continue;
      fields[f.name] = f.type === "zigzag" ? i64 : u32;
    }
    if (spec.tag === EVENT.RES_CREATE) fields.kind = fc.integer({ min: 0, max: 3 });
    // A timer deadline within ±2^40 ticks of its event keeps the deadline below 2^53, where
    // times are exact (the wire carries any i64; the property is about exactness).
    if (spec.tag === EVENT.TIMER_ARM) fields.due = fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n });
    // A timer deadline within ±2^40 ticks of its event keeps the deadline below 2^53, where
    // times are exact (the wire carries any i64; the property is about exactness).
    if (spec.tag === EVENT.TIMER_ARM) fields.due = fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n });
    if (spec.tag === EVENT.RES_OP) fields.opcode = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 2 })).map(([o, r]) => opcode(o, r));
    const args = spec.tag === EVENT.LOG ? fc.array(i64, { maxLength: 8 }) : fc.constant(undefined);
    return fc.tuple(fc.record(fields), args, fc.integer({ min: 0, max: 7 })).map(([values, list, level]) => {
      if (spec.tag === EVENT.LOG) values.meta = logMeta(level, list!.length);
      return { tag: spec.tag, fields: values, args: list };
    });
  });
}

/** A timed event list; ticks stay below 2^53, where FORMAT.md promises exact times. */
const eventsArb = fc
  .tuple(fc.bigInt({ min: 0n, max: 2n ** 52n }), fc.array(fc.tuple(eventArb(), dtArb), { minLength: 1, maxLength: 120 }))
  .map(([base, list]) => {
    let ticks = base;
    return list.map(([event, dt]) => {
      ticks += dt;
      return { ...event, ticks } as WireEvent;
    });
  });

function expectOnlyDecodeErrors(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return false;
  }
}

describe("property: random bytes", () => {
  it("decodeChunk decodes or throws DecodeError, never more rows than bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 1e9 }), (bytes, base) => {
        const batch = new EventBatch(1);
        expectOnlyDecodeErrors(() => decodeChunk(bytes, TICK_HZ, batch, base));
        expect(batch.length).toBeLessThanOrEqual(bytes.length);
      }),
      { numRuns: 3000 },
    );
  });

  it("random bytes after a valid chunk header (so events are reached)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const payload = rawChunk([...bytes]);
        const batch = new EventBatch(1);
        if (expectOnlyDecodeErrors(() => decodeChunk(payload, TICK_HZ, batch))) expect(batch.length).toBeLessThanOrEqual(bytes.length);
        else expect(batch.length).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it("decodeRecords and decodeRecordStream decode or throw DecodeError", () => {
    const recordish = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // valid-looking headers with random payloads reach the payload decoders
      fc.tuple(fc.integer({ min: 1, max: 4 }), fc.uint8Array({ maxLength: 120 })).map(([type, payload]) => encodeRecord(type, payload)),
    );
    fc.assert(
      fc.property(recordish, (bytes) => {
        expectOnlyDecodeErrors(() => decodeRecords(bytes, 3));
        expectOnlyDecodeErrors(() => {
          const r = decodeRecordStream(bytes, 3);
          expect(r.consumed).toBeLessThanOrEqual(bytes.length);
        });
      }),
      { numRuns: 3000 },
    );
  });
});

describe("property: valid encodings round-trip", () => {
  it("events through chunks of any size decode to the document's view", () => {
    fc.assert(
      fc.property(eventsArb, fc.integer({ min: 128, max: 400 }), u32, fc.integer({ min: 1, max: 2e9 }), (events, chunkSize, context, hz) => {
        const payloads = encodeChunks(events, { chunkSize, contextTask: context });
        for (const p of payloads) expect(p.length).toBeLessThanOrEqual(chunkSize);
        const { rows, headers } = decodeAll(payloads, hz);
        expect(headers.reduce((n, h) => n + h.events, 0)).toBe(events.length);
        const expected = expectedRows(events, hz, { contextTask: context });
        // Times: within 1 ns, or a few units in the last place where a double cannot hold 1 ns.
        // TIMER_ARM's v is a time too (its deadline), held to the same rule.
        const isTime = (r: { kind: number }) => r.kind === EVENT.TIMER_ARM;
        const rest = ({ t: _t, v, ...others }: (typeof rows)[number]) => ({ ...others, v: isTime(others) ? 0 : v });
        expect(rows.map(rest)).toEqual(expected.map(rest));
        const close = (got: number, want: number) =>
          expect(Math.abs(got - want)).toBeLessThanOrEqual(Math.max(1, Math.abs(want) * 4e-16));
        rows.forEach((r, i) => {
          close(r.t, expected[i]!.t);
          if (isTime(r)) close(r.v, expected[i]!.v);
        });
      }),
      { numRuns: 400 },
    );
  });

  it("records round-trip", () => {
    const text = fc.string({ maxLength: 40 }).filter((s) => new TextEncoder().encode(s).length <= 255);
    const infoArb = fc.record({
      ringMode: fc.constantFrom("overwrite" as const, "stop" as const),
      chunkSize: fc.integer({ min: 128, max: 0xffff }),
      chunkCount: u32, namesCapacity: u32, maxTasks: u32, tickHz: fc.integer({ min: 1, max: 0xffffffff }),
      filter: u32, sessionId: u32, device: text, firmware: text,
    });
    const u64 = fc.bigInt({ min: 0n, max: 2n ** 53n });
    const countersArb = fc.record({
      recorded: u64, drained: u64, droppedFull: u64, droppedOverwritten: u64, chunksOverwritten: u32,
      namesDropped: u32, nextSeq: u32, pendingEvents: u32, now: u64, firstDrop: u64, lastDrop: u64,
    });
    const namesArb = fc.array(fc.record({ kind: fc.integer({ min: 1, max: 7 }), text }), { maxLength: 12 });
    fc.assert(
      fc.property(infoArb, namesArb, fc.integer({ min: 1, max: 1e6 }), countersArb, (info, names, firstId, counters) => {
        const [i, n, c] = decodeRecords(concatBytes([infoRecord(info), namesRecord(firstId, names), countersRecord(counters)]));
        expect(i).toMatchObject(info);
        expect((n as NamesRecord).entries).toEqual(names.map((e, k) => ({ id: firstId + k, ...e })));
        expect(c).toMatchObject(Object.fromEntries(Object.entries(counters).map(([k, v]) => [k, Number(v)])));
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: damaged valid chunks", () => {
  const chunkArb = eventsArb.map((events) => encodeChunk({ seq: 1, baseTicks: events[0]!.ticks, contextTask: 2, events }));

  function check(payload: Uint8Array) {
    const batch = new EventBatch(1);
    batch.push(1, 0, 0, 0, 0, 0, 0);
    try {
      decodeChunk(payload, TICK_HZ, batch, 64);
      expect(batch.length - 1).toBeLessThanOrEqual(payload.length);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      expect(batch.length).toBe(1);
      expect(error.offset).toBeGreaterThanOrEqual(64);
      expect(error.offset).toBeLessThan(64 + Math.max(payload.length, 1));
    }
  }

  it("single-byte mutations never throw anything but DecodeError", () => {
    fc.assert(
      fc.property(chunkArb, fc.nat(), fc.integer({ min: 0, max: 255 }), (payload, at, value) => {
        const mutated = payload.slice();
        mutated[at % mutated.length] = value;
        check(mutated);
      }),
      { numRuns: 3000 },
    );
  });

  it("truncations at every length never throw anything but DecodeError", () => {
    fc.assert(
      fc.property(chunkArb, (payload) => {
        for (let n = 0; n <= payload.length; n++) check(payload.subarray(0, n));
      }),
      { numRuns: 200 },
    );
  });
});
