// The report as data: everything trace-report prints, in one JSON-able structure built from the
// trace summary, the model and its lints. Text, JSON and HTML are renderings of it. Times are ns
// (numbers) since the session's device clock zero; Unix times are decimal strings (they exceed
// 2^53). docs/REPORT.md documents every field; the schema id changes only when a field is
// renamed or removed or changes meaning (fields may be added within a version).

import type { TraceSummary, TraceSession } from "../tracefile/trace.js";
import type { TraceModel } from "../model/trace-model.js";
import { isLive, lifetimeNs, noWakerVerdict, type TaskRecord, type TaskRef, type TaskState } from "../model/tasks.js";
import type { TaskGroup } from "../model/task-groups.js";
import { ticksToNs } from "../format/chunk.js";
import type { Lint } from "../model/lint.js";
import { findLints } from "../model/lints.js";
import { analyzeSlowRequests, causeLabel, type SlowKindReport } from "../model/slow-requests.js";
import type { HistogramSummary } from "../model/histogram.js";
import type { Thresholds } from "../model/thresholds.js";
import { waitsForGraph } from "../model/waits-for.js";
import { matchesTaskFilter, type TaskFilter } from "./task-filter.js";
import { lossAccount } from "../tracefile/loss-account.js";
import { kindConcFigures, taskConcFigures, type TaskConcFigures } from "../model/concurrency.js";
import type { GaugeFigures } from "../model/gauge.js";

export const REPORT_SCHEMA = "taskscope.report/3";

export interface LossReport {
  /** Events the device overwrote (overwrite mode) or refused (stop mode, ring full). */
  droppedOnDevice: number;
  overwrittenEvents: number;
  refusedEvents: number;
  chunksOverwritten: number;
  namesDropped: number;
  /** Events the device handed over that never reached the file (transport loss). */
  lostInTransfer: number;
  /** Events the device handed to an earlier pull of the same session: not in this file, not lost. */
  pulledEarlier: number;
  /** Chunks damaged in transport or storage and left out. */
  damagedChunks: number;
  /** Device ticks -> ns range of the first and last dropped event, when known. */
  dropRangeNs: [number, number] | null;
  /** False if the device counters were not in the file: loss cannot be proven zero. */
  exact: boolean;
}

export interface SessionReport {
  index: number;
  device: string;
  firmware: string;
  tickHz: number;
  ring: { mode: string; chunkSize: number; chunkCount: number };
  /** Unix ns of the first event, as a decimal string. */
  startUnixNs: string;
  firstNs: number;
  lastNs: number;
  durationNs: number;
  events: number;
  chunks: number;
  loss: LossReport;
  /** Time the recorder's clock skipped as not the program's (an in-process pull: its own work,
   *  and the OS running other processes); null when the file does not say. */
  stalls: { observerNs: number; runQueueNs: number; count: number; largestNs: number; sleepOverNs: number; runQueueKnown: boolean } | null;
  /** Time a device's clock left out as the core's own (its link service and drains: COUNTERS
   *  `hidden`); null when the device does not count it (wire format 1, no counters). */
  deviceHiddenNs: number | null;
}

export interface TaskReport {
  session: number;
  /** Position in the model's task list: unique, unlike ids (reused after a task ends). */
  index: number;
  id: number;
  incarnation: number;
  name: string;
  parentId: number;
  parentName: string | null;
  /** Index of the parent's record, null if not in the trace. */
  parentIndex: number | null;
  state: TaskState;
  spawnedNs: number | null;
  endedNs: number | null;
  totalNs: number;
  busyNs: number;
  scheduledNs: number;
  idleNs: number;
  polls: number;
  wakes: number;
  selfWakes: number;
  wakesByTask: number;
  wakesByIrq: number;
  wakesExternal: number;
  /** Await point of a task parked at the end of the trace. */
  awaitSite: string | null;
  /** Resource it is parked on at the end of the trace. */
  awaitResource: string | null;
  liveWakers: number;
  flow: number;
  firstPollDelayNs: number | null;
  pollNs: HistogramSummary;
  wakeToPollNs: HistogramSummary;
  longPolls: number;
  /** Memory samples (MEM): the latest and the largest, bytes; null when never sampled. */
  memoryBytes: number | null;
  memoryPeakBytes: number | null;
  /** Flows it served and began, its own flows in flight and served at once, and how much of its
   *  waiting for a flow overlapped another wait of the same flow; null if it served none. */
  concurrency: TaskConcFigures | null;
  /** A task parked with no live waker: "stuck" when its whole history is in the trace,
   *  "unknown" when part of it is missing (spawn not recorded); null otherwise. */
  noWaker: "stuck" | "unknown" | null;
  /** How the record closed: "done", "cancelled", "lost" (id spawned again, end not recorded),
   *  "alive" (the trace ended first); null while reading. */
  end: string | null;
}

