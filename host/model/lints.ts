// The lints: each failure async users hit, found in the model's state, with its evidence (task,
// await site, resource, times) and a one-line hint. Pure: the same model gives the same lints, at
// the end of a trace or (for a live view) at any moment, "now" being the last event seen.
// docs/REPORT.md defines every lint and its thresholds.

import type { TraceModel, LongPollGroup, SessionSpan } from "./trace-model.js";
import type { Lint, LintKind, LintSeverity, LintTask } from "./lint.js";
import { isLive, type TaskRecord } from "./tasks.js";
import type { Thresholds } from "./thresholds.js";
import { waitsForGraph, findDeadlocks, stuckTasks, type WaitEdge } from "./waits-for.js";
import { analyzeSlowRequests, causeLabel, type SlowKindReport } from "./slow-requests.js";
import type { TraceSummary } from "../tracefile/trace.js";
import { ticksToNs } from "../format/chunk.js";
import { RESOURCE_OP } from "../format/spec.js";
import { formatDuration, formatCount } from "../report/units.js";
import { lossAccount } from "../tracefile/loss-account.js";

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
  leak: true, backpressure: true, "lost-events": true, "slow-requests": true,
};
export const LINT_KINDS = Object.keys(KIND_CHECK) as LintKind[];

const SEVERITY_RANK: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

/** Every lint, most important first: severity, then impact, then time. */
export function findLints(input: LintInput): Lint[] {
  const { model } = input;
  const th = model.thresholds;
  const lints: Lint[] = [];
  const named = new Set<TaskRecord>(); // tasks an error already explains
  for (const span of model.sessions) {
    const deadlocks = deadlockLints(model, span, th);
    for (const l of deadlocks.lints) lints.push(l);
    for (const t of deadlocks.tasks) named.add(t);
    for (const l of lostWakeLints(model, span, th, named)) lints.push(l);
    for (const l of backpressureLints(model, span, th, deadlocks.channels)) lints.push(l);
    for (const l of leakLints(model, span, th, named, deadlocks.blocked)) lints.push(l);
  }
  for (const g of model.longPolls.values()) lints.push(longPollLint(model, g, th));
  for (const l of starvationLints(model, th)) lints.push(l);
  for (const l of selfWakeLints(model, th)) lints.push(l);
  for (const r of input.slow ?? analyzeSlowRequests(model, th)) {
    const l = slowRequestLint(model, r);
    if (l) lints.push(l);
  }
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

export function lintTask(t: TaskRecord): LintTask {
  return { session: t.session, id: t.id, name: t.name, index: t.index };
}

function who(t: TaskRecord): string {
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
  for (const cycle of findDeadlocks(edges)) {
    const latest = Math.max(...cycle.map((e) => e.since));
    if (end - latest < th.stuckNs) continue;
    for (const e of cycle) {
      tasks.add(e.from);
      channels.add(e.resource.index);
    }
    const first = cycle[0]!;
    const parts = cycle.map((e) => `${who(e.from)} waits at '${siteOf(model, span.index, e.site) ?? "?"}' ${edgeText(e, cycle)}`);
    const behind = [...stuck].filter((t) => !tasks.has(t)).length;
    const evidence: Record<string, number | string> = { stuckNs: end - latest, tasksInCycle: cycle.length, blockedBehind: behind };
    cycle.forEach((e, i) => {
      evidence[`task${i + 1}`] = who(e.from);
      evidence[`site${i + 1}`] = siteOf(model, span.index, e.site) ?? "";
      evidence[`resource${i + 1}`] = `${e.resource.name} (${e.resource.kind}${e.resource.capacity > 0 && e.resource.kind === "channel" ? `, ${e.resource.level}/${e.resource.capacity}` : ""})`;
      evidence[`blockedSince${i + 1}Ns`] = e.since;
    });
    lints.push(
      lint("deadlock", "error", span.index, {
        title: `deadlock: ${parts.join("; ")}`,
        hint: hintForCycle(cycle),
        tasks: cycle.map((e) => lintTask(e.from)),
        site: siteOf(model, span.index, first.site),
        resource: first.resource.name,
        siteId: first.site,
        resourceId: first.resource.id,
        atNs: latest,
        untilNs: end,
        evidence,
        impactNs: (end - latest) * cycle.length,
      }),
    );
  }
  return { lints, tasks, channels, blocked: stuck };
}

function edgeText(e: WaitEdge, cycle: WaitEdge[]): string {
  const next = cycle.find((c) => e.to.includes(c.from))?.from;
  const helper = next ? who(next) : "another stuck task";
  if (e.op === "send") return `to send on full '${e.resource.name}', which only ${helper} drains`;
  if (e.op === "recv") return `to receive from empty '${e.resource.name}', which only ${helper} fills`;
  return `for '${e.resource.name}', held by ${helper}`;
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

function lostWakeLints(model: TraceModel, span: SessionSpan, th: Thresholds, named: Set<TaskRecord>): Lint[] {
  const out: Lint[] = [];
  const end = span.lastT;
  for (const t of model.tasks) {
    if (t.session !== span.index || t.state !== "parked" || named.has(t)) continue;
    const since = t.orphanSince;
    if (since !== since || end - since < th.stuckNs) continue;
    if (!t.wakersReliable || t.spawnedAt === undefined) continue;
    named.add(t);
    out.push(lostWakeLint(model, span, t, since, end, t.lastSite, t.lastResource, t.orphanReason, t.orphanedBy, false));
  }
  for (const e of model.lostWakeEpisodes) {
    const t = model.tasks[e.task]!;
    if (t.session !== span.index || named.has(t) || !t.wakersReliable || t.spawnedAt === undefined) continue;
    out.push(lostWakeLint(model, span, t, e.since, e.until, e.site, e.resource, e.reason, e.droppedBy, true));
  }
  return out;
}

function lostWakeLint(
  model: TraceModel, span: SessionSpan, t: TaskRecord, since: number, until: number,
  site: number, resource: number, reason: TaskRecord["orphanReason"], droppedBy: number, cancelled: boolean,
): Lint {
  const siteName = siteOf(model, span.index, site);
  const dropper = droppedBy >= 0 ? model.tasks[droppedBy] : undefined;
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
  if (dropper && dropper !== t) tasks.push(lintTask(dropper));
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
      liveWakers: t.liveWakers,
      polls: t.polls,
      ...(dropper ? { droppedBy: who(dropper) } : {}),
      ...(t.lastWakeAt !== undefined ? { lastWakeNs: t.lastWakeAt } : {}),
      ...(cancelled ? { cancelledNs: until } : {}),
    },
    impactNs: stuck,
  });
}

