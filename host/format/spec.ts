// Every constant of docs/FORMAT.md, as data. The decoders, the trace file code and the tests
// take their numbers from here; test/spec-host.test.ts checks these tables against the
// document, so a change to either side alone fails the build.

/** Wire format version carried in INFO (FORMAT.md, "Version"): what a current core writes. */
export const WIRE_FORMAT_VERSION = 2;
/** Wire format versions the host reads (1: no compact events, no context resource, no `hidden`). */
export const WIRE_FORMAT_VERSIONS: readonly number[] = [1, 2];
/** Trace file version, the value of the header's "taskscope" key (FORMAT.md section 6). Readers
 *  accept every version from 1 up to it (2 added the `stalls` item, 3 the device counter `hidden`). */
export const TRACE_FILE_VERSION = 3;
export const OLDEST_TRACE_FILE_VERSION = 1;

/** INFO magic `TSCP` (section 2.1). */
export const INFO_MAGIC = [0x54, 0x53, 0x43, 0x50] as const;

/** Record header: type u8 + payload length u16 (section 2). */
export const RECORD_HEADER_SIZE = 3;
/** Largest payload a u16 length can declare. */
export const MAX_RECORD_PAYLOAD = 0xffff;
/** Fixed part of a CHUNK payload: seq u32 + base u64; the varint context task follows (section 3). */
export const CHUNK_HEADER_SIZE = 12;
/** Fixed part of a NAMES payload: first id u32 + entry count u16 (section 2.2). */
export const NAMES_HEADER_SIZE = 6;
/** Fixed part of an INFO payload, up to the device name (section 2.1). */
export const INFO_FIXED_SIZE = 32;
/** COUNTERS payload size (section 2.3); wire format 1 ends before `hidden`. */
export const COUNTERS_SIZE = 80;
export const COUNTERS_SIZE_V1 = 72;
/** Smallest legal chunk size and the largest event (section 4). */
export const MIN_CHUNK_SIZE = 128;
export const MAX_EVENT_SIZE = 97;

/** Varint limits (section "Conventions"). */
export const MAX_VARINT32_BYTES = 5;
export const MAX_VARINT64_BYTES = 10;

/** Decoded-view kind of a LOG argument row (section 5). */
export const LOG_ARG = 0x40;
export const LOG_ARG_NAME = "LOG_ARG";
/** LOG `meta` = level << 4 | argc; argc is at most 8. Levels 0..4 are named, up to 7 accepted. */
export const LOG_META_LEVEL_SHIFT = 4;
export const LOG_META_ARGC_MASK = 0x0f;
export const MAX_LOG_ARGS = 8;
export const MAX_LOG_LEVEL = 7;
/** RES_OP `opcode` = op | outcome << 2 | L << 4; L = level + 1 for a level below 15 (then the
 *  `level?` field is absent), L = 0 when the level follows as a varint. */
export const OPCODE_OUTCOME_SHIFT = 2;
export const OPCODE_OP_MASK = 0x03;
export const OPCODE_OUTCOME_MASK = 0x03;
export const OPCODE_LEVEL_SHIFT = 4;
/** Largest level carried inside the opcode. */
export const OPCODE_INLINE_LEVEL_MAX = 14;

export const RECORD_TYPES = [
  { code: 0x01, name: "INFO" },
  { code: 0x02, name: "NAMES" },
  { code: 0x03, name: "CHUNK" },
  { code: 0x04, name: "COUNTERS" },
] as const;
export type RecordTypeName = (typeof RECORD_TYPES)[number]["name"];
export const RECORD_TYPE = byName(RECORD_TYPES);

export const NAME_KINDS = [
  { code: 1, name: "task" },
  { code: 2, name: "site" },
  { code: 3, name: "resource" },
  { code: 4, name: "format" },
  { code: 5, name: "mark" },
  { code: 6, name: "counter" },
  { code: 7, name: "flow" },
] as const;
export type NameKindName = (typeof NAME_KINDS)[number]["name"];
export const NAME_KIND = byName(NAME_KINDS);

