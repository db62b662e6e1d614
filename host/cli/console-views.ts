// The live console's screens, drawn as lines for a terminal of a given size: the task table
// (with a lints pane as lints fire), one task in detail (poll-time and wake-delay histograms,
// await site and resource, wakes by source, wakers, memory, flow), the resources and the lints.
// Pure: rows in (live-rows.ts), lines out (console-screen.ts paints them).

import type { Lint, LintSeverity } from "../model/lint.js";
import type { Histogram } from "../model/histogram.js";
import { formatCount, formatDuration, safeText } from "../report/units.js";
import { cellWidth, clip, line, pad, span, type Colour, type Line, type Span, type Style } from "./console-screen.js";
import type { View } from "./console-input.js";
import { histogramBins, SORT_KEYS, type Fact, type ResourceRow, type SortKey, type TaskDetail, type TaskRow } from "./live-rows.js";

/** What the console shows besides the rows: the header's facts and the bottom lines. */
export interface Frame {
  width: number;
  height: number;
  /** "serial-sim (taskscope-serial-device 0.1)", or a waiting message before the first session. */
  device: string;
  nowNs: number;
  liveTasks: number;
  endedTasks: number;
  lints: readonly Lint[];
  /** The pull's progress (events, bytes, losses). */
  status: string;
  /** A message that matters now (the program ended, stopping...). */
  notice: string;
}

/** Where the user is: the view, the selected row, the first row shown, the sort. */
export interface Place {
  view: View;
  cursor: number;
  scroll: number;
  sort: SortKey;
  reverse: boolean;
  help: boolean;
}

/** Lines to paint, and how the list was laid out (for paging and keeping the cursor shown). */
export interface Drawn {
  lines: Line[];
  /** Rows of the list on screen, and the first shown (the cursor always is). */
  listHeight: number;
  scroll: number;
}

const TITLE: Style = { inverse: true, bold: true };
const HEAD: Style = { bold: true };
const DIM: Style = { fg: "grey" };
const SELECTED: Style = { inverse: true };

const SEVERITY: Record<LintSeverity, { text: string; style: Style }> = {
  error: { text: "ERROR", style: { fg: "red", bold: true } },
  warning: { text: "WARN", style: { fg: "yellow", bold: true } },
  info: { text: "INFO", style: { fg: "cyan" } },
};

export function drawTasks(frame: Frame, place: Place, rows: readonly TaskRow[]): Drawn {
  const cols = TASK_COLUMNS;
  const list = rows.map(taskCells);
  const legend = rows.some((r) => r.joinedMidRun) ? "  *: first seen mid-run, history incomplete" : "";
  return drawList(frame, place, cols, list, `sort: ${place.sort}${place.reverse ? " (reversed)" : ""}${legend}`, (room) => lintPane(frame, room));
}

export function drawResources(frame: Frame, place: Place, rows: readonly ResourceRow[]): Drawn {
  const cols: Column[] = [
    { header: "RESOURCE", min: 8, max: 24, flex: 2 },
    { header: "KIND", min: 4, max: 7 },
    { header: "FILL", min: 5, max: 16, flex: 3 },
    { header: "MAX", align: "right", min: 3, max: 6 },
    { header: "FULL", align: "right", min: 4, max: 8 },
    { header: "HOLDER", min: 6, max: 20, flex: 4 },
    { header: "PARKED ON IT", min: 8, max: 60, flex: 1 },
    { header: "WAITS", align: "right", min: 5, max: 9 },
    { header: "WAITED", align: "right", min: 6, max: 8 },
  ];
  const list = rows.map((r): Cell[] => [
    { text: r.name },
    { text: r.kind },
    fillCell(r),
    { text: r.kind === "channel" || r.capacity > 0 ? String(r.maxLevel) : "-" },
    { text: r.kind === "channel" && r.fullNs > 0 ? formatDuration(r.fullNs) : "-", ...(!Number.isNaN(r.res.fullSince) ? { style: { fg: "yellow" as const } } : {}) },
    { text: r.holder ? `${r.holder} ${formatDuration(r.holderForNs)}` : "-" },
    {
      text: r.parked.length === 0 ? "-" : `${r.parked.length}: ${r.parked.map((t) => safeText(t.name)).join(", ")}`,
      ...(r.parked.length > 0 ? { style: { fg: "yellow" as const } } : {}),
    },
    { text: formatCount(r.waits) },
    { text: r.waitNs > 0 ? formatDuration(r.waitNs) : "-" },
  ]);
  return drawList(frame, place, cols, list, "", () => []);
}

