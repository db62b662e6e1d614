// Did the work overlap? Kept in the model's one pass (trace-model.ts calls these hooks; nothing
// here follows task state on its own), in memory bounded by what is alive plus a few figures per
// kind of request and per task name:
//
//   - per kind of request: how many were in flight (FLOW_BEGIN..FLOW_END) and how many were being
//     served (a live task's current flow is it) over time, and how much of the time the kind's
//     tasks spent parked overlapped another wait of the same request;
//   - per task: the flows it served and began, how many of its own were in flight and served at
//     once, and how much of its parked time overlapped another wait of the same request;
//   - the two shapes of the `serialized` lint: a task that takes turns awaiting independent I/O
//     on different resources (LoopTracker), and requests nominally in flight together that one
//     task served one at a time (per busy period of the kind, with a critical-path estimate);
//   - wait times per await site and resource (histograms, for --compare);
//   - CPU time per flow, split where a poll switches flows (FLOW_BEGIN/ENTER/END inside it).
//
// docs/REPORT.md sections 2 and 2.1 say what the figures mean and what could mislead them.

import { Gauge, type GaugeFigures } from "./gauge.js";
import { Histogram } from "./histogram.js";
import { taskRef, type TaskRecord, type TaskRef } from "./tasks.js";
import type { FlowKind, FlowRecord } from "./flows.js";
import type { ResourceRecord } from "./resources.js";

// ---- per task ----

/** TaskRecord.conc: created when a task first serves a flow or waits on I/O. */
export interface TaskConc {
  /** The flow it counts toward as a server (its current flow, while that is in flight). */
  served: FlowRecord | null;
  /** The flow it is parked for, and that flow's overlap clock when it parked. */
  parkedFor: FlowRecord | null;
  parkedMark: number;
  /** Start of the part of the running poll not yet charged to a flow, and what was charged. */
  segStart: number;
  pollCharged: number;
  /** Time parked on behalf of a flow, and the part of it another task of the same flow was parked too. */
  waitNs: number;
  overlappedNs: number;
  /** Flows entered (spawned into, begun, entered on a message). */
  flowsServed: number;
  /** Flows it began; how many of them were in flight at once; how many served at once. */
  flowsBegun: number;
  own: Gauge | null;
  ownServed: number;
  ownServedMax: number;
  loop: LoopTracker | null;
  /** I/O waits while they are all at one (site, resource): no LoopTracker until a second one. */
  ioSite: number;
  ioResource: number;
  ioWaits: number;
  ioWaitNs: number;
  ioFirstAt: number;
  ioLastEnd: number;
}

/** Counts an I/O wait; a task whose I/O waits are all at one place never allocates a tracker. */
function noteIo(c: TaskConc, site: number, resource: number, waitNs: number, parkedAt: number, t: number): void {
  if (c.loop === null) {
    if (c.ioWaits === 0 || (c.ioSite === site && c.ioResource === resource)) {
      if (c.ioWaits++ === 0) {
        c.ioSite = site;
        c.ioResource = resource;
        c.ioFirstAt = parkedAt;
      }
      c.ioWaitNs += waitNs;
      c.ioLastEnd = t;
      return;
    }
    c.loop = new LoopTracker();
    c.loop.seed(c.ioSite, c.ioResource, c.ioWaits, c.ioWaitNs, c.ioFirstAt, c.ioLastEnd);
  }
  c.loop.note(site, resource, waitNs, parkedAt, t);
}

function newTaskConc(): TaskConc {
  return {
    served: null, parkedFor: null, parkedMark: 0, segStart: Number.NaN, pollCharged: 0,
    waitNs: 0, overlappedNs: 0, flowsServed: 0, flowsBegun: 0, own: null, ownServed: 0, ownServedMax: 0, loop: null,
    ioSite: 0, ioResource: 0, ioWaits: 0, ioWaitNs: 0, ioFirstAt: 0, ioLastEnd: 0,
  };
}

