// Timeline data for the HTML report: lanes of tasks with their polls, the time they sat parked
// (blocked) and runnable, wake arrows between lanes, deadlock cycles and requests in flight.
// Bounded for any trace length:
//   - look-alike short tasks (a name with at least FOLD_MIN ended tasks) share one lane per name
//     ("worker x72"); the page can expand it into a sub-lane per task. A sub-lane is made only
//     for a task that has something drawn in detail (so their number is bounded by the slice
//     budget) or that a lint names, and at most `maxSubLanes` per shared lane;
//   - the other tasks the analysis kept (live ones, those alive at the end, tasks of rare names)
//     get a lane each, tasks named by lints first, at most two thirds of `maxLanes`; shared lanes
//     take the rest, and past it one "other tasks" lane;
//   - detailed slices only inside detail windows: the whole trace when it fits `maxSlices`,
//     otherwise a window around each lint, each with its share of the slice budget (a window
//     that runs out of budget is cut short and marked);
//   - everywhere, per-lane busy time in fixed bins (the overview strip), and per request kind
//     the most requests in flight per bin (exact steps inside the detail windows).
// It is built by a second pass over the file with a fresh TraceModel and an observer, so task
// indices are the same as in the analysis: the lints name tasks by index, and every task, kept
// by the model or not, passes through the observer, so each task a lint names can be drawn.

import { openTrace } from "../tracefile/trace.js";
import { TraceModel, type ModelOptions } from "../model/trace-model.js";
import type { ModelObserver, WakeKind } from "../model/observer.js";
import { isLive, type TaskEnd, type TaskRecord } from "../model/tasks.js";
import { findDeadlocks, waitsForGraph, type WaitEdge } from "../model/waits-for.js";
import type { Lint } from "../model/lint.js";
import { matchesTaskFilter, type TaskFilter } from "./task-filter.js";

export const SLICE_POLL = 0;
export const SLICE_LONG_POLL = 1;
export const SLICE_PARKED = 2;
export const SLICE_RUNNABLE = 3;
/** Parked until the end with no way out: a deadlock's member (or a task blocked behind one) or a
 *  lost wake-up. */
export const SLICE_STUCK = 4;

export const WAKE_BY_TASK = 0;
export const WAKE_BY_SELF = 1;
export const WAKE_BY_IRQ = 2;
export const WAKE_EXTERNAL = 3;

/** Ended tasks of one name in a session from which they share a lane (as the text report folds). */
export const FOLD_MIN = 4;

export interface TimelineOptions {
  maxSlices?: number;
  maxLanes?: number;
  /** Sub-lanes listed per shared lane (tasks past it are drawn in the shared row only). */
  maxSubLanes?: number;
  /** Overview bins per session. */
  bins?: number;
  taskFilter?: TaskFilter;
}

export interface TimelineLane {
  /** Task index in the model, -1 for a lane shared by several tasks (`shared` of them). */
  task: number;
  /** Tasks drawn in this lane (1 for a task's own lane). */
  shared: number;
  id: number;
  /** The task's incarnation of its id (1, 2 after the id was reused, ...); 0 for a shared lane. */
  incarnation: number;
  /** The task's name; a shared lane: as its label (`worker x72`, `other tasks (12)`). */
  name: string;
  /** What the page shows: unique within the session (`handler (38)`, `handler (38, 2nd)`,
   *  `worker x72`). */
  label: string;
  parentName: string | null;
  state: string;
  depth: number;
  /** Named by a lint. */
  flagged: boolean;
}

/** One task of a shared lane, listed on its own when the page expands that lane. */
export interface TimelineSubLane {
  /** The shared lane it belongs to. */
  lane: number;
  task: number;
  id: number;
  incarnation: number;
  label: string;
  /** Its life in the session (ns from the session's first event; toNs: its end, or the
   *  session's end if it was alive). */
  fromNs: number;
  toNs: number;
  flagged: boolean;
}

export interface DetailWindow {
  fromNs: number;
  toNs: number;
  truncated: boolean;
}

