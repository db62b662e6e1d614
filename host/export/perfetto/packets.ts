// Perfetto's protobuf trace format, written directly: a Trace is a sequence of TracePacket fields
// (protos/perfetto/trace/trace.proto, field 1), each packet one track descriptor, track event or
// clock snapshot. Field numbers are from Perfetto's published .proto files (test/proto/ holds
// them; a test decodes what this writes with them, independently of this code):
//
//   TracePacket: timestamp 8, trusted_packet_sequence_id 10, track_event 11, interned_data 12,
//     sequence_flags 13, clock_snapshot 6, trace_packet_defaults 59, track_descriptor 60,
//     first_packet_on_sequence 87
//   TrackEvent: category_iids 3, debug_annotations 4, type 9, name_iid 10, track_uuid 11,
//     name 23, counter_value 30, double_counter_value 44, flow_ids 47, terminating_flow_ids 48
//   TrackDescriptor: uuid 1, name 2, process 3, parent_uuid 5, counter 8, child_ordering 11,
//     sibling_order_rank 12
//   DebugAnnotation: name_iid 1, bool_value 2, int_value 4, double_value 5, string_value 6,
//     array_values 12, string_value_iid 17
//   InternedData: event_categories 1, event_names 2, debug_annotation_names 3 ({iid 1, name 2}),
//     debug_annotation_string_values 29 ({iid 1, str 2})
//   ClockSnapshot: clocks 1 ({clock_id 1, timestamp 2}), primary_trace_clock 2
//
// Each device session is one packet sequence with its own clock: timestamps are the device's
// nanoseconds (sequence-scoped clock 64, the sequence's default), and the sequence's clock
// snapshot ties that clock to REALTIME (Unix ns, from the session's clock anchor), which is the
// trace's primary clock. Strings used again and again (event names, categories, argument keys and
// the values of some arguments) are interned per sequence.

import type { OutputFile } from "../output.js";
import { ProtoWriter, WIRE, utf8 } from "../proto-writer.js";

export const TYPE = { sliceBegin: 1, sliceEnd: 2, instant: 3, counter: 4 } as const;

/** The device clock of a sequence (a user-defined, sequence-scoped clock id). */
const DEVICE_CLOCK = 64;
const REALTIME = 1;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const CHILD_ORDERING_CHRONOLOGICAL = 2;
const COUNTER_UNIT = { count: 2, bytes: 3 } as const;

const FLUSH_BYTES = 1 << 20;
/** Room made at a track event's start: its header and a few small fields. */
const EVENT_ROOM = 64;
const TWO_28 = 0x1000_0000;
/** 2^-28: multiplying by it divides by 2^28 exactly, and faster than a division. */
const INV_TWO_28 = 1 / TWO_28;
const TWO_32 = 0x1_0000_0000;
const TWO_53 = 2 ** 53;

// Tags written as bytes (field * 8 + wire type).
const PACKET_TAG = 0x0a; // Trace.packet, bytes
const SEQUENCE_TAG = 0x50; // trusted_packet_sequence_id (10), varint
const TIMESTAMP_TAG = 0x40; // timestamp (8), varint
const FLAGS_TAG = 0x68; // sequence_flags (13), varint
const TRACK_EVENT_TAG = 0x5a; // track_event (11), bytes
const TYPE_TAG = 0x48; // TrackEvent.type (9), varint
const TRACK_TAG = 0x58; // TrackEvent.track_uuid (11), varint
const NAME_IID_TAG = 0x50; // TrackEvent.name_iid (10), varint
const CATEGORY_TAG = 0x18; // TrackEvent.category_iids (3), varint
const ANNOTATION_TAG = 0x22; // TrackEvent.debug_annotations (4), bytes
const ANNOTATION_NAME_TAG = 0x08; // DebugAnnotation.name_iid (1), varint
const INT_VALUE_TAG = 0x20; // DebugAnnotation.int_value (4), varint
const STRING_VALUE_IID_TAG = 0x0188; // DebugAnnotation.string_value_iid (17), varint: 0x88 0x01
const BOOL_VALUE_TAG = 0x10; // DebugAnnotation.bool_value (2), varint
const STRING_VALUE_TAG = 0x32; // DebugAnnotation.string_value (6), bytes
/** Longest string value written with one-byte lengths: the annotation (4 bytes of key and tags,
 *  then the text) stays under 128 bytes. */
