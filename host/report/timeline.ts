// Timeline data for the HTML report: a lane per task with its polls, the time it sat parked
// (blocked) and runnable, and wake arrows between lanes. Bounded for any trace length:
//   - at most `maxLanes` lanes (tasks named by lints first, then the busiest); the rest share one
//     "other tasks" lane;
//   - detailed slices only inside detail windows: the whole trace when it fits `maxSlices`,
//     otherwise a window around each lint, each with its share of the slice budget (a window
//     that runs out of budget is cut short and marked);
//   - everywhere, per-lane busy time in fixed bins (the overview strip).
// It is built by a second pass over the file with a fresh TraceModel and an observer, so task
// indices are the same as in the analysis. Tasks that get no lane of their own (the model keeps
// no record of most ended ones) share one lane per name ("worker x72").

import { openTrace } from "../tracefile/trace.js";
import { TraceModel, type ModelOptions } from "../model/trace-model.js";
import type { ModelObserver, WakeKind } from "../model/observer.js";
import { isLive, type TaskEnd, type TaskRecord } from "../model/tasks.js";
import type { Lint } from "../model/lint.js";
import { matchesTaskFilter, type TaskFilter } from "./task-filter.js";

export const SLICE_POLL = 0;
export const SLICE_LONG_POLL = 1;
export const SLICE_PARKED = 2;
export const SLICE_RUNNABLE = 3;

export const WAKE_BY_TASK = 0;
export const WAKE_BY_SELF = 1;
export const WAKE_BY_IRQ = 2;
export const WAKE_EXTERNAL = 3;

export interface TimelineOptions {
  maxSlices?: number;
  maxLanes?: number;
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
  name: string;
  parentName: string | null;
  state: string;
  depth: number;
  /** Named by a lint. */
  flagged: boolean;
}

export interface DetailWindow {
  fromNs: number;
  toNs: number;
  truncated: boolean;
}

/** Times are ns relative to the session's first event. */
export interface SessionTimeline {
  session: number;
  startNs: number;
  durationNs: number;
  lanes: TimelineLane[];
  windows: DetailWindow[];
  /** Slices as parallel arrays: lane, kind (SLICE_*), start, end, await site (name id, 0). */
  slices: { lane: number[]; kind: number[]; t0: number[]; t1: number[]; site: number[] };
  /** Wake arrows: time, from lane (-1: interrupt / outside), to lane, kind (WAKE_*). */
  wakes: { t: number[]; from: number[]; to: number[]; kind: number[] };
  /** Busy ns per lane per bin over the whole session. */
  density: { binNs: number; busy: number[][] };
  /** Await-site and resource names by id, for the slices. */
  sites: Record<number, string>;
  /** Slices and wakes not drawn because a detail window ran out of budget. */
  dropped: { slices: number; wakes: number };
  totalPolls: number;
  maxSlices: number;
  maxLanes: number;
  /** Tasks that got no lane of their own. */
  otherTasks: number;
}

const DEFAULTS = { maxSlices: 40_000, maxLanes: 150, bins: 600 };

/** Builds the timelines of every session by reading `path` again. */
export function buildTimelines(path: string, analysis: { model: TraceModel; lints: Lint[] }, modelOptions: ModelOptions, options: TimelineOptions = {}): SessionTimeline[] {
  const collector = new TimelineCollector(analysis.model, analysis.lints, options);
  const model = new TraceModel({ ...modelOptions, observer: collector });
  openTrace(path).forEach((batch, session) => model.consume(batch, { index: session.index, name: (id) => session.names.get(id) }));
  model.finish();
  return collector.result(model);
}

interface SessionPlan {
  timeline: SessionTimeline;
  laneOf: Map<number, number>;
  /** Shared lanes by task name, made as tasks without a lane of their own appear. */
  nameLane: Map<string, number>;
  other: number; // lane of "other tasks" (past the lane budget), -1 until needed
  maxLanes: number;
  budgets: number[];
  used: number[];
  wakeBudget: number;
  wakesUsed: number;
  bins: number;
}

export class TimelineCollector implements ModelObserver {
  private readonly plans = new Map<number, SessionPlan>();
  private readonly maxSlices: number;
  private readonly longPollNs: number;
  private readonly filter: TaskFilter | undefined;

