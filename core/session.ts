// Start-up: ring mode, tick rate, identity. The only place that writes the INFO fields.

import * as W from "./wire";
import { startClock, lastTicks } from "./clock";
import { resetRing } from "./ring";
import { resetNames, utf8Encode, validUtf8 } from "./names";
import { resetEventState, setFilter } from "./events";

const IDENT_MAX: i32 = 63;
const DEVICE: usize = memory.data(IDENT_MAX + 1);
const FIRMWARE: usize = memory.data(IDENT_MAX + 1);
export let deviceLen: i32 = 0;
export let firmwareLen: i32 = 0;
export let sessionId: u32 = 0;
export let infoDue = false;
export let initialized = false;

export function deviceAddr(): usize {
  return DEVICE;
}

export function firmwareAddr(): usize {
  return FIRMWARE;
}

export function infoSent(): void {
  infoDue = false;
}

/** Starts (or restarts) recording. `mode` is MODE_OVERWRITE or MODE_STOP; `tickHz` the
 *  frequency of the imported clock; `session` identifies this boot (0: derive one from the clock,
 *  which is only as unique as the clock's value at start-up; pass a random or stored boot
 *  counter where the device has one). Every category is on afterwards. */
export function init(mode: u8, tickHz: u32, device: string, firmware: string, session: u32 = 0): void {
  deviceLen = utf8Encode(device, DEVICE, IDENT_MAX);
  firmwareLen = utf8Encode(firmware, FIRMWARE, IDENT_MAX);
  start(mode, tickHz, session);
}

/** Sets the device (`which` 0) or firmware (1) name from `n` UTF-8 bytes at `p` (a foreign
 *  caller's; cut to 63 bytes at a character boundary, invalid sequences replaced). Call before
 *  start(). */
export function setIdentity(which: u32, p: usize, n: u32): void {
  const len = validUtf8(p, n > <u32>IDENT_MAX ? IDENT_MAX + 1 : <i32>n, IDENT_MAX);
  memory.copy(which == 0 ? DEVICE : FIRMWARE, p, <usize>len);
  if (which == 0) deviceLen = len;
  else firmwareLen = len;
}

/** init() with the identity already set (setIdentity). */
export function start(mode: u8, tickHz: u32, session: u32 = 0): void {
  const raw = startClock(tickHz);
  resetRing(mode, raw);
  resetNames();
  resetEventState();
  // Mix the start-up tick so two boots are unlikely to share an id.
  sessionId = session != 0 ? session : mixId(<u32>lastTicks());
  infoDue = true;
  initialized = true;
  setFilter(W.CAT_ALL);
}

/** A 32-bit mix (never 0) for session ids. */
function mixId(seed: u32): u32 {
  let x = seed ^ 0x9e3779b9;
  x ^= x >> 16;
  x *= 0x7feb352d;
  x ^= x >> 15;
  return x == 0 ? 1 : x;
}

/** Starts a new session without a reboot (a link host's CLEAR): a new id, INFO and every name
 *  due again. The caller empties the ring. */
export function nextSession(): void {
  const old = sessionId;
  let id = mixId(old + <u32>lastTicks());
  if (id == old) id = mixId(id);
  sessionId = id;
  infoDue = true;
  resetNames();
}

/** Asks for INFO and the whole names table again on the next drain (a host that lost them). */
export function resendInfo(): void {
  infoDue = true;
  resetNames();
}