/** Ended tasks of one name, parent and end, folded (every ended task is in exactly one group;
 *  `tasks` lists only a few of them). */
export interface TaskGroupReport {
  session: number;
  name: string;
  parentName: string | null;
  end: string;
  count: number;
  idMin: number;
  idMax: number;
  totalNs: number;
  busyNs: number;
  scheduledNs: number;
  idleNs: number;
  polls: number;
  wakes: number;
  selfWakes: number;
  longPolls: number;
  maxPollNs: number;
  memoryPeakBytes: number | null;
  pollNs: HistogramSummary;
  wakeToPollNs: HistogramSummary;
  lifetimeNs: HistogramSummary;
  /** As TaskReport.concurrency, summed over the group (maxima for the maxima). */
  concurrency: TaskConcFigures | null;
  /** `index` of the tasks kept as examples (listed in `tasks`). */
  exemplars: number[];
}

export interface ResourceReport {
  session: number;
  id: number;
  name: string;
  kind: string;
  capacity: number;
  createdNs: number | null;
  droppedNs: number | null;
  level: number;
  maxLevel: number;
  ops: number;
  blockedOps: number;
  /** Channels: time full, and the longest unbroken full interval. */
  fullNs: number;
  longestFullNs: number;
  /** Mutexes: holder at the end of the trace. */
  holder: { index: number; id: number; name: string } | null;
  /** Completed waits of tasks parked on it. */
  waits: number;
  waitNs: number;
  maxWaitNs: number;
  /** Tasks parked on it at the end of the trace. */
  blockedNow: { index: number; id: number; name: string; site: string | null }[];
}

export interface WaitEdgeReport {
  session: number;
  from: { index: number; id: number; name: string };
  op: "send" | "recv" | "acquire";
  resource: string;
  site: string | null;
  sinceNs: number;
  /** Tasks that could let it go on. */
  to: { index: number; id: number; name: string }[];
}

export interface FlowKindReport {
  session: number;
  kind: string;
  finished: number;
  unfinished: number;
  latencyNs: HistogramSummary;
  busyNs: HistogramSummary;
  /** Requests of the kind in flight (FLOW_BEGIN..FLOW_END) and being served (the current flow of
   *  a live task) over time: max, time-weighted mean while >= 1, time at each level range. */
  inFlight: GaugeFigures | null;
  served: GaugeFigures | null;
  /** Time the kind's tasks waited for its requests, and the part another task of the same request
   *  was waiting too. */
  waitNs: number;
  overlappedWaitNs: number;
  /** Begin and end of the first finished requests (at most 200; spansDropped more). */
  spans: [number, number][];
  spansDropped: number;
}

export interface CriticalStepReport {
  task: { index: number; id: number; name: string };
  site: string | null;
  resource: string | null;
  atNs: number;
  ns: number;
}

/** The slow requests' critical paths summed per await site and per resource. */
export interface CriticalSumsReport {
  flows: number;
  otherNs: number;
  bySite: { site: string | null; resource: string | null; ns: number; flows: number }[];
  byResource: { resource: string; ns: number; flows: number; sites: number }[];
}

