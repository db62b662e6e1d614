// What went wrong during a pull, in lines a user reads: a broken or hostile device's faults (the
// link's), records that did not decode or carried impossible values, records with no usable
// session, duplicates. trace-pull prints them after its summary; nothing received is dropped
// without one of these lines saying so.

import type { IngestStats } from "./ingest.js";
import type { LinkStats } from "../link/session.js";
import { formatCount } from "../report/units.js";

export function pullProblems(ingest: IngestStats, link?: LinkStats): string[] {
  const lines: string[] = [];
  if (link && link.faults > 0) {
    lines.push(`the device sent ${formatCount(link.faults)} answer(s) that cannot be true (ignored):`);
    for (const note of link.faultNotes) lines.push(`  ${note}`);
  }
  if (link && link.chunksRejected > 0) lines.push(`${formatCount(link.chunksRejected)} chunk(s) with impossible sequence numbers left out`);
  if (ingest.orphanChunks > 0) {
    lines.push(`${formatCount(ingest.orphanChunks)} chunk(s) (${formatCount(ingest.orphanEvents)} events) arrived with no usable device session and were left out`);
  }
  // (trace-pull --wasi says this in its summary line already)
  if (link && ingest.damaged > 0) lines.push(`${formatCount(ingest.damaged)} record(s) damaged or impossible, left out`);
  if (ingest.duplicates > 0) lines.push(`${formatCount(ingest.duplicates)} chunk(s) arrived twice (stored once)`);
  for (const p of ingest.problems) lines.push(`  ${p}`);
  return lines;
}
