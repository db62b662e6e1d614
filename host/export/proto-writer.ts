// A small protocol-buffers writer for the few messages the exports write directly (Perfetto's
// TracePacket, OTLP's ExportTraceServiceRequest): varints, fixed-width numbers, strings and
// nested messages into one growing buffer. A nested message reserves one byte for its length
// and moves its body up when the length needs more, so every length is written in its shortest
// form (canonical protobuf, as protobuf libraries write it).

const TWO_32 = 0x1_0000_0000;

export const WIRE = { varint: 0, fixed64: 1, bytes: 2, fixed32: 5 } as const;

export class ProtoWriter {
  buf: Uint8Array;
  pos = 0;
  private view: DataView;

  constructor(initialSize = 1 << 16) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  /** Forgets what was written (keeps the buffer). */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of what was written. */
  bytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  tag(field: number, wire: number): void {
    const v = field * 8 + wire;
    if (v < 0x80) {
      if (this.pos >= this.buf.length) this.ensure(1);
      this.buf[this.pos++] = v;
      return;
    }
    this.varint(v);
  }

  /** A varint of a non-negative integer below 2^64, or a negative one as int64 (ten bytes, two's
   *  complement), as protobuf writes int64. */
  varint(value: number): void {
    this.ensure(10);
    if (value >= 0) {
      this.pos = putVarint(this.buf, this.pos, value);
      return;
    }
    const abs = -value;
    let lo = ~(abs >>> 0) >>> 0;
    let hi = ~(Math.floor(abs / TWO_32) >>> 0) >>> 0;
    lo = (lo + 1) >>> 0;
    if (lo === 0) hi = (hi + 1) >>> 0;
    this.pos = putVarintHalves(this.buf, this.pos, lo, hi);
  }

  /** A varint of a BigInt below 2^64. */
  varintBig(value: bigint): void {
    this.ensure(10);
    let v = BigInt.asUintN(64, value);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.pos += 4;
  }

  /** A fixed64 from its two 32-bit halves. */
  fixed64(lo: number, hi: number): void {
    this.ensure(8);
    this.view.setUint32(this.pos, lo >>> 0, true);
    this.view.setUint32(this.pos + 4, hi >>> 0, true);
    this.pos += 8;
  }

  /** A fixed64 of a non-negative integer below 2^53. */
  fixed64Number(value: number): void {
    this.fixed64(value >>> 0, Math.floor(value / TWO_32));
  }

  double(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** Length-delimited bytes. */
  bytesField(value: Uint8Array): void {
    this.varint(value.length);
    this.raw(value);
  }

  /** Bytes as they are (an already encoded part). */
  raw(value: Uint8Array): void {
    const n = value.length;
    this.ensure(n);
    if (n > 12) {
      this.buf.set(value, this.pos);
    } else {
      // A loop beats TypedArray.set only for the shortest parts (span ids; measured on Node 20:
      // at 16 bytes and more, set is faster).
      const b = this.buf;
      const p = this.pos;
      for (let i = 0; i < n; i++) b[p + i] = value[i]!;
    }
    this.pos += n;
  }

  /** A length-delimited UTF-8 string. */
  string(value: string): void {
    const n = value.length;
    // Most strings are ASCII: one pass copies them after their length (room for the longest
    // length is made first, so writing it moves nothing), and a non-ASCII character sends them
    // the long way (nothing is kept until the end).
    this.ensure(n + 10);
    const size = n < 0x80 ? 1 : varintSize(n);
    if (this.ascii(value, this.pos + size) < n) return this.bytesField(encoder.encode(value));
    if (size === 1) this.buf[this.pos++] = n;
    else this.varint(n);
    this.pos += n;
  }

  /** UTF-8 text with no length before it (a part of a string whose length `begin`/`end` write),
   *  so a string made of parts is written without being made first. */
  text(value: string): void {
    const n = value.length;
    this.ensure(n);
    const ascii = this.ascii(value, this.pos);
    this.pos += ascii;
    if (ascii < n) this.raw(encoder.encode(value.slice(ascii)));
  }

  /** Copies `value` as ASCII at `at` (room made by the caller, `pos` unchanged) up to its first
   *  non-ASCII character; returns how many characters it copied (all: `value.length`). */
  private ascii(value: string, at: number): number {
    const b = this.buf;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) return i;
      b[at + i] = c;
    }
    return n;
  }

  /** The decimal digits of a whole number as text (as String(value) writes it). */
  decimal(value: number): void {
    if (!(value >= 0 && value <= 0xffffffff && Number.isInteger(value))) return this.text(String(value));
    let v = value >>> 0;
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    this.ensure(digits);
    const b = this.buf;
    let p = this.pos + digits;
    this.pos = p;
    do {
      b[--p] = 0x30 + (v % 10);
      v = Math.floor(v / 10);
    } while (v > 0);
  }

  /** Starts a nested message (after its tag); returns what `end` takes. */
  begin(): number {
    this.ensure(1);
    return this.pos++;
  }

  /** Ends the nested message begun at `at`: writes its length there. */
  end(at: number): void {
    const length = this.pos - at - 1;
    if (length < 0x80) {
      this.buf[at] = length;
      return;
    }
    const size = varintSize(length);
    this.ensure(size - 1);
    this.buf.copyWithin(at + size, at + 1, this.pos);
    this.pos += size - 1;
    let v = length;
    let p = at;
    while (v > 0x7f) {
      this.buf[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[p] = v;
  }
}

const encoder = new TextEncoder();

/** A varint of a non-negative integer below 2^64 at `p` in `b` (room for ten bytes made);
 *  returns the end. For writers that fill a buffer byte by byte themselves (the OTLP encoder). */
export function putVarint(b: Uint8Array, p: number, value: number): number {
  if (value < TWO_32) {
    let v = value >>> 0;
    while (v > 0x7f) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p] = v;
    return p + 1;
  }
  return putVarintHalves(b, p, value >>> 0, Math.floor(value / TWO_32) >>> 0);
}

/** A varint of the 64-bit number hi * 2^32 + lo at `p`; returns the end. */
function putVarintHalves(b: Uint8Array, p: number, lo: number, hi: number): number {
  while (hi > 0 || lo > 0x7f) {
    b[p++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  b[p] = lo;
  return p + 1;
}

/** Bytes of a varint (non-negative values; negative int64 take ten). */
export function varintSize(value: number): number {
  if (value < 0) return 10;
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 0x800000000) return 5;
  if (value < 0x40000000000) return 6;
  if (value < 0x2000000000000) return 7;
  if (value < 0x100000000000000) return 8;
  return 9;
}

/** The UTF-8 bytes of a string, for parts written again and again. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}
