// Resources (channels, mutexes, timers, io objects): capacity, fill level, how long a bounded
// channel stayed full, who holds a mutex, which tasks use each side, and how long tasks waited
// on it. One record per resource, updated in place.

import { RESOURCE_KINDS } from "../format/spec.js";
import { taskRef, type TaskRecord, type TaskRef } from "./tasks.js";
import { RecordSet } from "./id-table.js";

export type ResourceKind = (typeof RESOURCE_KINDS)[number]["name"] | "unknown";

/** Waits on one resource by tasks of one name at one site. */
export interface ResourceWaiter {
  taskName: string;
  /** The task of that name that waited longest in one go. */
  task: TaskRef;
  site: number;
  waits: number;
  waitNs: number;
  maxWaitNs: number;
}

export interface ResourceRecord {
  session: number;
  /** Position in TraceModel.resources. */
  index: number;
  id: number;
  kind: ResourceKind;
  name: string;
  capacity: number;
  /** Undefined when the RES_CREATE is not in the trace. */
  createdAt: number | undefined;
  droppedAt: number | undefined;
  level: number;
  maxLevel: number;
  ops: number;
  blockedOps: number;
  /** Channels: full (level >= capacity) since, NaN when not full. */
  fullSince: number;
  fullNs: number;
  longestFullNs: number;
  longestFullAt: number;
  /** Mutexes: the holding task, undefined when free or unknown. */
  holder: TaskRef | undefined;
  holderSince: number;
  /** Mutexes: the last HOLD_RING holds (task, from, to), to blame a wait on who held it longest. */
  holds: HoldRing | null;
  /** Tasks seen on each side (channels: send / recv; mutexes: acquire). Ended ones are pruned
   *  now and then, so these stay near the number of live users (memory bounded by them). */
  senders: RecordSet<TaskRecord>;
  receivers: RecordSet<TaskRecord>;
  /** Completed waits of tasks parked on this resource. */
  waits: number;
  waitNs: number;
  maxWaitNs: number;
  /** By task name and site (see waiterKey). */
  waiters: Map<number, ResourceWaiter>;
}

export function newResource(session: number, index: number, id: number): ResourceRecord {
  return {
    session,
    index,
    id,
    kind: "unknown",
    name: `resource ${id}`,
    capacity: 0,
    createdAt: undefined,
    droppedAt: undefined,
    level: 0,
    maxLevel: 0,
    ops: 0,
    blockedOps: 0,
    fullSince: Number.NaN,
    fullNs: 0,
    longestFullNs: 0,
    longestFullAt: 0,
    holder: undefined,
    holderSince: 0,
    holds: null,
    senders: new RecordSet(),
    receivers: new RecordSet(),
    waits: 0,
    waitNs: 0,
    maxWaitNs: 0,
    waiters: new Map(),
  };
}

export function resourceKindName(code: number): ResourceKind {
  return RESOURCE_KINDS.find((k) => k.code === code)?.name ?? "unknown";
}

/** A bounded channel's level changed at `t`: open or close a full interval. */
export function setLevel(r: ResourceRecord, level: number, t: number): void {
  r.level = level;
  if (level > r.maxLevel) r.maxLevel = level;
  if (r.kind !== "channel" || r.capacity <= 0) return;
  const full = level >= r.capacity;
  if (full && Number.isNaN(r.fullSince)) {
    r.fullSince = t;
  } else if (!full && !Number.isNaN(r.fullSince)) {
    closeFull(r, t);
    r.fullSince = Number.NaN;
  }
}

/** Accounts the open full interval up to `t` (it stays open). */
export function closeFull(r: ResourceRecord, t: number): void {
  const d = t - r.fullSince;
  r.fullNs += d;
  if (d > r.longestFullNs) {
    r.longestFullNs = d;
    r.longestFullAt = r.fullSince;
  }
}

/** Adds a task to one side's user set, pruning ended tasks when the set has doubled. */
export function addUser(set: RecordSet<TaskRecord>, task: TaskRecord): void {
  if (set.has(task)) return;
  set.add(task);
  if (set.size >= 64 && (set.size & (set.size - 1)) === 0) {
    set.deleteWhere(ended);
  }
}

