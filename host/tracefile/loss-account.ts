// Where the events a device recorded went, from its counters and what a file (or a pull) holds
// of one device session (FORMAT.md sections 2.3 and 7.4): `drained` counts every event the device
// sent once, to this connection or to earlier ones. Pure arithmetic, shared by trace-pull's
// summary, the report, the lints and the exports so they cannot disagree.

import { seqAfter } from "../format/chunk.js";
import type { DeviceCounters } from "../format/records.js";
import type { EarlierPull } from "./schema.js";

export interface LossAccount {
  /** Events the device overwrote or refused (ring full): never sent. */
  droppedOnDevice: number;
  /** Events sent to this pull that it does not hold (lost on the link). */
  lostInTransfer: number;
  /** Events earlier connections were handed and this pull does not hold (not a loss). */
  pulledEarlier: number;
}

/** What one session's pull holds: all its events, and those from chunks sent before it joined. */
export interface HeldEvents {
  events: number;
  resentEvents: number;
  /** Events that arrived in chunks set aside as damaged (not lost in transfer either). */
  damagedEvents?: number;
}

export function lossAccount(counters: DeviceCounters | undefined, held: HeldEvents, earlier: EarlierPull | undefined): LossAccount {
  const before = earlier?.drained ?? 0;
  const pulledEarlier = Math.max(0, before - held.resentEvents);
  if (!counters) return { droppedOnDevice: 0, lostInTransfer: 0, pulledEarlier };
  return {
    droppedOnDevice: counters.droppedOverwritten + counters.droppedFull,
    lostInTransfer: Math.max(0, counters.drained - before - (held.events - held.resentEvents) - (held.damagedEvents ?? 0)),
    pulledEarlier,
  };
}

/** True when chunk `seq` was sent before the pull joined (seq before first unsent, u32 wrap). */
export function sentEarlier(seq: number, earlier: EarlierPull | undefined): boolean {
  return earlier !== undefined && seqAfter(earlier.firstUnsent, seq);
}