// ---- long polls ----

function longPollLint(model: TraceModel, g: LongPollGroup, th: Thresholds): Lint {
  const span = model.span(g.session);
  const t = model.tasks[g.maxTask]!;
  const siteName = siteOf(model, g.session, g.site);
  const endSite = siteOf(model, g.session, g.endSite);
  const where = siteName ? `after '${siteName}'` : endSite ? `before '${endSite}'` : "in its first poll";
  const delayed = [...g.delayedTasks].map((i) => model.tasks[i]!).slice(0, 8);
  const delayText =
    g.delayCausedNs > 0
      ? `; ${formatCount(g.delayedTasks.size)} other task(s) waited ${formatDuration(g.delayCausedNs)} in all to be polled meanwhile`
      : "";
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
      delayedTasks: g.delayedTasks.size,
      delayedPolls: g.delayedPolls,
      thresholdNs: th.longPollNs,
      ...(endSite ? { parkedAfterAt: endSite } : {}),
      ...(span ? { sessionStartNs: span.firstT } : {}),
    },
    impactNs: g.delayCausedNs + g.totalNs,
  });
}

// ---- starvation and self-wake loops (per task name) ----

interface NameGroup {
  session: number;
  name: string;
  tasks: TaskRecord[];
}

function groupByName(model: TraceModel): NameGroup[] {
  const groups = new Map<string, NameGroup>();
  for (const t of model.tasks) {
    const key = `${t.session}\u0000${t.name}`;
    let g = groups.get(key);
    if (!g) {
      g = { session: t.session, name: t.name, tasks: [] };
      groups.set(key, g);
    }
    g.tasks.push(t);
  }
  return [...groups.values()];
}

