// trace-pull --live: the pull's records go to the live analysis (live-feed.ts) as they are
// stored, and the user sees it follow the device. On a terminal that is a full-screen console
// (live-console.ts: keys, task detail, resources, lints); anywhere else (a pipe, a log file)
// the task table is printed as successive snapshots. Either way the verdicts are the analysis's:
// "STUCK" only for a task whose whole history the stream holds (an attach mid-run misses waker
// clones made before it: such a task shows "waker unknown"), and "now" is the newest event
// decoded, never the device's clock ahead of its events.

import type { ClockAnchor } from "../tracefile/schema.js";
import type { Lint } from "../model/lint.js";
import { renderTable, type Column } from "../report/text-table.js";
import { formatDuration, safeText } from "../report/units.js";
import { LiveFeed } from "./live-feed.js";
import { LiveConsole } from "./live-console.js";
import { sortRows, taskRows, type TaskRow } from "./live-rows.js";

const COLUMNS: Column[] = [
  { header: "TASK" },
  { header: "ID", align: "right" },
  { header: "STATE" },
  { header: "FOR", align: "right" },
  { header: "POLLS", align: "right" },
  { header: "BUSY", align: "right" },
  { header: "LAST WAKE", align: "right" },
  { header: "AWAITING" },
];

export interface LiveViewOptions {
  /** Redraw interval (ms; default 250 for the console, 500 for snapshots). */
  refreshMs?: number;
  /** Snapshots: at most this many rows (default 30). */
  maxRows?: number;
  /** The pull's progress (shown under the table). */
  status?: () => string;
  /** Keys for the console (standard input when it is a terminal). */
  input?: NodeJS.ReadStream;
  /** Whether the console uses colour (useColour(1)). */
  colour?: boolean;
  /** q or Ctrl-C pressed in the console: the pull should end as on Ctrl-C. */
  onQuit?: () => void;
}

export class LiveView {
  readonly feed = new LiveFeed();
  private readonly console: LiveConsole | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly opts: LiveViewOptions = {},
  ) {
    if (out.isTTY) {
      this.console = new LiveConsole(this.feed, {
        output: out,
        input: opts.input,
        colour: opts.colour ?? false,
        ...(opts.status ? { status: opts.status } : {}),
        onQuit: () => opts.onQuit?.(),
        ...(opts.refreshMs !== undefined ? { refreshMs: opts.refreshMs } : {}),
      });
    }
  }

  /** A full-screen console with keys (on a terminal), rather than printed snapshots. */
  get interactive(): boolean {
    return this.console !== undefined;
  }

  /** Whether keys can be read (q ends the console). */
  get readsKeys(): boolean {
    return this.console !== undefined && this.opts.input?.isTTY === true;
  }

  /** Feeds records as the pull stores them. */
  records(bytes: Uint8Array, anchor: ClockAnchor): void {
    this.feed.records(bytes, anchor);
  }

  start(): void {
    if (this.console) this.console.start();
    else this.timer = setInterval(() => this.out.write(`${this.render()}\n\n`), this.opts.refreshMs ?? 500);
  }

  /** The console gives the terminal back; snapshots print a last one. */
  stop(): void {
    if (this.console) {
      this.console.stop();
      return;
    }
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.out.write(`${this.render()}\n\n`);
  }

  /** A message at the bottom of the console (snapshots: printed once). */
  notice(text: string): void {
    if (this.console) this.console.notice(text);
    else if (text) this.out.write(`live: ${safeText(text)}\n`);
  }

  /** The task table as text (what each snapshot prints). */
  render(): string {
    const feed = this.feed;
    const s = feed.session;
    if (!s) return "live: waiting for the device...";
    const now = feed.nowNs;
    const lints = feed.lints();
    const rows = sortRows(taskRows(feed.model, s.index, now, lints), "state");
    const shown = rows.slice(0, this.opts.maxRows ?? 30);
    const head = `live: ${safeText(s.info.device)}, device time ${formatDuration(now)}: ${rows.length} live tasks, ${feed.endedTasks(rows.length)} ended`;
    const status = this.opts.status?.();
    return [
      head,
      renderTable(COLUMNS, shown.map(snapshotCells)),
      ...(rows.length > shown.length ? [`(${rows.length - shown.length} more)`] : []),
      ...(lints.length > 0 ? [lintSummary(lints)] : []),
      ...(status ? [status] : []),
    ].join("\n");
  }
}

/** "lints: 3 (1 error): lost-wakeup, late-timer x2", most important first (trace-report, or the
 *  console on a terminal, has the rest). */
function lintSummary(lints: readonly Lint[]): string {
  const kinds = new Map<string, number>();
  for (const l of lints) kinds.set(l.kind, (kinds.get(l.kind) ?? 0) + 1);
  const errors = lints.filter((l) => l.severity === "error").length;
  return `lints: ${lints.length}${errors > 0 ? ` (${errors} error${errors === 1 ? "" : "s"})` : ""}: ${[...kinds].map(([k, n]) => (n > 1 ? `${k} x${n}` : k)).join(", ")}`;
}

function snapshotCells(r: TaskRow): string[] {
  return [
    r.name,
    String(r.task.id),
    r.state,
    formatDuration(r.forNs),
    String(r.polls),
    Number.isNaN(r.busy) ? "-" : `${(100 * r.busy).toFixed(1)}%`,
    r.lastWakeAgoNs === undefined ? "never" : `${formatDuration(r.lastWakeAgoNs)} ago`,
    r.site,
  ];
}
