// The chunked ring: CHUNK_COUNT fixed slots of CHUNK_SIZE bytes in static memory.
// Chunks are numbered by sequence; slot = seq % CHUNK_COUNT. Sealed chunks are the sequence range
// [tail, head); the open chunk (if any) has seq == head. Of the sealed ones, [tail, sendSeq) have
// been handed to the host and stay in their slots until a new chunk needs the slot (so a serial
// link can send one again after a damaged frame), and [sendSeq, head) have not. Every event is
// counted into exactly one of: drained (handed over once), overwritten, pending (see the invariant
// in docs/FORMAT.md); sending a kept chunk again changes no counter.

import { CHUNK_SIZE, CHUNK_COUNT } from "./config";
import { CHUNK_HEADER_BYTES, MODE_OVERWRITE } from "./wire";
import { putU32, putU64 } from "./varint";
import { rawClock, extend, lastTicks, lastRaw, pauseClock, resumeClock, resetHidden } from "./clock";

const RING: usize = memory.data(CHUNK_SIZE * CHUNK_COUNT, 16);
const SLOT_USED: usize = memory.data(CHUNK_COUNT * 2, 2); // u16 bytes used per sealed slot
const SLOT_EVENTS: usize = memory.data(CHUNK_COUNT * 2, 2); // u16 events per sealed slot
const SLOT_LAST: usize = memory.data(CHUNK_COUNT * 8, 8); // u64 ticks of the slot's last event

// Write state of the open chunk. `wend` is the fast-path limit: the chunk's end, or 0 when the
// fast path must not be taken (no chunk open, or the clock moved too far since the last event);
// `chunkEnd` is the real end. With no chunk open both are 0, so any event takes the slow path
// and opens one.
export let wp: usize = 0;
export let wend: usize = 0;
let chunkEnd: usize = 0;
let openBase: usize = 0;
let isOpen = false;
export let openEvents: u32 = 0;

// Time of the last event: its raw reading (the fast path advances it by < 128 ticks per event)
// and the raw/extended pair of the last slow-path event, from which its 64-bit time follows.
export let evRaw: u32 = 0;
let evRawSlow: u32 = 0;
let evTicksSlow: u64 = 0;

// @ts-ignore: decorator
@inline function prevEventTicks(): u64 {
  return evTicksSlow + <u64>(evRaw - evRawSlow);
}

// @ts-ignore: decorator
@inline function noteEventTime(raw: u32, now: u64): void {
  evRaw = raw;
  evRawSlow = raw;
  evTicksSlow = now;
}

/** After a clock reading outside an event (`now()`, a pause): after a long silence a small raw
 *  difference to the next event could be a wrap in disguise (the reading moved the extension's
 *  base past it), so the next event goes through the slow path, which computes its delta in 64
 *  bits. */
// @ts-ignore: decorator
@inline function noteReading(now: u64): u64 {
  if (now - prevEventTicks() >= 0x40000000) wend = 0;
  return now;
}

/** Freezes device time while the core does its own work (link, drain): see clock.ts. Returns
 *  the device ticks it froze at. The pause reads the clock like `now()` does. */
export function pauseTime(): u64 {
  return noteReading(pauseClock());
}

/** Lets device time run again; the pause does not show in any later delta. */
export function resumeTime(): void {
  const gap = resumeClock();
  evRaw += gap;
  evRawSlow += gap;
}

/** Reads the clock outside an event (`now()` for executors). */
export function nowTicks(): u64 {
  return noteReading(extend(rawClock()));
}

let head: u32 = 0; // seq of the open chunk, or of the next chunk to open
let sendSeq: u32 = 0; // seq of the oldest sealed chunk not yet handed to the host
let tail: u32 = 0; // seq of the oldest sealed chunk still in the ring (<= sendSeq)
let mode: u8 = MODE_OVERWRITE;

// Counters (docs/FORMAT.md 2.3). The hot path increments only openEvents; the totals are
// folded in when a chunk is sealed, so `recorded` and `pendingEvents` are functions.
let sealedEvents: u64 = 0; // events in every chunk sealed so far
let pendingSealed: u32 = 0; // events in sealed chunks not yet drained or overwritten
export let drained: u64 = 0;
export let droppedFull: u64 = 0;
export let droppedOverwritten: u64 = 0;
export let chunksOverwritten: u32 = 0;
export let firstDrop: u64 = 0;
export let lastDrop: u64 = 0;

/** The task being polled: written as each chunk's context and used for implicit attribution. */
export let currentTask: u32 = 0;

/** The resource the last resource-bearing event named: written as each chunk's context resource
 *  (wire format 2), so an AWAIT on the same resource can leave it out (AWAIT_SAME). */
