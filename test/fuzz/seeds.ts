// Seeds for the fuzz targets, made fresh from the code (so they follow the wire format as it
// changes): real traces pulled from the demo firmware under node:wasi, exactly as trace-pull
// does, cut to a few sizes, and small synthetic traces from the reference encoder.

import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runWasi } from "../../host/sources/wasi.js";
import { TraceIngest } from "../../host/pull/ingest.js";
import { TraceWriter } from "../../host/tracefile/writer.js";
import { concat, type Seed } from "./mutate.js";
import { hotSpots, itemMarks, syntheticTraceSeeds } from "./target-tracefile.js";
import { chunkRecord, countersRecord, encodeChunks, infoRecord, namesRecord, syntheticWorkload } from "../support/wire-encoder.js";
import { writeSyntheticTrace } from "../support/otlp-traces.js";

/** The repository root, from the source tree or from dist/. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json")) || dir.endsWith("/dist")) {
    const up = dirname(dir);
    if (up === dir) throw new Error("repository root not found");
    dir = up;
  }
  return dir;
}

/** Where failing inputs are kept, per target (small files, in the repository). */
export const CORPUS_DIR = (): string => join(repoRoot(), "test/fuzz/corpus");

/** Pulls the demo (a scenario) into `path` and records the raw drain bytes too. */
export async function pullDemo(path: string, scenario: string | undefined): Promise<{ trace: Uint8Array; drains: Uint8Array[] }> {
  const wasm = resolve(repoRoot(), "build/demo.wasm");
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: npm run build`);
  const writer = new TraceWriter(path);
  writer.header({ tool: "taskscope fuzz", source: "wasi:demo.wasm" });
  const ingest = new TraceIngest(writer);
  const drains: Uint8Array[] = [];
  const result = await runWasi({
    wasmPath: wasm,
    args: scenario === undefined ? [] : [scenario],
    drainIntervalMs: 5,
    onRecords: (bytes, anchor) => {
      drains.push(bytes);
      ingest.push(bytes, anchor);
    },
  });
  ingest.finish(`exit ${result.exitCode}`);
  writer.close();
  return { trace: new Uint8Array(readFileSync(path)), drains };
}

/** Writes the seed material into `dir` once (the runner's workers read it from there): the
 *  fixed seeds, and the demo firmware's runs of these scenarios. */
export async function prepareSeeds(dir: string, scenarios: (string | undefined)[] = [undefined, "deadlock", "lost-wakeup"]): Promise<void> {
  writeFixedSeeds(dir);
  for (const scenario of scenarios) {
    const name = scenario ?? "clean";
    const { drains } = await pullDemo(join(dir, `demo-${name}.trace.cbor`), scenario);
    // Drain streams, as a records seed each (the first few drains of a run).
    writeFileSync(join(dir, `drains-${name}.bin`), concat(...drains.slice(0, 6)));
  }
}

/**
 * Seed material that is the same byte for byte on every run (a demo run's depends on timing), so
 * that the test suite's short run is deterministic: a synthetic executor workload from the
 * reference encoders, as a trace file and as the drains a device would send (INFO, NAMES,
 * CHUNKs, COUNTERS).
 */
export function writeFixedSeeds(dir: string): void {
  const events = [...syntheticWorkload(4000, 13)];
  // The names the workload uses: tasks 1-8, a log format 9, a mark 10, a counter 11, sites 12-31.
  const names: [number, string][] = [
    ...Array.from({ length: 8 }, (_, i): [number, string] => [1, `task-${i + 1}`]),
    [4, "n={} d={}"],
    [5, "mark"],
    [6, "level"],
    ...Array.from({ length: 20 }, (_, i): [number, string] => [2, `site ${i}`]),
  ];
  writeSyntheticTrace(join(dir, "demo-synthetic.trace.cbor"), [{ names, events, counters: {} }]);
  const first = events.slice(0, 500);
  const chunks = encodeChunks(first, { chunkSize: 256 });
  const drain = concat(
    infoRecord({ ringMode: "overwrite", chunkSize: 256, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, tickHz: 1_000_000, filter: 0x7ff, sessionId: 0x5eed, device: "fixed-board", firmware: "fixed-fw 1" }),
    namesRecord(1, names.map(([kind, text]) => ({ kind, text }))),
    ...chunks.map(chunkRecord),
    countersRecord({ recorded: first.length, drained: first.length, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0, namesDropped: 0, nextSeq: chunks.length, pendingEvents: 0, now: first.at(-1)!.ticks, firstDrop: 0, lastDrop: 0 }),
  );
  writeFileSync(join(dir, "drains-synthetic.bin"), drain);
}

/** Trace file seeds: the demo traces whole and cut after a few items (small, fast to fuzz),
 *  and the synthetic ones. */
export function traceSeeds(dir: string): Seed[] {
  const seeds: Seed[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith("demo-") && n.endsWith(".trace.cbor")).sort()) {
    const bytes = new Uint8Array(readFileSync(join(dir, f)));
    const marks = itemMarks(bytes);
    // One whole demo trace (analysis of 13,000 events costs tens of ms) and the fixed one; the others cut.
    if (f === "demo-clean.trace.cbor" || f === "demo-synthetic.trace.cbor") seeds.push({ bytes, marks, hot: hotSpots(bytes) });
    // The header, session, names and a couple of chunk items, then the footer: a small real trace.
    const cut = marks.findIndex((m) => m > 6000);
    if (cut > 3) {
      const head = bytes.subarray(0, marks[cut]!);
      const footer = bytes.subarray(marks[marks.length - 2]!);
      const small = concat(head, footer);
      seeds.push({ bytes: small, marks: itemMarks(small), hot: hotSpots(small) });
    }
  }
  seeds.push(...syntheticTraceSeeds(dir));
  return seeds;
}

/** Records seeds: drain streams of the demo runs. */
export function drainSeeds(dir: string): Seed[] {
  return readdirSync(dir)
    .filter((n) => n.startsWith("drains-"))
    .sort()
    .map((n) => ({ bytes: new Uint8Array(readFileSync(join(dir, n))) }));
}
