// Levels that keep growing: a channel's fill level (the "fix" that made a stuck bounded channel
// unbounded, so it now fills without end) or a task's memory (MEM samples). The model's one pass
// feeds every level change here; each gauge keeps its shape as a StepSeries of at most
// GROWTH_BINS bins (time-weighted mean per bin, bins doubling in width as the trace grows), so
// memory is fixed per gauge and bounded by the live things: a task's gauge goes when it ends.
//
// A gauge is judged on its bins over its own span (first sample to the end of the trace): it is
// growing only when the trend is robust, sustained and large enough,
//   - monotone: Kendall's tau of the bin means against time is at least GROWTH_MIN_TAU (noise
//     around a flat level gives a tau near 0);
//   - sustained: the means of the span's four quarters rise one after the other, each step at
//     least a tenth of the whole rise, and the last quarter's own trend (Theil-Sen) still climbs
//     at at least a quarter of the whole span's: a level that rises and then plateaus or drains
//     is not growing;
//   - large: the last quarter's mean is at least GROWTH_MIN_RATIO times the first's and above it
//     by an absolute minimum (items, bytes);
//   - long enough to tell from a burst: the gauge's span is at least --growth-min and a quarter of
//     its session's, with at least GROWTH_MIN_SAMPLES changes.
// docs/REPORT.md section 2 says what it can and cannot see.

import { StepSeries, type SeriesView } from "./gauge.js";
import type { ResourceRecord } from "./resources.js";
import type { TaskRecord } from "./tasks.js";

/** Bins kept per gauge: a judged span has between half and all of them. */
export const GROWTH_BINS = 64;
/** Changes a gauge needs before it is judged. */
export const GROWTH_MIN_SAMPLES = 16;
export const GROWTH_MIN_TAU = 0.6;
/** The last quarter's mean over the first's. */
export const GROWTH_MIN_RATIO = 4 / 3;
/** The least rise: channel items, memory bytes. */
export const GROWTH_MIN_ITEMS = 4;
export const GROWTH_MIN_BYTES = 1024;
/** Share of its session's span a gauge must cover. */
export const GROWTH_MIN_SHARE = 0.25;

interface Gauge {
  /** Null until a second value comes: most tasks report their memory once (a task per request),
   *  and a series per task was a fifth of what the analysis allocated. `firstT` and `firstLevel`
   *  hold that first value until then (the series starts with it). */
  series: StepSeries | null;
  firstT: number;
  firstLevel: number;
  /** The level now (to restart the series when a report window opens). */
  level: number;
}

/** What the pass feeds: channel levels and task memory. */
export class GrowthGauges {
  readonly channels = new Map<ResourceRecord, Gauge>();
  readonly memory = new Map<TaskRecord, Gauge>();

  // The last channel fed (most programs pass most messages through one or two channels).
  private lastChannel: ResourceRecord | undefined;
  private lastGauge: Gauge | undefined;

  channelLevel(r: ResourceRecord, t: number, level: number): void {
    const g = r === this.lastChannel ? this.lastGauge! : note(this.channels, r, t, level);
    this.lastChannel = r;
    this.lastGauge = g;
    if (g.level === level) return; // (a blocked operation: nothing changed)
    record(g, t, level);
  }

  taskMemory(rec: TaskRecord, t: number, bytes: number): void {
    note(this.memory, rec, t, bytes);
  }

  /** A task's record closed (ended, or its id reused): its memory is no longer its own. */
  taskClosed(rec: TaskRecord): void {
    if (this.memory.size > 0) this.memory.delete(rec);
  }

  /** The report window opens at `t0`: each gauge starts over from its level then. */
  resetWindow(t0: number): void {
    for (const m of [this.channels, this.memory] as Map<unknown, Gauge>[]) {
      for (const g of m.values()) {
        g.series = null;
        g.firstT = t0;
        g.firstLevel = g.level;
      }
    }
  }
}

/** Sets the gauge of `key` to `level` at `t` (a new gauge starts there); returns it. */
function note<K>(m: Map<K, Gauge>, key: K, t: number, level: number): Gauge {
  let g = m.get(key);
  if (g) record(g, t, level);
  else m.set(key, (g = { series: null, firstT: t, firstLevel: level, level }));
  return g;
}

