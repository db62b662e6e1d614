// Reference ENCODER for the taskscope wire format, written from docs/FORMAT.md alone. It shares
// only the spec constants with host/format (never its decoding code), so round trips through
// it test the decoder against the document. Also: the decoded view the document predicts for
// a list of events (`expectedRows`), and a synthetic async workload for benchmarks.

import {
  CHUNK_HEADER_SIZE,
  COMPACT_EVENTS,
  COUNTERS_LAYOUT,
  COUNTERS_SIZE_V1,
  EVENT,
  EVENTS,
  INFO_MAGIC,
  LOG_ARG,
  LOG_ARG_NAME,
  LOG_META_LEVEL_SHIFT,
  OPCODE_OP_MASK,
  OPCODE_OUTCOME_SHIFT,
  OPCODE_LEVEL_SHIFT,
  OPCODE_INLINE_LEVEL_MAX,
  RECORD_TYPE,
  RING_MODE,
  WIRE_FORMAT_VERSION,
  parseExpansion,
  parseFields,
  type FieldSpec,
  type RingModeName,
} from "../../host/format/spec.js";

// ---- events --------------------------------------------------------------------------------

/** One event as the device would record it. */
export interface WireEvent {
  tag: number;
  /** Absolute device ticks (u64). */
  ticks: number | bigint;
  /**
   * Field values by the names of the events table's `fields` column (missing = 0). RES_OP may
   * give `op`/`outcome` instead of `opcode`, LOG may give `level` instead of `meta` (argc is
   * then args.length).
   */
  fields?: Readonly<Record<string, number | bigint>>;
  /** LOG arguments (signed 64-bit). */
  args?: readonly (number | bigint)[];
}

const U64_MASK = (1n << 64n) - 1n;
const TWO_POW_32 = 2 ** 32;

const FIELDS_BY_TAG = new Map<number, FieldSpec[]>([
  ...EVENTS.map((e) => [e.tag, parseFields(e.fields)] as const),
  ...COMPACT_EVENTS.map((e) => [e.tag, parseFields(e.fields)] as const),
]);
const SPEC_BY_TAG = new Map<number, (typeof EVENTS)[number]>(EVENTS.map((e) => [e.tag, e]));
const EXPANSION_BY_TAG = new Map<number, ReturnType<typeof parseExpansion>>(COMPACT_EVENTS.map((e) => [e.tag, parseExpansion(e.expands)]));

/** What a decoder tracks inside a chunk (FORMAT.md sections 3 and 4): the current task and, from
 *  wire format 2 on, the resource state. */
export interface ChunkState {
  current: number;
  resource: number;
}

/**
 * The events a wire event stands for: itself, or for a compact form (format 2) the events of its
 * `expands` cell, each with its fields taken by name, or from the named field, the current task
 * or the resource state; all at the wire event's time. Advances `state` past them.
 */
export function expandEvent(event: WireEvent, state: ChunkState): WireEvent[] {
  const expansion = EXPANSION_BY_TAG.get(event.tag);
  const out: WireEvent[] = [];
  const rows: WireEvent[] = expansion
    ? expansion.map(({ event: name, from }) => {
        const fields: Record<string, number | bigint> = {};
        for (const field of FIELDS_BY_TAG.get(EVENT[name])!) {
          // Unassigned: the compact event's field of the same name. Assigned: `current` and
          // `resource` are the state, resolved when the row is reached (an earlier row of the same
          // event may move it); anything else names one of the compact event's fields.
          const source = from[field.name];
          if (source === undefined) fields[field.name] = event.fields?.[field.name] ?? 0;
          else fields[field.name] = source === "current" ? -1 : source === "resource" ? -2 : (event.fields?.[source] ?? 0);
        }
        return { tag: EVENT[name], ticks: event.ticks, fields };
      })
    : [event];
  for (const row of rows) {
    if (expansion) {
      const f = row.fields as Record<string, number | bigint>;
      for (const k of Object.keys(f)) {
        if (f[k] === -1) f[k] = state.current;
        else if (f[k] === -2) f[k] = state.resource;
      }
    }
    out.push(row);
    advanceState(state, row);
  }
  return out;
}

