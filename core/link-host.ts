// The serial link's host interface, for embeddings that drive the core from outside the module
// (C via wasm2c, or JavaScript): re-export it from the entry file next to core/host,
//
//   export * from "taskscope/core/link-host";
//
// AssemblyScript firmware may instead call linkReceive/linkService (core/link.ts) directly. Only
// modules that re-export this (or use core/link.ts) import `taskscope.link_write`.

import { linkReceive, linkService, bytesSent, rxDamaged } from "./link";
import { LINK_RX_BYTES } from "./config";

const RX_IN_BYTES: i32 = LINK_RX_BYTES;
const RX_IN: usize = memory.data(RX_IN_BYTES);

/** Where to put received bytes before calling taskscope_link_receive (taskscope_link_rx_buffer_size
 *  bytes: 256 unless built with TASKSCOPE_LINK_RX_BYTES). */
export function taskscope_link_rx_buffer(): usize {
  return RX_IN;
}

export function taskscope_link_rx_buffer_size(): u32 {
  return <u32>RX_IN_BYTES;
}

/** Takes `len` received bytes from the rx buffer (decodes and queues commands only). */
export function taskscope_link_receive(len: u32): void {
  linkReceive(RX_IN, <i32>(len < <u32>RX_IN_BYTES ? len : <u32>RX_IN_BYTES));
}

/** Answers one command or sends one frame; 1 while there is more to do right away. */
export function taskscope_link_service(): u32 {
  return linkService() ? 1 : 0;
}

/** Bytes handed to link_write since start-up. */
export function taskscope_link_bytes_sent(): u64 {
  return bytesSent;
}

/** Command frames the device dropped as damaged (or because its queue was full). */
export function taskscope_link_rx_damaged(): u32 {
  return rxDamaged;
}
