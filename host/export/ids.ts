// Deterministic trace and span ids: exporting the same file twice gives the same ids, so a
// re-export replaces rather than duplicates what a backend already holds. The scheme
// ("taskscope-otlp-ids/2", docs/EXPORT.md "Ids"):
//
//   F = SHA-256("taskscope-otlp-ids/2" NUL "created=<header.created>")         the file
//   S = SHA-256(F "session=<index>/<device session id>")                       each session
//   T = SHA-256(S "task=<task id>.<incarnation>")                               each task incarnation
//
// Session: trace id S[0..16], span id S[16..24]. Flow f: trace id S[0..16] XOR (M(f+1), M'(f+1)),
// span id S[16..24] XOR M(f+1). Task: span id T[0..8]; its n-th poll T[0..8] XOR M(n), part k >= 2
// of a split poll T[8..16] XOR M'(16 n + k); its n-th flow-enter span T[8..16] XOR M(n). M and M' map a 32-bit number one-to-one to 64 bits (M(n) is
// 0 only for n = 0), so ids derived from one digest never repeat, and ids from different digests
// collide only by chance (2^-64). One SHA-256 per task incarnation, none per poll or request: a
// hash per span cost a third of the export's time. The per-task digest is computed here in
// JavaScript (sha256.ts), into reused buffers: node:crypto's call, its Buffer and the encoded
// text cost three times the hash itself, ~0.9 s of CPU on a 10 M-event spawn-per-request trace.

import * as crypto from "node:crypto";
import { Sha256 } from "./sha256.js";
import type { TraceHeader } from "../tracefile/schema.js";

const SCHEME = "taskscope-otlp-ids/2";
const encoder = new TextEncoder();

export class IdScheme {
  private readonly file: Uint8Array;

  /** `identity` names the trace file: its header's creation time. */
  constructor(identity: string) {
    this.file = sha256(encoder.encode(`${SCHEME}\0${identity}`));
  }

  static forHeader(header: TraceHeader): IdScheme {
    return new IdScheme(`created=${header.created}`);
  }

  session(index: number, deviceSession: number): SessionIds {
    return new SessionIds(sha256(concat(this.file, `session=${index}/${deviceSession}`)));
  }
}

export class SessionIds {
  readonly traceId: Uint8Array;
  readonly spanId: Uint8Array;

  constructor(private readonly digest: Uint8Array) {
    this.traceId = nonZero(copy(digest, 0, 16));
    this.spanId = nonZero(copy(digest, 16, 24));
  }

  flowTraceId(flow: number): Uint8Array {
    const id = copy(this.digest, 0, 16);
    xorMix(id, 0, flow + 1, 0);
    xorMix(id, 8, flow + 1, 1);
    return nonZero(id);
  }

  flowSpanId(flow: number): Uint8Array {
    const id = copy(this.digest, 16, 24);
    xorMix(id, 0, flow + 1, 0);
    return nonZero(id);
  }

  task(id: number, incarnation: number): TaskIds {
    return new TaskIds(taskDigest(this.digest, id, incarnation));
  }
}

export class TaskIds {
  readonly spanId: Uint8Array;

  /** `digest`: T's first 16 bytes (all the ids use). */
  constructor(private readonly digest: Uint8Array) {
    this.spanId = nonZero(copy(digest, 0, 8));
  }

  /** The span of the task's n-th poll (n from 1), in `into` if given. */
  poll(n: number, into: Uint8Array = new Uint8Array(8)): Uint8Array {
    const id = copyInto(this.digest, 0, into);
    xorMix(id, 0, n, 0);
    return nonZero(id);
  }

  /** The span of part `part` (2, 3, ...) of the task's n-th poll, split where its parent ended
   *  (in `into` if given). */
  pollPart(n: number, part: number, into: Uint8Array = new Uint8Array(8)): Uint8Array {
    const id = copyInto(this.digest, 8, into);
    xorMix(id, 0, n * 16 + (part & 15), 1);
    return nonZero(id);
  }

  /** The span of the task's n-th stay in a flow it entered (n from 1). */
  segment(n: number): Uint8Array {
    const id = copy(this.digest, 8, 16);
    xorMix(id, 0, n, 0);
    return nonZero(id);
  }
}