export let lastResource: u32 = 0;

// @ts-ignore: decorator
@inline export function setLastResource(res: u32): void {
  lastResource = res;
}

/** Where the last AWAIT's tag byte is and where the event ended: a POLL_PENDING that follows it
 *  directly (the write position is still its end) is merged into it (AWAIT_PENDING). NO_AWAIT
 *  when there is none: never a write position (that is 0 or inside the ring). */
const NO_AWAIT: usize = 1;
export let awaitTagAt: usize = 0;
export let awaitEnd: usize = NO_AWAIT;

// @ts-ignore: decorator
@inline export function noteAwait(tagAt: usize, end: usize): void {
  awaitTagAt = tagAt;
  awaitEnd = end;
}

// @ts-ignore: decorator
@inline export function clearAwait(): void {
  awaitEnd = NO_AWAIT;
}

// @ts-ignore: decorator
@inline export function setCurrentTask(task: u32): void {
  currentTask = task;
}

export function resetRing(ringMode: u8, startRaw: u32): void {
  mode = ringMode;
  wp = 0;
  wend = 0;
  chunkEnd = 0;
  noteEventTime(startRaw, lastTicks());
  isOpen = false;
  openEvents = 0;
  head = 0;
  sendSeq = 0;
  tail = 0;
  sealedEvents = 0;
  pendingSealed = 0;
  drained = 0;
  droppedFull = 0;
  droppedOverwritten = 0;
  chunksOverwritten = 0;
  firstDrop = 0;
  lastDrop = 0;
  currentTask = 0;
  lastResource = 0;
  awaitEnd = NO_AWAIT;
  resetHidden();
}

// @ts-ignore: decorator
@inline function slotAddr(seq: u32): usize {
  return RING + <usize>(seq % <u32>CHUNK_COUNT) * <usize>CHUNK_SIZE;
}

// @ts-ignore: decorator
@inline function noteDrop(at: u64): void {
  if (firstDrop == 0) firstDrop = at;
  lastDrop = at;
}

/** Seals the open chunk so a drain can take it. */
export function sealOpenChunk(): void {
  if (!isOpen) return;
  const slot = <usize>(head % <u32>CHUNK_COUNT);
  store<u16>(SLOT_USED + slot * 2, <u16>(wp - openBase));
  store<u16>(SLOT_EVENTS + slot * 2, <u16>openEvents);
  store<u64>(SLOT_LAST + slot * 8, prevEventTicks());
  sealedEvents += openEvents;
  pendingSealed += openEvents;
  openEvents = 0;
  head++;
  isOpen = false;
  wp = 0;
  wend = 0;
  chunkEnd = 0;
}

/** Seals the open chunk only if it holds events (an empty open chunk stays open). */
export function flushRing(): void {
  if (isOpen && openEvents > 0) sealOpenChunk();
}

function overwriteOldest(): void {
  if (tail != sendSeq) {
    // Already handed to the host: only the copy kept for a resend goes.
    tail++;
    return;
  }
  const slot = <usize>(tail % <u32>CHUNK_COUNT);
  const lost = <u32>load<u16>(SLOT_EVENTS + slot * 2);
  droppedOverwritten += lost;
  pendingSealed -= lost;
  chunksOverwritten++;
  // The lost events lie between this chunk's base and its last event.
  noteDrop(load<u64>(slotAddr(tail) + 4));
  lastDrop = load<u64>(SLOT_LAST + slot * 8);
  tail++;
  sendSeq++;
}

/** Opens a new chunk at `now`; returns the write address, or 0 if stop mode refuses. */
export function openChunk(now: u64): usize {
  sealOpenChunk();
  if (head - tail >= <u32>CHUNK_COUNT) {
    // A slot whose chunk was handed over is free in either mode; an undrained one is not.
    if (mode != MODE_OVERWRITE && tail == sendSeq) return 0;
    overwriteOldest();
  }
  const base = slotAddr(head);
  store<u32>(base, head);
  store<u64>(base + 4, now);
  openBase = base;
  chunkEnd = base + <usize>CHUNK_SIZE;
  wend = chunkEnd;
  wp = putU32(putU32(base + CHUNK_HEADER_BYTES, currentTask), lastResource);
  awaitEnd = NO_AWAIT; // an AWAIT in another chunk is not merged into
  isOpen = true;
  openEvents = 0;
  return wp;
}

/** The slow path of every event: extends the clock reading `raw`, reserves room for fields of
 *  at most `maxFieldBytes` (opening a chunk if needed), writes tag and 64-bit delta. Returns the
 *  address for the fields, or 0 when the event is refused (counted). The reservation assumes a
 *  1-byte delta when the delta is that small, so a chunk is sealed at most a few bytes early. */
