// Drain-stream records (FORMAT.md section 2): type u8, length u16, payload. INFO, NAMES and
// COUNTERS are decoded here; CHUNK payloads are handed out as subarrays for decodeChunk.

import { DecodeError, hexByte } from "./errors.js";
import {
  CHUNK_HEADER_SIZE,
  COUNTERS_SIZE,
  COUNTERS_SIZE_V1,
  INFO_FIXED_SIZE,
  INFO_MAGIC,
  MIN_CHUNK_SIZE,
  NAME_KINDS,
  NAMES_HEADER_SIZE,
  RECORD_HEADER_SIZE,
  RECORD_TYPE,
  RECORD_TYPES,
  RING_MODES,
  WIRE_FORMAT_VERSIONS,
  codeName,
  type RingModeName,
} from "./spec.js";
import { readU16, readU32, readU64, type Cursor } from "./varint.js";

/** Fields every record carries: `offset` is the absolute offset of its type byte. */
interface RecordBase {
  readonly offset: number;
}

export interface InfoRecord extends RecordBase {
  readonly type: "INFO";
  readonly version: number;
  readonly ringMode: RingModeName;
  readonly chunkSize: number;
  readonly chunkCount: number;
  readonly namesCapacity: number;
  readonly maxTasks: number;
  readonly tickHz: number;
  readonly filter: number;
  readonly sessionId: number;
  readonly device: string;
  readonly firmware: string;
}

export interface NameEntry {
  readonly id: number;
  readonly kind: number;
  readonly text: string;
}

export interface NamesRecord extends RecordBase {
  readonly type: "NAMES";
  readonly firstId: number;
  readonly entries: NameEntry[];
}

export interface ChunkRecord extends RecordBase {
  readonly type: "CHUNK";
  /** The CHUNK payload: a view into the input, not a copy. */
  readonly payload: Uint8Array;
  /** Absolute offset of the payload's first byte (pass it to decodeChunk as baseOffset). */
  readonly payloadOffset: number;
}

/** The device's counters (section 2.3). u64 values are exact up to 2^53. */
export interface DeviceCounters {
  readonly recorded: number;
  readonly drained: number;
  readonly droppedFull: number;
  readonly droppedOverwritten: number;
  readonly chunksOverwritten: number;
  readonly namesDropped: number;
  readonly nextSeq: number;
  readonly pendingEvents: number;
  readonly now: number;
  readonly firstDrop: number;
  readonly lastDrop: number;
  /** Device ticks the core hid from device time while it serviced its link or drained on the
   *  board, since the session began (wire format 2; absent from a format 1 device, which does not
   *  hide them). */
  readonly hiddenTicks?: number;
}

export interface CountersRecord extends RecordBase, DeviceCounters {
  readonly type: "COUNTERS";
}

export type WireRecord = InfoRecord | NamesRecord | ChunkRecord | CountersRecord;

export interface RecordStreamResult {
  readonly records: WireRecord[];
  /** Bytes at the start of the input that formed complete records; keep the rest for later. */
  readonly consumed: number;
}

/** Decodes a complete buffer of records; a record cut short at the end is a DecodeError. */
export function decodeRecords(bytes: Uint8Array, baseOffset = 0): WireRecord[] {
  return scanRecords(bytes, baseOffset, false).records;
}

/**
 * Decodes the complete records at the start of `bytes`, for a stream reader: a record split
 * across two reads is not an error, `consumed` says where the unfinished one starts.
 */
export function decodeRecordStream(bytes: Uint8Array, baseOffset = 0): RecordStreamResult {
  return scanRecords(bytes, baseOffset, true);
}

