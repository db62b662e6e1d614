// The text rendering of a report: header and loss, lints (most important first), executor load,
// task table, spawn tree, resources, flows and the slow-request analysis. Every string from the
// trace is escaped for the terminal first (safeText); colour, when asked for, marks severities
// and the rows of stuck tasks.

import type { ReportData, SessionReport, TaskGroupReport, TaskReport } from "./report-data.js";
import type { Lint } from "../model/lint.js";
import { renderTable, type Column } from "./text-table.js";
import { formatCount, formatDuration, formatPercent, safeText } from "./units.js";

export interface TextOptions {
  /** List every task instead of folding finished look-alikes into one row. */
  allTasks?: boolean;
  /** ANSI colour for severities, warnings and stuck tasks (the caller decides: a terminal, NO_COLOR...). */
  color?: boolean;
}

const STYLES = { red: "\x1b[31m", boldRed: "\x1b[1;31m", yellow: "\x1b[33m", cyan: "\x1b[36m" } as const;
type Style = keyof typeof STYLES;

/** `text` in a colour, or as it is when colour is off. */
type Paint = (style: Style, text: string) => string;

function painter(on: boolean): Paint {
  return on ? (style, text) => `${STYLES[style]}${text}\x1b[0m` : (_style, text) => text;
}

/** A copy of `value` with every string made safe for a terminal. */
function escapeStrings<T>(value: T): T {
  if (typeof value === "string") return safeText(value) as T;
  if (Array.isArray(value)) return value.map(escapeStrings) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = escapeStrings(v);
    return out as T;
  }
  return value;
}

/** Finished tasks with the same name, parent and end state fold into one row when there are at
 *  least this many: a worker pool of 200 reads better as one line of averages. */
const FOLD_AT = 4;
/** Lines of the spawn tree shown (look-alike siblings are folded first). */
const TREE_LINES = 60;