export const RESOURCE_KINDS = [
  { code: 0, name: "channel" },
  { code: 1, name: "mutex" },
  { code: 2, name: "timer" },
  { code: 3, name: "io" },
] as const;
export const RESOURCE_KIND = byName(RESOURCE_KINDS);

export const RESOURCE_OPS = [
  { code: 0, name: "send" },
  { code: 1, name: "recv" },
  { code: 2, name: "acquire" },
  { code: 3, name: "release" },
] as const;
export const RESOURCE_OP = byName(RESOURCE_OPS);

export const RESOURCE_OUTCOMES = [
  { code: 0, name: "ok" },
  { code: 1, name: "blocked" },
  { code: 2, name: "unblocked" },
] as const;
export const RESOURCE_OUTCOME = byName(RESOURCE_OUTCOMES);

/** Ring mode in INFO; the trace file's session "mode" uses the names. */
export const RING_MODES = [
  { code: 0, name: "overwrite" },
  { code: 1, name: "stop" },
] as const;
export type RingModeName = (typeof RING_MODES)[number]["name"];
export const RING_MODE = byName(RING_MODES);

export const CATEGORIES = [
  { bit: 0, name: "task" },
  { bit: 1, name: "poll" },
  { bit: 2, name: "wake" },
  { bit: 3, name: "await" },
  { bit: 4, name: "resource" },
  { bit: 5, name: "flow" },
  { bit: 6, name: "log" },
  { bit: 7, name: "mark" },
  { bit: 8, name: "mem" },
  { bit: 9, name: "idle" },
  { bit: 10, name: "isr" },
  { bit: 11, name: "timer" },
] as const;
export type CategoryName = (typeof CATEGORIES)[number]["name"];

/**
 * The events table (section 4). `fields` is the wire order, each `name` or `name:type`
 * (u32 varint when untyped; `*` repeats). `task`/`a`/`b`/`c`/`v` name the field (or the
 * derived value: op/outcome from opcode, level/argc from meta) each decoded column holds;
 * "current" is the current-task rule; null leaves the column 0.
 */
export const EVENTS = [
  ev(0x01, "SPAWN", "task", "task parent name flow", "task", "parent", "name", "flow", null),
  ev(0x02, "POLL_BEGIN", "poll", "task", "task", null, null, null, null),
  ev(0x03, "POLL_READY", "poll", "", "current", null, null, null, null),
  ev(0x04, "POLL_PENDING", "poll", "", "current", null, null, null, null),
  ev(0x05, "WAKE_TASK", "wake", "target by", "target", "by", null, null, null),
  ev(0x06, "WAKE_SELF", "wake", "target", "target", "target", null, null, null),
  ev(0x07, "WAKE_IRQ", "wake", "target irq", "target", "irq", null, null, null),
  ev(0x08, "WAKE_EXT", "wake", "target", "target", null, null, null, null),
  ev(0x09, "WAKER_CLONE", "wake", "task", "task", null, null, null, null),
  ev(0x0a, "WAKER_DROP", "wake", "task", "task", null, null, null, null),
  ev(0x0b, "TASK_DONE", "task", "task", "task", null, null, null, null),
  ev(0x0c, "TASK_CANCEL", "task", "task", "task", null, null, null, null),
  ev(0x0d, "AWAIT", "await", "site resource", "current", "site", "resource", null, null),
  ev(0x0e, "RES_CREATE", "resource", "res kind name capacity", "current", "res", "name", "kind", "capacity"),
  ev(0x0f, "RES_OP", "resource", "res opcode:u8 level?", "current", "res", "op", "outcome", "level"),
  ev(0x10, "RES_DROP", "resource", "res", "current", "res", null, null, null),
  ev(0x11, "FLOW_BEGIN", "flow", "flow name", "current", "flow", "name", null, null),
  ev(0x12, "FLOW_END", "flow", "flow", "current", "flow", null, null, null),
  ev(0x13, "FLOW_ENTER", "flow", "task flow", "task", "flow", null, null, null),
  ev(0x14, "LOG", "log", "format meta:u8 args:zigzag*", "current", "format", "level", "argc", null),
  ev(0x15, "MARK", "mark", "name", "current", "name", null, null, null),
  ev(0x16, "COUNTER", "mark", "name value:zigzag", "current", "name", null, null, "value"),
  ev(0x17, "MEM", "mem", "task bytes", "task", null, null, null, "bytes"),
  ev(0x18, "IDLE_BEGIN", "idle", "", "current", null, null, null, null),
  ev(0x19, "IDLE_END", "idle", "", "current", null, null, null, null),
  ev(0x1a, "ISR_ENTER", "isr", "irq", "current", "irq", null, null, null),
  ev(0x1b, "ISR_EXIT", "isr", "irq", "current", "irq", null, null, null),
  ev(0x1c, "TIMER_ARM", "timer", "res due:zigzag", "current", "res", null, null, "deadline"),
  ev(0x1d, "TIMER_FIRE", "timer", "task res", "task", "res", null, null, null),
] as const;