function scanRecords(bytes: Uint8Array, baseOffset: number, allowPartial: boolean): RecordStreamResult {
  const records: WireRecord[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const type = bytes[pos]!;
    // An unknown type is reported as soon as its byte arrives, even for a partial record.
    const name = codeName(RECORD_TYPES, type);
    if (name === undefined) {
      throw new DecodeError(baseOffset + pos, `unknown record type ${hexByte(type)}`);
    }
    const available = bytes.length - pos;
    if (available < RECORD_HEADER_SIZE || available < RECORD_HEADER_SIZE + (bytes[pos + 1]! | (bytes[pos + 2]! << 8))) {
      if (allowPartial) break;
      throw new DecodeError(baseOffset + pos, `truncated ${name} record (${available} of its bytes present)`);
    }
    const length = bytes[pos + 1]! | (bytes[pos + 2]! << 8);
    const payloadStart = pos + RECORD_HEADER_SIZE;
    const payload = bytes.subarray(payloadStart, payloadStart + length);
    records.push(decodeRecord(type, payload, baseOffset + pos, baseOffset + payloadStart));
    pos = payloadStart + length;
  }
  return { records, consumed: pos };
}

function decodeRecord(type: number, payload: Uint8Array, offset: number, payloadOffset: number): WireRecord {
  switch (type) {
    case RECORD_TYPE.INFO:
      return decodeInfo(payload, offset, payloadOffset);
    case RECORD_TYPE.NAMES:
      return decodeNames(payload, offset, payloadOffset);
    case RECORD_TYPE.CHUNK:
      if (payload.length < CHUNK_HEADER_SIZE + 1) {
        throw new DecodeError(payloadOffset, `truncated chunk header (${payload.length} bytes)`);
      }
      return { type: "CHUNK", offset, payload, payloadOffset };
    default:
      return decodeCounters(payload, offset, payloadOffset);
  }
}

/** Decodes an INFO payload (section 2.1). */
export function decodeInfo(payload: Uint8Array, offset: number, payloadOffset = offset + RECORD_HEADER_SIZE): InfoRecord {
  const end = payload.length;
  if (end < INFO_FIXED_SIZE) throw new DecodeError(payloadOffset, `truncated INFO (${end} of ${INFO_FIXED_SIZE}+ bytes)`);
  for (let i = 0; i < INFO_MAGIC.length; i++) {
    if (payload[i] !== INFO_MAGIC[i]) throw new DecodeError(payloadOffset + i, "bad INFO magic (expected TSCP)");
  }
  const cur: Cursor = { pos: INFO_MAGIC.length };
  const version = payload[cur.pos++]!;
  if (!WIRE_FORMAT_VERSIONS.includes(version)) {
    throw new DecodeError(payloadOffset + cur.pos - 1, `unsupported wire format version ${version}`);
  }
  const modeCode = payload[cur.pos++]!;
  const ringMode = codeName(RING_MODES, modeCode);
  if (ringMode === undefined) throw new DecodeError(payloadOffset + cur.pos - 1, `unknown ring mode ${modeCode}`);
  const chunkSize = readU16(payload, cur, end, payloadOffset, "INFO");
  if (chunkSize < MIN_CHUNK_SIZE) {
    throw new DecodeError(payloadOffset + cur.pos - 2, `chunk size ${chunkSize} below ${MIN_CHUNK_SIZE}`);
  }
  const chunkCount = readU32(payload, cur, end, payloadOffset, "INFO");
  const namesCapacity = readU32(payload, cur, end, payloadOffset, "INFO");
  const maxTasks = readU32(payload, cur, end, payloadOffset, "INFO");
  const tickHz = readU32(payload, cur, end, payloadOffset, "INFO");
  if (tickHz === 0) throw new DecodeError(payloadOffset + cur.pos - 4, "tick_hz is 0");
  const filter = readU32(payload, cur, end, payloadOffset, "INFO");
  const sessionId = readU32(payload, cur, end, payloadOffset, "INFO");
  const device = readShortString(payload, cur, payloadOffset, "device name");
  const firmware = readShortString(payload, cur, payloadOffset, "firmware name");
  if (cur.pos !== end) throw new DecodeError(payloadOffset + cur.pos, `${end - cur.pos} unexpected bytes after INFO`);
  return {
    type: "INFO", offset, version, ringMode, chunkSize, chunkCount, namesCapacity,
    maxTasks, tickHz, filter, sessionId, device, firmware,
  };
}

