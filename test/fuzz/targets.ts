// The fuzz targets, by name: one per decoder the issue lists (trace file reader with analysis and
// report; wire records and chunks with the ingest; COBS frames; the link session against a
// hostile device sending valid-CRC frames).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FuzzTarget } from "./target.js";
import { TraceFileTarget } from "./target-tracefile.js";
import { traceSeeds } from "./seeds.js";

export const TARGET_NAMES = ["tracefile"];

/** Builds the targets named (all by default) from the seed material in `seedDir`. */
export async function createTargets(seedDir: string, names: readonly string[] = TARGET_NAMES): Promise<FuzzTarget[]> {
  const scratch = mkdtempSync(join(seedDir.startsWith("/dev/shm") ? "/dev/shm" : tmpdir(), "taskscope-fuzz-run-"));
  const out: FuzzTarget[] = [];
  for (const name of names) {
    if (name === "tracefile") out.push(new TraceFileTarget(traceSeeds(seedDir), scratch));
  }
  return out;
}