/** One member of a deadlock: where it is blocked, on what, and who alone could let it go on. */
export interface DeadlockEdge {
  task: number;
  label: string;
  site: string;
  resource: string;
  resourceKind: string;
  /** `send` (channel full), `recv` (channel empty) or `acquire` (mutex held). */
  op: string;
  level: number;
  capacity: number;
  sinceNs: number;
  /** Task indices of the members that could let it go on. */
  to: number[];
}

export interface DeadlockCycle {
  /** In wait order (each waits for the next, through its resource). */
  members: DeadlockEdge[];
  /** Stuck tasks waiting on the cycle from outside it (those the lint names), with what they
   *  wait on (`to`: any stuck task that could let them go on). */
  behind: DeadlockEdge[];
}

/** Requests of one kind (flow name) in flight over the session. */
export interface InflightTrack {
  kind: string;
  /** Most in flight at once. */
  max: number;
  /** Most in flight within each overview bin. */
  binMax: number[];
  /** Exact steps inside the detail windows: from t on, n in flight (t ascending). */
  points: { t: number[]; n: number[] };
  /** The steps are complete up to here (the session's duration unless they ran out of budget,
   *  shared by the kinds of a session): past it, draw the bins. */
  exactToNs: number;
}

/** Times are ns relative to the session's first event. */
export interface SessionTimeline {
  session: number;
  startNs: number;
  durationNs: number;
  lanes: TimelineLane[];
  subLanes: TimelineSubLane[];
  windows: DetailWindow[];
  /** Slices as parallel arrays: lane, sub-lane (-1: none), kind (SLICE_*), start, end, await
   *  site (name id, 0). */
  slices: { lane: number[]; sub: number[]; kind: number[]; t0: number[]; t1: number[]; site: number[] };
  /** Wake arrows: time, from lane (-1: interrupt / outside) and sub-lane, to lane and sub-lane,
   *  kind (WAKE_*). */
  wakes: { t: number[]; from: number[]; fromSub: number[]; to: number[]; toSub: number[]; kind: number[] };
  /** Busy ns per lane per bin over the whole session. */
  density: { binNs: number; busy: number[][] };
  /** Await-site and resource names by id, for the slices. */
  sites: Record<number, string>;
  cycles: DeadlockCycle[];
  inflight: InflightTrack[];
  /** Slices and wakes not drawn because a detail window ran out of budget. */
  dropped: { slices: number; wakes: number };
  totalPolls: number;
  maxSlices: number;
  maxLanes: number;
  maxSubLanes: number;
  /** Tasks in the "other tasks" lane (past the lane budget). */
  otherTasks: number;
}

const DEFAULTS = { maxSlices: 40_000, maxLanes: 150, maxSubLanes: 400, bins: 600 };
/** Sub-lanes over all shared lanes of a session (the page lists them as rows). */
const MAX_SUB_LANES_TOTAL = 4000;

/** Builds the timelines of every session by reading `path` again. */
export function buildTimelines(path: string, analysis: { model: TraceModel; lints: Lint[] }, modelOptions: ModelOptions, options: TimelineOptions = {}): SessionTimeline[] {
  const collector = new TimelineCollector(analysis.model, analysis.lints, options);
  const model = new TraceModel({ ...modelOptions, observer: collector });
  openTrace(path).forEach((batch, session) => model.consume(batch, { index: session.index, name: (id) => session.names.get(id) }));
  model.finish();
  return collector.result(model);
}

/** `handler (38)` for the first task with id 38 in the session, `handler (38, 2nd)` after reuse. */
export function taskLabel(t: { name: string; id: number; incarnation: number }): string {
  return t.incarnation > 1 ? `${t.name} (${t.id}, ${ordinal(t.incarnation)})` : `${t.name} (${t.id})`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th";
  return `${n}${suffix}`;
}

interface InflightState {
  track: InflightTrack;
  current: number;
  /** Bins up to this one hold `current` already. */
  bin: number;
  /** Detail windows a point was recorded in (the first one also records the level on entry). */
  entered: Set<number>;
}

