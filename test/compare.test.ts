// The significance test behind trace-report --compare: two-sample Kolmogorov-Smirnov on the
// histograms' buckets. Samples of one distribution are not told apart; a shift is.

import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Histogram } from "../host/model/histogram.js";
import { ksTest } from "../host/report/compare.js";

/** A deterministic pseudo-random stream (xorshift), so a failure is reproducible. */
function rng(seed: number): () => number {
  let x = seed | 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

function sample(n: number, next: () => number, scale: number): Histogram {
  const h = new Histogram();
  for (let i = 0; i < n; i++) h.add(Math.round(scale * (1000 + 4000 * -Math.log(1 - next()))));
  return h;
}

describe("Kolmogorov-Smirnov on histograms", () => {
  it("does not tell two samples of one distribution apart (at p < 0.01, in nearly every try)", () => {
    let rejected = 0;
    const tries = 200;
    for (let s = 1; s <= tries; s++) {
      const next = rng(s * 7919);
      if (ksTest(sample(300, next, 1), sample(300, next, 1)).p < 0.01) rejected++;
    }
    // At the 1 % level about 2 of 200 would be rejected by chance.
    expect(rejected).toBeLessThanOrEqual(8);
  });

  it("tells a 20 % slower sample apart", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e9 }), (seed) => {
        const next = rng(seed);
        const r = ksTest(sample(2000, next, 1), sample(2000, next, 1.2));
        expect(r.p).toBeLessThan(0.01);
        expect(r.d).toBeGreaterThan(0.05);
      }),
      { numRuns: 50 },
    );
  });

  it("gives D = 0 and p = 1 for the same histogram, D = 1 for disjoint ones", () => {
    const a = sample(100, rng(3), 1);
    expect(ksTest(a, a)).toEqual({ d: 0, p: 1 });
    const low = new Histogram();
    const high = new Histogram();
    for (let i = 0; i < 50; i++) {
      low.add(1000 + i);
      high.add(100_000 + i);
    }
    const r = ksTest(low, high);
    expect(r.d).toBe(1);
    expect(r.p).toBeLessThan(1e-6);
  });
});
