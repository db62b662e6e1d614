// The device side of the serial link (docs/FORMAT.md section 7). The host starts every exchange:
// it sends command frames, the device answers; in stream mode the device also sends chunks as
// they fill. Frames are COBS-encoded and end with a CRC-32; they carry the session id and a
// per-session sequence number, and inside them travel the same records a drain produces (section
// 2), so the host's ingest does not care how the bytes came.
//
// The embedding supplies two things:
//   - the byte-write import `taskscope.link_write(ptr, len)` (a blocking UART write, a DMA queue,
//     a pty in the simulator), which this module calls with whole pieces of encoded frames;
//   - calls of `linkReceive(ptr, len)` with the bytes it received. It only decodes and queues
//     commands, so it may run in a UART interrupt handler, as long as that never interrupts
//     linkService itself.
// and calls `linkService()` from its main loop or a task, never from inside a recording call: it
// runs one command or sends one frame per call, and returns true while it has more to do.
//
// Chunks stay in the ring after they are sent (core/ring.ts), so a frame the host reports damaged
// is answered from the ring itself; `drained` counts a chunk once, when it is first sent.
// Nothing here allocates: every buffer is static.

import * as W from "./wire";
import * as ring from "./ring";
import * as names from "./names";
import * as session from "./session";
import { tickHz } from "./clock";
import { CHUNK_COUNT } from "./config";
import { setFilter } from "./events";
import { writeInfo, writeCounters, COUNTERS_RECORD } from "./drain";
import { CRC_INIT, crcByte, crcFinal, crc32 } from "./crc32";

// @ts-ignore: decorator
@external("taskscope", "link_write")
declare function linkWrite(ptr: usize, len: u32): void;

// ---- protocol constants (docs/FORMAT.md section 7; host/link/protocol.ts mirrors them) ----

export const LINK_VERSION: u8 = 1;
export const FRAME_HEADER_BYTES: i32 = 7; // type u8, session u32, seq u16
export const FRAME_CRC_BYTES: i32 = 4;

export const CMD_HELLO: u8 = 0x01;
export const CMD_DUMP: u8 = 0x02;
export const CMD_STREAM: u8 = 0x03;
export const CMD_FILTER: u8 = 0x04;
export const CMD_CLEAR: u8 = 0x05;
export const CMD_STATUS: u8 = 0x06;
export const CMD_ACK: u8 = 0x07;

export const FRAME_HELLO: u8 = 0x81;
export const FRAME_RECORDS: u8 = 0x82;
export const FRAME_STATUS: u8 = 0x83;

export const RESULT_OK: u8 = 0;
export const RESULT_WRONG_SESSION: u8 = 1;
export const RESULT_BAD_COMMAND: u8 = 2;

/** DUMP chunk count meaning "up to the newest chunk" (the open one is sealed first). */
export const DUMP_ALL: u32 = 0xffffffff;

/** Largest command frame accepted, decoded (header + payload + CRC). */
export const RX_FRAME_MAX: i32 = 32;
const CMD_QUEUE: u32 = 4;
/** Smallest frame budget honoured: one chunk record always fits in a frame anyway. */
const MIN_FRAME_BYTES: u32 = 64;

// ---- receiving: COBS decoding into a small frame buffer, checked frames into a queue ----

const RX: usize = memory.data(RX_FRAME_MAX);
let rxLen: i32 = 0;
let rxLeft: i32 = 0; // data bytes left in the current COBS block
let rxZero = false; // the current block ends with an implied zero
let rxBad = false; // this frame is already known bad: skip to the next delimiter
let rxSeen = false; // a byte other than a delimiter arrived since the last delimiter
/** Command frames that failed COBS, length or CRC checks, or found the queue full. */
export let rxDamaged: u32 = 0;

// Single-producer (linkReceive), single-consumer (linkService) queue of checked frames.
const QUEUE: usize = memory.data(<i32>CMD_QUEUE * RX_FRAME_MAX);
const QUEUE_LEN: usize = memory.data(<i32>CMD_QUEUE);
let qWrite: u32 = 0;
let qRead: u32 = 0;

