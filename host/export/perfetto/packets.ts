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
import { ProtoWriter, WIRE } from "../proto-writer.js";

export const TYPE = { sliceBegin: 1, sliceEnd: 2, instant: 3, counter: 4 } as const;

/** The device clock of a sequence (a user-defined, sequence-scoped clock id). */
const DEVICE_CLOCK = 64;
const REALTIME = 1;
const SEQ_INCREMENTAL_STATE_CLEARED = 1;
const SEQ_NEEDS_INCREMENTAL_STATE = 2;
const CHILD_ORDERING_CHRONOLOGICAL = 2;
const COUNTER_UNIT = { count: 2, bytes: 3 } as const;

const FLUSH_BYTES = 1 << 20;

/** Interned strings of one sequence: iid by string, and the ones not yet written. */
class InternTable {
  readonly ids = new Map<string, number>();
  /** New entries for the packet being written: iid, string. */
  readonly pending: (number | string)[] = [];

  iid(text: string): number {
    let iid = this.ids.get(text);
    if (iid === undefined) {
      iid = this.ids.size + 1;
      this.ids.set(text, iid);
      this.pending.push(iid, text);
    }
    return iid;
  }
}

interface Sequence {
  id: number;
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
 * then `done()`.
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
    const s: Sequence = { id, names: new InternTable(), categories: new InternTable(), argNames: new InternTable(), argValues: new InternTable() };
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

  /** Starts a track event at device time `ts` (ns) on `track`. */
  event(sequence: number, ts: number, type: number, track: number): void {
    if (this.eventAt >= 0) throw new Error("a track event inside a track event");
    const w = this.w;
    const s = this.sequence(sequence);
    this.packetAt = this.packet(s);
    w.tag(8, WIRE.varint);
    // The timestamp's varint is written here: a double handed on to varint() would be boxed (a
    // heap number per event, most of what the export allocated).
    let v = ts > 0 ? Math.round(ts) : 0;
    w.ensure(10);
    const b = w.buf;
    let p = w.pos;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
    w.pos = p;
    w.tag(13, WIRE.varint);
    w.varint(SEQ_NEEDS_INCREMENTAL_STATE);
    w.tag(11, WIRE.bytes);
    this.eventAt = w.begin();
    w.tag(9, WIRE.varint);
    w.varint(type);
    w.tag(11, WIRE.varint);
    w.varint(track);
  }

  /** A name used again and again (interned). */
  nameStatic(name: string): void {
    this.w.tag(10, WIRE.varint);
    this.w.varint(this.seq!.names.iid(name));
  }

  /** A name of its own (a log line's text, a lint's title). */
  name(name: string): void {
    this.w.tag(23, WIRE.bytes);
    this.w.string(name);
  }

  category(name: string): void {
    this.w.tag(3, WIRE.varint);
    this.w.varint(this.seq!.categories.iid(name));
  }

  argInt(key: string, value: number): void {
    if (!Number.isSafeInteger(value)) return this.argDouble(key, value);
    const a = this.arg(key);
    this.w.tag(4, WIRE.varint);
    this.w.varint(value);
    this.w.end(a);
  }

  argDouble(key: string, value: number): void {
    const a = this.arg(key);
    this.w.tag(5, WIRE.fixed64);
    this.w.double(value);
    this.w.end(a);
  }

  argBool(key: string, value: boolean): void {
    const a = this.arg(key);
    this.w.tag(2, WIRE.varint);
    this.w.varint(value ? 1 : 0);
    this.w.end(a);
  }

  argString(key: string, value: string): void {
    const a = this.arg(key);
    this.w.tag(6, WIRE.bytes);
    this.w.string(value);
    this.w.end(a);
  }

  /** A string argument `name (task id)`, written without making the string. */
  argTaskLabel(key: string, name: string, id: number): void {
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
  argStringStatic(key: string, value: string): void {
    const a = this.arg(key);
    this.w.tag(17, WIRE.varint);
    this.w.varint(this.seq!.argValues.iid(value));
    this.w.end(a);
  }

  /** An argument holding a list; add its items with `item*`, then `endArray`. */
  argArray(key: string): void {
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
    this.w.tag(47, WIRE.fixed64);
    this.w.fixed64Number(id);
  }

  terminatingFlow(id: number): void {
    this.w.tag(48, WIRE.fixed64);
    this.w.fixed64Number(id);
  }

  counterValue(value: number): void {
    if (Number.isSafeInteger(value)) {
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
    w.end(this.eventAt);
    this.eventAt = -1;
    const s = this.seq!;
    if (s.names.pending.length + s.categories.pending.length + s.argNames.pending.length + s.argValues.pending.length > 0) {
      w.tag(12, WIRE.bytes);
      const d = w.begin();
      this.interned(1, s.categories);
      this.interned(2, s.names);
      this.interned(3, s.argNames);
      this.interned(29, s.argValues);
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

  private arg(key: string): number {
    const w = this.w;
    w.tag(4, WIRE.bytes);
    const a = w.begin();
    w.tag(1, WIRE.varint);
    w.varint(this.seq!.argNames.iid(key));
    return a;
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
