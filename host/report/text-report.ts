// The text rendering of a report: header and loss, lints (most important first), executor load,
// task table, spawn tree, resources, flows and the slow-request analysis.

import type { ReportData, SessionReport, TaskReport } from "./report-data.js";
import type { Lint } from "../model/lint.js";
import { renderTable, type Column } from "./text-table.js";
import { formatCount, formatDuration, formatPercent } from "./units.js";

export interface TextOptions {
  /** List every task instead of folding finished look-alikes into one row. */
  allTasks?: boolean;
}

/** Finished tasks with the same name, parent and end state fold into one row when there are at
 *  least this many: a worker pool of 200 reads better as one line of averages. */
const FOLD_AT = 4;
/** Lines of the spawn tree shown (look-alike siblings are folded first). */
const TREE_LINES = 60;

export function renderTextReport(r: ReportData, options: TextOptions = {}): string {
  const out: string[] = [];
  out.push(`taskscope report: ${r.file}`);
  if (r.truncated) {
    out.push(`warning: the file ends inside a record at byte ${r.truncated.offset} (the writer was stopped); showing everything before it`);
  } else if (!r.complete) {
    out.push("warning: the file has no footer (the writer did not finish); showing everything in it");
  }
  for (const d of r.damaged.slice(0, 5)) out.push(`warning: damaged at byte ${d.offset}, ${formatCount(d.bytes)} bytes skipped: ${d.reason}`);
  if (r.damaged.length > 5) out.push(`warning: ${r.damaged.length - 5} more damaged places (--json lists them)`);
  if (r.duplicateChunks > 0) out.push(`warning: ${formatCount(r.duplicateChunks)} chunks stored twice; each counted once`);
  for (const s of r.sessions) out.push(...sessionLines(s, r.sessions.length > 1));
  if (r.sessions.length === 0) out.push("no device session in this file");
  const scope = scopeLine(r);
  if (scope) out.push(scope);

  out.push("");
  out.push(...lintLines(r));

  const ex = r.executor;
  out.push("");
  out.push(
    `executor: busy ${ex.busyRatio === null ? "-" : formatPercent(ex.busyRatio, 1)} (${formatDuration(ex.busyNs)} in ${formatCount(ex.polls)} polls), ` +
      `idle ${formatDuration(ex.idleNs)}, longest wait from wake to poll ${formatDuration(ex.maxWakeToPollNs)}`,
  );
  out.push("");
  const rows = options.allTasks ? r.tasks.map(single) : foldTasks(r.tasks);
  const folded = rows.some((row) => row.count > 1);
  out.push(`tasks (${r.tasks.length}${folded ? "; finished look-alikes folded into one row of averages, --all-tasks lists each" : ""}):`);
  out.push(taskTable(rows, r.sessions.length > 1));

  const tree = spawnTree(r.tasks, r.sessions.length > 1);
  if (tree.length > 0) {
    out.push("");
    out.push("spawn tree:");
    out.push(...tree);
  }
  const res = resourceLines(r);
  if (res.length > 0) {
    out.push("");
    out.push(...res);
  }
  const flows = flowLines(r);
  if (flows.length > 0) {
    out.push("");
    out.push(...flows);
  }
  return out.join("\n") + "\n";
}

function scopeLine(r: ReportData): string | undefined {
  const parts: string[] = [];
  if (r.window.sinceNs !== null || r.window.untilNs !== null) {
    parts.push(`window ${r.window.sinceNs === null ? "start" : formatDuration(r.window.sinceNs)} to ${r.window.untilNs === null ? "end" : formatDuration(r.window.untilNs)} (from each session's first event)`);
  }
  if (r.taskFilter) parts.push(`tasks matching ${r.taskFilter.map((p) => `'${p}'`).join(", ")}`);
  return parts.length > 0 ? `showing: ${parts.join("; ")}` : undefined;
}

function sessionLines(s: SessionReport, many: boolean): string[] {
  const hz = s.tickHz >= 1e6 ? `${s.tickHz / 1e6} MHz` : s.tickHz >= 1e3 ? `${s.tickHz / 1e3} kHz` : `${s.tickHz} Hz`;
  const startMs = Number(BigInt(s.startUnixNs) / 1_000_000n);
  const start = Math.abs(startMs) <= 8.64e15 ? new Date(startMs).toISOString().replace("T", " ").replace("Z", " UTC") : `Unix time ${s.startUnixNs} ns`;
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
    `recorded ${formatDuration(s.durationNs)} from ${start}: ${formatCount(s.events)} events in ${formatCount(s.chunks)} chunks` +
      (l.pulledEarlier > 0 ? `; ${formatCount(l.pulledEarlier)} earlier events of this boot went to an earlier pull` : ""),
    `lost: ${lost.length === 0 ? (l.exact ? "nothing" : "unknown (no device counters in the file)") : lost.join("; ") + range}`,
  ];
}

// ---- lints ----