function rxEnd(): void {
  const n = rxLen;
  const ok = !rxBad && rxLeft == 0 && n >= FRAME_HEADER_BYTES + FRAME_CRC_BYTES;
  if (ok && crc32(RX, n - FRAME_CRC_BYTES) == load<u32>(RX + <usize>(n - FRAME_CRC_BYTES))) {
    if (qWrite - qRead < CMD_QUEUE) {
      const slot = qWrite % CMD_QUEUE;
      memory.copy(QUEUE + <usize>(slot * <u32>RX_FRAME_MAX), RX, <usize>n);
      store<u8>(QUEUE_LEN + <usize>slot, <u8>n);
      qWrite++;
    } else rxDamaged++;
  } else if (rxSeen) {
    rxDamaged++; // (two delimiters in a row are not a frame, just a resync)
  }
  rxSeen = false;
  rxLen = 0;
  rxLeft = 0;
  rxZero = false;
  rxBad = false;
}

// @ts-ignore: decorator
@inline function rxPut(b: u8): void {
  if (rxLen >= RX_FRAME_MAX) rxBad = true;
  else {
    store<u8>(RX + <usize>rxLen, b);
    rxLen++;
  }
}

/** Takes bytes received from the host. Decodes and queues commands; executes nothing. Its time
 *  is hidden from device time like linkService's: a receive interrupt may land inside a poll. */
export function linkReceive(p: usize, n: i32): void {
  if (!session.initialized) {
    receiveBytes(p, n);
    return;
  }
  ring.pauseTime();
  receiveBytes(p, n);
  ring.resumeTime();
}

function receiveBytes(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) {
    const b = load<u8>(p + <usize>i);
    if (b == 0) {
      rxEnd();
      continue;
    }
    rxSeen = true;
    if (rxBad) {
      // skip
    } else if (rxLeft == 0) {
      if (rxZero) rxPut(0);
      rxLeft = <i32>b - 1;
      rxZero = b != 0xff;
    } else {
      rxPut(b);
      rxLeft--;
    }
  }
}

// ---- sending: COBS encoding with the code byte patched in place, CRC on the fly ----

const OUT_SIZE: i32 = 512;
const OUT: usize = memory.data(OUT_SIZE);
let outLen: i32 = 0;
let codeAt: i32 = 0;
let txCrc: u32 = 0;
/** Frames sent in this session; the next frame's sequence number (wraps at 2^16). */
let frameSeq: u32 = 0;
let txSession: u32 = 0;
/** Every byte handed to link_write since start-up (delimiters and COBS overhead included). */
export let bytesSent: u64 = 0;

function writeOut(n: i32): void {
  linkWrite(OUT, <u32>n);
  bytesSent += <u64>n;
}

function closeBlock(): void {
  store<u8>(OUT + <usize>codeAt, <u8>(outLen - codeAt));
  if (outLen + 256 > OUT_SIZE) {
    writeOut(outLen);
    outLen = 0;
  }
  codeAt = outLen;
  outLen++;
}

// @ts-ignore: decorator
@inline function cobsPut(b: u8): void {
  if (b == 0) {
    closeBlock();
  } else {
    store<u8>(OUT + <usize>outLen, b);
    outLen++;
    if (outLen - codeAt == 255) closeBlock(); // 254 data bytes: code 0xFF, no implied zero
  }
}

// @ts-ignore: decorator
@inline function txByte(b: u8): void {
  txCrc = crcByte(txCrc, b);
  cobsPut(b);
}

function txBytes(p: usize, n: i32): void {
  for (let i = 0; i < n; i++) txByte(load<u8>(p + <usize>i));
}

function txU16(v: u32): void {
  txByte(<u8>v);
  txByte(<u8>(v >> 8));
}

function txU32(v: u32): void {
  txU16(v & 0xffff);
  txU16(v >> 16);
}

