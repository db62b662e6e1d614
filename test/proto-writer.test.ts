// ProtoWriter (host/export/proto-writer.ts), the protobuf writer both exports share: varints as
// protobuf writes int64, strings as length and UTF-8, text parts with no length.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { ProtoWriter, putVarint } from "../host/export/proto-writer.js";

/** The varint of an int64 (negative: two's complement on 64 bits), by BigInt arithmetic. */
function reference(value: bigint): number[] {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const written = (write: (w: ProtoWriter) => void) => {
  const w = new ProtoWriter(4);
  write(w);
  return [...w.bytes()];
};

describe("ProtoWriter", () => {
  it("writes varints of whole numbers, negative ones as int64, as protobuf does", () => {
    const edges = [0, 1, 127, 128, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 60, 2 ** 64 - 2048, -1, -128, -(2 ** 32), -(2 ** 53 - 1), -(2 ** 63)];
    for (const v of edges) expect(written((w) => w.varint(v)), String(v)).toEqual(reference(BigInt(v)));
    fc.assert(
      fc.property(fc.oneof(fc.maxSafeInteger(), fc.integer()), (v) => {
        expect(written((w) => w.varint(v))).toEqual(reference(BigInt(v)));
        if (v >= 0) {
          const b = new Uint8Array(12);
          expect([...b.subarray(1, putVarint(b, 1, v))]).toEqual(reference(BigInt(v)));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it("writes strings as their UTF-8 length and bytes, and text parts as bytes alone", () => {
    const utf8 = (s: string) => [...new TextEncoder().encode(s)];
    const strings = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "grapheme", maxLength: 100 }), fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom("a".repeat(127), "a".repeat(128), "a".repeat(127) + "é", "é" + "a".repeat(200)));
    fc.assert(
      fc.property(strings, strings, (a, b) => {
        const bytes = utf8(a);
        expect(written((w) => w.string(a))).toEqual([...reference(BigInt(bytes.length)), ...bytes]);
        expect(written((w) => (w.text(a), w.text(b)))).toEqual([...bytes, ...utf8(b)]);
      }),
      { numRuns: 1000 },
    );
  });
});
