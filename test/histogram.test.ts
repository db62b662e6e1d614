// The histogram every percentile in a report comes from: checked against exact nearest-rank
// percentiles of random data (property tests), merged as if the values had been added to one,
// and bounded in memory whatever the number of values.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { EXACT_VALUES, Histogram, RELATIVE_ERROR } from "../host/model/histogram.js";

/** The nearest-rank percentile: the smallest value with at least a share p of the values at or below it. */
function exactQuantile(sorted: number[], p: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1]!;
}

const PS = [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];

/** Durations as traces have them: integers over a few powers of ten, a spread over many, with
 *  repeats and zeros. */
const values = fc.oneof(
  fc.array(fc.integer({ min: 0, max: 5_000_000 }), { minLength: 1, maxLength: 3000 }),
  fc.array(fc.double({ min: 0, max: 12, noNaN: true }).map((e) => Math.round(10 ** e)), { minLength: 1, maxLength: 3000 }),
  fc.array(fc.constantFrom(1000, 1000, 2000, 45_000, 1_000_000), { minLength: 1, maxLength: 500 }),
  fc.array(fc.double({ min: 0, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 40 }),
);

function filled(xs: number[]): Histogram {
  const h = new Histogram();
  for (const x of xs) h.add(x);
  return h;
}

/** Within RELATIVE_ERROR; durations below 1 ns (no clock has them) share one bucket with zero. */
function within(got: number, exact: number): boolean {
  if (exact < 1) return got < 1;
  return Math.abs(got - exact) <= RELATIVE_ERROR * exact + 1e-9;
}

describe("histogram percentiles", () => {
  it(`are within ${(RELATIVE_ERROR * 100).toFixed(2)} % of the exact nearest-rank percentile, on random data`, () => {
    fc.assert(
      fc.property(values, (xs) => {
        const h = filled(xs);
        const sorted = [...xs].sort((a, b) => a - b);
        for (const p of PS) {
          const got = h.quantile(p);
          const exact = exactQuantile(sorted, p);
          if (!within(got, exact)) throw new Error(`p${p * 100} of ${xs.length} values: ${got}, exact ${exact}`);
        }
        expect(h.count).toBe(xs.length);
        expect(h.max).toBe(sorted[sorted.length - 1]);
        expect(h.min).toBe(sorted[0]);
        expect(h.sum).toBeCloseTo(xs.reduce((s, x) => s + x, 0), 0);
      }),
      { numRuns: 300 },
    );
  });

  it("are exact while few values were added", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e10, noNaN: true }), { minLength: 1, maxLength: EXACT_VALUES }), (xs) => {
        const h = filled(xs);
        const sorted = [...xs].sort((a, b) => a - b);
        for (const p of PS) expect(h.quantile(p)).toBe(exactQuantile(sorted, p));
      }),
    );
  });

  it("merge as if every value had been added to one histogram", () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const merged = filled(a);
        merged.merge(filled(b));
        const direct = filled([...a, ...b]);
        const sorted = [...a, ...b].sort((x, y) => x - y);
        expect(merged.count).toBe(direct.count);
        expect(merged.max).toBe(direct.max);
        for (const p of PS) {
          expect(within(merged.quantile(p), exactQuantile(sorted, p))).toBe(true);
          expect(merged.quantile(p)).toBe(direct.quantile(p));
        }
        expect(merged.bucketed()).toEqual(direct.bucketed());
      }),
      { numRuns: 150 },
    );
  });

  it("stay bounded in memory: 64 counters per power of two of the range seen, whatever the count", () => {
    const h = new Histogram();
    for (let i = 0; i < 200_000; i++) h.add(1000 + (i % 1000) * 997);
    const counts = (h as unknown as { counts: Uint32Array }).counts;
    // 1 µs .. 1 ms: 10 powers of two.
    expect(counts.length).toBeLessThanOrEqual(2 * 64 * 11);
    const wide = new Histogram();
    for (const v of [0, 5, 1e12, 3, ...Array.from({ length: 100 }, (_, i) => 2 ** (i % 40))]) wide.add(v);
    expect((wide as unknown as { counts: Uint32Array }).counts.length).toBeLessThanOrEqual(64 * 41 * 2);
    expect(wide.quantile(0)).toBe(0);
    expect(wide.quantile(1)).toBe(1e12);
  });

  it("gives count, mean and max exactly and a summary of p50, p90, p99", () => {
    const h = filled(Array.from({ length: 10_000 }, (_, i) => (i + 1) * 100));
    expect(h.mean).toBeCloseTo(500_050, 6);
    const s = h.summary();
    expect(s.count).toBe(10_000);
    expect(s.max).toBe(1_000_000);
    for (const [p, got] of [[0.5, s.p50], [0.9, s.p90], [0.99, s.p99]] as const) {
      expect(Math.abs(got - p * 1_000_000) / (p * 1_000_000)).toBeLessThanOrEqual(RELATIVE_ERROR);
    }
  });
});