function starvationLints(model: TraceModel, th: Thresholds): Lint[] {
  const stats = groupByName(model)
    .map((g) => {
      let sum = 0;
      let count = 0;
      let max = 0;
      let worst = g.tasks[0]!;
      for (const t of g.tasks) {
        sum += t.fairDelaySumNs;
        count += t.fairDelayCount;
        if (t.fairDelayMaxNs >= max) {
          max = t.fairDelayMaxNs;
          worst = t;
        }
      }
      return { g, mean: count > 0 ? sum / count : 0, count, max, worst };
    })
    .filter((s) => s.count >= 5);
  if (stats.length < 3) return [];
  const out: Lint[] = [];
  for (const s of stats) {
    const others = stats.filter((o) => o !== s && o.g.session === s.g.session).map((o) => o.mean).sort((a, b) => a - b);
    if (others.length < 2) continue;
    const median = others[Math.floor((others.length - 1) / 2)]!;
    if (s.mean < th.starvationMinNs || s.mean < th.starvationFactor * Math.max(median, 1)) continue;
    const t = s.worst;
    const many = s.g.tasks.length > 1 ? ` (${s.g.tasks.length} tasks named so)` : "";
    out.push(
      lint("starvation", "warning", s.g.session, {
        title: `starvation: ${who(t)}${many} waited ${formatDuration(s.mean)} on average from wake to poll, ${Math.round(s.mean / Math.max(median, 1))}x the other tasks' ${formatDuration(median)}`,
        hint: "the executor keeps running other tasks first: check its queue order and priorities, and tasks that wake themselves or others in a tight loop",
        tasks: s.g.tasks.slice(0, 8).map(lintTask),
        site: siteOf(model, t.session, t.lastSite),
        siteId: t.lastSite || undefined,
        atNs: t.firstSeen,
        untilNs: t.endedAt,
        evidence: { task: who(t), meanDelayNs: s.mean, othersMedianNs: median, maxDelayNs: s.max, samples: s.count },
        impactNs: (s.mean - median) * s.count,
      }),
    );
  }
  return out;
}

function selfWakeLints(model: TraceModel, th: Thresholds): Lint[] {
  const out: Lint[] = [];
  for (const g of groupByName(model)) {
    let self = 0;
    let wakes = 0;
    let busy = 0;
    let worst = g.tasks[0]!;
    for (const t of g.tasks) {
      self += t.selfWakes;
      wakes += t.wakes;
      busy += t.busyNs;
      if (t.selfWakes > worst.selfWakes) worst = t;
    }
    if (self < th.selfWakeMin || wakes === 0 || self / wakes < th.selfWakeRatio) continue;
    const site = siteOf(model, g.session, worst.selfWakeSite);
    out.push(
      lint("self-wake-loop", "warning", g.session, {
        title: `self-wake loop: ${who(worst)}${g.tasks.length > 1 ? ` (and ${g.tasks.length - 1} more named so)` : ""} woke itself ${formatCount(self)} times, ${Math.round((100 * self) / wakes)}% of its wakes${site ? `, yielding at '${site}'` : ""}`,
        hint: "the task re-polls itself instead of waiting for an event: park on a channel, timer or waker that fires when there is work, rather than yielding and checking again",
        tasks: [lintTask(worst), ...g.tasks.filter((t) => t !== worst).slice(0, 7).map(lintTask)],
        site,
        siteId: worst.selfWakeSite || undefined,
        atNs: worst.firstSeen,
        untilNs: worst.endedAt,
        evidence: { task: who(worst), selfWakes: self, wakes, ratio: self / wakes, busyNs: busy, polls: g.tasks.reduce((n, t) => n + t.polls, 0) },
        impactNs: busy,
      }),
    );
  }
  return out;
}

// ---- backpressure ----