/**
 * Compact forms (wire format 2, table `compact-events`): one wire event standing for the events
 * `expands` lists, in order, all at its time. Each expanded event takes its fields from the
 * compact event's fields of the same name, or as `field=source` says: another field of the
 * compact event, `current` (the current task) or `resource` (the chunk's resource state).
 */
export const COMPACT_EVENTS = [
  { tag: 0x20, name: "WAKER_CLONE_CURRENT", fields: "", expands: "WAKER_CLONE task=current" },
  { tag: 0x21, name: "WAKE_TASK_DROP", fields: "target by", expands: "WAKE_TASK, WAKER_DROP task=target" },
  { tag: 0x22, name: "WAKE_SELF_DROP", fields: "target", expands: "WAKE_SELF, WAKER_DROP task=target" },
  { tag: 0x23, name: "WAKE_IRQ_DROP", fields: "target irq", expands: "WAKE_IRQ, WAKER_DROP task=target" },
  { tag: 0x24, name: "WAKE_EXT_DROP", fields: "target", expands: "WAKE_EXT, WAKER_DROP task=target" },
  { tag: 0x25, name: "TIMER_FIRE_WAKE", fields: "task res", expands: "TIMER_FIRE, WAKE_EXT target=task, WAKER_DROP" },
  { tag: 0x26, name: "AWAIT_SAME", fields: "site", expands: "AWAIT resource=resource" },
  { tag: 0x27, name: "AWAIT_PENDING", fields: "site resource", expands: "AWAIT, POLL_PENDING" },
  { tag: 0x28, name: "AWAIT_SAME_PENDING", fields: "site", expands: "AWAIT resource=resource, POLL_PENDING" },
] as const;
export type CompactEventSpec = (typeof COMPACT_EVENTS)[number];
export type CompactEventName = CompactEventSpec["name"];
/** Compact tag by name. */
export const COMPACT_EVENT = tagsByName(COMPACT_EVENTS);

/** One event a compact form expands to: its name and where fields not named alike come from. */
export interface Expansion {
  readonly event: EventName;
  /** field of the expanded event -> a field of the compact event, "current" or "resource" */
  readonly from: Readonly<Record<string, string>>;
}

/** Parses an `expands` cell ("TIMER_FIRE, WAKE_EXT target=task, WAKER_DROP"). */
export function parseExpansion(cell: string): Expansion[] {
  return cell.split(",").map((part) => {
    const [event, ...assignments] = part.trim().split(/\s+/);
    if (!EVENTS.some((e) => e.name === event)) throw new Error(`unknown event "${event}" in "${cell}"`);
    const from: Record<string, string> = {};
    for (const a of assignments) {
      const [field, source] = a.split("=");
      if (!field || !source) throw new Error(`bad assignment "${a}" in "${cell}"`);
      from[field] = source;
    }
    return { event: event as EventName, from };
  });
}

export type EventSpec = (typeof EVENTS)[number];
export type EventName = EventSpec["name"];
/** Tag by name: `EVENT.POLL_BEGIN === 0x02`. */
export const EVENT = tagsByName(EVENTS);