/** Decodes a NAMES payload (section 2.2). */
export function decodeNames(payload: Uint8Array, offset: number, payloadOffset = offset + RECORD_HEADER_SIZE): NamesRecord {
  const end = payload.length;
  if (end < NAMES_HEADER_SIZE) throw new DecodeError(payloadOffset, `truncated NAMES header (${end} bytes)`);
  const cur: Cursor = { pos: 0 };
  const firstId = readU32(payload, cur, end, payloadOffset, "NAMES");
  const count = readU16(payload, cur, end, payloadOffset, "NAMES");
  if (firstId === 0) throw new DecodeError(payloadOffset, "NAMES first id is 0 (ids start at 1)");
  if (firstId + count - 1 > 0xffffffff) throw new DecodeError(payloadOffset, "NAMES ids exceed u32");
  const entries: NameEntry[] = [];
  for (let i = 0; i < count; i++) {
    const at = cur.pos;
    if (at >= end) throw new DecodeError(payloadOffset + at, `truncated NAMES: ${count - i} of ${count} entries missing`);
    const kind = payload[cur.pos++]!;
    if (codeName(NAME_KINDS, kind) === undefined) throw new DecodeError(payloadOffset + at, `unknown name kind ${kind}`);
    const text = readShortString(payload, cur, payloadOffset, "name");
    entries.push({ id: firstId + i, kind, text });
  }
  if (cur.pos !== end) throw new DecodeError(payloadOffset + cur.pos, `${end - cur.pos} unexpected bytes after NAMES entries`);
  return { type: "NAMES", offset, firstId, entries };
}

/** Decodes a COUNTERS payload (section 2.3). */
export function decodeCounters(payload: Uint8Array, offset: number, payloadOffset = offset + RECORD_HEADER_SIZE): CountersRecord {
  const end = payload.length;
  if (end !== COUNTERS_SIZE && end !== COUNTERS_SIZE_V1) {
    throw new DecodeError(payloadOffset, `COUNTERS payload is ${end} bytes, expected ${COUNTERS_SIZE} (or ${COUNTERS_SIZE_V1} from a format 1 device)`);
  }
  const cur: Cursor = { pos: 0 };
  const u64 = () => readU64(payload, cur, end, payloadOffset, "COUNTERS");
  const u32 = () => readU32(payload, cur, end, payloadOffset, "COUNTERS");
  const counters: CountersRecord = {
    type: "COUNTERS",
    offset,
    recorded: u64(),
    drained: u64(),
    droppedFull: u64(),
    droppedOverwritten: u64(),
    chunksOverwritten: u32(),
    namesDropped: u32(),
    nextSeq: u32(),
    pendingEvents: u32(),
    now: u64(),
    firstDrop: u64(),
    lastDrop: u64(),
  };
  return end === COUNTERS_SIZE ? { ...counters, hiddenTicks: u64() } : counters;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A u8 length followed by that many UTF-8 bytes. */
function readShortString(bytes: Uint8Array, cur: Cursor, baseOffset: number, what: string): string {
  const at = cur.pos;
  if (at >= bytes.length) throw new DecodeError(baseOffset + at, `truncated ${what}`);
  const length = bytes[at]!;
  const start = at + 1;
  if (start + length > bytes.length) throw new DecodeError(baseOffset + at, `truncated ${what} (${length} bytes declared)`);
  cur.pos = start + length;
  try {
    return utf8.decode(bytes.subarray(start, start + length));
  } catch {
    throw new DecodeError(baseOffset + start, `invalid UTF-8 in ${what}`);
  }
}
