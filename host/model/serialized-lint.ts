// The `serialized` lint: work structured to run concurrently whose waits never overlapped, with
// the await sites that took turns, the time measured and an estimate of the time had they
// overlapped. Two shapes, both measured by the model's one pass (concurrency.ts):
//   - a task that took turns awaiting independent I/O on different resources (a stream pipeline
//     that awaits the next item, then writes it, then awaits the next: no prefetching);
//   - requests of one kind in flight together but worked on one at a time by one task (a fan-out
//     whose requests are served inside the fan-out task).
// It fires only when overlapping would save at least a quarter of the time and a millisecond.
// docs/REPORT.md section 2 says what it can and cannot see.

import type { Lint, LintTask } from "./lint.js";
import type { TraceModel } from "./trace-model.js";
import { isLive } from "./tasks.js";
import { loopShape, type LoopGroup, foldLoop, loopGroupKey } from "./concurrency.js";
import { formatCount, formatDuration } from "../report/units.js";

/** Share of the measured time overlapping must save, and the least it must save. */
export const SERIAL_MIN_SAVING_SHARE = 0.25;
export const SERIAL_MIN_SAVING_NS = 1_000_000;

function worthIt(measuredNs: number, estimateNs: number): boolean {
  const saving = measuredNs - estimateNs;
  return saving >= SERIAL_MIN_SAVING_SHARE * measuredNs && saving >= SERIAL_MIN_SAVING_NS;
}

function speedup(measuredNs: number, estimateNs: number): string {
  return estimateNs > 0 ? `${(measuredNs / estimateNs).toFixed(1)}x` : "-";
}