export interface SlowCauseReport {
  cause: string;
  kind: "wait" | "cpu";
  site: string | null;
  resource: string | null;
  slowMeanNs: number;
  typicalNs: number;
  extraNs: number;
  flows: number;
  blocker: { index: number; id: number; name: string } | null;
}

export interface SlowRequestsReport {
  session: number;
  kind: string;
  flows: number;
  percentile: number;
  thresholdNs: number;
  medianNs: number;
  slowCount: number;
  significant: boolean;
  causes: SlowCauseReport[];
  groups: { cause: string; count: number }[];
  clustered: boolean;
  clusters: { fromNs: number; toNs: number; flows: number }[];
  slowest: SlowFlowReport[];
  /** Critical paths of the slow requests (empty lists unless significant). */
  criticalPath: CriticalSumsReport;
  truncated: boolean;
}

/** One slow request: the tasks that served it and where they waited, in order. */
export interface SlowFlowReport {
  id: number;
  beganNs: number;
  latencyNs: number;
  busyNs: number;
  tasks: { index: number; id: number; name: string }[];
  steps: FlowStepReport[];
  stepsDropped: number;
  /** The waits that decided when it ended, in time order; otherNs: CPU and queueing on the path. */
  criticalPath: { steps: CriticalStepReport[]; otherNs: number; partial: boolean };
}

export interface FlowStepReport {
  task: { index: number; id: number; name: string };
  site: string | null;
  resource: string | null;
  atNs: number;
  waitNs: number;
  /** Ended by a wake from another task of the same request (a join, a reply). */
  internal: boolean;
}

export interface ReportData {
  schema: typeof REPORT_SCHEMA;
  file: string;
  complete: boolean;
  truncated: { offset: number; bytes: number } | null;
  /** Stretches of the file skipped as damaged, and values set aside (the first 1,000). */
  damaged: { offset: number; bytes: number; reason: string }[];
  /** Chunks stored twice (same session and seq), dropped after the first. */
  duplicateChunks: number;
  footerReason: string | null;
  sessions: SessionReport[];
  /** The window asked for (ns from each session's first event), null ends when not limited. */
  window: { sinceNs: number | null; untilNs: number | null };
  /** Task filter asked for (names, globs or ids), null for all tasks. */
  taskFilter: string[] | null;
  thresholds: Thresholds;
  /** Most important first. */
  lints: Lint[];
  executor: { busyNs: number; idleNs: number; polls: number; busyRatio: number | null; maxWakeToPollNs: number };
  /** Live tasks, tasks alive at the end, and a few examples of each group of ended ones. */
  tasks: TaskReport[];
  /** Every ended task, folded by name, parent and end. */
  taskGroups: TaskGroupReport[];
  /** Events the analysis could not place, and ends it had to assume. */
  analysis: { pollsCut: number; pollEndsWithoutBegin: number; staleEvents: number; lostEnds: number; tasksSeen: number };
  resources: ResourceReport[];
  waitsFor: WaitEdgeReport[];
  flows: FlowKindReport[];
  slowRequests: SlowRequestsReport[];
}

export interface BuildOptions {
  /** Lints already found (else found here). */
  lints?: Lint[];
  slow?: SlowKindReport[];
  taskFilter?: TaskFilter;
  window?: { sinceNs?: number; untilNs?: number };
}

