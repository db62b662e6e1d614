// When the in-process puller drains: idle first, between polls if never idle, inside a poll only
// to save chunks from being overwritten.

import { describe, it, expect } from "vitest";
import { shouldDrain, DrainHint, type DrainState } from "../host/sources/drain-policy.js";

const base: DrainState = { sinceLastMs: 60, intervalMs: 50, hint: DrainHint.InPoll, unsent: 0, chunkCount: 64 };

describe("drain policy", () => {
  it("never drains before the interval has passed", () => {
    for (const hint of [DrainHint.InPoll, DrainHint.BetweenPolls, DrainHint.Idle]) {
      expect(shouldDrain({ ...base, sinceLastMs: 49, hint, unsent: 64 })).toBe(false);
    }
  });

  it("drains when the executor is idle", () => {
    expect(shouldDrain({ ...base, hint: DrainHint.Idle })).toBe(true);
  });

  it("does not lengthen a poll unless the ring is half full", () => {
    expect(shouldDrain({ ...base, hint: DrainHint.InPoll, unsent: 31 })).toBe(false);
    expect(shouldDrain({ ...base, hint: DrainHint.InPoll, unsent: 32 })).toBe(true);
    expect(shouldDrain({ ...base, hint: DrainHint.InPoll, sinceLastMs: 10_000 })).toBe(false);
  });

  it("drains a never-idle program between polls after a while", () => {
    expect(shouldDrain({ ...base, hint: DrainHint.BetweenPolls, sinceLastMs: 199 })).toBe(false);
    expect(shouldDrain({ ...base, hint: DrainHint.BetweenPolls, sinceLastMs: 200 })).toBe(true);
  });
});