interface SessionPlan {
  timeline: SessionTimeline;
  /** Own lanes by task index. */
  own: Map<number, number>;
  /** Shared lanes by task name, made as their first task appears. */
  nameLane: Map<string, number>;
  /** Per shared lane: the parent index of its first task (to place it under the parent's lane). */
  sharedParent: Map<number, number>;
  other: number; // lane of "other tasks" (past the lane budget), -1 until needed
  /** Sub-lanes by task index (kept after the task ends, for late events about it: bounded by
   *  the sub-lane caps). */
  subOf: Map<number, number>;
  subsPerLane: Map<number, number>;
  /** Tasks a lint names that fold into a shared lane: they get a sub-lane whatever the caps. */
  reservedSubs: Set<number>;
  flagged: Set<number>;
  /** Tasks stuck for good (named by a deadlock or lost-wakeup lint). */
  stuck: Set<number>;
  maxLanes: number;
  budgets: number[];
  used: number[];
  wakeBudget: number;
  wakesUsed: number;
  bins: number;
  flowKind: Map<number, InflightState>;
  kinds: Map<string, InflightState>;
  pointBudget: number;
  pointsUsed: number;
}

export class TimelineCollector implements ModelObserver {
  private readonly plans = new Map<number, SessionPlan>();
  private readonly maxSlices: number;
  private readonly maxSubLanes: number;
  private readonly longPollNs: number;
  private readonly filter: TaskFilter | undefined;

  constructor(model: TraceModel, lints: Lint[], options: TimelineOptions = {}) {
    this.maxSlices = options.maxSlices ?? DEFAULTS.maxSlices;
    this.maxSubLanes = options.maxSubLanes ?? DEFAULTS.maxSubLanes;
    this.longPollNs = model.thresholds.longPollNs;
    this.filter = options.taskFilter;
    const maxLanes = options.maxLanes ?? DEFAULTS.maxLanes;
    const bins = options.bins ?? DEFAULTS.bins;
    const held = model.tasks;
    for (const span of model.sessions) {
      const mine = lints.filter((l) => l.session === span.index);
      const tasks = held.filter((t) => t.session === span.index && matchesTaskFilter(options.taskFilter, t));
      const cycles = deadlockCycles(model, span.index, span.firstT, mine);
      const flagged = new Set<number>();
      const stuck = new Set<number>();
      for (const l of mine) {
        for (const t of l.tasks) {
          if (t.index === undefined) continue;
          flagged.add(t.index);
          if (l.kind === "deadlock" || l.kind === "lost-wakeup") stuck.add(t.index);
        }
      }
      for (const c of cycles) {
        for (const t of [...c.members, ...c.behind]) {
          flagged.add(t.task);
          stuck.add(t.task);
        }
      }
      // Tasks of a folded name share its lane unless they were alive at the end (those are what
      // a leak or a deadlock is about: each gets its own).
      const folded = foldedNames(model, span.index);
      const candidates = tasks.filter((t) => !folded.has(t.name) || t.end === "alive" || t.end === undefined);
      const chosen = chooseLanes(candidates, flagged, Math.max(1, Math.floor((maxLanes * 2) / 3)));
      const lanes: TimelineLane[] = chosen.map((t) => ({
        task: t.index, shared: 1, id: t.id, incarnation: t.incarnation, name: t.name, label: taskLabel(t),
        parentName: t.parentName ?? null, state: t.state, depth: 0, flagged: flagged.has(t.index),
      }));
      const own = new Map(chosen.map((t, i) => [t.index, i]));
      const reservedSubs = new Set([...flagged].filter((i) => !own.has(i)));
      const duration = Math.max(1, span.lastT - span.firstT);
      const windows = detailWindows(model, span.index, span.firstT, span.lastT, lints, this.maxSlices);
      const timeline: SessionTimeline = {
        session: span.index,
        startNs: span.firstT,
        durationNs: span.lastT - span.firstT,
        lanes,
        subLanes: [],
        windows: windows.map((w) => ({ fromNs: w[0] - span.firstT, toNs: w[1] - span.firstT, truncated: false })),
        slices: { lane: [], sub: [], kind: [], t0: [], t1: [], site: [] },
        wakes: { t: [], from: [], fromSub: [], to: [], toSub: [], kind: [] },
        density: { binNs: duration / bins, busy: lanes.map(() => new Array<number>(bins).fill(0)) },
        sites: {},
        cycles,
        inflight: [],
        dropped: { slices: 0, wakes: 0 },
        totalPolls: 0,
        maxSlices: this.maxSlices,
        maxLanes,
        maxSubLanes: this.maxSubLanes,
        otherTasks: 0,
      };
      const per = Math.floor(this.maxSlices / Math.max(1, windows.length));
      this.plans.set(span.index, {
        timeline, own, nameLane: new Map(), sharedParent: new Map(), other: -1,
        subOf: new Map(), subsPerLane: new Map(), reservedSubs, flagged, stuck, maxLanes,
        budgets: windows.map(() => per), used: windows.map(() => 0),
        wakeBudget: Math.floor(this.maxSlices / 2), wakesUsed: 0, bins,
        flowKind: new Map(), kinds: new Map(), pointBudget: Math.floor(this.maxSlices / 2), pointsUsed: 0,
      });
    }
  }