export function buildReport(file: string, summary: TraceSummary, model: TraceModel, options: BuildOptions = {}): ReportData {
  const spans = new Map(model.sessions.map((s) => [s.index, s]));
  const sessions = summary.sessions.map((s) => sessionReport(s, spans.get(s.index), summary));
  const endOf = new Map(sessions.map((s) => [s.index, s.lastNs]));
  const slow = options.slow ?? analyzeSlowRequests(model, model.thresholds);
  const allLints = options.lints ?? findLints({ model, summary, slow });
  const filter = options.taskFilter;
  const shown = (t: TaskRecord) => matchesTaskFilter(filter, t) && inWindow(t, spans.get(t.session));
  const nameOf = (session: number, id: number, prefix: string) => (id === 0 ? null : (model.nameIn(session, id) ?? `${prefix}#${id}`));
  const ref = (t: TaskRef) => ({ index: t.index, id: t.id, name: t.name });
  const held = model.tasks;
  const byIndex = new Map(held.map((t) => [t.index, t]));

  const tasks: TaskReport[] = held.filter(shown).map((t) => {
    const parent = t.parentIndex >= 0 ? byIndex.get(t.parentIndex) : undefined;
    const live = isLive(t);
    const span = spans.get(t.session);
    const end = endOf.get(t.session) ?? t.since;
    const res = live && t.awaitResource !== 0 ? model.resource(t.session, t.awaitResource) : undefined;
    return {
      session: t.session,
      index: t.index,
      id: t.id,
      incarnation: t.incarnation,
      name: t.name,
      parentId: t.parent,
      parentName: parent?.name ?? t.parentName ?? null,
      parentIndex: t.parentIndex >= 0 ? t.parentIndex : null,
      state: t.state,
      spawnedNs: t.spawnedAt ?? null,
      endedNs: t.endedAt ?? null,
      totalNs: span?.windowStart !== undefined || span?.windowEnd !== undefined ? windowedLifetime(t, span.windowStart, end) : lifetimeNs(t, end),
      busyNs: t.busyNs,
      scheduledNs: t.scheduledNs,
      idleNs: t.idleNs,
      polls: t.polls,
      wakes: t.wakes,
      selfWakes: t.selfWakes,
      wakesByTask: t.wakesByTask,
      wakesByIrq: t.wakesByIrq,
      wakesExternal: t.wakesExt,
      awaitSite: live ? nameOf(t.session, t.awaitSite, "site") : null,
      awaitResource: res ? res.name : live && t.awaitResource !== 0 ? `resource ${t.awaitResource}` : null,
      liveWakers: t.liveWakers,
      flow: t.flow,
      firstPollDelayNs: t.firstPollDelayNs ?? null,
      pollNs: t.pollTime.summary(),
      wakeToPollNs: t.wakeDelay.summary(),
      longPolls: t.longPolls,
      memoryBytes: t.memBytes ?? null,
      memoryPeakBytes: t.memPeak ?? null,
      concurrency: t.conc ? taskConcFigures(t.conc, end) : null,
      noWaker: live ? (noWakerVerdict(t) ?? null) : null,
      end: t.end ?? null,
    };
  });

  const taskGroups: TaskGroupReport[] = model.groups.list
    .filter((g) => !filter || matchesTaskFilter(filter, { id: g.idMin, name: g.name }))
    .map((g) => groupReport(g));

  const resources: ResourceReport[] = model.resources.map((r) => {
    const holderRec = r.holder ? byIndex.get(r.holder.index) : undefined;
    const holder = holderRec && isLive(holderRec) ? ref(holderRec) : null;
    const blockedNow = held
      .filter((t) => t.session === r.session && t.state === "parked" && t.lastResource === r.id)
      .map((t) => ({ ...ref(t), site: nameOf(t.session, t.lastSite, "site") }));
    return {
      session: r.session, id: r.id, name: r.name, kind: r.kind, capacity: r.capacity,
      createdNs: r.createdAt ?? null, droppedNs: r.droppedAt ?? null, level: r.level, maxLevel: r.maxLevel,
      ops: r.ops, blockedOps: r.blockedOps, fullNs: r.fullNs, longestFullNs: r.longestFullNs, holder,
      waits: r.waits, waitNs: r.waitNs, maxWaitNs: r.maxWaitNs, blockedNow,
    };
  });

  const waitsFor: WaitEdgeReport[] = [];
  for (const s of model.sessions) {
    for (const e of waitsForGraph(model, s.index).values()) {
      waitsFor.push({
        session: s.index, from: ref(e.from), op: e.op, resource: e.resource.name,
        site: nameOf(s.index, e.site, "site"), sinceNs: e.since, to: e.to.map(ref),
      });
    }
  }

  const flows: FlowKindReport[] = model.flows.kinds.map((k) => {
    const c = k.conc ? kindConcFigures(k.conc, endOf.get(k.session) ?? 0) : undefined;
    const spans: [number, number][] = [];
    const raw = k.conc?.spans ?? [];
    for (let i = 0; i + 1 < raw.length; i += 2) spans.push([raw[i]!, raw[i + 1]!]);
    return {
      session: k.session, kind: k.name, finished: k.latency.count, unfinished: k.unfinished,
      latencyNs: k.latency.summary(), busyNs: k.busy.summary(),
      inFlight: c?.inFlight ?? null, served: c?.served ?? null, waitNs: c?.waitNs ?? 0, overlappedWaitNs: c?.overlappedWaitNs ?? 0,
      spans, spansDropped: k.conc?.spansDropped ?? 0,
    };
  });
  const resourceName = (session: number, id: number) => (id === 0 ? null : (model.resource(session, id)?.name ?? `resource ${id}`));

  const slowRequests: SlowRequestsReport[] = slow.map((r) => ({
    session: r.session, kind: r.kind, flows: r.flows, percentile: r.percentile, thresholdNs: r.thresholdNs,
    medianNs: r.medianNs, slowCount: r.slowCount, significant: r.significant,
    causes: r.causes.map((c) => ({
      cause: causeLabel(c), kind: c.kind, site: c.siteName, resource: c.resourceName, slowMeanNs: c.slowMeanNs,
      typicalNs: c.typicalNs, extraNs: c.extraNs, flows: c.flows, blocker: c.blocker,
    })),
    groups: r.groups, clustered: r.clustered, clusters: r.clusters,
    slowest: r.slowest.map((f) => ({
      id: f.id, beganNs: f.beganNs, latencyNs: f.latencyNs, busyNs: f.busyNs, tasks: f.tasks.map(ref),
      steps: f.steps.map((st) => ({
        task: ref(st.task), site: nameOf(r.session, st.site, "site"),
        resource: st.resource === 0 ? null : (model.resource(r.session, st.resource)?.name ?? `resource ${st.resource}`),
        atNs: st.atNs, waitNs: st.waitNs, internal: st.internal,
      })),
      stepsDropped: f.stepsDropped,
      criticalPath: {
        steps: f.criticalPath.steps.map((st) => ({
          task: ref(st.task), site: nameOf(r.session, st.site, "site"), resource: resourceName(r.session, st.resource), atNs: st.atNs, ns: st.ns,
        })),
        otherNs: f.criticalPath.otherNs,
        partial: f.criticalPath.partial,
      },
    })),
    criticalPath: {
      flows: r.criticalPath.flows,
      otherNs: r.criticalPath.otherNs,
      bySite: r.criticalPath.bySite.map((x) => ({ site: nameOf(r.session, x.site, "site"), resource: resourceName(r.session, x.resource), ns: x.ns, flows: x.flows })),
      byResource: r.criticalPath.byResource.map((x) => ({ resource: resourceName(r.session, x.resource)!, ns: x.ns, flows: x.flows, sites: x.sites })),
    },
    truncated: r.truncated,
  }));

  const lints = filter ? allLints.filter((l) => l.tasks.some((t) => matchesTaskFilter(filter, t))) : allLints;
  const span = sessions.reduce((sum, s) => sum + windowedDuration(s, spans.get(s.index)), 0);
  const ex = model.executor;
  return {
    schema: REPORT_SCHEMA,
    file,
    complete: summary.footer !== undefined && summary.truncated === undefined,
    truncated: summary.truncated ? { ...summary.truncated } : null,
    damaged: summary.damaged.map((d) => ({ ...d })),
    duplicateChunks: summary.duplicateChunks,
    footerReason: summary.footer?.reason ?? null,
    sessions,
    window: { sinceNs: options.window?.sinceNs ?? null, untilNs: options.window?.untilNs ?? null },
    taskFilter: filter ? filter.patterns : null,
    thresholds: { ...model.thresholds },
    lints,
    executor: {
      busyNs: ex.busyNs, idleNs: ex.idleNs, polls: ex.polls, busyRatio: span > 0 ? ex.busyNs / span : null,
      maxWakeToPollNs: ex.maxWakeDelayNs,
    },
    tasks,
    taskGroups,
    analysis: {
      pollsCut: model.stats.pollsCut, pollEndsWithoutBegin: model.stats.pollEndsWithoutBegin,
      staleEvents: model.stats.staleWakes, lostEnds: model.stats.lostEnds, tasksSeen: model.taskCount,
    },
    resources,
    waitsFor,
    flows,
    slowRequests,
  };
}