export function beginEvent(tag: u8, maxFieldBytes: i32, raw: u32): usize {
  const now = extend(raw);
  const dt = now - prevEventTicks();
  let p = wp;
  const need = <usize>maxFieldBytes + (dt < 0x80 ? 2 : 11);
  if (p + need > chunkEnd) {
    p = openChunk(now);
    if (p == 0) {
      droppedFull++;
      noteDrop(now);
      return 0;
    }
    noteEventTime(raw, now);
    eventTagAt = p;
    store<u8>(p, tag);
    store<u8>(p + 1, 0); // first event of a chunk: no time since its base
    return p + 2;
  }
  noteEventTime(raw, now);
  wend = chunkEnd; // re-enable the fast path if nowTicks turned it off
  eventTagAt = p;
  store<u8>(p, tag);
  return putU64(p + 1, dt);
}

/** Address of the tag byte of the last event beginEvent started. */
export let eventTagAt: usize = 0;

/** Commits an event whose fields end at `p`; a compact form counts as the `events` it stands
 *  for. */
// @ts-ignore: decorator
@inline export function endEvent(p: usize, events: u32 = 1): void {
  wp = p;
  openEvents += events;
}

/** Commits a fast-path event (see events.ts): written in the open chunk, delta < 128 ticks. */
// @ts-ignore: decorator
@inline export function commitFast(end: usize, raw: u32, events: u32 = 1): void {
  wp = end;
  evRaw = raw;
  openEvents += events;
}

/** Counts an event merged into the one before it (no bytes written, no clock read). */
// @ts-ignore: decorator
@inline export function countMerged(): void {
  openEvents++;
}

/** Events written into the ring since init. */
export function recordedEvents(): u64 {
  return sealedEvents + <u64>openEvents;
}

/** Events still in the ring: the open chunk plus sealed chunks not yet drained. */
export function pendingEvents(): u32 {
  return pendingSealed + openEvents;
}

// --- reading side (drain) ---

/** Sealed chunks not yet handed to the host. */
export function sealedChunks(): u32 {
  return head - sendSeq;
}

export function nextSeq(): u32 {
  return isOpen ? head + 1 : head;
}

/** Bytes of the oldest sealed chunk not yet handed over (header + events). Call only if
 *  sealedChunks() > 0. */
export function oldestChunkBytes(): i32 {
  return chunkBytes(sendSeq);
}

export function oldestChunkAddr(): usize {
  return slotAddr(sendSeq);
}

/** Marks the oldest chunk not yet handed over as handed to the host (it stays in its slot). */
export function releaseOldestChunk(): void {
  const n = <u32>load<u16>(SLOT_EVENTS + <usize>(sendSeq % <u32>CHUNK_COUNT) * 2);
  drained += n;
  pendingSealed -= n;
  sendSeq++;
}

// --- kept chunks (serial link) ---

/** Seq of the oldest sealed chunk still in the ring, sent or not. */
export function oldestKeptSeq(): u32 {
  return tail;
}

/** Seq of the oldest sealed chunk not yet handed to the host (= head when none). */
export function firstUnsentSeq(): u32 {
  return sendSeq;
}

/** Seq the open chunk has, or the next chunk will get. */
export function headSeq(): u32 {
  return head;
}

/** True if chunk `seq` is sealed and still in the ring. */
export function chunkKept(seq: u32): bool {
  return seq - tail < head - tail;
}

/** Bytes of sealed chunk `seq` (header + events); call only if chunkKept(seq). */
export function chunkBytes(seq: u32): i32 {
  return <i32>load<u16>(SLOT_USED + <usize>(seq % <u32>CHUNK_COUNT) * 2);
}

export function chunkAddr(seq: u32): usize {
  return slotAddr(seq);
}

/** Ticks of the last event of sealed chunk `seq` (about when it was sealed). */
export function chunkLastTicks(seq: u32): u64 {
  return load<u64>(SLOT_LAST + <usize>(seq % <u32>CHUNK_COUNT) * 8);
}

/** Ticks when the open chunk was opened, and whether one is open with events in it. */
export function openChunkHasEvents(): bool {
  return isOpen && openEvents > 0;
}

export function openChunkBase(): u64 {
  return load<u64>(openBase + 4);
}

/** Drops every chunk, open or sealed, and restarts the counters and sequence numbers (a host's
 *  CLEAR: the next session starts empty). */
export function clearRing(): void {
  resetRing(mode, lastRaw());
}

export function ringMode(): u8 {
  return mode;
}