  /** A task appears: tasks without a lane of their own join their name's shared lane. */
  taskStart(task: TaskRecord): void {
    const p = this.plans.get(task.session);
    if (!p || p.own.has(task.index) || !matchesTaskFilter(this.filter, task)) return;
    let lane = p.nameLane.get(task.name);
    const lanes = p.timeline.lanes;
    if (lane === undefined) {
      if (lanes.length < p.maxLanes - 1) {
        lane = this.addLane(p, {
          task: -1, shared: 0, id: task.id, incarnation: 0, name: task.name, label: task.name,
          parentName: task.parentName ?? null, state: "", depth: 0, flagged: false,
        });
        p.sharedParent.set(lane, task.parentIndex);
      } else {
        if (p.other < 0) {
          p.other = this.addLane(p, { task: -1, shared: 0, id: 0, incarnation: 0, name: "other tasks", label: "other tasks", parentName: null, state: "", depth: 0, flagged: false });
        }
        lane = p.other;
      }
      p.nameLane.set(task.name, lane);
    }
    lanes[lane]!.shared++;
    if (lane === p.other) p.timeline.otherTasks++;
    if (p.reservedSubs.has(task.index)) {
      lanes[lane]!.flagged = true;
      this.addSub(p, lane, task);
    }
  }

  poll(task: TaskRecord, start: number, end: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const lane = this.lane(p, task);
    p.timeline.totalPolls++;
    if (lane < 0) return;
    this.addDensity(p, lane, start, end);
    this.slice(p, lane, task, end - start >= this.longPollNs ? SLICE_LONG_POLL : SLICE_POLL, start, end, 0);
  }

  resumed(task: TaskRecord, parkedAt: number, readyAt: number, pollAt: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const lane = this.lane(p, task);
    if (lane < 0) return;
    const ready = readyAt === readyAt ? readyAt : pollAt;
    if (parkedAt === parkedAt && ready > parkedAt) this.slice(p, lane, task, SLICE_PARKED, parkedAt, ready, this.siteId(p, task));
    if (pollAt > ready) this.slice(p, lane, task, SLICE_RUNNABLE, ready, pollAt, 0);
  }

  wake(task: TaskRecord, by: TaskRecord | undefined, kind: WakeKind, t: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const to = this.lane(p, task);
    if (to < 0 || this.windowOf(p, t, t) < 0) return;
    if (p.wakesUsed >= p.wakeBudget) {
      p.timeline.dropped.wakes++;
      return;
    }
    p.wakesUsed++;
    const w = p.timeline.wakes;
    const from = by ? this.lane(p, by) : -1;
    w.t.push(t - p.timeline.startNs);
    w.from.push(from);
    w.fromSub.push(by && from >= 0 ? this.sub(p, from, by) : -1);
    w.to.push(to);
    w.toSub.push(this.sub(p, to, task));
    w.kind.push(kind === "self" ? WAKE_BY_SELF : kind === "task" ? WAKE_BY_TASK : kind === "irq" ? WAKE_BY_IRQ : WAKE_EXTERNAL);
  }