export function serializedLints(model: TraceModel, makeLint: (l: Omit<Lint, "kind" | "severity">) => Lint): Lint[] {
  const out: Lint[] = [];
  const site = (session: number, id: number) => (id === 0 ? "?" : (model.nameIn(session, id) ?? `site#${id}`));
  const res = (session: number, id: number) => (id === 0 ? undefined : (model.resource(session, id)?.name ?? `resource ${id}`));
  const where = (session: number, s: number, r: number) => `'${site(session, s)}'${res(session, r) ? ` (${res(session, r)})` : ""}`;

  // Loops: the ended tasks' groups, and the live tasks' loops as of now.
  const loops = new Map<string, LoopGroup>();
  for (const [k, g] of model.concurrency.loops) loops.set(k, { ...g, keys: g.keys.map((x) => ({ ...x })) });
  for (const t of model.tasks) {
    const loop = isLive(t) ? t.conc?.loop : undefined;
    const shape = loop ? loopShape(loop) : undefined;
    if (!loop || !shape) continue;
    const key = loopGroupKey(t.session, t.name, shape);
    loops.set(key, foldLoop(loops.get(key), t, shape, loop.firstAt, loop.lastEnd));
  }
  // A task that served a fan-out one request at a time also takes turns at its requests' waits:
  // the fan-out lint (below) says it better.
  const fanOutServers = new Set<number>();
  for (const k of model.flows.kinds) {
    const s = k.conc?.serial;
    if (s?.server && s.periods > 0 && worthIt(s.measuredNs, s.estimateNs)) fanOutServers.add(s.server.index);
  }
  for (const g of loops.values()) {
    if (!worthIt(g.spanNs, g.estimateNs) || (g.tasks === 1 && fanOutServers.has(g.task.index))) continue;
    const sites = g.keys.map((k) => where(g.session, k.site, k.resource));
    const evidence: Record<string, number | string> = {
      shape: "loop", task: g.taskName, tasks: g.tasks, measuredNs: g.spanNs, estimateNs: g.estimateNs,
      speedup: g.spanNs / Math.max(1, g.estimateNs), turns: g.turns, boundBy: where(g.session, g.bound.site, g.bound.resource),
    };
    g.keys.forEach((k, i) => {
      evidence[`site${i + 1}`] = site(g.session, k.site);
      evidence[`site${i + 1}Resource`] = res(g.session, k.resource) ?? "";
      evidence[`site${i + 1}Waits`] = k.waits;
      evidence[`site${i + 1}WaitNs`] = k.waitNs;
    });
    const top = g.keys[0]!;
    out.push(makeLint({
      session: g.session,
      title:
        `serialized: ${g.taskName}${g.tasks > 1 ? ` (${formatCount(g.tasks)} tasks)` : ` (task ${g.task.id})`} took turns awaiting ${sites.join(" and ")}` +
        ` (${formatCount(g.turns)} turns); ${formatDuration(g.spanNs)}, about ${formatDuration(g.estimateNs)} if they overlapped (${speedup(g.spanNs, g.estimateNs)}, bound by ${evidence.boundBy})`,
      hint: "these waits are on different resources and never overlap: start the next one before awaiting the current (prefetch into a channel, or run the two sides as separate tasks)",
      tasks: [{ session: g.session, id: g.task.id, name: g.task.name, index: g.task.index }],
      site: site(g.session, top.site),
      resource: res(g.session, top.resource),
      siteId: top.site || undefined,
      resourceId: top.resource || undefined,
      atNs: g.firstAt,
      untilNs: g.lastEnd,
      evidence,
      impactNs: g.spanNs - g.estimateNs,
    }));
  }

  // Fan-outs served one at a time.
  for (const k of model.flows.kinds) {
    const s = k.conc?.serial;
    if (!s || s.periods === 0 || !worthIt(s.measuredNs, s.estimateNs)) continue;
    const sites = [...k.sites.values()].sort((a, b) => b.perFlow.sum - a.perFlow.sum).slice(0, 3);
    const tasks: LintTask[] = s.server ? [{ session: k.session, id: s.server.id, name: s.server.name, index: s.server.index }] : [];
    const evidence: Record<string, number | string> = {
      shape: "fan-out", kind: k.name, requests: s.flows, bursts: s.periods, inFlightMax: s.inFlightMax,
      measuredNs: s.measuredNs, estimateNs: s.estimateNs, speedup: s.measuredNs / Math.max(1, s.estimateNs),
      burstP50Ns: s.periodNs.quantile(0.5), burstEstimateP50Ns: s.periodEstimateNs.quantile(0.5),
      serialNs: s.serialNs, longestWaitsNs: s.chainNs, servedBy: s.server ? `${s.server.name} (task ${s.server.id})` : "",
      burstsWithOtherServers: s.otherServers,
    };
    sites.forEach((x, i) => {
      evidence[`site${i + 1}`] = site(k.session, x.site);
      evidence[`site${i + 1}Resource`] = res(k.session, x.resource) ?? "";
      evidence[`site${i + 1}WaitNs`] = x.perFlow.sum;
    });
    const top = sites[0];
    out.push(makeLint({
      session: k.session,
      title:
        `serialized: '${k.name}' requests were in flight together (up to ${s.inFlightMax}) but worked on one at a time` +
        `${s.server ? ` by ${s.server.name} (task ${s.server.id})` : ""}: ${formatCount(s.flows)} in ${formatCount(s.periods)} bursts, ` +
        `${formatDuration(s.measuredNs)}, about ${formatDuration(s.estimateNs)} overlapped (${speedup(s.measuredNs, s.estimateNs)})` +
        (sites.length > 0 ? `; waits at ${sites.map((x) => where(k.session, x.site, x.resource)).join(", ")} took turns` : ""),
      hint: "the fan-out task does each request's work itself: give each request its own task (spawn), or keep the work that waits out of the fan-out loop",
      tasks,
      site: top ? site(k.session, top.site) : undefined,
      resource: top ? res(k.session, top.resource) : undefined,
      siteId: top?.site || undefined,
      resourceId: top?.resource || undefined,
      atNs: k.firstBeganAt,
      untilNs: undefined,
      evidence,
      impactNs: s.measuredNs - s.estimateNs,
    }));
  }
  return out;
}
