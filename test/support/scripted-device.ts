// A scripted device for the link's hostile-device tests and its fuzz target: the link protocol
// of docs/FORMAT.md section 7 written in TypeScript from the document (not the core), over a ring
// filled once with a synthetic workload, so that each answer can be bent before it is framed.
// Frames always carry a valid CRC: what is wrong is their content, as with a broken or hostile
// device. `misbehave` sees every frame the device is about to send and returns what to send
// instead (the same frame, a changed one, several, or none).
//
// It talks bytes: `receive()` takes what the host wrote, `onOutput` gets what the device writes.
// attachToPort() puts it on one end of a pty for the real trace-pull --port.

import type { SerialPort } from "serialport";
import { FrameSplitter } from "../../host/link/frame-decoder.js";
import { decodeChunk, EventBatch } from "../../host/format/index.js";
import { COMMAND, DEVICE_FRAME, RESULT, encodeFrame, type Frame } from "../../host/link/protocol.js";
import {
  chunkRecord,
  concatBytes,
  countersRecord,
  encodeChunks,
  infoRecord,
  namesRecord,
  syntheticWorkload,
  type CounterValues,
  type InfoFields,
} from "./wire-encoder.js";

/** A device frame before it is framed: type, session, seq and payload. */
export interface RawFrame {
  type: number;
  session: number;
  seq: number;
  payload: Uint8Array;
}

export interface ScriptedDeviceOptions {
  /** Events in the ring (default 3000). */
  events?: number;
  sessionId?: number;
  tickHz?: number;
  chunkCount?: number;
  /** Sees each frame about to go out; returns the frames to send instead. */
  misbehave?: (frame: RawFrame, device: ScriptedDevice) => RawFrame[];
}

const NAMES = ["main", "worker", "reader", "writer", "timer", "net", "db", "log", "recv", "send", "mark", "counter"];

export class ScriptedDevice {
  onOutput: (bytes: Uint8Array) => void = () => {};
  sessionId: number;
  readonly info: InfoFields;
  /** CHUNK payloads by seq (from 0); all sealed, none overwritten. */
  readonly chunks: Uint8Array[];
  readonly chunkEvents: number[];
  readonly names = NAMES.map((text, i) => ({ kind: i < 8 ? 1 : 2, text }));
  firstUnsent = 0;
  namesSent = 0;
  drained = 0;
  streaming = false;
  frameSeq = 0;
  /** Commands received, by type (what the host asked). */
  readonly commands = new Map<number, number>();
  private readonly splitter: FrameSplitter;
  private readonly misbehave: ScriptedDeviceOptions["misbehave"];
  private readonly totalEvents: number;

  constructor(options: ScriptedDeviceOptions = {}) {
    this.sessionId = options.sessionId ?? 0x5c1e7;
    this.misbehave = options.misbehave;
    const events = [...syntheticWorkload(options.events ?? 3000, 7)];
    this.chunks = encodeChunks(events, { chunkSize: 256 });
    this.totalEvents = events.length;
    // Events per chunk, for the counters (the device's counting is not under test).
    const batch = new EventBatch();
    this.chunkEvents = this.chunks.map((c) => {
      batch.clear();
      return decodeChunk(c, 1_000_000, batch).events;
    });
    this.info = {
      ringMode: "overwrite", chunkSize: 256, chunkCount: Math.max(options.chunkCount ?? 0, this.chunks.length), namesCapacity: 4096,
      maxTasks: 256, tickHz: options.tickHz ?? 1_000_000, filter: 0x7ff, sessionId: this.sessionId, device: "scripted", firmware: "hostile 1.0",
    };
    this.splitter = new FrameSplitter((f) => this.command(f));
  }

  get recorded(): number {
    return this.totalEvents;
  }

  /** Bytes from the host. */
  receive(bytes: Uint8Array): void {
    this.splitter.push(bytes);
  }

  /** Puts the device on a serial port (a pty end): what the host writes arrives, answers go back. */
  attachToPort(port: SerialPort): void {
    port.on("data", (b: Buffer) => this.receive(b));
    this.onOutput = (bytes) => port.write(Buffer.from(bytes));
  }

  counters(): CounterValues {
    return {
      recorded: this.totalEvents, drained: this.drained, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0,
      namesDropped: 0, nextSeq: this.chunks.length, pendingEvents: this.totalEvents - this.drained, now: this.now(), firstDrop: 0, lastDrop: 0,
    };
  }

  /** Device ticks now: past the last event. */
  now(): number {
    return 10_000_000;
  }

  linkState(): Uint8Array {
    const b = new Uint8Array(17);
    const v = new DataView(b.buffer);
    b[0] = this.streaming ? 1 : 0;
    v.setUint32(1, this.namesSent, true);
    v.setUint32(5, this.firstUnsent, true);
    v.setUint32(9, 0, true); // oldest kept: nothing is ever overwritten
    v.setUint32(13, 0, true);
    return b;
  }

  /** A new boot: another session id, everything unsent again. */
  restart(sessionId = (this.sessionId + 1) >>> 0): void {
    this.sessionId = sessionId;
    this.info.sessionId = sessionId;
    this.firstUnsent = 0;
    this.namesSent = 0;
    this.drained = 0;
    this.streaming = false;
    this.frameSeq = 0;
  }