  /** A task's record closes. One alive when its session ends: draw where it sits until the end
   *  (stuck for good when a lint says so). */
  taskEnd(task: TaskRecord, how: TaskEnd, end: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const sub = p.subOf.get(task.index);
    if (sub !== undefined) p.timeline.subLanes[sub]!.toNs = end - p.timeline.startNs;
    if (how !== "alive" || !isLive(task)) return;
    const lane = this.lane(p, task);
    if (lane < 0) return;
    const parked = task.parkedAt;
    const ready = task.readySince;
    if (parked === parked) {
      const until = ready === ready ? ready : end;
      const kind = p.stuck.has(task.index) && until === end ? SLICE_STUCK : SLICE_PARKED;
      if (until > parked) this.slice(p, lane, task, kind, parked, until, this.siteId(p, task));
    }
    if (ready === ready && end > ready) this.slice(p, lane, task, SLICE_RUNNABLE, ready, end, 0);
  }

  flowBegin(session: number, _task: TaskRecord | undefined, flow: number, name: string, t: number): void {
    const p = this.plans.get(session);
    if (!p) return;
    const open = p.flowKind.get(flow);
    if (open) this.inflightStep(p, open, -1, t); // its id began again: the old one ended unseen
    let k = p.kinds.get(name);
    if (!k) {
      const track: InflightTrack = { kind: name, max: 0, binMax: new Array<number>(p.bins).fill(0), points: { t: [], n: [] }, exactToNs: p.timeline.durationNs };
      k = { track, current: 0, bin: 0, entered: new Set() };
      p.kinds.set(name, k);
      p.timeline.inflight.push(track);
    }
    p.flowKind.set(flow, k);
    this.inflightStep(p, k, 1, t);
  }

  flowEnd(session: number, _task: TaskRecord | undefined, flow: number, t: number): void {
    const p = this.plans.get(session);
    const k = p?.flowKind.get(flow);
    if (!p || !k) return; // began before the trace: its kind is not known
    p.flowKind.delete(flow);
    this.inflightStep(p, k, -1, t);
  }

  sessionEnd(session: { index: number; lastT: number }): void {
    const p = this.plans.get(session.index);
    if (!p) return;
    for (const k of p.kinds.values()) fillBins(k, p.bins);
  }

  result(model: TraceModel): SessionTimeline[] {
    const out: SessionTimeline[] = [];
    const held = new Map(model.tasks.map((t) => [t.index, t]));
    for (const p of this.plans.values()) {
      const tl = p.timeline;
      for (const lane of tl.lanes) {
        if (lane.task >= 0) lane.state = held.get(lane.task)?.state ?? lane.state;
        else lane.name = lane.label = lane.name === "other tasks" ? `other tasks (${lane.shared})` : `${lane.name} x${lane.shared}`;
      }
      for (const id of Object.keys(tl.sites)) tl.sites[Number(id)] = model.nameIn(tl.session, Number(id)) ?? `site#${id}`;
      this.orderLanes(p, held);
      uniqueLabels(tl);
      out.push(tl);
    }
    return out;
  }

  // ---- lanes ----

  private addLane(p: SessionPlan, lane: TimelineLane): number {
    p.timeline.lanes.push(lane);
    p.timeline.density.busy.push(new Array<number>(p.bins).fill(0));
    return p.timeline.lanes.length - 1;
  }

  private lane(p: SessionPlan, task: TaskRecord): number {
    const own = p.own.get(task.index);
    if (own !== undefined) return own;
    if (this.filter && !matchesTaskFilter(this.filter, task)) return -1;
    return p.nameLane.get(task.name) ?? -1;
  }