function lintLines(r: ReportData): string[] {
  if (r.lints.length === 0) return ["lints: none"];
  const firstNs = new Map(r.sessions.map((s) => [s.index, s.firstNs]));
  const lastNs = new Map(r.sessions.map((s) => [s.index, s.lastNs]));
  const out = [`lints (${r.lints.length}, most important first):`];
  r.lints.forEach((l, i) => {
    const mark = l.severity === "error" ? "ERROR" : l.severity;
    const num = `${i + 1}.`;
    const pad = " ".repeat(num.length + 1);
    out.push(`${num} ${mark} ${l.title}`);
    out.push(`${pad}${whenText(l, firstNs.get(l.session) ?? 0, lastNs.get(l.session))}${r.sessions.length > 1 ? ` (session ${l.session})` : ""}`);
    out.push(`${pad}hint: ${l.hint}`);
  });
  return out;
}

function whenText(l: Lint, first: number, last: number | undefined): string {
  const from = `at ${formatDuration(l.atNs - first)}`;
  if (l.untilNs === undefined || l.untilNs <= l.atNs) return from;
  const toEnd = last !== undefined && l.untilNs >= last;
  return `${from} to ${toEnd ? "the end of the trace" : formatDuration(l.untilNs - first)} (${formatDuration(l.untilNs - l.atNs)})`;
}

// ---- tasks ----

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
  { header: "MAXPOLL", align: "right" },
  { header: "DELAY90", align: "right" },
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

function foldKey(t: TaskReport): string {
  return `${t.session}\u0000${t.name}\u0000${t.parentName ?? t.parentId}\u0000${t.state}`;
}

function foldTasks(tasks: TaskReport[]): TaskRow[] {
  const groups = new Map<string, TaskReport[]>();
  for (const t of tasks) {
    if (t.state !== "done" && t.state !== "cancelled") continue;
    const list = groups.get(foldKey(t)) ?? [];
    list.push(t);
    groups.set(foldKey(t), list);
  }
  const rows: TaskRow[] = [];
  const emitted = new Set<string>();
  for (const t of tasks) {
    const key = foldKey(t);
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
      pollNs: { ...t.pollNs, max: Math.max(...group.map((x) => x.pollNs.max)) },
      wakeToPollNs: { ...t.wakeToPollNs, p90: Math.max(...group.map((x) => x.wakeToPollNs.p90)) },
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
    t.pollNs.count > 0 ? formatDuration(t.pollNs.max) : "-",
    t.wakeToPollNs.count > 0 ? formatDuration(t.wakeToPollNs.p90) : "-",
    t.awaitSite === null ? "" : t.awaitResource ? `${t.awaitSite} (${t.awaitResource})` : t.awaitSite,
  ]);
  return renderTable(COLUMNS, rows);
}

// ---- spawn tree ----

function spawnTree(tasks: TaskReport[], many: boolean): string[] {
  const byIndex = new Map(tasks.map((t) => [t.index, t]));
  const children = new Map<number, TaskReport[]>();
  const roots: TaskReport[] = [];
  for (const t of tasks) {
    if (t.parentIndex !== null && byIndex.has(t.parentIndex)) {
      const list = children.get(t.parentIndex) ?? [];
      list.push(t);
      children.set(t.parentIndex, list);
    } else {
      roots.push(t);
    }
  }
  const lines: string[] = [];
  let hidden = 0;
  const label = (t: TaskReport) => {
    const id = many ? `${t.session}:${t.id}` : String(t.id);
    const where = t.awaitSite ? ` at '${t.awaitSite}'` : "";
    return `${t.name} (${id}) ${t.state}${where}`;
  };
  const walk = (list: TaskReport[], prefix: string) => {
    // Leaves with the same name and state fold into one line.
    const items: { t: TaskReport; count: number; ids: number[] }[] = [];
    const leafGroups = new Map<string, { t: TaskReport; count: number; ids: number[] }>();
    for (const t of list) {
      const leaf = !children.has(t.index);
      const key = `${t.name}\u0000${t.state}\u0000${t.awaitSite ?? ""}`;
      const g = leaf ? leafGroups.get(key) : undefined;
      if (g) {
        g.count++;
        g.ids.push(t.id);
        continue;
      }
      const item = { t, count: 1, ids: [t.id] };
      items.push(item);
      if (leaf) leafGroups.set(key, item);
    }
    items.forEach((item, i) => {
      const last = i === items.length - 1;
      if (lines.length >= TREE_LINES) {
        hidden += item.count;
        return;
      }
      const text =
        item.count > 1
          ? `${item.t.name} x${item.count} (${Math.min(...item.ids)}..${Math.max(...item.ids)}) ${item.t.state}${item.t.awaitSite ? ` at '${item.t.awaitSite}'` : ""}`
          : label(item.t);
      lines.push(`${prefix}${last ? "└─ " : "├─ "}${text}`);
      const kids = children.get(item.t.index);
      if (kids && item.count === 1) walk(kids, `${prefix}${last ? "   " : "│  "}`);
    });
  };
  for (const root of roots) {
    if (lines.length >= TREE_LINES) {
      hidden++;
      continue;
    }
    lines.push(label(root));
    const kids = children.get(root.index);
    if (kids) walk(kids, "");
  }
  if (hidden > 0) lines.push(`... ${formatCount(hidden)} more (see --json)`);
  return lines;
}

