// The lints: each failure async users hit, found in the model's state, with its evidence (task,
// await site, resource, times) and a one-line hint. Pure: the same model gives the same lints, at
// the end of a trace or (for a live view) at any moment, "now" being the last event seen.
// docs/REPORT.md defines every lint and its thresholds.

import { passedOverKey, type TraceModel, type LongPollGroup, type LateTimerGroup, type SessionSpan } from "./trace-model.js";
import type { Lint, LintKind, LintSeverity, LintTask } from "./lint.js";
import { isLive, wakerCountKnown, type TaskRecord, type TaskRef } from "./tasks.js";
import type { Thresholds } from "./thresholds.js";
import { waitsForGraph, findDeadlocks, stuckTasks, type WaitEdge } from "./waits-for.js";
import { analyzeSlowRequests, causeLabel, type SlowKindReport } from "./slow-requests.js";
import type { TraceSummary } from "../tracefile/trace.js";
import { ticksToNs } from "../format/chunk.js";
import { RESOURCE_OP } from "../format/spec.js";
import { formatDuration, formatCount } from "../report/units.js";
import { lossAccount } from "../tracefile/loss-account.js";
import { serializedLints } from "./serialized-lint.js";
import { growingLints } from "./growth-lint.js";

export interface LintInput {
  model: TraceModel;
  /** The file's summary, for losses the model cannot see (device counters, stored losses). */
  summary?: TraceSummary;
  /** Slow-request reports, if already computed (else computed here). */
  slow?: SlowKindReport[];
}

/** Every lint kind, for documents and tests (the record makes the compiler check it is complete). */
const KIND_CHECK: Record<LintKind, true> = {
  "lost-wakeup": true, deadlock: true, "long-poll": true, starvation: true, "self-wake-loop": true,
  leak: true, backpressure: true, "lost-events": true, "slow-requests": true, "late-timer": true, serialized: true,
  growing: true,
};
export const LINT_KINDS = Object.keys(KIND_CHECK) as LintKind[];

const SEVERITY_RANK: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

/** Every lint, most important first: severity, then impact, then time. */
export function findLints(input: LintInput): Lint[] {
  const { model } = input;
  const th = model.thresholds;
  const lints: Lint[] = [];
  const named = new Set<TaskRecord>(); // tasks an error already explains
  const tasks = model.tasks;
  for (const span of model.sessions) {
    const mine = tasks.filter((t) => t.session === span.index);
    const deadlocks = deadlockLints(model, span, th);
    for (const l of deadlocks.lints) lints.push(l);
    for (const t of deadlocks.tasks) named.add(t);
    for (const l of lostWakeLints(model, span, mine, th, named)) lints.push(l);
    for (const l of backpressureLints(model, span, mine, th, deadlocks.channels)) lints.push(l);
    for (const l of leakLints(model, span, mine, th, named)) lints.push(l);
  }
  for (const g of model.longPolls.values()) lints.push(longPollLint(model, g, th));
  const byName = nameStats(model, tasks);
  for (const l of starvationLints(model, byName, th)) lints.push(l);
  for (const l of selfWakeLints(model, byName, th)) lints.push(l);
  for (const g of model.lateTimers.values()) {
    const l = lateTimerLint(model, g, th);
    if (l) lints.push(l);
  }
  for (const r of input.slow ?? analyzeSlowRequests(model, th)) {
    const l = slowRequestLint(model, r);
    if (l) lints.push(l);
  }
  for (const l of serializedLints(model, (f) => lint("serialized", "warning", f.session, f))) lints.push(l);
  for (const l of growingLints(model, (f) => lint("growing", "warning", f.session, f))) lints.push(l);
  if (input.summary) for (const l of lostEventLints(model, input.summary)) lints.push(l);
  return sortLints(lints);
}

export function sortLints(lints: Lint[]): Lint[] {
  return lints.sort(
    (a, b) =>
      SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] ||
      (b.impactNs ?? 0) - (a.impactNs ?? 0) ||
      a.atNs - b.atNs,
  );
}

// ---- helpers ----

export function lintTask(t: TaskRef): LintTask {
  return { session: t.session, id: t.id, name: t.name, index: t.index };
}

function who(t: TaskRef): string {
  return `${t.name} (task ${t.id})`;
}

function siteOf(model: TraceModel, session: number, site: number): string | undefined {
  return site === 0 ? undefined : (model.nameIn(session, site) ?? `site#${site}`);
}

function resName(model: TraceModel, session: number, id: number): string | undefined {
  if (id === 0) return undefined;
  return model.resource(session, id)?.name ?? `resource ${id}`;
}

/** A time as an offset from the session's first event ("at 312ms"). */
function at(span: SessionSpan | undefined, t: number): string {
  return formatDuration(t - (span?.firstT ?? 0));
}