  /** The task's sub-lane in shared lane `lane`, made when it first has something drawn in
   *  detail, while the caps allow; -1 for an own lane or past the caps. */
  private sub(p: SessionPlan, lane: number, task: TaskRecord): number {
    if (p.timeline.lanes[lane]!.task >= 0) return -1;
    const s = p.subOf.get(task.index);
    if (s !== undefined) return s;
    if ((p.subsPerLane.get(lane) ?? 0) >= this.maxSubLanes || p.timeline.subLanes.length >= MAX_SUB_LANES_TOTAL) return -1;
    return this.addSub(p, lane, task);
  }

  private addSub(p: SessionPlan, lane: number, task: TaskRecord): number {
    const tl = p.timeline;
    tl.subLanes.push({
      lane, task: task.index, id: task.id, incarnation: task.incarnation, label: taskLabel(task),
      fromNs: (task.spawnedAt ?? task.firstSeen) - tl.startNs, toNs: tl.durationNs, flagged: p.flagged.has(task.index),
    });
    p.subsPerLane.set(lane, (p.subsPerLane.get(lane) ?? 0) + 1);
    const s = tl.subLanes.length - 1;
    p.subOf.set(task.index, s);
    return s;
  }

  /** Spawn-tree order: each lane under its parent task's lane (a shared lane under the parent of
   *  its first task), own lanes before shared ones, "other tasks" last. */
  private orderLanes(p: SessionPlan, held: Map<number, TaskRecord>): void {
    const tl = p.timeline;
    const n = tl.lanes.length;
    const parentLane = (k: number): number => {
      const lane = tl.lanes[k]!;
      const parentIndex = lane.task >= 0 ? (held.get(lane.task)?.parentIndex ?? -1) : (p.sharedParent.get(k) ?? -1);
      const l = parentIndex >= 0 ? p.own.get(parentIndex) : undefined;
      return l === undefined || l === k ? -1 : l;
    };
    const children = new Map<number, number[]>();
    const roots: number[] = [];
    const rank = (k: number) => (k === p.other ? 2 : tl.lanes[k]!.task >= 0 ? 0 : 1);
    const keys = [...Array(n).keys()].sort((a, b) => rank(a) - rank(b) || a - b);
    for (const k of keys) {
      const parent = parentLane(k);
      if (parent < 0) roots.push(k);
      else children.set(parent, [...(children.get(parent) ?? []), k]);
    }
    const order: number[] = [];
    const depth = new Array<number>(n).fill(0);
    const placed = new Set<number>();
    const walk = (k: number, d: number) => {
      if (placed.has(k)) return;
      placed.add(k);
      order.push(k);
      depth[k] = d;
      for (const c of children.get(k) ?? []) walk(c, d + 1);
    };
    for (const r of roots.sort((a, b) => rank(a) - rank(b) || a - b)) walk(r, 0);
    for (const k of keys) walk(k, 0); // (a parent cycle cannot happen, but nothing is lost if it did)
    const moved = new Array<number>(n);
    order.forEach((k, i) => (moved[k] = i));
    const remap = (a: number[]) => {
      for (let i = 0; i < a.length; i++) if (a[i]! >= 0) a[i] = moved[a[i]!]!;
    };
    tl.lanes = order.map((k) => ({ ...tl.lanes[k]!, depth: depth[k]! }));
    tl.density.busy = order.map((k) => tl.density.busy[k]!);
    remap(tl.slices.lane);
    remap(tl.wakes.from);
    remap(tl.wakes.to);
    for (const s of tl.subLanes) s.lane = moved[s.lane]!;
    for (const [idx, k] of p.own) p.own.set(idx, moved[k]!);
  }

  // ---- drawing data ----

  private siteId(p: SessionPlan, task: TaskRecord): number {
    const site = task.lastSite;
    if (site !== 0 && p.timeline.sites[site] === undefined) p.timeline.sites[site] = "";
    return site;
  }

