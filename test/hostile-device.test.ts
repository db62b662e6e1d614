// A broken or hostile device (frames with valid CRCs and content that cannot be true) never keeps
// a pull from finishing, and nothing it sent is dropped without being counted and said. Each case
// the issue saw, twice: on virtual time through the link session, ingest and writer (exact
// counts), and through the real trace-pull --port on a pty (socat), against the scripted device
// of test/support/scripted-device.ts.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { ROOT } from "./support/core-harness.js";
import { startPtyPair, type PtyPair } from "./support/pty.js";
import { ScriptedDevice, STATE_AT, chunkOffsets, countersAt, type RawFrame } from "./support/scripted-device.js";
import { pullFromScriptedDevice, virtualPull } from "./fuzz/target-link.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { LinkProtocolError } from "../host/link/session.js";
import { DEVICE_FRAME } from "../host/link/protocol.js";
import { TraceIngest } from "../host/pull/ingest.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { chunkRecord, concatBytes, countersRecord, encodeChunks, infoRecord, namesRecord, syntheticWorkload, type InfoFields } from "./support/wire-encoder.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-hostile-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setU32 = (p: Uint8Array, at: number, v: number) => new DataView(p.buffer, p.byteOffset, p.byteLength).setUint32(at, v >>> 0, true);
const getU32 = (p: Uint8Array, at: number) => new DataView(p.buffer, p.byteOffset, p.byteLength).getUint32(at, true);

/** The misbehaviours of the issue, as `misbehave` functions of the scripted device. */
const HOSTILE = {
  /** The third chunk it sends carries seq + 2^31 (once; asked again, it sends it right). */
  seqJump: () => {
    let sent = 0;
    let done = false;
    return (f: RawFrame): RawFrame[] => {
      if (f.type !== DEVICE_FRAME.RECORDS || done) return [f];
      const p = f.payload.slice();
      for (const at of chunkOffsets(p)) {
        if (++sent === 3) {
          setU32(p, at, getU32(p, at) + 0x80000000);
          done = true;
        }
      }
      return [{ ...f, payload: p }];
    };
  },
  /** Every answer comes from a new session (it restarts after each one). */
  newSessionEachAnswer: () => (f: RawFrame, d: ScriptedDevice): RawFrame[] => {
    d.restart();
    return [f];
  },
  /** Its link state claims 50 more names than it has, and it never sends them. */
  namesClaim: () => (f: RawFrame): RawFrame[] => {
    const at = STATE_AT[f.type];
    if (at === undefined) return [f];
    const p = f.payload.slice();
    setU32(p, at + 1, getU32(p, at + 1) + 50);
    return [{ ...f, payload: p }];
  },
  /** INFO says the clock runs at 0 Hz. */
  tickHzZero: () => (f: RawFrame): RawFrame[] => {
    if (f.type !== DEVICE_FRAME.HELLO) return [f];
    const p = f.payload.slice();
    setU32(p, 12 + 17 + 3 + 20, 0);
    return [{ ...f, payload: p }];
  },
  /** Every STATUS says 2^64 - 1 events were overwritten. */
  garbageCounters: () => (f: RawFrame): RawFrame[] => {
    if (f.type !== DEVICE_FRAME.STATUS) return [f];
    const p = f.payload.slice();
    setU32(p, countersAt(f) + 24, 0xffffffff);
    setU32(p, countersAt(f) + 28, 0xffffffff);
    return [{ ...f, payload: p }];
  },
};

/** A dump from a scripted device bent by `misbehave`, on virtual time (no wall clock). */
const dumpFrom = (misbehave: (f: RawFrame, d: ScriptedDevice) => RawFrame[], file: string) => virtualPull(new ScriptedDevice({ events: 2000, misbehave }), file);

