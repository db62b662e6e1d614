// The host's link session (host/link/session.ts) against the real device core in wasm, in memory
// (test/support/device-sim-inmemory.ts): streams, dumps, damaged and lost frames both ways,
// resets. What reaches the sink must be every chunk once, in order, or a reported loss whose
// events the device's counters account for exactly.

import { describe, it, expect } from "vitest";
import { InMemoryBoard } from "./support/device-sim-inmemory.js";
import { LinkSession, type LinkSink } from "../host/link/session.js";
import { decodeRecords, decodeChunk, EventBatch, NameTable, type CountersRecord } from "../host/format/index.js";
import { LOG_ARG } from "../host/format/spec.js";
import { CLEAN, type FaultPlan } from "./support/fault-relay.js";
import { FrameSplitter } from "../host/link/frame-decoder.js";
import { DEVICE_FRAME, type Frame } from "../host/link/protocol.js";

interface SinkSession {
  id: number;
  seqs: number[];
  events: number;
  names: NameTable;
  counters: CountersRecord | undefined;
  lost: { from: number; to: number }[];
  /** Chunks whose events used a name id not yet received. */
  early: number;
}

function collector() {
  const sessions: SinkSession[] = [];
  const batch = new EventBatch();
  const sink: LinkSink = {
    session(info) {
      const r = decodeRecords(info)[0]!;
      if (r.type !== "INFO") throw new Error("not INFO");
      sessions.push({ id: r.sessionId, seqs: [], events: 0, names: new NameTable(), counters: undefined, lost: [], early: 0 });
    },
    records(bytes) {
      const s = sessions.at(-1)!;
      for (const r of decodeRecords(bytes)) {
        if (r.type === "NAMES") s.names.addRecord(r);
        else if (r.type === "COUNTERS") s.counters = r;
        else if (r.type === "CHUNK") {
          batch.clear();
          s.seqs.push(decodeChunk(r.payload, 1_000_000, batch).seq);
          for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) s.events++;
        }
      }
    },
    lost(from, to) {
      sessions.at(-1)!.lost.push({ from, to });
    },
  };
  return { sessions, sink };
}

const tick = () => new Promise((r) => setTimeout(r, 1));

/** Runs board slices until `done` settles (or `slices` run out), `events` per slice. */
async function drive(board: InMemoryBoard, done: Promise<void>, slices: number, events: number, each?: (i: number) => void) {
  let finished = false;
  let error: unknown;
  done.then(() => (finished = true), (e) => ((error = e), (finished = true)));
  for (let i = 0; i < slices && !finished; i++) {
    each?.(i);
    board.run(events);
    await tick();
  }
  return { finished, error };
}

/** What the device really sent (its bytes before the faults): chunk seq -> events. */
function sentChunks() {
  const sent = new Map<number, number>();
  const batch = new EventBatch();
  const clean = new FrameSplitter((f: Frame) => {
    if (f.type !== DEVICE_FRAME.RECORDS) return;
    for (const r of decodeRecords(f.payload)) {
      if (r.type !== "CHUNK") continue;
      batch.clear();
      const seq = decodeChunk(r.payload, 1_000_000, batch).seq;
      let events = 0;
      for (let i = 0; i < batch.length; i++) if (batch.kind[i] !== LOG_ARG) events++;
      sent.set(seq, events);
    }
  });
  return { sent, onDeviceBytes: (bytes: Uint8Array) => clean.push(bytes) };
}

const seqsOf = (lost: { from: number; to: number }[]) => new Set(lost.flatMap((l) => Array.from({ length: l.to - l.from + 1 }, (_, i) => l.from + i)));

async function streamRun(plan: { toHost?: FaultPlan; toDevice?: FaultPlan; seed?: number; file?: string }, slices = 300, events = 40) {
  let session!: LinkSession;
  const { sent, onDeviceBytes } = sentChunks();
  const board = new InMemoryBoard((f) => session.frame(f), { ...plan, onDeviceBytes }, () => session.damaged());
  const { sessions, sink } = collector();
  session = new LinkSession((b) => board.hostWrite(b), sink, { replyTimeoutMs: 60, statusMs: 20, latencyMs: 10, connectTimeoutMs: 5000 });
  const done = session.stream();
  await drive(board, done, slices, events);
  session.stop();
  const end = await drive(board, done, 5000, 0);
  expect(end.error).toBeUndefined();
  expect(end.finished).toBe(true);
  return { board, session, sessions, sent };
}

function expectInOrder(s: SinkSession): void {
  const lostSeqs = new Set(s.lost.flatMap((l) => Array.from({ length: l.to - l.from + 1 }, (_, i) => l.from + i)));
  for (let i = 1; i < s.seqs.length; i++) {
    let expected = s.seqs[i - 1]! + 1;
    while (lostSeqs.has(expected)) expected++;
    expect(s.seqs[i], `chunk ${i}`).toBe(expected);
  }
}

