// How the executor waits when nothing is ready. Under WASI it blocks in poll_oneoff so an idle
// demo costs no CPU; a board build (`--use TASKSCOPE_BOARD_IDLE=1`, firmware-examples/cortex-m)
// calls the board's `board.idle(ticks)`, which services the serial link and sleeps (WFI) until a
// timer interrupt at the deadline or a received byte; a bare device build spins on the clock.
// Either way it records nothing: the executor brackets the whole wait with one
// IDLE_BEGIN/IDLE_END pair, however many times the host wakes us early.

import * as ts from "../../core/index";

// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "poll_oneoff")
declare function poll_oneoff(subscriptions: usize, events: usize, count: u32, eventsOut: usize): u16;

// One clock subscription (48 bytes) and room for its event (32 bytes), in static memory so
// idling never allocates.
const SUBSCRIPTION: usize = memory.data(48, 8);
const EVENT: usize = memory.data(32, 8);
const EVENT_COUNT: usize = memory.data(4, 4);
const CLOCK_MONOTONIC: u32 = 1;
const EVENTTYPE_CLOCK: u8 = 0;

function wasiSleepNs(ns: u64): void {
  memory.fill(SUBSCRIPTION, 0, 48);
  store<u8>(SUBSCRIPTION, EVENTTYPE_CLOCK, 8); // tag; userdata (offset 0) stays 0
  store<u32>(SUBSCRIPTION, CLOCK_MONOTONIC, 16);
  store<u64>(SUBSCRIPTION, ns, 24); // relative timeout: flags (offset 40) = 0
  // An error (or an early return) only means we loop once more and re-read the clock.
  poll_oneoff(SUBSCRIPTION, EVENT, 1, EVENT_COUNT);
}

// @ts-ignore: decorator
@external("board", "idle")
declare function boardIdle(ticks: u64): void;

/** Converts device ticks to nanoseconds without overflowing u64 for long waits. */
export function ticksToNs(ticks: u64): u64 {
  const hz = <u64>ts.tickHz();
  return (ticks / hz) * 1_000_000_000 + ((ticks % hz) * 1_000_000_000) / hz;
}

/** Blocks until the device clock reaches `deadline` (ticks). */
export function waitUntil(deadline: u64): void {
  while (true) {
    const now = ts.now();
    if (now >= deadline) return;
    if (isDefined(ASC_WASI)) {
      // node's poll_oneoff sleeps in whole milliseconds, so the last sub-millisecond is spent
      // in this loop: a few cheap clock reads, which keeps timers within ~20 us.
      wasiSleepNs(ticksToNs(deadline - now));
    } else if (isDefined(TASKSCOPE_BOARD_IDLE)) {
      boardIdle(deadline - now);
    }
  }
}
