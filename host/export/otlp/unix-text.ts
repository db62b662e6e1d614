// A device time as Unix nanoseconds in decimal text (a wake link's taskscope.wake.unix_ns), as
// `clock.unixNs(t).toString()` writes it, without a BigInt sum and its division into digits for
// each: from the clock's exact 64-bit halves, divided by 1e9 in steps a double holds exactly.

import type { SessionClock } from "../clock.js";

export class UnixNsText {
  private readonly halves = [0, 0];
  /** The session's Unix times lie in [0, 2^62) near time zero, so the halves of any whole time
   *  below 2^53 are the time itself (no wrap past 2^64) and a negative one shows as >= 2^63. */
  private readonly plain: boolean;

  constructor(private readonly clock: SessionClock) {
    const zero = clock.unixNs(0);
    this.plain = zero >= 0n && zero < 1n << 62n;
  }

  of(t: number): string {
    if (this.plain && Number.isInteger(t) && t >= 0 && t <= Number.MAX_SAFE_INTEGER) {
      const h = this.halves;
      this.clock.unixHalves(t, h);
      if (h[1]! < 0x8000_0000) return decimal64(h[1]!, h[0]!);
    }
    return this.clock.unixNs(t).toString();
  }
}

/** The decimal digits of hi * 2^32 + lo (hi below 2^31): long division by 1e9 in 16-bit digits,
 *  every step exact in a double, then the quotient's digits and the remainder's nine. */
export function decimal64(hi: number, lo: number): string {
  let r = hi % 1e9;
  const q2 = (hi - r) / 1e9;
  let cur = r * 0x10000 + (lo >>> 16);
  r = cur % 1e9;
  const q1 = (cur - r) / 1e9;
  cur = r * 0x10000 + (lo & 0xffff);
  r = cur % 1e9;
  const q0 = (cur - r) / 1e9;
  const q = (q2 * 0x10000 + q1) * 0x10000 + q0;
  return q === 0 ? String(r) : String(q) + String(r + 1e9).slice(1);
}
