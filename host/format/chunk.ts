// CHUNK payload decoding (FORMAT.md sections 3 to 5): the hot path. One switch over the tag,
// varints read straight from the Uint8Array, columns written in place, nothing allocated
// per event. Every chunk decodes on its own from its header's base time and context task.

import type { EventBatch } from "./batch.js";
import { DecodeError, hexByte } from "./errors.js";
import {
  CHUNK_HEADER_SIZE,
  COMPACT_EVENT,
  EVENT,
  LOG_ARG,
  LOG_META_ARGC_MASK,
  LOG_META_LEVEL_SHIFT,
  MAX_LOG_ARGS,
  MAX_LOG_LEVEL,
  OPCODE_OP_MASK,
  OPCODE_OUTCOME_SHIFT,
  OPCODE_OUTCOME_MASK,
  OPCODE_LEVEL_SHIFT,
  RESOURCE_KINDS,
  RESOURCE_OUTCOMES,
  WIRE_FORMAT_VERSION,
  compactEventSpec,
  eventSpec,
  type EventName,
  type CompactEventName,
} from "./spec.js";
import { TRUNCATED_VARINT, readU32, readU64, readVarU32, readVarU64, readZigzag64, type Cursor } from "./varint.js";

export interface ChunkHeader {
  /** Chunk sequence number (+1 per chunk opened since init). */
  seq: number;
  /** Device ticks when the chunk was opened (exact up to 2^53). */
  baseTicks: number;
  /** Task being polled when the chunk opened (0 = none). */
  contextTask: number;
  /** The resource state when the chunk opened (wire format 2; 0 in format 1). */
  contextResource: number;
  /** Events in the chunk, a compact form counted as the events it stands for (the device's
   *  counters count them so); rows appended may be more (LOG_ARG rows). */
  events: number;
}

/** A Cursor that also remembers where the event being decoded started, for error messages. */
interface ChunkCursor extends Cursor {
  event: number;
}

/**
 * Tag literal checked against spec.ts at compile time: `case 0x02 satisfies Tag<"POLL_BEGIN">`
 * fails to type-check if the table changes, and leaves a literal case label in the emitted
 * JavaScript, which V8 turns into a jump table (property loads in case labels cost ~20%).
 */
type Tag<N extends EventName> = (typeof EVENT)[N];
type CompactTag<N extends CompactEventName> = (typeof COMPACT_EVENT)[N];

const RESOURCE_KIND_COUNT = RESOURCE_KINDS.length;
/** A wake tag plus this is the compact form of that wake that also drops the waker. */
const WAKE_DROP_OFFSET = COMPACT_EVENT.WAKE_TASK_DROP - EVENT.WAKE_TASK;
const RESOURCE_OUTCOME_COUNT = RESOURCE_OUTCOMES.length;
const NS_PER_S = 1e9;

/**
 * Device ticks to ns since the clock's zero. `ticks * 1e9 / hz` in doubles loses exactness once
 * the product passes 2^53 (about 2.5 h at 1 MHz); when hz divides 1e9 (1 MHz, 32.768 kHz does
 * not, 1 GHz does) one multiplication is exact up to 2^53 ns (104 days), otherwise whole seconds
 * and the remainder are converted apart.
 */
export function ticksToNs(ticks: number, tickHz: number): number {
  const perTick = NS_PER_S / tickHz;
  if (Number.isInteger(perTick)) return ticks * perTick;
  const seconds = Math.floor(ticks / tickHz);
  return seconds * NS_PER_S + ((ticks - seconds * tickHz) * NS_PER_S) / tickHz;
}

/**
 * Appends the events of one CHUNK payload to `out` and returns its header. `t` is
 * `ticksToNs(ticks, tickHz)`. `format` is the session's wire format version (INFO): format 1
 * chunks have no context resource and no compact events. On malformed input throws DecodeError
 * (offsets are `baseOffset` + position in `payload`) and leaves `out.length` as it was, so the
 * caller can drop the chunk.
 */
