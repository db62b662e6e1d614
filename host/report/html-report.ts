// The HTML rendering of a report: one self-contained file (inline CSS and JS, no network) with
// the lints (a deadlock drawn as its cycle), a timeline (lanes of tasks, look-alikes folded into
// one expandable lane per name: polls, runnable, parked and stuck intervals, wake arrows,
// deadlock arrows, requests in flight per kind; clicking a lint pins its tasks at the top and
// moves the timeline to it) and the task table. The data is embedded as JSON;
// the page's script (html-client.ts) draws it on a canvas.

import type { ReportData } from "./report-data.js";
import type { SessionTimeline } from "./timeline.js";
import { CLIENT_CSS, CLIENT_JS } from "./html-client.js";
import { formatCount, formatDuration } from "./units.js";

/** Task rows in the page's table; more are left to --json. */
export const MAX_TABLE_TASKS = 2000;

export interface HtmlPayload {
  report: Pick<ReportData, "file" | "lints" | "executor" | "thresholds" | "window" | "taskFilter" | "flows" | "slowRequests">;
  sessions: ReportData["sessions"];
  tasks: ReportData["tasks"];
  /** Every ended task, folded (the table lists kept tasks; the groups account for the rest). */
  taskGroups: ReportData["taskGroups"];
  tasksOmitted: number;
  timelines: SessionTimeline[];
}

export function renderHtmlReport(report: ReportData, timelines: SessionTimeline[]): string {
  const payload: HtmlPayload = {
    report: {
      file: report.file, lints: report.lints, executor: report.executor, thresholds: report.thresholds,
      window: report.window, taskFilter: report.taskFilter, flows: report.flows, slowRequests: report.slowRequests,
    },
    sessions: report.sessions,
    tasks: report.tasks.slice(0, MAX_TABLE_TASKS),
    taskGroups: report.taskGroups,
    tasksOmitted: Math.max(0, report.tasks.length - MAX_TABLE_TASKS),
    timelines,
  };
  const json = scriptJson(payload);
  const title = `taskscope report: ${report.file}`;
  const head = report.sessions
    .map(
      (s) =>
        `<div>${esc(`device ${s.device}, firmware ${s.firmware}`)} · recorded ${esc(formatDuration(s.durationNs))}, ` +
        `${esc(formatCount(s.events))} events · lost: ${esc(lossText(s))}</div>`,
    )
    .join("");
  return `${pageHead(title, CLIENT_CSS)}
<body>
<header>
<h1>${esc(title)}</h1>
<div class="meta">${head}</div>
</header>
<section id="lints-section"><h2>Lints</h2><ol id="lints"></ol></section>
<section id="timeline-section">
<h2>Timeline</h2>
<div class="controls">
<label id="session-pick" hidden>session <select id="session"></select></label>
<button id="fit" type="button">Whole trace</button>
<span class="help">wheel: zoom · drag: pan · click a lint or a task to pin it at the top · click a shared lane (▸) to list its tasks</span>
<span id="range"></span>
</div>
<div id="timeline-note" class="note"></div>
<div id="pin-bar" hidden><span id="pin-text"></span><button id="unpin" type="button">Unpin</button></div>
<div id="timeline">
<div id="axis-row"><div class="gutter"></div><canvas id="axis" height="28"></canvas></div>
<div id="inflight-row" hidden><div id="inflight-labels"></div><canvas id="inflight"></canvas></div>
<div id="lanes-wrap"><div id="lanes-inner"><div id="labels"></div><div id="canvas-col"><canvas id="lanes"></canvas></div></div></div>
</div>
<div class="legend"><span class="sw poll"></span>poll <span class="sw long"></span>long poll <span class="sw runnable"></span>runnable, waiting for the executor <span class="sw parked"></span>parked (blocked; its await site on it or on hover) <span class="sw stuck"></span>stuck for good <span class="sw dead"></span>deadlock: who waits for whom, through which resource <span class="sw wake"></span>wake <span class="sw inflight"></span>requests in flight <span class="sw agg"></span>outside the detail windows: busy time only</div>
<div id="tooltip" hidden></div>
</section>
<section id="flows-section"><h2>Requests</h2><div id="flows"></div></section>
<section id="tasks-section"><h2>Tasks</h2><div id="tasks-note" class="note"></div><table id="tasks"></table></section>
<script id="report-data" type="application/json">${json}</script>
<script>${CLIENT_JS}</script>
</body>
</html>
`;
}

function lossText(s: ReportData["sessions"][number]): string {
  const l = s.loss;
  const parts: string[] = [];
  if (l.droppedOnDevice > 0) parts.push(`${formatCount(l.droppedOnDevice)} events on the device`);
  if (l.lostInTransfer > 0) parts.push(`${formatCount(l.lostInTransfer)} in transfer`);
  if (l.damagedChunks > 0) parts.push(`${l.damagedChunks} damaged chunks`);
  const earlier = l.pulledEarlier > 0 ? ` (${formatCount(l.pulledEarlier)} earlier events went to an earlier pull)` : "";
  return (parts.length > 0 ? parts.join(", ") : l.exact ? "nothing" : "unknown") + earlier;
}

/** A page's doctype and head: its title and inline stylesheet (nothing loaded from elsewhere). */
export function pageHead(title: string, css: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>`;
}

/** JSON to embed inside <script>: "<" escaped so no "</script>" or "<!--" can end it early. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
