// host/tracefile: taskscope trace files (docs/FORMAT.md section 6), a CBOR sequence.

export { TraceFileError } from "./errors.js";
export { TraceWriter, cborUint, unixNowNs, plainCborEncoder, type HeaderFields, type FooterFields } from "./writer.js";
export { TraceFileReader, readTraceFile, MAX_DAMAGE_ENTRIES, type ReaderOptions, type ReaderStats, type Truncation, type Damage } from "./reader.js";
export {
  openTrace,
  readWholeTrace,
  Trace,
  type TraceSession,
  type TraceSummary,
  type TraceBatch,
  type TraceOptions,
  type TraceTotals,
  type LossEntry,
  type WholeTrace,
  type WholeSession,
} from "./trace.js";
export {
  sessionInfoFromInfo,
  ITEM_KEYS,
  type TraceItem,
  type TraceItemType,
  type TraceHeader,
  type SessionInfo,
  type ClockAnchor,
  type LossInfo,
  type FooterInfo,
} from "./schema.js";
export { scanCborItem, INCOMPLETE, CborScanError } from "./cbor-scan.js";
