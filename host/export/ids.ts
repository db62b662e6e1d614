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
// hash per span cost a third of the export's time.

import * as crypto from "node:crypto";
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
    return new TaskIds(sha256(concat(this.digest, `task=${id}.${incarnation}`)));
  }
}

export class TaskIds {
  readonly spanId: Uint8Array;

  constructor(private readonly digest: Uint8Array) {
    this.spanId = nonZero(copy(digest, 0, 8));
  }

  /** The span of the task's n-th poll (n from 1). */
  poll(n: number): Uint8Array {
    const id = copy(this.digest, 0, 8);
    xorMix(id, 0, n, 0);
    return nonZero(id);
  }

  /** The span of part `part` (2, 3, ...) of the task's n-th poll, split where its parent ended. */
  pollPart(n: number, part: number): Uint8Array {
    const id = copy(this.digest, 8, 16);
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

/** An all-zero id is invalid in OTLP; a digest gives one with probability 2^-64 at worst. */
function nonZero(id: Uint8Array): Uint8Array {
  for (let i = 0; i < id.length; i++) if (id[i] !== 0) return id;
  id[id.length - 1] = 1;
  return id;
}