function backpressureLints(model: TraceModel, span: SessionSpan, th: Thresholds, skip: Set<number>): Lint[] {
  const out: Lint[] = [];
  for (const r of model.resources) {
    if (r.session !== span.index || r.kind !== "channel" || r.capacity <= 0 || skip.has(r.index)) continue;
    const open = Number.isNaN(r.fullSince) ? 0 : span.lastT - r.fullSince;
    const longest = Math.max(r.longestFullNs, open);
    if (longest < th.backpressureNs) continue;
    const fromT = open >= r.longestFullNs ? r.fullSince : r.longestFullAt;
    const stillFull = open > 0 && open >= r.longestFullNs;
    const waiters = [...r.waiters.values()].sort((a, b) => b.waitNs - a.waitNs);
    const blockedNow = model.tasks.filter((t) => t.session === span.index && t.state === "parked" && t.blockedRes === r.id && t.lastResource === r.id);
    const senders = [...r.senders].filter((t) => blockedNow.includes(t) || waiters.some((w) => w.taskIndex === t.index));
    const topWaiter = waiters.find((w) => r.senders.has(model.tasks[w.taskIndex]!)) ?? waiters[0];
    const sender = topWaiter ? model.tasks[topWaiter.taskIndex]! : (blockedNow[0] ?? senders[0]);
    const site = topWaiter ? topWaiter.site : sender ? sender.lastSite : 0;
    const siteName = siteOf(model, span.index, site);
    const receivers = [...r.receivers].sort((a, b) => a.index - b.index);
    const tasks: TaskRecord[] = [];
    for (const t of [sender, ...blockedNow, ...receivers]) if (t && !tasks.includes(t)) tasks.push(t);
    out.push(
      lint("backpressure", "warning", span.index, {
        title: `backpressure: '${r.name}' (capacity ${r.capacity}) stayed full for ${formatDuration(longest)}${stillFull ? " until the end of the trace" : ` from ${at(span, fromT)}`}${sender ? `; ${who(sender)} blocked sending at '${siteName ?? "?"}'` : ""}`,
        hint: `the receiving side${receivers[0] ? ` (${receivers[0].name})` : ""} cannot keep up: make it faster, add receivers, or size the channel for the burst; senders run at the receiver's pace meanwhile`,
        tasks: tasks.slice(0, 8).map(lintTask),
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

function leakLints(model: TraceModel, span: SessionSpan, th: Thresholds, named: Set<TaskRecord>, stuck: Set<TaskRecord>): Lint[] {
  const end = span.lastT;
  const groups = new Map<string, TaskRecord[]>();
  for (const t of model.tasks) {
    if (t.session !== span.index || !isLive(t) || named.has(t)) continue;
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
    const parent = first.parentIndex >= 0 ? model.tasks[first.parentIndex] : undefined;
    const parentEnded = parent !== undefined && !isLive(parent);
    const res = first.lastResource === 0 ? undefined : model.resource(span.index, first.lastResource);
    const onTimer = res?.kind === "timer";
    // Nothing can wake it: waits on a channel no live task sends to, or is stuck behind a deadlock.
    let unwakeable = "";
    if (res?.kind === "channel" && first.blockedOp === RESOURCE_OP.recv && ![...res.senders].some((s) => isLive(s) && s !== first)) {
      unwakeable = `no live task sends on '${res.name}'`;
    } else if (stuck.has(first)) {
      unwakeable = "it waits on tasks that are stuck themselves";
    }
    const severity: LintSeverity = (parentEnded || unwakeable !== "") && !onTimer ? "warning" : "info";
    const siteName = siteOf(model, span.index, first.lastSite);
    const age = end - (first.spawnedAt ?? first.firstSeen);
    const totalAge = list.reduce((s, t) => s + end - (t.spawnedAt ?? t.firstSeen), 0);
    const state = first.state === "parked" ? `parked at '${siteName ?? "?"}'${res ? ` on '${res.name}'` : ""}` : first.state;
    const spawnedBy = parent ? `spawned by ${parent.name}${parentEnded ? ", which has ended" : ""}` : first.parent === 0 ? "a root task" : `spawned by task ${first.parent}`;
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
          ...(parent ? { parent: who(parent), parentEnded: parentEnded ? "yes" : "no" } : {}),
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
  const tasks: TaskRecord[] = [];
  if (top?.blocker) tasks.push(model.tasks[top.blocker.index]!);
  for (const f of r.slowest) for (const i of f.tasks) if (tasks.length < 8 && !tasks.includes(model.tasks[i]!)) tasks.push(model.tasks[i]!);
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
    if (damaged > 0) parts.push(`${damaged} damaged chunk(s) left out`);
    if (gapChunks > 0 && transfer === 0 && device === 0) parts.push(`${gapChunks} chunk(s) missing`);
    const from = ranges.length > 0 ? ranges[0]![0] : (span?.firstT ?? 0);
    const to = ranges.length > 0 ? Math.max(...ranges.map((r) => r[1])) : (span?.lastT ?? from);
    const rangeText = ranges.length > 0 ? ` between ${at(span, from)} and ${at(span, to)}` : "";
    const evidence: Record<string, number | string> = {
      droppedOnDevice: device,
      lostInTransfer: transfer,
      damagedChunks: damaged,
      missingChunks: gapChunks,
      ranges: ranges.map(([a, b]) => `${at(span, a)}-${at(span, b)}`).join(", "),
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
