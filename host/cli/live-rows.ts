// The live console's rows: what the model says about each live task and resource of the current
// device session, as plain data ready to draw, and the detail of one task. Pure functions of the
// model, the analysis's lints and "now" (the newest event decoded). Verdicts are the model's
// (noWakerVerdict): STUCK only for a task whose whole history is in the stream.

import { RESOURCE_OPS } from "../format/spec.js";
import type { Histogram } from "../model/histogram.js";
import type { Lint, LintSeverity } from "../model/lint.js";
import type { ResourceRecord } from "../model/resources.js";
import { isLive, noWakerVerdict, wakerCountKnown, type TaskRecord } from "../model/tasks.js";
import type { TraceModel } from "../model/trace-model.js";
import { formatBytes, formatCount, formatDuration, safeText } from "../report/units.js";

export type SortKey = "state" | "name" | "id" | "for" | "polls" | "busy" | "wakes" | "warn";

/** Sort keys with the key that picks them in the console (and their header's column). */
export const SORT_KEYS: readonly { key: SortKey; char: string }[] = [
  { key: "state", char: "s" },
  { key: "name", char: "n" },
  { key: "id", char: "i" },
  { key: "for", char: "f" },
  { key: "polls", char: "p" },
  { key: "busy", char: "b" },
  { key: "wakes", char: "w" },
  { key: "warn", char: "!" },
];

export interface LintMark {
  count: number;
  severity: LintSeverity;
}

export interface TaskRow {
  task: TaskRecord;
  /** Escaped for a terminal. */
  name: string;
  verdict: "stuck" | "unknown" | undefined;
  /** "STUCK (no waker)", "parked (waker unknown)", or the state. */
  state: string;
  /** Time in the current state. */
  forNs: number;
  polls: number;
  wakes: number;
  /** Share of its life spent in polls (0..1), NaN before any time passed. */
  busy: number;
  lastWakeAgoNs: number | undefined;
  /** Lints that name the task, and the worst of them. */
  warn: LintMark | undefined;
  /** Await site and resource it parks at (escaped; "" when none). */
  site: string;
  resource: string;
  /** Seen first without its spawn (an attach mid-run): part of its history is missing. */
  joinedMidRun: boolean;
}

/** Live tasks of session `session` (state and verdict as of `nowNs`). */
export function taskRows(model: TraceModel, session: number, nowNs: number, lints: readonly Lint[]): TaskRow[] {
  const marks = lintMarks(lints);
  const rows: TaskRow[] = [];
  for (const t of model.liveTasks()) {
    if (t.session !== session || t.end !== undefined || !isLive(t)) continue;
    rows.push(taskRow(model, t, nowNs, marks.get(t.index)));
  }
  return rows;
}

export function taskRow(model: TraceModel, t: TaskRecord, nowNs: number, warn?: LintMark): TaskRow {
  const verdict = isLive(t) ? noWakerVerdict(t) : undefined;
  const lifetime = nowNs - (t.spawnedAt ?? t.firstSeen);
  const busyNs = t.busyNs + (t.state === "running" ? Math.max(0, nowNs - t.since) : 0);
  return {
    task: t,
    name: safeText(t.name),
    verdict,
    state: stateText(t, verdict),
    forNs: Math.max(0, nowNs - t.since),
    polls: t.polls,
    wakes: t.wakes,
    busy: lifetime > 0 ? busyNs / lifetime : Number.NaN,
    lastWakeAgoNs: t.lastWakeAt === undefined ? undefined : Math.max(0, nowNs - t.lastWakeAt),
    warn,
    site: siteName(model, t.session, t.awaitSite),
    resource: t.awaitResource === 0 ? "" : resourceName(model, t.session, t.awaitResource),
    joinedMidRun: t.spawnedAt === undefined,
  };
}

function stateText(t: TaskRecord, verdict: TaskRow["verdict"]): string {
  if (verdict === "stuck") return "STUCK (no waker)";
  if (verdict === "unknown") return "parked (waker unknown)";
  return t.state;
}