const SHORT_STRING = 0x7f - 4;
/** The text of a task label (`name (task id)`) around the name and the id. */
const TASK_LABEL_OPEN = " (task ";
const TASK_LABEL_TEXT = TASK_LABEL_OPEN.length + 1;
const TASK_LABEL_BYTES = utf8(TASK_LABEL_OPEN);
const FLOW_TAG = [0xf9, 0x02] as const; // TrackEvent.flow_ids (47), fixed64
const COUNTER_VALUE_TAG = [0xf0, 0x01] as const; // TrackEvent.counter_value (30), varint
const TERMINATING_FLOW_TAG = [0x81, 0x03] as const; // TrackEvent.terminating_flow_ids (48), fixed64

let fixedSlots = 0;

/**
 * A string written interned (an event name, category, argument key or value). A fixed one (made
 * once, at module load) has a slot: its iid is found by the slot in each sequence's table, not
 * by looking the text up for every event.
 */
export class Interned {
  private constructor(
    readonly text: string,
    /** Its place in each table's slot array, or -1: looked up by text. */
    readonly slot: number,
  ) {}

  /** A string that never changes (made once, not per event: each one takes a slot). */
  static fixed(text: string): Interned {
    return new Interned(text, fixedSlots++);
  }

  /** A string made at run time (a lint's evidence key). */
  static of(text: string): Interned {
    return new Interned(text, -1);
  }
}

/** Strings interned by the packet being written, in all the tables of its sequence (0: the
 *  packet ends with no interned data, without looking at each table). */
interface Fresh {
  strings: number;
}

/** Interned strings of one sequence: iid by string, and the ones not yet written. */
class InternTable {
  readonly ids = new Map<string, number>();
  /** New entries for the packet being written: iid, string. */
  readonly pending: (number | string)[] = [];
  /** The iids of fixed strings, by slot (0: not interned yet). */
  private readonly slots = new Int32Array(fixedSlots);

  constructor(private readonly fresh: Fresh) {}

  iid(text: string): number {
    let iid = this.ids.get(text);
    if (iid === undefined) {
      iid = this.ids.size + 1;
      this.ids.set(text, iid);
      this.pending.push(iid, text);
      this.fresh.strings++;
    }
    return iid;
  }

  of(s: Interned): number {
    const slot = s.slot;
    if (slot < 0 || slot >= this.slots.length) return this.iid(s.text);
    const iid = this.slots[slot]!;
    if (iid !== 0) return iid;
    return (this.slots[slot] = this.iid(s.text));
  }
}

interface Sequence {
  id: number;
  fresh: Fresh;
  names: InternTable;
  categories: InternTable;
  argNames: InternTable;
  argValues: InternTable;
}

export interface TrackSpec {
  uuid: number;
  name: string;
  parent?: number;
  /** A process track (the session). */
  process?: { pid: number; name: string };
  counter?: "count" | "bytes";
  /** Children in order of their first event. */
  chronological?: boolean;
}

/**
 * Writes packets for one file. Track events are written field by field so nothing is allocated
 * per event: `event(...)`, then any of `name*`, `category`, `arg*`, `flow*`, `counterValue`,
 * then `done()`. Hot fields are written as bytes straight into the buffer (their tags are
 * constants above), and their lengths are known before they are written.
 */
export class PacketWriter {
  private readonly w = new ProtoWriter(FLUSH_BYTES + (FLUSH_BYTES >> 2));
  private readonly sequences = new Map<number, Sequence>();
  private seq: Sequence | undefined;
  private packetAt = 0;
  /** The open track event's length position, or -1. */
  private eventAt = -1;
  private arrayAt = -1;
  packets = 0;
  private written = 0;

  constructor(private readonly out: OutputFile) {}

  /** Bytes handed to the output so far. */
  get bytes(): number {
    return this.written + this.w.pos;
  }

