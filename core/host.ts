// The host interface: what a puller calls on the device. An application exposes it by
// re-exporting this module from its entry file:
//
//   export * from "taskscope/core/host";      (or a relative path to core/host)
//
// Names are prefixed `taskscope_` so they cannot clash with the application's own exports.

import { TRANSFER_BYTES } from "./config";
import { FORMAT_VERSION } from "./wire";
import { drainInto, drainPending, transferBuffer, MIN_DRAIN_BYTES } from "./drain";
import { flushRing } from "./ring";
import { setFilter, filter } from "./events";
import { tickHz, lastTicks } from "./clock";
import { resendInfo } from "./session";

/** Wire format version this core speaks. */
export function taskscope_format(): u32 {
  return FORMAT_VERSION;
}

/** Address and size of the core's static transfer buffer (for hosts that read wasm memory). */
export function taskscope_buffer(): usize {
  return transferBuffer();
}

export function taskscope_buffer_size(): u32 {
  return <u32>TRANSFER_BYTES;
}

/** Drains into the transfer buffer; returns the number of bytes written there. */
export function taskscope_drain(): u32 {
  return <u32>drainInto(transferBuffer(), TRANSFER_BYTES);
}

/** Smallest buffer taskscope_drain_into accepts (a chunk or names record plus COUNTERS). */
export function taskscope_min_drain_bytes(): u32 {
  return <u32>MIN_DRAIN_BYTES;
}

/** Drains into a caller-given buffer; 0 if `cap` < taskscope_min_drain_bytes(). */
export function taskscope_drain_into(dst: usize, cap: u32): u32 {
  return <u32>drainInto(dst, <i32>cap);
}

/** 1 while INFO, names or sealed chunks are waiting to be drained. */
export function taskscope_pending(): u32 {
  return drainPending() ? 1 : 0;
}

/** Seals the open chunk so the next drain takes everything recorded so far. */
export function taskscope_flush(): void {
  flushRing();
}

export function taskscope_set_filter(mask: u32): void {
  setFilter(mask);
}

export function taskscope_filter(): u32 {
  return filter;
}

export function taskscope_tick_hz(): u32 {
  return tickHz();
}

/** The last clock reading (extended ticks); does not call the clock. */
export function taskscope_last_ticks(): u64 {
  return lastTicks();
}

/** Sends INFO and every name again on the next drain. */
export function taskscope_resend_info(): void {
  resendInfo();
}
