// Runs the serial link between slices of executor work: hands received bytes to the core and lets
// it answer commands and stream. Called from the main loop, outside any poll, so it never lands
// inside a recording call; it records nothing itself, so the link does not show up in the trace.

import { linkReceive, linkService } from "../../core/link";
import { uartRead } from "./uart";

const RX_BYTES: i32 = 256;
const RX: usize = memory.data(RX_BYTES);
/** Frames one call may send: enough to keep a fast link busy, few enough not to starve tasks. */
const MAX_FRAMES_PER_CALL: i32 = 16;

export function serviceLink(): void {
  for (let reads = 0; reads < 16; reads++) {
    const n = uartRead(RX, RX_BYTES);
    if (n <= 0) break;
    linkReceive(RX, n);
  }
  for (let i = 0; i < MAX_FRAMES_PER_CALL; i++) {
    if (!linkService()) break;
  }
}
