// Request flows: each request (FLOW_BEGIN..FLOW_END) with the tasks that served it, the await
// sites and resources they waited at, in order, with timings. Memory stays bounded however many
// requests a trace holds: a flow is tracked in detail while it runs; once it ends, its latency and
// per-site times go into per-kind histograms, and only the slowest RETAINED_PER_KIND flows of each
// kind keep their details (the slow-request analysis needs no more).

import { Histogram } from "./histogram.js";
import { IdTable } from "./id-table.js";
import { taskRef, type TaskRecord, type TaskRef } from "./tasks.js";
import type { Concurrency, FlowConc, KindConc } from "./concurrency.js";


/** Flows kept in detail per kind (flow name), the slowest ones. */
export const RETAINED_PER_KIND = 100;
/** Steps kept per flow; later ones are only counted (their time still adds to the sums). */
export const MAX_STEPS = 48;
/** Tasks listed per flow. */
export const MAX_FLOW_TASKS = 32;

/** One wait of a task serving the flow: parked at `site` on `resource` from `atNs` for `waitNs`. */
export interface FlowStep {
  task: TaskRef;
  site: number;
  resource: number;
  atNs: number;
  waitNs: number;
  /** The wake that ended it came from another task of the same flow (a join, a reply). */
  internal: boolean;
  /** That task's index when internal, else -1 (the critical path continues there). */
  wokenBy: number;
}

/** Time the flow's tasks waited at one (site, resource). */
export interface FlowWait {
  site: number;
  resource: number;
  waitNs: number;
  /** Part of waitNs ended by a wake from another task of the same flow. */
  internalNs: number;
  count: number;
  /** The task that held the mutex for most of the longest wait, if known. */
  blocker: TaskRef | undefined;
  longestNs: number;
}

export interface FlowRecord extends FlowConc {
  session: number;
  id: number;
  nameId: number;
  name: string;
  beganAt: number;
  /** NaN while running. */
  endedAt: number;
  /** Task that began it, if known. */
  owner: TaskRef | undefined;
  /** Tasks that served it, in order of arrival, at most MAX_FLOW_TASKS. */
  tasks: TaskRef[];
  taskCount: number;
  /** The task that ended it (index), -1 if none or not known. */
  endedBy: number;
  /** CPU time of its tasks while serving it. */
  busyNs: number;
  waits: Map<number, FlowWait>;
  steps: FlowStep[];
  stepsDropped: number;
  /** Its kind's statistics (where it goes when it ends). */
  kindStats: FlowKind;
}

/** Per (site, resource), across the finished flows of one kind. */
export interface KindSite {
  site: number;
  resource: number;
  /** External wait (not internal) per flow that waited there at all. */
  perFlow: Histogram;
}

export interface FlowKind {
  session: number;
  nameId: number;
  name: string;
  latency: Histogram;
  busy: Histogram;
  sites: Map<number, KindSite>;
  /** The slowest finished flows, in detail (unordered). */
  retained: FlowRecord[];
  /** Latency of the fastest retained flow (the bar a new flow must pass). */
  retainedFloor: number;
  unfinished: number;
  /** First and last flow start, for the time-clustering check. */
  firstBeganAt: number;
  lastBeganAt: number;
  /** In flight and served over time (concurrency.ts). */
  conc: KindConc | null;
}

/** Key of a (site, resource) pair: a small integer (fast map key) for the usual small ids. */
export function waitKey(site: number, resource: number): number {
  return site < 0x4000 && resource < 0x4000 ? (site << 14) | resource : 0x1000_0000 + site * 0x1_0000_0000 + resource;
}

export class FlowTracker {
  /** Running flows of the session being read, by id (a session's flows end with it). */
  readonly active = new IdTable<FlowRecord>();
  /** Finished-flow statistics by kind, in order of first appearance. */
  readonly kinds: FlowKind[] = [];
  private readonly kindIndex = new Map<string, FlowKind>();
  private readonly kindById = new Map<number, FlowKind>();
  finished = 0;
  /** Told of every flow's begin and end (the model's concurrency figures). */
  hooks: Concurrency | undefined;

  get(session: number, id: number): FlowRecord | undefined {
    const f = this.active.get(id);
    return f !== undefined && f.session === session ? f : undefined;
  }

  begin(session: number, id: number, nameId: number, name: string, owner: TaskRecord | undefined, t: number): FlowRecord {
    const old = this.get(session, id);
    if (old) this.end(old, t, true);
    const kind = this.kind(session, nameId, name);
    const f: FlowRecord = {
      session, id, nameId, name, beganAt: t, endedAt: Number.NaN, owner: owner ? taskRef(owner) : undefined,
      tasks: [], taskCount: 0, endedBy: -1, busyNs: 0, waits: new Map(), steps: [], stepsDropped: 0, kindStats: kind,
      // (concurrency.ts, kept in the record itself: no allocation per request)
      servedBy: 0, parked: 0, multi: null, ownerConc: null, concEnded: false,
    };
    this.active.set(id, f);
    if (Number.isNaN(kind.firstBeganAt)) kind.firstBeganAt = t;
    kind.lastBeganAt = t;
    if (owner) this.join(f, owner);
    this.hooks?.flowBegun(f, owner, t);
    return f;
  }

