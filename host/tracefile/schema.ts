// The items of a trace file (FORMAT.md section 6) as TypeScript types, and the checks that turn
// a decoded CBOR value into one of them. Keys are snake_case in the file, camelCase here.

import type { DeviceCounters, InfoRecord, NameEntry } from "../format/records.js";
import { tickHzProblem } from "../format/limits.js";
import { COUNTER_KEYS, NAME_KINDS, OLDEST_TRACE_FILE_VERSION, RING_MODES, TRACE_FILE_VERSION, type CounterField, type RingModeName } from "../format/spec.js";

export interface TraceHeader {
  /** Trace file version ("taskscope" key). */
  version: number;
  /** Unix ns when writing began. */
  created: bigint;
  tool: string;
  source: string;
}

/** Clock anchor: device `ticks` read at Unix time `unixNs`. */
export interface ClockAnchor {
  ticks: number;
  unixNs: bigint;
}

/** A device session as the session item describes it (without its index). */
export interface SessionInfo {
  deviceSession: number;
  format: number;
  tickHz: number;
  device: string;
  firmware: string;
  mode: RingModeName;
  chunkSize: number;
  chunkCount: number;
  namesCapacity: number;
  maxTasks: number;
  filter: number;
  anchor: ClockAnchor;
  /** Where a pull joined a device session that earlier connections had already pulled from
   *  (absent when it joined at the start). */
  earlier?: EarlierPull;
}

/** The device's own account, when a connection began, of what it had handed over before: every
 *  chunk before `firstUnsent`, holding `drained` events. Those events are the earlier pull's, not
 *  losses of this one (FORMAT.md section 7.4). */
export interface EarlierPull {
  firstUnsent: number;
  drained: number;
}

export type StoredLossKind = "link" | "decode";

export interface LossInfo {
  kind: StoredLossKind;
  chunks: number;
  fromSeq?: number;
  toSeq?: number;
  reason?: string;
}

/** Time the recorder's clock skipped because it was not the program's (trace file 2): the
 *  puller's own work inside the program's clock calls, and the OS running other processes. */
export interface StallInfo {
  observerNs: number;
  runQueueNs: number;
  /** Readings at which run-queue wait was skipped, and the largest single skip. */
  count: number;
  largestNs: number;
  /** Time the host's sleeps (WASI poll_oneoff) took beyond what the program asked for. */
  sleepOverNs: number;
  /** False when the OS gave no run-queue counter (only the observer's time was skipped). */
  runQueueKnown: boolean;
}

export interface FooterInfo {
  ended: bigint;
  reason: string;
  sessions: number;
  chunks: number;
  events: number;
}

/** The item variants without where they lie in the file. */
type ItemBody =
  | { type: "header"; header: TraceHeader }
  | { type: "session"; session: number; info: SessionInfo }
  | { type: "names"; session: number; names: NameEntry[] }
  | {
      type: "chunks";
      session: number;
      /** CHUNK payloads, views into the reader's block (copy them to keep them past the item). */
      chunks: Uint8Array[];
      /** File offset of each payload's first byte. */
      chunkOffsets: number[];
    }
  | { type: "counters"; session: number; counters: DeviceCounters }
  | { type: "loss"; session: number; loss: LossInfo }
  | { type: "stalls"; session: number; stalls: StallInfo }
  | { type: "footer"; footer: FooterInfo };

/** `offset`: file offset of the item's first byte; `size`: its length in bytes. */
export type TraceItem = ItemBody & { offset: number; size: number };

export type TraceItemType = TraceItem["type"];

