// The fuzz targets, by name: one per decoder the issue lists (trace file reader with analysis and
// report; wire records with the ingest; chunk payloads; COBS frames; a whole pull against a
// hostile device sending valid-CRC frames).

import { mkdtempSync } from "node:fs";
import { join } from "node:path";
import type { FuzzTarget } from "./target.js";
import { TraceFileTarget } from "./target-tracefile.js";
import { ChunkTarget, FramesTarget, RecordsTarget, chunkSeeds, frameSeeds } from "./target-wire.js";
import { LinkTarget, linkSeeds } from "./target-link.js";
import { drainSeeds, traceSeeds } from "./seeds.js";

export const TARGET_NAMES = ["tracefile", "records", "chunk", "frames", "link"];

/** Builds the targets named (all by default) from the seed material in `seedDir`. */
export async function createTargets(seedDir: string, names: readonly string[] = TARGET_NAMES): Promise<FuzzTarget[]> {
  // Inside the seed directory, so that removing it removes what the targets wrote.
  const scratch = mkdtempSync(join(seedDir, "run-"));
  const drains = drainSeeds(seedDir);
  const out: FuzzTarget[] = [];
  for (const name of names) {
    if (name === "tracefile") out.push(new TraceFileTarget(traceSeeds(seedDir), scratch));
    else if (name === "records") out.push(new RecordsTarget(drains, scratch));
    else if (name === "chunk") out.push(new ChunkTarget(chunkSeeds(drains)));
    else if (name === "frames") out.push(new FramesTarget(frameSeeds()));
    else if (name === "link") out.push(new LinkTarget(linkSeeds(), scratch));
  }
  return out;
}