  /** Opens a sequence: clears its incremental state, makes the device clock its default, and
   *  ties that clock to Unix time (`deviceNs` on the device is `unixNs`). */
  startSequence(id: number, deviceNs: number, unixNs: bigint): void {
    const fresh: Fresh = { strings: 0 };
    const s: Sequence = {
      id, fresh, names: new InternTable(fresh), categories: new InternTable(fresh), argNames: new InternTable(fresh), argValues: new InternTable(fresh),
    };
    this.sequences.set(id, s);
    const w = this.w;
    // The clock snapshot first, so every timestamp on the sequence can be converted.
    let p = this.packet(s);
    w.tag(6, WIRE.bytes);
    const snap = w.begin();
    w.tag(1, WIRE.bytes);
    let c = w.begin();
    w.tag(1, WIRE.varint);
    w.varint(DEVICE_CLOCK);
    w.tag(2, WIRE.varint);
    w.varint(Math.max(0, Math.round(deviceNs)));
    w.end(c);
    w.tag(1, WIRE.bytes);
    c = w.begin();
    w.tag(1, WIRE.varint);
    w.varint(REALTIME);
    w.tag(2, WIRE.varint);
    w.varintBig(unixNs < 0n ? 0n : unixNs);
    w.end(c);
    w.tag(2, WIRE.varint);
    w.varint(REALTIME);
    w.end(snap);
    w.tag(87, WIRE.varint);
    w.varint(1);
    this.endPacket(p);
    // Then the defaults, with the incremental state (interning) starting here.
    p = this.packet(s);
    w.tag(13, WIRE.varint);
    w.varint(SEQ_INCREMENTAL_STATE_CLEARED);
    w.tag(59, WIRE.bytes);
    const d = w.begin();
    w.tag(58, WIRE.varint);
    w.varint(DEVICE_CLOCK);
    w.end(d);
    this.endPacket(p);
  }

  track(sequence: number, t: TrackSpec): void {
    if (this.eventAt >= 0) throw new Error("a track descriptor inside a track event");
    const w = this.w;
    const p = this.packet(this.sequence(sequence));
    w.tag(60, WIRE.bytes);
    const d = w.begin();
    w.tag(1, WIRE.varint);
    w.varint(t.uuid);
    if (t.parent !== undefined) {
      w.tag(5, WIRE.varint);
      w.varint(t.parent);
    }
    w.tag(2, WIRE.bytes);
    w.string(t.name);
    if (t.process) {
      w.tag(3, WIRE.bytes);
      const pd = w.begin();
      w.tag(1, WIRE.varint);
      w.varint(t.process.pid);
      w.tag(6, WIRE.bytes);
      w.string(t.process.name);
      w.end(pd);
    }
    if (t.counter) {
      w.tag(8, WIRE.bytes);
      const cd = w.begin();
      w.tag(3, WIRE.varint);
      w.varint(COUNTER_UNIT[t.counter]);
      w.end(cd);
    }
    if (t.chronological) {
      w.tag(11, WIRE.varint);
      w.varint(CHILD_ORDERING_CHRONOLOGICAL);
    }
    w.end(d);
    this.endPacket(p);
  }

