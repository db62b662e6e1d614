// The `growing` lint: a channel's fill level or a task's memory that kept rising over the trace
// (growth.ts decides; this names it). The user story: a stuck bounded channel "fixed" by making
// it unbounded, whose level now climbs for as long as the producer outpaces the consumer.

import type { Lint, LintTask } from "./lint.js";
import type { TraceModel } from "./trace-model.js";
import { GROWTH_MIN_BYTES, GROWTH_MIN_ITEMS, judgeGrowth, type Growth } from "./growth.js";
import type { TaskRecord } from "./tasks.js";
import { formatBytes, formatCount, formatDuration } from "../report/units.js";

/** Task names listed per side of a channel. */
const NAMED = 3;

export function growingLints(model: TraceModel, makeLint: (l: Omit<Lint, "kind" | "severity">) => Lint): Lint[] {
  const out: Lint[] = [];
  const minSpan = model.thresholds.growthMinNs;
  const spanOf = (session: number) => model.span(session);
  for (const [r, g] of model.growth.channels) {
    const span = spanOf(r.session);
    if (!span || r.kind !== "channel") continue;
    const found = judgeGrowth(g.series, span.lastT, span.lastT - span.firstT, minSpan, GROWTH_MIN_ITEMS);
    if (!found) continue;
    found.endLevel = g.level;
    const senders = names(r.senders);
    const receivers = names(r.receivers);
    const bound = r.capacity > 0 ? `capacity ${formatCount(r.capacity)}` : "unbounded";
    const tasks = [...tasksOf(r.senders), ...tasksOf(r.receivers)];
    const evidence = figures(found, "channel");
    Object.assign(evidence, { resource: r.name, capacity: r.capacity, level: r.level, sentBy: senders.join(", "), receivedBy: receivers.join(", ") });
    out.push(makeLint({
      session: r.session,
      title:
        `growing: channel '${r.name}' (${bound}) grew from ${items(found.startLevel)} to ${items(found.endLevel)} items over ${formatDuration(found.untilNs - found.fromNs)}` +
        ` (${rate(found.ratePerS, items)}/s)${senders.length > 0 ? `, sent to by ${senders.join(", ")}` : ""}${receivers.length > 0 ? `, received by ${receivers.join(", ")}` : ""}`,
      hint:
        "its senders outpace its receivers and nothing pushes back: bound the channel (a full channel makes senders wait) " +
        "or make the receiving side faster; an unbounded queue only turns the stall into memory that grows",
      tasks: tasks.map(lintTaskOf),
      resource: r.name,
      resourceId: r.id,
      atNs: found.fromNs,
      untilNs: found.untilNs,
      evidence,
      impactNs: found.untilNs - found.fromNs,
    }));
  }
  for (const [t, g] of model.growth.memory) {
    const span = spanOf(t.session);
    if (!span) continue;
    const found = judgeGrowth(g.series, span.lastT, span.lastT - span.firstT, minSpan, GROWTH_MIN_BYTES);
    if (!found) continue;
    found.endLevel = g.level;
    const site = t.awaitSite !== 0 ? (model.nameIn(t.session, t.awaitSite) ?? `site#${t.awaitSite}`) : undefined;
    const evidence = figures(found, "memory");
    Object.assign(evidence, { task: t.name, memoryBytes: t.memBytes ?? 0, memoryPeakBytes: t.memPeak ?? 0 });
    out.push(makeLint({
      session: t.session,
      title:
        `growing: memory of ${t.name} (task ${t.id}) grew from ${bytes(found.startLevel)} to ${bytes(found.endLevel)} over ${formatDuration(found.untilNs - found.fromNs)}` +
        ` (${rate(found.ratePerS, bytes)}/s)${site ? `, parked at '${site}' at the end` : ""}`,
      hint: "its memory rose all through the trace: look for a buffer, queue or cache it fills and never trims",
      tasks: [lintTaskOf(t)],
      site,
      siteId: t.awaitSite || undefined,
      atNs: found.fromNs,
      untilNs: found.untilNs,
      evidence,
      impactNs: found.untilNs - found.fromNs,
    }));
  }
  return out;
}

function figures(g: Growth, what: "channel" | "memory"): Record<string, number | string> {
  return {
    what, startLevel: g.startLevel, endLevel: g.endLevel, peak: g.peak, ratePerS: g.ratePerS, spanNs: g.untilNs - g.fromNs,
    fromNs: g.fromNs, tau: g.tau, quarter1: g.quarters[0], quarter2: g.quarters[1], quarter3: g.quarters[2], quarter4: g.quarters[3], samples: g.samples,
  };
}

/** Up to NAMED tasks of a side, one per name, live ones first. */
function tasksOf(set: Iterable<TaskRecord>): TaskRecord[] {
  const byName = new Map<string, TaskRecord>();
  for (const t of set) {
    const seen = byName.get(t.name);
    if (!seen || (seen.endedAt !== undefined && t.endedAt === undefined)) byName.set(t.name, t);
  }
  return [...byName.values()].slice(0, NAMED);
}

function names(set: Iterable<TaskRecord>): string[] {
  return [...new Set([...set].map((t) => t.name))].slice(0, NAMED);
}

function lintTaskOf(t: TaskRecord): LintTask {
  return { session: t.session, id: t.id, name: t.name, index: t.index };
}

function items(x: number): string {
  return formatCount(Math.round(x));
}

function bytes(x: number): string {
  return formatBytes(Math.round(x));
}

function rate(perS: number, unit: (x: number) => string): string {
  return `+${unit(perS)}`;
}