  private addDensity(p: SessionPlan, lane: number, start: number, end: number): void {
    const tl = p.timeline;
    const bins = tl.density.busy[lane]!;
    const w = tl.density.binNs;
    let a = start - tl.startNs;
    const b = end - tl.startNs;
    let i = Math.min(p.bins - 1, Math.max(0, Math.floor(a / w)));
    while (a < b && i < p.bins) {
      const binEnd = (i + 1) * w;
      const part = Math.min(b, binEnd) - a;
      bins[i]! += part;
      a += part;
      i++;
    }
  }

  /** Index of the detail window [from, to] falls in, -1 if none. */
  private windowOf(p: SessionPlan, from: number, to: number): number {
    const ws = p.timeline.windows;
    const a = from - p.timeline.startNs;
    const b = to - p.timeline.startNs;
    for (let i = 0; i < ws.length; i++) if (b >= ws[i]!.fromNs && a <= ws[i]!.toNs) return i;
    return -1;
  }

  private slice(p: SessionPlan, lane: number, task: TaskRecord, kind: number, from: number, to: number, site: number): void {
    const i = this.windowOf(p, from, to);
    if (i < 0) return;
    if (p.used[i]! >= p.budgets[i]!) {
      // Out of budget: cut the window here so what is drawn is complete up to its end.
      const w = p.timeline.windows[i]!;
      const cut = from - p.timeline.startNs;
      if (!w.truncated && cut > w.fromNs) {
        w.toNs = cut;
        w.truncated = true;
      }
      p.timeline.dropped.slices++;
      return;
    }
    p.used[i]!++;
    const s = p.timeline.slices;
    s.lane.push(lane);
    s.sub.push(this.sub(p, lane, task));
    s.kind.push(kind);
    s.t0.push(from - p.timeline.startNs);
    s.t1.push(to - p.timeline.startNs);
    s.site.push(site);
  }

  /** `delta` requests of a kind begin (1) or end (-1) at `t`. */
  private inflightStep(p: SessionPlan, k: InflightState, delta: number, t: number): void {
    const tl = p.timeline;
    const rel = t - tl.startNs;
    const bin = Math.min(p.bins - 1, Math.max(0, Math.floor(rel / tl.density.binNs)));
    fillBins(k, bin);
    const before = k.current;
    k.current = Math.max(0, before + delta);
    const track = k.track;
    if (k.current > track.max) track.max = k.current;
    if (k.current > track.binMax[bin]!) track.binMax[bin] = k.current;
    const w = this.windowOf(p, t, t);
    if (w < 0 || rel > track.exactToNs) return;
    const entering = !k.entered.has(w);
    if (p.pointsUsed + (entering ? 2 : 1) > p.pointBudget) {
      track.exactToNs = rel; // complete up to this step, which is not recorded
      return;
    }
    if (entering) {
      k.entered.add(w);
      track.points.t.push(tl.windows[w]!.fromNs);
      track.points.n.push(before);
      p.pointsUsed++;
    }
    track.points.t.push(rel);
    track.points.n.push(k.current);
    p.pointsUsed++;
  }
}

/** Carries a kind's current level into the bins up to `bin` (exclusive of what follows). */
function fillBins(k: InflightState, bin: number): void {
  const b = k.track.binMax;
  for (let i = k.bin; i <= bin && i < b.length; i++) if (k.current > b[i]!) b[i] = k.current;
  k.bin = Math.max(k.bin, bin);
}

/** Names with at least FOLD_MIN ended tasks in the session: their ended tasks share a lane. */
function foldedNames(model: TraceModel, session: number): Set<string> {
  const count = new Map<string, number>();
  for (const g of model.groups.list) if (g.session === session) count.set(g.name, (count.get(g.name) ?? 0) + g.count);
  return new Set([...count].filter(([, n]) => n >= FOLD_MIN).map(([name]) => name));
}

