// The host's frame layer on its own: COBS, CRC-32 and the frame splitter, with random frames and
// random damage (fast-check). The device side's frames are checked in link-core.test.ts.

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import * as zlib from "node:zlib";
import { cobsEncodeFrame, cobsDecode } from "../host/link/cobs.js";
import { crc32 } from "../host/link/crc32.js";
import { FrameSplitter, FrameDecoder } from "../host/link/frame-decoder.js";
import { encodeFrame, parseFrame, type Frame } from "../host/link/protocol.js";

const frameArb = fc.record({
  type: fc.integer({ min: 0, max: 255 }),
  session: fc.integer({ min: 0, max: 0xffffffff }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 700 }),
});

const key = (f: Frame) => `${f.type}:${f.session}:${f.seq}:${Buffer.from(f.payload).toString("hex")}`;

describe("COBS and CRC-32", () => {
  it("round-trips any bytes, with no 0x00 between the delimiters and at most 1 byte per 254 added", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const enc = cobsEncodeFrame(data);
        expect(enc[0]).toBe(0);
        expect(enc.at(-1)).toBe(0);
        const body = enc.subarray(1, -1);
        expect(body.includes(0)).toBe(false);
        expect(body.length).toBeLessThanOrEqual(data.length + Math.ceil((data.length + 1) / 254));
        expect(Buffer.from(cobsDecode(body)!)).toEqual(Buffer.from(data));
      }),
    );
  });

  it("computes the CRC-32 zlib computes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), (data) => {
        expect(crc32(data)).toBe(zlib.crc32(data));
      }),
    );
  });
});

describe("frame splitter", () => {
  it("passes every frame through, however the bytes are cut into reads", () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 20 }), fc.integer({ min: 1, max: 97 }), (frames, step) => {
        const wire = Buffer.concat(frames.map((f) => encodeFrame(f.type, f.session, f.seq, f.payload)));
        const got: Frame[] = [];
        const s = new FrameSplitter((f) => got.push(f));
        for (let o = 0; o < wire.length; o += step) s.push(wire.subarray(o, o + step));
        expect(got.map(key)).toEqual(frames.map((f) => key({ ...f })));
        expect(s.stats).toMatchObject({ frames: frames.length, damaged: 0, bytes: wire.length });
      }),
    );
  });

  it("never decodes a damaged frame as data, and keeps every frame the damage did not touch", () => {
    fc.assert(
      fc.property(
        fc.array(frameArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.record({ at: fc.nat(), kind: fc.constantFrom("flip", "drop", "insert"), bit: fc.integer({ min: 0, max: 7 }), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }), { maxLength: 6 }),
        (frames, faults) => {
          const encoded = frames.map((f) => encodeFrame(f.type, f.session, f.seq, f.payload));
          const wire = [...Buffer.concat(encoded)];
          // Which frame each byte belongs to, to know which frames the faults touched.
          const owner: number[] = encoded.flatMap((e, i) => Array.from(e, () => i));
          const touched = new Set<number>();
          for (const fault of [...faults].sort((a, b) => b.at - a.at)) {
            const at = fault.at % wire.length;
            // A fault on a delimiter touches both neighbours.
            touched.add(owner[at]!);
            if (wire[at] === 0) {
              if (at > 0) touched.add(owner[at - 1]!);
              if (at + 1 < owner.length) touched.add(owner[at + 1]!);
            }
            if (fault.kind === "flip") wire[at] = wire[at]! ^ (1 << fault.bit);
            else if (fault.kind === "drop") {
              wire.splice(at, 1);
              owner.splice(at, 1);
            } else {
              wire.splice(at, 0, ...fault.bytes);
              owner.splice(at, 0, ...Array.from(fault.bytes, () => owner[at]!));
            }
          }
          const got: Frame[] = [];
          new FrameSplitter((f) => got.push(f)).push(Uint8Array.from(wire));
          const sent = new Set(frames.map(key));
          for (const f of got) expect(sent.has(key(f)), "a frame that was never sent came out").toBe(true);
          const untouched = frames.filter((_, i) => !touched.has(i)).map(key);
          const gotKeys = got.map(key);
          for (const k of untouched) expect(gotKeys).toContain(k);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("resynchronises after noise: garbage without a delimiter costs only the frame it lands in", () => {
    const a = encodeFrame(0x82, 7, 1, Uint8Array.from([1, 2, 3]));
    const b = encodeFrame(0x82, 7, 2, Uint8Array.from([4, 5, 6]));
    const noise = Uint8Array.from({ length: 300 }, (_, i) => 1 + (i % 250));
    const got: Frame[] = [];
    const damage: string[] = [];
    const s = new FrameSplitter((f) => got.push(f), (reason) => damage.push(reason));
    s.push(Buffer.concat([noise, a, noise, Uint8Array.of(0), b]));
    expect(got.map((f) => f.seq)).toEqual([1, 2]);
    expect(s.stats.damaged).toBe(2);
    expect(damage).toHaveLength(2);
  });

  it("rejects short and corrupt frames with the reason", () => {
    expect(parseFrame(new Uint8Array(5))).toMatch(/shorter than 11/);
    const raw = cobsDecode(encodeFrame(1, 2, 3, Uint8Array.of(9)).subarray(1, -1))!;
    raw[7] ^= 1;
    expect(parseFrame(raw)).toBe("CRC mismatch");
  });

  it("works as a Transform stream: bytes in, frames out", async () => {
    const dec = new FrameDecoder();
    const got: Frame[] = [];
    const damaged: string[] = [];
    dec.on("data", (f: Frame) => got.push(f));
    dec.on("damaged", (reason: string) => damaged.push(reason));
    dec.write(encodeFrame(0x83, 1, 5));
    dec.end(Buffer.concat([Uint8Array.of(9, 9), encodeFrame(0x83, 1, 6)]));
    await new Promise((r) => dec.on("end", r));
    expect(got.map((f) => f.seq)).toEqual([5, 6]);
    expect(dec.stats.damaged).toBe(1);
    expect(damaged).toEqual(["COBS block cut short"]);
  });
});