function txBegin(type: u8): void {
  // A delimiter before the frame as well as after it: noise received between two frames then
  // forms a frame of its own instead of spoiling the next one.
  store<u8>(OUT + <usize>outLen, 0);
  codeAt = outLen + 1;
  outLen += 2;
  txCrc = CRC_INIT;
  txByte(type);
  txU32(session.sessionId);
  txU16(frameSeq & 0xffff);
  frameSeq++;
}

function txEnd(): void {
  const crc = crcFinal(txCrc);
  cobsPut(<u8>crc);
  cobsPut(<u8>(crc >> 8));
  cobsPut(<u8>(crc >> 16));
  cobsPut(<u8>(crc >> 24));
  store<u8>(OUT + <usize>codeAt, <u8>(outLen - codeAt));
  store<u8>(OUT + <usize>outLen, 0);
  outLen++;
  writeOut(outLen);
  outLen = 0;
}

// ---- records inside frames ----

const SCRATCH: usize = memory.data(192, 8); // one INFO or COUNTERS record

function txInfoRecord(): void {
  const end = writeInfo(SCRATCH);
  txBytes(SCRATCH, <i32>(end - SCRATCH));
}

function txCountersRecord(): void {
  const end = writeCounters(SCRATCH);
  txBytes(SCRATCH, <i32>(end - SCRATCH));
}

function txChunkRecord(seq: u32): i32 {
  const n = ring.chunkBytes(seq);
  txByte(W.REC_CHUNK);
  txU16(<u32>n);
  txBytes(ring.chunkAddr(seq), n);
  return W.RECORD_HEADER_BYTES + n;
}

/** Sends a NAMES record with the entries from id `first` on that fit in `budget` bytes (at least
 *  one); returns the id after the last one sent, and marks them handed over. */
function txNamesRecord(first: u32, budget: i32): u32 {
  const count = names.namesCount();
  const start = names.entryAddr(first);
  let room = budget - W.RECORD_HEADER_BYTES - 6;
  if (room > 0xffff - 6) room = 0xffff - 6;
  let p = start;
  let id = first;
  let bytes: i32 = 0;
  while (id <= count) {
    const e = names.entryBytes(p);
    if (id > first && bytes + e > room) break;
    bytes += e;
    p += <usize>e;
    id++;
  }
  txByte(W.REC_NAMES);
  txU16(<u32>(6 + bytes));
  txU32(first);
  txU16(id - first);
  txBytes(start, bytes);
  names.markSentThrough(id - 1);
  return id;
}

// ---- the conversation ----

const JOB_NONE: i32 = 0;
const JOB_HELLO: i32 = 1;
const JOB_STATUS: i32 = 2;
const JOB_DUMP: i32 = 3;

let job: i32 = JOB_NONE;
let jobCmd: u32 = 0; // sequence number of the command being answered
let jobType: u8 = 0;
let jobResult: u8 = RESULT_OK;
let dumpName: u32 = 0; // next name id to send
let dumpChunk: u32 = 0; // next chunk seq to send
let dumpEnd: u32 = 0; // chunk seq to stop before
let dumpBudget: u32 = 1024;

let streaming = false;
let streamBudget: u32 = 1024;
// Flow control: in stream mode at most `window` chunks go out beyond the host's acknowledgement
// (ACK: the chunks up to `ackSeq` reached the host, but for gaps it asks for separately). A pulled
// cable then costs at most a window of chunks sent into nothing; the rest stays in the ring,
// unsent, for when it is back.
let ackSeq: u32 = 0;
let window: u32 = 0; // 0: no limit
// The seqs the stream sent, newest last: the window counts chunks sent past the ACK, not chunks
// the ring overwrote before they could be sent (those moved the send cursor without a send).
// (64, or for a small ring the largest power of two it holds: a window never needs more.)
const SENT_LOG: u32 = CHUNK_COUNT >= 64 ? 64 : CHUNK_COUNT >= 32 ? 32 : CHUNK_COUNT >= 16 ? 16 : CHUNK_COUNT >= 8 ? 8 : CHUNK_COUNT >= 4 ? 4 : 2;
const SENT: usize = memory.data(<i32>SENT_LOG * 4, 4);
let sentHead: u32 = 0;
let sentLogged: u32 = 0;
let latencyTicks: u64 = 0;
let statusTicks: u64 = 0;
let lastStatus: u64 = 0;