/** The state after one (non-compact) event: POLL_BEGIN sets the current task, POLL_READY and
 *  POLL_PENDING clear it; a `res` or `resource` field becomes the resource state. */
function advanceState(state: ChunkState, event: WireEvent): void {
  state.current = nextCurrentTask(state.current, event);
  for (const field of FIELDS_BY_TAG.get(event.tag) ?? []) {
    if (field.name === "res" || field.name === "resource") state.resource = Number(event.fields?.[field.name] ?? 0);
  }
}

/** RES_OP opcode; with a `level` below 15 it carries the level too (and the level field is left out). */
export function opcode(op: number, outcome: number, level?: number): number {
  const inline = level !== undefined && level <= OPCODE_INLINE_LEVEL_MAX ? level + 1 : 0;
  return op | (outcome << OPCODE_OUTCOME_SHIFT) | (inline << OPCODE_LEVEL_SHIFT);
}

export function logMeta(level: number, argc: number): number {
  return (level << LOG_META_LEVEL_SHIFT) | argc;
}

/** Unsigned LEB128 bytes of a u64 value. */
export function varint(value: number | bigint): number[] {
  const out: number[] = [];
  if (typeof value === "number" && value <= Number.MAX_SAFE_INTEGER) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`varint of ${value}`);
    let v = value;
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    return out;
  }
  let v = BigInt(value);
  if (v < 0n || v > U64_MASK) throw new RangeError(`varint of ${v}`);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

/** Zigzag mapping of a signed 64-bit value: (n << 1) ^ (n >> 63). */
export function zigzag(value: number | bigint): bigint {
  const n = BigInt(value);
  if (n < -(1n << 63n) || n >= 1n << 63n) throw new RangeError(`zigzag of ${n}`);
  return ((n << 1n) ^ (n >> 63n)) & U64_MASK;
}

function u32Field(value: number | bigint, what: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n >= TWO_POW_32) throw new RangeError(`${what} = ${value} is not a u32`);
  return n;
}

function fieldValue(event: WireEvent, field: FieldSpec): number | bigint {
  const f = event.fields ?? {};
  if (f[field.name] !== undefined) return f[field.name]!;
  if (event.tag === EVENT.RES_OP && field.name === "opcode") {
    return opcode(Number(f.op ?? 0), Number(f.outcome ?? 0), Number(f.level ?? 0));
  }
  if (event.tag === EVENT.LOG && field.name === "meta") return logMeta(Number(f.level ?? 0), event.args?.length ?? 0);
  return 0;
}

