// Drain: copies records (docs/FORMAT.md section 2) into a caller-given buffer. It never reads the
// clock and never blocks recording, so a host may call it from inside its clock callback.

import * as W from "./wire";
import { CHUNK_SIZE, CHUNK_COUNT, NAMES_BYTES, MAX_TASKS, TRANSFER_BYTES } from "./config";
import { lastTicks, tickHz, hiddenTicks } from "./clock";
import * as ring from "./ring";
import * as names from "./names";
import * as session from "./session";
import { filter } from "./events";
import { namesDropped } from "./names";

// (TASKSCOPE_TRANSFER_BYTES=0: no transfer buffer, for firmware that only uses the serial link.)
const TRANSFER: usize = memory.data(TRANSFER_BYTES > 0 ? TRANSFER_BYTES : 8, 8);

export function transferBuffer(): usize {
  return TRANSFER;
}

// @ts-ignore: decorator
@inline export function recordHeader(p: usize, type: u8, len: i32): usize {
  store<u8>(p, type);
  store<u16>(p + 1, <u16>len);
  return p + W.RECORD_HEADER_BYTES;
}

/** Writes the INFO record (header included) at `p`; returns the end. */
export function writeInfo(p: usize): usize {
  const len = W.INFO_FIXED_BYTES + 2 + session.deviceLen + session.firmwareLen;
  p = recordHeader(p, W.REC_INFO, len);
  store<u32>(p, 0x50435354); // "TSCP" read as little-endian u32
  store<u8>(p + 4, W.FORMAT_VERSION);
  store<u8>(p + 5, ring.ringMode());
  store<u16>(p + 6, <u16>CHUNK_SIZE);
  store<u32>(p + 8, <u32>CHUNK_COUNT);
  store<u32>(p + 12, <u32>NAMES_BYTES);
  store<u32>(p + 16, <u32>MAX_TASKS);
  store<u32>(p + 20, tickHz());
  store<u32>(p + 24, filter);
  store<u32>(p + 28, session.sessionId);
  p += W.INFO_FIXED_BYTES;
  store<u8>(p, <u8>session.deviceLen);
  memory.copy(p + 1, session.deviceAddr(), <usize>session.deviceLen);
  p += 1 + <usize>session.deviceLen;
  store<u8>(p, <u8>session.firmwareLen);
  memory.copy(p + 1, session.firmwareAddr(), <usize>session.firmwareLen);
  return p + 1 + <usize>session.firmwareLen;
}

export function infoBytes(): i32 {
  return W.RECORD_HEADER_BYTES + W.INFO_FIXED_BYTES + 2 + session.deviceLen + session.firmwareLen;
}

/** Writes a NAMES record with as many unsent entries as fit before `limit`. */
function writeNames(p: usize, limit: usize): usize {
  const first = names.firstUnsentAddr();
  const room = <i32>(limit - p) - W.RECORD_HEADER_BYTES - 6;
  let q = first;
  let n: u32 = 0;
  let bytes: i32 = 0;
  const unsent = names.unsentNames();
  while (n < unsent) {
    const e = names.entryBytes(q);
    if (bytes + e > room || bytes + e > 0xffff - 6) break;
    bytes += e;
    q += <usize>e;
    n++;
  }
  if (n == 0) return p;
  p = recordHeader(p, W.REC_NAMES, 6 + bytes);
  store<u32>(p, names.firstUnsentId());
  store<u16>(p + 4, <u16>n);
  memory.copy(p + 6, first, <usize>bytes);
  names.markNamesSent(n, bytes);
  return p + 6 + <usize>bytes;
}

/** Writes the COUNTERS record (header included) at `p`; returns the end. */
export function writeCounters(p: usize): usize {
  p = recordHeader(p, W.REC_COUNTERS, W.COUNTERS_BYTES);
  store<u64>(p, ring.recordedEvents());
  store<u64>(p + 8, ring.drained);
  store<u64>(p + 16, ring.droppedFull);
  store<u64>(p + 24, ring.droppedOverwritten);
  store<u32>(p + 32, ring.chunksOverwritten);
  store<u32>(p + 36, namesDropped);
  store<u32>(p + 40, ring.nextSeq());
  store<u32>(p + 44, ring.pendingEvents());
  store<u64>(p + 48, lastTicks());
  store<u64>(p + 56, ring.firstDrop);
  store<u64>(p + 64, ring.lastDrop);
  store<u64>(p + 72, hiddenTicks);
  return p + W.COUNTERS_BYTES;
}

export const COUNTERS_RECORD: i32 = W.RECORD_HEADER_BYTES + W.COUNTERS_BYTES;
const LONGEST_NAMES_RECORD: i32 = W.RECORD_HEADER_BYTES + 6 + 2 + 255;
const LONGEST_CHUNK_RECORD: i32 = W.RECORD_HEADER_BYTES + CHUNK_SIZE;

/** The smallest buffer a drain accepts: room for the largest single record plus COUNTERS, so
 *  every drain makes progress. */
export const MIN_DRAIN_BYTES: i32 =
  (LONGEST_CHUNK_RECORD > LONGEST_NAMES_RECORD ? LONGEST_CHUNK_RECORD : LONGEST_NAMES_RECORD) + COUNTERS_RECORD;

// @ts-ignore: compile-time error (not assert: --noAssert would remove it)
if (TRANSFER_BYTES != 0 && TRANSFER_BYTES < MIN_DRAIN_BYTES) ERROR("TASKSCOPE_TRANSFER_BYTES must be at least max(TASKSCOPE_CHUNK_SIZE + 3, 266) + 83, or 0 (no transfer buffer)");

/** Drains into [dst, dst + cap): INFO if due, new names, whole sealed chunks, COUNTERS.
 *  Returns the bytes written, or 0 before `init` and if `cap` is below MIN_DRAIN_BYTES (nothing is
 *  written: a smaller buffer could stall on a record that never fits). */
export function drainInto(dst: usize, cap: i32): i32 {
  // Nothing before init: the host must see INFO before anything that belongs to a session.
  if (cap < MIN_DRAIN_BYTES || !session.initialized) return 0;
  const limit = dst + <usize>(cap - COUNTERS_RECORD); // COUNTERS always fits after the rest
  let p = dst;
  if (session.infoDue && p + <usize>infoBytes() <= limit) {
    p = writeInfo(p);
    session.infoSent();
  }
  if (!session.infoDue) {
    // Names go before the chunks that use them; chunks wait until all names are out.
    p = writeNames(p, limit);
    if (names.unsentNames() == 0) {
      while (ring.sealedChunks() > 0) {
        const n = ring.oldestChunkBytes();
        if (p + <usize>(W.RECORD_HEADER_BYTES + n) > limit) break;
        p = recordHeader(p, W.REC_CHUNK, n);
        memory.copy(p, ring.oldestChunkAddr(), <usize>n);
        p += <usize>n;
        ring.releaseOldestChunk();
      }
    }
  }
  return <i32>(writeCounters(p) - dst);
}

/** drainInto for a board: the drain's own time is hidden from device time (COUNTERS `hidden`).
 *  Not for a host that drains from inside its clock callback (it must not read the clock). */
export function drainHidden(dst: usize, cap: i32): i32 {
  ring.pauseTime();
  const n = drainInto(dst, cap);
  ring.resumeTime();
  return n;
}

/** True while a drain would still hand over something (INFO, names or a sealed chunk). */
export function drainPending(): bool {
  if (!session.initialized) return false;
  return session.infoDue || names.unsentNames() > 0 || ring.sealedChunks() > 0;
}