export function decodeChunk(payload: Uint8Array, tickHz: number, out: EventBatch, baseOffset = 0, format = WIRE_FORMAT_VERSION): ChunkHeader {
  if (!(tickHz > 0) || !Number.isFinite(tickHz)) throw new DecodeError(baseOffset, `tick_hz must be positive, got ${tickHz}`);
  const startRows = out.length;
  const cur: ChunkCursor = { pos: 0, event: 0 };
  try {
    return decodeEvents(payload, tickHz, out, baseOffset, cur, format >= 2);
  } catch (error) {
    out.length = startRows;
    if (error instanceof DecodeError && error.reason === TRUNCATED_VARINT && cur.event >= CHUNK_HEADER_SIZE) {
      const tag = payload[cur.event]!;
      const name = eventSpec(tag)?.name ?? (format >= 2 ? compactEventSpec(tag)?.name : undefined);
      const reason = name ? `truncated ${name} event` : `unknown event tag ${hexByte(tag)}`;
      throw new DecodeError(baseOffset + cur.event, reason);
    }
    throw error;
  }
}

/** Reads a chunk header without decoding its events; `eventsOffset` is where events start. */
export function decodeChunkHeader(
  payload: Uint8Array,
  baseOffset = 0,
  format = WIRE_FORMAT_VERSION,
): Omit<ChunkHeader, "events"> & { eventsOffset: number } {
  const cur: Cursor = { pos: 0 };
  const header = readChunkHeader(payload, cur, baseOffset, format >= 2);
  return { ...header, eventsOffset: cur.pos };
}

function readChunkHeader(payload: Uint8Array, cur: Cursor, baseOffset: number, v2: boolean): Omit<ChunkHeader, "events"> {
  const end = payload.length;
  if (end < CHUNK_HEADER_SIZE + 1) throw new DecodeError(baseOffset, `truncated chunk header (${end} bytes)`);
  const seq = readU32(payload, cur, end, baseOffset, "chunk header");
  const baseTicks = readU64(payload, cur, end, baseOffset, "chunk header");
  let what = "context task";
  try {
    const contextTask = readVarU32(payload, cur, end, baseOffset);
    what = "context resource";
    const contextResource = v2 ? readVarU32(payload, cur, end, baseOffset) : 0;
    return { seq, baseTicks, contextTask, contextResource };
  } catch (error) {
    if (error instanceof DecodeError && error.reason === TRUNCATED_VARINT) {
      throw new DecodeError(baseOffset, `truncated chunk header (${what})`);
    }
    throw error;
  }
}