  /** Starts a track event at device time `ts` (ns) on `track`: the packet's header and the
   *  event's type and track, as bytes. */
  event(sequence: number, ts: number, type: number, track: number): void {
    if (this.eventAt >= 0) throw new Error("a track event inside a track event");
    let s = this.seq;
    if (s === undefined || s.id !== sequence) s = this.sequence(sequence);
    const w = this.w;
    if (w.pos >= FLUSH_BYTES) this.flush();
    this.seq = s;
    if (w.pos + EVENT_ROOM > w.buf.length) w.ensure(EVENT_ROOM);
    // Written without calls (this runs for every packet): the sequence id, type and track are
    // almost always one or two bytes, the time five to seven.
    const b = w.buf;
    let p = w.pos;
    b[p++] = PACKET_TAG;
    this.packetAt = p++;
    b[p++] = SEQUENCE_TAG;
    const id = s.id;
    if (id < 0x80) b[p++] = id;
    else p = putUint(b, p, id);
    b[p++] = TIMESTAMP_TAG;
    // The time is past 2^31 after a few seconds: handed on to a function, the double would be
    // boxed (a heap number per event). Its low 28 bits are written here as 32-bit integers.
    const v = ts > 0 ? Math.round(ts) : 0;
    if (v < TWO_28) {
      let x = v | 0;
      while (x > 0x7f) {
        b[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      b[p++] = x;
    } else if (v < TWO_53) {
      let x = (v * INV_TWO_28) | 0; // (exact: a power of two; below 2^25, so |0 is the floor)
      const lo = v | 0; // its low 32 bits (ToInt32 is modular), of which 28 are written here
      b[p++] = (lo & 0x7f) | 0x80;
      b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
      b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
      while (x > 0x7f) {
        b[p++] = (x & 0x7f) | 0x80;
        x >>>= 7;
      }
      b[p++] = x;
    } else p = putUint(b, p, v);
    b[p++] = FLAGS_TAG;
    b[p++] = SEQ_NEEDS_INCREMENTAL_STATE;
    b[p++] = TRACK_EVENT_TAG;
    this.eventAt = p++;
    b[p++] = TYPE_TAG;
    b[p++] = type;
    b[p++] = TRACK_TAG;
    if (track < 0x80) b[p++] = track;
    else if (track < 0x4000) {
      b[p++] = (track & 0x7f) | 0x80;
      b[p++] = track >>> 7;
    } else p = putUint(b, p, track);
    w.pos = p;
  }

  /** The iid of an event name in the open event's sequence (to keep with what it names: a
   *  lane's name is interned once, not looked up for every event on it). */
  internName(name: string): number {
    return this.seq!.names.iid(name);
  }

  /** A name interned before (`internName`). */
  nameIid(iid: number): void {
    this.smallField(NAME_IID_TAG, iid);
  }

  /** A name used again and again (interned). */
  nameStatic(name: Interned | string): void {
    const names = this.seq!.names;
    this.smallField(NAME_IID_TAG, typeof name === "string" ? names.iid(name) : names.of(name));
  }

  /** A name of its own (a log line's text, a lint's title). */
  name(name: string): void {
    this.w.tag(23, WIRE.bytes);
    this.w.string(name);
  }

  category(name: Interned): void {
    this.smallField(CATEGORY_TAG, this.seq!.categories.of(name));
  }

  argInt(key: Interned, value: number): void {
    if ((value >>> 0) !== value) return this.argNumber(key, value);
    this.varintArg(this.seq!.argNames.of(key), INT_VALUE_TAG, value);
  }

  argDouble(key: Interned, value: number): void {
    const a = this.arg(key);
    this.w.tag(5, WIRE.fixed64);
    this.w.double(value);
    this.w.end(a);
  }

  argBool(key: Interned, value: boolean): void {
    this.varintArg(this.seq!.argNames.of(key), BOOL_VALUE_TAG, value ? 1 : 0);
  }

  argString(key: Interned, value: string): void {
    const k = this.seq!.argNames.of(key);
    const n = value.length;
    if (k < 0x80 && n <= SHORT_STRING) {
      // A short ASCII value (most are): every length is one byte, known before the text.
      const w = this.w;
      const at = w.pos;
      if (at + n + 6 > w.buf.length) w.ensure(n + 6);
      const b = w.buf;
      if (ascii(b, at + 6, value)) {
        shortStringHead(b, at, k, n);
        w.pos = at + 6 + n;
        return;
      }
    }
    const a = this.arg(key);
    this.w.tag(6, WIRE.bytes);
    this.w.string(value);
    this.w.end(a);
  }

  /** A string argument `name (task id)`, written without making the string. */
  argTaskLabel(key: Interned, name: string, id: number): void {
    const k = this.seq!.argNames.of(key);
    const digits = decimalDigits(id);
    const n = name.length + TASK_LABEL_TEXT + digits;
    if (k < 0x80 && digits > 0 && n <= SHORT_STRING) {
      // As argString: a short ASCII label, written in one go.
      const w = this.w;
      const at = w.pos;
      if (at + n + 6 > w.buf.length) w.ensure(n + 6);
      const b = w.buf;
      let p = at + 6;
      if (ascii(b, p, name)) {
        p += name.length;
        for (let i = 0; i < TASK_LABEL_BYTES.length; i++) b[p++] = TASK_LABEL_BYTES[i]!;
        let v = id;
        for (let i = p + digits - 1; i >= p; i--) {
          const q = (v / 10) >>> 0; // (below 2^32: the truncation is the floor, without Math.floor)
          b[i] = 0x30 + (v - q * 10);
          v = q;
        }
        p += digits;
        b[p++] = 0x29; // ")"
        shortStringHead(b, at, k, n);
        w.pos = p;
        return;
      }
    }
    const a = this.arg(key);
    const w = this.w;
    w.tag(6, WIRE.bytes);
    const at = w.begin();
    w.text(name);
    w.text(" (task ");
    w.decimal(id);
    w.text(")");
    w.end(at);
    w.end(a);
  }

  /** A string argument whose value comes again and again (interned). */
  argStringStatic(key: Interned, value: Interned | string): void {
    const k = this.seq!.argNames.of(key);
    const values = this.seq!.argValues;
    this.internedArg(k, typeof value === "string" ? values.iid(value) : values.of(value));
  }

  /** The iid of an argument value in the open event's sequence (to keep with what it names). */
  internArgValue(value: string): number {
    return this.seq!.argValues.iid(value);
  }

  /** A string argument interned before (`internArgValue`). */
  argStringIid(key: Interned, iid: number): void {
    this.internedArg(this.seq!.argNames.of(key), iid);
  }

  /** An argument holding a list; add its items with `item*`, then `endArray`. */
  argArray(key: Interned): void {
    this.arrayAt = this.arg(key);
  }

  itemInt(value: number): void {
    const w = this.w;
    w.tag(12, WIRE.bytes);
    const i = w.begin();
    if (Number.isSafeInteger(value)) {
      w.tag(4, WIRE.varint);
      w.varint(value);
    } else {
      w.tag(5, WIRE.fixed64);
      w.double(value);
    }
    w.end(i);
  }

  itemString(value: string): void {
    const w = this.w;
    w.tag(12, WIRE.bytes);
    const i = w.begin();
    w.tag(6, WIRE.bytes);
    w.string(value);
    w.end(i);
  }

  endArray(): void {
    this.w.end(this.arrayAt);
    this.arrayAt = -1;
  }

  flow(id: number): void {
    this.flowField(FLOW_TAG, id);
  }

  terminatingFlow(id: number): void {
    this.flowField(TERMINATING_FLOW_TAG, id);
  }

  counterValue(value: number): void {
    if ((value >>> 0) === value) {
      const w = this.w;
      let p = w.pos;
      if (p + 12 > w.buf.length) w.ensure(12);
      const b = w.buf;
      b[p++] = COUNTER_VALUE_TAG[0];
      b[p++] = COUNTER_VALUE_TAG[1];
      if (value < 0x80) b[p++] = value;
      else p = putUint(b, p, value);
      w.pos = p;
    } else if (Number.isSafeInteger(value)) {
      this.w.tag(30, WIRE.varint);
      this.w.varint(value);
    } else {
      this.w.tag(44, WIRE.fixed64);
      this.w.double(value);
    }
  }

  /** Ends the event begun with `event`, with any strings it interned. */
  done(): void {
    const w = this.w;
    const s = this.seq!;
    const event = this.eventAt;
    this.eventAt = -1;
    if (s.fresh.strings === 0) {
      // Most packets: nothing interned, and a packet shorter than 128 bytes (so is its event):
      // both lengths are one byte, in the places kept for them.
      const p = w.pos;
      const packet = this.packetAt;
      if (p - packet - 1 < 0x80) {
        const b = w.buf;
        b[event] = p - event - 1;
        b[packet] = p - packet - 1;
        this.packets++;
        return;
      }
    }
    w.end(event);
    if (s.fresh.strings > 0) {
      w.tag(12, WIRE.bytes);
      const d = w.begin();
      this.interned(1, s.categories);
      this.interned(2, s.names);
      this.interned(3, s.argNames);
      this.interned(29, s.argValues);
      s.fresh.strings = 0;
      w.end(d);
    }
    this.endPacket(this.packetAt);
  }

  /** Writes what is buffered. */
  flush(): void {
    if (this.w.pos === 0) return;
    this.out.writeNow(this.w.buf.subarray(0, this.w.pos));
    this.written += this.w.pos;
    this.w.reset();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private sequence(id: number): Sequence {
    if (this.seq !== undefined && this.seq.id === id) return this.seq; // the one written last
    const s = this.sequences.get(id);
    if (!s) throw new Error(`packet sequence ${id} was not started`);
    return s;
  }

  /** Starts a TracePacket (Trace.packet, field 1) on sequence `s`. */
  private packet(s: Sequence): number {
    if (this.w.pos >= FLUSH_BYTES) this.flush();
    this.seq = s;
    const w = this.w;
    w.tag(1, WIRE.bytes);
    const at = w.begin();
    w.tag(10, WIRE.varint);
    w.varint(s.id);
    return at;
  }

  private endPacket(at: number): void {
    this.w.end(at);
    this.packets++;
  }

  /** Starts a debug annotation named `key`; returns what `end` takes. */
  private arg(key: Interned): number {
    const w = this.w;
    w.tag(4, WIRE.bytes);
    const a = w.begin();
    w.tag(1, WIRE.varint);
    w.varint(this.seq!.argNames.of(key));
    return a;
  }

  /** A number that is not an unsigned 32-bit integer: int64 varint, or a double. */
  private argNumber(key: Interned, value: number): void {
    if (!Number.isSafeInteger(value)) return this.argDouble(key, value);
    const a = this.arg(key);
    this.w.tag(4, WIRE.varint);
    this.w.varint(value);
    this.w.end(a);
  }

  /** An annotation with an interned string value: key and value iids. */
  private internedArg(k: number, v: number): void {
    this.varintArg(k, STRING_VALUE_IID_TAG, v);
  }

  /** An annotation named by iid `k` holding one varint field (`tag`: one or two bytes, the
   *  second shifted up by 8) of an unsigned 32-bit `value`: its length is known (at most 13). */
  private varintArg(k: number, tag: number, value: number): void {
    const w = this.w;
    let p = w.pos;
    // (The room checked here, not by a call: this runs for most packets.)
    if (p + 24 > w.buf.length) w.ensure(24);
    const b = w.buf;
    b[p++] = ANNOTATION_TAG;
    const at = p++;
    b[p++] = ANNOTATION_NAME_TAG;
    if (k < 0x80) b[p++] = k;
    else p = putUint(b, p, k);
    b[p++] = tag & 0xff;
    if (tag > 0xff) b[p++] = tag >>> 8;
    if (value < 0x80) b[p++] = value;
    else p = putUint(b, p, value);
    b[at] = p - at - 1;
    w.pos = p;
  }

  /** A varint field with a one-byte tag. */
  private smallField(tag: number, value: number): void {
    const w = this.w;
    let p = w.pos;
    if (p + 11 > w.buf.length) w.ensure(11);
    const b = w.buf;
    b[p++] = tag;
    if (value < 0x80) b[p++] = value;
    else p = putUint(b, p, value);
    w.pos = p;
  }

  private flowField(tag: readonly [number, number], id: number): void {
    const w = this.w;
    w.ensure(10);
    w.buf[w.pos++] = tag[0];
    w.buf[w.pos++] = tag[1];
    w.fixed64Number(id);
  }

  private interned(field: number, table: InternTable): void {
    const w = this.w;
    const p = table.pending;
    for (let i = 0; i < p.length; i += 2) {
      w.tag(field, WIRE.bytes);
      const e = w.begin();
      w.tag(1, WIRE.varint);
      w.varint(p[i] as number);
      w.tag(2, WIRE.bytes);
      w.string(p[i + 1] as string);
      w.end(e);
    }
    p.length = 0;
  }
}

/** The six bytes before a short string annotation's text at `at`: its tag and length, its name
 *  iid `k` and the string's tag and length `n` (each one byte: k < 128, n <= SHORT_STRING). */
function shortStringHead(b: Uint8Array, at: number, k: number, n: number): void {
  b[at] = ANNOTATION_TAG;
  b[at + 1] = n + 4;
  b[at + 2] = ANNOTATION_NAME_TAG;
  b[at + 3] = k;
  b[at + 4] = STRING_VALUE_TAG;
  b[at + 5] = n;
}

/** Copies `text` as bytes at `p` if it is all ASCII (then its UTF-8 is its characters); returns
 *  whether it was. The caller made room for it. */
function ascii(b: Uint8Array, p: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return false;
    b[p + i] = c;
  }
  return true;
}

/** Digits of a whole number below 2^32 written in decimal (as ProtoWriter.decimal writes it),
 *  0 for any other number. */
function decimalDigits(value: number): number {
  if (!(value >= 0 && value <= 0xffffffff && Number.isInteger(value))) return 0;
  let digits = 1;
  for (let x = value; x >= 10; x = (x / 10) >>> 0) digits++;
  return digits;
}

/** Writes `v` (a whole number >= 0; fractions are cut as varint() would after rounding) as a
 *  varint at `p`; returns the position after it. The caller made room for ten bytes. */
function putUint(b: Uint8Array, p: number, v: number): number {
  if (v < 0x80) {
    b[p] = v;
    return p + 1;
  }
  if (v < TWO_32) {
    let x = v >>> 0;
    while (x > 0x7f) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    return p;
  }
  if (v < TWO_53) {
    // The low 28 bits as four bytes, then the rest (below 2^25) as 32-bit integer steps.
    const hi = (v * INV_TWO_28) | 0;
    const lo = v - hi * TWO_28;
    b[p++] = (lo & 0x7f) | 0x80;
    b[p++] = ((lo >>> 7) & 0x7f) | 0x80;
    b[p++] = ((lo >>> 14) & 0x7f) | 0x80;
    b[p++] = ((lo >>> 21) & 0x7f) | 0x80;
    let x = hi;
    while (x > 0x7f) {
      b[p++] = (x & 0x7f) | 0x80;
      x >>>= 7;
    }
    b[p++] = x;
    return p;
  }
  // Past 2^53 (a time no device reaches): seven bits at a time, as doubles.
  while (v >= 0x80) {
    b[p++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  b[p++] = v;
  return p;
}
