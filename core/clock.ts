// The device clock: an imported free-running 32-bit counter, extended here to 64 bits.
//
// Extension happens on slow paths only (opening a chunk, a large delta, `now()`, a pause): the fast path
// of an event (see events.ts) works on raw 32-bit readings and only accepts deltas below 128
// ticks, so it can never hide a wrap. The counter must be read (any event or `now()`) at least
// once per wrap period.
//
// Every recording call reads the clock before touching ring state, so a host may drain the ring
// from inside its clock callback (the in-process WASI puller does).

// @ts-ignore: decorator
@external("taskscope", "clock")
declare function clockImport(): u32;

// Benchmark builds only (`--use TASKSCOPE_BENCH_CLOCK=1`): a counter inside the module that
// advances 3 ticks per read. It stands in for a device's cycle-counter register, so the figure
// measures the core rather than the JS engine's import call (~6 ns in V8, a few cycles via wasm2c).
// @ts-ignore: compile-time constant supplied by --use
const BENCH_CLOCK: bool = isDefined(TASKSCOPE_BENCH_CLOCK);
let benchTicks: u32 = 0;

// @ts-ignore: decorator
@inline function clockRaw(): u32 {
  if (BENCH_CLOCK) {
    benchTicks += 3;
    return benchTicks;
  }
  return clockImport();
}

/** Raw reading and extended ticks at the last extension. */
let baseRaw: u32 = 0;
let baseTicks: u64 = 0;
let hz: u32 = 1_000_000;

// @ts-ignore: decorator
@inline export function rawClock(): u32 {
  return clockRaw();
}

/** Extends a raw reading (taken after the previous extension) to 64-bit ticks. */
// @ts-ignore: decorator
@inline export function extend(raw: u32): u64 {
  baseTicks += <u64>(raw - baseRaw); // u32 subtraction: correct across one wrap
  baseRaw = raw;
  return baseTicks;
}

/** The last extended reading, without calling the import (safe inside a host callback). */
// @ts-ignore: decorator
@inline export function lastTicks(): u64 {
  return baseTicks;
}

/** The raw reading behind lastTicks(). */
// @ts-ignore: decorator
@inline export function lastRaw(): u32 {
  return baseRaw;
}

/** Starts the clock; returns the first raw reading (device ticks start at that value). */
export function startClock(tickHz: u32): u32 {
  hz = tickHz;
  baseRaw = clockRaw();
  baseTicks = <u64>baseRaw;
  pauseDepth = 0;
  hiddenTicks = 0;
  return baseRaw;
}

// ---- hidden time: the observer's own work does not show in device time ----
//
// While the core services its link or drains on a board (pauseClock .. resumeClock), device time
// stands still: on resume the whole gap is added to the raw references the core measures from, so
// the next reading continues where the pause began. Nothing on the recording path changes (no
// offset is subtracted per reading); the gaps are summed in `hiddenTicks` (COUNTERS `hidden`).
// No event may be recorded and no clock read taken while paused.

/** Device ticks hidden so far (the core's link servicing and drains). */
export let hiddenTicks: u64 = 0;
let pausedRaw: u32 = 0;
let pauseDepth: u32 = 0;

/** Hook: called with the gap on resume, so the ring can shift its own references. */
/** Starts counting hidden time from 0 (a new session). */
export function resetHidden(): void {
  hiddenTicks = 0;
}

/** Freezes device time; returns the device ticks it froze at. Nests. */
export function pauseClock(): u64 {
  if (pauseDepth++ == 0) {
    pausedRaw = clockRaw();
    return extend(pausedRaw);
  }
  return baseTicks;
}

/** Lets device time run again, hiding the time since the matching pauseClock. Returns the gap
 *  (raw ticks) for the ring to shift its references by. */
export function resumeClock(): u32 {
  if (pauseDepth == 0 || --pauseDepth != 0) return 0;
  const gap = clockRaw() - pausedRaw;
  hiddenTicks += <u64>gap;
  baseRaw += gap;
  return gap;
}

// @ts-ignore: decorator
@inline export function tickHz(): u32 {
  return hz;
}
