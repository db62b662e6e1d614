// A level over time (requests in flight, a channel's fill level, a task's memory), kept in
// constant memory: a Gauge integrates a count as it changes (maximum, time-weighted mean, time at
// each level range), a StepSeries keeps the shape of any stepped value as at most SERIES_BINS
// bins (minimum, maximum and mean per bin) whose width doubles as the trace grows.

/** Level ranges of Gauge.levels: 1, 2, 3-4, 5-8, 9-16, 17-32, 33-64, 65 and more. */
export const LEVEL_RANGES: readonly (readonly [number, number | null])[] = [
  [1, 1], [2, 2], [3, 4], [5, 8], [9, 16], [17, 32], [33, 64], [65, null],
];

function levelBin(level: number): number {
  return level <= 1 ? 0 : Math.min(LEVEL_RANGES.length - 1, 32 - Math.clz32(level - 1));
}

/** A count that goes up and down over time (from 0). */
export class Gauge {
  level = 0;
  max = 0;
  /** Time with the level at 1 or more, at 2 or more, and the integral of the level. (Made -0,
   *  a double, and then 0 in the constructor: see StepSeries.binNs.) */
  busyNs = -0;
  overlapNs = -0;
  weightedNs = -0;
  /** Time at each range of LEVEL_RANGES (null when not kept: a task's own requests). */
  readonly levels: Float64Array | null;
  /** Last change (NaN before the first). */
  since = Number.NaN;
  /** The level's shape over time, when kept. */
  readonly series: StepSeries | null;

  constructor(withSeries = false, withLevels = true) {
    this.busyNs = this.overlapNs = this.weightedNs = 0;
    this.series = withSeries ? new StepSeries() : null;
    this.levels = withLevels ? new Float64Array(LEVEL_RANGES.length) : null;
  }

  change(t: number, delta: number): void {
    this.advance(t);
    this.level += delta;
    if (this.level > this.max) this.max = this.level;
    this.series?.set(t, this.level);
  }

  /** Accounts the time up to `t` at the current level. */
  advance(t: number): void {
    const since = this.since;
    if (!(t > since)) {
      if (since !== since) this.since = t;
      return;
    }
    this.since = t;
    const level = this.level;
    if (level <= 0) return;
    const dt = t - since;
    this.busyNs += dt;
    this.weightedNs += level * dt;
    if (level >= 2) this.overlapNs += dt;
    if (this.levels !== null) this.levels[levelBin(level)]! += dt;
  }

  /** The figures as of `t` (the gauge itself is left as it is). */
  at(t: number): GaugeFigures {
    const open = this.level > 0 && t > this.since ? t - this.since : 0;
    const busy = this.busyNs + open;
    const levels = Array.from(this.levels ?? []);
    if (open > 0 && levels.length > 0) levels[levelBin(this.level)]! += open;
    return {
      max: this.max,
      mean: busy > 0 ? (this.weightedNs + this.level * open) / busy : 0,
      busyNs: busy,
      overlapNs: this.overlapNs + (this.level >= 2 ? open : 0),
      levels: LEVEL_RANGES.map(([from, to], i) => ({ from, to, ns: levels[i]! })).filter((l) => l.ns > 0),
    };
  }
}

export interface GaugeFigures {
  max: number;
  /** Time-weighted mean over the time the level was 1 or more. */
  mean: number;
  busyNs: number;
  overlapNs: number;
  /** Time at each level range (ranges never reached are left out). */
  levels: { from: number; to: number | null; ns: number }[];
}

/** Bins a StepSeries keeps at most. */
export const SERIES_BINS = 256;
const FIRST_BIN_NS = 1000;

/** A stepped value over time, downsampled into at most SERIES_BINS (or maxBins) bins from its
 *  first value. */
export class StepSeries {
  t0 = Number.NaN;
  // Stored as a double from the start (-0 is one; the constructor sets the real width): the width
  // passes 2^31 ns on a long trace, and a field that turns from a small integer into a double
  // mid-run deoptimizes every compiled function that touched a series (a few ms each time).
  binNs = -0;
  /** Values set so far. */
  samples = 0;
  private value = 0;
  private since = Number.NaN;
  /** The bin `since` is in (the last one), and where it ends. */
  private cur = 0;
  private curEnd = Number.NaN;
  // Per bin: minimum, maximum, integral of the value over the covered part, and that part.
  private min = new Float64Array(8);
  private max = new Float64Array(8);
  private area = new Float64Array(8);
  private covered = new Float64Array(8);

