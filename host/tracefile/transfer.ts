// Where the events a device handed over went, from its counters and what a file (or a pull)
// holds of one device session (FORMAT.md section 7.4): `drained` counts every event the device
// sent once, to this connection or to earlier ones. Pure arithmetic, shared by trace-pull's
// summary, the report, the lints and the exports so they cannot disagree.

import type { DeviceCounters } from "../format/records.js";
import type { EarlierPull } from "./schema.js";

export interface TransferAccount {
  /** Events sent to this pull that it does not hold (lost on the link). */
  lostInTransfer: number;
  /** Events earlier connections were handed and this pull does not hold (not a loss). */
  pulledEarlier: number;
}

/** What one session's pull holds: all its events, and those from chunks sent before it joined. */
export interface HeldEvents {
  events: number;
  resentEvents: number;
}

export function transferAccount(counters: DeviceCounters | undefined, held: HeldEvents, earlier: EarlierPull | undefined): TransferAccount {
  const before = earlier?.drained ?? 0;
  const pulledEarlier = Math.max(0, before - held.resentEvents);
  if (!counters) return { lostInTransfer: 0, pulledEarlier };
  return { lostInTransfer: Math.max(0, counters.drained - before - (held.events - held.resentEvents)), pulledEarlier };
}

/** True when chunk `seq` was sent before the pull joined (seq before first unsent, u32 wrap). */
export function sentEarlier(seq: number, earlier: EarlierPull | undefined): boolean {
  if (!earlier) return false;
  const distance = (earlier.firstUnsent - seq) >>> 0;
  return distance !== 0 && distance < 0x8000_0000;
}