/** Per-task figures as reports show them (a live task, or summed over a group of ended ones). */
export interface TaskConcFigures {
  flowsServed: number;
  flowsBegun: number;
  /** Its own flows in flight at once: most, and mean while any was. */
  ownInFlightMax: number;
  ownInFlightMean: number;
  /** Its own flows being served at once: most. */
  ownServedMax: number;
  waitNs: number;
  overlappedWaitNs: number;
}

export function taskConcFigures(c: TaskConc, at: number): TaskConcFigures {
  const own = c.own?.at(at);
  return {
    flowsServed: c.flowsServed, flowsBegun: c.flowsBegun, ownInFlightMax: own?.max ?? 0, ownInFlightMean: own?.mean ?? 0,
    ownServedMax: c.ownServedMax, waitNs: c.waitNs, overlappedWaitNs: c.overlappedNs,
  };
}

/** Folds an ended task's figures into its group's (sums; maxima; the mean of the means weighted by
 *  their in-flight time). `into` (the group's own) is updated in place: no objects per task. */
export function foldTaskConc(into: TaskConcFigures | null, c: TaskConc, at: number): TaskConcFigures {
  if (!into) return taskConcFigures(c, at);
  const own = c.own?.at(at);
  const ownMean = own?.mean ?? 0;
  const w = (into.ownInFlightMean > 0 ? 1 : 0) + (ownMean > 0 ? 1 : 0);
  into.flowsServed += c.flowsServed;
  into.flowsBegun += c.flowsBegun;
  into.ownInFlightMax = Math.max(into.ownInFlightMax, own?.max ?? 0);
  into.ownInFlightMean = w === 0 ? 0 : (into.ownInFlightMean + ownMean) / w;
  into.ownServedMax = Math.max(into.ownServedMax, c.ownServedMax);
  into.waitNs += c.waitNs;
  into.overlappedWaitNs += c.overlappedNs;
  return into;
}

// ---- per flow ----

/** Kept in each FlowRecord (which extends it). Only small integers and references: a number
 *  field that holds fractions costs V8 a heap allocation per record, and a trace holds a record
 *  per request (the flow's CPU is its busyNs, its waits are in its waits map). */
export interface FlowConc {
  /** Live tasks whose current flow it is. */
  servedBy: number;
  /** Tasks parked for it. */
  parked: number;
  /** Time with two or more of its tasks parked: created when that first happens. */
  multi: { ns: number; since: number } | null;
  /** Its owner's (the task that began it). */
  ownerConc: TaskConc | null;
  concEnded: boolean;
}

/** Time so far with two or more of the flow's tasks parked. */
function overlapClock(f: FlowConc, t: number): number {
  const m = f.multi;
  if (m === null) return 0;
  return f.concEnded || f.parked < 2 ? m.ns : m.ns + (t - m.since);
}

// ---- per kind of request ----

/** The current stretch of time with at least one flow of the kind in flight (one per kind, reused). */
interface Period {
  open: boolean;
  start: number;
  flows: number;
  /** Longest overlappable wait of one flow; CPU and exclusive waits of all (serial anyway);
   *  longest own work of one flow. */
  maxChainNs: number;
  serialNs: number;
  maxOwnNs: number;
  inFlightMax: number;
  /** The kind's in-flight and served overlap clocks when it began. */
  inFlightOverlapAt: number;
  servedOverlapAt: number;
  /** The task that served its flows (the first), and whether another did too. */
  server: TaskRef | undefined;
  servers: number;
}

/** Periods where the kind's flows were in flight together but served one at a time. */
export interface SerialFanOut {
  periods: number;
  flows: number;
  /** Their total length, and what it would have been with the flows' work overlapped. */
  measuredNs: number;
  estimateNs: number;
  /** Serial parts (CPU, exclusive waits) and the sum of the periods' longest overlappable waits. */
  serialNs: number;
  chainNs: number;
  inFlightMax: number;
  server: TaskRef | undefined;
  /** Periods served by more than one task. */
  otherServers: number;
  /** Per period: its length and its estimate (medians are what a host stall in one burst
   *  cannot move). */
  periodNs: Histogram;
  periodEstimateNs: Histogram;
}