const ended = (t: TaskRecord): boolean => t.endedAt !== undefined;

export function noteWait(r: ResourceRecord, task: TaskRecord, site: number, waitNs: number): void {
  r.waits++;
  r.waitNs += waitNs;
  if (waitNs > r.maxWaitNs) r.maxWaitNs = waitNs;
  const key = task.nameKey < 0x4000 && site < 0x4000 ? (task.nameKey << 14) | site : 0x1000_0000 + task.nameKey * 0x1_0000_0000 + site;
  let w = r.waiters.get(key);
  if (!w) {
    w = { taskName: task.name, task: taskRef(task), site, waits: 0, waitNs: 0, maxWaitNs: 0 };
    r.waiters.set(key, w);
  }
  w.waits++;
  w.waitNs += waitNs;
  if (waitNs > w.maxWaitNs) {
    w.maxWaitNs = waitNs;
    if (w.task.index !== task.index) w.task = taskRef(task);
  }
}

/** Holds remembered per mutex: enough to cover any wait behind a queue of short holds. */
export const HOLD_RING = 64;

export class HoldRing {
  private task: (TaskRef | undefined)[] = new Array(HOLD_RING);
  private from = new Float64Array(HOLD_RING);
  private to = new Float64Array(HOLD_RING);
  private next = 0;
  private count = 0;

  push(task: TaskRef, from: number, to: number): void {
    const k = this.next;
    this.task[k] = task;
    this.from[k] = from;
    this.to[k] = to;
    this.next = (k + 1) % HOLD_RING;
    if (this.count < HOLD_RING) this.count++;
  }

  /** Adds each remembered hold's overlap with [a, b] to blameHolder's tally. */
  overlaps(a: number, b: number): void {
    for (let j = 0; j < this.count; j++) {
      const k = (this.next - 1 - j + HOLD_RING) % HOLD_RING;
      if (this.to[k]! <= a) break; // holds are in time order: older ones ended even earlier
      const o = Math.min(b, this.to[k]!) - Math.max(a, this.from[k]!);
      if (o > 0) addHold(this.task[k]!, o);
    }
  }
}

/** A mutex changes hands at `t`: the current hold (if any) ends, `next` (undefined: nobody)
 *  holds it. */
export function changeHolder(r: ResourceRecord, next: TaskRef | undefined, t: number): void {
  if (r.holder) {
    r.holds ??= new HoldRing();
    r.holds.push(r.holder, r.holderSince, t);
  }
  r.holder = next;
  r.holderSince = t;
}

/** The task that held mutex `r` for most of [a, b] (undefined if nobody known did). */
// Scratch for blameHolder: the distinct holders seen and the time each held (at most the ring
// plus the current holder, so a linear search beats a map, and a blame allocates nothing).
const heldRef: (TaskRef | undefined)[] = new Array(HOLD_RING + 1);
const heldNs = new Float64Array(HOLD_RING + 1);
let heldCount = 0;

export function blameHolder(r: ResourceRecord, a: number, b: number): TaskRef | undefined {
  heldCount = 0;
  r.holds?.overlaps(a, b);
  if (r.holder) {
    const o = b - Math.max(a, r.holderSince);
    if (o > 0) addHold(r.holder, o);
  }
  let best: TaskRef | undefined;
  let most = 0;
  for (let i = 0; i < heldCount; i++) {
    if (heldNs[i]! > most) {
      most = heldNs[i]!;
      best = heldRef[i];
    }
    heldRef[i] = undefined; // no reference kept past the call
  }
  return best;
}

function addHold(ref: TaskRef, ns: number): void {
  for (let i = 0; i < heldCount; i++) {
    if (heldRef[i]!.index === ref.index) {
      heldNs[i] += ns;
      return;
    }
  }
  heldRef[heldCount] = ref;
  heldNs[heldCount++] = ns;
}
