// When an in-process puller drains the device's ring. The drain runs inside the program's clock
// call, so its time shows up in the trace wherever the program happens to be: inside a poll it
// would lengthen that poll. So: drain while the executor is idle; between polls only if it has
// not been idle for a while; inside a poll only when the ring is half full and chunks would
// otherwise be overwritten.

/** What the core reports through taskscope_drain_hint(). */
export const DrainHint = { InPoll: 0, BetweenPolls: 1, Idle: 2 } as const;
export type DrainHint = (typeof DrainHint)[keyof typeof DrainHint];

export interface DrainState {
  /** Wall time since the last drain. */
  sinceLastMs: number;
  intervalMs: number;
  hint: DrainHint;
  /** Sealed chunks waiting, out of `chunkCount`. */
  unsent: number;
  chunkCount: number;
}

/** Multiple of the interval after which a never-idle program is drained between polls. */
const BUSY_PATIENCE = 4;

export function shouldDrain(s: DrainState): boolean {
  if (s.sinceLastMs < s.intervalMs) return false;
  if (s.hint === DrainHint.Idle) return true;
  if (s.unsent * 2 >= s.chunkCount) return true;
  return s.hint === DrainHint.BetweenPolls && s.sinceLastMs >= BUSY_PATIENCE * s.intervalMs;
}