/** The keys each item (and nested map) has in the file, as FORMAT.md's cddl spells them. */
export const ITEM_KEYS = {
  header: ["taskscope", "created", "tool", "source"],
  session: [
    "session", "device_session", "format", "tick_hz", "device", "firmware", "mode",
    "chunk_size", "chunk_count", "names_capacity", "max_tasks", "filter", "anchor",
  ],
  "session-optional": ["earlier"],
  anchor: ["ticks", "unix_ns"],
  earlier: ["first_unsent", "drained"],
  names: ["session", "names"],
  chunks: ["session", "chunks"],
  counters: ["session", "counters"],
  "device-counters": Object.values(COUNTER_KEYS),
  loss: ["session", "loss"],
  "loss-body": ["kind", "chunks", "from_seq", "to_seq", "reason"],
  stalls: ["session", "stalls"],
  "stalls-body": ["observer_ns", "run_queue_ns", "count", "largest_ns", "sleep_over_ns", "run_queue_known"],
  footer: ["footer"],
  "footer-body": ["ended", "reason", "sessions", "chunks", "events"],
} as const;

/** Builds the session description from a decoded INFO record and a clock anchor. */
export function sessionInfoFromInfo(info: InfoRecord, anchor: ClockAnchor, earlier?: EarlierPull): SessionInfo {
  return {
    deviceSession: info.sessionId,
    format: info.version,
    tickHz: info.tickHz,
    device: info.device,
    firmware: info.firmware,
    mode: info.ringMode,
    chunkSize: info.chunkSize,
    chunkCount: info.chunkCount,
    namesCapacity: info.namesCapacity,
    maxTasks: info.maxTasks,
    filter: info.filter,
    anchor,
    ...(earlier && earlier.drained > 0 ? { earlier } : {}),
  };
}

// ---- checking decoded CBOR -----------------------------------------------------------------

/** Thrown by the checks; the reader adds the item's offset. */
export class SchemaError extends Error {}

type Value = unknown;
type CborMap = Record<string, Value>;

function isMap(v: Value): v is CborMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !(v instanceof Map);
}

function checkKeys(map: CborMap, what: string, required: readonly string[], optional: readonly string[] = []): void {
  for (const key of Object.keys(map)) {
    if (!required.includes(key) && !optional.includes(key)) throw new SchemaError(`${what}: unknown key "${key}"`);
  }
  for (const key of required) {
    if (!Object.hasOwn(map, key)) throw new SchemaError(`${what}: missing key "${key}"`);
  }
}