/** A wire field of an event: its name and its encoding. */
export interface FieldSpec {
  readonly name: string;
  /** varint u32, raw u8, zigzag varint; `repeated` fields take the rest count from elsewhere (LOG argc). */
  readonly type: "u32" | "u8" | "zigzag";
  readonly repeated: boolean;
  /** Present only when the event says so (RES_OP `level?`: when the opcode carries no level). */
  readonly optional: boolean;
}

/** Parses a `fields` cell ("format meta:u8 args:zigzag*") into field specs. */
export function parseFields(fields: string): FieldSpec[] {
  if (fields.trim() === "") return [];
  return fields.trim().split(/\s+/).map((word) => {
    const repeated = word.endsWith("*");
    const optional = word.endsWith("?");
    const [name, type = "u32"] = (repeated || optional ? word.slice(0, -1) : word).split(":");
    if (type !== "u32" && type !== "u8" && type !== "zigzag") throw new Error(`unknown field type in "${word}"`);
    return { name: name!, type, repeated, optional };
  });
}

/** Field layout tables (the unnamed tables of sections 2, 2.1, 2.2, 2.3 and 3). */
export interface LayoutEntry {
  /** Byte offset, or null where the document writes "..". */
  readonly offset: number | null;
  /** The size column as written: "u8", "u16", "u32", "u64", "varint", "4", "n", "..", "u8 + bytes". */
  readonly size: string;
  /** Property name used by the decoder. */
  readonly field: string;
  /** How the document's field column starts. */
  readonly doc: string;
}

export const RECORD_HEADER_LAYOUT: readonly LayoutEntry[] = [
  { offset: 0, size: "u8", field: "type", doc: "record type" },
  { offset: 1, size: "u16", field: "length", doc: "payload length" },
  { offset: 3, size: "n", field: "payload", doc: "payload" },
];

export const INFO_LAYOUT: readonly LayoutEntry[] = [
  { offset: 0, size: "4", field: "magic", doc: "magic" },
  { offset: 4, size: "u8", field: "version", doc: "wire format version" },
  { offset: 5, size: "u8", field: "ringMode", doc: "ring mode" },
  { offset: 6, size: "u16", field: "chunkSize", doc: "chunk size" },
  { offset: 8, size: "u32", field: "chunkCount", doc: "chunk count" },
  { offset: 12, size: "u32", field: "namesCapacity", doc: "names table capacity" },
  { offset: 16, size: "u32", field: "maxTasks", doc: "max tasks" },
  { offset: 20, size: "u32", field: "tickHz", doc: "tick_hz" },
  { offset: 24, size: "u32", field: "filter", doc: "filter mask" },
  { offset: 28, size: "u32", field: "sessionId", doc: "session id" },
  { offset: 32, size: "u8 + bytes", field: "device", doc: "device name" },
  { offset: null, size: "u8 + bytes", field: "firmware", doc: "firmware name" },
];

export const NAMES_LAYOUT: readonly LayoutEntry[] = [
  { offset: 0, size: "u32", field: "firstId", doc: "id of the first entry" },
  { offset: 4, size: "u16", field: "count", doc: "entry count" },
  { offset: 6, size: "..", field: "entries", doc: "`k` entries: kind u8, length u8, UTF-8 bytes" },
];

export const COUNTERS_LAYOUT: readonly LayoutEntry[] = [
  { offset: 0, size: "u64", field: "recorded", doc: "recorded" },
  { offset: 8, size: "u64", field: "drained", doc: "drained" },
  { offset: 16, size: "u64", field: "droppedFull", doc: "dropped_full" },
  { offset: 24, size: "u64", field: "droppedOverwritten", doc: "dropped_overwritten" },
  { offset: 32, size: "u32", field: "chunksOverwritten", doc: "chunks_overwritten" },
  { offset: 36, size: "u32", field: "namesDropped", doc: "names_dropped" },
  { offset: 40, size: "u32", field: "nextSeq", doc: "next_seq" },
  { offset: 44, size: "u32", field: "pendingEvents", doc: "pending_events" },
  { offset: 48, size: "u64", field: "now", doc: "now" },
  { offset: 56, size: "u64", field: "firstDrop", doc: "first_drop" },
  { offset: 64, size: "u64", field: "lastDrop", doc: "last_drop" },
  { offset: 72, size: "u64", field: "hiddenTicks", doc: "hidden" },
];

