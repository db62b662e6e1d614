// A wake's Unix time as text (taskscope.wake.unix_ns) must read exactly as the BigInt
// arithmetic writes it, for any clock and time, including those the plain-number path refuses.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { SessionClock } from "../host/export/clock.js";
import { decimal64, UnixNsText } from "../host/export/otlp/unix-text.js";
import { ticksToNs } from "../host/format/chunk.js";

describe("UnixNsText", () => {
  it("writes the digits of a 64-bit number below 2^63 as BigInt does", () => {
    const edges = [0n, 1n, 999_999_999n, 1_000_000_000n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n, 1_767_225_600_012_792_000n, 2n ** 63n - 1n];
    for (const v of edges) expect(decimal64(Number(v >> 32n), Number(v & 0xffffffffn)), String(v)).toBe(v.toString());
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (v) => {
        expect(decimal64(Number(v >> 32n), Number(v & 0xffffffffn))).toBe(v.toString());
      }),
      { numRuns: 2000 },
    );
  });

  it("gives clock.unixNs(t) as text for any tick rate, anchor and time", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1_000_000, 32_768, 1_000_000_000, 7),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.constant(0n)),
        // Anchors from before 1970 (negative times) to past 2^64 ns (wrapped halves).
        fc.oneof(fc.bigInt({ min: 1_700_000_000_000_000_000n, max: 1_900_000_000_000_000_000n }), fc.bigInt({ min: -(2n ** 40n), max: 2n ** 66n })),
        (hz, anchorTicks, ticks, unix) => {
          const clock = new SessionClock({ ticks: Number(anchorTicks), unixNs: unix }, hz);
          const t = ticksToNs(Number(ticks), hz);
          expect(new UnixNsText(clock).of(t)).toBe(clock.unixNs(t).toString());
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("gives the BigInt text for times no 64-bit Unix time holds", () => {
    const clock = new SessionClock({ ticks: 0, unixNs: 2n ** 64n - 10n }, 1_000_000_000);
    const text = new UnixNsText(clock);
    for (const t of [0, 5, 20, 1e15, -3, 0.5, 2 ** 60]) expect(text.of(t), String(t)).toBe(clock.unixNs(t).toString());
  });
});
