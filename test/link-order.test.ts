// host/link/chunk-order.ts on its own: chunks out of order, twice, or never.

import { describe, it, expect } from "vitest";
import { ChunkOrder, GONE, type ChunkOrderStats } from "../host/link/chunk-order.js";
import { seqAfter } from "../host/format/chunk.js";

function order(maxHeld = 100) {
  const out: (number | string)[] = [];
  const stats: ChunkOrderStats = { duplicates: 0, chunksRecovered: 0, chunksLost: 0, resendRequests: 0 };
  const c = new ChunkOrder(
    { chunk: (r) => out.push(r[0]!), lost: (from, to, reason) => out.push(`lost ${from}..${to} ${reason}`) },
    stats,
    maxHeld,
  );
  const take = (...seqs: number[]) => seqs.forEach((s) => c.take(s, Uint8Array.of(s)));
  return { c, out, stats, take };
}

describe("chunk order", () => {
  it("passes chunks on in sequence, each once", () => {
    const { c, out, stats, take } = order();
    c.startAt(0);
    take(0, 2, 1, 1, 0, 3);
    c.release();
    expect(out).toEqual([0, 1, 2, 3]);
    expect(stats.duplicates).toBe(2);
  });

  it("asks for every gap within a span in one request, and counts what comes back", () => {
    const { c, out, stats, take } = order();
    c.startAt(10);
    take(10, 12, 15, 16);
    c.release();
    expect(c.nextRequest(17, 16)).toEqual({ first: 11, count: 4 }); // 11, 13 and 14; 12 comes twice
    expect(stats.resendRequests).toBe(3);
    expect(c.nextRequest(17, 16)).toBeUndefined(); // already asked
    take(11, 12, 13, 14);
    c.release();
    expect(out).toEqual([10, 11, 12, 13, 14, 15, 16]);
    expect(stats).toMatchObject({ chunksRecovered: 3, duplicates: 1 });
    expect(c.isComplete(17)).toBe(true);
  });

  it("reports one loss per gap, before the chunk after it, when the device no longer has it", () => {
    const { c, out, take } = order();
    c.startAt(0);
    take(0, 4);
    c.release();
    c.nextRequest(5, 8);
    c.clearAsked(); // the answer came without them
    c.dropBefore(3); // 1 and 2 are gone...
    c.dropBefore(4); // ...and then 3
    c.release();
    expect(out).toEqual([0, `lost 1..3 ${GONE}`, 4]);
  });

  it("reports chunks gone before the first one arrived: they may have been sent into damaged frames", () => {
    // The connection starts at chunk 0 with nothing sent yet; the device streams 0..15 into
    // damaged frames, laps its ring, and the host learns the oldest it holds is 50.
    const { c, out, stats, take } = order();
    c.startAt(0, 0);
    c.dropBefore(50);
    take(50);
    c.release();
    expect(out).toEqual([`lost 0..49 ${GONE}`, 50]);
    expect(stats.chunksLost).toBe(50);
    expect(c.next).toBe(51);
  });

  it("does not report chunks an earlier connection was sent and the ring dropped before this one got them", () => {
    // At hello the ring holds 0.., of which 0..29 went to an earlier pull: this one asks for
    // them again, but the device overwrites 0..49 first. 0..29 were that pull's; 30..49 are
    // reported (sent to this one and lost, or overwritten before they were sent).
    const { c, out, stats } = order();
    c.startAt(0, 30);
    c.dropBefore(50);
    c.flushLoss(); // (a gap is reported before the chunk after it, or at the end)
    expect(out).toEqual([`lost 30..49 ${GONE}`]);
    expect(stats.chunksLost).toBe(20);
    const all = order();
    all.c.startAt(0, 50);
    all.c.dropBefore(50);
    all.c.flushLoss();
    expect(all.out).toEqual([]);
    expect(all.stats.chunksLost).toBe(0);
    expect(all.c.next).toBe(50);
  });

  it("once a chunk has arrived, every later gap is reported, sent before or not", () => {
    const { c, out, take } = order();
    c.startAt(0, 30);
    take(0, 5);
    c.dropBefore(10);
    c.flushLoss();
    expect(out).toEqual([0, `lost 1..4 ${GONE}`, 5, `lost 6..9 ${GONE}`]);
  });

  it("at the end: passes on what it holds and reports everything sent that never came", () => {
    const { c, out, take } = order();
    c.startAt(0);
    take(0, 3, 4);
    c.finish("the pull ended", 7);
    expect(out).toEqual([0, "lost 1..2 the pull ended", 3, 4, "lost 5..6 the pull ended"]);
  });

  it("gives a gap up rather than hold chunks without end", () => {
    const { c, out, take } = order(3);
    c.startAt(0);
    take(1, 2, 3, 4);
    expect(out).toEqual(["lost 0..0 not received in time", 1, 2, 3, 4]);
  });

  it("compares sequence numbers across the u32 wrap", () => {
    expect(seqAfter(0, 0xffffffff)).toBe(true);
    expect(seqAfter(0xffffffff, 0)).toBe(false);
    expect(seqAfter(5, 5)).toBe(false);
    const { c, out, take } = order();
    c.startAt(0xfffffffe);
    take(0xfffffffe, 0, 0xffffffff);
    c.release();
    expect(out).toEqual([0xfe, 0xff, 0]); // (each test record is the seq's low byte)
  });
});