  private command(f: Frame): void {
    this.commands.set(f.type, (this.commands.get(f.type) ?? 0) + 1);
    const p = new DataView(f.payload.buffer, f.payload.byteOffset, f.payload.byteLength);
    if (f.type === COMMAND.HELLO) {
      this.streaming = false;
      this.hello(f.seq);
      return;
    }
    if (f.type === COMMAND.ACK) return;
    if (f.session !== this.sessionId) {
      this.status(f.seq, f.type, RESULT.WRONG_SESSION);
      return;
    }
    switch (f.type) {
      case COMMAND.DUMP: {
        if (f.payload.length !== 14) return this.status(f.seq, f.type, RESULT.BAD_COMMAND);
        const namesFrom = p.getUint32(0, true);
        let from = p.getUint32(4, true);
        const count = p.getUint32(8, true);
        if (from > this.firstUnsent) from = this.firstUnsent;
        const parts: Uint8Array[] = [];
        if (namesFrom >= 1 && namesFrom <= this.names.length) {
          parts.push(namesRecord(namesFrom, this.names.slice(namesFrom - 1)));
          this.namesSent = this.names.length;
        }
        const end = count === 0xffffffff ? this.chunks.length : Math.min(this.chunks.length, from + count);
        for (let s = from; s < end; s++) {
          parts.push(chunkRecord(this.chunks[s]!));
          if (s >= this.firstUnsent) {
            this.drained += this.chunkEvents[s]!;
            this.firstUnsent = s + 1;
          }
          if (parts.length >= 6) this.records(parts.splice(0));
        }
        if (parts.length > 0) this.records(parts);
        this.status(f.seq, f.type, RESULT.OK);
        return;
      }
      case COMMAND.STREAM:
        this.streaming = f.payload[0] === 1;
        this.status(f.seq, f.type, RESULT.OK);
        if (this.streaming) this.streamUnsent();
        return;
      case COMMAND.CLEAR:
        this.restart();
        this.status(f.seq, f.type, RESULT.OK);
        return;
      default:
        this.status(f.seq, f.type, f.type === COMMAND.STATUS || f.type === COMMAND.FILTER ? RESULT.OK : RESULT.BAD_COMMAND);
    }
  }

  private streamUnsent(): void {
    const parts: Uint8Array[] = [];
    if (this.namesSent < this.names.length) {
      parts.push(namesRecord(this.namesSent + 1, this.names.slice(this.namesSent)));
      this.namesSent = this.names.length;
    }
    for (let s = this.firstUnsent; s < this.chunks.length; s++) {
      parts.push(chunkRecord(this.chunks[s]!));
      this.drained += this.chunkEvents[s]!;
      this.firstUnsent = s + 1;
      if (parts.length >= 6) this.records(parts.splice(0));
    }
    if (parts.length > 0) this.records(parts);
  }

  private hello(cmd: number): void {
    const head = new Uint8Array(12);
    const v = new DataView(head.buffer);
    v.setUint16(0, cmd, true);
    head[2] = 1;
    head[3] = 32;
    v.setUint32(4, this.now() >>> 0, true);
    v.setUint32(8, Math.floor(this.now() / 2 ** 32), true);
    this.send({ type: DEVICE_FRAME.HELLO, session: this.sessionId, seq: this.frameSeq++, payload: concatBytes([head, this.linkState(), infoRecord(this.info), countersRecord(this.counters())]) });
  }

  private status(cmd: number, type: number, result: number): void {
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint16(0, cmd, true);
    head[2] = type;
    head[3] = result;
    this.send({ type: DEVICE_FRAME.STATUS, session: this.sessionId, seq: this.frameSeq++, payload: concatBytes([head, this.linkState(), countersRecord(this.counters())]) });
  }

  private records(parts: Uint8Array[]): void {
    this.send({ type: DEVICE_FRAME.RECORDS, session: this.sessionId, seq: this.frameSeq++, payload: concatBytes(parts) });
  }

  private send(frame: RawFrame): void {
    const out = this.misbehave ? this.misbehave(frame, this) : [frame];
    for (const f of out) this.onOutput(encodeFrame(f.type, f.session, f.seq, f.payload));
  }
}

// ---- misbehaviours -------------------------------------------------------------------------

/** Offsets in a RECORDS payload of each CHUNK record's payload. */
export function chunkOffsets(payload: Uint8Array): number[] {
  const out: number[] = [];
  let p = 0;
  while (p + 3 <= payload.length) {
    const len = payload[p + 1]! | (payload[p + 2]! << 8);
    if (payload[p] === 0x03) out.push(p + 3);
    p += 3 + len;
  }
  return out;
}

/** Link state offset in a HELLO payload and in a STATUS payload. */
export const STATE_AT = { [DEVICE_FRAME.HELLO]: 12, [DEVICE_FRAME.STATUS]: 4 } as Record<number, number>;

/** Offset of the COUNTERS record's payload in a HELLO or STATUS payload. */
export function countersAt(frame: RawFrame): number {
  return frame.payload.length - 72;
}