/** Per task (by incarnation index): how many lints name it, and the worst severity. */
export function lintMarks(lints: readonly Lint[]): Map<number, LintMark> {
  const marks = new Map<number, LintMark>();
  for (const l of lints) {
    for (const t of l.tasks) {
      if (t.index === undefined) continue;
      const m = marks.get(t.index);
      if (!m) marks.set(t.index, { count: 1, severity: l.severity });
      else {
        m.count++;
        if (SEVERITY_RANK[l.severity] < SEVERITY_RANK[m.severity]) m.severity = l.severity;
      }
    }
  }
  return marks;
}

const SEVERITY_RANK: Record<LintSeverity, number> = { error: 0, warning: 1, info: 2 };

/** Stuck first, then parked with an unknown waker, parked, runnable, running. */
function stateRank(r: TaskRow): number {
  if (r.verdict === "stuck") return 0;
  if (r.verdict === "unknown") return 1;
  return { parked: 2, scheduled: 3, running: 4, done: 5, cancelled: 5 }[r.task.state];
}

const COMPARE: Record<SortKey, (a: TaskRow, b: TaskRow) => number> = {
  // The natural order of each key comes first: a stuck task, the longest wait, the busiest...
  state: (a, b) => stateRank(a) - stateRank(b) || b.forNs - a.forNs,
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  id: (a, b) => a.task.id - b.task.id,
  for: (a, b) => b.forNs - a.forNs,
  polls: (a, b) => b.polls - a.polls,
  busy: (a, b) => (Number.isNaN(b.busy) ? -1 : b.busy) - (Number.isNaN(a.busy) ? -1 : a.busy),
  wakes: (a, b) => b.wakes - a.wakes,
  warn: (a, b) => warnRank(a) - warnRank(b) || (b.warn?.count ?? 0) - (a.warn?.count ?? 0),
};

function warnRank(r: TaskRow): number {
  return r.warn ? SEVERITY_RANK[r.warn.severity] : 3;
}

/** Sorts in place by `key` (reversed when `reverse`), ties by spawn order. */
export function sortRows(rows: TaskRow[], key: SortKey, reverse = false): TaskRow[] {
  const cmp = COMPARE[key];
  return rows.sort((a, b) => (reverse ? cmp(b, a) : cmp(a, b)) || a.task.index - b.task.index);
}

// ---- resources ----

export interface ResourceRow {
  res: ResourceRecord;
  name: string;
  kind: string;
  level: number;
  capacity: number;
  maxLevel: number;
  /** Time full so far, including a full interval still open (channels). */
  fullNs: number;
  /** Mutexes: the holder (escaped) and for how long. */
  holder: string | undefined;
  holderForNs: number;
  /** Live tasks parked on it (their await resource or a blocked operation), longest first. */
  parked: TaskRecord[];
  waits: number;
  waitNs: number;
}

export function resourceRows(model: TraceModel, session: number, nowNs: number): ResourceRow[] {
  const parked = new Map<number, TaskRecord[]>();
  for (const t of model.liveTasks()) {
    if (t.session !== session || t.state !== "parked") continue;
    const ids = new Set([t.awaitResource, t.blockedRes]);
    for (const id of ids) {
      if (id === 0) continue;
      const list = parked.get(id) ?? [];
      list.push(t);
      parked.set(id, list);
    }
  }
  const rows: ResourceRow[] = [];
  for (const r of model.resources) {
    if (r.session !== session) continue;
    const waiting = (parked.get(r.id) ?? []).sort((a, b) => a.since - b.since);
    rows.push({
      res: r,
      name: safeText(r.name),
      kind: r.kind,
      level: r.level,
      capacity: r.capacity,
      maxLevel: r.maxLevel,
      fullNs: r.fullNs + (Number.isNaN(r.fullSince) ? 0 : Math.max(0, nowNs - r.fullSince)),
      holder: r.holder ? safeText(r.holder.name) : undefined,
      holderForNs: r.holder ? Math.max(0, nowNs - r.holderSince) : 0,
      parked: waiting,
      waits: r.waits,
      waitNs: r.waitNs,
    });
  }
  return rows;
}