/** The digest as a plain Uint8Array (whose slice() copies: a Buffer's would share). crypto.hash
 *  (Node >= 20.12) is the same digest at half the cost of a Hash object. */
const sha256: (data: Uint8Array) => Uint8Array =
  typeof crypto.hash === "function"
    ? (data) => new Uint8Array(crypto.hash("sha256", data, "buffer") as unknown as Uint8Array)
    : (data) => new Uint8Array(crypto.createHash("sha256").update(data).digest());

function concat(digest: Uint8Array, text: string): Uint8Array {
  const tail = encoder.encode(text);
  const out = new Uint8Array(digest.length + tail.length);
  out.set(digest);
  out.set(tail, digest.length);
  return out;
}

const taskHash = new Sha256();
const taskMessage = new Uint8Array(32 + 5 + 2 * 16 + 1);
const TASK = [0x74, 0x61, 0x73, 0x6b, 0x3d]; // "task="

/** T[0..16] of S and "task=<id>.<incarnation>". */
function taskDigest(session: Uint8Array, id: number, incarnation: number): Uint8Array {
  const m = taskMessage;
  m.set(session);
  let n = 32;
  for (const c of TASK) m[n++] = c;
  n = writeDecimal(m, n, id);
  if (n > 0) {
    m[n++] = 0x2e; // "."
    n = writeDecimal(m, n, incarnation);
  }
  if (n < 0) return sha256(concat(session, `task=${id}.${incarnation}`)).slice(0, 16); // not a plain count: never in a trace
  const out = new Uint8Array(16);
  taskHash.digest(m, n, out);
  return out;
}

/** The decimal digits of a whole number below 10^16 at `at` (as `${value}` writes it); returns
 *  the end, or -1 for any other number. */
function writeDecimal(m: Uint8Array, at: number, value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0 && value < 1e16)) return -1;
  let digits = 1;
  for (let x = value; x >= 10; x = Math.floor(x / 10)) digits++;
  let p = at + digits;
  let v = value;
  do {
    m[--p] = 0x30 + (v % 10);
    v = Math.floor(v / 10);
  } while (v > 0);
  return at + digits;
}

/** XORs 8 bytes at `at` with M(n) (variant 0) or M'(n) (variant 1). */
function xorMix(id: Uint8Array, at: number, n: number, variant: 0 | 1): void {
  const v = n >>> 0;
  const lo = variant === 0 ? fmix32(v) : fmix32((v ^ 0x85ebca6b) >>> 0);
  const hi = fmix32((v + (variant === 0 ? 0x9e3779b9 : 0xc2b2ae35)) >>> 0);
  id[at] ^= lo & 0xff;
  id[at + 1] ^= (lo >>> 8) & 0xff;
  id[at + 2] ^= (lo >>> 16) & 0xff;
  id[at + 3] ^= lo >>> 24;
  id[at + 4] ^= hi & 0xff;
  id[at + 5] ^= (hi >>> 8) & 0xff;
  id[at + 6] ^= (hi >>> 16) & 0xff;
  id[at + 7] ^= hi >>> 24;
}

/** MurmurHash3's 32-bit finalizer: a bijection on 32-bit numbers, 0 only for 0. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Bytes `from` to `to` of a digest as a new array. A small Uint8Array made by length lives on
 *  the V8 heap; slice() gives it an ArrayBuffer of its own with a backing store outside it, which
 *  costs an allocation and a finalizer per id (a span id per poll: the most objects the export
 *  made after the model's). */
function copy(digest: Uint8Array, from: number, to: number): Uint8Array {
  const id = new Uint8Array(to - from);
  for (let i = from; i < to; i++) id[i - from] = digest[i]!;
  return id;
}

function copyInto(digest: Uint8Array, from: number, id: Uint8Array): Uint8Array {
  for (let i = 0; i < id.length; i++) id[i] = digest[from + i]!;
  return id;
}

/** An all-zero id is invalid in OTLP; a digest gives one with probability 2^-64 at worst. */
function nonZero(id: Uint8Array): Uint8Array {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return id;
  id[id.length - 1] = 1;
  return id;
}