export function drawLints(frame: Frame, place: Place): Drawn {
  const cols: Column[] = [
    { header: "SEVERITY", min: 5, max: 8 },
    { header: "LINT", min: 10, max: 400, flex: 1 },
  ];
  const list = frame.lints.map((l): Cell[] => [{ text: SEVERITY[l.severity].text, style: SEVERITY[l.severity].style }, { text: safeText(l.title) }]);
  // Under the list: the selected lint's hint and the tasks it names.
  const selected = (room: number): Line[] => {
    const l = frame.lints[Math.min(place.cursor, frame.lints.length - 1)];
    if (!l || room < 3) return [];
    return [
      line(span("─".repeat(frame.width), DIM)),
      line(span(" hint  ", HEAD), span(safeText(l.hint))),
      line(span(" tasks ", HEAD), span(l.tasks.map((t) => `${safeText(t.name)} (${t.id})`).join(", ") || "-"), span("  Enter: the first one", DIM)),
    ];
  };
  return drawList(frame, place, cols, list, "", selected);
}

export function drawDetail(frame: Frame, d: TaskDetail): Drawn {
  const { width, height } = frame;
  const out: Line[] = [titleLine(frame), line(span(` task ${d.title}`, HEAD), span("   Esc: back", DIM))];
  const label = 11;
  for (const f of d.facts) out.push(factLine(f, label, width));
  for (const l of d.lints) {
    const sev = SEVERITY[l.severity];
    const [first = "", second] = wrap(`${sev.text} ${safeText(l.title)}`, width - label - 2, 2);
    out.push(line(span(` ${pad("lint", label)} `, HEAD), span(sev.text, sev.style), span(first.slice(sev.text.length))));
    if (second !== undefined) out.push(line(span(" ".repeat(label + 2)), span(second)));
  }
  const bottom = bottomLines(frame);
  const room = height - out.length - bottom.length - 1;
  if (room >= 3) {
    out.push(line(""));
    const sideBySide = width >= 2 * 36 + 2;
    const charts = sideBySide
      ? besideEachOther(chart("poll time", d.pollTime, Math.floor((width - 2) / 2), room), chart("wake delay (runnable to polled)", d.wakeDelay, width - 2 - Math.floor((width - 2) / 2), room))
      : [...chart("poll time", d.pollTime, width - 1, Math.floor(room / 2)), ...chart("wake delay (runnable to polled)", d.wakeDelay, width - 1, room - Math.floor(room / 2))];
    out.push(...charts);
  }
  return { lines: fitHeight(out, bottom, height), listHeight: 1, scroll: 0 };
}

export function drawHelp(frame: Frame): Drawn {
  const keys: [string, string][] = [
    ["q, Ctrl-C", "quit: the pull ends as on Ctrl-C, leaving a complete trace file"],
    ["↑ ↓, j k", "move; PgUp PgDn, Space: a page; Home End, g G: first, last"],
    ["Enter, →", "a task's detail (from the tasks or lints view)"],
    ["Esc, ←", "back"],
    ["Tab, t r l", "views: tasks, resources, lints"],
    ...SORT_KEYS.map((s): [string, string] => [s.char, `sort tasks by ${s.key} (again: reversed)`]),
    ["Ctrl-L", "draw the screen again"],
    ["?", "this help (any key closes it)"],
  ];
  const out: Line[] = [titleLine(frame), line(span(" keys", HEAD))];
  for (const [k, what] of keys) out.push(line(span(` ${pad(k, 12)}`, { bold: true }), span(what)));
  return { lines: fitHeight(out, bottomLines(frame), frame.height), listHeight: 1, scroll: 0 };
}

// ---- shared parts ----

/** The top bar: what is being watched, its clock, its tasks and lints. Narrow, the firmware
 *  goes first, then the name of the tool. */
function titleLine(frame: Frame): Line {
  const facts = [
    `device time ${formatDuration(frame.nowNs)}`,
    `${formatCount(frame.liveTasks)} live task${frame.liveTasks === 1 ? "" : "s"}, ${formatCount(frame.endedTasks)} ended`,
    lintCount(frame.lints),
  ];
  const device = frame.device;
  const short = device.replace(/ \(.*\)$/, "");
  const choices = [["taskscope live", device, ...facts], ["taskscope live", short, ...facts], [short, ...facts]];
  const text = choices.map((c) => ` ${c.join(" │ ")}`).find((t) => cellWidth(t) <= frame.width) ?? ` ${choices.at(-1)!.join(" │ ")}`;
  return { spans: [span(text, TITLE)], fill: TITLE };
}