function lint(
  kind: LintKind,
  severity: LintSeverity,
  session: number,
  fields: Omit<Lint, "kind" | "severity" | "session">,
): Lint {
  const out: Lint = { kind, severity, session, ...fields };
  for (const key of Object.keys(out) as (keyof Lint)[]) if (out[key] === undefined) delete out[key];
  return out;
}

// ---- deadlock ----

function deadlockLints(model: TraceModel, span: SessionSpan, th: Thresholds) {
  const edges = waitsForGraph(model, span.index);
  const end = span.lastT;
  const lints: Lint[] = [];
  const tasks = new Set<TaskRecord>();
  const channels = new Set<number>();
  const stuck = stuckTasks(edges);
  const latestOf = (g: WaitEdge[]) => g.reduce((m, e) => Math.max(m, e.since), Number.NEGATIVE_INFINITY);
  const groups = findDeadlocks(edges).filter((g) => end - latestOf(g) >= th.stuckNs);
  // A stuck task outside every group waits on one of them: it is blocked behind that deadlock.
  const behind = new Map<WaitEdge[], TaskRecord[]>();
  const groupOf = new Map<TaskRecord, WaitEdge[]>();
  for (const g of groups) for (const e of g) groupOf.set(e.from, g);
  for (const t of stuck) {
    if (groupOf.has(t)) continue;
    const seen = new Set<TaskRecord>([t]);
    const queue = [t];
    let found: WaitEdge[] | undefined;
    while (queue.length > 0 && !found) {
      for (const h of edges.get(queue.shift()!)!.to) {
        if (groupOf.has(h)) {
          found = groupOf.get(h);
          break;
        }
        if (stuck.has(h) && !seen.has(h)) {
          seen.add(h);
          queue.push(h);
        }
      }
    }
    if (found) behind.set(found, [...(behind.get(found) ?? []), t]);
  }
  for (const group of groups) {
    const members = group.map((e) => e.from);
    const latest = latestOf(group);
    const back = behind.get(group) ?? [];
    for (const e of group) {
      tasks.add(e.from);
      channels.add(e.resource.index);
    }
    for (const t of back) {
      tasks.add(t);
      channels.add(edges.get(t)!.resource.index);
    }
    const first = group[0]!;
    const parts = group.map((e) => `${who(e.from)} waits at '${siteOf(model, span.index, e.site) ?? "?"}' ${edgeText(e)}`);
    const resources = [...new Set(group.map((e) => e.resource))];
    const evidence: Record<string, number | string> = {
      stuckNs: end - latest, tasksInCycle: group.length, blockedBehind: back.length,
      resources: resources.map((r) => r.name).join(", "),
    };
    if (back.length > 0) evidence.behind = back.map(who).join(", ");
    group.forEach((e, i) => {
      evidence[`task${i + 1}`] = who(e.from);
      evidence[`site${i + 1}`] = siteOf(model, span.index, e.site) ?? "";
      evidence[`resource${i + 1}`] = resourceText(e);
      evidence[`blockedSince${i + 1}Ns`] = e.since;
      evidence[`waitsFor${i + 1}`] = e.to.map(who).join(", ");
    });
    const head = members.length > 2 ? `${members.length} tasks wait on each other: ` : "";
    lints.push(
      lint("deadlock", "error", span.index, {
        title: `deadlock: ${head}${parts.join("; ")}${back.length > 0 ? `; ${back.length} more task(s) blocked behind them` : ""}`,
        hint: hintForCycle(group),
        tasks: [...members, ...back].slice(0, 8).map(lintTask),
        site: siteOf(model, span.index, first.site),
        resource: first.resource.name,
        siteId: first.site,
        resourceId: first.resource.id,
        atNs: latest,
        untilNs: end,
        evidence,
        impactNs: (end - latest) * (members.length + back.length),
      }),
    );
  }
  return { lints, tasks, channels };
}

function resourceText(e: WaitEdge): string {
  const r = e.resource;
  return `${r.name} (${r.kind}${r.capacity > 0 && r.kind === "channel" ? `, ${r.level}/${r.capacity}` : ""})`;
}