describe("a hostile device on virtual time: the pull ends, and says what the device did", () => {
  it("a chunk seq + 2^31: left out and counted, the real chunk asked for again; no 2^31-chunk gap", async () => {
    const file = join(dir, "seq.trace.cbor");
    const r = await dumpFrom(HOSTILE.seqJump(), file);
    expect(r.ended).toBe(true);
    expect(r.error).toBeUndefined();
    expect(r.session.stats.chunksRejected).toBe(1);
    expect(r.session.stats.faultNotes.join("\n")).toMatch(/chunk seq \d+ is \d+ (ahead of anything the device said it had|behind the next expected)/);
    expect(r.session.stats.chunksLost).toBe(0);
    const trace = readWholeTrace(file);
    expect(trace.damaged).toEqual([]);
    expect(trace.losses).toEqual([]);
    expect(trace.sessions[0]!.events).toBe(r.device.recorded); // every event, the bogus copy left out
  });

  it("a new session on every answer: ends after a few, saying so, with a small file", async () => {
    const file = join(dir, "sessions.trace.cbor");
    const r = await dumpFrom(HOSTILE.newSessionEachAnswer(), file);
    expect(r.ended).toBe(true);
    expect(r.error).toBeInstanceOf(LinkProtocolError);
    expect(r.error!.message).toMatch(/started 8 sessions in a row without sending anything/);
    expect(r.virtualMs).toBeLessThan(60_000);
    expect(readWholeTrace(file).sessions.length).toBeLessThanOrEqual(9);
  });

  it("link state claiming more names than it sends: given up after a few requests, every event kept", async () => {
    const file = join(dir, "names.trace.cbor");
    const r = await dumpFrom(HOSTILE.namesClaim(), file);
    expect(r.ended).toBe(true);
    expect(r.error).toBeUndefined();
    expect(r.session.stats.faultNotes.join("\n")).toMatch(/handed over names up to id 62, but sends none from id 13/);
    const trace = readWholeTrace(file);
    expect(trace.sessions[0]!.events).toBe(r.device.recorded);
    expect(trace.sessions[0]!.names.size).toBe(12);
  });

  it("INFO with tick rate 0: no session is recorded, the pull ends saying why", async () => {
    const file = join(dir, "hz.trace.cbor");
    const r = await dumpFrom(HOSTILE.tickHzZero(), file);
    expect(r.error).toBeInstanceOf(LinkProtocolError);
    expect(r.error!.message).toMatch(/the device answered, but not usably: .*tick_hz is 0/);
    const trace = readWholeTrace(file);
    expect(trace.sessions).toEqual([]);
    expect(r.ingest.stats.events).toBe(0);
  });

  it("counters of 2^64 - 1: never believed, never printed; the pull ends saying what", async () => {
    const file = join(dir, "counters.trace.cbor");
    const r = await dumpFrom(HOSTILE.garbageCounters(), file);
    expect(r.error).toBeInstanceOf(LinkProtocolError);
    expect(r.error!.message).toMatch(/counter droppedOverwritten = ~2\^64\.0 is out of range/);
    const trace = readWholeTrace(file);
    expect(trace.damaged).toEqual([]);
    for (const s of trace.sessions) expect(s.counters?.droppedOverwritten ?? 0).toBeLessThan(2 ** 53);
  });

  it("random hostile tapes: every pull ends within 300 s of virtual time, its file reads back clean", async () => {
    for (let seed = 1; seed <= 40; seed++) {
      const tape = Uint8Array.from({ length: 80 }, (_, i) => (Math.imul(seed * 7919 + i, 2654435761) >>> 24) & 0xff);
      const file = join(dir, `tape-${seed}.trace.cbor`);
      const r = await pullFromScriptedDevice(tape, file);
      expect(r.ended, `tape ${seed}`).toBe(true);
      expect(readWholeTrace(file).damaged, `tape ${seed}`).toEqual([]);
    }
  });
});

// ---- through the real trace-pull --port on a pty --------------------------------------------

interface Run {
  code: number | null;
  stderr: string;
}

function pull(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [join(ROOT, "dist/host/cli/trace-pull.js"), ...args], { cwd: dir });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  child.stdout.resume();
  return new Promise((done) => child.once("exit", (code) => done({ code, stderr })));
}