  /** A task serves the flow from now on. */
  join(f: FlowRecord, task: TaskRecord): void {
    for (const t of f.tasks) if (t.index === task.index) return;
    f.taskCount++;
    if (f.tasks.length < MAX_FLOW_TASKS) {
      f.tasks.push(taskRef(task));
    }
  }

  addWait(f: FlowRecord, step: FlowStep, blocker: TaskRef | undefined): void {
    const key = waitKey(step.site, step.resource);
    let w = f.waits.get(key);
    if (!w) {
      w = { site: step.site, resource: step.resource, waitNs: 0, internalNs: 0, count: 0, blocker: undefined, longestNs: 0 };
      f.waits.set(key, w);
    }
    w.waitNs += step.waitNs;
    if (step.internal) w.internalNs += step.waitNs;
    w.count++;
    if (step.waitNs > w.longestNs) {
      w.longestNs = step.waitNs;
      w.blocker = blocker;
    }
    if (f.steps.length < MAX_STEPS) f.steps.push(step);
    else f.stepsDropped++;
  }

  /** Ends a flow: its figures go into its kind's statistics; kept in detail if among the slowest.
   *  `unfinished`: it was replaced or the trace ended first (counted, not in the latencies).
   *  `by`: the task that ended it. */
  end(f: FlowRecord, t: number, unfinished = false, by?: TaskRecord): void {
    if (this.active.get(f.id) === f) this.active.delete(f.id);
    this.hooks?.flowEnded(f, t, unfinished);
    if (by) f.endedBy = by.index;
    const kind = f.kindStats;
    if (unfinished) {
      kind.unfinished++;
      return;
    }
    f.endedAt = t;
    this.finished++;
    const latency = t - f.beganAt;
    kind.latency.add(latency);
    kind.busy.add(f.busyNs);
    for (const w of f.waits.values()) {
      const external = w.waitNs - w.internalNs;
      if (external <= 0) continue;
      const key = waitKey(w.site, w.resource);
      let s = kind.sites.get(key);
      if (!s) {
        s = { site: w.site, resource: w.resource, perFlow: new Histogram() };
        kind.sites.set(key, s);
      }
      s.perFlow.add(external);
    }
    retain(kind, f, latency);
  }

  /** Flows still running when their session ends at `t`. */
  closeSession(session: number, t: number): void {
    for (const f of [...this.active.values()]) if (f.session === session) this.end(f, t, true);
    this.kindById.clear();
  }

  kind(session: number, nameId: number, name: string): FlowKind {
    const byId = this.kindById.get(nameId);
    // (kindById serves the session being read; it is cleared when another one starts)
    if (byId) return byId;
    const key = `${session}\u0000${name}`;
    let k = this.kindIndex.get(key);
    if (!k) {
      k = {
        session, nameId, name, latency: new Histogram(), busy: new Histogram(), sites: new Map(),
        retained: [], retainedFloor: 0, unfinished: 0, firstBeganAt: Number.NaN, lastBeganAt: Number.NaN, conc: null,
      };
      this.kindIndex.set(key, k);
      this.kinds.push(k);
    }
    this.kindById.set(nameId, k);
    return k;
  }

  /** Forgets finished-flow statistics (a report window starts); running flows stay. */
  resetFinished(): void {
    this.kinds.length = 0;
    this.kindIndex.clear();
    this.kindById.clear();
    this.finished = 0;
  }
}

export function latencyOf(f: FlowRecord): number {
  return f.endedAt - f.beganAt;
}

/** Keeps `f` if it is among the RETAINED_PER_KIND slowest of its kind. Replacing the fastest
 *  retained flow is a linear scan, but only flows slower than all but one of the kept ones pay it. */
function retain(kind: FlowKind, f: FlowRecord, latency: number): void {
  const kept = kind.retained;
  if (kept.length < RETAINED_PER_KIND) {
    kept.push(f);
    if (kept.length === RETAINED_PER_KIND) kind.retainedFloor = minLatency(kept).value;
    return;
  }
  if (latency <= kind.retainedFloor) return;
  const { at } = minLatency(kept);
  kept[at] = f;
  kind.retainedFloor = minLatency(kept).value;
}

function minLatency(list: FlowRecord[]): { at: number; value: number } {
  let at = 0;
  let value = Number.POSITIVE_INFINITY;
  for (let i = 0; i < list.length; i++) {
    const l = latencyOf(list[i]!);
    if (l < value) {
      value = l;
      at = i;
    }
  }
  return { at, value };
}
