// The device side of the serial link (core/link.ts), run as real wasm: command frames in through
// the link's host interface, the bytes it hands to `taskscope.link_write` decoded by the host's
// frame splitter and record decoder. Every figure checked against the device's own counters.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import * as zlib from "node:zlib";
import { ROOT } from "./support/core-harness.js";
import { FrameSplitter } from "../host/link/frame-decoder.js";
import {
  COMMAND,
  DEVICE_FRAME,
  DUMP_ALL,
  RESULT,
  decodeHello,
  decodeStatus,
  dumpPayload,
  ackPayload,
  encodeFrame,
  filterPayload,
  streamPayload,
  type Frame,
} from "../host/link/protocol.js";
import { cobsDecode } from "../host/link/cobs.js";
import { decodeRecords, decodeChunk, EventBatch, type WireRecord, type CountersRecord } from "../host/format/index.js";
import { LOG_ARG } from "../host/format/spec.js";

type Exports = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };

const SESSION = 0x1234; // test/wasm/core-harness.ts setup()

/** The link harness with a scriptable clock, its written bytes captured. */
function loadDevice(file = "build/test/link-harness.wasm") {
  // `writeTicks`: how far the clock moves during each link_write (a slow UART).
  const clock = { raw: 1000, step: 1, writeTicks: 0 };
  const written: Uint8Array[] = [];
  let e!: Exports;
  const module = new WebAssembly.Module(readFileSync(resolve(ROOT, file)));
  const instance = new WebAssembly.Instance(module, {
    taskscope: {
      clock: () => {
        const v = clock.raw >>> 0;
        clock.raw += clock.step;
        return v;
      },
      link_write: (ptr: number, len: number) => {
        written.push(new Uint8Array(e.memory.buffer, ptr, len).slice());
        clock.raw += clock.writeTicks;
      },
    },
  });
  e = instance.exports as unknown as Exports;
  let cmdSeq = 1;
  const take = (): Uint8Array => {
    const all = Buffer.concat(written);
    written.length = 0;
    return all;
  };
  /** Feeds raw bytes to the device. */
  const receive = (bytes: Uint8Array) => {
    for (let o = 0; o < bytes.length; o += 256) {
      const part = bytes.subarray(o, o + 256);
      new Uint8Array(e.memory.buffer, e.taskscope_link_rx_buffer!(), part.length).set(part);
      e.taskscope_link_receive!(part.length);
    }
  };
  /** Services the link until it is idle; returns the frames it sent. */
  const service = (limit = 10_000): Frame[] => {
    for (let i = 0; i < limit && e.taskscope_link_service!() !== 0; i++);
    return decodeFrames(take());
  };
  const command = (type: number, payload?: Uint8Array, session = SESSION): { seq: number; frames: Frame[] } => {
    const seq = cmdSeq++;
    receive(encodeFrame(type, session, seq, payload));
    return { seq, frames: service() };
  };
  return { e, clock, receive, service, command, take, module };
}

function decodeFrames(bytes: Uint8Array): Frame[] {
  const frames: Frame[] = [];
  const damage: string[] = [];
  new FrameSplitter((f) => frames.push(f), (r) => damage.push(r)).push(bytes);
  expect(damage).toEqual([]);
  return frames;
}

/** Records carried by RECORDS frames, and the events of their chunks. */
function contents(frames: Frame[]) {
  const records: WireRecord[] = [];
  for (const f of frames) if (f.type === DEVICE_FRAME.RECORDS) records.push(...decodeRecords(f.payload));
  const batch = new EventBatch();
  const seqs: number[] = [];
  for (const r of records) if (r.type === "CHUNK") seqs.push(decodeChunk(r.payload, 1_000_000, batch).seq);
  let events = 0;
  for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
  const names = records.flatMap((r) => (r.type === "NAMES" ? r.entries : []));
  return { records, seqs, events, names };
}

function lastStatus(frames: Frame[]) {
  const f = frames.at(-1)!;
  expect(f.type).toBe(DEVICE_FRAME.STATUS);
  const s = decodeStatus(f.payload);
  const counters = decodeRecords(s.counters)[0] as CountersRecord;
  return { ...s, countersRecord: counters };
}

const dumpAll = (namesFrom = 1, chunksFrom = 0, frameBytes = 1024) =>
  dumpPayload({ namesFrom, chunksFrom, chunkCount: DUMP_ALL, frameBytes });