/** Tasks that get a lane of their own: those named by lints, then the busiest (by index). */
function chooseLanes(tasks: TaskRecord[], flagged: Set<number>, maxLanes: number): TaskRecord[] {
  if (tasks.length <= maxLanes) return tasks;
  const ranked = [...tasks].sort((a, b) => Number(flagged.has(b.index)) - Number(flagged.has(a.index)) || b.busyNs - a.busyNs);
  return ranked.slice(0, maxLanes - 1).sort((a, b) => a.index - b.index);
}

/** The deadlocks the lints report, as cycles: each member, the resource it is blocked on and
 *  the members that alone could let it go on. */
function deadlockCycles(model: TraceModel, session: number, first: number, lints: Lint[]): DeadlockCycle[] {
  const named = lints.filter((l) => l.kind === "deadlock");
  if (named.length === 0) return [];
  const edges = waitsForGraph(model, session);
  const out: DeadlockCycle[] = [];
  for (const group of findDeadlocks(edges)) {
    const members = new Set(group.map((e) => e.from.index));
    const lint = named.find((l) => l.tasks.some((t) => t.index !== undefined && members.has(t.index)));
    if (!lint) continue; // not stuck long enough to be reported
    const inLint = new Set(lint.tasks.map((t) => t.index));
    const behindEdges = [...edges.values()].filter((e) => inLint.has(e.from.index) && !members.has(e.from.index));
    const stuck = new Set([...members, ...behindEdges.map((e) => e.from.index)]);
    out.push({
      members: group.map((e) => cycleEdge(model, session, first, e, members)),
      behind: behindEdges.map((e) => cycleEdge(model, session, first, e, stuck)),
    });
  }
  return out;
}

/** `to`: the helpers among `among` (the deadlock's stuck tasks). */
function cycleEdge(model: TraceModel, session: number, first: number, e: WaitEdge, among: Set<number>): DeadlockEdge {
  const r = e.resource;
  return {
    task: e.from.index, label: taskLabel(e.from),
    site: model.nameIn(session, e.site) ?? "", resource: r.name, resourceKind: r.kind, op: e.op,
    level: r.level, capacity: r.capacity, sinceNs: e.since - first,
    to: e.to.filter((t) => among.has(t.index)).map((t) => t.index),
  };
}

/** Two lanes never read alike: a duplicate (an own lane named like a shared one) gets its
 *  index appended. */
function uniqueLabels(tl: SessionTimeline): void {
  const seen = new Set<string>();
  const fix = (x: { label: string; task: number }) => {
    if (seen.has(x.label)) x.label = `${x.label} [${x.task >= 0 ? `#${x.task}` : "shared"}]`;
    seen.add(x.label);
  };
  tl.lanes.forEach(fix);
  tl.subLanes.forEach(fix);
}

/** Absolute [from, to] ranges drawn in detail: the whole session if its slices fit the budget,
 *  else a window around each lint (merged where they overlap). */
function detailWindows(model: TraceModel, session: number, first: number, last: number, lints: Lint[], maxSlices: number): [number, number][] {
  // Per poll: the poll, a parked and a runnable slice.
  const polls = model.executor.polls;
  const estimate = 3 * polls;
  const duration = Math.max(1, last - first);
  if (estimate <= maxSlices) return [[first, last]];
  const mine = lints.filter((l) => l.session === session).slice(0, 12);
  const anchors = mine.length > 0 ? mine : [{ atNs: first, untilNs: undefined } as Pick<Lint, "atNs" | "untilNs">];
  const perWindow = maxSlices / anchors.length;
  const width = Math.max(1, (perWindow / estimate) * duration);
  const ranges = anchors.map((l) => {
    const until = l.untilNs ?? l.atNs;
    if (until - l.atNs <= width * 0.8) {
      const mid = (l.atNs + until) / 2;
      return [Math.max(first, mid - width / 2), Math.min(last, mid + width / 2)] as [number, number];
    }
    return [Math.max(first, l.atNs - width * 0.2), Math.min(last, l.atNs + width * 0.8)] as [number, number];
  });
  ranges.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const r of ranges) {
    const prev = merged[merged.length - 1];
    if (prev && r[0] <= prev[1]) prev[1] = Math.max(prev[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  return merged;
}
