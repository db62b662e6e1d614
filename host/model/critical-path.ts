// The critical path of one request: the chain of waits that decided when it ended, found by
// walking back from its end. From the task that ended the flow, its latest wait before the
// current time is on the path, unless another task of the same flow ended it (a join, a reply):
// then the path continues in that task, whose own waits explain the time. A task with no earlier
// wait hands the path back to the flow's owner (who began it). Time between waits on the
// path is CPU or queueing (the task was running or runnable). Waits that overlapped a path wait
// (a sibling that finished sooner) are not on it.
//
// Works on the steps the flow kept (at most MAX_STEPS per flow, for the slowest flows of each kind):
// a flow with steps dropped gets a path marked partial.

import type { FlowRecord, FlowStep } from "./flows.js";
import type { TaskRef } from "./tasks.js";

export interface CriticalStep {
  task: TaskRef;
  site: number;
  resource: number;
  atNs: number;
  /** Its time on the path. */
  ns: number;
}

export interface CriticalPath {
  /** Waits on the path, in time order. */
  steps: CriticalStep[];
  /** Time on the path outside waits: running or runnable (or before the flow's first task). */
  otherNs: number;
  /** Steps or tasks were not kept: the path may miss some waits. */
  partial: boolean;
}

export function criticalPath(f: FlowRecord): CriticalPath {
  const partial = f.stepsDropped > 0 || f.taskCount > f.tasks.length;
  const end = f.endedAt;
  const begin = f.beganAt;
  // Each task's steps, in the order they ended (the order they were added).
  const byTask = new Map<number, FlowStep[]>();
  for (const s of f.steps) {
    const list = byTask.get(s.task.index);
    if (list) list.push(s);
    else byTask.set(s.task.index, [s]);
  }
  const next = new Map<number, number>(); // per task: the latest step not yet passed
  // A task with no earlier wait hands the path to the flow's owner (who began it, and usually
  // spawned or messaged the others); no parent per task is kept (an allocation per request).
  const owner = f.owner?.index ?? -1;
  const parentOf = new Map(f.tasks.map((t) => [t.index, t.index === owner ? -1 : owner]));
  let cur = f.endedBy >= 0 ? f.endedBy : (f.owner?.index ?? f.tasks[0]?.index ?? -1);
  let t = end;
  let other = 0;
  const out: CriticalStep[] = [];
  for (let guard = 0; t > begin && cur >= 0 && guard < 4 * f.steps.length + 64; guard++) {
    const list = byTask.get(cur) ?? [];
    let k = next.get(cur) ?? list.length - 1;
    while (k >= 0 && list[k]!.atNs + list[k]!.waitNs > t) k--;
    if (k >= 0) {
      const s = list[k]!;
      next.set(cur, k - 1);
      const sEnd = s.atNs + s.waitNs;
      other += t - sEnd;
      t = sEnd;
      if (s.internal && s.wokenBy >= 0 && s.wokenBy !== cur && (byTask.has(s.wokenBy) || parentOf.has(s.wokenBy))) {
        cur = s.wokenBy; // the task that ended this wait explains it
        continue;
      }
      const from = Math.max(s.atNs, begin);
      if (sEnd > from) out.push({ task: s.task, site: s.site, resource: s.resource, atNs: from, ns: sEnd - from });
      t = from;
      continue;
    }
    // No earlier wait of this task: back to the task that spawned it into the flow.
    const parent = parentOf.get(cur) ?? -1;
    next.set(cur, -1);
    if (parent >= 0 && parent !== cur && parentOf.has(parent)) {
      cur = parent;
      continue;
    }
    break;
  }
  if (t > begin) other += t - begin;
  out.reverse();
  return { steps: out, otherNs: other, partial };
}

/** Critical-path time of a set of requests, per await site and per resource. */
export interface CriticalSums {
  flows: number;
  otherNs: number;
  bySite: { site: number; resource: number; ns: number; flows: number }[];
  byResource: { resource: number; ns: number; flows: number; sites: number }[];
}

export function sumCriticalPaths(paths: CriticalPath[]): CriticalSums {
  const sites = new Map<string, { site: number; resource: number; ns: number; flows: Set<number> }>();
  const resources = new Map<number, { resource: number; ns: number; flows: Set<number>; sites: Set<number> }>();
  let other = 0;
  paths.forEach((p, i) => {
    other += p.otherNs;
    for (const s of p.steps) {
      const key = `${s.site}/${s.resource}`;
      let a = sites.get(key);
      if (!a) sites.set(key, (a = { site: s.site, resource: s.resource, ns: 0, flows: new Set() }));
      a.ns += s.ns;
      a.flows.add(i);
      if (s.resource === 0) continue;
      let r = resources.get(s.resource);
      if (!r) resources.set(s.resource, (r = { resource: s.resource, ns: 0, flows: new Set(), sites: new Set() }));
      r.ns += s.ns;
      r.flows.add(i);
      r.sites.add(s.site);
    }
  });
  return {
    flows: paths.length,
    otherNs: other,
    bySite: [...sites.values()].map((a) => ({ site: a.site, resource: a.resource, ns: a.ns, flows: a.flows.size })).sort((a, b) => b.ns - a.ns),
    byResource: [...resources.values()]
      .map((r) => ({ resource: r.resource, ns: r.ns, flows: r.flows.size, sites: r.sites.size }))
      .sort((a, b) => b.ns - a.ns),
  };
}