function lintCount(lints: readonly Lint[]): string {
  if (lints.length === 0) return "no lints";
  const errors = lints.filter((l) => l.severity === "error").length;
  return `${formatCount(lints.length)} lint${lints.length === 1 ? "" : "s"}${errors > 0 ? ` (${formatCount(errors)} error${errors === 1 ? "" : "s"})` : ""}`;
}

function tabsLine(frame: Frame, place: Place, extra: string): Line {
  const tabs: [View, string][] = [["tasks", "Tasks"], ["resources", "Resources"], ["lints", `Lints (${frame.lints.length})`]];
  const spans: Span[] = [span(" ")];
  for (const [view, name] of tabs) {
    spans.push(span(` ${name} `, view === place.view ? { inverse: true, bold: true } : { bold: false }));
    spans.push(span(" "));
  }
  if (extra) spans.push(span(`  ${extra}`, DIM));
  return { spans };
}

/** The lines at the bottom: the notice, the pull's status, the keys. */
function bottomLines(frame: Frame): Line[] {
  const out: Line[] = [];
  if (frame.notice) out.push({ spans: [span(` ${frame.notice}`, { bold: true, fg: "yellow" })] });
  if (frame.status) out.push(line(span(` ${frame.status}`, DIM)));
  out.push(line(span(" q", HEAD), " quit  ", span("↑↓", HEAD), " move  ", span("Enter", HEAD), " detail  ", span("Esc", HEAD), " back  ", span("Tab", HEAD), " view  ", span(SORT_KEYS.map((s) => s.char).join(""), HEAD), " sort  ", span("?", HEAD), " help"));
  return out;
}

/** `top` then blank lines, then `bottom`, exactly `height` lines (the top cut first). */
function fitHeight(top: Line[], bottom: Line[], height: number): Line[] {
  const room = Math.max(0, height - bottom.length);
  const out = top.slice(0, room);
  while (out.length < room) out.push(line(""));
  return [...out, ...bottom].slice(0, height);
}

/** `text` in lines of at most `width` cells, broken at spaces where it can, at most `max` lines
 *  (the last one cut with "…"). */
function wrap(text: string, width: number, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest !== "" && out.length < max) {
    if (cellWidth(rest) <= width) {
      out.push(rest);
      break;
    }
    if (out.length === max - 1) {
      out.push(clip(rest, width, true));
      break;
    }
    const cut = clip(rest, width);
    const space = cut.lastIndexOf(" ");
    const take = space > width / 2 ? cut.slice(0, space) : cut;
    out.push(take);
    rest = rest.slice(take.length).trimStart();
  }
  return out;
}

function factLine(f: Fact, label: number, width: number): Line {
  const tone: Style | undefined = f.tone === "bad" ? { fg: "red", bold: true } : f.tone === "warn" ? { fg: "yellow" } : f.tone === "good" ? { fg: "green" } : f.tone === "dim" ? DIM : undefined;
  return line(span(` ${pad(f.label, label)}`, HEAD), span(clip(f.value, width - label - 1, true), tone));
}

// ---- lists: a table with a cursor, and a lints pane under the tasks ----

interface Column {
  header: string;
  align?: "left" | "right";
  min: number;
  max: number;
  /** Columns that give up width first when the terminal is narrow (lowest first); 0: never. */
  flex?: number;
}

interface Cell {
  text: string;
  style?: Style;
}

const TASK_COLUMNS: readonly Column[] = [
  { header: "TASK", min: 6, max: 24, flex: 3 },
  { header: "ID", align: "right", min: 2, max: 6 },
  { header: "STATE", min: 9, max: 22, flex: 4 },
  { header: "FOR", align: "right", min: 5, max: 7 },
  { header: "POLLS", align: "right", min: 5, max: 9 },
  { header: "BUSY", align: "right", min: 5, max: 6 },
  { header: "LAST WAKE", align: "right", min: 9, max: 9 },
  { header: "WARN", min: 4, max: 5 },
  { header: "AWAITING", min: 8, max: 80, flex: 1 },
];

