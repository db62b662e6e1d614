// The serial link's frames and commands (docs/FORMAT.md section 7), as pure encode/decode
// functions. core/link.ts is the device side; test/link-core.test.ts checks the two agree.

import { crc32 } from "./crc32.js";
import { cobsEncodeFrame } from "./cobs.js";
import { seqAfter } from "../format/chunk.js";

export const LINK_VERSION = 1;
/** type u8, session u32, seq u16 */
export const FRAME_HEADER_BYTES = 7;
export const FRAME_CRC_BYTES = 4;
export const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + FRAME_CRC_BYTES;

export const COMMAND = { HELLO: 0x01, DUMP: 0x02, STREAM: 0x03, FILTER: 0x04, CLEAR: 0x05, STATUS: 0x06, ACK: 0x07 } as const;
export type CommandName = keyof typeof COMMAND;
export const DEVICE_FRAME = { HELLO: 0x81, RECORDS: 0x82, STATUS: 0x83 } as const;
export const RESULT = { OK: 0, WRONG_SESSION: 1, BAD_COMMAND: 2 } as const;
/** DUMP chunk count: everything up to the newest chunk (the open chunk is sealed first). */
export const DUMP_ALL = 0xffffffff;

/** A frame whose CRC checked out, split into its header fields. */
export interface Frame {
  type: number;
  session: number;
  seq: number;
  /** Payload bytes (a view). */
  payload: Uint8Array;
}

/** Builds a frame (header, payload, CRC) and COBS-encodes it with its delimiters. */
export function encodeFrame(type: number, session: number, seq: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const raw = new Uint8Array(FRAME_HEADER_BYTES + payload.length + FRAME_CRC_BYTES);
  const v = new DataView(raw.buffer);
  raw[0] = type;
  v.setUint32(1, session >>> 0, true);
  v.setUint16(5, seq & 0xffff, true);
  raw.set(payload, FRAME_HEADER_BYTES);
  v.setUint32(raw.length - FRAME_CRC_BYTES, crc32(raw, 0, raw.length - FRAME_CRC_BYTES), true);
  return cobsEncodeFrame(raw);
}

/** Checks a decoded (un-stuffed) frame; returns it, or why it is damaged. */
export function parseFrame(raw: Uint8Array): Frame | string {
  if (raw.length < MIN_FRAME_BYTES) return `frame of ${raw.length} bytes is shorter than ${MIN_FRAME_BYTES}`;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const end = raw.length - FRAME_CRC_BYTES;
  if (v.getUint32(end, true) !== crc32(raw, 0, end)) return "CRC mismatch";
  return { type: raw[0]!, session: v.getUint32(1, true), seq: v.getUint16(5, true), payload: raw.subarray(FRAME_HEADER_BYTES, end) };
}

// ---- commands (host -> device) --------------------------------------------------------------

export interface DumpArgs {
  /** First name id the host lacks. */
  namesFrom: number;
  /** First chunk seq the host wants. */
  chunksFrom: number;
  /** How many chunks, or DUMP_ALL. */
  chunkCount: number;
  /** Target payload bytes per frame. */
  frameBytes: number;
}

export interface StreamArgs {
  on: boolean;
  frameBytes: number;
  /** Longest a recorded event waits before it is sent (ms); 0: send only whole chunks. */
  latencyMs: number;
  /** Interval of unsolicited STATUS frames (ms); 0: none. */
  statusMs: number;
  /** Chunks the device may send beyond the host's ACK; 0: no limit. */
  window: number;
}

export function dumpPayload(a: DumpArgs): Uint8Array {
  const p = new Uint8Array(14);
  const v = new DataView(p.buffer);
  v.setUint32(0, a.namesFrom >>> 0, true);
  v.setUint32(4, a.chunksFrom >>> 0, true);
  v.setUint32(8, a.chunkCount >>> 0, true);
  v.setUint16(12, Math.min(0xffff, a.frameBytes), true);
  return p;
}

export function streamPayload(a: StreamArgs): Uint8Array {
  const p = new Uint8Array(9);
  const v = new DataView(p.buffer);
  p[0] = a.on ? 1 : 0;
  v.setUint16(1, Math.min(0xffff, a.frameBytes), true);
  v.setUint16(3, Math.min(0xffff, a.latencyMs), true);
  v.setUint16(5, Math.min(0xffff, a.statusMs), true);
  v.setUint16(7, Math.min(0xffff, a.window), true);
  return p;
}