// ---- resources ----

const RESOURCE_COLUMNS: Column[] = [
  { header: "RESOURCE" },
  { header: "KIND" },
  { header: "CAP", align: "right" },
  { header: "MAXFILL", align: "right" },
  { header: "FULL", align: "right" },
  { header: "LONGEST", align: "right" },
  { header: "BLOCKED", align: "right" },
  { header: "WAITS", align: "right" },
  { header: "WAITED", align: "right" },
  { header: "NOW" },
];

function resourceLines(r: ReportData): string[] {
  if (r.resources.length === 0) return [];
  const rows = r.resources.map((x) => {
    const now: string[] = [];
    if (x.holder) now.push(`held by ${x.holder.name} (${x.holder.id})`);
    if (x.blockedNow.length > 0) {
      const names = x.blockedNow.slice(0, 3).map((b) => `${b.name} (${b.id})`).join(", ");
      now.push(`blocked: ${names}${x.blockedNow.length > 3 ? ` +${x.blockedNow.length - 3}` : ""}`);
    }
    const channel = x.kind === "channel";
    return [
      x.name,
      x.kind,
      x.capacity > 0 && x.kind !== "timer" ? String(x.capacity) : "-",
      x.kind === "timer" ? "-" : String(x.maxLevel),
      channel ? formatDuration(x.fullNs) : "-",
      channel ? formatDuration(x.longestFullNs) : "-",
      formatCount(x.blockedOps),
      formatCount(x.waits),
      formatDuration(x.waitNs),
      now.join("; "),
    ];
  });
  return [`resources (${r.resources.length}; FULL/LONGEST: time a channel was full; WAITED: tasks' time parked on it):`, renderTable(RESOURCE_COLUMNS, rows)];
}

// ---- flows ----

const FLOW_COLUMNS: Column[] = [
  { header: "REQUEST" },
  { header: "COUNT", align: "right" },
  { header: "P50", align: "right" },
  { header: "P90", align: "right" },
  { header: "P99", align: "right" },
  { header: "MAX", align: "right" },
  { header: "CPU P50", align: "right" },
  { header: "UNFINISHED", align: "right" },
];

function flowLines(r: ReportData): string[] {
  if (r.flows.length === 0) return [];
  const rows = r.flows.map((f) => [
    r.sessions.length > 1 ? `${f.session}:${f.kind}` : f.kind,
    formatCount(f.finished),
    formatDuration(f.latencyNs.p50),
    formatDuration(f.latencyNs.p90),
    formatDuration(f.latencyNs.p99),
    formatDuration(f.latencyNs.max),
    formatDuration(f.busyNs.p50),
    formatCount(f.unfinished),
  ]);
  const finished = r.flows.reduce((n, f) => n + f.finished, 0);
  const out = [`flows (${formatCount(finished)} finished requests; latency percentiles are within ~19%):`, renderTable(FLOW_COLUMNS, rows)];
  const firstNs = new Map(r.sessions.map((s) => [s.index, s.firstNs]));
  for (const s of r.slowRequests) {
    const head = `slow '${s.kind}' (p${s.percentile}: ${s.slowCount} of ${formatCount(s.flows)} at or above ${formatDuration(s.thresholdNs)}, median ${formatDuration(s.medianNs)})`;
    if (!s.significant) {
      out.push(`${head}: no outliers (below ${r.thresholds.slowFactor}x the median or ${formatDuration(r.thresholds.slowMinNs)} above it)`);
      continue;
    }
    out.push(`${head}:`);
    for (const c of s.causes) {
      out.push(
        `  +${formatDuration(c.extraNs)} ${c.cause} (${formatDuration(c.slowMeanNs)} in slow ones vs ${formatDuration(c.typicalNs)} typical)` +
          (c.blocker ? `, held by ${c.blocker.name} (task ${c.blocker.id})` : ""),
      );
    }
    const f0 = firstNs.get(s.session) ?? 0;
    out.push(
      s.clustered
        ? `  clustered in time: ${s.clusters.map((c) => `${formatDuration(c.fromNs - f0)}-${formatDuration(c.toNs - f0)} (${c.flows})`).join(", ")}`
        : "  spread over the trace (no time cluster)",
    );
    const worst = s.slowest[0];
    if (worst) {
      const path = worst.steps
        .filter((st) => st.waitNs >= worst.latencyNs / 50)
        .slice(0, 6)
        .map((st) => `${st.task.name} ${formatDuration(st.waitNs)} at '${st.site ?? "?"}'${st.resource ? ` (${st.resource})` : ""}${st.internal ? " [own]" : ""}`);
      out.push(
        `  slowest: request ${worst.id} at ${formatDuration(worst.beganNs - f0)}, ${formatDuration(worst.latencyNs)} (CPU ${formatDuration(worst.busyNs)})` +
          (path.length > 0 ? `: ${path.join(", then ")}` : ""),
      );
    }
  }
  return out;
}