/** FlowKind.conc. */
export interface KindConc {
  inFlight: Gauge;
  served: Gauge;
  /** Time the kind's tasks spent parked for its flows, and the part another task of the same
   *  flow was parked too. */
  waitNs: number;
  overlappedWaitNs: number;
  period: Period;
  /** Length of the periods with two or more in flight (serial or not). */
  multiPeriodNs: number;
  serial: SerialFanOut;
  /** The first MAX_SPANS finished flows: begin and end, in pairs. */
  spans: number[];
  spansDropped: number;
}

/** Flow spans listed per kind. */
export const MAX_SPANS = 200;
/** A period is served one at a time when two or more were served at once for at most this share
 *  of the time two or more were in flight. */
const SERIAL_SHARE = 0.1;

function newKindConc(): KindConc {
  // The sums of ns are made -0 and then set to 0: -0 makes V8 store them as doubles from the start,
  // so a sum that passes 2^31 mid-run changes no object shape (a change deoptimizes every compiled
  // function that touched one of these objects, and they are recompiled).
  const k: KindConc = {
    inFlight: new Gauge(true), served: new Gauge(), waitNs: -0, overlappedWaitNs: -0, multiPeriodNs: -0,
    period: {
      open: false, start: -0, flows: 0, maxChainNs: -0, serialNs: -0, maxOwnNs: -0, inFlightMax: 0, inFlightOverlapAt: -0, servedOverlapAt: -0,
      server: undefined, servers: 0,
    },
    serial: {
      periods: 0, flows: 0, measuredNs: -0, estimateNs: -0, serialNs: -0, chainNs: -0, inFlightMax: 0, server: undefined, otherServers: 0,
      periodNs: new Histogram(), periodEstimateNs: new Histogram(),
    },
    spans: [], spansDropped: 0,
  };
  k.waitNs = k.overlappedWaitNs = k.multiPeriodNs = 0;
  const p = k.period;
  p.start = p.maxChainNs = p.serialNs = p.maxOwnNs = p.inFlightOverlapAt = p.servedOverlapAt = 0;
  const s = k.serial;
  s.measuredNs = s.estimateNs = s.serialNs = s.chainNs = 0;
  return k;
}

export interface KindConcFigures {
  inFlight: GaugeFigures;
  served: GaugeFigures;
  waitNs: number;
  overlappedWaitNs: number;
}

export function kindConcFigures(k: KindConc, at: number): KindConcFigures {
  return { inFlight: k.inFlight.at(at), served: k.served.at(at), waitNs: k.waitNs, overlappedWaitNs: k.overlappedWaitNs };
}

// ---- the loop shape: a task taking turns at independent I/O ----

const LOOP_KEYS = 4;
/** Each await site of a loop must be waited at this many times. */
export const LOOP_MIN_WAITS = 4;

/** I/O waits of one task, by (site, resource), in the order they come. */
export class LoopTracker {
  readonly sites = new Int32Array(LOOP_KEYS);
  readonly resources = new Int32Array(LOOP_KEYS);
  readonly waits = new Int32Array(LOOP_KEYS);
  readonly waitNs = new Float64Array(LOOP_KEYS);
  keys = 0;
  private last = -1;
  /** I/O waits at another key than the one before. */
  turns = 0;
  firstAt = Number.NaN;
  lastEnd = Number.NaN;

  note(site: number, resource: number, waitNs: number, parkedAt: number, t: number): void {
    let k = 0;
    while (k < this.keys && (this.sites[k] !== site || this.resources[k] !== resource)) k++;
    if (k === this.keys) {
      if (k === LOOP_KEYS) return; // a fifth site: not a simple loop; the four kept still count
      this.sites[k] = site;
      this.resources[k] = resource;
      this.keys++;
    }
    this.waits[k]!++;
    this.waitNs[k]! += waitNs;
    if (this.last >= 0 && this.last !== k) this.turns++;
    this.last = k;
    if (this.firstAt !== this.firstAt) this.firstAt = parkedAt;
    this.lastEnd = t;
  }

