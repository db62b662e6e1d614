// Slow-request analysis: for each kind of request (flow name) with enough finished flows, the
// flows at or above a latency percentile are compared with a typical flow of the same kind:
// where did the extra time go (await sites and resources, CPU), which task held the resource,
// and do the slow ones cluster in time?
//
// Waits ended by a wake from another task of the same flow (a join, a reply) are left out of the
// comparison: they are explained by what that other task did, which is itself in the flow.

import type { TraceModel } from "./trace-model.js";
import type { Thresholds } from "./thresholds.js";
import { latencyOf, waitKey, type FlowKind, type FlowRecord, type FlowStep } from "./flows.js";
import type { Histogram } from "./histogram.js";
import type { TaskRef } from "./tasks.js";
import { criticalPath, sumCriticalPaths, type CriticalPath, type CriticalSums } from "./critical-path.js";

export interface SlowCause {
  /** "wait": parked at site on resource; "cpu": the flow's tasks ran longer. */
  kind: "wait" | "cpu";
  site: number;
  resource: number;
  siteName: string | null;
  resourceName: string | null;
  /** Mean per slow flow, median per flow of the kind, and the difference (ns). */
  slowMeanNs: number;
  typicalNs: number;
  extraNs: number;
  /** Slow flows that waited there. */
  flows: number;
  /** The task that most often held the resource when slow flows blocked on it (mutexes). */
  blocker: { index: number; id: number; name: string } | null;
}

export interface SlowGroup {
  /** Label of the dominant cause of each flow in the group ("site on resource", or "cpu"). */
  cause: string;
  count: number;
}

export interface SlowCluster {
  fromNs: number;
  toNs: number;
  flows: number;
}

export interface SlowFlow {
  id: number;
  beganNs: number;
  latencyNs: number;
  /** CPU time of its tasks while serving it. */
  busyNs: number;
  /** Tasks that served it. */
  tasks: TaskRef[];
  /** Its waits in order (at most MAX_STEPS; stepsDropped more were only counted). */
  steps: FlowStep[];
  stepsDropped: number;
  /** The waits that decided when it ended (critical-path.ts). */
  criticalPath: CriticalPath;
}

export interface SlowKindReport {
  session: number;
  kind: string;
  flows: number;
  unfinished: number;
  medianNs: number;
  percentile: number;
  /** Latency of the fastest flow counted as slow. */
  thresholdNs: number;
  slowCount: number;
  /** True when the slow flows stand out (thresholds slowFactor and slowMinNs). */
  significant: boolean;
  /** Largest extra time first (at most 5). */
  causes: SlowCause[];
  groups: SlowGroup[];
  clustered: boolean;
  clusters: SlowCluster[];
  /** Slowest first (at most 10). */
  slowest: SlowFlow[];
  /** The slow flows' critical paths, summed per await site and per resource (empty unless
   *  significant). */
  criticalPath: CriticalSums;
  /** More slow flows than were kept in detail: the analysis used the slowest kept ones. */
  truncated: boolean;
}

/** Slow-request reports for every flow kind with at least slowMinFlows finished flows. */
export function analyzeSlowRequests(model: TraceModel, th: Thresholds): SlowKindReport[] {
  const out: SlowKindReport[] = [];
  for (const kind of model.flows.kinds) {
    const n = kind.latency.count;
    if (n < th.slowMinFlows || n === 0) continue;
    out.push(analyzeKind(model, kind, th));
  }
  return out;
}

function analyzeKind(model: TraceModel, kind: FlowKind, th: Thresholds): SlowKindReport {
  const n = kind.latency.count;
  const wanted = Math.max(1, n - Math.floor((n * th.slowPercentile) / 100));
  const sorted = [...kind.retained].sort((a, b) => latencyOf(b) - latencyOf(a));
  const slow = sorted.slice(0, wanted);
  const thresholdNs = slow.length > 0 ? latencyOf(slow[slow.length - 1]!) : 0;
  const medianNs = kind.latency.quantile(0.5);
  const significant = slow.length > 0 && thresholdNs >= th.slowFactor * medianNs && thresholdNs - medianNs >= th.slowMinNs;

  const causes = significant ? causesOf(model, kind, slow) : [];
  const groups = significant ? groupsOf(model, kind, slow) : [];
  const clusters = significant ? clustersOf(kind, slow) : [];
  const inLargest = clusters.reduce((m, c) => Math.max(m, c.flows), 0);
  const span = kind.lastBeganAt - kind.firstBeganAt;
  const largest = clusters.find((c) => c.flows === inLargest);
  const clustered = slow.length >= 3 && largest !== undefined && inLargest * 2 >= slow.length && largest.toNs - largest.fromNs <= 0.2 * span;
  const paths = new Map(slow.slice(0, significant ? slow.length : 10).map((f) => [f, criticalPath(f)]));

  return {
    session: kind.session,
    kind: kind.name,
    flows: n,
    unfinished: kind.unfinished,
    medianNs,
    percentile: th.slowPercentile,
    thresholdNs,
    slowCount: slow.length,
    significant,
    causes,
    groups,
    clustered,
    clusters,
    slowest: slow.slice(0, 10).map((f) => ({
      id: f.id, beganNs: f.beganAt, latencyNs: latencyOf(f), busyNs: f.busyNs, tasks: f.tasks, steps: f.steps, stepsDropped: f.stepsDropped,
      criticalPath: paths.get(f)!,
    })),
    criticalPath: sumCriticalPaths(significant ? [...paths.values()] : []),
    truncated: wanted > kind.retained.length,
  };
}

