// A single status line that rewrites itself on a terminal and stays silent otherwise. Its text is
// built only when it is drawn (at most every 100 ms, and never off a terminal): formatting the
// figures inside a recorded program costs time the program would not otherwise spend.

import { isatty } from "node:tty";
import { writeFully } from "../export/output.js";
import { formatBytes, formatCount } from "../report/units.js";

/** Where the line is drawn: standard error of this thread, or of the command from a worker. */
export interface ProgressSink {
  readonly isTTY: boolean;
  /** Terminal width, 0 when unknown. */
  columns(): number;
  write(text: string): void;
}

/** Standard error, written synchronously (from the main thread or a worker alike). */
export function stderrSink(columns: () => number = () => process.stderr.columns ?? 0): ProgressSink {
  return { isTTY: isatty(2), columns, write: (text) => writeFully(2, text) };
}

export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(
    private readonly sink: ProgressSink = stderrSink(),
    private readonly minIntervalMs = 100,
  ) {}

  get enabled(): boolean {
    return this.sink.isTTY;
  }

  /** Shows the text unless the previous update was less than minIntervalMs ago (or `force`);
   *  a function is called only when its text is drawn. */
  update(text: string | (() => string), force = false): void {
    if (!this.sink.isTTY) return;
    const now = Date.now();
    if (!force && now - this.last < this.minIntervalMs) return;
    this.last = now;
    const line = typeof text === "function" ? text() : text;
    const width = this.sink.columns() || 100;
    this.sink.write(`\r${line.slice(0, Math.max(10, width - 1))}\x1b[K`);
    this.shown = true;
  }

  /** Clears the line so other output can follow; the next update draws it again. */
  clear(): void {
    if (this.sink.isTTY && this.shown) this.sink.write("\r\x1b[K");
    this.shown = false;
  }

  /** Clears the line at the end of a step. */
  done(): void {
    this.clear();
  }
}

/** One long step's figures: how far, how fast, how long still. */
export class StepMeter {
  private readonly started = Date.now();

  constructor(readonly label: string) {}

  /**
   * "exporting: 45% of 180.2 MiB, 1,234,567 events, 31.0 MiB/s, ETA 3s": `bytes` of `total`
   * read so far, `extra` (counts), then the rate and the time left.
   */
  text(bytes: number, total: number, extra: string[] = []): string {
    const secs = (Date.now() - this.started) / 1000;
    const parts = [total > 0 ? `${this.label}: ${percent(bytes, total)} of ${formatBytes(total)}` : `${this.label}: ${formatBytes(bytes)}`, ...extra];
    if (secs >= 0.05 && bytes > 0) {
      const rate = bytes / secs;
      parts.push(`${formatBytes(Math.round(rate))}/s`);
      if (total > bytes) parts.push(`ETA ${formatEta((total - bytes) / rate)}`);
    }
    return parts.join(", ");
  }

  /** "pulling: 12,345 events, ..., 2,000 ev/s": a count, `extra`, then its rate, for steps of
   *  unknown length. */
  countText(count: number, unit: string, extra: string[] = [], rateUnit = unit): string {
    const secs = Math.max(0.001, (Date.now() - this.started) / 1000);
    return [`${this.label}: ${formatCount(count)} ${unit}`, ...extra, `${formatCount(Math.round(count / secs))} ${rateUnit}/s`].join(", ");
  }
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.min(100, Math.floor((100 * part) / whole))}%` : "0%";
}

/** 3 -> "3s", 125 -> "2m05s", 3725 -> "1h02m". */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