/** Every task that could let it go on, named: a channel drained by two workers says both. */
function edgeText(e: WaitEdge): string {
  const names = e.to.map(who);
  const list = names.length === 0 ? "" : names.length === 1 ? names[0]! : `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
  const all = e.to.length === 2 ? ", both stuck" : e.to.length > 2 ? ", all stuck" : "";
  if (e.op === "send") return names.length > 0 ? `to send on full '${e.resource.name}', which only ${list} drain${e.to.length > 1 ? "" : "s"}${all}` : `to send on full '${e.resource.name}', which no live task drains`;
  if (e.op === "recv") return names.length > 0 ? `to receive from empty '${e.resource.name}', which only ${list} fill${e.to.length > 1 ? "" : "s"}${all}` : `to receive from empty '${e.resource.name}', which no live task fills`;
  return names.length > 0 ? `for '${e.resource.name}', held by ${list}` : `for '${e.resource.name}', held by a task that ended`;
}

function hintForCycle(cycle: WaitEdge[]): string {
  if (cycle.every((e) => e.op === "send")) {
    return "each task blocks sending while the other waits for it to receive: receive before sending more (or use try-send), or size the channels for the largest burst";
  }
  if (cycle.every((e) => e.op === "acquire")) {
    return "the tasks take the same locks in different orders: take them in one fixed order, or hold one at a time";
  }
  return "every task in the cycle waits for the next one: break the cycle by never blocking on one resource while the other side waits on you";
}

// ---- lost wake-up ----

function lostWakeLints(model: TraceModel, span: SessionSpan, tasks: TaskRecord[], th: Thresholds, named: Set<TaskRecord>): Lint[] {
  const out: Lint[] = [];
  const end = span.lastT;
  const done = new Set<number>();
  for (const t of tasks) {
    if (t.state !== "parked" || named.has(t)) continue;
    const since = t.orphanSince;
    if (since !== since || end - since < th.stuckNs) continue;
    // Only a task whose whole history is in the trace can be called stuck on its waker count.
    if (!wakerCountKnown(t)) continue;
    named.add(t);
    done.add(t.index);
    out.push(lostWakeLint(model, span, t, since, end, t.lastSite, t.lastResource, t.orphanReason, t.orphanedByRef, false, t.polls, t.lastWakeAt, t.liveWakers));
  }
  for (const e of model.lostWakeEpisodes) {
    const t = e.task;
    if (t.session !== span.index || done.has(t.index) || !e.wakersReliable || !e.spawned) continue;
    out.push(lostWakeLint(model, span, t, e.since, e.until, e.site, e.resource, e.reason, e.droppedBy, true, e.polls, e.lastWakeAt, 0));
  }
  return out;
}

function lostWakeLint(
  model: TraceModel, span: SessionSpan, t: TaskRef, since: number, until: number,
  site: number, resource: number, reason: TaskRecord["orphanReason"], dropper: TaskRef | undefined, cancelled: boolean,
  polls: number, lastWakeAt: number | undefined, liveWakers: number,
): Lint {
  const siteName = siteOf(model, span.index, site);
  const stuck = until - since;
  const how =
    reason === "waker-dropped"
      ? `its last waker was dropped without a wake${dropper ? ` by ${who(dropper)}` : ""} at ${at(span, since)}`
      : `its poll returned Pending at ${at(span, since)} without storing a waker`;
  const hint =
    reason === "waker-dropped"
      ? "the waker it stored was released before the event it waits for: look for a single waker slot that another task overwrites, or a waker dropped instead of woken"
      : "a hand-written future returned Pending on a path that stores no waker: every Pending must leave cx.waker() (or waker.register) where the event source will find it";
  const tasks = [lintTask(t)];
  if (dropper && dropper.index !== t.index) tasks.push(lintTask(dropper));
  return lint("lost-wakeup", "error", span.index, {
    title: `lost wake-up: ${who(t)} parked at '${siteName ?? "?"}' with no waker and no wake pending for ${formatDuration(stuck)}${cancelled ? " (then cancelled)" : ""}`,
    hint: `${how}; ${hint}`,
    tasks,
    site: siteName,
    resource: resName(model, span.index, resource),
    siteId: site || undefined,
    resourceId: resource || undefined,
    atNs: since,
    untilNs: until,
    evidence: {
      task: who(t),
      reason: reason === "waker-dropped" ? "waker dropped without wake" : "Pending without a stored waker",
      noWakerSinceNs: since,
      stuckNs: stuck,
      liveWakers,
      polls,
      ...(dropper ? { droppedBy: who(dropper) } : {}),
      ...(lastWakeAt !== undefined ? { lastWakeNs: lastWakeAt } : {}),
      ...(cancelled ? { cancelledNs: until } : {}),
    },
    impactNs: stuck,
  });
}

// ---- long polls ----

function longPollLint(model: TraceModel, g: LongPollGroup, th: Thresholds): Lint {
  const span = model.span(g.session);
  const t = g.maxTask;
  const siteName = siteOf(model, g.session, g.site);
  const endSite = siteOf(model, g.session, g.endSite);
  const where = siteName ? `after '${siteName}'` : endSite ? `before '${endSite}'` : "in its first poll";
  const delayed = g.delayedSample;
  const delayText =
    (g.delayCausedNs > 0
      ? `; ${formatCount(g.delayedTasks)}${g.delayedTasks >= 4096 ? "+" : ""} other task(s) waited ${formatDuration(g.delayCausedNs)} in all to be polled meanwhile`
      : "") + (g.timersDelayed > 0 ? `; ${formatCount(g.timersDelayed)} timer(s) fired late, up to ${formatDuration(g.maxTimerLateNs)}` : "");
  return lint("long-poll", "warning", g.session, {
    title: `long poll: ${who(t)} ran ${formatDuration(g.maxNs)} without yielding ${where}${g.count > 1 ? ` (${formatCount(g.count)} polls >= ${formatDuration(th.longPollNs)})` : ""}${delayText}`,
    hint: "CPU-bound work inside a future holds the whole executor: split it into steps that yield (cx.yieldNow) or move it off the executor",
    tasks: [lintTask(t), ...delayed.map(lintTask)],
    site: siteName ?? endSite,
    siteId: (g.site || g.endSite) || undefined,
    atNs: g.maxAt,
    untilNs: g.maxAt + g.maxNs,
    evidence: {
      task: who(t),
      longestNs: g.maxNs,
      longPolls: g.count,
      longPollTotalNs: g.totalNs,
      delayCausedNs: g.delayCausedNs,
      delayedTasks: g.delayedTasks,
      delayedPolls: g.delayedPolls,
      timersDelayed: g.timersDelayed,
      maxTimerLateNs: g.maxTimerLateNs,
      thresholdNs: th.longPollNs,
      ...(endSite ? { parkedAfterAt: endSite } : {}),
      ...(span ? { sessionStartNs: span.firstT } : {}),
    },
    impactNs: g.delayCausedNs + g.totalNs,
  });
}

// ---- starvation and self-wake loops (per task name) ----

/** Per session and task name, over live tasks and the folded groups of ended ones. */
interface NameStats {
  session: number;
  name: string;
  nameKey: number;
  count: number;
  /** The task to name first (a held record). */
  worst: TaskRef;
  passedOverSumNs: number;
  passedOverCount: number;
  passedOverMaxNs: number;
  passedOverBy: Map<string, number>;
  wakeDelaySumNs: number;
  selfWakes: number;
  wakes: number;
  busyNs: number;
  polls: number;
  selfWakeSite: number;
  firstSeen: number;
  endedAt: number | undefined;
  sample: TaskRef[];
}

function nameStats(model: TraceModel, tasks: TaskRecord[]): NameStats[] {
  const out = new Map<string, NameStats>();
  const get = (session: number, name: string, ref: TaskRecord, firstSeen: number) => {
    const key = `${session}\u0000${name}`;
    let s = out.get(key);
    if (!s) {
      s = {
        session, name, nameKey: ref.nameKey, count: 0, worst: ref, passedOverSumNs: 0, passedOverCount: 0, passedOverMaxNs: -1, passedOverBy: new Map(),
        wakeDelaySumNs: 0, selfWakes: 0, wakes: 0, busyNs: 0, polls: 0, selfWakeSite: 0, firstSeen, endedAt: undefined, sample: [],
      };
      out.set(key, s);
    }
    return s;
  };
  // Held records (live, alive at the end, exemplars) first; groups add the ended tasks not held.
  const held = new Set<TaskRecord>();
  for (const t of tasks) {
    if (t.end !== undefined && t.end !== "alive") continue; // exemplars: counted with their group
    held.add(t);
    const s = get(t.session, t.name, t, t.firstSeen);
    s.count++;
    s.passedOverSumNs += t.passedOverSumNs;
    s.passedOverCount += t.passedOverCount;
    if (t.passedOverMaxNs > s.passedOverMaxNs) {
      s.passedOverMaxNs = t.passedOverMaxNs;
      s.worst = t;
    }
    s.wakeDelaySumNs += t.wakeDelay.sum;
    s.selfWakes += t.selfWakes;
    s.wakes += t.wakes;
    s.busyNs += t.busyNs;
    s.polls += t.polls;
    if (t.selfWakes > 0 && s.selfWakeSite === 0) s.selfWakeSite = t.selfWakeSite;
    if (s.sample.length < 8) s.sample.push(t);
  }
  for (const g of model.groups.list) {
    const ref = g.exemplars[0]!;
    const s = get(g.session, g.name, ref, ref.firstSeen);
    s.count += g.count;
    s.passedOverSumNs += g.passedOverSumNs;
    s.passedOverCount += g.passedOverCount;
    if (g.passedOverMaxNs > s.passedOverMaxNs) {
      s.passedOverMaxNs = g.passedOverMaxNs;
      s.worst = [...g.exemplars, ...(g.worst ? [g.worst] : [])].reduce((a, b) => (b.passedOverMaxNs > a.passedOverMaxNs ? b : a));
    }
    s.wakeDelaySumNs += g.wakeDelay.sum;
    s.selfWakes += g.selfWakes;
    s.wakes += g.wakes;
    s.busyNs += g.busyNs;
    s.polls += g.polls;
    if (g.selfWakes > 0 && s.selfWakeSite === 0) s.selfWakeSite = (g.exemplars.find((t) => t.selfWakes > 0) ?? ref).selfWakeSite;
    for (const t of g.exemplars) if (s.sample.length < 8) s.sample.push(t);
    const ended = g.exemplars[g.exemplars.length - 1]!.endedAt;
    if (ended !== undefined && (s.endedAt === undefined || ended > s.endedAt)) s.endedAt = ended;
  }
  for (const s of out.values()) s.passedOverBy = model.passedOverBy.get(passedOverKey(s)) ?? new Map();
  return [...out.values()];
}

function starvationLints(model: TraceModel, stats: NameStats[], th: Thresholds): Lint[] {
  const eligible = stats.filter((s) => s.passedOverCount >= 5);
  const out: Lint[] = [];
  for (const s of eligible) {
    const mean = s.passedOverSumNs / s.passedOverCount;
    const others = eligible.filter((o) => o !== s && o.session === s.session).map((o) => o.passedOverSumNs / o.passedOverCount).sort((a, b) => a - b);
    if (others.length < 1) continue;
    const median = others[Math.floor((others.length - 1) / 2)]!;
    if (mean < th.starvationMinNs || mean < th.starvationFactor * Math.max(median, 1)) continue;
    const t = s.worst;
    const by = [...s.passedOverBy].sort((a, b) => b[1] - a[1]);
    const total = by.reduce((n, [, ns]) => n + ns, 0);
    const top = by[0];
    const mostly = top && total > 0 ? `; mostly ${top[0] === "(executor idle)" ? "the executor idling while it was runnable" : `'${top[0]}'`} (${Math.round((100 * top[1]) / total)}%)` : "";
    const many = s.count > 1 ? ` (${formatCount(s.count)} tasks named so)` : "";
    const evidence: Record<string, number | string> = {
      task: who(t), meanPassedOverNs: mean, othersMedianNs: median, maxPassedOverNs: s.passedOverMaxNs,
      samples: s.passedOverCount, meanDelayNs: s.wakeDelaySumNs / Math.max(1, s.passedOverCount),
    };
    by.slice(0, 3).forEach(([name, ns], i) => {
      evidence[`passedOverBy${i + 1}`] = name;
      evidence[`passedOverBy${i + 1}Ns`] = ns;
    });
    out.push(
      lint("starvation", "warning", s.session, {
        title: `starvation: ${who(t)}${many} was passed over for ${formatDuration(mean)} on average each time it was runnable: tasks woken after it ran first${mostly}`,
        hint: "the executor runs later arrivals first (priorities, LIFO order, or a task that re-queues itself at the front): give waiting tasks their turn in wake order, or bound how often one task may run ahead",
        tasks: [t, ...s.sample.filter((x) => x.index !== t.index)].slice(0, 8).map(lintTask),
        atNs: s.firstSeen,
        untilNs: s.endedAt,
        evidence,
        impactNs: (mean - median) * s.passedOverCount,
      }),
    );
  }
  return out;
}

function selfWakeLints(model: TraceModel, stats: NameStats[], th: Thresholds): Lint[] {
  const out: Lint[] = [];
  for (const g of stats) {
    const { selfWakes: self, wakes } = g;
    if (self < th.selfWakeMin || wakes === 0 || self / wakes < th.selfWakeRatio) continue;
    const site = siteOf(model, g.session, g.selfWakeSite);
    const worst = g.sample[0] ?? g.worst;
    out.push(
      lint("self-wake-loop", "warning", g.session, {
        title: `self-wake loop: ${who(worst)}${g.count > 1 ? ` (and ${formatCount(g.count - 1)} more named so)` : ""} woke itself ${formatCount(self)} times, ${Math.round((100 * self) / wakes)}% of its wakes${site ? `, yielding at '${site}'` : ""}`,
        hint: "the task re-polls itself instead of waiting for an event: park on a channel, timer or waker that fires when there is work, rather than yielding and checking again",
        tasks: g.sample.slice(0, 8).map(lintTask),
        site,
        siteId: g.selfWakeSite || undefined,
        atNs: g.firstSeen,
        untilNs: g.endedAt,
        evidence: { task: who(worst), selfWakes: self, wakes, ratio: self / wakes, busyNs: g.busyNs, polls: g.polls },
        impactNs: g.busyNs,
      }),
    );
  }
  return out;
}

// ---- late timers ----

function lateTimerLint(model: TraceModel, g: LateTimerGroup, th: Thresholds): Lint | undefined {
  if (g.late === 0) return undefined;
  const site = siteOf(model, g.session, g.site);
  const b = g.blamed;
  // The executor idled through most of the lateness: it woke up late.
  const sleptPast = g.idleNs >= g.maxLateNs / 2;
  const cause = b
    ? `; the executor was running ${who(b.task)}${siteOf(model, g.session, b.site) ? ` (after '${siteOf(model, g.session, b.site)}')` : ""}, a ${formatDuration(b.endNs - b.startNs)} poll${b.long ? " (the long poll reported above)" : ""}`
    : sleptPast
      ? `; the executor was idle past the deadline (${formatDuration(g.idleNs)}): it woke up late`
      : "; no poll and no idle time covers most of it (time between polls: the executor's own work, or time the trace cannot see)";
  return lint("late-timer", "warning", g.session, {
    title: `late timer: ${who(g.maxTask)}${site ? ` sleeping at '${site}'` : ""} was polled ${formatDuration(g.maxLateNs)} after its deadline${g.late > 1 ? ` (${formatCount(g.late)} of ${formatCount(g.fires)} timers at least ${formatDuration(th.lateTimerNs)} late)` : ""}${cause}`,
    hint: b
      ? `a poll that runs past a timer's deadline holds the timer back: split ${b.task.name}'s work into steps that yield, or move it off the executor`
      : sleptPast
        ? "the executor slept past the deadline: check how it arms its wake-up (timer resolution, sleep granularity)"
        : "look at what the executor does between polls around this time (timer bookkeeping, interrupts that are not recorded)",
    tasks: [g.maxTask, ...(b ? [b.task] : [])].map(lintTask),
    site,
    siteId: g.site || undefined,
    atNs: g.maxAt,
    untilNs: g.maxAt + g.maxLateNs,
    evidence: {
      task: who(g.maxTask), lateNs: g.maxLateNs, firedLateNs: g.maxFireLateNs, lateTimers: g.late, timers: g.fires, thresholdNs: th.lateTimerNs,
      ...(b ? { delayedBy: who(b.task), delayedByPollNs: b.endNs - b.startNs, delayedByPollAtNs: b.startNs } : {}),
      ...(g.idleNs > 0 ? { idleNs: g.idleNs } : {}),
    },
    impactNs: g.sumLateNs,
  });
}

// ---- backpressure ----

function backpressureLints(model: TraceModel, span: SessionSpan, tasks: TaskRecord[], th: Thresholds, skip: Set<number>): Lint[] {
  const out: Lint[] = [];
  for (const r of model.resources) {
    if (r.session !== span.index || r.kind !== "channel" || r.capacity <= 0 || skip.has(r.index)) continue;
    const open = Number.isNaN(r.fullSince) ? 0 : span.lastT - r.fullSince;
    const longest = Math.max(r.longestFullNs, open);
    if (longest < th.backpressureNs) continue;
    const fromT = open >= r.longestFullNs ? r.fullSince : r.longestFullAt;
    const stillFull = open > 0 && open >= r.longestFullNs;
    const waiters = [...r.waiters.values()].sort((a, b) => b.waitNs - a.waitNs);
    const blockedNow = tasks.filter((t) => t.state === "parked" && t.blockedRes === r.id && t.lastResource === r.id);
    const senderIndices = new Set([...r.senders].map((t) => t.index));
    const senders = [...r.senders].filter((t) => blockedNow.includes(t) || waiters.some((w) => w.task.index === t.index));
    const topWaiter = waiters.find((w) => senderIndices.has(w.task.index)) ?? waiters[0];
    const sender: TaskRef | undefined = topWaiter ? topWaiter.task : (blockedNow[0] ?? senders[0]);
    const site = topWaiter ? topWaiter.site : sender ? (sender as TaskRecord).lastSite : 0;
    const siteName = siteOf(model, span.index, site);
    const receivers = [...r.receivers].sort((a, b) => a.index - b.index);
    const named: TaskRef[] = [];
    for (const t of [sender, ...blockedNow, ...receivers]) if (t && !named.some((x) => x.index === t.index)) named.push(t);
    out.push(
      lint("backpressure", "warning", span.index, {
        title: `backpressure: '${r.name}' (capacity ${r.capacity}) stayed full for ${formatDuration(longest)}${stillFull ? " until the end of the trace" : ` from ${at(span, fromT)}`}${sender ? `; ${who(sender)} blocked sending at '${siteName ?? "?"}'` : ""}`,
        hint: `the receiving side${receivers[0] ? ` (${receivers[0].name})` : ""} cannot keep up: make it faster, add receivers, or size the channel for the burst; senders run at the receiver's pace meanwhile`,
        tasks: named.slice(0, 8).map(lintTask),
        site: siteName,
        resource: r.name,
        siteId: site || undefined,
        resourceId: r.id,
        atNs: fromT,
        untilNs: fromT + longest,
        evidence: {
          resource: r.name,
          capacity: r.capacity,
          longestFullNs: longest,
          fullNs: r.fullNs + open,
          blockedSends: r.blockedOps,
          ...(topWaiter ? { topWaiter: topWaiter.taskName, topWaiterWaitNs: topWaiter.waitNs } : {}),
          blockedNow: blockedNow.length,
        },
        impactNs: longest,
      }),
    );
  }
  return out;
}