function msToTicks(ms: u32): u64 {
  return (<u64>ms * <u64>tickHz()) / 1000;
}

function budgetOf(bytes: u32): u32 {
  return bytes < MIN_FRAME_BYTES ? MIN_FRAME_BYTES : bytes;
}

/** A session change (init, or CLEAR) ends the old conversation: sequence numbers restart. */
function followSession(): void {
  if (txSession == session.sessionId) return;
  txSession = session.sessionId;
  frameSeq = 0;
  streaming = false;
  job = JOB_NONE;
}

function sendHello(now: u64): void {
  txBegin(FRAME_HELLO);
  txU16(jobCmd);
  txByte(LINK_VERSION);
  txByte(<u8>RX_FRAME_MAX);
  txU32(<u32>now);
  txU32(<u32>(now >> 32));
  txLinkState();
  txInfoRecord();
  // With the link state's first unsent, `drained` tells the host what earlier connections were
  // handed, so it does not take their events for ones lost on its own link.
  txCountersRecord();
  txEnd();
}

/** flags u8 (bit 0: streaming), names sent u32, first unsent chunk u32, oldest kept chunk u32,
 *  damaged command frames u32: what the host needs to tell a lost frame from one not sent. */
function txLinkState(): void {
  txByte(streaming ? 1 : 0);
  txU32(names.firstUnsentId() - 1);
  txU32(ring.firstUnsentSeq());
  txU32(ring.oldestKeptSeq());
  txU32(rxDamaged);
}

function sendStatus(cmd: u32, type: u8, result: u8, now: u64): void {
  txBegin(FRAME_STATUS);
  txU16(cmd);
  txByte(type);
  txByte(result);
  txLinkState();
  txCountersRecord();
  txEnd();
  lastStatus = now;
}

/** Takes the next queued command and sets up the job that answers it. */
function startCommand(): void {
  const slot = qRead % CMD_QUEUE;
  const f = QUEUE + <usize>(slot * <u32>RX_FRAME_MAX);
  const n = <i32>load<u8>(QUEUE_LEN + <usize>slot) - FRAME_CRC_BYTES;
  const type = load<u8>(f);
  const target = load<u32>(f + 1);
  const p = f + <usize>FRAME_HEADER_BYTES;
  const len = n - FRAME_HEADER_BYTES;
  jobCmd = <u32>load<u16>(f + 5);
  jobType = type;
  jobResult = RESULT_OK;
  job = JOB_STATUS;
  qRead++;
  if (type != CMD_HELLO && target != session.sessionId) {
    // Meant for another session (the device rebooted, or the host is stale): do nothing, and
    // say which session this is (the frame header carries it).
    jobResult = RESULT_WRONG_SESSION;
    if (type == CMD_ACK) job = JOB_NONE;
    return;
  }
  if (type == CMD_HELLO && len == 0) {
    streaming = false; // a new conversation; the host restarts the stream if it wants it
    job = JOB_HELLO;
  } else if (type == CMD_DUMP && len == 14) {
    const count = load<u32>(p + 8);
    dumpName = load<u32>(p);
    if (dumpName == 0) dumpName = 1;
    dumpBudget = budgetOf(<u32>load<u16>(p + 12));
    // Never skip the send cursor: chunks after it have not been sent, so no host holds them.
    let from = load<u32>(p + 4);
    const unsent = ring.firstUnsentSeq();
    if (from - unsent < 0x80000000 && from != unsent) from = unsent;
    if (count == DUMP_ALL) {
      ring.flushRing(); // "everything recorded so far" includes the open chunk
      dumpEnd = ring.headSeq();
    } else {
      dumpEnd = from + count;
    }
    dumpChunk = from;
    job = JOB_DUMP;
  } else if (type == CMD_STREAM && len == 9) {
    streaming = load<u8>(p) != 0;
    streamBudget = budgetOf(<u32>load<u16>(p + 1));
    latencyTicks = msToTicks(<u32>load<u16>(p + 3));
    statusTicks = msToTicks(<u32>load<u16>(p + 5));
    window = <u32>load<u16>(p + 7);
    if (window > SENT_LOG) window = SENT_LOG;
    ackSeq = ring.firstUnsentSeq(); // nothing outstanding yet
    sentLogged = 0;
  } else if (type == CMD_ACK && len == 4) {
    // Cumulative and unanswered: a lost ACK is made good by the next one.
    const next = load<u32>(p);
    if (next - ackSeq < 0x80000000 && ring.firstUnsentSeq() - next < 0x80000000) ackSeq = next;
    job = JOB_NONE;
  } else if (type == CMD_FILTER && len == 4) {
    setFilter(load<u32>(p));
  } else if (type == CMD_CLEAR && len == 0) {
    ring.clearRing();
    session.nextSession();
    followSession(); // the answer already belongs to the new session
    job = JOB_STATUS;
  } else if (type == CMD_STATUS && len == 0) {
    // nothing to do but answer
  } else {
    jobResult = RESULT_BAD_COMMAND;
  }
}