export const CHUNK_HEADER_LAYOUT: readonly LayoutEntry[] = [
  { offset: 0, size: "u32", field: "seq", doc: "seq" },
  { offset: 4, size: "u64", field: "baseTicks", doc: "base" },
  { offset: 12, size: "varint", field: "contextTask", doc: "context task" },
  { offset: null, size: "varint", field: "contextResource", doc: "context resource" },
  { offset: null, size: "..", field: "events", doc: "events" },
];

/** Counter names as the trace file spells them (section 6, device-counters), by decoder field. */
export const COUNTER_KEYS = {
  recorded: "recorded",
  drained: "drained",
  droppedFull: "dropped_full",
  droppedOverwritten: "dropped_overwritten",
  chunksOverwritten: "chunks_overwritten",
  namesDropped: "names_dropped",
  nextSeq: "next_seq",
  pendingEvents: "pending_events",
  now: "now",
  firstDrop: "first_drop",
  lastDrop: "last_drop",
  hiddenTicks: "hidden",
} as const;
/** Counters a format 1 device does not send (optional in the trace file). */
export const OPTIONAL_COUNTERS: readonly CounterField[] = ["hiddenTicks"];
export type CounterField = keyof typeof COUNTER_KEYS;

// ---- lookups -------------------------------------------------------------------------------

const EVENT_BY_TAG: (EventSpec | undefined)[] = new Array(256).fill(undefined);
for (const e of EVENTS) EVENT_BY_TAG[e.tag] = e;

/** The events-table row of a tag, or undefined for an unknown tag. */
export function eventSpec(tag: number): EventSpec | undefined {
  return EVENT_BY_TAG[tag];
}

/** The compact-events row of a tag, or undefined. */
export function compactEventSpec(tag: number): CompactEventSpec | undefined {
  return COMPACT_EVENTS.find((e) => e.tag === tag);
}

/** Name of a decoded row kind: an event name, "LOG_ARG", or undefined. */
export function kindName(kind: number): EventName | typeof LOG_ARG_NAME | undefined {
  return kind === LOG_ARG ? LOG_ARG_NAME : EVENT_BY_TAG[kind]?.name;
}

/** The filter bit of a category name. */
export function categoryBit(category: CategoryName): number {
  return CATEGORIES.find((c) => c.name === category)!.bit;
}

/** The filter mask selecting the given categories. */
export function filterMask(categories: readonly CategoryName[]): number {
  let mask = 0;
  for (const c of categories) mask |= 1 << categoryBit(c);
  return mask >>> 0;
}

/** Name of a code in one of the code/name tables, or undefined. */
export function codeName<T extends { readonly code: number; readonly name: string }>(
  table: readonly T[],
  code: number,
): T["name"] | undefined {
  return table.find((row) => row.code === code)?.name;
}

// ---- helpers for the tables above -----------------------------------------------------------

function ev<
  const Tag extends number,
  const Name extends string,
  const Cat extends CategoryName,
  const Fields extends string,
  const Task extends string,
  const A extends string | null,
  const B extends string | null,
  const C extends string | null,
  const V extends string | null,
>(tag: Tag, name: Name, category: Cat, fields: Fields, task: Task, a: A, b: B, c: C, v: V) {
  return { tag, name, category, fields, task, a, b, c, v } as const;
}

function tagsByName<const T extends readonly { readonly tag: number; readonly name: string }[]>(
  table: T,
): { readonly [R in T[number] as R["name"]]: R["tag"] } {
  return Object.fromEntries(table.map((row) => [row.name, row.tag])) as never;
}

function byName<const T extends readonly { readonly code: number; readonly name: string }[]>(
  table: T,
): { readonly [R in T[number] as R["name"]]: R["code"] } {
  return Object.fromEntries(table.map((row) => [row.name, row.code])) as never;
}