  /** Starts with `waits` waits at one key (all before any other). */
  seed(site: number, resource: number, waits: number, waitNs: number, firstAt: number, lastEnd: number): void {
    this.sites[0] = site;
    this.resources[0] = resource;
    this.waits[0] = waits;
    this.waitNs[0] = waitNs;
    this.keys = 1;
    this.last = 0;
    this.firstAt = firstAt;
    this.lastEnd = lastEnd;
  }

  reset(): void {
    this.keys = 0;
    this.last = -1;
    this.turns = 0;
    this.firstAt = this.lastEnd = Number.NaN;
    this.waits.fill(0);
    this.waitNs.fill(0);
  }
}

/** A loop that took turns at two or more I/O sites on different resources. */
export interface LoopShape {
  keys: { site: number; resource: number; waits: number; waitNs: number }[];
  turns: number;
  /** From its first I/O wait to the end of its last. */
  spanNs: number;
  /** The span if the sites' waits had overlapped (critical path: the longest site's waits in
   *  turn, plus one wait at each other site to fill the pipeline; everything else as it was). */
  estimateNs: number;
  /** The site whose waits bound the estimate. */
  bound: { site: number; resource: number };
}

export function loopShape(l: LoopTracker): LoopShape | undefined {
  const keys: LoopShape["keys"] = [];
  for (let k = 0; k < l.keys; k++) {
    if (l.waits[k]! >= LOOP_MIN_WAITS) keys.push({ site: l.sites[k]!, resource: l.resources[k]!, waits: l.waits[k]!, waitNs: l.waitNs[k]! });
  }
  if (keys.length < 2) return undefined;
  // Different resources (an unnamed wait counts as its own): one resource's operations may queue.
  const distinct = new Set(keys.map((k) => (k.resource === 0 ? `s${k.site}` : `r${k.resource}`)));
  if (distinct.size < 2) return undefined;
  // Taking turns: a loop of n rounds over two sites turns 2n - 1 times; a phase of one site then
  // a phase of the other turns once.
  const fewest = keys.reduce((m, k) => Math.min(m, k.waits), Infinity);
  if (l.turns < 1.5 * fewest) return undefined;
  keys.sort((a, b) => b.waitNs - a.waitNs);
  return { ...estimateLoop(keys), keys, turns: l.turns, spanNs: l.lastEnd - l.firstAt };

  function estimateLoop(ks: LoopShape["keys"]) {
    const total = ks.reduce((s, k) => s + k.waitNs, 0);
    const means = ks.map((k) => k.waitNs / k.waits);
    const meanSum = means.reduce((s, m) => s + m, 0);
    let chain = 0;
    let bound = ks[0]!;
    ks.forEach((k, i) => {
      const c = k.waitNs + meanSum - means[i]!;
      if (c > chain) {
        chain = c;
        bound = k;
      }
    });
    return { estimateNs: l.lastEnd - l.firstAt - (total - chain), bound: { site: bound.site, resource: bound.resource } };
  }
}

/** Loops of ended tasks, folded by session, task name and sites. */
export interface LoopGroup {
  session: number;
  taskName: string;
  /** The task with the longest span. */
  task: TaskRef;
  tasks: number;
  keys: LoopShape["keys"];
  turns: number;
  spanNs: number;
  estimateNs: number;
  bound: { site: number; resource: number };
  firstAt: number;
  lastEnd: number;
}

export function loopGroupKey(session: number, name: string, shape: LoopShape): string {
  const sites = shape.keys.map((k) => `${k.site}/${k.resource}`).sort().join(",");
  return `${session}\u0000${name}\u0000${sites}`;
}