/** Median per flow of the kind, counting flows that never waited there as 0. */
function typicalOf(perFlow: Histogram | undefined, flows: number): number {
  if (!perFlow || perFlow.count === 0) return 0;
  const rank = Math.ceil(flows / 2);
  const zeros = flows - perFlow.count;
  if (rank <= zeros) return 0;
  return perFlow.quantile((rank - zeros) / perFlow.count);
}

function externalWaits(f: FlowRecord): Map<number, { site: number; resource: number; ns: number; blocker: TaskRef | undefined }> {
  const out = new Map<number, { site: number; resource: number; ns: number; blocker: TaskRef | undefined }>();
  for (const [key, w] of f.waits) {
    const ns = w.waitNs - w.internalNs;
    if (ns > 0) out.set(key, { site: w.site, resource: w.resource, ns, blocker: w.blocker });
  }
  return out;
}

function causesOf(model: TraceModel, kind: FlowKind, slow: FlowRecord[]): SlowCause[] {
  const n = kind.latency.count;
  const sums = new Map<number, { site: number; resource: number; ns: number; flows: number; blockers: Map<number, { ref: TaskRef; count: number }> }>();
  let busy = 0;
  for (const f of slow) {
    busy += f.busyNs;
    for (const [key, w] of externalWaits(f)) {
      let s = sums.get(key);
      if (!s) {
        s = { site: w.site, resource: w.resource, ns: 0, flows: 0, blockers: new Map() };
        sums.set(key, s);
      }
      s.ns += w.ns;
      s.flows++;
      if (w.blocker) {
        const had = s.blockers.get(w.blocker.index);
        if (had) had.count++;
        else s.blockers.set(w.blocker.index, { ref: w.blocker, count: 1 });
      }
    }
  }
  const causes: SlowCause[] = [];
  for (const s of sums.values()) {
    const slowMean = s.ns / slow.length;
    const typical = typicalOf(kind.sites.get(waitKey(s.site, s.resource))?.perFlow, n);
    let blocker: SlowCause["blocker"] = null;
    let best = 0;
    for (const { ref, count } of s.blockers.values()) {
      if (count > best) {
        best = count;
        blocker = { index: ref.index, id: ref.id, name: ref.name };
      }
    }
    const res = s.resource === 0 ? undefined : model.resource(kind.session, s.resource);
    causes.push({
      kind: "wait",
      site: s.site,
      resource: s.resource,
      siteName: model.nameIn(kind.session, s.site) ?? (s.site === 0 ? null : `site#${s.site}`),
      resourceName: res ? res.name : s.resource === 0 ? null : `resource ${s.resource}`,
      slowMeanNs: slowMean,
      typicalNs: typical,
      extraNs: slowMean - typical,
      flows: s.flows,
      blocker,
    });
  }
  const busyMean = busy / slow.length;
  const busyTypical = kind.busy.quantile(0.5);
  causes.push({
    kind: "cpu", site: 0, resource: 0, siteName: null, resourceName: null,
    slowMeanNs: busyMean, typicalNs: busyTypical, extraNs: busyMean - busyTypical, flows: slow.length, blocker: null,
  });
  return causes.filter((c) => c.extraNs > 0).sort((a, b) => b.extraNs - a.extraNs).slice(0, 5);
}

export function causeLabel(c: Pick<SlowCause, "kind" | "siteName" | "resourceName">): string {
  if (c.kind === "cpu") return "CPU time";
  const site = c.siteName ? `'${c.siteName}'` : "an unnamed await";
  return c.resourceName ? `${site} on '${c.resourceName}'` : site;
}

function groupsOf(model: TraceModel, kind: FlowKind, slow: FlowRecord[]): SlowGroup[] {
  const n = kind.latency.count;
  const counts = new Map<string, number>();
  for (const f of slow) {
    let best = "CPU time";
    let bestExtra = f.busyNs - kind.busy.quantile(0.5);
    for (const [key, w] of externalWaits(f)) {
      const extra = w.ns - typicalOf(kind.sites.get(key)?.perFlow, n);
      if (extra > bestExtra) {
        bestExtra = extra;
        const res = w.resource === 0 ? undefined : model.resource(kind.session, w.resource);
        best = causeLabel({
          kind: "wait",
          siteName: model.nameIn(kind.session, w.site) ?? null,
          resourceName: res ? res.name : null,
        });
      }
    }
    counts.set(best, (counts.get(best) ?? 0) + 1);
  }
  return [...counts].map(([cause, count]) => ({ cause, count })).sort((a, b) => b.count - a.count);
}

/** Runs of slow flows that began closer together than a quarter of the gap they would have if
 *  spread evenly over the kind's time span. Only runs of two or more. */
function clustersOf(kind: FlowKind, slow: FlowRecord[]): SlowCluster[] {
  if (slow.length < 2) return [];
  const starts = slow.map((f) => f.beganAt).sort((a, b) => a - b);
  const span = Math.max(1, kind.lastBeganAt - kind.firstBeganAt);
  const gap = (0.25 * span) / slow.length;
  const out: SlowCluster[] = [];
  let from = starts[0]!;
  let count = 1;
  for (let i = 1; i <= starts.length; i++) {
    const t = starts[i];
    if (t !== undefined && t - starts[i - 1]! <= gap) {
      count++;
      continue;
    }
    if (count >= 2) out.push({ fromNs: from, toNs: starts[i - 1]!, flows: count });
    if (t !== undefined) {
      from = t;
      count = 1;
    }
  }
  return out;
}
