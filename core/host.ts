// The host interface: what a puller calls on the device. An application exposes it by
// re-exporting this module from its entry file:
//
//   export * from "taskscope/core/host";      (or a relative path to core/host)
//
// Names are prefixed `taskscope_` so they cannot clash with the application's own exports.

import { TRANSFER_BYTES, CHUNK_COUNT } from "./config";
import { FORMAT_VERSION } from "./wire";
import { drainInto, drainPending, transferBuffer, MIN_DRAIN_BYTES } from "./drain";
import { flushRing, currentTask, sealedChunks } from "./ring";
import { setFilter, filter, executorIdle } from "./events";
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

/** Where the executor is, for a host that drains from inside its clock callback and wants the
 *  drain's time to land where it distorts nothing: 2 idle, 1 between polls, 0 inside a poll. */
export function taskscope_drain_hint(): u32 {
  if (executorIdle) return 2;
  return currentTask == 0 ? 1 : 0;
}

/** Sealed chunks waiting to be handed over, out of taskscope_chunk_count(). */
export function taskscope_unsent_chunks(): u32 {
  return sealedChunks();
}

export function taskscope_chunk_count(): u32 {
  return <u32>CHUNK_COUNT;
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
