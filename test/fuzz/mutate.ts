// The mutation engine of the fuzz harness: a seeded generator and byte-level mutations of the
// kinds damage and hostile input take (flipped bits, values set to the edges of their range,
// u32 and u64 fields moved by 2^31 or set to 2^63, stretches cut, repeated or spliced in from
// another input). A seed's `marks` (item or frame boundaries) let a mutation repeat, drop or swap
// whole items, which is how duplicated chunks and reordered records are made.

import { concatBytes } from "../support/wire-encoder.js";

/** An input to start from, with optional boundaries of its items (offsets, ascending) and hot
 *  spots: where fields start that damage hurts most (CBOR heads, chunk seq and base time, ...). */
export interface Seed {
  bytes: Uint8Array;
  marks?: number[];
  hot?: number[];
}

export interface Mutant {
  bytes: Uint8Array;
  /** The mutation kept the length and only changed bytes in place. */
  inPlace: boolean;
  /** Which mutations were applied, for the report of a failure. */
  ops: string[];
}

/** xorshift128+ on two 32-bit halves: fast, seedable, good enough to place mutations. */
export class Rng {
  private a: number;
  private b: number;

  constructor(seed: number) {
    this.a = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.b = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    let s1 = this.a;
    const s0 = this.b;
    this.a = s0;
    s1 ^= s1 << 23;
    s1 ^= s1 >>> 17;
    s1 ^= s0 ^ (s0 >>> 26);
    this.b = s1 >>> 0;
    return (this.b + s0) >>> 0;
  }

  /** 0 <= n < max */
  below(max: number): number {
    return max <= 1 ? 0 : this.u32() % max;
  }

  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
}

const INTERESTING_BYTES = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x3f, 0x40, 0x58, 0x59, 0x5a, 0x5b, 0x5f, 0x9f, 0xa0, 0xbf, 0xc0, 0xd8, 0xf6, 0xf7, 0xfe];
const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff];
const INTERESTING_U64: bigint[] = [0n, 1n, 1n << 31n, 1n << 32n, 1n << 53n, (1n << 53n) + 1n, 1n << 62n, 1n << 63n, (1n << 64n) - 1n];

/** Makes mutants of seeds. Each mutant gets 1..4 mutations. */
export class Mutator {
  constructor(readonly rng: Rng) {}