// ---- leaks ----

function leakLints(model: TraceModel, span: SessionSpan, tasks: TaskRecord[], th: Thresholds, named: Set<TaskRecord>): Lint[] {
  const end = span.lastT;
  const groups = new Map<string, TaskRecord[]>();
  const held = new Map(tasks.map((t) => [t.index, t]));
  for (const t of tasks) {
    if (!isLive(t) || named.has(t)) continue;
    const born = t.spawnedAt ?? t.firstSeen;
    if (end - born < th.leakNs) continue;
    const key = `${t.name}\u0000${t.lastSite}\u0000${t.parent}\u0000${t.state}`;
    const list = groups.get(key) ?? [];
    list.push(t);
    groups.set(key, list);
  }
  const out: Lint[] = [];
  for (const list of groups.values()) {
    list.sort((a, b) => (a.spawnedAt ?? a.firstSeen) - (b.spawnedAt ?? b.firstSeen));
    const first = list[0]!;
    // A parent record no longer held has ended (live ones are all held).
    const parent = first.parentIndex >= 0 ? held.get(first.parentIndex) : undefined;
    const parentEnded = first.parentIndex >= 0 && (parent === undefined || !isLive(parent));
    const res = first.lastResource === 0 ? undefined : model.resource(span.index, first.lastResource);
    const onTimer = res?.kind === "timer";
    // Nothing can wake it: waits on a channel no live task sends to. (Tasks stuck in or behind a
    // deadlock are that lint's, and not reported here.)
    let unwakeable = "";
    if (res?.kind === "channel" && first.blockedOp === RESOURCE_OP.recv && ![...res.senders].some((s) => isLive(s) && s !== first)) {
      unwakeable = `no live task sends on '${res.name}'`;
    }
    const severity: LintSeverity = (parentEnded || unwakeable !== "") && !onTimer ? "warning" : "info";
    const siteName = siteOf(model, span.index, first.lastSite);
    const age = end - (first.spawnedAt ?? first.firstSeen);
    const totalAge = list.reduce((s, t) => s + end - (t.spawnedAt ?? t.firstSeen), 0);
    const state = first.state === "parked" ? `parked at '${siteName ?? "?"}'${res ? ` on '${res.name}'` : ""}` : first.state;
    const parentName = parent?.name ?? first.parentName;
    const spawnedBy = parentName ? `spawned by ${parentName}${parentEnded ? ", which has ended" : ""}` : first.parent === 0 ? "a root task" : `spawned by task ${first.parent}`;
    out.push(
      lint("leak", severity, span.index, {
        title: `leak: ${list.length > 1 ? `${list.length} '${first.name}' tasks` : who(first)} never finished, ${state} (${spawnedBy})${unwakeable ? `; ${unwakeable}` : ""}`,
        hint: unwakeable
          ? "nothing will ever wake it: end it when its work is done (cancel it or close what it waits on), or keep its handle and join it"
          : parentEnded
            ? "its parent ended without joining or cancelling it: keep the handle and join or cancel it, or make it end by itself"
            : "still running when the trace ended: fine for a service that lives forever, a leak if it should have ended",
        tasks: list.slice(0, 8).map(lintTask),
        site: siteName,
        resource: res?.name,
        siteId: first.lastSite || undefined,
        resourceId: res?.id,
        atNs: first.spawnedAt ?? first.firstSeen,
        untilNs: end,
        evidence: {
          task: who(first),
          count: list.length,
          oldestAgeNs: age,
          state: first.state,
          liveWakers: first.liveWakers,
          ...(parentName ? { parent: `${parentName} (task ${first.parent})`, parentEnded: parentEnded ? "yes" : "no" } : {}),
          ...(unwakeable ? { unwakeable } : {}),
        },
        impactNs: totalAge,
      }),
    );
  }
  return out;
}

