// host/format: pure decoding of the taskscope wire format (docs/FORMAT.md). No I/O.

export * as spec from "./spec.js";
export { DecodeError } from "./errors.js";
export { readVarU32, readVarU64, readZigzag64, zigzagDecode, type Cursor } from "./varint.js";
export {
  decodeRecords,
  decodeRecordStream,
  decodeInfo,
  decodeNames,
  decodeCounters,
  type WireRecord,
  type InfoRecord,
  type NamesRecord,
  type NameEntry,
  type ChunkRecord,
  type CountersRecord,
  type DeviceCounters,
  type RecordStreamResult,
} from "./records.js";
export { EventBatch, type DecodedEvent } from "./batch.js";
export { decodeChunk, decodeChunkHeader, seqAfter, ticksToNs, type ChunkHeader } from "./chunk.js";
export { NameTable } from "./names.js";