  constructor(model: TraceModel, lints: Lint[], options: TimelineOptions = {}) {
    this.maxSlices = options.maxSlices ?? DEFAULTS.maxSlices;
    this.longPollNs = model.thresholds.longPollNs;
    this.filter = options.taskFilter;
    const maxLanes = options.maxLanes ?? DEFAULTS.maxLanes;
    const bins = options.bins ?? DEFAULTS.bins;
    const held = model.tasks;
    for (const span of model.sessions) {
      // Lanes of their own for the tasks the analysis kept (live ones, and examples of ended
      // groups), those named by lints first; a third of the budget stays for shared lanes.
      const tasks = held.filter((t) => t.session === span.index && matchesTaskFilter(options.taskFilter, t));
      const flagged = new Set<number>();
      for (const l of lints) if (l.session === span.index) for (const t of l.tasks) if (t.index !== undefined) flagged.add(t.index);
      const own = Math.max(1, Math.floor((maxLanes * 2) / 3));
      const chosen = chooseLanes(tasks, flagged, own);
      const lanes: TimelineLane[] = chosen.map(({ t, depth }) => ({
        task: t.index, shared: 1, id: t.id, name: t.name,
        parentName: t.parentName ?? null,
        state: t.state, depth, flagged: flagged.has(t.index),
      }));
      const laneOf = new Map(chosen.map(({ t }, i) => [t.index, i]));
      const duration = Math.max(1, span.lastT - span.firstT);
      const windows = detailWindows(model, span.index, span.firstT, span.lastT, lints, this.maxSlices);
      const timeline: SessionTimeline = {
        session: span.index,
        startNs: span.firstT,
        durationNs: span.lastT - span.firstT,
        lanes,
        windows: windows.map((w) => ({ fromNs: w[0] - span.firstT, toNs: w[1] - span.firstT, truncated: false })),
        slices: { lane: [], kind: [], t0: [], t1: [], site: [] },
        wakes: { t: [], from: [], to: [], kind: [] },
        density: { binNs: duration / bins, busy: lanes.map(() => new Array<number>(bins).fill(0)) },
        sites: {},
        dropped: { slices: 0, wakes: 0 },
        totalPolls: 0,
        maxSlices: this.maxSlices,
        maxLanes,
        otherTasks: 0,
      };
      const per = Math.floor(this.maxSlices / Math.max(1, windows.length));
      this.plans.set(span.index, {
        timeline, laneOf, nameLane: new Map(), other: -1, maxLanes, budgets: windows.map(() => per), used: windows.map(() => 0),
        wakeBudget: Math.floor(this.maxSlices / 2), wakesUsed: 0, bins,
      });
    }
  }

  /** A task appears: tasks without a lane of their own join their name's shared lane. */
  taskStart(task: TaskRecord): void {
    const p = this.plans.get(task.session);
    if (!p || p.laneOf.has(task.index) || !matchesTaskFilter(this.filter, task)) return;
    let lane = p.nameLane.get(task.name);
    const lanes = p.timeline.lanes;
    if (lane === undefined) {
      if (lanes.length < p.maxLanes - 1) {
        lane = this.addLane(p, { task: -1, shared: 0, id: task.id, name: task.name, parentName: task.parentName ?? null, state: "", depth: 0, flagged: false });
        p.nameLane.set(task.name, lane);
      } else {
        if (p.other < 0) p.other = this.addLane(p, { task: -1, shared: 0, id: 0, name: "other tasks", parentName: null, state: "", depth: 0, flagged: false });
        lane = p.other;
      }
    }
    lanes[lane]!.shared++;
    if (lane === p.other) p.timeline.otherTasks++;
    p.laneOf.set(task.index, lane);
  }

  private addLane(p: SessionPlan, lane: TimelineLane): number {
    p.timeline.lanes.push(lane);
    p.timeline.density.busy.push(new Array<number>(p.bins).fill(0));
    return p.timeline.lanes.length - 1;
  }

  poll(task: TaskRecord, start: number, end: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const lane = this.lane(p, task);
    p.timeline.totalPolls++;
    if (lane < 0) return;
    this.addDensity(p, lane, start, end);
    this.slice(p, lane, end - start >= this.longPollNs ? SLICE_LONG_POLL : SLICE_POLL, start, end, 0);
  }