// ---- slow requests ----

function slowRequestLint(model: TraceModel, r: SlowKindReport): Lint | undefined {
  if (!r.significant) return undefined;
  const span = model.span(r.session);
  const top = r.causes[0];
  const cluster = r.clustered ? r.clusters.reduce((a, b) => (b.flows > a.flows ? b : a)) : undefined;
  const tasks: TaskRef[] = [];
  if (top?.blocker) tasks.push({ session: r.session, ...top.blocker });
  for (const f of r.slowest) for (const t of f.tasks) if (tasks.length < 8 && !tasks.some((x) => x.index === t.index)) tasks.push(t);
  const where = top
    ? top.kind === "cpu"
      ? `ran +${formatDuration(top.extraNs)} longer on the CPU`
      : `spent +${formatDuration(top.extraNs)} each at ${causeLabel(top)}${top.blocker ? ` (held by ${top.blocker.name}, task ${top.blocker.id})` : ""}`
    : "show no single await site that explains it";
  const excess = r.slowest.reduce((s, f) => s + f.latencyNs - r.medianNs, 0);
  const first = Math.min(...r.slowest.map((f) => f.beganNs));
  const last = Math.max(...r.slowest.map((f) => f.beganNs + f.latencyNs));
  const evidence: Record<string, number | string> = {
    kind: r.kind,
    flows: r.flows,
    slow: r.slowCount,
    percentile: r.percentile,
    thresholdNs: r.thresholdNs,
    medianNs: r.medianNs,
    clustered: r.clustered ? "yes" : "no",
  };
  r.causes.slice(0, 3).forEach((c, i) => {
    evidence[`cause${i + 1}`] = causeLabel(c);
    evidence[`cause${i + 1}ExtraNs`] = c.extraNs;
  });
  if (cluster) {
    evidence.clusterFromNs = cluster.fromNs;
    evidence.clusterToNs = cluster.toNs;
    evidence.clusterFlows = cluster.flows;
  }
  return lint("slow-requests", "warning", r.session, {
    title:
      `slow requests: ${r.slowCount} of ${formatCount(r.flows)} '${r.kind}' at or above p${r.percentile} (${formatDuration(r.thresholdNs)}, median ${formatDuration(r.medianNs)}) ${where}` +
      (cluster ? `; they cluster in time, ${at(span, cluster.fromNs)}-${at(span, cluster.toNs)}` : "; spread over the trace"),
    hint: top?.blocker
      ? `${top.blocker.name} holds '${top.resourceName}' while requests need it: shorten or split its hold, or move it off the request path`
      : top?.kind === "cpu"
        ? "the slow ones do more CPU work: look for inputs that make a request expensive"
        : cluster
          ? "slow together: look for what else used that resource at that time"
          : "compare a slow flow's steps with a typical one in the flows section",
    tasks: tasks.map(lintTask),
    site: top?.siteName ?? undefined,
    resource: top?.resourceName ?? undefined,
    siteId: top && top.site ? top.site : undefined,
    resourceId: top && top.resource ? top.resource : undefined,
    atNs: cluster?.fromNs ?? first,
    untilNs: cluster ? last : last,
    evidence,
    impactNs: excess,
  });
}