const STATE_STYLE: Record<string, Style> = { running: { fg: "green" }, scheduled: { fg: "cyan" } };

function taskCells(r: TaskRow): Cell[] {
  const state: Style | undefined = r.verdict === "stuck" ? { fg: "red", bold: true } : r.verdict === "unknown" ? { fg: "yellow" } : STATE_STYLE[r.task.state];
  return [
    { text: r.name + (r.joinedMidRun ? "*" : "") },
    { text: String(r.task.id) },
    { text: r.state, ...(state ? { style: state } : {}) },
    { text: formatDuration(r.forNs) },
    { text: formatCount(r.polls) },
    { text: Number.isNaN(r.busy) ? "-" : `${(100 * r.busy).toFixed(1)}%` },
    { text: r.lastWakeAgoNs === undefined ? "never" : formatDuration(r.lastWakeAgoNs) },
    r.warn ? { text: `${r.warn.count} ${r.warn.severity === "error" ? "E" : r.warn.severity === "warning" ? "W" : "I"}`, style: SEVERITY[r.warn.severity].style } : { text: "" },
    { text: r.site === "" ? "" : r.resource === "" ? r.site : `${r.site} [${r.resource}]` },
  ];
}

function fillCell(r: ResourceRow): Cell {
  if (r.kind !== "channel" || r.capacity <= 0) return { text: r.kind === "mutex" ? (r.holder ? "held" : "free") : r.capacity > 0 ? `${r.level}/${r.capacity}` : "-" };
  const bar = 6;
  const filled = Math.min(bar, Math.round((bar * r.level) / r.capacity));
  const full = r.level >= r.capacity;
  return { text: `${"█".repeat(filled)}${"░".repeat(bar - filled)} ${r.level}/${r.capacity}`, style: { fg: full ? "red" : r.level > 0 ? "yellow" : "green" } };
}

/** Column widths for `width` cells: each column as wide as its content (within its bounds);
 *  too wide, the flexible ones shrink to their minimum, then columns drop from the right. */
function layout(cols: readonly Column[], list: readonly Cell[][], width: number): number[] {
  const widths = cols.map((c, i) => {
    const content = Math.max(cellWidth(c.header), ...list.map((r) => cellWidth(r[i]?.text ?? "")));
    return Math.max(Math.min(c.min, cellWidth(c.header)), Math.min(c.max, content));
  });
  const total = (): number => widths.reduce((n, w) => n + (w > 0 ? w + 1 : 0), 1);
  const flexible = cols.map((c, i) => ({ c, i })).filter(({ c }) => (c.flex ?? 0) > 0).sort((a, b) => a.c.flex! - b.c.flex!);
  for (const { c, i } of flexible) {
    const over = total() - width;
    if (over <= 0) break;
    widths[i] = Math.max(c.min, widths[i]! - over);
  }
  for (let i = widths.length - 1; i > 0 && total() > width; i--) widths[i] = 0;
  // Still too wide (one column left): the most elastic column shown takes the cut.
  const shown = flexible.find(({ i }) => widths[i]! > 0)?.i ?? widths.findLastIndex((w) => w > 0);
  if (shown >= 0 && total() > width) widths[shown] = Math.max(1, widths[shown]! + width - total());
  return widths;
}

function rowLine(cells: readonly Cell[], cols: readonly Column[], widths: readonly number[], selected: boolean, base?: Style): Line {
  const spans: Span[] = [span(selected ? ">" : " ", selected ? SELECTED : base)];
  widths.forEach((w, i) => {
    if (w <= 0) return;
    const cell = cells[i] ?? { text: "" };
    const style = selected ? { ...cell.style, inverse: true } : (cell.style ?? base);
    spans.push(span(pad(cell.text, w, cols[i]!.align), style));
    spans.push(span(" ", selected ? SELECTED : base));
  });
  return selected ? { spans, fill: SELECTED } : { spans };
}

/** A table with a cursor: title, tabs, header, the rows that fit, then `pane(room)` (lines
 *  under the list, given the room left beside three rows of it), then the bottom lines. */