/** A value after the first. */
function record(g: Gauge, t: number, level: number): void {
  g.level = level;
  let series = g.series;
  if (series === null) {
    series = g.series = new StepSeries(GROWTH_BINS);
    series.set(g.firstT, g.firstLevel);
  }
  series.set(t, level);
}

/** A gauge found growing, with the figures behind it. */
export interface Growth {
  fromNs: number;
  untilNs: number;
  /** Level at the start (first bin's mean), at the end (last bin's mean), and the highest. */
  startLevel: number;
  endLevel: number;
  peak: number;
  /** Robust slope (Theil-Sen over the bins), per second. */
  ratePerS: number;
  tau: number;
  /** Time-weighted means of the span's four quarters. */
  quarters: [number, number, number, number];
  samples: number;
}

/** Whether the gauge's series, as of `end`, shows growth (see the file's head). */
export function judgeGrowth(series: StepSeries | null, end: number, sessionSpanNs: number, minSpanNs: number, minRise: number): Growth | undefined {
  if (series === null || series.samples < GROWTH_MIN_SAMPLES) return undefined; // (null: one value)
  const span = end - series.t0;
  if (!(span >= minSpanNs) || span < GROWTH_MIN_SHARE * sessionSpanNs) return undefined;
  const v = series.view(end);
  const n = v.mean.length;
  if (n < 8) return undefined;
  const q = quarterMeans(v, end);
  const rise = q[3] - q[0];
  if (!(rise >= minRise) || q[3] < GROWTH_MIN_RATIO * q[0]) return undefined;
  for (let i = 0; i < 3; i++) if (q[i + 1]! - q[i]! < rise / 10) return undefined;
  const mid = (i: number) => v.fromNs + (i + 0.5) * v.binNs;
  const xs = v.mean.map((_, i) => mid(i));
  const tau = kendallTau(v.mean);
  if (tau < GROWTH_MIN_TAU) return undefined;
  const slope = theilSen(xs, v.mean);
  const lastFrom = Math.floor((n * 3) / 4);
  const lastSlope = theilSen(xs.slice(lastFrom), v.mean.slice(lastFrom));
  if (!(slope > 0) || !(lastSlope >= slope / 4)) return undefined;
  return {
    fromNs: series.t0,
    untilNs: end,
    startLevel: v.mean[0]!,
    endLevel: v.mean[n - 1]!,
    peak: Math.max(...v.max),
    ratePerS: slope * 1e9,
    tau,
    quarters: q,
    samples: series.samples,
  };
}

/** Time-weighted means over the four quarters of [fromNs, end] (each bin split where a quarter
 *  boundary falls in it). */
function quarterMeans(v: SeriesView, end: number): [number, number, number, number] {
  const span = end - v.fromNs;
  const area = [0, 0, 0, 0];
  for (let i = 0; i < v.mean.length; i++) {
    const a = v.fromNs + i * v.binNs;
    const b = Math.min(end, a + v.binNs);
    for (let k = 0; k < 4; k++) {
      const qa = v.fromNs + (k * span) / 4;
      const o = Math.min(b, qa + span / 4) - Math.max(a, qa);
      if (o > 0) area[k]! += o * v.mean[i]!;
    }
  }
  return area.map((x) => (span > 0 ? x / (span / 4) : 0)) as [number, number, number, number];
}

/** Kendall's tau-a of values against their order: concordant minus discordant pairs, over all. */
export function kendallTau(ys: readonly number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += Math.sign(ys[j]! - ys[i]!);
  return s / ((n * (n - 1)) / 2);
}

/** Theil-Sen slope: the median of the pairwise slopes (robust to outliers and noise). */
export function theilSen(xs: readonly number[], ys: readonly number[]): number {
  const slopes: number[] = [];
  for (let i = 0; i < xs.length; i++) for (let j = i + 1; j < xs.length; j++) if (xs[j]! !== xs[i]!) slopes.push((ys[j]! - ys[i]!) / (xs[j]! - xs[i]!));
  if (slopes.length === 0) return 0;
  slopes.sort((a, b) => a - b);
  const m = slopes.length >> 1;
  return slopes.length % 2 === 1 ? slopes[m]! : (slopes[m - 1]! + slopes[m]!) / 2;
}
