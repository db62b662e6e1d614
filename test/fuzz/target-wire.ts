// Fuzz targets for the wire decoders: drained records through the ingest into a trace file (which
// must read back without damage: the ingest stores only what it checked), single chunk payloads,
// and COBS frames through the frame splitter and the frame payload decoders. A DecodeError is a
// handled error and must name its offset; a damaged frame must never come out as a frame.

import { decodeChunk, decodeRecords, DecodeError, EventBatch } from "../../host/format/index.js";
import { timeProblem } from "../../host/format/limits.js";
import { TraceIngest } from "../../host/pull/ingest.js";
import { TraceWriter } from "../../host/tracefile/writer.js";
import { openTrace } from "../../host/tracefile/trace.js";
import { TraceFileError } from "../../host/tracefile/errors.js";
import { FrameSplitter } from "../../host/link/frame-decoder.js";
import { COMMAND, DEVICE_FRAME, decodeHello, decodeStatus, encodeFrame, type Frame } from "../../host/link/protocol.js";
import { ScriptedDevice } from "../support/scripted-device.js";
import { concat, Rng, type Seed } from "./mutate.js";
import { scratchFile, type FuzzTarget, type Outcome } from "./target.js";

function decodeError(e: unknown, outcome: Outcome): void {
  if (!(e instanceof DecodeError)) throw e;
  outcome.error = e.message;
  if (!Number.isFinite(e.offset) || !/byte \d+/.test(e.message)) outcome.noOffset = true;
}

/** Drain bytes -> ingest -> trace file -> read back. */
export class RecordsTarget implements FuzzTarget {
  readonly name = "records";
  private readonly file: string;
  private runs = 0;

  constructor(
    readonly seeds: Seed[],
    dir: string,
  ) {
    this.file = scratchFile(dir, "records");
  }

  run(input: Uint8Array): Outcome {
    const outcome: Outcome = { error: undefined };
    try {
      const batch = new EventBatch();
      for (const r of decodeRecords(input)) if (r.type === "CHUNK") decodeChunk(r.payload, 1_000_000, batch, r.payloadOffset);
    } catch (e) {
      decodeError(e, outcome);
    }
    const writer = new TraceWriter(this.file);
    writer.header({ tool: "taskscope fuzz", source: "records" });
    const ingest = new TraceIngest(writer);
    // Two pushes, split where the input says: a drain boundary anywhere.
    const cut = input.length === 0 ? 0 : input[0]! % (input.length + 1);
    ingest.push(input.subarray(0, cut), { ticks: 0, unixNs: 1_700_000_000_000_000_000n });
    ingest.push(input.subarray(cut), { ticks: 0, unixNs: 1_700_000_000_000_000_000n });
    ingest.finish("fuzz");
    writer.close();
    if ((++this.runs & 3) === 0) {
      try {
        const trace = openTrace(this.file);
        for (const _ of trace.batches());
        const summary = trace.summary();
        if (summary.damaged.length > 0) outcome.misread = `the ingest wrote a file with damage: ${summary.damaged[0]!.reason}`;
      } catch (e) {
        if (!(e instanceof TraceFileError)) throw e;
        outcome.misread = `the ingest wrote a file that does not read: ${e.message}`;
      }
    }
    return outcome;
  }
}

/** One CHUNK payload, at a tick rate the input picks; a chunk that decodes gets the time checks. */
export class ChunkTarget implements FuzzTarget {
  readonly name = "chunk";
  private readonly batch = new EventBatch();
  private static readonly RATES = [1, 32_768, 1_000_000, 1e9, 0xffffffff];

  constructor(readonly seeds: Seed[]) {}

