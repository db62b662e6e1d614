// The report as data: everything trace-report prints, in one JSON-able structure built from the
// trace summary and the model. Text and JSON are two renderings of it. Times are ns (numbers);
// Unix times are decimal strings (they exceed 2^53).

import type { TraceSummary, TraceSession } from "../tracefile/trace.js";
import type { TraceModel } from "../model/trace-model.js";
import { lifetimeNs, type TaskState } from "../model/tasks.js";
import { ticksToNs } from "../format/chunk.js";

export const REPORT_SCHEMA = "taskscope.report/1";

export interface LossReport {
  /** Events the device overwrote (overwrite mode) or refused (stop mode, ring full). */
  droppedOnDevice: number;
  overwrittenEvents: number;
  refusedEvents: number;
  chunksOverwritten: number;
  namesDropped: number;
  /** Events the device handed over that never reached the file (transport loss). */
  lostInTransfer: number;
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
}

export interface TaskReport {
  session: number;
  id: number;
  name: string;
  parentId: number;
  parentName: string | null;
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
  /** Await point of a task parked at the end of the trace. */
  awaitSite: string | null;
  liveWakers: number;
}

export interface ReportData {
  schema: typeof REPORT_SCHEMA;
  file: string;
  complete: boolean;
  truncated: { offset: number; bytes: number } | null;
  footerReason: string | null;
  sessions: SessionReport[];
  executor: { busyNs: number; idleNs: number; polls: number; busyRatio: number | null };
  tasks: TaskReport[];
}

export function buildReport(file: string, summary: TraceSummary, model: TraceModel): ReportData {
  const spans = new Map(model.sessions.map((s) => [s.index, s]));
  const sessions = summary.sessions.map((s) => sessionReport(s, spans.get(s.index), summary));
  const namesBySession = new Map(summary.sessions.map((s) => [s.index, s.names]));
  const endOf = new Map(sessions.map((s) => [s.index, s.lastNs]));
  const tasks: TaskReport[] = model.tasks.map((t) => {
    const parent = t.parentIndex >= 0 ? model.tasks[t.parentIndex] : undefined;
    const live = t.state !== "done" && t.state !== "cancelled";
    return {
      session: t.session,
      id: t.id,
      name: t.name,
      parentId: t.parent,
      parentName: parent ? parent.name : null,
      state: t.state,
      spawnedNs: t.spawnedAt ?? null,
      endedNs: t.endedAt ?? null,
      totalNs: lifetimeNs(t, endOf.get(t.session) ?? t.since),
      busyNs: t.busyNs,
      scheduledNs: t.scheduledNs,
      idleNs: t.idleNs,
      polls: t.polls,
      wakes: t.wakes,
      selfWakes: t.selfWakes,
      awaitSite: live && t.awaitSite !== 0 ? (namesBySession.get(t.session)?.get(t.awaitSite) ?? `site#${t.awaitSite}`) : null,
      liveWakers: t.liveWakers,
    };
  });
  const span = sessions.reduce((sum, s) => sum + s.durationNs, 0);
  const ex = model.executor;
  return {
    schema: REPORT_SCHEMA,
    file,
    complete: summary.footer !== undefined && summary.truncated === undefined,
    truncated: summary.truncated ? { ...summary.truncated } : null,
    footerReason: summary.footer?.reason ?? null,
    sessions,
    executor: { busyNs: ex.busyNs, idleNs: ex.idleNs, polls: ex.polls, busyRatio: span > 0 ? ex.busyNs / span : null },
    tasks,
  };
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
  const startUnixNs = s.info.anchor.unixNs + BigInt(Math.round(firstNs - anchorNs));
  const damaged = summary.losses.filter((l) => l.session === s.index && l.kind === "decode").reduce((n, l) => n + l.chunks, 0);
  const loss: LossReport = {
    droppedOnDevice: c ? c.droppedOverwritten + c.droppedFull : 0,
    overwrittenEvents: c?.droppedOverwritten ?? 0,
    refusedEvents: c?.droppedFull ?? 0,
    chunksOverwritten: c?.chunksOverwritten ?? 0,
    namesDropped: c?.namesDropped ?? 0,
    lostInTransfer: c ? Math.max(0, c.drained - s.events) : 0,
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
  };
}