/** One RECORDS frame of a dump: names first, then chunks in order, within the frame budget. */
function dumpStep(now: u64): void {
  // Chunks overwritten since the dump began are gone; the final STATUS says from where.
  const oldest = ring.oldestKeptSeq();
  if (dumpChunk - oldest >= 0x80000000) dumpChunk = oldest;
  if (dumpEnd - ring.headSeq() < 0x80000000 && dumpEnd != ring.headSeq()) {
    // Never past the newest sealed chunk (a resend range may name chunks not recorded yet).
    dumpEnd = ring.headSeq();
  }
  const namesLeft = dumpName <= names.namesCount();
  const chunksLeft = dumpChunk != dumpEnd && dumpEnd - dumpChunk < 0x80000000 && ring.chunkKept(dumpChunk);
  if (!namesLeft && !chunksLeft) {
    sendStatus(jobCmd, jobType, jobResult, now);
    job = JOB_NONE;
    return;
  }
  txBegin(FRAME_RECORDS);
  let used: i32 = 0;
  if (namesLeft) {
    const before = dumpName;
    dumpName = txNamesRecord(dumpName, <i32>dumpBudget);
    used += W.RECORD_HEADER_BYTES + 6 + <i32>(names.entryAddr(dumpName) - names.entryAddr(before));
  }
  // Chunks only once every name is out: a chunk may use any of them.
  if (dumpName > names.namesCount()) {
    while (dumpChunk != dumpEnd && ring.chunkKept(dumpChunk)) {
      const n = W.RECORD_HEADER_BYTES + ring.chunkBytes(dumpChunk);
      if (used > 0 && used + n > <i32>dumpBudget) break;
      used += txChunkRecord(dumpChunk);
      if (dumpChunk == ring.firstUnsentSeq()) ring.releaseOldestChunk();
      dumpChunk++;
    }
  }
  txEnd();
}

/** Record bytes of the unsent sealed chunks, counted up to `limit`. */
function unsentBytes(limit: u32): u32 {
  let bytes: u32 = 0;
  for (let s = ring.firstUnsentSeq(); s != ring.headSeq() && bytes < limit; s++) {
    bytes += <u32>(W.RECORD_HEADER_BYTES + ring.chunkBytes(s));
  }
  return bytes;
}

/** Chunks the window lets out now. */
function windowRoom(): u32 {
  if (window == 0) return 0xffffffff;
  let out: u32 = 0;
  for (let i: u32 = 1; i <= sentLogged; i++) {
    const s = load<u32>(SENT + <usize>(((sentHead - i) % SENT_LOG) << 2));
    if (s - ackSeq >= 0x80000000) break; // before the ACK: arrived
    out++;
  }
  return out >= window ? 0 : window - out;
}

