// Test helper: reads a Perfetto protobuf trace with Perfetto's published schema
// (test/proto/perfetto_trace.proto) through protobufjs, independently of the exporter's encoder,
// and replays it the way Perfetto's trace processor does: incremental state and interning per
// packet sequence, the sequence's default clock converted through its clock snapshot, track
// descriptors, slices matched begin to end on each track, flows from their start to their end.
// Throws on the first rule the trace breaks.

import { join } from "node:path";
import protobuf from "protobufjs";
import { ROOT } from "./core-harness.js";

type Obj = Record<string, unknown>;

export interface Track {
  uuid: number;
  name: string;
  parent: number | undefined;
  process: { pid: number; name: string } | undefined;
  counter: boolean;
}

export type Args = Record<string, string | number | boolean | (string | number)[]>;

export interface Slice {
  track: number;
  name: string;
  category: string;
  /** Unix ns (through the clock snapshot). */
  begin: bigint;
  end: bigint;
  depth: number;
  args: Args;
}

export interface Instant {
  track: number;
  name: string;
  category: string;
  at: bigint;
  args: Args;
  /** The slice open on its track at its time, if any. */
  within: Slice | undefined;
}

export interface Flow {
  id: number;
  /** Where it starts (an instant) and the slice it ends at. */
  from: Instant;
  to: Slice;
}

export interface PerfettoTrace {
  packets: number;
  tracks: Map<number, Track>;
  slices: Slice[];
  instants: Instant[];
  counters: { track: number; at: bigint; value: number }[];
  flows: Flow[];
  /** Per sequence: device ns and Unix ns of its clock snapshot. */
  clocks: Map<number, { device: bigint; unix: bigint }>;
}

let schema: protobuf.Type | undefined;

function traceType(): protobuf.Type {
  schema ??= protobuf.loadSync(join(ROOT, "test/proto/perfetto_trace.proto")).lookupType("perfetto.protos.Trace");
  return schema;
}

const DEVICE_CLOCK = 64;
const REALTIME = 1;

interface SequenceState {
  cleared: boolean;
  defaultClock: number | undefined;
  names: Map<number, string>;
  categories: Map<number, string>;
  argNames: Map<number, string>;
  argValues: Map<number, string>;
}