describe("link frames on the wire", () => {
  it("answers HELLO with its identity, ring geometry, clock and link state", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.clock.raw = 5_000_000;
    const { seq, frames } = d.command(COMMAND.HELLO);
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f).toMatchObject({ type: DEVICE_FRAME.HELLO, session: SESSION, seq: 0 });
    const hello = decodeHello(f.payload);
    expect(hello).toMatchObject({ command: seq, linkVersion: 1, rxMax: 32 });
    expect(hello.now).toBeGreaterThanOrEqual(5_000_000);
    expect(hello.state).toEqual({ streaming: false, namesSent: 0, firstUnsent: 0, oldestKept: 0, rxDamaged: 0 });
    const [info, ...rest] = decodeRecords(hello.info);
    expect(info).toMatchObject({ type: "INFO", device: "harness", firmware: "core-harness 1", sessionId: SESSION, tickHz: 1_000_000 });
    expect(rest).toEqual([]);
    expect(decodeRecords(hello.counters)).toMatchObject([{ type: "COUNTERS", recorded: 0, drained: 0 }]);
  });

  it("HELLO's counters and first unsent say what an earlier connection was handed", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    for (let i = 0; i < 11; i++) d.e.internFixed!(i);
    d.e.stress!(3000, 7);
    d.command(COMMAND.DUMP, dumpAll()); // an earlier pull takes everything
    const hello = decodeHello(d.command(COMMAND.HELLO).frames[0]!.payload);
    const [counters] = decodeRecords(hello.counters);
    if (counters?.type !== "COUNTERS") throw new Error("HELLO without COUNTERS");
    expect(counters.recorded).toBeGreaterThan(2000);
    expect(counters).toMatchObject({ drained: counters.recorded, pendingEvents: 0 });
    expect(hello.state.firstUnsent).toBeGreaterThan(0);
    expect(hello.state.firstUnsent).toBe(counters.nextSeq);
  });

  it("frames are COBS with delimiters on both sides and a CRC-32 that zlib agrees with", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    for (let i = 0; i < 11; i++) d.e.internFixed!(i);
    d.e.stress!(3000, 7);
    d.receive(encodeFrame(COMMAND.DUMP, SESSION, 9, dumpAll()));
    for (let i = 0; i < 1000 && d.e.taskscope_link_service!() !== 0; i++);
    const wire = d.take();
    const segments = Buffer.from(wire).toString("latin1").split("\0").filter((s) => s.length > 0);
    expect(segments.length).toBeGreaterThan(5);
    expect(wire[0]).toBe(0);
    expect(wire.at(-1)).toBe(0);
    for (const s of segments) {
      const raw = cobsDecode(Buffer.from(s, "latin1"))!;
      const body = raw.subarray(0, raw.length - 4);
      expect(Buffer.from(raw.subarray(raw.length - 4)).readUInt32LE(0)).toBe(zlib.crc32(body));
    }
    expect(Number(d.e.taskscope_link_bytes_sent!())).toBe(wire.length);
  });
});

describe("link: the observer's own time", () => {
  it("device time stands still while the link works; the gap is counted in COUNTERS hidden", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.clock.writeTicks = 5000; // every write to the UART takes 5 ms
    d.e.pollBegin!(3);
    const before = d.clock.raw;
    const status = lastStatus(d.command(COMMAND.STATUS).frames);
    const writes = (d.clock.raw - before) / 5000 | 0;
    expect(writes).toBeGreaterThan(0);
    // STATUS carries the time the link began at: its own work is not in it.
    expect(status.countersRecord.now).toBeLessThan(before + 10);
    d.e.pollEnd!(0);
    const dump = d.command(COMMAND.DUMP, dumpAll()).frames;
    const { records } = contents(dump);
    const batch = new EventBatch();
    for (const r of records) if (r.type === "CHUNK") decodeChunk(r.payload, 1_000_000, batch);
    const rows = batch.toEvents();
    expect(rows.map((r) => r.name)).toEqual(["POLL_BEGIN", "POLL_PENDING"]);
    // Without hiding, the poll would span the 5 ms writes; with it, a few clock reads.
    expect(rows[1]!.t - rows[0]!.t).toBeLessThan(20_000);
    expect(lastStatus(dump).countersRecord.hiddenTicks!).toBeGreaterThanOrEqual(writes * 5000);
    // Every tick is accounted for: an event's device time + what was hidden before it (reported
    // by the next call, which cannot count itself yet) = the raw clock at the event. The STATUS
    // asked for below is received (hidden: one clock step between its two reads) after the event.
    const raw = d.clock.raw;
    d.e.pollBegin!(4);
    const hidden = lastStatus(d.command(COMMAND.STATUS).frames).countersRecord.hiddenTicks!;
    const again = new EventBatch();
    for (const r of contents(d.command(COMMAND.DUMP, dumpAll(1, 0)).frames).records) {
      if (r.type === "CHUNK") decodeChunk(r.payload, 1_000_000, again);
    }
    const begin = again.toEvents().find((r) => r.name === "POLL_BEGIN" && r.task === 4)!;
    expect(begin.t / 1000 + hidden - d.clock.step).toBe(raw);
  });

  it("a receive interrupt's decoding is hidden too: it may land inside a poll", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.e.pollBegin!(3);
    const hiddenBefore = lastStatus(d.command(COMMAND.STATUS).frames).countersRecord.hiddenTicks!;
    // Time passes only at clock reads here: 1 ms per read while the bytes are decoded.
    d.clock.step = 1000;
    d.receive(new Uint8Array([0, 0])); // delimiters only: decoded, nothing to answer, no damage counted
    d.clock.step = 1;
    const hiddenAfter = lastStatus(d.command(COMMAND.STATUS).frames).countersRecord.hiddenTicks!;
    expect(hiddenAfter - hiddenBefore).toBeGreaterThanOrEqual(1000);
  });
});