/** A task belongs to the window unless it ended before it began. */
function inWindow(t: TaskRecord, span: { windowStart?: number } | undefined): boolean {
  return span?.windowStart === undefined || t.endedAt === undefined || t.endedAt >= span.windowStart;
}

function windowedLifetime(t: TaskRecord, windowStart: number | undefined, end: number): number {
  const from = Math.max(t.spawnedAt ?? t.firstSeen, windowStart ?? Number.NEGATIVE_INFINITY);
  return Math.max(0, Math.min(t.endedAt ?? end, end) - from);
}

function windowedDuration(s: SessionReport, span: { windowStart?: number } | undefined): number {
  if (span?.windowStart === undefined) return s.durationNs;
  return Math.max(0, s.lastNs - Math.max(s.firstNs, span.windowStart));
}

function sessionReport(
  s: TraceSession,
  span: { firstT: number; lastT: number } | undefined,
  summary: TraceSummary,
): SessionReport {
  const hz = s.info.tickHz;
  const c = s.counters;
  const firstNs = span?.firstT ?? 0;
  const lastNs = span?.lastT ?? 0;
  const anchorNs = ticksToNs(s.info.anchor.ticks, hz);
  const sinceAnchor = Math.round(firstNs - anchorNs);
  const startUnixNs = s.info.anchor.unixNs + (Number.isFinite(sinceAnchor) ? BigInt(sinceAnchor) : 0n);
  const damaged = summary.losses.filter((l) => l.session === s.index && l.kind === "decode").reduce((n, l) => n + l.chunks, 0);
  const loss: LossReport = {
    overwrittenEvents: c?.droppedOverwritten ?? 0,
    refusedEvents: c?.droppedFull ?? 0,
    chunksOverwritten: c?.chunksOverwritten ?? 0,
    namesDropped: c?.namesDropped ?? 0,
    ...lossAccount(c, s, s.info.earlier),
    damagedChunks: damaged,
    dropRangeNs: c && c.firstDrop > 0 ? [ticksToNs(c.firstDrop, hz), ticksToNs(c.lastDrop, hz)] : null,
    exact: c !== undefined,
  };
  return {
    index: s.index,
    device: s.info.device,
    firmware: s.info.firmware,
    tickHz: s.info.tickHz,
    ring: { mode: s.info.mode, chunkSize: s.info.chunkSize, chunkCount: s.info.chunkCount },
    startUnixNs: startUnixNs.toString(),
    firstNs,
    lastNs,
    durationNs: lastNs - firstNs,
    events: s.events,
    chunks: s.chunks,
    loss,
    stalls: s.stalls ? { ...s.stalls } : null,
    deviceHiddenNs: c?.hiddenTicks === undefined ? null : ticksToNs(c.hiddenTicks, hz),
  };
}

function groupReport(g: TaskGroup): TaskGroupReport {
  return {
    session: g.session, name: g.name, parentName: g.parentName ?? null, end: g.end, count: g.count,
    idMin: g.idMin, idMax: g.idMax, totalNs: g.totalNs, busyNs: g.busyNs, scheduledNs: g.scheduledNs, idleNs: g.idleNs,
    polls: g.polls, wakes: g.wakes, selfWakes: g.selfWakes, longPolls: g.longPolls, maxPollNs: g.maxPollNs,
    memoryPeakBytes: g.memPeak ?? null, pollNs: g.pollTime.summary(), wakeToPollNs: g.wakeDelay.summary(),
    lifetimeNs: g.lifetime.summary(), concurrency: g.conc, exemplars: [...g.exemplars, ...(g.worst ? [g.worst] : [])].map((t) => t.index),
  };
}