export function readPerfetto(bytes: Uint8Array): PerfettoTrace {
  const trace = traceType().toObject(traceType().decode(bytes), { longs: String, enums: String, bytes: String, defaults: false }) as { packet?: Obj[] };
  const packets = trace.packet ?? [];
  const tracks = new Map<number, Track>();
  const clocks = new Map<number, { device: bigint; unix: bigint }>();
  const sequences = new Map<number, SequenceState>();
  type Event = { seq: number; ts: bigint; ev: Obj; order: number };
  const events: Event[] = [];

  packets.forEach((p, order) => {
    const seq = Number(p["trustedPacketSequenceId"] ?? 0);
    if (seq === 0) throw new Error(`packet ${order}: no sequence id`);
    let st = sequences.get(seq);
    if (!st) sequences.set(seq, (st = { cleared: false, defaultClock: undefined, names: new Map(), categories: new Map(), argNames: new Map(), argValues: new Map() }));
    const flags = Number(p["sequenceFlags"] ?? 0);
    if (flags & 1) {
      st.cleared = true;
      st.names.clear();
      st.categories.clear();
      st.argNames.clear();
      st.argValues.clear();
    }
    if (flags & 2 && !st.cleared) throw new Error(`packet ${order}: needs incremental state before any packet cleared it`);
    const defaults = p["tracePacketDefaults"] as Obj | undefined;
    if (defaults) st.defaultClock = Number(defaults["timestampClockId"]);
    const interned = p["internedData"] as Obj | undefined;
    if (interned) {
      if (!st.cleared) throw new Error(`packet ${order}: interned data before the incremental state was cleared`);
      const take = (list: unknown, into: Map<number, string>, key: string) => {
        for (const e of (list as Obj[] | undefined) ?? []) {
          const iid = Number(e["iid"]);
          if (into.has(iid)) throw new Error(`packet ${order}: iid ${iid} interned twice`);
          into.set(iid, key === "str" ? Buffer.from(String(e["str"]), "base64").toString("utf8") : String(e[key]));
        }
      };
      take(interned["eventNames"], st.names, "name");
      take(interned["eventCategories"], st.categories, "name");
      take(interned["debugAnnotationNames"], st.argNames, "name");
      take(interned["debugAnnotationStringValues"], st.argValues, "str");
    }
    const snap = p["clockSnapshot"] as Obj | undefined;
    if (snap) {
      if (snap["primaryTraceClock"] !== "BUILTIN_CLOCK_REALTIME") throw new Error("the primary trace clock is not REALTIME");
      const c = (snap["clocks"] as Obj[]).map((x) => [Number(x["clockId"]), BigInt(String(x["timestamp"] ?? "0"))] as const);
      const device = c.find(([id]) => id === DEVICE_CLOCK);
      const unix = c.find(([id]) => id === REALTIME);
      if (!device || !unix) throw new Error("a clock snapshot without the device clock and REALTIME");
      clocks.set(seq, { device: device[1], unix: unix[1] });
    }
    const td = p["trackDescriptor"] as Obj | undefined;
    if (td) {
      const uuid = Number(td["uuid"]);
      if (tracks.has(uuid)) throw new Error(`track ${uuid} described twice`);
      const proc = td["process"] as Obj | undefined;
      tracks.set(uuid, {
        uuid,
        name: String(td["name"] ?? ""),
        parent: td["parentUuid"] === undefined ? undefined : Number(td["parentUuid"]),
        process: proc ? { pid: Number(proc["pid"]), name: String(proc["processName"]) } : undefined,
        counter: td["counter"] !== undefined,
      });
    }
    const te = p["trackEvent"] as Obj | undefined;
    if (te) {
      if (!(flags & 2)) throw new Error(`packet ${order}: a track event that does not say it needs the incremental state`);
      if (st.defaultClock !== DEVICE_CLOCK || p["timestampClockId"] !== undefined) throw new Error(`packet ${order}: not on the sequence's device clock`);
      // Resolve interned names now: later packets may not change them, but the table is the
      // sequence's as of this packet.
      const resolved: Obj = { ...te };
      if (te["nameIid"] !== undefined) resolved["name"] = lookup(st.names, te["nameIid"], order, "name");
      resolved["category"] = ((te["categoryIids"] as unknown[] | undefined) ?? []).map((c) => lookup(st.categories, c, order, "category")).join(",");
      resolved["args"] = args((te["debugAnnotations"] as Obj[] | undefined) ?? [], st, order);
      events.push({ seq, ts: BigInt(String(p["timestamp"] ?? "0")), ev: resolved, order });
    }
  });

  // The trace processor sorts events by time (stable): replay them in that order.
  const toUnix = (seq: number, ts: bigint) => {
    const c = clocks.get(seq);
    if (!c) throw new Error(`sequence ${seq} has no clock snapshot`);
    return c.unix + (ts - c.device);
  };
  events.sort((a, b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : a.order - b.order));
  const stacks = new Map<number, Slice[]>();
  const slices: Slice[] = [];
  const instants: Instant[] = [];
  const counters: PerfettoTrace["counters"] = [];
  const flowStarts = new Map<number, Instant>();
  const flows: Flow[] = [];
  for (const { seq, ts, ev, order } of events) {
    const track = Number(ev["trackUuid"]);
    const t = tracks.get(track);
    if (!t) throw new Error(`packet ${order}: track ${track} was never described`);
    const at = toUnix(seq, ts);
    const stack = stacks.get(track) ?? [];
    stacks.set(track, stack);
    const flowIds = ((ev["flowIds"] as unknown[] | undefined) ?? []).map(Number);
    const ends = ((ev["terminatingFlowIds"] as unknown[] | undefined) ?? []).map(Number);
    const endFlows = (slice: Slice) => {
      for (const id of ends) {
        const from = flowStarts.get(id);
        if (!from) throw new Error(`packet ${order}: flow ${id} ends before it starts`);
        flowStarts.delete(id);
        flows.push({ id, from, to: slice });
      }
    };
    switch (ev["type"]) {
      case "TYPE_SLICE_BEGIN": {
        if (t.counter) throw new Error(`packet ${order}: a slice on counter track ${t.name}`);
        if (!ev["name"]) throw new Error(`packet ${order}: an unnamed slice`);
        const slice: Slice = { track, name: String(ev["name"]), category: String(ev["category"]), begin: at, end: -1n, depth: stack.length, args: ev["args"] as Args };
        stack.push(slice);
        slices.push(slice);
        endFlows(slice);
        break;
      }
      case "TYPE_SLICE_END": {
        const slice = stack.pop();
        if (!slice) throw new Error(`packet ${order}: a slice end on ${t.name} with no slice open`);
        slice.end = at;
        Object.assign(slice.args, ev["args"] as Args);
        endFlows(slice);
        break;
      }
      case "TYPE_INSTANT": {
        const instant: Instant = { track, name: String(ev["name"]), category: String(ev["category"]), at, args: ev["args"] as Args, within: stack.at(-1) };
        instants.push(instant);
        for (const id of flowIds) {
          if (flowStarts.has(id) || flows.some((f) => f.id === id)) throw new Error(`packet ${order}: flow ${id} starts twice`);
          flowStarts.set(id, instant);
        }
        break;
      }
      case "TYPE_COUNTER": {
        if (!t.counter) throw new Error(`packet ${order}: a counter value on ${t.name}, not a counter track`);
        const value = ev["counterValue"] !== undefined ? Number(ev["counterValue"]) : Number(ev["doubleCounterValue"]);
        if (!Number.isFinite(value)) throw new Error(`packet ${order}: counter without a value`);
        counters.push({ track, at, value });
        break;
      }
      default:
        throw new Error(`packet ${order}: track event type ${String(ev["type"])}`);
    }
  }
  for (const [track, stack] of stacks) if (stack.length > 0) throw new Error(`track ${tracks.get(track)!.name}: ${stack.length} slices never end (${stack[0]!.name})`);
  if (flowStarts.size > 0) throw new Error(`${flowStarts.size} flows never end`);
  for (const t of tracks.values()) if (t.parent !== undefined && !tracks.has(t.parent)) throw new Error(`track ${t.name}: parent ${t.parent} not described`);
  return { packets: packets.length, tracks, slices, instants, counters, flows, clocks };
}