// ---- lost events ----

function lostEventLints(model: TraceModel, summary: TraceSummary): Lint[] {
  const out: Lint[] = [];
  for (const s of summary.sessions) {
    const c = s.counters;
    const { droppedOnDevice: device, lostInTransfer: transfer } = lossAccount(c, s, s.info.earlier);
    const damaged = summary.losses.filter((l) => l.session === s.index && l.kind === "decode").reduce((n, l) => n + l.chunks, 0);
    const gapChunks = summary.losses.filter((l) => l.session === s.index && l.kind !== "decode").reduce((n, l) => n + l.chunks, 0);
    if (device === 0 && transfer === 0 && damaged === 0 && gapChunks === 0) continue;
    const span = model.span(s.index);
    const ranges: [number, number][] = [];
    if (c && device > 0 && c.firstDrop > 0) ranges.push([ticksToNs(c.firstDrop, s.info.tickHz), ticksToNs(c.lastDrop, s.info.tickHz)]);
    for (const g of model.gaps) if (g.session === s.index) ranges.push([g.fromNs, g.toNs]);
    ranges.sort((a, b) => a[0] - b[0]);
    const parts: string[] = [];
    if (device > 0) parts.push(`${formatCount(device)} events ${c!.droppedFull > 0 ? "refused (ring full)" : "overwritten"} on the device`);
    if (transfer > 0) parts.push(`${formatCount(transfer)} events lost in transfer`);
    if (damaged > 0) parts.push(`${formatCount(damaged)} damaged chunk(s) left out`);
    if (gapChunks > 0 && transfer === 0 && device === 0) parts.push(`${formatCount(gapChunks)} chunk(s) missing`);
    const from = ranges.length > 0 ? ranges[0]![0] : (span?.firstT ?? 0);
    const to = ranges.length > 0 ? Math.max(...ranges.map((r) => r[1])) : (span?.lastT ?? from);
    const rangeText = ranges.length > 0 ? ` ${rangeWords(span, from, to)}` : "";
    const evidence: Record<string, number | string> = {
      droppedOnDevice: device,
      lostInTransfer: transfer,
      damagedChunks: damaged,
      missingChunks: gapChunks,
      ranges: ranges.map(([a, b]) => rangeWords(span, a, b)).join(", "),
    };
    out.push(
      lint("lost-events", "warning", s.index, {
        title: `lost events: ${parts.join(", ")}${rangeText}; findings there may be incomplete`,
        hint:
          device > 0
            ? "the ring overflowed before the host drained it: drain more often (--drain-ms), enlarge the ring (TASKSCOPE_CHUNK_COUNT), or filter categories you do not need"
            : "events were lost between the device and the file: check the link (cable, baud rate, buffer sizes)",
        tasks: [],
        atNs: from,
        untilNs: to,
        evidence,
        impactNs: to - from,
      }),
    );
  }
  return out;
}

/** Where lost events lie, in words a reader can trust: events lost before the first one kept
 *  (the ring overwrote the start) are "before the first recorded event", never a negative
 *  offset; a single point is "at", not an empty range. */
function rangeWords(span: SessionSpan | undefined, from: number, to: number): string {
  const first = span?.firstT ?? from;
  if (to <= first) return "before the first recorded event";
  const start = from < first ? "from before the first recorded event" : `between ${at(span, from)}`;
  if (to - from <= 0) return `at ${at(span, from)}`;
  return from < first ? `${start} to ${at(span, to)}` : `${start} and ${at(span, to)}`;
}
