// Device time to wall-clock time for one session. Decoded event times are ns since the device
// clock's zero (FORMAT.md section 5); the session's anchor says which Unix time one tick reading
// was taken at. Exact to the nanosecond: the arithmetic is done in BigInt on whole ticks.

import { ticksToNs } from "../format/chunk.js";
import type { ClockAnchor } from "../tracefile/schema.js";

const NS_PER_S = 1_000_000_000;
const NS_PER_S_BIG = 1_000_000_000n;
const TWO_32 = 0x1_0000_0000;

export class SessionClock {
  private readonly perTick: number;
  /** Unix ns of device time zero, when tick_hz divides 1e9 (the common case: 1 MHz, 1 GHz). */
  private readonly zeroUnixNs: bigint | undefined;
  private readonly hz: bigint;
  private readonly anchorTicks: bigint;
  /** zeroUnixNs as two 32-bit halves, when it is in [0, 2^64) (plain-number arithmetic). */
  private readonly zeroLo: number | undefined;
  private readonly zeroHi: number;

  constructor(
    private readonly anchor: ClockAnchor,
    private readonly tickHz: number,
  ) {
    if (!(tickHz > 0) || !Number.isInteger(tickHz)) throw new RangeError(`tick_hz must be a positive integer, got ${tickHz}`);
    this.perTick = NS_PER_S / tickHz;
    this.hz = BigInt(tickHz);
    this.anchorTicks = BigInt(anchor.ticks);
    this.zeroUnixNs = Number.isInteger(this.perTick) ? anchor.unixNs - this.anchorTicks * BigInt(this.perTick) : undefined;
    const z = this.zeroUnixNs;
    const exact = z !== undefined && z >= 0n && z < 1n << 64n;
    this.zeroLo = exact ? Number(z & 0xffffffffn) : undefined;
    this.zeroHi = exact ? Number(z >> 32n) : 0;
  }

  /**
   * Unix ns of `t` as two 32-bit halves, `out[0]` low and `out[1]` high (what a protobuf fixed64
   * takes), exact, with no BigInt on the common path (tick_hz dividing 1e9, t a whole ns count).
   */
  unixHalves(t: number, out: number[]): void {
    if (this.zeroLo !== undefined && Number.isInteger(t) && t >= 0 && t <= Number.MAX_SAFE_INTEGER) {
      const tHi = Math.floor(t / TWO_32);
      const lo = this.zeroLo + (t - tHi * TWO_32);
      const carry = lo >= TWO_32 ? 1 : 0;
      out[0] = lo - carry * TWO_32;
      out[1] = (this.zeroHi + tHi + carry) % TWO_32;
      return;
    }
    const ns = BigInt.asUintN(64, this.unixNs(t));
    out[0] = Number(ns & 0xffffffffn);
    out[1] = Number(ns >> 32n);
  }

  /**
   * Unix ns of a decoded time `t`: anchor.unixNs + (ticks - anchor.ticks) * 1e9 / tick_hz, rounded
   * down to a whole ns when tick_hz does not divide 1e9.
   */
  unixNs(t: number): bigint {
    if (this.zeroUnixNs !== undefined) return this.zeroUnixNs + BigInt(Math.round(t));
    const delta = (this.ticksOf(t) - this.anchorTicks) * NS_PER_S_BIG;
    return this.anchor.unixNs + floorDiv(delta, this.hz);
  }

  /** Whole device ticks of a decoded time (undoes ticksToNs, whose result is within a tick). */
  ticksOf(t: number): bigint {
    if (Number.isInteger(this.perTick)) return BigInt(Math.round(t / this.perTick));
    const seconds = Math.floor(t / NS_PER_S);
    const rest = Math.round(((t - seconds * NS_PER_S) * this.tickHz) / NS_PER_S);
    return BigInt(seconds) * this.hz + BigInt(rest);
  }

  /**
   * Unix ns of device time zero minus `base`, as a number, when that is exact (tick_hz divides
   * 1e9 and the difference is below 2^53): then `offset + t` is the time since `base` in plain
   * arithmetic, which the Perfetto export does for every event.
   */
  offsetFrom(base: bigint): number | undefined {
    if (this.zeroUnixNs === undefined) return undefined;
    const d = this.zeroUnixNs - base;
    return d <= BigInt(Number.MAX_SAFE_INTEGER) && d >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(d) : undefined;
  }

  /** Decoded time of the anchor itself (ns since the device clock's zero). */
  get anchorNs(): number {
    return ticksToNs(this.anchor.ticks, this.tickHz);
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** OpenTelemetry HrTime ([seconds, nanoseconds]) of a Unix ns value. */
export function hrTime(unixNs: bigint): [number, number] {
  const s = unixNs / NS_PER_S_BIG;
  const ns = unixNs % NS_PER_S_BIG;
  return ns < 0n ? [Number(s - 1n), Number(ns + NS_PER_S_BIG)] : [Number(s), Number(ns)];
}
