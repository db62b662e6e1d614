// The text rendering of a report: header, loss, executor load, task table.

import type { ReportData, SessionReport, TaskReport } from "./report-data.js";
import { renderTable, type Column } from "./text-table.js";
import { formatCount, formatDuration, formatPercent } from "./units.js";

export interface TextOptions {
  /** List every task instead of folding finished look-alikes into one row. */
  allTasks?: boolean;
}

/** Finished tasks with the same name, parent and end state fold into one row when there are at
 *  least this many: a worker pool of 200 reads better as one line of averages. */
const FOLD_AT = 4;

export function renderTextReport(r: ReportData, options: TextOptions = {}): string {
  const out: string[] = [];
  out.push(`taskscope report: ${r.file}`);
  if (r.truncated) {
    out.push(`warning: the file ends inside a record at byte ${r.truncated.offset} (the writer was stopped); showing everything before it`);
  } else if (!r.complete) {
    out.push("warning: the file has no footer (the writer did not finish); showing everything in it");
  }
  for (const s of r.sessions) out.push(...sessionLines(s, r.sessions.length > 1));
  if (r.sessions.length === 0) out.push("no device session in this file");
  const ex = r.executor;
  out.push("");
  out.push(
    `executor: busy ${ex.busyRatio === null ? "-" : formatPercent(ex.busyRatio, 1)} (${formatDuration(ex.busyNs)} in ${formatCount(ex.polls)} polls), ` +
      `idle ${formatDuration(ex.idleNs)}`,
  );
  out.push("");
  const rows = options.allTasks ? r.tasks.map(single) : foldTasks(r.tasks);
  const folded = rows.some((row) => row.count > 1);
  out.push(`tasks (${r.tasks.length}${folded ? "; finished look-alikes folded into one row of averages, --all-tasks lists each" : ""}):`);
  out.push(taskTable(rows, r.sessions.length > 1));
  return out.join("\n") + "\n";
}

function sessionLines(s: SessionReport, many: boolean): string[] {
  const hz = s.tickHz >= 1e6 ? `${s.tickHz / 1e6} MHz` : s.tickHz >= 1e3 ? `${s.tickHz / 1e3} kHz` : `${s.tickHz} Hz`;
  const start = new Date(Number(BigInt(s.startUnixNs) / 1_000_000n)).toISOString().replace("T", " ").replace("Z", " UTC");
  const l = s.loss;
  const lost: string[] = [];
  if (l.overwrittenEvents > 0) lost.push(`${formatCount(l.overwrittenEvents)} events overwritten on the device (${l.chunksOverwritten} chunks)`);
  if (l.refusedEvents > 0) lost.push(`${formatCount(l.refusedEvents)} events refused on the device (ring full)`);
  if (l.lostInTransfer > 0) lost.push(`${formatCount(l.lostInTransfer)} events lost in transfer`);
  if (l.damagedChunks > 0) lost.push(`${l.damagedChunks} damaged chunks left out`);
  if (l.namesDropped > 0) lost.push(`${l.namesDropped} names did not fit the names table`);
  const range = l.dropRangeNs ? ` between ${formatDuration(l.dropRangeNs[0])} and ${formatDuration(l.dropRangeNs[1])}` : "";
  return [
    `${many ? `session ${s.index}: ` : ""}device ${s.device}, firmware ${s.firmware}, ${hz} clock, ring ${s.ring.chunkCount} x ${s.ring.chunkSize} B (${s.ring.mode})`,
    `recorded ${formatDuration(s.durationNs)} from ${start}: ${formatCount(s.events)} events in ${formatCount(s.chunks)} chunks`,
    `lost: ${lost.length === 0 ? (l.exact ? "nothing" : "unknown (no device counters in the file)") : lost.join("; ") + range}`,
  ];
}

const COLUMNS: Column[] = [
  { header: "TASK" },
  { header: "ID", align: "right" },
  { header: "PARENT" },
  { header: "STATE" },
  { header: "TOTAL", align: "right" },
  { header: "BUSY", align: "right" },
  { header: "SCHED", align: "right" },
  { header: "IDLE", align: "right" },
  { header: "POLLS", align: "right" },
  { header: "WAKES", align: "right" },
  { header: "SELF", align: "right" },
  { header: "AWAITING" },
];

/** A table row: one task, or `count` finished tasks with averaged figures. */
interface TaskRow extends TaskReport {
  count: number;
  idRange: string;
}

function single(t: TaskReport): TaskRow {
  return { ...t, count: 1, idRange: String(t.id) };
}

function foldTasks(tasks: TaskReport[]): TaskRow[] {
  const groups = new Map<string, TaskReport[]>();
  for (const t of tasks) {
    if (t.state !== "done" && t.state !== "cancelled") continue;
    const key = `${t.session}\u0000${t.name}\u0000${t.parentName ?? t.parentId}\u0000${t.state}`;
    const list = groups.get(key) ?? [];
    list.push(t);
    groups.set(key, list);
  }
  const rows: TaskRow[] = [];
  const emitted = new Set<string>();
  for (const t of tasks) {
    const key = `${t.session}\u0000${t.name}\u0000${t.parentName ?? t.parentId}\u0000${t.state}`;
    const group = groups.get(key);
    if (!group || group.length < FOLD_AT) {
      rows.push(single(t));
      continue;
    }
    if (emitted.has(key)) continue;
    emitted.add(key);
    const n = group.length;
    const avg = (f: (x: TaskReport) => number) => group.reduce((sum, x) => sum + f(x), 0) / n;
    const ids = group.map((x) => x.id);
    rows.push({
      ...t,
      count: n,
      idRange: `${Math.min(...ids)}..${Math.max(...ids)}`,
      totalNs: avg((x) => x.totalNs),
      busyNs: avg((x) => x.busyNs),
      scheduledNs: avg((x) => x.scheduledNs),
      idleNs: avg((x) => x.idleNs),
      polls: avg((x) => x.polls),
      wakes: avg((x) => x.wakes),
      selfWakes: avg((x) => x.selfWakes),
    });
  }
  return rows;
}

function avgCount(x: number, count: number): string {
  return count > 1 && !Number.isInteger(x) ? x.toFixed(1) : formatCount(x);
}

function taskTable(tasks: TaskRow[], many: boolean): string {
  const rows = tasks.map((t) => [
    t.count > 1 ? `${t.name} x${t.count} (avg)` : t.name,
    many ? `${t.session}:${t.idRange}` : t.idRange,
    t.parentName ?? (t.parentId === 0 ? "-" : `#${t.parentId}`),
    t.state,
    formatDuration(t.totalNs),
    formatDuration(t.busyNs),
    formatDuration(t.scheduledNs),
    formatDuration(t.idleNs),
    avgCount(t.polls, t.count),
    avgCount(t.wakes, t.count),
    avgCount(t.selfWakes, t.count),
    t.awaitSite ?? "",
  ]);
  return renderTable(COLUMNS, rows);
}