describe("link commands", () => {
  it("DUMP hands over names, every chunk and the counters, each chunk counted once", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    for (let i = 0; i < 11; i++) d.e.internFixed!(i);
    const calls = d.e.stress!(3000, 3); // fits the ring: nothing overwritten
    const { seq, frames } = d.command(COMMAND.DUMP, dumpAll(1, 0, 600));
    const c = contents(frames);
    const st = lastStatus(frames);
    expect(st).toMatchObject({ command: seq, commandType: COMMAND.DUMP, result: RESULT.OK });
    const k = st.countersRecord;
    expect(k.recorded).toBe(calls);
    expect(k.drained).toBe(calls); // the open chunk was sealed and sent too
    expect(k.pendingEvents).toBe(0);
    expect(c.events).toBe(calls);
    expect(c.seqs).toEqual([...Array(c.seqs.length).keys()]);
    expect(c.names.map((n) => n.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // case 9 repeats id 1
    expect(st.state).toMatchObject({ namesSent: 10, firstUnsent: c.seqs.length, oldestKept: 0 });
    // Frames respect the budget (one record may exceed it on its own).
    for (const f of frames) if (f.type === DEVICE_FRAME.RECORDS) expect(f.payload.length).toBeLessThanOrEqual(600);
    // Sequence numbers run on from 0 without a gap.
    expect(frames.map((f) => f.seq)).toEqual([...Array(frames.length).keys()]);
  });

  it("sends a kept chunk again on request without counting it twice", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    const calls = d.e.stress!(4000, 11);
    const first = contents(d.command(COMMAND.DUMP, dumpAll()).frames);
    const again = d.command(COMMAND.DUMP, dumpPayload({ namesFrom: 99, chunksFrom: 2, chunkCount: 3, frameBytes: 4096 })).frames;
    const c = contents(again);
    expect(c.seqs).toEqual([2, 3, 4]);
    const original = first.records.filter((r) => r.type === "CHUNK").slice(2, 5);
    const resent = c.records.filter((r) => r.type === "CHUNK");
    expect(resent.map((r) => Buffer.from((r as { payload: Uint8Array }).payload).toString("hex"))).toEqual(
      original.map((r) => Buffer.from((r as { payload: Uint8Array }).payload).toString("hex")),
    );
    expect(lastStatus(again).countersRecord).toMatchObject({ recorded: calls, drained: calls });
  });

  it("ignores damaged command frames, counts them, and answers the next good one", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    const bad = encodeFrame(COMMAND.STATUS, SESSION, 5);
    bad[4]! ^= 0x10;
    d.receive(bad);
    d.receive(Uint8Array.from([7, 7, 7, 0])); // noise
    expect(d.service()).toEqual([]);
    const { frames } = d.command(COMMAND.STATUS);
    expect(frames).toHaveLength(1);
    expect(lastStatus(frames).state.rxDamaged).toBe(2);
  });

  it("refuses commands for another session and says which session it is", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.e.stress!(500, 1);
    const { frames } = d.command(COMMAND.DUMP, dumpAll(), 0xdead);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.session).toBe(SESSION);
    const st = lastStatus(frames);
    expect(st.result).toBe(RESULT.WRONG_SESSION);
    expect(st.countersRecord.drained).toBe(0);
    expect(lastStatus(d.command(0x42).frames).result).toBe(RESULT.BAD_COMMAND);
  });

  it("FILTER sets the mask; CLEAR starts an empty session with a new id and sequence 0", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.e.stress!(800, 2);
    d.command(COMMAND.FILTER, filterPayload(0b10));
    expect(d.e.taskscope_filter!()).toBe(0b10);
    const { frames } = d.command(COMMAND.CLEAR);
    expect(frames).toHaveLength(1);
    const f = frames[0]!;
    expect(f.session).not.toBe(SESSION);
    expect(f.seq).toBe(0);
    const st = lastStatus(frames);
    expect(st.countersRecord).toMatchObject({ recorded: 0, drained: 0, pendingEvents: 0, nextSeq: 0 });
    // The old session's id is no longer accepted; the new one is.
    expect(lastStatus(d.command(COMMAND.STATUS).frames).result).toBe(RESULT.WRONG_SESSION);
    expect(lastStatus(d.command(COMMAND.STATUS, undefined, f.session).frames).result).toBe(RESULT.OK);
  });
});

