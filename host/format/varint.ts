// LEB128 and little-endian readers over a Uint8Array. They share a Cursor (one small object per
// decode call) instead of returning {value, next} pairs, so the hot loops allocate nothing.
// Values come back as JS numbers: u64 quantities are exact up to 2^53 and rounded (once, to
// the nearest double) beyond; FORMAT.md section 5 accepts that for the decoded view.

import { DecodeError } from "./errors.js";
import { MAX_VARINT32_BYTES, MAX_VARINT64_BYTES } from "./spec.js";

/** The reading position in `bytes`, advanced by every read. */
export interface Cursor {
  pos: number;
}

const TWO_POW_32 = 4294967296;

/** Reason of the DecodeError for a varint cut off by the end of its buffer (callers reword it). */
export const TRUNCATED_VARINT = "truncated varint";

/** Unsigned LEB128 of at most 5 bytes whose value fits in u32. */
export function readVarU32(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): number {
  const p = cur.pos;
  if (p < end) {
    const b = bytes[p]!;
    if (b < 0x80) {
      cur.pos = p + 1;
      return b;
    }
  }
  return readVarU32Slow(bytes, cur, end, baseOffset);
}

function readVarU32Slow(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): number {
  const start = cur.pos;
  let value = 0;
  for (let i = 0; i < MAX_VARINT32_BYTES; i++) {
    const p = start + i;
    if (p >= end) throw new DecodeError(baseOffset + start, TRUNCATED_VARINT);
    const b = bytes[p]!;
    if (i === MAX_VARINT32_BYTES - 1) {
      if (b >= 0x80) throw new DecodeError(baseOffset + start, "varint too long (u32 takes at most 5 bytes)");
      if (b > 0x0f) throw new DecodeError(baseOffset + start, "varint exceeds u32");
      cur.pos = p + 1;
      return value + b * 0x10000000;
    }
    value |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      cur.pos = p + 1;
      return value >>> 0;
    }
  }
  throw new DecodeError(baseOffset + start, "varint too long"); // unreachable: the last byte returns or throws
}

/** Unsigned LEB128 of at most 10 bytes (u64), as a number: exact up to 2^53, rounded beyond. */
export function readVarU64(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): number {
  const p = cur.pos;
  if (p < end) {
    const b = bytes[p]!;
    if (b < 0x80) {
      cur.pos = p + 1;
      return b;
    }
  }
  return readVarU64Slow(bytes, cur, end, baseOffset);
}

function readVarU64Slow(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): number {
  readVarU64Words(bytes, cur, end, baseOffset);
  return wordHi * TWO_POW_32 + wordLo;
}

// The 64 bits of the last slow-path u64, as two exact u32 words, so that the conversion to a
// double rounds once (correctly) instead of once per 7-bit group.
let wordLo = 0;
let wordHi = 0;

function readVarU64Words(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): void {
  const start = cur.pos;
  let lo = 0;
  let hi = 0;
  for (let i = 0; i < MAX_VARINT64_BYTES; i++) {
    const p = start + i;
    if (p >= end) throw new DecodeError(baseOffset + start, TRUNCATED_VARINT);
    const b = bytes[p]!;
    if (i === MAX_VARINT64_BYTES - 1) {
      if (b >= 0x80) throw new DecodeError(baseOffset + start, "varint too long (u64 takes at most 10 bytes)");
      if (b > 0x01) throw new DecodeError(baseOffset + start, "varint exceeds u64");
    }
    const group = b & 0x7f;
    const shift = 7 * i;
    if (shift < 28) lo |= group << shift;
    else if (shift === 28) {
      lo |= group << 28; // low 4 bits land in lo, the other 3 in hi
      hi = group >>> 4;
    } else hi |= group << (shift - 32);
    if (b < 0x80) {
      cur.pos = p + 1;
      wordLo = lo >>> 0;
      wordHi = hi >>> 0;
      return;
    }
  }
}

/**
 * A zigzag-encoded signed 64-bit integer (FORMAT.md conventions), as a number rounded once
 * to the nearest double.
 */
export function readZigzag64(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number): number {
  const p = cur.pos;
  if (p < end) {
    const b = bytes[p]!;
    if (b < 0x80) {
      cur.pos = p + 1;
      return (b & 1) === 0 ? b >>> 1 : -((b >>> 1) + 1);
    }
  }
  readVarU64Words(bytes, cur, end, baseOffset);
  // n = u >> 1, negated as -(n + 1) when the low bit is set; both on exact words.
  const negative = (wordLo & 1) === 1;
  let lo = ((wordLo >>> 1) | ((wordHi & 1) << 31)) >>> 0;
  let hi = wordHi >>> 1;
  if (!negative) return hi * TWO_POW_32 + lo;
  lo = (lo + 1) >>> 0;
  if (lo === 0) hi += 1; // carry; hi stays below 2^31 + 1
  return -(hi * TWO_POW_32 + lo);
}

/** Maps an unsigned zigzag value back to signed (exact for u below 2^53). */
export function zigzagDecode(u: number): number {
  // Odd u encodes -(u+1)/2, even u encodes u/2; written so that -0 never appears.
  return u % 2 === 1 ? -((u - 1) / 2) - 1 : u / 2;
}

/** Little-endian u16 at `cur.pos`. */
export function readU16(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number, what: string): number {
  const p = cur.pos;
  if (p + 2 > end) throw new DecodeError(baseOffset + p, `truncated ${what}`);
  cur.pos = p + 2;
  return bytes[p]! | (bytes[p + 1]! << 8);
}

/** Little-endian u32 at `cur.pos`. */
export function readU32(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number, what: string): number {
  const p = cur.pos;
  if (p + 4 > end) throw new DecodeError(baseOffset + p, `truncated ${what}`);
  cur.pos = p + 4;
  return (bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24)) >>> 0;
}

/** Little-endian u64 at `cur.pos`, as a number (exact up to 2^53). */
export function readU64(bytes: Uint8Array, cur: Cursor, end: number, baseOffset: number, what: string): number {
  const p = cur.pos;
  if (p + 8 > end) throw new DecodeError(baseOffset + p, `truncated ${what}`);
  const lo = readU32(bytes, cur, end, baseOffset, what);
  const hi = readU32(bytes, cur, end, baseOffset, what);
  return hi * TWO_POW_32 + lo;
}
