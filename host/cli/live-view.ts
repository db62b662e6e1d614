// trace-pull --live: a task table that follows the stream, so a stuck task shows while it is
// stuck. Records are decoded as they are stored and fed to the same task model trace-report uses,
// and the verdicts are the model's: "STUCK" only for a task whose whole history the stream holds
// (an attach mid-run misses waker clones made before it: such a task shows "waker unknown").
// The table's "now" is the newest event decoded, never the device's clock ahead of its events.
// The table is redrawn in place on a terminal, and printed as successive snapshots otherwise.

import { decodeRecords, decodeChunk, EventBatch, NameTable, DecodeError } from "../format/index.js";
import { TraceModel } from "../model/trace-model.js";
import { noWakerVerdict, type TaskRecord } from "../model/tasks.js";
import type { ClockAnchor } from "../tracefile/schema.js";
import { renderTable, type Column } from "../report/text-table.js";
import { formatDuration } from "../report/units.js";

interface LiveSession {
  id: number;
  index: number;
  tickHz: number;
  /** Wire format version (INFO), for decoding its chunks. */
  format: number;
  device: string;
  names: NameTable;
  /** Newest event decoded (ns): the table's "now". */
  nowNs: number;
}

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
  /** Redraw interval (ms, default 500). */
  refreshMs?: number;
  /** At most this many rows (default 30). */
  maxRows?: number;
  /** Extra status text under the table (the pull's progress). */
  status?: () => string;
}

export class LiveView {
  private model = new TraceModel();
  private session: LiveSession | undefined;
  private sessions = 0;
  private readonly batch = new EventBatch(4096);
  private timer: NodeJS.Timeout | undefined;
  private drawnLines = 0;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly opts: LiveViewOptions = {},
  ) {}

  /** Feeds records as the pull stores them. */
  records(bytes: Uint8Array, _anchor: ClockAnchor): void {
    let records;
    try {
      records = decodeRecords(bytes);
    } catch (e) {
      if (e instanceof DecodeError) return; // the ingest reports it
      throw e;
    }
    for (const r of records) {
      if (r.type === "INFO") {
        if (this.session?.id === r.sessionId) continue;
        // A new device session: task ids start over, so the table does too.
        this.model = new TraceModel();
        this.session = { id: r.sessionId, index: this.sessions++, tickHz: r.tickHz, format: r.version, device: r.device, names: new NameTable(), nowNs: 0 };
        continue;
      }
      const s = this.session;
      if (!s) continue;
      if (r.type === "NAMES") {
        try {
          s.names.addRecord(r);
        } catch {
          // a repeated or damaged names record: the ingest deals with it
        }
      } else if (r.type === "CHUNK") {
        this.batch.clear();
        try {
          decodeChunk(r.payload, s.tickHz, this.batch, 0, s.format);
        } catch {
          continue;
        }
        if (this.batch.length > 0) {
          this.model.consume(this.batch, { index: s.index, name: (id) => s.names.get(id) });
          s.nowNs = Math.max(s.nowNs, this.batch.t[this.batch.length - 1]!);
        }
      }
    }
  }

  start(): void {
    this.timer = setInterval(() => this.draw(), this.opts.refreshMs ?? 500);
  }

  /** Draws a last time and stops. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
  }

  /** The table as text (also what each snapshot prints). */
  render(): string {
    const s = this.session;
    if (!s) return "live: waiting for the device...";
    const now = s.nowNs;
    const live = [...this.model.liveTasks()].filter((t) => t.session === s.index && t.end === undefined && t.state !== "done" && t.state !== "cancelled");
    const ended = this.model.taskCount - live.length;
    // Longest-parked first: a stuck task rises to the top and stays there.
    live.sort((a, b) => stuckRank(b) - stuckRank(a) || a.since - b.since);
    const rows = live.slice(0, this.opts.maxRows ?? 30).map((t) => row(t, now, s.names));
    const head = `live: ${s.device}, device time ${formatDuration(now)}: ${live.length} live tasks, ${ended} ended`;
    const status = this.opts.status?.();
    return [head, renderTable(COLUMNS, rows), ...(live.length > rows.length ? [`(${live.length - rows.length} more)`] : []), ...(status ? [status] : [])].join("\n");
  }

  private draw(): void {
    const text = this.render();
    if (this.out.isTTY) {
      // Back to the top of the previous drawing, then overwrite it.
      const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}F` : "";
      this.out.write(`${up}\x1b[J${text}\n`);
      this.drawnLines = text.split("\n").length;
    } else {
      this.out.write(`${text}\n\n`);
    }
  }
}

function stuckRank(t: TaskRecord): number {
  const verdict = noWakerVerdict(t);
  return verdict === "stuck" ? 2 : t.state === "parked" ? 1 : 0;
}

function stateText(t: TaskRecord): string {
  const verdict = noWakerVerdict(t);
  if (verdict === "stuck") return "STUCK (no waker)";
  if (verdict === "unknown") return "parked (waker unknown)";
  return t.state;
}

function row(t: TaskRecord, now: number, names: NameTable): string[] {
  const lifetime = now - (t.spawnedAt ?? t.firstSeen);
  const busy = lifetime > 0 ? `${((100 * (t.busyNs + (t.state === "running" ? now - t.since : 0))) / lifetime).toFixed(1)}%` : "-";
  const site = t.awaitSite !== 0 ? (names.get(t.awaitSite) ?? `site#${t.awaitSite}`) : "";
  return [
    t.name,
    String(t.id),
    stateText(t),
    formatDuration(Math.max(0, now - t.since)),
    String(t.polls),
    busy,
    t.lastWakeAt === undefined ? "never" : `${formatDuration(Math.max(0, now - t.lastWakeAt))} ago`,
    site,
  ];
}