/** The bytes of one event after its `dt`: tag, dt, then the fields in table order. */
export function encodeEvent(event: WireEvent, dt: number | bigint): number[] {
  const fields = FIELDS_BY_TAG.get(event.tag);
  if (!fields) throw new RangeError(`unknown event tag ${event.tag}`);
  const out = [event.tag, ...varint(dt)];
  for (const field of fields) {
    if (field.optional && !optionalPresent(event)) continue;
    if (field.repeated) {
      for (const arg of event.args ?? []) out.push(...varint(zigzag(arg)));
    } else if (field.type === "u8") {
      const v = Number(fieldValue(event, field));
      if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${field.name} = ${v} is not a u8`);
      out.push(v);
    } else if (field.type === "zigzag") {
      out.push(...varint(zigzag(fieldValue(event, field))));
    } else {
      out.push(...varint(u32Field(fieldValue(event, field), field.name)));
    }
  }
  return out;
}

/** RES_OP's `level?` is written only when the opcode could not carry the level. */
function optionalPresent(event: WireEvent): boolean {
  if (event.tag !== EVENT.RES_OP) return true;
  const op = Number(fieldValue(event, { name: "opcode", type: "u8", repeated: false, optional: false }));
  return op >>> OPCODE_LEVEL_SHIFT === 0;
}

/** Tracks the current task the way FORMAT.md section 4 defines it. */
function nextCurrentTask(current: number, event: WireEvent): number {
  if (event.tag === EVENT.POLL_BEGIN) return Number(event.fields?.task ?? 0);
  if (event.tag === EVENT.POLL_READY || event.tag === EVENT.POLL_PENDING) return 0;
  return current;
}

function ticksDiff(later: number | bigint, earlier: number | bigint): number | bigint {
  if (typeof later === "number" && typeof earlier === "number" && later <= Number.MAX_SAFE_INTEGER) {
    if (later < earlier) throw new RangeError(`time goes backwards: ${later} < ${earlier}`);
    return later - earlier;
  }
  const d = BigInt(later) - BigInt(earlier);
  if (d < 0n) throw new RangeError(`time goes backwards: ${later} < ${earlier}`);
  return d;
}

// ---- chunks --------------------------------------------------------------------------------

export interface ChunkSpec {
  seq: number;
  baseTicks: number | bigint;
  contextTask: number;
  /** Wire format 2 only (default 0). */
  contextResource?: number;
  events: readonly WireEvent[];
  /** Wire format version (default the current one): format 1 has no context resource. */
  format?: number;
}

function u32le(out: number[], v: number): void {
  out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function u64le(out: number[], value: number | bigint): void {
  const v = BigInt(value);
  if (v < 0n || v > U64_MASK) throw new RangeError(`${value} is not a u64`);
  u32le(out, Number(v & 0xffffffffn));
  u32le(out, Number(v >> 32n));
}

function u16le(out: number[], v: number): void {
  out.push(v & 0xff, (v >>> 8) & 0xff);
}

function chunkHeaderBytes(seq: number, baseTicks: number | bigint, state: ChunkState, format: number): number[] {
  const out: number[] = [];
  u32le(out, u32Field(seq, "seq"));
  u64le(out, baseTicks);
  out.push(...varint(u32Field(state.current, "context task")));
  if (format >= 2) out.push(...varint(u32Field(state.resource, "context resource")));
  return out;
}

/** One CHUNK payload with exactly the given header and events (no size limit). */
export function encodeChunk(chunk: ChunkSpec): Uint8Array {
  const state = { current: chunk.contextTask, resource: chunk.contextResource ?? 0 };
  const out = chunkHeaderBytes(chunk.seq, chunk.baseTicks, state, chunk.format ?? WIRE_FORMAT_VERSION);
  let previous = chunk.baseTicks;
  for (const event of chunk.events) {
    out.push(...encodeEvent(event, ticksDiff(event.ticks, previous)));
    previous = event.ticks;
  }
  return Uint8Array.from(out);
}

export interface ChunkerOptions {
  /** Slot size in bytes; a payload never exceeds it (default 256). */
  chunkSize?: number;
  /** Seq of the first chunk (default 0). */
  firstSeq?: number;
  /** Task being polled before the first event (default 0). */
  contextTask?: number;
  /** Wire format version (default the current one). */
  format?: number;
}

/**
 * Packs events into chunks the way the device ring does: append while the next event fits,
 * otherwise seal and open the next chunk at that event's time with the current task as
 * its context. Each sealed payload goes to `payloads` (or to `onChunk` when given).
 */
export class ChunkStreamEncoder {
  readonly payloads: Uint8Array[] = [];
  private readonly chunkSize: number;
  private readonly format: number;
  private seq: number;
  private readonly state: ChunkState;
  private open: number[] | undefined;
  private previous: number | bigint = 0;

  constructor(
    options: ChunkerOptions = {},
    private readonly onChunk?: (payload: Uint8Array, seq: number) => void,
  ) {
    this.chunkSize = options.chunkSize ?? 256;
    this.format = options.format ?? WIRE_FORMAT_VERSION;
    this.seq = options.firstSeq ?? 0;
    this.state = { current: options.contextTask ?? 0, resource: 0 };
  }

  add(event: WireEvent): void {
    if (this.format < 2 && EXPANSION_BY_TAG.has(event.tag)) throw new RangeError(`compact event ${event.tag} in wire format ${this.format}`);
    if (this.open !== undefined) {
      const bytes = encodeEvent(event, ticksDiff(event.ticks, this.previous));
      if (this.open.length + bytes.length <= this.chunkSize) {
        for (const b of bytes) this.open.push(b);
        this.previous = event.ticks;
        expandEvent(event, this.state);
        return;
      }
      this.flush();
    }
    this.open = chunkHeaderBytes(this.seq, event.ticks, this.state, this.format);
    const bytes = encodeEvent(event, 0);
    if (this.open.length + bytes.length > this.chunkSize) {
      throw new RangeError(`event of ${bytes.length} bytes does not fit a ${this.chunkSize}-byte chunk`);
    }
    for (const b of bytes) this.open.push(b);
    this.previous = event.ticks;
    expandEvent(event, this.state);
  }

  /** Seals the open chunk, if any (the device's `flush`). */
  flush(): void {
    if (this.open === undefined) return;
    const payload = Uint8Array.from(this.open);
    this.open = undefined;
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    if (this.onChunk) this.onChunk(payload, seq);
    else this.payloads.push(payload);
  }
}

/** Packs a list of events into chunk payloads (see ChunkStreamEncoder). */
export function encodeChunks(events: Iterable<WireEvent>, options: ChunkerOptions = {}): Uint8Array[] {
  const encoder = new ChunkStreamEncoder(options);
  for (const event of events) encoder.add(event);
  encoder.flush();
  return encoder.payloads;
}

// ---- records -------------------------------------------------------------------------------

/** type u8, length u16, payload. */
export function encodeRecord(type: number, payload: Uint8Array | readonly number[]): Uint8Array {
  if (payload.length > 0xffff) throw new RangeError(`record payload of ${payload.length} bytes`);
  const out = new Uint8Array(3 + payload.length);
  out[0] = type;
  out[1] = payload.length & 0xff;
  out[2] = payload.length >>> 8;
  out.set(payload, 3);
  return out;
}

export interface InfoFields {
  version?: number;
  ringMode: RingModeName;
  chunkSize: number;
  chunkCount: number;
  namesCapacity: number;
  maxTasks: number;
  tickHz: number;
  filter: number;
  sessionId: number;
  device: string;
  firmware: string;
}

function shortString(out: number[], text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > 0xff) throw new RangeError(`string of ${bytes.length} bytes`);
  out.push(bytes.length, ...bytes);
}

export function encodeInfoPayload(info: InfoFields): Uint8Array {
  const out: number[] = [...INFO_MAGIC, info.version ?? WIRE_FORMAT_VERSION, RING_MODE[info.ringMode]];
  u16le(out, info.chunkSize);
  for (const v of [info.chunkCount, info.namesCapacity, info.maxTasks, info.tickHz, info.filter, info.sessionId]) {
    u32le(out, v);
  }
  shortString(out, info.device);
  shortString(out, info.firmware);
  return Uint8Array.from(out);
}

export function encodeNamesPayload(firstId: number, entries: readonly { kind: number; text: string }[]): Uint8Array {
  const out: number[] = [];
  u32le(out, firstId);
  u16le(out, entries.length);
  for (const e of entries) {
    out.push(e.kind);
    shortString(out, e.text);
  }
  return Uint8Array.from(out);
}

export type CounterValues = Record<(typeof COUNTERS_LAYOUT)[number]["field"], number | bigint>;

/** A COUNTERS payload; without `hiddenTicks` it is the 72-byte payload of wire format 1. */
export function encodeCountersPayload(counters: Omit<CounterValues, "hiddenTicks"> & { hiddenTicks?: number | bigint }): Uint8Array {
  const out: number[] = [];
  for (const entry of COUNTERS_LAYOUT) {
    const v = (counters as Partial<CounterValues>)[entry.field];
    if (v === undefined && entry.offset! >= COUNTERS_SIZE_V1) break;
    if (entry.size === "u64") u64le(out, v!);
    else u32le(out, u32Field(v!, entry.field));
  }
  return Uint8Array.from(out);
}

export const infoRecord = (info: InfoFields) => encodeRecord(RECORD_TYPE.INFO, encodeInfoPayload(info));
export const namesRecord = (firstId: number, entries: readonly { kind: number; text: string }[]) =>
  encodeRecord(RECORD_TYPE.NAMES, encodeNamesPayload(firstId, entries));
export const chunkRecord = (payload: Uint8Array) => encodeRecord(RECORD_TYPE.CHUNK, payload);
export const countersRecord = (c: Parameters<typeof encodeCountersPayload>[0]) => encodeRecord(RECORD_TYPE.COUNTERS, encodeCountersPayload(c));

export function concatBytes(parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---- the decoded view the document predicts ------------------------------------------------

export interface ExpectedRow {
  kind: number;
  name: string;
  t: number;
  task: number;
  a: number;
  b: number;
  c: number;
  v: number;
}

/**
 * The rows FORMAT.md section 5 says a decoder produces for `events` (one chunk or a sequence
 * of chunks whose contexts follow the current-task rule), driven by the events table's
 * task/a/b/c/v columns. Times are exact while ticks stay below 2^53, where FORMAT.md promises
 * exactness; past it a decoder may round differently.
 */
export function expectedRows(
  wireEvents: readonly WireEvent[],
  tickHz: number,
  options: { contextTask?: number; contextResource?: number; baseTicks?: number | bigint } = {},
): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  // Compact forms stand for the events they expand to (section 4.1).
  const state = { current: options.contextTask ?? 0, resource: options.contextResource ?? 0 };
  const events = wireEvents.flatMap((e) => expandEvent(e, state));
  let current = options.contextTask ?? 0;
  let previous: number | bigint = options.baseTicks ?? events[0]?.ticks ?? 0;
  for (const event of events) {
    const spec = SPEC_BY_TAG.get(event.tag);
    if (!spec) throw new RangeError(`unknown tag ${event.tag}`);
    ticksDiff(event.ticks, previous); // checks the order
    previous = event.ticks;
    const t = exactNs(event.ticks, tickHz);
    const values = viewValues(event);
    const column = (name: string | null): number => {
      if (name === null) return 0;
      if (name === "current") return current;
      // TIMER_ARM's deadline: the event's own time plus its signed `due`.
      if (name === "deadline") return exactNs(BigInt(event.ticks) + BigInt(event.fields?.due ?? 0), tickHz);
      return values.get(name) ?? 0;
    };
    const task = column(spec.task);
    rows.push({ kind: spec.tag, name: spec.name, t, task, a: column(spec.a), b: column(spec.b), c: column(spec.c), v: column(spec.v) });
    if (event.tag === EVENT.LOG) {
      for (const arg of event.args ?? []) {
        rows.push({ kind: LOG_ARG, name: LOG_ARG_NAME, t, task, a: 0, b: 0, c: 0, v: Number(BigInt(arg)) });
      }
    }
    current = nextCurrentTask(current, event);
  }
  return rows;
}

/** Field values plus the ones packed inside opcode and meta. */
function viewValues(event: WireEvent): Map<string, number> {
  const values = new Map<string, number>();
  for (const field of FIELDS_BY_TAG.get(event.tag)!) {
    if (!field.repeated) values.set(field.name, Number(BigInt(fieldValue(event, field))));
  }
  if (values.has("opcode")) {
    const code = values.get("opcode")!;
    values.set("op", code & OPCODE_OP_MASK);
    values.set("outcome", (code >>> OPCODE_OUTCOME_SHIFT) & 0x03);
    if (code >>> OPCODE_LEVEL_SHIFT !== 0) values.set("level", (code >>> OPCODE_LEVEL_SHIFT) - 1);
  }
  if (values.has("meta")) {
    values.set("level", values.get("meta")! >>> LOG_META_LEVEL_SHIFT);
    values.set("argc", values.get("meta")! & 0x0f);
  }
  return values;
}

// ---- a synthetic async workload ------------------------------------------------------------

/** Small deterministic PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A realistic executor trace of `count` events: tasks woken and polled over and over, most
 * polls ending Pending at an await point, some channel traffic, spawns, logs and marks;
 * time steps of a few ticks so most deltas take one byte.
 */
export function* syntheticWorkload(count: number, seed = 1): Generator<WireEvent> {
  let n = 0;
  for (const event of endlessWorkload(seed)) {
    if (n++ >= count) return;
    yield event;
  }
}

function* endlessWorkload(seed: number): Generator<WireEvent> {
  const random = prng(seed);
  const pick = (n: number) => Math.floor(random() * n);
  let ticks = 1000;
  let nextTask = 1;
  const live: number[] = [];
  const step = () => (ticks += 1 + pick(random() < 0.9 ? 40 : 5000));
  const out = (tag: number, fields?: Record<string, number>, args?: number[]): WireEvent => ({ tag, ticks: step(), fields, args });
  for (;;) {
    if (live.length < 4 || (live.length < 48 && random() < 0.02)) {
      const task = nextTask++;
      live.push(task);
      yield out(EVENT.SPAWN, { task, parent: live.length > 1 ? live[pick(live.length - 1)]! : 0, name: 1 + (task % 8), flow: 0 });
      continue;
    }
    const task = live[pick(live.length)]!;
    const r = random();
    if (r < 0.05) yield out(EVENT.WAKE_IRQ, { target: task, irq: pick(16) });
    else if (r < 0.1) yield out(EVENT.WAKE_EXT, { target: task });
    else yield out(EVENT.WAKE_TASK, { target: task, by: live[pick(live.length)]! });
    yield out(EVENT.POLL_BEGIN, { task });
    const work = random();
    if (work < 0.15) yield out(EVENT.RES_OP, { res: 1 + pick(6), op: pick(2), outcome: pick(3), level: pick(8) });
    else if (work < 0.2) yield out(EVENT.LOG, { format: 9, level: 2 }, [pick(1000), -pick(100)]);
    else if (work < 0.25) yield out(EVENT.MARK, { name: 10 });
    else if (work < 0.28) yield out(EVENT.COUNTER, { name: 11, value: pick(1 << 20) - (1 << 19) });
    if (random() < 0.03) {
      yield out(EVENT.POLL_READY);
      yield out(EVENT.TASK_DONE, { task });
      yield out(EVENT.WAKER_DROP, { task });
      live.splice(live.indexOf(task), 1);
    } else {
      yield out(EVENT.WAKER_CLONE, { task });
      yield out(EVENT.AWAIT, { site: 12 + pick(20), resource: pick(7) });
      yield out(EVENT.POLL_PENDING);
    }
    if (random() < 0.05) {
      yield out(EVENT.IDLE_BEGIN);
      yield out(EVENT.IDLE_END);
    }
  }
}

/** ticks * 1e9 / tickHz computed in integers, rounded once at the end: the ideal the decoder's
 *  doubles are held to (within a few units in the last place). */
export function exactNs(ticks: number | bigint, tickHz: number): number {
  const scaled = BigInt(ticks) * 1_000_000_000n;
  const hz = BigInt(tickHz);
  return Number(scaled / hz) + Number(scaled % hz) / tickHz;
}