function drawList(frame: Frame, place: Place, cols: readonly Column[], list: readonly Cell[][], extra: string, pane: (room: number) => Line[]): Drawn {
  const { width, height } = frame;
  const bottom = bottomLines(frame);
  const widths = layout(cols, list, width);
  const header = rowLine(cols.map((c) => ({ text: c.header })), cols, widths, false, HEAD);
  const under = pane(height - 3 - bottom.length - 3);
  const listHeight = Math.max(1, height - 3 - bottom.length - under.length);
  const cursor = Math.max(0, Math.min(place.cursor, list.length - 1));
  const scroll = Math.max(0, Math.min(place.scroll, cursor, Math.max(0, list.length - listHeight)), cursor - listHeight + 1);
  const body: Line[] = [];
  for (let i = scroll; i < Math.min(list.length, scroll + listHeight); i++) body.push(rowLine(list[i]!, cols, widths, i === cursor));
  if (list.length === 0) body.push(line(span(place.view === "tasks" ? "  (no live task)" : place.view === "resources" ? "  (no resource yet)" : "  (no lint: nothing wrong seen so far)", DIM)));
  while (body.length < listHeight) body.push(line(""));
  const range = list.length > listHeight ? `rows ${scroll + 1}-${Math.min(list.length, scroll + listHeight)} of ${formatCount(list.length)}` : "";
  const top = [titleLine(frame), tabsLine(frame, place, [range, extra].filter(Boolean).join("  ")), header];
  return { lines: fitHeight([...top, ...body, ...under], bottom, height), listHeight, scroll };
}

/** Up to a fifth of the screen for the lints, most important first (at least one line). */
function lintPane(frame: Frame, room: number): Line[] {
  const lints = frame.lints;
  if (lints.length === 0 || room < 2) return [];
  const shown = Math.max(1, Math.min(lints.length, Math.floor(frame.height / 5), room - 1));
  const rule = ` lints (${formatCount(lints.length)}) `;
  const out: Line[] = [line(span(`─${rule}${"─".repeat(Math.max(0, frame.width - rule.length - 1))}`, DIM))];
  for (const l of lints.slice(0, shown - (lints.length > shown ? 1 : 0))) {
    const sev = SEVERITY[l.severity];
    out.push(line(span(` ${pad(sev.text, 5)} `, sev.style), span(safeText(l.title))));
  }
  if (lints.length > shown) out.push(line(span(`  ... ${formatCount(lints.length - shown + 1)} more: l for the lints view`, DIM)));
  return out;
}

// ---- histograms ----

/** A horizontal bar chart of a histogram, `width` cells wide and at most `height` lines: its
 *  title, its figures, then a bar per bin. */
function chart(title: string, h: Histogram, width: number, height: number): Line[] {
  if (h.count === 0) return [line(span(` ${title}`, HEAD)), line(span("  no values yet", DIM))];
  const figures = `  n=${formatCount(h.count)}  p50 ${formatDuration(h.quantile(0.5))}  p99 ${formatDuration(h.quantile(0.99))}  max ${formatDuration(h.max)}`;
  const out = [line(span(` ${clip(title, width - 1, true)}`, HEAD)), line(span(clip(figures, width, true), DIM))];
  if (height < 3) return out;
  const bins = histogramBins(h, height - 2);
  const labels = bins.map((b) => (b.low < 1 ? "<1ns" : `≥${formatDuration(b.low)}`));
  const labelWidth = Math.max(...labels.map(cellWidth));
  const counts = bins.map((b) => formatCount(b.count));
  const countWidth = Math.max(...counts.map(cellWidth));
  const barWidth = Math.max(1, width - labelWidth - countWidth - 4);
  const most = Math.max(...bins.map((b) => b.count));
  const colour: Colour = "cyan";
  bins.forEach((b, i) => {
    const cells = b.count === 0 ? 0 : Math.max(1, Math.round((barWidth * b.count) / most));
    out.push(line(span(` ${pad(labels[i]!, labelWidth, "right")} `, DIM), span("█".repeat(cells), { fg: colour }), span(" ".repeat(barWidth - cells + 1)), span(pad(counts[i]!, countWidth, "right"))));
  });
  return out;
}

/** Two columns of lines side by side (the left one padded to `leftWidth`). */
function besideEachOther(left: Line[], right: Line[]): Line[] {
  const leftWidth = Math.max(...left.map(lineWidth));
  const out: Line[] = [];
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? line("");
    const gap = " ".repeat(Math.max(0, leftWidth - lineWidth(l)) + 2);
    out.push({ spans: [...l.spans, span(gap), ...(right[i]?.spans ?? [])] });
  }
  return out;
}

function lineWidth(l: Line): number {
  return l.spans.reduce((n, s) => n + cellWidth(s.text), 0);
}