describe("a hostile device through trace-pull --port on a pty", () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await startPtyPair(dir, "hostile-dev", "hostile-host");
  });
  afterAll(async () => pty?.stop());

  async function withDevice(misbehave: (f: RawFrame, d: ScriptedDevice) => RawFrame[], args: string[]) {
    const device = new ScriptedDevice({ events: 2000, misbehave });
    const port = new SerialPort({ path: pty.a, baudRate: 115200 });
    await new Promise<void>((resolve, reject) => port.once("open", resolve).once("error", reject));
    device.attachToPort(port);
    try {
      return { r: await pull(["--port", pty.b, ...args]), device };
    } finally {
      await new Promise<void>((done) => port.close(() => done()));
    }
  }

  it("seq + 2^31: the dump finishes, every event is in the file, the fault is named", { timeout: 60_000 }, async () => {
    const file = join(dir, "pty-seq.trace.cbor");
    const { r, device } = await withDevice(HOSTILE.seqJump(), ["-o", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/nothing lost on the link/);
    expect(r.stderr).toMatch(/impossible sequence numbers left out/);
    if (process.env["SHOW_STDERR"]) console.log(r.stderr);
    expect(r.stderr).not.toMatch(/2,147,48\d,\d{3} chunks/);
    expect(readWholeTrace(file).sessions[0]!.events).toBe(device.recorded);
  });

  it("a new session on every answer: exit 1 with the reason, in bounded time", { timeout: 60_000 }, async () => {
    const file = join(dir, "pty-sessions.trace.cbor");
    const { r } = await withDevice(HOSTILE.newSessionEachAnswer(), ["-o", file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/started 8 sessions in a row without sending anything/);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it("more names claimed than sent: finishes, says so, keeps every event", { timeout: 60_000 }, async () => {
    const file = join(dir, "pty-names.trace.cbor");
    const { r, device } = await withDevice(HOSTILE.namesClaim(), ["-o", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/names up to id 62, but sends none from id 13/);
    expect(readWholeTrace(file).sessions[0]!.events).toBe(device.recorded);
  });

  it("tick rate 0: exit 1 naming it, no claim that nothing was lost", { timeout: 60_000 }, async () => {
    const file = join(dir, "pty-hz.trace.cbor");
    const { r } = await withDevice(HOSTILE.tickHzZero(), ["-o", file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/tick_hz is 0/);
    expect(r.stderr).not.toMatch(/nothing lost/);
  });

  it("garbage counters: exit 1 naming them, no absurd figure printed", { timeout: 60_000 }, async () => {
    const file = join(dir, "pty-counters.trace.cbor");
    const { r } = await withDevice(HOSTILE.garbageCounters(), ["-o", file]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/counter droppedOverwritten/);
    expect(r.stderr).not.toMatch(/\d{1,3}(,\d{3}){5,} events/); // nothing like 36,893,488,147,419,103,000
  });
});

// ---- the ingest (both transports): records of a broken drain --------------------------------

describe("the ingest: nothing a device sends is dropped without being counted", () => {
  const INFO: InfoFields = {
    ringMode: "overwrite", chunkSize: 256, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, tickHz: 1_000_000,
    filter: 0x7ff, sessionId: 77, device: "d", firmware: "f",
  };
  const events = [...syntheticWorkload(400, 3)];
  const chunks = encodeChunks(events, { chunkSize: 256 });
  const anchor = { ticks: 0, unixNs: 1_700_000_000_000_000_000n };
  const counters = (c: Partial<Record<string, number | bigint>> = {}) =>
    countersRecord({ recorded: 400, drained: 400, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0, namesDropped: 0, nextSeq: chunks.length, pendingEvents: 0, now: 10 ** 9, firstDrop: 0, lastDrop: 0, ...c });

  /** Where a chunk's first event starts: after seq, base and (wire format 2) two varints, the
   *  context task and the context resource (docs/FORMAT.md section 3). */
  function firstTagAt(chunk: Uint8Array): number {
    let p = 12;
    for (let varints = 0; varints < 2; varints++) while (chunk[p++]! & 0x80);
    return p;
  }

  function ingestOf(...pushes: Uint8Array[]) {
    const file = join(dir, `ingest-${Math.random().toString(36).slice(2)}.trace.cbor`);
    const writer = new TraceWriter(file);
    writer.header({ tool: "t", source: "s" });
    const ingest = new TraceIngest(writer);
    for (const p of pushes) ingest.push(p, anchor);
    ingest.finish("exit 0");
    writer.close();
    const trace = readWholeTrace(file);
    expect(trace.damaged, "the ingest stores only what it checked").toEqual([]);
    return { stats: ingest.stats, trace };
  }

  it("an INFO with tick rate 0, and chunks before any INFO: counted with their events, not stored", () => {
    const { stats, trace } = ingestOf(concatBytes([chunkRecord(chunks[0]!)]), concatBytes([infoRecord({ ...INFO, tickHz: 0 }), ...chunks.map(chunkRecord), counters()]));
    expect(trace.sessions).toEqual([]);
    expect(stats.orphanChunks).toBe(chunks.length + 1);
    expect(stats.orphanEvents).toBeGreaterThan(400); // every event, the first chunk twice
    expect(stats.problems.join("\n")).toMatch(/INFO is unusable \(INFO does not decode \(tick_hz is 0/);
    expect(stats.problems.join("\n")).toMatch(/chunks before any INFO: left out/);
  });

  it("a damaged chunk, a duplicate and garbage counters: one loss item, one copy, the counters set aside", () => {
    const bad = chunks[2]!.slice();
    bad[firstTagAt(bad)] = 0x3f; // an unknown event tag
    const { stats, trace } = ingestOf(
      concatBytes([infoRecord(INFO), namesRecord(1, [{ kind: 1, text: "t" }]), chunkRecord(chunks[0]!), chunkRecord(chunks[1]!), chunkRecord(chunks[1]!), chunkRecord(bad), ...chunks.slice(3).map(chunkRecord), counters()]),
      concatBytes([counters({ droppedOverwritten: (1n << 64n) - 1n })]),
    );
    expect(stats.duplicates).toBe(1);
    expect(stats.damaged).toBe(2); // the chunk and the counters
    expect(trace.sessions[0]!.chunks).toBe(chunks.length - 1);
    expect(trace.losses).toEqual([expect.objectContaining({ kind: "decode", chunks: 1, reason: expect.stringMatching(/unknown event tag 0x3f/) })]);
    expect(trace.sessions[0]!.counters!.droppedOverwritten).toBe(0);
    expect(stats.problems.join("\n")).toMatch(/device counters set aside: counter droppedOverwritten = ~2\^64\.0 is out of range/);
  });

  it("a record with a broken header: the bytes from there are counted as one damaged record", () => {
    const { stats, trace } = ingestOf(concatBytes([infoRecord(INFO), chunkRecord(chunks[0]!), Uint8Array.of(0x7e, 1, 2, 3), chunkRecord(chunks[1]!)]));
    expect(trace.sessions[0]!.chunks).toBe(1);
    expect(stats.damaged).toBe(1);
    expect(stats.problems.join("\n")).toMatch(/unknown record type 0x7e .* bytes from there left out/);
  });
});