describe("link stream mode", () => {
  it("sends chunks as they fill, batched to the frame budget, and STATUS now and then", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.clock.step = 10; // 10 µs per clock read
    const on = d.command(COMMAND.STREAM, streamPayload({ on: true, frameBytes: 1024, latencyMs: 50, statusMs: 100, window: 0 }));
    expect(lastStatus(on.frames).state.streaming).toBe(true);
    let calls = 0;
    const frames: Frame[] = [];
    for (let round = 0; round < 40; round++) {
      calls += d.e.stress!(200, round + 1);
      frames.push(...d.service());
    }
    d.clock.raw += 200_000; // quiet for 200 ms: the open chunk is sealed and sent, STATUS follows
    frames.push(...d.service());
    d.e.taskscope_link_service!();
    frames.push(...decodeFrames(d.take()));
    const c = contents(frames);
    expect(c.events).toBe(calls);
    const data = frames.filter((f) => f.type === DEVICE_FRAME.RECORDS);
    const big = data.filter((f) => f.payload.length > 700);
    expect(big.length).toBeGreaterThan(data.length / 2); // batched, not one chunk per frame
    const statuses = frames.filter((f) => f.type === DEVICE_FRAME.STATUS).map((f) => decodeStatus(f.payload));
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.command === 0 && s.commandType === 0)).toBe(true);
    const k = decodeRecords(statuses.at(-1)!.counters)[0] as CountersRecord;
    expect(k).toMatchObject({ recorded: calls, drained: calls, pendingEvents: 0 });
  });

  it("a small ring that fills faster than the latency and the frame budget still streams", () => {
    // 4 x 128 B: half the ring waits long before 1 KiB or 50 ms have; a window of 1 must not
    // hide that (the device used to count only the chunks the window let out).
    const d = loadDevice("build/test/link-harness-small.wasm");
    d.e.setup!(0, 1_000_000);
    d.clock.step = 1;
    d.command(COMMAND.STREAM, streamPayload({ on: true, frameBytes: 1024, latencyMs: 50, statusMs: 0, window: 1 }));
    let calls = 0;
    let seqs: number[] = [];
    for (let round = 0; round < 60; round++) {
      calls += d.e.stress!(40, round + 1);
      const got = contents(d.service()).seqs;
      seqs = seqs.concat(got);
      if (got.length > 0) d.receive(encodeFrame(COMMAND.ACK, SESSION, 99, ackPayload(got.at(-1)! + 1)));
    }
    const k = lastStatus(d.command(COMMAND.STATUS).frames).countersRecord;
    expect(k.recorded).toBe(calls);
    expect(k.droppedOverwritten).toBe(0); // it kept up: nothing overwritten before it was sent
    expect(seqs.length).toBeGreaterThan(20);
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i)); // in order, none skipped
  });
});