function own(map: CborMap, key: string): Value {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** A CBOR uint as a number (exact up to 2^53, rounded beyond). A float is not a uint: one that
 *  is integral and small reads the same as the integer, a larger one (1e308) is refused. */
function uint(map: CborMap, key: string, what: string): number {
  const v = own(map, key);
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return Number(v);
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  throw new SchemaError(`${what}: "${key}" must be an unsigned integer`);
}

/** A uint of at most `max` (u32 fields, counts): larger is a damaged value, not a number to show. */
function bounded(map: CborMap, key: string, what: string, max: number): number {
  const v = uint(map, key, what);
  if (v > max) throw new SchemaError(`${what}: "${key}" = ${v} is above ${max === U32_MAX ? "2^32 - 1" : max === COUNT_MAX ? "2^53" : max}`);
  return v;
}

const U32_MAX = 0xffffffff;
const COUNT_MAX = Number.MAX_SAFE_INTEGER;
const u32 = (map: CborMap, key: string, what: string) => bounded(map, key, what, U32_MAX);
const count = (map: CborMap, key: string, what: string) => bounded(map, key, what, COUNT_MAX);

/** A CBOR uint kept exact as a bigint (Unix nanoseconds). */
function bigUint(map: CborMap, key: string, what: string): bigint {
  const v = own(map, key);
  if (typeof v === "bigint" && v >= 0n && v < 1n << 64n) return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new SchemaError(`${what}: "${key}" must be an unsigned integer`);
}

function text(map: CborMap, key: string, what: string): string {
  const v = own(map, key);
  if (typeof v !== "string") throw new SchemaError(`${what}: "${key}" must be a text string`);
  return v;
}

function nested(map: CborMap, key: string, what: string): CborMap {
  const v = own(map, key);
  if (!isMap(v)) throw new SchemaError(`${what}: "${key}" must be a map`);
  return v;
}

function earlierPull(e: CborMap): EarlierPull {
  checkKeys(e, "session earlier", ITEM_KEYS.earlier);
  return { firstUnsent: u32(e, "first_unsent", "session earlier"), drained: count(e, "drained", "session earlier") };
}

/** Which item a decoded value is, from its keys; undefined if none. */
export function itemTypeOf(value: Value): TraceItemType | undefined {
  if (!isMap(value)) return undefined;
  // Own keys only: a "__proto__" key must not lend an item keys it does not have.
  const has = (key: string) => Object.hasOwn(value, key);
  if (has("taskscope")) return "header";
  if (has("footer")) return "footer";
  if (has("device_session")) return "session";
  for (const t of ["names", "chunks", "counters", "loss", "stalls"] as const) if (has(t)) return t;
  return undefined;
}

/**
 * Checks a decoded CBOR value against the schema and returns the typed item. `byteStrings` are
 * the file offsets of the item's byte string contents, in order (the chunk offsets).
 */
export function toTraceItem(value: Value, offset: number, byteStrings: readonly number[], size = 0): TraceItem {
  return { ...itemBody(value, offset, byteStrings), offset, size } as TraceItem;
}

function itemBody(value: Value, offset: number, byteStrings: readonly number[]): ItemBody {
  const type = itemTypeOf(value);
  if (type === undefined || !isMap(value)) {
    const keys = isMap(value) ? Object.keys(value).join(", ") : describe(value);
    throw new SchemaError(`unknown item (${keys})`);
  }
  const m = value;
  switch (type) {
    case "header": {
      checkKeys(m, "header", ITEM_KEYS.header);
      const version = uint(m, "taskscope", "header");
      if (version < OLDEST_TRACE_FILE_VERSION || version > TRACE_FILE_VERSION) {
        throw new SchemaError(`unsupported trace file version ${version} (this reader knows ${OLDEST_TRACE_FILE_VERSION} to ${TRACE_FILE_VERSION})`);
      }
      return {
        type,
        header: { version, created: bigUint(m, "created", "header"), tool: text(m, "tool", "header"), source: text(m, "source", "header") },
      };
    }
    case "session": {
      checkKeys(m, "session", ITEM_KEYS.session, ITEM_KEYS["session-optional"]);
      const a = nested(m, "anchor", "session");
      checkKeys(a, "session anchor", ITEM_KEYS.anchor);
      const mode = text(m, "mode", "session");
      if (!RING_MODES.some((r) => r.name === mode)) throw new SchemaError(`session: unknown mode "${mode}"`);
      const w = "session";
      return {
        type, session: u32(m, "session", w),
        info: {
          deviceSession: u32(m, "device_session", w),
          format: u32(m, "format", w),
          tickHz: tickHz(uint(m, "tick_hz", w)),
          device: text(m, "device", w),
          firmware: text(m, "firmware", w),
          mode: mode as RingModeName,
          chunkSize: u32(m, "chunk_size", w),
          chunkCount: u32(m, "chunk_count", w),
          namesCapacity: u32(m, "names_capacity", w),
          maxTasks: u32(m, "max_tasks", w),
          filter: u32(m, "filter", w),
          anchor: { ticks: uint(a, "ticks", "session anchor"), unixNs: bigUint(a, "unix_ns", "session anchor") },
          ...(Object.hasOwn(m, "earlier") ? { earlier: earlierPull(nested(m, "earlier", w)) } : {}),
        },
      };
    }
    case "names": {
      checkKeys(m, "names", ITEM_KEYS.names);
      const list = own(m, "names");
      if (!Array.isArray(list)) throw new SchemaError(`names: "names" must be an array`);
      const names = list.map((entry: Value, i): NameEntry => {
        if (!Array.isArray(entry) || entry.length !== 3) throw new SchemaError(`names: entry ${i} must be [id, kind, text]`);
        const [id, kind, name] = entry as Value[];
        const asMap = { id, kind, text: name };
        const kindCode = uint(asMap, "kind", `names entry ${i}`);
        if (!NAME_KINDS.some((k) => k.code === kindCode)) throw new SchemaError(`names: entry ${i} has unknown kind ${kindCode}`);
        return { id: u32(asMap, "id", `names entry ${i}`), kind: kindCode, text: text(asMap, "text", `names entry ${i}`) };
      });
      return { type, session: u32(m, "session", "names"), names };
    }
    case "chunks": {
      checkKeys(m, "chunks", ITEM_KEYS.chunks);
      const list = own(m, "chunks");
      if (!Array.isArray(list) || list.length === 0) throw new SchemaError(`chunks: "chunks" must be a non-empty array`);
      const chunks = list.map((c: Value, i) => {
        if (!(c instanceof Uint8Array)) throw new SchemaError(`chunks: chunk ${i} must be a byte string`);
        return c;
      });
      // One byte string per chunk is the writer's layout; otherwise point at the item.
      const chunkOffsets = byteStrings.length === chunks.length ? [...byteStrings] : chunks.map(() => offset);
      return { type, session: u32(m, "session", "chunks"), chunks, chunkOffsets };
    }
    case "counters": {
      checkKeys(m, "counters", ITEM_KEYS.counters);
      const c = nested(m, "counters", "counters");
      checkKeys(c, "device counters", ITEM_KEYS["device-counters"]);
      const counters = {} as Record<CounterField, number>;
      for (const [field, key] of Object.entries(COUNTER_KEYS) as [CounterField, string][]) {
        counters[field] = uint(c, key, "device counters");
      }
      return { type, session: u32(m, "session", "counters"), counters };
    }
    case "loss": {
      checkKeys(m, "loss", ITEM_KEYS.loss);
      const l = nested(m, "loss", "loss");
      checkKeys(l, "loss", ["kind", "chunks"], ["from_seq", "to_seq", "reason"]);
      const kind = text(l, "kind", "loss");
      if (kind !== "link" && kind !== "decode") throw new SchemaError(`loss: unknown kind "${kind}"`);
      const loss: LossInfo = { kind, chunks: bounded(l, "chunks", "loss", 2 ** 32) };
      if (Object.hasOwn(l, "from_seq")) loss.fromSeq = u32(l, "from_seq", "loss");
      if (Object.hasOwn(l, "to_seq")) loss.toSeq = u32(l, "to_seq", "loss");
      if (Object.hasOwn(l, "reason")) loss.reason = text(l, "reason", "loss");
      return { type, session: u32(m, "session", "loss"), loss };
    }
    case "stalls": {
      checkKeys(m, "stalls", ITEM_KEYS.stalls);
      const b = nested(m, "stalls", "stalls");
      checkKeys(b, "stalls", ITEM_KEYS["stalls-body"]);
      const known = own(b, "run_queue_known");
      if (typeof known !== "boolean") throw new SchemaError("stalls: run_queue_known must be a boolean");
      return {
        type, session: u32(m, "session", "stalls"),
        stalls: {
          observerNs: count(b, "observer_ns", "stalls"), runQueueNs: count(b, "run_queue_ns", "stalls"),
          count: count(b, "count", "stalls"), largestNs: count(b, "largest_ns", "stalls"),
          sleepOverNs: count(b, "sleep_over_ns", "stalls"), runQueueKnown: known,
        },
      };
    }
    case "footer": {
      checkKeys(m, "footer", ITEM_KEYS.footer);
      const f = nested(m, "footer", "footer");
      checkKeys(f, "footer", ITEM_KEYS["footer-body"]);
      return {
        type,
        footer: {
          ended: bigUint(f, "ended", "footer"),
          reason: text(f, "reason", "footer"),
          sessions: count(f, "sessions", "footer"),
          chunks: count(f, "chunks", "footer"),
          events: count(f, "events", "footer"),
        },
      };
    }
  }
}

function tickHz(n: number): number {
  if (n === 0) throw new SchemaError("session: tick_hz must be positive");
  const problem = tickHzProblem(n);
  if (problem) throw new SchemaError(`session: ${problem}`);
  return n;
}

function describe(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "a byte string";
  if (v instanceof Map) return "a map with non-text keys";
  return `a ${typeof v}`;
}