export function renderTextReport(report: ReportData, options: TextOptions = {}): string {
  const r = escapeStrings(report);
  const paint = painter(options.color === true);
  const out: string[] = [];
  out.push(`taskscope report: ${r.file}`);
  if (r.truncated) {
    out.push(paint("yellow", `warning: the file ends inside a record at byte ${r.truncated.offset} (the writer was stopped); showing everything before it`));
  } else if (!r.complete) {
    out.push(paint("yellow", "warning: the file has no footer (the writer did not finish); showing everything in it"));
  }
  for (const d of r.damaged.slice(0, 5)) out.push(paint("yellow", `warning: damaged at byte ${d.offset}, ${formatCount(d.bytes)} bytes skipped: ${d.reason}`));
  if (r.damaged.length > 5) out.push(paint("yellow", `warning: ${r.damaged.length - 5} more damaged places (--json lists them)`));
  if (r.duplicateChunks > 0) out.push(paint("yellow", `warning: ${formatCount(r.duplicateChunks)} chunks stored twice; each counted once`));
  for (const s of r.sessions) out.push(...sessionLines(s, r.sessions.length > 1, paint));
  if (r.sessions.length === 0) out.push("no device session in this file");
  const scope = scopeLine(r);
  if (scope) out.push(scope);

  out.push("");
  out.push(...lintLines(r, paint));

  const ex = r.executor;
  out.push("");
  out.push(
    `executor: busy ${ex.busyRatio === null ? "-" : formatPercent(ex.busyRatio, 1)} (${formatDuration(ex.busyNs)} in ${formatCount(ex.polls)} polls), ` +
      `idle ${formatDuration(ex.idleNs)}, longest wait from wake to poll ${formatDuration(ex.maxWakeToPollNs)}`,
  );
  out.push("");
  const rows = taskRows(r.tasks, r.taskGroups, options.allTasks === true);
  const folded = rows.some((row) => row.count > 1);
  const total = r.tasks.filter((t) => t.end === null || t.end === "alive").length + r.taskGroups.reduce((n, g) => n + g.count, 0);
  const kept = r.tasks.length;
  const note = folded
    ? options.allTasks
      ? `; each task the analysis kept, and one row of averages for the rest of each group`
      : "; finished look-alikes folded into one row of averages, --all-tasks lists each one kept"
    : "";
  out.push(`tasks (${formatCount(total)}${total > kept && options.allTasks ? `, ${formatCount(kept)} kept in detail` : ""}${note}):`);
  out.push(taskTable(rows, r.sessions.length > 1, stuckTasks(r), paint));

  const tree = spawnTree(r.tasks, r.taskGroups, r.sessions.length > 1);
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

function sessionLines(s: SessionReport, many: boolean, paint: Paint): string[] {
  const hz = s.tickHz >= 1e6 ? `${s.tickHz / 1e6} MHz` : s.tickHz >= 1e3 ? `${s.tickHz / 1e3} kHz` : `${s.tickHz} Hz`;
  const start = utcText(s.startUnixNs);
  const l = s.loss;
  const lost: string[] = [];
  if (l.overwrittenEvents > 0) lost.push(`${formatCount(l.overwrittenEvents)} events overwritten on the device (${formatCount(l.chunksOverwritten)} chunks)`);
  if (l.refusedEvents > 0) lost.push(`${formatCount(l.refusedEvents)} events refused on the device (ring full)`);
  if (l.lostInTransfer > 0) lost.push(`${formatCount(l.lostInTransfer)} events lost in transfer`);
  if (l.damagedChunks > 0) lost.push(`${formatCount(l.damagedChunks)} damaged chunks left out`);
  if (l.namesDropped > 0) lost.push(`${formatCount(l.namesDropped)} names did not fit the names table`);
  const range = l.dropRangeNs ? ` between ${formatDuration(l.dropRangeNs[0])} and ${formatDuration(l.dropRangeNs[1])}` : "";
  return [
    `${many ? `session ${s.index}: ` : ""}device ${s.device}, firmware ${s.firmware}, ${hz} clock, ring ${formatCount(s.ring.chunkCount)} x ${formatCount(s.ring.chunkSize)} B (${s.ring.mode})`,
    `recorded ${formatDuration(s.durationNs)} from ${start}: ${formatCount(s.events)} events in ${formatCount(s.chunks)} chunks` +
      (l.pulledEarlier > 0 ? `; ${formatCount(l.pulledEarlier)} earlier events of this boot went to an earlier pull` : ""),
    lost.length === 0 ? `lost: ${l.exact ? "nothing" : "unknown (no device counters in the file)"}` : paint("yellow", `lost: ${lost.join("; ")}${range}`),
    ...stallLines(s),
  ];
}

/** What the recorder's clock skipped, so the reader knows device time is the program's own. */
function stallLines(s: SessionReport): string[] {
  const device = s.deviceHiddenNs ? [`device clock: left out ${formatDuration(s.deviceHiddenNs)} of the core's own link service and drains on the device; times in this report leave it out`] : [];
  const h = s.stalls;
  if (!h || (h.observerNs === 0 && h.runQueueNs === 0 && h.sleepOverNs === 0)) return device;
  const parts = [`${formatDuration(h.observerNs)} of the puller's own work`];
  if (h.runQueueNs > 0) parts.push(`${formatDuration(h.runQueueNs)} while the OS ran other processes or held it (${formatCount(h.count)} time${h.count === 1 ? "" : "s"}, longest ${formatDuration(h.largestNs)})`);
  if (h.sleepOverNs > 0) parts.push(`${formatDuration(h.sleepOverNs)} of sleeps that overran`);
  const note = h.runQueueKnown ? "" : " (this OS gives no run-queue counter: time other processes took is not skipped)";
  return [...device, `device clock: skipped ${parts.join(", ")}${note}; times in this report leave them out`];
}

/** "2024-05-01 12:00:00.000 UTC", or the raw figure for a time no calendar holds (a damaged anchor). */
function utcText(unixNs: string): string {
  let date: Date;
  try {
    date = new Date(Number(BigInt(unixNs) / 1_000_000n));
  } catch {
    return `${unixNs} ns after 1970 (out of range)`;
  }
  return Number.isNaN(date.getTime()) ? `${unixNs} ns after 1970 (out of range)` : date.toISOString().replace("T", " ").replace("Z", " UTC");
}

// ---- lints ----

const SEVERITY_STYLE: Record<Lint["severity"], Style> = { error: "boldRed", warning: "yellow", info: "cyan" };

function lintLines(r: ReportData, paint: Paint): string[] {
  if (r.lints.length === 0) return ["lints: none"];
  const firstNs = new Map(r.sessions.map((s) => [s.index, s.firstNs]));
  const lastNs = new Map(r.sessions.map((s) => [s.index, s.lastNs]));
  const out = [`lints (${formatCount(r.lints.length)}, most important first):`];
  r.lints.forEach((l, i) => {
    const mark = paint(SEVERITY_STYLE[l.severity], l.severity === "error" ? "ERROR" : l.severity);
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
  label?: "avg" | "others";
}

function single(t: TaskReport): TaskRow {
  return { ...t, count: 1, idRange: String(t.id) };
}

/** Rows in order of first sight: live tasks one by one; each group of ended look-alikes one by
 *  one when all of it is kept and it is small, else as one row of averages over the whole group
 *  (with --all-tasks: the kept ones, then a row for the rest). */
function taskRows(tasks: TaskReport[], groups: TaskGroupReport[], all: boolean): TaskRow[] {
  const keyed: { at: number; rows: TaskRow[] }[] = [];
  const exemplarOf = new Map<number, TaskGroupReport>();
  for (const g of groups) for (const i of g.exemplars) exemplarOf.set(i, g);
  const byIndex = new Map(tasks.map((t) => [t.index, t]));
  for (const t of tasks) if (!exemplarOf.has(t.index)) keyed.push({ at: t.index, rows: [single(t)] });
  for (const g of groups) {
    const kept = g.exemplars.map((i) => byIndex.get(i)).filter((t): t is TaskReport => t !== undefined);
    const first = kept[0];
    if (!first) continue;
    if (kept.length === g.count && g.count < FOLD_AT) {
      keyed.push({ at: first.index, rows: kept.map(single) });
      continue;
    }
    if (all) {
      const rest = g.count - kept.length;
      const rows = kept.map(single);
      if (rest > 0) rows.push(groupRow(first, g, rest, "others"));
      keyed.push({ at: first.index, rows });
    } else {
      keyed.push({ at: first.index, rows: [groupRow(first, g, g.count, "avg")] });
    }
  }
  return keyed.sort((a, b) => a.at - b.at).flatMap((k) => k.rows);
}

/** One row of averages over a group (`count` of its tasks; "others": those not kept). */
function groupRow(first: TaskReport, g: TaskGroupReport, count: number, label: "avg" | "others"): TaskRow {
  const n = g.count;
  return {
    ...first,
    count,
    label,
    idRange: g.idMin === g.idMax ? String(g.idMin) : `${g.idMin}..${g.idMax}`,
    totalNs: g.totalNs / n,
    busyNs: g.busyNs / n,
    scheduledNs: g.scheduledNs / n,
    idleNs: g.idleNs / n,
    polls: g.polls / n,
    wakes: g.wakes / n,
    selfWakes: g.selfWakes / n,
    pollNs: { ...g.pollNs, max: g.maxPollNs },
    wakeToPollNs: g.wakeToPollNs,
    awaitSite: null,
    awaitResource: null,
  };
}

// Math.min(...list) overflows the stack on a few hundred thousand tasks.
function least(list: readonly number[]): number {
  return list.reduce((a, b) => Math.min(a, b), Infinity);
}

function most(list: readonly number[]): number {
  return list.reduce((a, b) => Math.max(a, b), -Infinity);
}

function avgCount(x: number, count: number): string {
  return count > 1 && !Number.isInteger(x) ? x.toFixed(1) : formatCount(x);
}

/** Tasks a lost-wakeup or deadlock lint names: "session:index" (or "session#id" when the lint
 *  does not give the incarnation). */
function stuckTasks(r: ReportData): Set<string> {
  const stuck = new Set<string>();
  for (const l of r.lints) {
    if (l.kind !== "lost-wakeup" && l.kind !== "deadlock") continue;
    for (const t of l.tasks) stuck.add(t.index !== undefined ? `${t.session}:${t.index}` : `${t.session}#${t.id}`);
  }
  return stuck;
}

function isStuck(t: TaskRow, stuck: Set<string>): boolean {
  return t.count === 1 && t.state !== "done" && t.state !== "cancelled" && (stuck.has(`${t.session}:${t.index}`) || stuck.has(`${t.session}#${t.id}`));
}

function taskTable(tasks: TaskRow[], many: boolean, stuck: Set<string>, paint: Paint): string {
  const rows = tasks.map((t) => [
    t.count > 1 || t.label === "others" ? `${t.name} x${formatCount(t.count)} (${t.label === "others" ? "others, avg" : "avg"})` : t.name,
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
  const lines = renderTable(COLUMNS, rows).split("\n");
  // Colour whole lines after alignment (escape codes have no width).
  return lines.map((line, i) => (i > 0 && isStuck(tasks[i - 1]!, stuck) ? paint("red", line) : line)).join("\n");
}

// ---- spawn tree ----

function spawnTree(tasks: TaskReport[], taskGroups: TaskGroupReport[], many: boolean): string[] {
  const byIndex = new Map(tasks.map((t) => [t.index, t]));
  // An ended task kept as an example stands for its whole group in the tree's folded leaves.
  const groupOf = new Map<number, TaskGroupReport>();
  for (const g of taskGroups) for (const i of g.exemplars) groupOf.set(i, g);
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
    const counted = new Set<TaskGroupReport>();
    for (const t of list) {
      const leaf = !children.has(t.index);
      const group = groupOf.get(t.index);
      const key = `${t.name}\u0000${t.state}\u0000${t.awaitSite ?? ""}`;
      const g = leaf ? leafGroups.get(key) : undefined;
      // A group's kept examples count as the whole group, once.
      const folds = leaf && group !== undefined;
      const weight = folds ? (counted.has(group) ? 0 : group.count) : 1;
      if (folds) counted.add(group);
      const ids = folds ? [group.idMin, group.idMax] : [t.id];
      if (g) {
        g.count += weight;
        g.ids.push(...ids);
        continue;
      }
      const item = { t, count: Math.max(1, weight), ids };
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
          ? `${item.t.name} x${formatCount(item.count)} (${least(item.ids)}..${most(item.ids)}) ${item.t.state}${item.t.awaitSite ? ` at '${item.t.awaitSite}'` : ""}`
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
      now.push(`blocked: ${names}${x.blockedNow.length > 3 ? ` +${formatCount(x.blockedNow.length - 3)}` : ""}`);
    }
    const channel = x.kind === "channel";
    return [
      x.name,
      x.kind,
      x.capacity > 0 && x.kind !== "timer" ? formatCount(x.capacity) : "-",
      x.kind === "timer" ? "-" : formatCount(x.maxLevel),
      channel ? formatDuration(x.fullNs) : "-",
      channel ? formatDuration(x.longestFullNs) : "-",
      formatCount(x.blockedOps),
      formatCount(x.waits),
      formatDuration(x.waitNs),
      now.join("; "),
    ];
  });
  return [`resources (${formatCount(r.resources.length)}; FULL/LONGEST: time a channel was full; WAITED: tasks' time parked on it):`, renderTable(RESOURCE_COLUMNS, rows)];
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
  { header: "IN FLIGHT MAX/MEAN", align: "right" },
  { header: "SERVED MAX/MEAN", align: "right" },
  { header: "WAITS OVERLAPPED", align: "right" },
  { header: "UNFINISHED", align: "right" },
];

/** "max/mean" of a gauge, "-" when it never rose. */
function gaugeText(g: { max: number; mean: number } | null): string {
  return g && g.max > 0 ? `${g.max}/${g.mean.toFixed(1)}` : "-";
}

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
    gaugeText(f.inFlight),
    gaugeText(f.served),
    f.waitNs > 0 ? `${Math.round((100 * f.overlappedWaitNs) / f.waitNs)}%` : "-",
    formatCount(f.unfinished),
  ]);
  const finished = r.flows.reduce((n, f) => n + f.finished, 0);
  const out = [`flows (${formatCount(finished)} finished requests; latency percentiles are within 1%; IN FLIGHT: requests begun and not ended at once, SERVED: being worked on by a task at once, time-weighted mean while any; WAITS OVERLAPPED: share of the time a request's task waited while another task of the same request waited too):`, renderTable(FLOW_COLUMNS, rows)];
  const firstNs = new Map(r.sessions.map((s) => [s.index, s.firstNs]));
  for (const s of r.slowRequests) {
    const head = `slow '${s.kind}' (p${s.percentile}: ${formatCount(s.slowCount)} of ${formatCount(s.flows)} at or above ${formatDuration(s.thresholdNs)}, median ${formatDuration(s.medianNs)})`;
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
        ? `  clustered in time: ${s.clusters.map((c) => `${formatDuration(c.fromNs - f0)}-${formatDuration(c.toNs - f0)} (${formatCount(c.flows)})`).join(", ")}`
        : "  spread over the trace (no time cluster)",
    );
    const cp = s.criticalPath;
    if (cp.byResource.length > 0 || cp.bySite.length > 0) {
      const total = cp.otherNs + cp.bySite.reduce((n, x) => n + x.ns, 0);
      const share = (ns: number) => (total > 0 ? ` (${Math.round((100 * ns) / total)}%)` : "");
      const res = cp.byResource.slice(0, 3).map((x) => `${x.resource} ${formatDuration(x.ns)}${share(x.ns)} at ${x.sites} site${x.sites === 1 ? "" : "s"} in ${formatCount(x.flows)}`);
      const sites = cp.bySite.slice(0, 3).map((x) => `'${x.site ?? "?"}'${x.resource ? ` (${x.resource})` : ""} ${formatDuration(x.ns)}${share(x.ns)}`);
      out.push(`  critical path of the ${formatCount(cp.flows)} slow ones: ${res.length > 0 ? `per resource ${res.join(", ")}; ` : ""}per site ${sites.join(", ")}; CPU and queueing ${formatDuration(cp.otherNs)}${share(cp.otherNs)}`);
    }
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