/** Adds a task's loop to a group (a new group when `into` is undefined). */
export function foldLoop(into: LoopGroup | undefined, rec: TaskRecord, shape: LoopShape, firstAt: number, lastEnd: number): LoopGroup {
  if (!into) {
    return {
      session: rec.session, taskName: rec.name, task: taskRef(rec), tasks: 1, keys: shape.keys.map((k) => ({ ...k })), turns: shape.turns,
      spanNs: shape.spanNs, estimateNs: shape.estimateNs, bound: shape.bound, firstAt, lastEnd,
    };
  }
  into.tasks++;
  if (shape.spanNs > into.spanNs / (into.tasks - 1)) into.task = taskRef(rec);
  for (const k of shape.keys) {
    const mine = into.keys.find((x) => x.site === k.site && x.resource === k.resource);
    if (mine) {
      mine.waits += k.waits;
      mine.waitNs += k.waitNs;
    }
  }
  into.turns += shape.turns;
  into.spanNs += shape.spanNs;
  into.estimateNs += shape.estimateNs;
  into.firstAt = Math.min(into.firstAt, firstAt);
  into.lastEnd = Math.max(into.lastEnd, lastEnd);
  return into;
}

// ---- waits per await site ----

export interface SiteWait {
  session: number;
  site: number;
  resource: number;
  waits: Histogram;
  /** Another resource's waits at a site with the same slot. */
  next: SiteWait | undefined;
}

// ---- the hooks ----

/** Which waits a wait's resource allows to overlap. */
export function isExclusive(r: ResourceRecord | undefined): boolean {
  return r !== undefined && (r.kind === "mutex" || r.kind === "channel" || r.capacity === 1);
}

export class Concurrency {
  /** Loops of ended tasks (bounded by the distinct task names and site sets). */
  readonly loops = new Map<string, LoopGroup>();
  /** Waits per session and (site, resource), in order of first wait. */
  readonly siteWaits: SiteWait[] = [];
  /** The current session's, by site id (then a short chain by resource). */
  private bySite: (SiteWait | undefined)[] = [];
  private siteSession = -1;

  /** `resource` finds a session's resource record by id. */
  constructor(private readonly resource: (session: number, id: number) => ResourceRecord | undefined) {}

  // -- flows begin and end (called by FlowTracker) --

  flowBegun(f: FlowRecord, owner: TaskRecord | undefined, t: number): void {
    const kind = kindOf(f.kindStats);
    kind.inFlight.change(t, 1);
    const p = kind.period;
    if (!p.open) {
      p.open = true;
      p.start = t;
      p.flows = p.maxChainNs = p.serialNs = p.maxOwnNs = p.inFlightMax = p.servers = 0;
      p.inFlightOverlapAt = kind.inFlight.overlapNs;
      p.servedOverlapAt = kind.served.overlapNs;
      p.server = undefined;
    }
    if (kind.inFlight.level > p.inFlightMax) p.inFlightMax = kind.inFlight.level;
    if (owner) {
      const oc = (owner.conc ??= newTaskConc());
      oc.flowsBegun++;
      (oc.own ??= new Gauge(false, false)).change(t, 1);
      f.ownerConc = oc;
    }
  }

  flowEnded(f: FlowRecord, t: number, unfinished: boolean): void {
    if (f.concEnded) return;
    const kind = kindOf(f.kindStats);
    if (f.servedBy > 0) this.servedChange(f, t, -1);
    if (f.multi && f.parked >= 2) f.multi.ns += t - f.multi.since;
    f.concEnded = true;
    f.ownerConc?.own?.change(t, -1);
    const p = kind.period;
    if (p.open && !unfinished) {
      p.flows++;
      // Its waits that other requests' work could overlap (I/O, timers, unnamed), and those on
      // exclusive resources (one holder at a time); waits ended by its own sub-task are explained
      // by that task's steps.
      let chain = 0;
      let exclusive = 0;
      for (const w of f.waits.values()) {
        const ns = w.waitNs - w.internalNs;
        if (ns <= 0) continue;
        if (isExclusive(w.resource === 0 ? undefined : this.resource(f.session, w.resource))) exclusive += ns;
        else chain += ns;
      }
      const own = f.busyNs + chain + exclusive;
      if (chain > p.maxChainNs) p.maxChainNs = chain;
      p.serialNs += f.busyNs + exclusive;
      if (own > p.maxOwnNs) p.maxOwnNs = own;
      if (kind.spans.length < 2 * MAX_SPANS) kind.spans.push(f.beganAt, t);
      else kind.spansDropped++;
    }
    kind.inFlight.change(t, -1);
    if (kind.inFlight.level <= 0 && p.open) this.closePeriod(kind, p, t);
  }

