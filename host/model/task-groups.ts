// Ended tasks, folded. A trace that spawns a task per request holds hundreds of thousands of
// incarnations; the model keeps a record per live task only. When a task ends, its figures go
// into the group of look-alikes it belongs to (same session, name, parent name and end), and the
// record is dropped unless it is one of the group's few exemplars (the first ones, and the one
// with the longest poll), which reports and lints may name. Memory is bounded by the number of
// distinct groups, not by the number of tasks.

import { Histogram } from "./histogram.js";
import { lifetimeNs, packKey, type TaskEnd, type TaskRecord } from "./tasks.js";
import { foldTaskConc, type TaskConcFigures } from "./concurrency.js";

/** Exemplars kept per group in order of arrival (a group this small is listed task by task). */
export const FIRST_EXEMPLARS = 4;

export interface TaskGroup {
  session: number;
  name: string;
  parentName: string | undefined;
  end: Exclude<TaskEnd, "alive">;
  count: number;
  idMin: number;
  idMax: number;
  firstIndex: number;
  lastIndex: number;
  /** Sums over the group's tasks (ns unless named otherwise). */
  totalNs: number;
  busyNs: number;
  scheduledNs: number;
  idleNs: number;
  polls: number;
  wakes: number;
  selfWakes: number;
  wakesByTask: number;
  wakesByIrq: number;
  wakesExt: number;
  longPolls: number;
  longPollNs: number;
  passedOverSumNs: number;
  passedOverCount: number;
  passedOverMaxNs: number;
  firstPollDelaySumNs: number;
  firstPollDelayCount: number;
  maxPollNs: number;
  memPeak: number | undefined;
  pollTime: Histogram;
  wakeDelay: Histogram;
  lifetime: Histogram;
  /** Flows served and begun, waits that overlapped (summed; maxima), null if none served any. */
  conc: TaskConcFigures | null;
  /** The first FIRST_EXEMPLARS tasks, then the one with the longest poll (if another). */
  exemplars: TaskRecord[];
  worst: TaskRecord | undefined;
}

const END_CODE: Record<Exclude<TaskEnd, "alive">, number> = { done: 0, cancelled: 1, lost: 2 };

export class TaskGroups {
  private readonly byKey = new Map<number | string, TaskGroup>();
  /** In order of creation. */
  readonly list: TaskGroup[] = [];

  /** Folds an ended task in; returns true when its record is kept as an exemplar. */
  add(t: TaskRecord, end: Exclude<TaskEnd, "alive">, traceEnd: number): boolean {
    const key = packKey(t.session, t.nameKey, t.parentNameKey * 4 + END_CODE[end]);
    let g = this.byKey.get(key);
    if (!g) {
      g = newGroup(t, end);
      this.byKey.set(key, g);
      this.list.push(g);
    }
    g.count++;
    if (t.id < g.idMin) g.idMin = t.id;
    if (t.id > g.idMax) g.idMax = t.id;
    g.lastIndex = t.index;
    const lifetime = lifetimeNs(t, traceEnd);
    g.totalNs += lifetime;
    g.lifetime.add(lifetime);
    g.busyNs += t.busyNs;
    g.scheduledNs += t.scheduledNs;
    g.idleNs += t.idleNs;
    g.polls += t.polls;
    g.wakes += t.wakes;
    g.selfWakes += t.selfWakes;
    g.wakesByTask += t.wakesByTask;
    g.wakesByIrq += t.wakesByIrq;
    g.wakesExt += t.wakesExt;
    g.longPolls += t.longPolls;
    g.longPollNs += t.longPollNs;
    g.passedOverSumNs += t.passedOverSumNs;
    g.passedOverCount += t.passedOverCount;
    if (t.passedOverMaxNs > g.passedOverMaxNs) g.passedOverMaxNs = t.passedOverMaxNs;
    if (t.firstPollDelayNs !== undefined) {
      g.firstPollDelaySumNs += t.firstPollDelayNs;
      g.firstPollDelayCount++;
    }
    if (t.memPeak !== undefined) g.memPeak = Math.max(g.memPeak ?? 0, t.memPeak);
    if (t.conc) g.conc = foldTaskConc(g.conc, t.conc, traceEnd);
    g.pollTime.merge(t.pollTime);
    g.wakeDelay.merge(t.wakeDelay);
    if (g.exemplars.length < FIRST_EXEMPLARS) {
      g.exemplars.push(t);
      if (t.maxPollNs > g.maxPollNs) g.maxPollNs = t.maxPollNs;
      return true;
    }
    if (t.maxPollNs > g.maxPollNs) {
      g.maxPollNs = t.maxPollNs;
      g.worst = t;
      return true;
    }
    return false;
  }

  /** Every kept exemplar, in order of first sight. */
  exemplars(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const g of this.list) {
      for (const t of g.exemplars) out.push(t);
      if (g.worst) out.push(g.worst);
    }
    return out.sort((a, b) => a.index - b.index);
  }

  /** Forgets everything (a report window opens: figures restart there). */
  clear(): void {
    this.byKey.clear();
    this.list.length = 0;
  }
}

function newGroup(t: TaskRecord, end: Exclude<TaskEnd, "alive">): TaskGroup {
  return {
    session: t.session, name: t.name, parentName: t.parentName, end, count: 0,
    idMin: t.id, idMax: t.id, firstIndex: t.index, lastIndex: t.index,
    totalNs: 0, busyNs: 0, scheduledNs: 0, idleNs: 0, polls: 0, wakes: 0, selfWakes: 0,
    wakesByTask: 0, wakesByIrq: 0, wakesExt: 0, longPolls: 0, longPollNs: 0,
    passedOverSumNs: 0, passedOverCount: 0, passedOverMaxNs: 0,
    firstPollDelaySumNs: 0, firstPollDelayCount: 0, maxPollNs: 0, memPeak: undefined,
    pollTime: new Histogram(), wakeDelay: new Histogram(), lifetime: new Histogram(), conc: null,
    exemplars: [], worst: undefined,
  };
}
