// The items of a trace file (FORMAT.md section 6) as TypeScript types, and the checks that turn
// a decoded CBOR value into one of them. Keys are snake_case in the file, camelCase here.

import type { DeviceCounters, InfoRecord, NameEntry } from "../format/records.js";
import { COUNTER_KEYS, NAME_KINDS, OLDEST_TRACE_FILE_VERSION, OPTIONAL_COUNTERS, RING_MODES, TRACE_FILE_VERSION, type CounterField, type RingModeName } from "../format/spec.js";

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

/** `offset`: file offset of the item's first byte. */
export type TraceItem =
  | { type: "header"; offset: number; header: TraceHeader }
  | { type: "session"; offset: number; session: number; info: SessionInfo }
  | { type: "names"; offset: number; session: number; names: NameEntry[] }
  | {
      type: "chunks";
      offset: number;
      session: number;
      /** CHUNK payloads, views into the reader's block (copy them to keep them past the item). */
      chunks: Uint8Array[];
      /** File offset of each payload's first byte. */
      chunkOffsets: number[];
    }
  | { type: "counters"; offset: number; session: number; counters: DeviceCounters }
  | { type: "loss"; offset: number; session: number; loss: LossInfo }
  | { type: "stalls"; offset: number; session: number; stalls: StallInfo }
  | { type: "footer"; offset: number; footer: FooterInfo };

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
  "device-counters": (Object.entries(COUNTER_KEYS) as [CounterField, string][]).filter(([f]) => !OPTIONAL_COUNTERS.includes(f)).map(([, k]) => k),
  "device-counters-optional": OPTIONAL_COUNTERS.map((f) => COUNTER_KEYS[f]),
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

/** A CBOR uint as a number (exact up to 2^53, rounded beyond). */
function uint(map: CborMap, key: string, what: string): number {
  const v = own(map, key);
  if (typeof v === "bigint" && v >= 0n) return Number(v);
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  throw new SchemaError(`${what}: "${key}" must be an unsigned integer`);
}

/** A CBOR uint kept exact as a bigint (Unix nanoseconds). */
function bigUint(map: CborMap, key: string, what: string): bigint {
  const v = own(map, key);
  if (typeof v === "bigint" && v >= 0n) return v;
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
  return { firstUnsent: uint(e, "first_unsent", "session earlier"), drained: uint(e, "drained", "session earlier") };
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
export function toTraceItem(value: Value, offset: number, byteStrings: readonly number[]): TraceItem {
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
        type, offset,
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
        type, offset, session: uint(m, "session", w),
        info: {
          deviceSession: uint(m, "device_session", w),
          format: uint(m, "format", w),
          tickHz: positive(uint(m, "tick_hz", w), "session: tick_hz"),
          device: text(m, "device", w),
          firmware: text(m, "firmware", w),
          mode: mode as RingModeName,
          chunkSize: uint(m, "chunk_size", w),
          chunkCount: uint(m, "chunk_count", w),
          namesCapacity: uint(m, "names_capacity", w),
          maxTasks: uint(m, "max_tasks", w),
          filter: uint(m, "filter", w),
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
        return { id: uint(asMap, "id", `names entry ${i}`), kind: kindCode, text: text(asMap, "text", `names entry ${i}`) };
      });
      return { type, offset, session: uint(m, "session", "names"), names };
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
      return { type, offset, session: uint(m, "session", "chunks"), chunks, chunkOffsets };
    }
    case "counters": {
      checkKeys(m, "counters", ITEM_KEYS.counters);
      const c = nested(m, "counters", "counters");
      checkKeys(c, "device counters", ITEM_KEYS["device-counters"], ITEM_KEYS["device-counters-optional"]);
      const counters = {} as Record<CounterField, number>;
      for (const [field, key] of Object.entries(COUNTER_KEYS) as [CounterField, string][]) {
        if (Object.hasOwn(c, key) || !OPTIONAL_COUNTERS.includes(field)) counters[field] = uint(c, key, "device counters");
      }
      return { type, offset, session: uint(m, "session", "counters"), counters };
    }
    case "loss": {
      checkKeys(m, "loss", ITEM_KEYS.loss);
      const l = nested(m, "loss", "loss");
      checkKeys(l, "loss", ["kind", "chunks"], ["from_seq", "to_seq", "reason"]);
      const kind = text(l, "kind", "loss");
      if (kind !== "link" && kind !== "decode") throw new SchemaError(`loss: unknown kind "${kind}"`);
      const loss: LossInfo = { kind, chunks: uint(l, "chunks", "loss") };
      if (Object.hasOwn(l, "from_seq")) loss.fromSeq = uint(l, "from_seq", "loss");
      if (Object.hasOwn(l, "to_seq")) loss.toSeq = uint(l, "to_seq", "loss");
      if (Object.hasOwn(l, "reason")) loss.reason = text(l, "reason", "loss");
      return { type, offset, session: uint(m, "session", "loss"), loss };
    }
    case "stalls": {
      checkKeys(m, "stalls", ITEM_KEYS.stalls);
      const b = nested(m, "stalls", "stalls");
      checkKeys(b, "stalls", ITEM_KEYS["stalls-body"]);
      const known = own(b, "run_queue_known");
      if (typeof known !== "boolean") throw new SchemaError("stalls: run_queue_known must be a boolean");
      return {
        type, offset, session: uint(m, "session", "stalls"),
        stalls: {
          observerNs: uint(b, "observer_ns", "stalls"), runQueueNs: uint(b, "run_queue_ns", "stalls"),
          count: uint(b, "count", "stalls"), largestNs: uint(b, "largest_ns", "stalls"),
          sleepOverNs: uint(b, "sleep_over_ns", "stalls"), runQueueKnown: known,
        },
      };
    }
    case "footer": {
      checkKeys(m, "footer", ITEM_KEYS.footer);
      const f = nested(m, "footer", "footer");
      checkKeys(f, "footer", ITEM_KEYS["footer-body"]);
      return {
        type, offset,
        footer: {
          ended: bigUint(f, "ended", "footer"),
          reason: text(f, "reason", "footer"),
          sessions: uint(f, "sessions", "footer"),
          chunks: uint(f, "chunks", "footer"),
          events: uint(f, "events", "footer"),
        },
      };
    }
  }
}

function positive(n: number, what: string): number {
  if (n === 0) throw new SchemaError(`${what} must be positive`);
  return n;
}

function describe(v: Value): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "a byte string";
  if (v instanceof Map) return "a map with non-text keys";
  return `a ${typeof v}`;
}