  /** The kind has nothing in flight from `t`: was the period's work done one at a time? */
  private closePeriod(kind: KindConc, p: Period, t: number): void {
    p.open = false;
    if (p.inFlightMax < 2 || p.flows === 0) return;
    const measured = t - p.start;
    kind.multiPeriodNs += measured;
    const inFlightOverlap = kind.inFlight.overlapNs - p.inFlightOverlapAt;
    kind.served.advance(t);
    const servedOverlap = kind.served.overlapNs - p.servedOverlapAt;
    if (inFlightOverlap <= 0 || servedOverlap > SERIAL_SHARE * inFlightOverlap) return;
    const s = kind.serial;
    // Critical path with the flows' work overlapped: the longest overlappable wait of one flow,
    // plus every flow's CPU and exclusive waits (one executor, one holder at a time); never less
    // than one flow's own work, never more than it took.
    const estimate = Math.min(measured, Math.max(p.maxChainNs + p.serialNs, p.maxOwnNs));
    s.periods++;
    s.flows += p.flows;
    s.measuredNs += measured;
    s.estimateNs += estimate;
    s.periodNs.add(measured);
    s.periodEstimateNs.add(estimate);
    s.serialNs += p.serialNs;
    s.chainNs += p.maxChainNs;
    if (p.inFlightMax > s.inFlightMax) s.inFlightMax = p.inFlightMax;
    if (p.servers > 1) s.otherServers++;
    s.server ??= p.server;
  }

  // -- tasks --

  /** `rec.flow` changed (spawn, FLOW_BEGIN, FLOW_ENTER, FLOW_END of its flow) to `flow`'s (its
   *  record, undefined for none or one not in the trace). */
  flowChanged(rec: TaskRecord, flow: FlowRecord | undefined, t: number): void {
    const next = rec.end !== undefined ? undefined : flow;
    let c = rec.conc;
    if (!c) {
      if (!next) return;
      c = rec.conc = newTaskConc();
    }
    const prev = c.served;
    if (prev === (next ?? null)) return;
    const running = rec.state === "running";
    if (prev) {
      // The running poll's time so far was for the previous flow.
      if (running && c.segStart === c.segStart) {
        const ns = Math.max(0, t - c.segStart);
        prev.busyNs += ns;
        c.pollCharged += ns;
      }
      c.served = null;
      this.unserve(prev, t);
    }
    if (running) c.segStart = t;
    if (next && !next.concEnded) {
      c.served = next;
      c.flowsServed++;
      next.servedBy++;
      if (next.servedBy === 1) this.servedChange(next, t, 1);
      const p = kindOf(next.kindStats).period;
      if (p.open) {
        if (!p.server) {
          p.server = taskRef(rec);
          p.servers = 1;
        } else if (p.server.index !== rec.index) {
          p.servers = 2;
        }
      }
    }
  }

  private unserve(f: FlowRecord, t: number): void {
    if (f.concEnded) return;
    f.servedBy--;
    if (f.servedBy === 0) this.servedChange(f, t, -1);
  }

  private servedChange(f: FlowRecord, t: number, delta: number): void {
    kindOf(f.kindStats).served.change(t, delta);
    const owner = f.ownerConc;
    if (owner) {
      owner.ownServed += delta;
      if (owner.ownServed > owner.ownServedMax) owner.ownServedMax = owner.ownServed;
    }
  }

  pollBegun(rec: TaskRecord, t: number): void {
    const c = rec.conc;
    if (!c) return;
    c.segStart = t;
    c.pollCharged = 0;
  }

  /** A poll ended at `t` after `netNs` of CPU (interrupt time taken out): its last part goes to
   *  the task's flow. */
  pollEnded(rec: TaskRecord, t: number, netNs: number): void {
    const c = rec.conc;
    if (!c) return;
    const from = c.segStart;
    c.segStart = Number.NaN;
    const f = c.served;
    if (!f || from !== from) return;
    f.busyNs += Math.max(0, Math.min(t - from, netNs - c.pollCharged));
  }