  /** `maxBins`: the most bins kept (a power of two); fewer for a series kept per live thing. */
  constructor(private readonly maxBins = SERIES_BINS) {
    this.binNs = FIRST_BIN_NS;
  }

  set(t: number, value: number): void {
    if (this.samples++ === 0) {
      this.t0 = this.since = t;
      this.cur = 0;
      this.curEnd = t + this.binNs;
      this.min[0] = this.max[0] = value;
    } else if (t < this.curEnd) {
      // The usual case: still in the same bin.
      const dt = t - this.since;
      if (dt > 0) {
        this.area[this.cur]! += this.value * dt;
        this.covered[this.cur]! += dt;
        this.since = t;
      }
    } else {
      this.hold(t);
    }
    this.value = value;
    const b = this.cur;
    if (value < this.min[b]!) this.min[b] = value;
    if (value > this.max[b]!) this.max[b] = value;
  }

  /** The series as of `until` (the last value held up to it). */
  view(until: number): SeriesView {
    const copy = new StepSeries(this.maxBins);
    Object.assign(copy, this, { min: this.min.slice(), max: this.max.slice(), area: this.area.slice(), covered: this.covered.slice() });
    if (this.samples > 0 && until > this.since) copy.hold(until);
    const n = this.samples === 0 ? 0 : copy.cur + 1;
    const mean: number[] = [];
    for (let i = 0; i < n; i++) mean.push(copy.covered[i]! > 0 ? copy.area[i]! / copy.covered[i]! : copy.max[i]!);
    return { fromNs: copy.t0, binNs: copy.binNs, min: Array.from(copy.min.subarray(0, n)), max: Array.from(copy.max.subarray(0, n)), mean };
  }

  /** Holds the current value from `since` to `t` (beyond the current bin). */
  private hold(t: number): void {
    let from = this.since;
    let b = this.cur;
    while (from < t) {
      const end = Math.min(t, this.t0 + (b + 1) * this.binNs);
      this.area[b]! += this.value * (end - from);
      this.covered[b]! += end - from;
      from = end;
      if (from < t) b = this.bin(from);
    }
    this.since = t;
    this.cur = this.bin(t);
    this.curEnd = this.t0 + (this.cur + 1) * this.binNs;
  }

  /** The bin of time `t` (from the last one on), its new bins starting at the value held,
   *  coarsening the bins until it fits. */
  private bin(t: number): number {
    let b = Math.floor((t - this.t0) / this.binNs);
    while (b >= this.maxBins) {
      this.coarsen();
      b = Math.floor((t - this.t0) / this.binNs);
    }
    if (b >= this.min.length) {
      const size = Math.min(this.maxBins, Math.max(b + 1, 2 * this.min.length));
      const grow = (xs: Float64Array) => {
        const out = new Float64Array(size);
        out.set(xs);
        return out;
      };
      this.min = grow(this.min);
      this.max = grow(this.max);
      this.area = grow(this.area);
      this.covered = grow(this.covered);
    }
    for (let i = this.cur + 1; i <= b; i++) this.min[i] = this.max[i] = this.value;
    if (b > this.cur) this.cur = b;
    return b;
  }

  /** Halves the resolution: bin i takes bins 2i and 2i + 1. */
  private coarsen(): void {
    const n = this.cur + 1;
    const half = (n + 1) >> 1;
    for (let i = 0; i < half; i++) {
      const a = 2 * i;
      const b = a + 1 < n ? a + 1 : a;
      this.min[i] = Math.min(this.min[a]!, this.min[b]!);
      this.max[i] = Math.max(this.max[a]!, this.max[b]!);
      this.area[i] = this.area[a]! + (b !== a ? this.area[b]! : 0);
      this.covered[i] = this.covered[a]! + (b !== a ? this.covered[b]! : 0);
    }
    for (let i = half; i < n; i++) this.min[i] = this.max[i] = this.area[i] = this.covered[i] = 0;
    this.binNs *= 2;
    this.cur = half - 1;
  }
}

export interface SeriesView {
  fromNs: number;
  binNs: number;
  min: number[];
  max: number[];
  /** Time-weighted mean per bin. */
  mean: number[];
}