  run(input: Uint8Array): Outcome {
    const outcome: Outcome = { error: undefined };
    const hz = ChunkTarget.RATES[(input[input.length - 1] ?? 0) % ChunkTarget.RATES.length]!;
    this.batch.clear();
    try {
      const h = decodeChunk(input, hz, this.batch, 1000);
      if (this.batch.length > input.length) throw new Error(`${this.batch.length} rows from ${input.length} bytes`);
      timeProblem(h.baseTicks, hz);
    } catch (e) {
      decodeError(e, outcome);
    }
    return outcome;
  }
}

/** Chunk payload seeds: the CHUNK records of the drain seeds. */
export function chunkSeeds(drains: Seed[]): Seed[] {
  const out: Seed[] = [];
  for (const d of drains) {
    try {
      for (const r of decodeRecords(d.bytes)) if (r.type === "CHUNK" && out.length < 64) out.push({ bytes: r.payload.slice() });
    } catch {
      // a drain cut mid-record: the chunks before it are enough
    }
  }
  return out;
}

/** A byte stream of COBS frames: what comes out must be frames that went in, byte for byte. */
export class FramesTarget implements FuzzTarget {
  readonly name = "frames";
  /** Every frame the seeds hold, as latin1 strings of their raw bytes. */
  private readonly known = new Set<string>();

  constructor(readonly seeds: Seed[]) {
    for (const s of seeds) {
      new FrameSplitter((f) => this.known.add(key(f))).push(s.bytes);
    }
  }

  run(input: Uint8Array): Outcome {
    const outcome: Outcome = { error: undefined };
    const frames: Frame[] = [];
    const splitter = new FrameSplitter((f) => frames.push(f));
    // Arrives in pieces, as from a port.
    const step = 1 + ((input[0] ?? 0) % 97);
    for (let o = 0; o < input.length; o += step) splitter.push(input.subarray(o, o + step));
    splitter.push(Uint8Array.of(0));
    for (const f of frames) {
      if (!this.known.has(key(f))) outcome.misread = "a frame that was not sent came out of the splitter";
      try {
        if (f.type === DEVICE_FRAME.HELLO) {
          const h = decodeHello(f.payload);
          decodeRecords(h.info);
          decodeRecords(h.counters);
        } else if (f.type === DEVICE_FRAME.STATUS) decodeRecords(decodeStatus(f.payload).counters);
        else if (f.type === DEVICE_FRAME.RECORDS) decodeRecords(f.payload);
      } catch (e) {
        if (!(e instanceof RangeError || e instanceof DecodeError)) throw e;
      }
    }
    return outcome;
  }
}

function key(f: Frame): string {
  return `${f.type}:${f.session}:${f.seq}:${Buffer.from(f.payload).toString("latin1")}`;
}

/** A device conversation's bytes (HELLO, DUMP answers, STATUS) from the scripted device. */
export function frameSeeds(): Seed[] {
  const out: Seed[] = [];
  for (const events of [200, 1500]) {
    const parts: Uint8Array[] = [];
    const device = new ScriptedDevice({ events });
    device.onOutput = (b) => parts.push(b);
    device.receive(encodeFrame(COMMAND.HELLO, 0, 1));
    const dump = new Uint8Array(14);
    const v = new DataView(dump.buffer);
    v.setUint32(0, 1, true);
    v.setUint32(8, 0xffffffff, true);
    v.setUint16(12, 512, true);
    device.receive(encodeFrame(COMMAND.DUMP, device.sessionId, 2, dump));
    device.receive(encodeFrame(COMMAND.STATUS, device.sessionId, 3));
    const bytes = concat(...parts);
    const marks = [0];
    for (let i = 1; i < bytes.length; i++) if (bytes[i] === 0 && bytes[i - 1] !== 0) marks.push(i + 1);
    out.push({ bytes, marks: marks.filter((m) => m <= bytes.length) });
  }
  // Noise between frames.
  const r = new Rng(5);
  out.push({ bytes: concat(out[0]!.bytes.subarray(0, 300), Uint8Array.from({ length: 200 }, () => r.below(256)), out[0]!.bytes.subarray(300)) });
  return out;
}