// ---- one task in detail ----

export interface Fact {
  label: string;
  value: string;
  /** How the value should stand out. */
  tone?: "bad" | "warn" | "good" | "dim";
}

export interface Bin {
  low: number;
  high: number;
  count: number;
}

export interface TaskDetail {
  row: TaskRow;
  title: string;
  facts: Fact[];
  pollTime: Histogram;
  wakeDelay: Histogram;
  lints: Lint[];
}

export function taskDetail(model: TraceModel, t: TaskRecord, nowNs: number, lints: readonly Lint[]): TaskDetail {
  const mine = lints.filter((l) => l.tasks.some((x) => x.index === t.index));
  const row = taskRow(model, t, nowNs, lintMarks(mine).get(t.index));
  const facts: Fact[] = [];
  const parent = t.parentName !== undefined ? `by ${safeText(t.parentName)} (${t.parent})` : t.parent !== 0 ? `by task ${t.parent}` : "outside any task";
  facts.push(
    t.spawnedAt === undefined
      ? { label: "spawned", value: `before the stream began: first seen ${formatDuration(Math.max(0, nowNs - t.firstSeen))} ago, history incomplete`, tone: "warn" }
      : { label: "spawned", value: `${formatDuration(Math.max(0, nowNs - t.spawnedAt))} ago, ${parent}` },
  );
  facts.push({
    label: "state",
    value: `${row.state} for ${formatDuration(row.forNs)}` + (t.end !== undefined ? ` (record closed: ${t.end})` : ""),
    ...(row.verdict === "stuck" ? { tone: "bad" as const } : row.verdict === "unknown" ? { tone: "warn" as const } : {}),
  });
  facts.push({
    label: "polls",
    value: `${formatCount(t.polls)}, busy ${formatDuration(t.busyNs)}` + (Number.isNaN(row.busy) ? "" : ` (${(100 * row.busy).toFixed(1)}%)`) +
      (t.maxPollNs > 0 ? `, longest ${formatDuration(t.maxPollNs)}` : "") + (t.longPolls > 0 ? `, ${formatCount(t.longPolls)} long` : ""),
  });
  const site = siteName(model, t.session, t.awaitSite !== 0 ? t.awaitSite : t.lastSite);
  const resId = t.awaitSite !== 0 ? t.awaitResource : t.lastResource;
  const res = resId === 0 ? undefined : model.resource(t.session, resId);
  facts.push({
    label: t.awaitSite !== 0 ? "awaits" : "last await",
    value: site === "" ? "-" : `'${site}'` + (res ? ` on ${res.kind} '${safeText(res.name)}'${resourceState(res)}` : resId !== 0 ? ` on resource ${resId}` : ""),
  });
  if (t.blockedRes !== 0) {
    const b = model.resource(t.session, t.blockedRes);
    const op = RESOURCE_OPS.find((o) => o.code === t.blockedOp)?.name ?? "an operation";
    facts.push({ label: "blocked", value: `${op} on '${safeText(b?.name ?? `resource ${t.blockedRes}`)}' for ${formatDuration(Math.max(0, nowNs - t.blockedSince))}`, tone: "warn" });
  }
  const self = t.wakes - t.wakesByTask - t.wakesByIrq - t.wakesExt;
  facts.push({
    label: "wakes",
    value: `${formatCount(t.wakes)}: by tasks ${formatCount(t.wakesByTask)}, by interrupts ${formatCount(t.wakesByIrq)}, external ${formatCount(t.wakesExt)}, self ${formatCount(Math.max(0, self))}` +
      (t.lastWakeAt === undefined ? "; never woken" : `; last ${formatDuration(Math.max(0, nowNs - t.lastWakeAt))} ago${t.lastWakeBy !== 0 ? ` by task ${t.lastWakeBy}` : ""}`),
  });
  facts.push(wakerFact(t, nowNs));
  if (t.timerDeadline === t.timerDeadline) facts.push({ label: "timer", value: `armed, due ${t.timerDeadline >= nowNs ? `in ${formatDuration(t.timerDeadline - nowNs)}` : `${formatDuration(nowNs - t.timerDeadline)} ago`}` });
  facts.push({ label: "memory", value: t.memBytes === undefined ? "not sampled" : `${formatBytes(t.memBytes)} (peak ${formatBytes(t.memPeak ?? t.memBytes)})`, ...(t.memBytes === undefined ? { tone: "dim" as const } : {}) });
  facts.push(flowFact(model, t, nowNs));
  return {
    row,
    title: `${row.name} (id ${t.id}${t.incarnation > 1 ? `, incarnation ${t.incarnation}` : ""})`,
    facts,
    pollTime: t.pollTime,
    wakeDelay: t.wakeDelay,
    lints: mine,
  };
}