  resumed(task: TaskRecord, parkedAt: number, readyAt: number, pollAt: number): void {
    const p = this.plans.get(task.session);
    if (!p) return;
    const lane = this.lane(p, task);
    if (lane < 0) return;
    const ready = readyAt === readyAt ? readyAt : pollAt;
    if (parkedAt === parkedAt && ready > parkedAt) this.slice(p, lane, SLICE_PARKED, parkedAt, ready, this.siteId(p, task));
    if (pollAt > ready) this.slice(p, lane, SLICE_RUNNABLE, ready, pollAt, 0);
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
    w.t.push(t - p.timeline.startNs);
    w.from.push(by ? this.lane(p, by) : -1);
    w.to.push(to);
    w.kind.push(kind === "self" ? WAKE_BY_SELF : kind === "task" ? WAKE_BY_TASK : kind === "irq" ? WAKE_BY_IRQ : WAKE_EXTERNAL);
  }

  /** A task alive when its session ends: draw where it sits until the end. */
  taskEnd(task: TaskRecord, how: TaskEnd, end: number): void {
    const p = this.plans.get(task.session);
    if (!p || how !== "alive" || !isLive(task)) return;
    const lane = this.lane(p, task);
    if (lane < 0) return;
    const parked = task.parkedAt;
    const ready = task.readySince;
    if (parked === parked) {
      const until = ready === ready ? ready : end;
      if (until > parked) this.slice(p, lane, SLICE_PARKED, parked, until, this.siteId(p, task));
    }
    if (ready === ready && end > ready) this.slice(p, lane, SLICE_RUNNABLE, ready, end, 0);
  }

  result(model: TraceModel): SessionTimeline[] {
    const out: SessionTimeline[] = [];
    const held = new Map(model.tasks.map((t) => [t.index, t]));
    for (const p of this.plans.values()) {
      for (const lane of p.timeline.lanes) {
        if (lane.task >= 0) lane.state = held.get(lane.task)?.state ?? lane.state;
        else if (lane.shared > 0 && lane.name !== "other tasks") lane.name = `${lane.name} x${lane.shared}`;
        else if (lane.name === "other tasks") lane.name = `other tasks (${lane.shared})`;
      }
      for (const id of Object.keys(p.timeline.sites)) {
        p.timeline.sites[Number(id)] = model.nameIn(p.timeline.session, Number(id)) ?? `site#${id}`;
      }
      out.push(p.timeline);
    }
    return out;
  }

  private lane(p: SessionPlan, task: TaskRecord): number {
    return p.laneOf.get(task.index) ?? -1;
  }

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

  private slice(p: SessionPlan, lane: number, kind: number, from: number, to: number, site: number): void {
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
    s.kind.push(kind);
    s.t0.push(from - p.timeline.startNs);
    s.t1.push(to - p.timeline.startNs);
    s.site.push(site);
  }
}

/** Tasks that get a lane: those named by lints, then the busiest, in spawn-tree order. */
function chooseLanes(tasks: TaskRecord[], flagged: Set<number>, maxLanes: number): { t: TaskRecord; depth: number }[] {
  let chosen: Set<TaskRecord>;
  if (tasks.length <= maxLanes) {
    chosen = new Set(tasks);
  } else {
    const ranked = [...tasks].sort((a, b) => Number(flagged.has(b.index)) - Number(flagged.has(a.index)) || b.busyNs - a.busyNs);
    chosen = new Set(ranked.slice(0, maxLanes - 1));
  }
  const children = new Map<number, TaskRecord[]>();
  const roots: TaskRecord[] = [];
  for (const t of tasks) {
    if (!chosen.has(t)) continue;
    if (t.parentIndex >= 0 && [...chosen].some((p) => p.index === t.parentIndex)) {
      const list = children.get(t.parentIndex) ?? [];
      list.push(t);
      children.set(t.parentIndex, list);
    } else {
      roots.push(t);
    }
  }
  const out: { t: TaskRecord; depth: number }[] = [];
  const walk = (t: TaskRecord, depth: number) => {
    out.push({ t, depth });
    for (const c of children.get(t.index) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  return out;
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
