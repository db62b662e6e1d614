// Fixed-resolution log histogram of durations (ns): 4 buckets per power of two (each bucket
// spans ~19 %), so a percentile is known to within a bucket whatever the range, and memory is a
// few hundred bytes however many values are added. Count, sum, min and max are exact.
// The bucket array covers only the range of values seen and grows on demand. The first FEW
// values are kept as they are (exact percentiles, and no bucket array at all for the many
// short-lived tasks that are polled only a few times); the buckets take over after them.

const SUB = 4; // buckets per octave
const LOG_SUB = 2;

// The bucket comes straight from the float's bits: exponent and the top two mantissa bits.
const F64 = new Float64Array(1);
const HI = new Uint32Array(F64.buffer, F64.BYTES_PER_ELEMENT / 2 * (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0), 1);

/** Bucket of a value >= 1: floor(log2(v) * 4), i.e. exponent * 4 + top two mantissa bits. */
function bucketOf(v: number): number {
  F64[0] = v;
  const hi = HI[0]!;
  return ((((hi >>> 20) & 0x7ff) - 1023) << LOG_SUB) | ((hi >>> (20 - LOG_SUB)) & (SUB - 1));
}

/** Lower bound of a bucket. */
function bucketLow(b: number): number {
  const exp = b >> LOG_SUB;
  const sub = b & (SUB - 1);
  return 2 ** exp * (1 + sub / SUB);
}

/** Values kept as they are before the buckets take over. */
const FEW = 8;

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
      this.few = null;
      for (const x of few) this.bucket(x);
    }
    this.bucket(v);
  }

  private bucket(v: number): void {
    if (v < 1) {
      this.zeros++;
      return;
    }
    const b = bucketOf(v);
    let counts = this.counts;
    if (counts === null) {
      // Room for three octaves below the first value and five above: most durations of one kind
      // fall there, so the array rarely has to grow.
      counts = this.counts = new Uint32Array(32);
      this.lo = Math.max(0, b - 12);
    } else if (b < this.lo || b >= this.lo + counts.length) {
      counts = this.grow(b);
    }
    counts[b - this.lo]!++;
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The value below which a share `p` (0..1) of the values fall, to within one bucket (the
   *  bucket's geometric middle, clamped to the exact min and max). 0 when empty. */
  quantile(p: number): number {
    if (this.count === 0) return 0;
    if (this.few !== null) {
      const sorted = [...this.few].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
    }
    const rank = Math.min(this.count, Math.max(1, Math.ceil(p * this.count)));
    if (rank <= this.zeros) return this.min;
    let seen = this.zeros;
    const counts = this.counts!;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) {
        const b = this.lo + i;
        const mid = Math.sqrt(bucketLow(b) * bucketLow(b + 1));
        return Math.min(this.max, Math.max(this.min, mid));
      }
    }
    return this.max;
  }

  /** Adds every value of `other` (as its buckets). */
  merge(other: Histogram): void {
    if (other.count === 0) return;
    if (other.few !== null) {
      for (const v of other.few) this.add(v);
      return;
    }
    if (this.few !== null) {
      const mine = this.few;
      this.few = null;
      for (const v of mine) this.bucket(v);
    }
    this.count += other.count;
    this.sum += other.sum;
    this.min = Math.min(this.min, other.min);
    this.max = Math.max(this.max, other.max);
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

/** Durations in ns; percentiles are accurate to ~19 % (one bucket), count, mean and max exactly. */
export interface HistogramSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export const EMPTY_SUMMARY: HistogramSummary = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