function wakerFact(t: TaskRecord, nowNs: number): Fact {
  const known = wakerCountKnown(t);
  const count = known ? `${formatCount(Math.max(0, t.liveWakers))} held` : "count unknown (history incomplete)";
  if (t.orphanSince === t.orphanSince) {
    const why = t.orphanReason === "waker-dropped" ? `last dropped${t.orphanedByRef ? ` by ${safeText(t.orphanedByRef.name)}` : ""}` : "none stored when it parked";
    return { label: "wakers", value: `${count}; none live for ${formatDuration(Math.max(0, nowNs - t.orphanSince))} (${why})`, tone: known ? "bad" : "warn" };
  }
  return { label: "wakers", value: count, ...(known ? {} : { tone: "dim" as const }) };
}

function flowFact(model: TraceModel, t: TaskRecord, nowNs: number): Fact {
  if (t.flow === 0) return { label: "flow", value: "none", tone: "dim" };
  const f = model.flows.get(t.session, t.flow);
  if (!f) return { label: "flow", value: `${t.flow}` };
  const age = (f.endedAt === f.endedAt ? f.endedAt : nowNs) - f.beganAt;
  return {
    label: "flow",
    value: `'${safeText(f.name)}' #${t.flow}, ${f.endedAt === f.endedAt ? "ended after" : "running for"} ${formatDuration(Math.max(0, age))}` +
      `, ${formatCount(f.taskCount)} task${f.taskCount === 1 ? "" : "s"}, busy ${formatDuration(f.busyNs)}` + (f.owner ? `, began by ${safeText(f.owner.name)}` : ""),
  };
}

function resourceState(r: ResourceRecord): string {
  if (r.kind === "channel" && r.capacity > 0) return ` (${r.level}/${r.capacity})`;
  if (r.kind === "mutex") return r.holder ? ` (held by ${safeText(r.holder.name)})` : " (free)";
  return "";
}

/** The distribution in at most `max` bins of adjacent buckets, lowest first. */
export function histogramBins(h: Histogram, max: number): Bin[] {
  const raw: Bin[] = [];
  h.forEachBucket((low, high, count) => raw.push({ low, high, count }));
  if (raw.length <= max) return raw;
  const per = Math.ceil(raw.length / Math.max(1, max));
  const bins: Bin[] = [];
  for (let i = 0; i < raw.length; i += per) {
    const group = raw.slice(i, i + per);
    bins.push({ low: group[0]!.low, high: group.at(-1)!.high, count: group.reduce((n, b) => n + b.count, 0) });
  }
  return bins;
}

export function siteName(model: TraceModel, session: number, id: number): string {
  return id === 0 ? "" : safeText(model.nameIn(session, id) ?? `site#${id}`);
}

function resourceName(model: TraceModel, session: number, id: number): string {
  return safeText(model.resource(session, id)?.name ?? `resource ${id}`);
}