describe("link session against the device core", () => {
  it("a clean stream delivers every event, once, in order", async () => {
    const { board, sessions, session } = await streamRun({});
    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expect(s.events).toBe(board.recorded);
    expect(s.counters).toMatchObject({ recorded: board.recorded, drained: board.recorded, droppedOverwritten: 0 });
    expect(s.lost).toEqual([]);
    expect(s.seqs).toEqual([...Array(s.seqs.length).keys()]);
    expect(session.stats).toMatchObject({ framesLost: 0, chunksLost: 0, duplicates: 0 });
  });

  it("a noisy link (both ways): what arrives is in order, and loss is exact", async () => {
    const noise: FaultPlan = { bitErrorRate: 3e-4, dropRate: 3e-4, insertRate: 1e-4 };
    const { sessions, session, board, sent } = await streamRun({ toHost: noise, toDevice: noise, seed: 42 });
    expect(board.toHost.stats.damaged).toBeGreaterThan(0);
    expect(board.toDevice.stats.damaged + board.toDevice.stats.dropped).toBeGreaterThan(0);
    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expectInOrder(s);
    const c = s.counters!;
    expect(c.recorded).toBe(board.recorded);
    expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
    expect(session.stats.chunksRecovered).toBeGreaterThan(0);
    // Every event the device handed over is in the sink, or in a chunk reported lost: every
    // chunk it sent is stored or reported (none missing silently, not even before the first
    // that arrived), so the counters split exactly. A reported chunk it never sent was
    // overwritten before it could be.
    const lostChunks = s.lost.reduce((n, l) => n + l.to - l.from + 1, 0);
    expect(lostChunks).toBe(session.stats.chunksLost);
    const stored = new Set(s.seqs);
    const reported = seqsOf(s.lost);
    expect([...sent.keys()].filter((seq) => !stored.has(seq) && !reported.has(seq)), "sent, never stored, never reported").toEqual([]);
    let lostEvents = 0;
    for (const [seq, events] of sent) if (!stored.has(seq)) lostEvents += events;
    expect(s.events + lostEvents).toBe(c.drained);
    expect([...reported].filter((seq) => !sent.has(seq)).length).toBeLessThanOrEqual(c.chunksOverwritten);
    // From where the data starts (the first chunk stored or reported) to the last, each chunk is
    // stored or reported, once.
    const first = Math.min(s.seqs[0] ?? c.nextSeq, ...s.lost.map((l) => l.from));
    expect(s.seqs.length + lostChunks).toBe(c.nextSeq - first);
  });
});

describe("link session: loss before the first chunk arrives", () => {
  it("chunks sent into damaged frames, then overwritten before anything arrived, are reported lost", async () => {
    const { sent, onDeviceBytes } = sentChunks();
    let session!: LinkSession;
    let chunkFramesArrived = 0;
    const board = new InMemoryBoard(
      (f) => {
        if (f.type === DEVICE_FRAME.RECORDS && decodeRecords(f.payload).some((r) => r.type === "CHUNK")) chunkFramesArrived++;
        session.frame(f);
      },
      { onDeviceBytes },
      () => session.damaged(),
    );
    const { sessions, sink } = collector();
    session = new LinkSession((b) => board.hostWrite(b), sink, { replyTimeoutMs: 60, statusMs: 20, latencyMs: 10, connectTimeoutMs: 5000 });
    const done = session.stream();
    // A clean hello and STREAM, before anything is recorded: the device streams from chunk 0.
    for (let i = 0; i < 500 && session.stats.counters === undefined; i++) {
      board.run(0);
      await tick();
    }
    expect(session.stats.counters, "the STREAM was answered").toBeDefined();
    // Every frame to the host arrives damaged while the device streams its first window (no
    // chunk reaches the host, so it acknowledges none) and then records on, lapping its ring:
    // the chunks it sent are overwritten before the host can ask for them again.
    board.toHost.plan = { bitErrorRate: 0.05, dropRate: 0, insertRate: 0 };
    for (let i = 0; i < 200; i++) board.run(100);
    const window = [...sent.keys()];
    expect(window.length, "the device sent its first window").toBeGreaterThanOrEqual(8);
    expect(chunkFramesArrived, "no chunk reached the host").toBe(0);
    // The line clears: the host learns the window is gone and streams on from what the ring holds.
    board.toHost.plan = CLEAN;
    await drive(board, done, 200, 40);
    session.stop();
    const end = await drive(board, done, 5000, 0);
    expect(end.error).toBeUndefined();
    expect(end.finished).toBe(true);

    expect(sessions).toHaveLength(1);
    const s = sessions[0]!;
    expectInOrder(s);
    const c = s.counters!;
    expect(c.chunksOverwritten, "the ring lapped").toBeGreaterThan(0);
    expect(s.seqs.length, "the stream carried on").toBeGreaterThan(0);
    const stored = new Set(s.seqs);
    const reported = seqsOf(s.lost);
    // None of the first window arrived; every chunk the device sent is stored, or covered by a
    // loss item (the first one starting where the connection's data starts, at chunk 0).
    for (const seq of window) expect(stored.has(seq), `chunk ${seq} was never delivered`).toBe(false);
    const silent = [...sent.keys()].filter((seq) => !stored.has(seq) && !reported.has(seq));
    expect(silent, "sent, never stored, never reported").toEqual([]);
    expect(s.lost[0]?.from).toBe(0);
    expect(session.stats.chunksLost).toBe(reported.size);
    // ...so the device's counters split exactly: drained = events stored + events of the sent
    // chunks reported lost.
    let lostEvents = 0;
    for (const [seq, events] of sent) if (!stored.has(seq)) lostEvents += events;
    expect(lostEvents).toBeGreaterThan(0);
    expect(s.events + lostEvents).toBe(c.drained);
  });
});
