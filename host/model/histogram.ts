// Log-linear histogram of durations (ns), HdrHistogram-style: each power of two is split into 64
// equal buckets, so a bucket is at most 1/64 of its lower bound wide and a percentile, reported as
// the middle of its bucket, is within 1/128 (0.8 %) of the exact value (the nearest-rank
// percentile of the values added), whatever the range. Count, sum, min and max are always exact.
// The first FEW values are kept as they are: exact percentiles, and no bucket array at all for
// the many short-lived tasks that are polled only a few times; the buckets take over after them.
// Values below 1 ns (no clock has them) count as one bucket with zero, reported as the minimum.
// Memory: the bucket array covers only the range of values seen, 64 counters (256 bytes) per
// power of two of that range, and grows on demand; a 1 ns .. 1000 s range is 2,560 counters.

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // buckets per power of two
/** Values kept as they are before the buckets take over. */
const FEW = 8;
export const EXACT_VALUES = FEW;
/** Largest relative error of a reported percentile (half a bucket over its lower bound). */
export const RELATIVE_ERROR = 1 / (2 * SUB);

// The bucket comes straight from the float's bits: the exponent and the top six mantissa bits.
const F64 = new Float64Array(1);
const HI = new Uint32Array(F64.buffer, F64.BYTES_PER_ELEMENT / 2 * (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0), 1);

/** Bucket of a value >= 1: exponent * 64 + the top six mantissa bits. */
export function bucketOf(v: number): number {
  F64[0] = v;
  const hi = HI[0]!;
  return ((((hi >>> 20) & 0x7ff) - 1023) << SUB_BITS) | ((hi >>> (20 - SUB_BITS)) & (SUB - 1));
}

/** Lower bound of a bucket. */
export function bucketLow(b: number): number {
  return 2 ** (b >> SUB_BITS) * (1 + (b & (SUB - 1)) / SUB);
}

/** The value a bucket stands for: its middle. */
function bucketMid(b: number): number {
  return bucketLow(b) + 2 ** (b >> SUB_BITS) / (2 * SUB);
}

/** Bucket key of a value as bucketed() gives it: -1 for values below 1 ns. */
export function keyOf(v: number): number {
  return v < 1 ? -1 : bucketOf(v);
}

function nearestRank(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
}

export class Histogram {
  count = 0;
  sum = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;
  /** Values below 1 ns (zero durations) are counted here (bucket mode). */
  private zeros = 0;
  private lo = 0;
  private counts: Uint32Array | null = null;
  /** The values themselves while there are at most FEW (null once bucketed). */
  private few: number[] | null = [];

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
    const few = this.few;
    if (few !== null) {
      if (few.length < FEW) {
        few.push(v);
        return;
      }
      this.spill();
    }
    this.bucket(v);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The nearest-rank value below which a share `p` (0..1) of the values fall: exact while the
   *  values are held, else the middle of its bucket clamped to the exact min and max (within
   *  RELATIVE_ERROR). 0 when empty. */
  quantile(p: number): number {
    if (this.count === 0) return 0;
    if (this.few !== null) return nearestRank([...this.few].sort((a, b) => a - b), p);
    const rank = Math.min(this.count, Math.max(1, Math.ceil(p * this.count)));
    if (rank <= this.zeros) return this.min;
    let seen = this.zeros;
    const counts = this.counts;
    if (counts !== null) {
      for (let i = 0; i < counts.length; i++) {
        seen += counts[i]!;
        if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketMid(this.lo + i)));
      }
    }
    return this.max;
  }

  /** Adds every value of `other`. */
  merge(other: Histogram): void {
    if (other.count === 0) return;
    if (other.few !== null) {
      for (const v of other.few) this.add(v);
      return;
    }
    if (this.few !== null) this.spill();
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
    this.zeros += other.zeros;
    const oc = other.counts;
    if (oc === null) return;
    if (this.counts === null) {
      this.counts = oc.slice();
      this.lo = other.lo;
      return;
    }
    this.grow(other.lo);
    const counts = this.grow(other.lo + oc.length - 1);
    for (let i = 0; i < oc.length; i++) counts[other.lo + i - this.lo]! += oc[i]!;
  }

  /** Calls `fn` for each bucket from the lowest to the highest that holds a value, in order
   *  (empty ones between included): its range [low, high) in ns and its count. Values below
   *  1 ns come first, as [0, 1). For drawing the distribution. */
  forEachBucket(fn: (low: number, high: number, count: number) => void): void {
    if (this.few !== null) {
      // The few values kept as they are, counted in the buckets they would take.
      const few = new Histogram();
      few.few = null;
      for (const v of this.few) few.bucket(v);
      few.forEachBucket(fn);
      return;
    }
    if (this.zeros > 0) fn(0, 1, this.zeros);
    const counts = this.counts;
    if (counts === null) return;
    let first = 0;
    let last = counts.length - 1;
    while (first <= last && counts[first] === 0) first++;
    while (last >= first && counts[last] === 0) last--;
    for (let i = first; i <= last; i++) fn(bucketLow(this.lo + i), bucketLow(this.lo + i + 1), counts[i]!);
  }

  /** The distribution as (bucket key, count) pairs in increasing order (keyOf: -1 for values
   *  below 1 ns); held values are put in their buckets, so two histograms compare bucket by
   *  bucket. */
  bucketed(): [number, number][] {
    const out: [number, number][] = [];
    if (this.few !== null) {
      for (const k of this.few.map(keyOf).sort((a, b) => a - b)) {
        const last = out[out.length - 1];
        if (last && last[0] === k) last[1]++;
        else out.push([k, 1]);
      }
      return out;
    }
    if (this.zeros > 0) out.push([-1, this.zeros]);
    const counts = this.counts;
    if (counts !== null) for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out.push([this.lo + i, counts[i]!]);
    return out;
  }

  /** A JSON-able summary. */
  summary(): HistogramSummary {
    return {
      count: this.count,
      mean: this.mean,
      p50: this.quantile(0.5),
      p90: this.quantile(0.9),
      p99: this.quantile(0.99),
      max: this.max,
    };
  }

  /** Moves the held values into buckets. */
  private spill(): void {
    const few = this.few!;
    this.few = null;
    for (const x of few) this.bucket(x);
  }

  private bucket(v: number): void {
    if (v < 1) {
      this.zeros++;
      return;
    }
    const b = bucketOf(v);
    let counts = this.counts;
    if (counts === null) {
      // One power of two's worth, centred on the first value; grows (doubling) as the range does.
      counts = this.counts = new Uint32Array(SUB);
      this.lo = Math.max(0, b - SUB / 2);
    } else if (b < this.lo || b >= this.lo + counts.length) {
      counts = this.grow(b);
    }
    counts[b - this.lo]!++;
  }

  private grow(b: number): Uint32Array {
    const old = this.counts!;
    if (b >= this.lo && b < this.lo + old.length) return old;
    const lo = Math.min(this.lo, b);
    const hi = Math.max(this.lo + old.length, b + 1);
    // Some headroom on the side that grew, so a drifting range does not reallocate every time.
    const size = Math.max(hi - lo, 2 * old.length);
    const newLo = b < this.lo ? Math.max(0, hi - size) : lo;
    const next = new Uint32Array(Math.max(size, hi - newLo));
    next.set(old, this.lo - newLo);
    this.lo = newLo;
    this.counts = next;
    return next;
  }
}

/** Durations in ns; percentiles within 0.8 % (RELATIVE_ERROR), exact for up to 8 values;
 *  count, mean and max exact. */
export interface HistogramSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const EMPTY_SUMMARY: HistogramSummary = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