  mutate(seed: Seed, others: readonly Seed[], maxBytes = 1 << 20): Mutant {
    const r = this.rng;
    let bytes: Uint8Array = seed.bytes.slice();
    let marks = seed.marks;
    let inPlace = true;
    const ops: string[] = [];
    const count = 1 + r.below(4);
    for (let i = 0; i < count; i++) {
      if (seed.hot && seed.hot.length > 0 && inPlace && r.chance(0.4)) {
        // A field where damage hurts most: its head byte, or the value after it.
        const at = r.pick(seed.hot);
        if (at >= bytes.length) continue;
        const how = r.below(5);
        if (how === 0) bytes[at]! ^= 1 << r.below(8);
        else if (how === 1) bytes[at] = r.pick(INTERESTING_BYTES);
        else if (how === 2) writeU32(bytes, at, r.chance(0.5) ? r.pick(INTERESTING_U32) : (readU32(bytes, at) + 0x80000000) >>> 0);
        else if (how === 3) writeU64(bytes, at, r.pick(INTERESTING_U64));
        else bytes[at + r.below(8)] ^= 0x80 >> r.below(3); // a high bit of a multi-byte value
        ops.push(`hot ${how} at ${at}`);
        continue;
      }
      const op = r.below(16);
      if (bytes.length === 0 && op < 12) {
        bytes = r.chance(0.5) ? seed.bytes.slice() : Uint8Array.from([r.pick(INTERESTING_BYTES)]);
        continue;
      }
      switch (op) {
        case 0:
        case 1:
        case 2: {
          const at = r.below(bytes.length);
          bytes[at]! ^= 1 << r.below(8);
          ops.push(`flip bit at ${at}`);
          break;
        }
        case 3: {
          const at = r.below(bytes.length);
          bytes[at] = r.chance(0.5) ? r.pick(INTERESTING_BYTES) : r.below(256);
          ops.push(`set byte at ${at}`);
          break;
        }
        case 4: {
          const at = r.below(Math.max(1, bytes.length - 3));
          const v = r.chance(0.5) ? r.pick(INTERESTING_U32) : (readU32(bytes, at) + 0x80000000 + r.below(5) - 2) >>> 0;
          writeU32(bytes, at, v);
          ops.push(`u32 at ${at} = ${v}`);
          break;
        }
        case 5: {
          const at = r.below(Math.max(1, bytes.length - 7));
          writeU64(bytes, at, r.pick(INTERESTING_U64));
          ops.push(`u64 at ${at}`);
          break;
        }
        case 6: {
          // Several bits flipped close together (a burst).
          const at = r.below(bytes.length);
          const n = 2 + r.below(8);
          for (let k = 0; k < n && at + k < bytes.length; k++) if (r.chance(0.5)) bytes[at + k]! ^= 1 << r.below(8);
          ops.push(`burst at ${at}`);
          break;
        }
        case 7: {
          const at = r.below(bytes.length);
          const n = 1 + r.below(Math.min(64, bytes.length - at));
          bytes = concat(bytes.subarray(0, at), bytes.subarray(at + n));
          inPlace = false;
          ops.push(`delete ${n} at ${at}`);
          break;
        }
        case 8: {
          const at = r.below(bytes.length + 1);
          const n = 1 + r.below(16);
          const junk = new Uint8Array(n).map(() => (r.chance(0.5) ? r.pick(INTERESTING_BYTES) : r.below(256)));
          bytes = concat(bytes.subarray(0, at), junk, bytes.subarray(at));
          inPlace = false;
          ops.push(`insert ${n} at ${at}`);
          break;
        }
        case 9: {
          const at = r.below(bytes.length);
          bytes = bytes.slice(0, at);
          inPlace = false;
          ops.push(`truncate at ${at}`);
          break;
        }
        case 10: {
          // Repeat a stretch (duplicated data), sometimes many times.
          const at = r.below(bytes.length);
          const n = 1 + r.below(Math.min(512, bytes.length - at));
          const times = r.chance(0.1) ? 1 + r.below(200) : 1;
          const piece = bytes.subarray(at, at + n);
          const parts = [bytes.subarray(0, at + n)];
          for (let k = 0; k < times; k++) parts.push(piece);
          parts.push(bytes.subarray(at + n));
          bytes = concat(...parts);
          inPlace = false;
          ops.push(`repeat ${n} at ${at} x${times}`);
          break;
        }
        case 11: {
          const other = r.pick(others.length > 0 ? others : [seed]).bytes;
          if (other.length === 0) break;
          const from = r.below(other.length);
          const n = 1 + r.below(Math.min(1024, other.length - from));
          const at = r.below(bytes.length + 1);
          bytes = concat(bytes.subarray(0, at), other.subarray(from, from + n), bytes.subarray(at));
          inPlace = false;
          ops.push(`splice ${n} at ${at}`);
          break;
        }
        default: {
          // Whole items, where the seed says where they are (only while nothing moved them).
          if (!marks || marks.length < 2 || !inPlace) {
            const at = r.below(bytes.length);
            bytes[at]! ^= 1 << r.below(8);
            ops.push(`flip bit at ${at}`);
            break;
          }
          const k = r.below(marks.length - 1);
          const start = marks[k]!;
          const end = marks[k + 1]!;
          const item = bytes.slice(start, end);
          if (op === 12 || op === 13) {
            const times = r.chance(0.2) ? 2 + r.below(100) : 1;
            const where = marks[r.below(marks.length)]!;
            const parts = [bytes.subarray(0, where)];
            for (let t = 0; t < times; t++) parts.push(item);
            parts.push(bytes.subarray(where));
            bytes = concat(...parts);
            ops.push(`repeat item ${k} x${times}`);
          } else if (op === 14) {
            bytes = concat(bytes.subarray(0, start), bytes.subarray(end));
            ops.push(`drop item ${k}`);
          } else {
            const j = r.below(marks.length - 1);
            const a = Math.min(k, j);
            const b = Math.max(k, j);
            if (a === b) break;
            const first = bytes.slice(marks[a]!, marks[a + 1]!);
            const second = bytes.slice(marks[b]!, marks[b + 1]!);
            bytes = concat(bytes.subarray(0, marks[a]!), second, bytes.subarray(marks[a + 1]!, marks[b]!), first, bytes.subarray(marks[b + 1]!));
            ops.push(`swap items ${a} ${b}`);
          }
          inPlace = false;
          marks = undefined;
        }
      }
      if (bytes.length > maxBytes) bytes = bytes.slice(0, maxBytes);
    }
    return { bytes, inPlace, ops };
  }
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatBytes(parts);
}

function readU32(b: Uint8Array, at: number): number {
  return ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;
}

function writeU32(b: Uint8Array, at: number, v: number): void {
  for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (v >>> (8 * i)) & 0xff;
}

function writeU64(b: Uint8Array, at: number, v: bigint): void {
  for (let i = 0; i < 8 && at + i < b.length; i++) b[at + i] = Number((v >> BigInt(8 * i)) & 0xffn);
}

/** A decision tape: a byte input read as a stream of choices (running out means "no fault"). */
export class Tape {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.bytes.length;
  }

  byte(): number {
    return this.pos < this.bytes.length ? this.bytes[this.pos++]! : 0;
  }

  u32(): number {
    return (this.byte() | (this.byte() << 8) | (this.byte() << 16) | (this.byte() << 24)) >>> 0;
  }

  /** 0 <= n < max */
  below(max: number): number {
    if (max <= 256) return this.byte() % max;
    return this.u32() % max;
  }
}