describe("link flow control", () => {
  it("sends at most a window of chunks beyond the host's ACK, and the rest stays unsent", async () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    d.command(COMMAND.STREAM, streamPayload({ on: true, frameBytes: 300, latencyMs: 0, statusMs: 0, window: 4 }));
    d.e.stress!(2500, 9); // about 30 chunks
    const first = contents(d.service());
    expect(first.seqs).toEqual([0, 1, 2, 3]);
    expect(contents(d.service()).seqs).toEqual([]); // nothing more without an ACK
    const st = lastStatus(d.command(COMMAND.STATUS).frames);
    expect(st.state.firstUnsent).toBe(4);
    expect(st.countersRecord.drained).toBe(first.events); // the unsent ones are still pending
    // An ACK is not answered; it lets the next window out. A stale or wild one changes nothing.
    d.receive(encodeFrame(COMMAND.ACK, SESSION, 0, ackPayload(2)));
    expect(contents(d.service()).seqs).toEqual([4, 5]);
    d.receive(encodeFrame(COMMAND.ACK, SESSION, 0, ackPayload(1)));
    d.receive(encodeFrame(COMMAND.ACK, SESSION, 0, ackPayload(999)));
    expect(contents(d.service()).seqs).toEqual([]);
    d.receive(encodeFrame(COMMAND.ACK, SESSION, 0, ackPayload(6)));
    expect(contents(d.service()).seqs).toEqual([6, 7, 8, 9]);
  });
});

describe("link: no allocation", () => {
  it("streams, resends and dumps 300,000 events without allocating or growing memory", () => {
    const d = loadDevice();
    d.e.setup!(0, 1_000_000);
    for (let i = 0; i < 11; i++) d.e.internFixed!(i);
    const probe = () => d.e.__new!(0, 0);
    const first = probe();
    const stride = probe() - first;
    const pages = d.e.memory.buffer.byteLength;
    d.command(COMMAND.HELLO);
    d.command(COMMAND.STREAM, streamPayload({ on: true, frameBytes: 700, latencyMs: 1, statusMs: 5, window: 8 }));
    let calls = 0;
    let events = 0;
    for (let round = 0; calls < 300_000; round++) {
      calls += d.e.stress!(2000, round + 1);
      const c = contents(d.service());
      events += c.events;
      if (c.seqs.length > 0) d.receive(encodeFrame(COMMAND.ACK, SESSION, 0, ackPayload(c.seqs.at(-1)! + 1)));
      if (round % 10 === 0) d.command(COMMAND.DUMP, dumpPayload({ namesFrom: 1, chunksFrom: Math.max(0, (c.seqs[0] ?? 0) - 2), chunkCount: 2, frameBytes: 64 }));
    }
    const last = d.command(COMMAND.DUMP, dumpAll(99, 0)).frames;
    expect(probe() - first).toBe(2 * stride);
    expect(d.e.memory.buffer.byteLength).toBe(pages);
    expect(lastStatus(last).countersRecord.recorded).toBe(calls);
  });
});

describe("link and the ring", () => {
  it("reuses the slots of sent chunks silently; overwriting unsent ones is counted", () => {
    const d = loadDevice("build/test/link-harness-small.wasm"); // 4 chunks of 128 bytes
    d.e.setup!(0, 1_000_000);
    const before = d.e.stress!(60, 5);
    const first = contents(d.command(COMMAND.DUMP, dumpAll()).frames);
    expect(first.events).toBe(before);
    // Fill the ring several times over: the sent chunks go first, without loss...
    const calls = d.e.stress!(2000, 6);
    const { frames } = d.command(COMMAND.DUMP, dumpAll(99, first.seqs.at(-1)! + 1));
    const st = lastStatus(frames);
    const k = st.countersRecord;
    const total = before + calls;
    expect(k.recorded).toBe(total);
    // ...and what was overwritten before it could be sent is counted, exactly.
    expect(k.droppedOverwritten).toBeGreaterThan(0);
    expect(k.drained + k.droppedOverwritten + k.pendingEvents).toBe(k.recorded);
    expect(first.events + contents(frames).events).toBe(k.drained);
    // Only the last 4 chunks are kept; asking for older ones brings what is left.
    expect(st.state.oldestKept).toBe(k.nextSeq - 4);
  });

  it("only a module that uses the link imports link_write", () => {
    const d = loadDevice();
    expect(WebAssembly.Module.imports(d.module).map((i) => `${i.module}.${i.name}`).sort()).toEqual([
      "taskscope.clock",
      "taskscope.link_write",
    ]);
    const plain = new WebAssembly.Module(readFileSync(resolve(ROOT, "build/test/core-harness.wasm")));
    expect(WebAssembly.Module.imports(plain).map((i) => `${i.module}.${i.name}`)).toEqual(["taskscope.clock"]);
  });
});