  /** A poll ended in Pending (or was cut): the task waits for its current flow from `t`. */
  parked(rec: TaskRecord, t: number): void {
    const c = rec.conc;
    if (!c) return;
    c.segStart = Number.NaN;
    const f = c.served;
    if (!f || c.parkedFor) return;
    c.parkedFor = f;
    f.parked++;
    if (f.parked === 2) {
      if (f.multi) f.multi.since = t;
      else f.multi = { ns: 0, since: t };
    }
    c.parkedMark = overlapClock(f, t);
  }

  /** A park of `rec` at `site` on `resource` (`r`, if known) ended after `waitNs`. */
  waitEnded(rec: TaskRecord, site: number, resource: number, r: ResourceRecord | undefined, waitNs: number, parkedAt: number, t: number): void {
    this.siteWait(rec.session, site, resource).waits.add(waitNs);
    const woke = rec.lastWakeBy;
    const outside = woke === 0; // an interrupt, a timer or I/O: not another task, not itself
    const io = r !== undefined ? r.kind === "io" && r.capacity !== 1 : resource === 0 && outside;
    let c = rec.conc;
    if (io) {
      c ??= rec.conc = newTaskConc();
      noteIo(c, site, resource, waitNs, parkedAt, t);
    }
    const f = c?.parkedFor;
    if (!c || !f) return;
    const overlapped = overlapClock(f, t) - c.parkedMark;
    c.parkedFor = null;
    this.unpark(f, t);
    c.waitNs += waitNs;
    c.overlappedNs += overlapped;
    const kind = kindOf(f.kindStats);
    kind.waitNs += waitNs;
    kind.overlappedWaitNs += overlapped;
  }

  private unpark(f: FlowRecord, t: number): void {
    if (f.concEnded) return;
    if (f.parked === 2) f.multi!.ns += t - f.multi!.since;
    f.parked--;
  }

  /** The record is closed: it stops serving and waiting; its loop folds into its group. */
  taskClosed(rec: TaskRecord, t: number): void {
    const c = rec.conc;
    if (!c) return;
    if (c.parkedFor) {
      this.unpark(c.parkedFor, t);
      c.parkedFor = null;
    }
    if (c.served) {
      const f = c.served;
      c.served = null;
      this.unserve(f, t);
    }
    const shape = c.loop ? loopShape(c.loop) : undefined;
    if (shape && c.loop) {
      const key = loopGroupKey(rec.session, rec.name, shape);
      this.loops.set(key, foldLoop(this.loops.get(key), rec, shape, c.loop.firstAt, c.loop.lastEnd));
    }
    c.loop = null;
  }

  /** A report window opens at `t0`: figures restart there, the state stays. */
  resetWindow(live: Iterable<TaskRecord>, t0: number): void {
    this.loops.clear();
    this.siteWaits.length = 0;
    this.bySite = [];
    this.siteSession = -1;
    for (const rec of live) {
      const c = rec.conc;
      if (!c) continue;
      c.waitNs = c.overlappedNs = 0;
      c.flowsServed = c.flowsBegun = 0;
      c.ownServedMax = c.ownServed;
      if (c.own) {
        const level = c.own.level;
        c.own = new Gauge(false, false);
        c.own.change(t0, level);
      }
      c.loop?.reset();
      c.ioWaits = c.ioWaitNs = 0;
    }
  }

  private siteWait(session: number, site: number, resource: number): SiteWait {
    if (session !== this.siteSession) {
      this.bySite = [];
      this.siteSession = session;
    }
    const slot = site & 0xffff; // (a site id beyond shares a chain with another: still exact)
    let w = this.bySite[slot];
    while (w !== undefined && (w.site !== site || w.resource !== resource)) w = w.next;
    if (!w) {
      w = { session, site, resource, waits: new Histogram(), next: this.bySite[slot] };
      this.bySite[slot] = w;
      this.siteWaits.push(w);
    }
    return w;
  }
}

/** A kind's concurrency record, created with its first flow. */
export function kindOf(k: FlowKind): KindConc {
  return (k.conc ??= newKindConc());
}