function logSent(seq: u32): void {
  store<u32>(SENT + <usize>((sentHead % SENT_LOG) << 2), seq);
  sentHead++;
  if (sentLogged < SENT_LOG) sentLogged++;
}

/** Stream mode: sends new names and sealed chunks once a frame's worth is waiting, or once the
 *  oldest has waited `latency`; seals a chunk that has been open that long; STATUS now and then. */
function streamStep(now: u64): bool {
  if (latencyTicks > 0 && ring.openChunkHasEvents() && now - ring.openChunkBase() >= latencyTicks) ring.flushRing();
  const room = windowRoom();
  const waiting = room < ring.sealedChunks() ? room : ring.sealedChunks();
  let due = names.unsentNames() > 0;
  if (!due && waiting > 0) {
    due =
      latencyTicks == 0 ||
      unsentBytes(streamBudget) >= streamBudget ||
      now - ring.chunkLastTicks(ring.firstUnsentSeq()) >= latencyTicks ||
      // Half the ring unsent: do not risk overwriting (counted over the ring, not the window: a
      // small ring fills before a frame's worth or the latency has gathered).
      ring.sealedChunks() >= <u32>(CHUNK_COUNT / 2);
  }
  if (due) {
    txBegin(FRAME_RECORDS);
    let used: i32 = 0;
    if (names.unsentNames() > 0) {
      const first = names.firstUnsentId();
      const next = txNamesRecord(first, <i32>streamBudget);
      used += W.RECORD_HEADER_BYTES + 6 + <i32>(names.entryAddr(next) - names.entryAddr(first));
    }
    if (names.unsentNames() == 0) {
      while (ring.sealedChunks() > 0 && windowRoom() > 0) {
        const s = ring.firstUnsentSeq();
        const n = W.RECORD_HEADER_BYTES + ring.chunkBytes(s);
        if (used > 0 && used + n > <i32>streamBudget) break;
        used += txChunkRecord(s);
        ring.releaseOldestChunk();
        logSent(s);
      }
    }
    txEnd();
    return (ring.sealedChunks() > 0 && windowRoom() > 0) || names.unsentNames() > 0;
  }
  if (statusTicks > 0 && now - lastStatus >= statusTicks) sendStatus(0, 0, RESULT_OK, now);
  return false;
}

/** Runs the link: answers one command or sends one frame. Call it from the main loop or a task,
 *  never from inside a recording call (it reads the clock and may seal the open chunk). Returns
 *  true while there is more to do right away. */
export function linkService(): bool {
  if (!session.initialized) return false;
  // The link's own time (encoding, waiting for the UART) is hidden from device time: the
  // device's clock stands still from here to the end of this call (COUNTERS `hidden`).
  const now = ring.pauseTime();
  const more = linkStep(now);
  ring.resumeTime();
  return more;
}

function linkStep(now: u64): bool {
  followSession();
  if (job == JOB_NONE && qRead != qWrite) startCommand();
  if (job == JOB_HELLO) {
    sendHello(now);
    job = JOB_NONE;
  } else if (job == JOB_STATUS) {
    sendStatus(jobCmd, jobType, jobResult, now);
    job = JOB_NONE;
  } else if (job == JOB_DUMP) {
    dumpStep(now);
  } else if (streaming) {
    return streamStep(now) || qRead != qWrite;
  }
  return job != JOB_NONE || qRead != qWrite;
}

/** True while the host has the device streaming. */
export function linkStreaming(): bool {
  return streaming;
}

const INFO_RECORD_MAX: i32 = W.RECORD_HEADER_BYTES + W.INFO_FIXED_BYTES + 2 + 63 + 63;
// @ts-ignore: compile-time error (not assert: --noAssert would remove it)
if (INFO_RECORD_MAX > 192 || COUNTERS_RECORD > 192) ERROR("link scratch buffer too small");