function lookup(table: Map<number, string>, iid: unknown, order: number, what: string): string {
  const text = table.get(Number(iid));
  if (text === undefined) throw new Error(`packet ${order}: ${what} iid ${String(iid)} was not interned`);
  return text;
}

function args(list: Obj[], st: SequenceState, order: number): Args {
  const out: Args = {};
  for (const a of list) out[lookup(st.argNames, a["nameIid"], order, "argument name")] = value(a, st, order);
  return out;
}

function value(a: Obj, st: SequenceState, order: number): string | number | boolean | (string | number)[] {
  if (a["stringValue"] !== undefined) return String(a["stringValue"]);
  if (a["stringValueIid"] !== undefined) return lookup(st.argValues, a["stringValueIid"], order, "argument value");
  if (a["intValue"] !== undefined) return Number(a["intValue"]);
  if (a["uintValue"] !== undefined) return Number(a["uintValue"]);
  if (a["doubleValue"] !== undefined) return Number(a["doubleValue"]);
  if (a["boolValue"] !== undefined) return Boolean(a["boolValue"]);
  if (a["arrayValues"] !== undefined) return (a["arrayValues"] as Obj[]).map((x) => value(x, st, order) as string | number);
  throw new Error(`packet ${order}: an argument without a value`);
}

/** The tracks from `uuid` up to its root, names joined by " / ". */
export function trackPath(trace: PerfettoTrace, uuid: number): string {
  const names: string[] = [];
  for (let t = trace.tracks.get(uuid); t; t = t.parent === undefined ? undefined : trace.tracks.get(t.parent)) names.unshift(t.name);
  return names.join(" / ");
}