function decodeEvents(payload: Uint8Array, tickHz: number, out: EventBatch, base: number, cur: ChunkCursor, v2: boolean): ChunkHeader {
  const end = payload.length;
  const { seq, baseTicks, contextTask, contextResource } = readChunkHeader(payload, cur, base, v2);

  // Every row takes at least one payload byte, so this reserve is the only growth check.
  out.reserve(out.length + end);
  const kindCol = out.kind;
  const tCol = out.t;
  const taskCol = out.task;
  const aCol = out.a;
  const bCol = out.b;
  const cCol = out.c;
  const vCol = out.v;

  let row = out.length;
  let ticks = baseTicks;
  const perTick = NS_PER_S / tickHz;
  const integerRate = Number.isInteger(perTick);
  let current = contextTask;
  // The resource state (format 2): the last `res`/`resource` field seen, for AWAIT_SAME.
  let resource = contextResource;
  let events = 0;
  /** A row beside the one each event writes: a LOG's arguments, a compact event's other events. */
  const extraRow = (kind: number, t: number, task: number, v: number): void => {
    kindCol[row] = kind;
    tCol[row] = t;
    taskCol[row] = task;
    aCol[row] = 0;
    bCol[row] = 0;
    cCol[row] = 0;
    vCol[row] = v;
    row++;
  };

  while (cur.pos < end) {
    const at = cur.pos;
    cur.event = at;
    const tag = payload[at]!;
    cur.pos = at + 1;
    ticks += readVarU64(payload, cur, end, base);
    const t = integerRate ? ticks * perTick : ticksToNs(ticks, tickHz);
    let task = 0;
    let a = 0;
    let b = 0;
    let c = 0;
    let v = 0;
    let kind: number = tag;
    let then = 0; // a compact event's second row (0: none)

    switch (tag) {
      case 0x01 satisfies Tag<"SPAWN">:
        task = readVarU32(payload, cur, end, base);
        a = readVarU32(payload, cur, end, base);
        b = readVarU32(payload, cur, end, base);
        c = readVarU32(payload, cur, end, base);
        break;
      case 0x02 satisfies Tag<"POLL_BEGIN">:
        task = readVarU32(payload, cur, end, base);
        current = task;
        break;
      case 0x03 satisfies Tag<"POLL_READY">:
      case 0x04 satisfies Tag<"POLL_PENDING">:
        task = current;
        current = 0;
        break;
      case 0x05 satisfies Tag<"WAKE_TASK">:
      case 0x07 satisfies Tag<"WAKE_IRQ">:
      case 0x13 satisfies Tag<"FLOW_ENTER">:
        task = readVarU32(payload, cur, end, base);
        a = readVarU32(payload, cur, end, base);
        break;
      case 0x06 satisfies Tag<"WAKE_SELF">:
        task = readVarU32(payload, cur, end, base);
        a = task;
        break;
      case 0x08 satisfies Tag<"WAKE_EXT">:
      case 0x09 satisfies Tag<"WAKER_CLONE">:
      case 0x0a satisfies Tag<"WAKER_DROP">:
      case 0x0b satisfies Tag<"TASK_DONE">:
      case 0x0c satisfies Tag<"TASK_CANCEL">:
        task = readVarU32(payload, cur, end, base);
        break;
      case 0x0d satisfies Tag<"AWAIT">:
        task = current;
        a = readVarU32(payload, cur, end, base);
        b = readVarU32(payload, cur, end, base);
        resource = b;
        break;
      case 0x11 satisfies Tag<"FLOW_BEGIN">:
        task = current;
        a = readVarU32(payload, cur, end, base);
        b = readVarU32(payload, cur, end, base);
        break;
      case 0x0e satisfies Tag<"RES_CREATE">: {
        task = current;
        a = readVarU32(payload, cur, end, base);
        const kindAt = cur.pos;
        c = readVarU32(payload, cur, end, base);
        if (c >= RESOURCE_KIND_COUNT) throw new DecodeError(base + kindAt, `unknown resource kind ${c}`);
        b = readVarU32(payload, cur, end, base);
        v = readVarU32(payload, cur, end, base);
        resource = a;
        break;
      }
      case 0x0f satisfies Tag<"RES_OP">: {
        task = current;
        a = readVarU32(payload, cur, end, base);
        resource = a;
        const opAt = cur.pos;
        if (opAt >= end) throw new DecodeError(base + cur.event, "RES_OP truncated before its opcode");
        const opcode = payload[opAt]!;
        cur.pos = opAt + 1;
        b = opcode & OPCODE_OP_MASK;
        c = (opcode >>> OPCODE_OUTCOME_SHIFT) & OPCODE_OUTCOME_MASK;
        if (c >= RESOURCE_OUTCOME_COUNT) throw new DecodeError(base + opAt, `unknown resource outcome ${c}`);
        const inline = opcode >>> OPCODE_LEVEL_SHIFT;
        v = inline !== 0 ? inline - 1 : readVarU32(payload, cur, end, base);
        break;
      }
      case 0x10 satisfies Tag<"RES_DROP">:
        task = current;
        a = readVarU32(payload, cur, end, base);
        resource = a;
        break;
      case 0x12 satisfies Tag<"FLOW_END">:
      case 0x15 satisfies Tag<"MARK">:
      case 0x1a satisfies Tag<"ISR_ENTER">:
      case 0x1b satisfies Tag<"ISR_EXIT">:
        task = current;
        a = readVarU32(payload, cur, end, base);
        break;
      case 0x14 satisfies Tag<"LOG">: {
        task = current;
        a = readVarU32(payload, cur, end, base);
        const metaAt = cur.pos;
        if (metaAt >= end) throw new DecodeError(base + at, "truncated LOG event");
        const meta = payload[metaAt]!;
        cur.pos = metaAt + 1;
        b = meta >>> LOG_META_LEVEL_SHIFT;
        c = meta & LOG_META_ARGC_MASK;
        if (c > MAX_LOG_ARGS) throw new DecodeError(base + metaAt, `LOG argc ${c} above ${MAX_LOG_ARGS}`);
        if (b > MAX_LOG_LEVEL) throw new DecodeError(base + metaAt, `LOG level ${b} above ${MAX_LOG_LEVEL}`);
        kindCol[row] = tag;
        tCol[row] = t;
        taskCol[row] = task;
        aCol[row] = a;
        bCol[row] = b;
        cCol[row] = c;
        vCol[row] = 0;
        row++;
        for (let i = 0; i < c; i++) extraRow(LOG_ARG, t, task, readZigzag64(payload, cur, end, base));
        events++;
        continue;
      }
      case 0x16 satisfies Tag<"COUNTER">:
        task = current;
        a = readVarU32(payload, cur, end, base);
        v = readZigzag64(payload, cur, end, base);
        break;
      case 0x17 satisfies Tag<"MEM">:
        task = readVarU32(payload, cur, end, base);
        v = readVarU32(payload, cur, end, base);
        break;
      case 0x18 satisfies Tag<"IDLE_BEGIN">:
      case 0x19 satisfies Tag<"IDLE_END">:
        task = current;
        break;
      case 0x1c satisfies Tag<"TIMER_ARM">: {
        task = current;
        a = readVarU32(payload, cur, end, base);
        resource = a;
        // The deadline travels as a signed distance from the event's own time.
        const due = ticks + readZigzag64(payload, cur, end, base);
        v = integerRate ? due * perTick : ticksToNs(due, tickHz);
        break;
      }
      case 0x1d satisfies Tag<"TIMER_FIRE">:
        task = readVarU32(payload, cur, end, base);
        a = readVarU32(payload, cur, end, base);
        resource = a;
        break;
      default:
        if (!v2 || !compactEventSpec(tag)) throw new DecodeError(base + at, `unknown event tag ${hexByte(tag)}`);
        decodeCompact: switch (tag) {
          // Compact forms (section 4.1): the first row is written below like any event's, the
          // rows after it by extra() once it is.
          case 0x20 satisfies CompactTag<"WAKER_CLONE_CURRENT">:
            kind = EVENT.WAKER_CLONE;
            task = current;
            break decodeCompact;
          case 0x21 satisfies CompactTag<"WAKE_TASK_DROP">:
          case 0x23 satisfies CompactTag<"WAKE_IRQ_DROP">:
            kind = tag - WAKE_DROP_OFFSET;
            task = readVarU32(payload, cur, end, base);
            a = readVarU32(payload, cur, end, base);
            then = EVENT.WAKER_DROP;
            break decodeCompact;
          case 0x22 satisfies CompactTag<"WAKE_SELF_DROP">:
            kind = EVENT.WAKE_SELF;
            task = readVarU32(payload, cur, end, base);
            a = task;
            then = EVENT.WAKER_DROP;
            break decodeCompact;
          case 0x24 satisfies CompactTag<"WAKE_EXT_DROP">:
            kind = EVENT.WAKE_EXT;
            task = readVarU32(payload, cur, end, base);
            then = EVENT.WAKER_DROP;
            break decodeCompact;
          case 0x25 satisfies CompactTag<"TIMER_FIRE_WAKE">:
            kind = EVENT.TIMER_FIRE;
            task = readVarU32(payload, cur, end, base);
            a = readVarU32(payload, cur, end, base);
            resource = a;
            then = EVENT.WAKE_EXT;
            break decodeCompact;
          case 0x26 satisfies CompactTag<"AWAIT_SAME">:
          case 0x28 satisfies CompactTag<"AWAIT_SAME_PENDING">:
            kind = EVENT.AWAIT;
            task = current;
            a = readVarU32(payload, cur, end, base);
            b = resource;
            if (tag === 0x28) then = EVENT.POLL_PENDING;
            break decodeCompact;
          case 0x27 satisfies CompactTag<"AWAIT_PENDING">:
            kind = EVENT.AWAIT;
            task = current;
            a = readVarU32(payload, cur, end, base);
            b = readVarU32(payload, cur, end, base);
            resource = b;
            then = EVENT.POLL_PENDING;
            break decodeCompact;
        }
    }

    kindCol[row] = kind;
    tCol[row] = t;
    taskCol[row] = task;
    aCol[row] = a;
    bCol[row] = b;
    cCol[row] = c;
    vCol[row] = v;
    row++;
    events++;
    if (then !== 0) {
      // (The extra events all take the first one's task: the polled task, or the woken one.)
      extraRow(then, t, task, 0);
      events++;
      if (then === EVENT.POLL_PENDING) current = 0;
      if (then === EVENT.WAKE_EXT) {
        extraRow(EVENT.WAKER_DROP, t, task, 0); // TIMER_FIRE_WAKE: the wake, then the timer's waker dropped
        events++;
      }
    }
  }

  out.length = row;
  return { seq, baseTicks, contextTask, contextResource, events };
}

/** Chunk seq `a` comes after `b` in u32 sequence arithmetic (sequence numbers wrap). */
export function seqAfter(a: number, b: number): boolean {
  const d = (a - b) >>> 0;
  return d !== 0 && d < 0x80000000;
}
