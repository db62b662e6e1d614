// The loss account (host/tracefile/loss-account.ts): which events went missing on this pull's link
// and which an earlier pull of the same boot holds (FORMAT.md section 7.4).

import { describe, it, expect } from "vitest";
import { lossAccount, sentEarlier } from "../host/tracefile/loss-account.js";
import type { DeviceCounters } from "../host/format/records.js";

const counters = (drained: number, droppedOverwritten = 0, droppedFull = 0) => ({ drained, droppedOverwritten, droppedFull }) as DeviceCounters;

describe("loss account", () => {
  it("a pull from boot: what the device handed over and the file lacks was lost on the link", () => {
    expect(lossAccount(counters(1000), { events: 1000, resentEvents: 0 }, undefined)).toEqual({ droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 0 });
    expect(lossAccount(counters(1000, 30, 2), { events: 940, resentEvents: 0 }, undefined)).toEqual({ droppedOnDevice: 32, lostInTransfer: 60, pulledEarlier: 0 });
  });

  it("a pull joining a boot: the earlier pull's events are not this one's loss, resent ones count once", () => {
    // 800 events went to an earlier pull; 300 of them are still in the ring and came again;
    // since then the device sent 500 more, of which 20 were lost.
    const earlier = { firstUnsent: 40, drained: 800 };
    expect(lossAccount(counters(1300), { events: 300 + 480, resentEvents: 300 }, earlier)).toEqual({ droppedOnDevice: 0, lostInTransfer: 20, pulledEarlier: 500 });
  });

  it("without counters nothing can be proven lost or dropped; what earlier pulls had is still known", () => {
    expect(lossAccount(undefined, { events: 10, resentEvents: 10 }, { firstUnsent: 5, drained: 30 })).toEqual({ droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier: 20 });
  });

  it("sent earlier: chunk seqs before the first unsent, across the u32 wrap", () => {
    const at = (firstUnsent: number) => ({ firstUnsent, drained: 1 });
    expect(sentEarlier(39, at(40))).toBe(true);
    expect(sentEarlier(40, at(40))).toBe(false);
    expect(sentEarlier(41, at(40))).toBe(false);
    expect(sentEarlier(0xffff_fffe, at(3))).toBe(true);
    expect(sentEarlier(3, at(0xffff_fffe))).toBe(false);
    expect(sentEarlier(39, undefined)).toBe(false);
  });
});
