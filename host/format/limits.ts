// What a device or a file may plausibly claim (FORMAT.md section 8). The decoders check syntax;
// these check values that are well-formed but cannot be true: a time of 2^63 ticks, a counter of
// 2^64 events, counters that go backwards. A value that fails is damage (a flipped bit, a broken
// or hostile device), so it is counted and reported where it was found rather than believed.
// Pure functions: each returns why a value is implausible, or undefined when it is fine.

import type { DeviceCounters, InfoRecord } from "./records.js";
import { ticksToNs } from "./chunk.js";

/** Device ticks are exact in a double below 2^53 (285 years at 1 MHz). */
export const MAX_TICKS = 2 ** 53;
/** Times in ns since the device clock's zero stay below 2^62 (146 years), so a Unix time made
 *  from a session's anchor stays within a few centuries of the anchor and of any date library. */
export const MAX_TIME_NS = 2 ** 62;
/** Event counters: 2^53 events is 285 years at a million events a second. */
export const MAX_COUNT = 2 ** 53;
/** Chunks missing between two stored chunks of a session: more than 2^24 (4 GiB of 256-byte
 *  chunks) is a damaged sequence number, not a loss. */
export const MAX_SEQ_JUMP = 2 ** 24;

const U64_COUNTERS = ["recorded", "drained", "droppedFull", "droppedOverwritten", "now", "firstDrop", "lastDrop"] as const;
const MONOTONIC = ["recorded", "drained", "droppedFull", "droppedOverwritten", "now"] as const;

/** A device time (ticks) that cannot be shown: past 2^53 ticks or 2^62 ns. */
export function timeProblem(ticks: number, tickHz: number): string | undefined {
  if (!(ticks >= 0) || ticks >= MAX_TICKS) return `time of ${formatBig(ticks)} ticks is out of range (at most 2^53)`;
  if (!(ticksToNs(ticks, tickHz) < MAX_TIME_NS)) return `time of ${formatBig(ticks)} ticks at ${tickHz} Hz is more than 146 years`;
  return undefined;
}

/** A tick rate the host can compute with: a positive u32 (INFO's field). */
export function tickHzProblem(tickHz: number): string | undefined {
  if (!Number.isInteger(tickHz) || tickHz <= 0 || tickHz > 0xffffffff) return `tick rate ${tickHz} Hz is not a positive u32`;
  return undefined;
}

/** Counters with a value no device reaches (u64 fields at or above 2^53). */
export function countersProblem(c: DeviceCounters): string | undefined {
  for (const key of U64_COUNTERS) {
    const v = c[key];
    if (!(v >= 0) || v >= MAX_COUNT) return `counter ${key} = ${formatBig(v)} is out of range (at most 2^53)`;
  }
  return undefined;
}

/** Counters of one device session that went backwards since `earlier`. */
export function countersRegression(earlier: DeviceCounters, later: DeviceCounters): string | undefined {
  for (const key of MONOTONIC) {
    if (later[key] < earlier[key]) return `counter ${key} went backwards (${formatBig(earlier[key])} then ${formatBig(later[key])})`;
  }
  return undefined;
}

/** An INFO whose session the host cannot record: no usable clock or ring geometry. */
export function infoProblem(info: InfoRecord): string | undefined {
  const hz = tickHzProblem(info.tickHz);
  if (hz) return hz;
  if (info.chunkCount === 0) return "ring of 0 chunks";
  return undefined;
}

/** A number for a message: integers past 2^53 as the nearest power-ish text, not 1e+21. */
export function formatBig(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Number.isSafeInteger(v) ? String(v) : `~2^${Math.log2(Math.abs(v)).toFixed(1)}`;
}