/** ACK: every chunk before `next` arrived (or was given up). */
export function ackPayload(next: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, next >>> 0, true);
  return p;
}

export function filterPayload(mask: number): Uint8Array {
  const p = new Uint8Array(4);
  new DataView(p.buffer).setUint32(0, mask >>> 0, true);
  return p;
}

// ---- device frames ------------------------------------------------------------------------------

/** What the device says about its side of the link (in HELLO and STATUS frames). */
export interface LinkState {
  streaming: boolean;
  /** Names handed to a host so far (ids 1..namesSent). */
  namesSent: number;
  /** Seq of the oldest chunk never sent: every chunk before it was sent at least once. */
  firstUnsent: number;
  /** Seq of the oldest chunk still in the device's ring (it can be sent again). */
  oldestKept: number;
  /** Command frames the device dropped as damaged. */
  rxDamaged: number;
}

export interface HelloReply {
  command: number;
  linkVersion: number;
  rxMax: number;
  /** Device ticks when the reply was written (exact up to 2^53). */
  now: number;
  state: LinkState;
  /** The INFO record (header included), for the ingest. */
  info: Uint8Array;
  /** The COUNTERS record (header included): with state.firstUnsent, what earlier connections had. */
  counters: Uint8Array;
}

export interface StatusReply {
  /** Sequence number of the command answered (0 with commandType 0: unsolicited). */
  command: number;
  commandType: number;
  result: number;
  state: LinkState;
  /** The COUNTERS record (header included). */
  counters: Uint8Array;
}

const LINK_STATE_BYTES = 17;

/**
 * Link state that cannot be true of a device whose ring holds `chunkCount` chunks, whose next
 * chunk will get `nextSeq` (its COUNTERS) and whose names table has `namesCapacity` bytes
 * (FORMAT.md section 8); undefined when it can. Slack of a ring's worth allows for chunks sealed
 * between the state and the counters being written.
 */
export function linkStateProblem(st: LinkState, nextSeq: number, chunkCount: number, namesCapacity: number): string | undefined {
  if (seqAfter(st.firstUnsent, nextSeq)) return `first unsent chunk ${st.firstUnsent} is past the next seq ${nextSeq}`;
  if (seqAfter(st.oldestKept, st.firstUnsent)) return `oldest kept chunk ${st.oldestKept} is past the first unsent ${st.firstUnsent}`;
  const kept = (nextSeq - st.oldestKept) >>> 0;
  if (kept > 2 * chunkCount + 2) return `it holds chunks ${st.oldestKept} to ${(nextSeq - 1) >>> 0}, more than its ring of ${chunkCount}`;
  if (st.namesSent > namesCapacity) return `${st.namesSent} names handed over, more than its ${namesCapacity}-byte names table holds`;
  return undefined;
}

function readState(v: DataView, at: number): LinkState {
  return {
    streaming: (v.getUint8(at) & 1) !== 0,
    namesSent: v.getUint32(at + 1, true),
    firstUnsent: v.getUint32(at + 5, true),
    oldestKept: v.getUint32(at + 9, true),
    rxDamaged: v.getUint32(at + 13, true),
  };
}

/** Decodes a HELLO frame's payload; throws a RangeError if it is malformed. */
export function decodeHello(p: Uint8Array): HelloReply {
  const fixed = 2 + 1 + 1 + 8 + LINK_STATE_BYTES;
  if (p.length < fixed + 3) throw new RangeError(`HELLO payload of ${p.length} bytes is too short`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const infoEnd = fixed + 3 + v.getUint16(fixed + 1, true);
  if (p.length < infoEnd + 3) throw new RangeError(`HELLO payload of ${p.length} bytes ends before its COUNTERS record`);
  return {
    command: v.getUint16(0, true),
    linkVersion: p[2]!,
    rxMax: p[3]!,
    now: v.getUint32(4, true) + v.getUint32(8, true) * 2 ** 32,
    state: readState(v, 12),
    info: p.subarray(fixed, infoEnd),
    counters: p.subarray(infoEnd),
  };
}

/** Decodes a STATUS frame's payload; throws a RangeError if it is malformed. */
export function decodeStatus(p: Uint8Array): StatusReply {
  const fixed = 2 + 1 + 1 + LINK_STATE_BYTES;
  if (p.length < fixed + 3) throw new RangeError(`STATUS payload of ${p.length} bytes is too short`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return { command: v.getUint16(0, true), commandType: p[2]!, result: p[3]!, state: readState(v, 4), counters: p.subarray(fixed) };
}
