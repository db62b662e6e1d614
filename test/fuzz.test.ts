// Fuzzing in the test suite: a short deterministic run of every fuzz target (test/fuzz/): fixed
// seeds (the reference encoders' synthetic workload, not a demo run whose bytes depend on timing)
// and a fixed RNG seed, so every run tries the same inputs; and every input that ever failed
// (test/fuzz/corpus/TARGET/*.bin, written by `npm run fuzz`) replayed as a regression test.
// `npm run fuzz -- --seconds N` is the long run (fresh demo traces too, a new RNG seed each run).
//
// A corpus entry whose fix belongs to another part of the code is listed in corpus/known.json
// with the file and function it points at, and shows as a todo until that is fixed.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzzLoop, type Finding } from "./fuzz/engine.js";
import { createTargets, TARGET_NAMES } from "./fuzz/targets.js";
import { CORPUS_DIR, writeFixedSeeds } from "./fuzz/seeds.js";
import type { FuzzTarget } from "./fuzz/target.js";

let dir: string;
let targets: FuzzTarget[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-fuzz-test-"));
  writeFixedSeeds(dir);
  targets = await createTargets(dir);
}, 120_000);

/** Runs `inputs` inputs on fresh targets and seeds; returns a hash of every input tried. */
async function inputsTried(inputs: number): Promise<string> {
  const own = mkdtempSync(join(dir, "again-"));
  writeFixedSeeds(own);
  const hash = createHash("sha256");
  await fuzzLoop(await createTargets(own), { seed: 20_260_101, inputs, balance: "count", onInput: (t, input) => hash.update(`${t}:${input.length}:`).update(input) });
  return hash.digest("hex");
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fuzz: a short run of every target", () => {
  it("mutants of fixed traces, drains, frames and hostile devices: no crash, hang or misread, every error names its offset", { timeout: 300_000 }, async () => {
    const findings: Finding[] = [];
    const stats = await fuzzLoop(targets, { seed: 20_260_101, inputs: 150 * targets.length, balance: "count", onFinding: (f) => findings.push(f) });
    expect(findings.map((f) => `${f.kind} in ${f.target}: ${f.message} ${f.where ?? ""} (${f.ops.join(", ")})`)).toEqual([]);
    for (const name of TARGET_NAMES) expect(stats.get(name)!.inputs, name).toBeGreaterThanOrEqual(150);
    for (const name of TARGET_NAMES) expect(targets.find((t) => t.name === name)!.seeds.length, name).toBeGreaterThan(0);
  });

  it("is deterministic: the same seeds and inputs on every run", { timeout: 120_000 }, async () => {
    expect(await inputsTried(100)).toBe(await inputsTried(100));
  });
});

const known: Record<string, string> = existsSync(join(CORPUS_DIR(), "known.json")) ? JSON.parse(readFileSync(join(CORPUS_DIR(), "known.json"), "utf8")) : {};

describe("fuzz: every input that ever failed", () => {
  for (const target of TARGET_NAMES) {
    const at = join(CORPUS_DIR(), target);
    const files = existsSync(at) ? readdirSync(at).filter((f) => f.endsWith(".bin")).sort() : [];
    for (const file of files) {
      const owner = known[`${target}/${file}`];
      if (owner) {
        it.todo(`${target}/${file}: ${owner}`);
        continue;
      }
      it(`${target}/${file}`, { timeout: 60_000 }, async () => {
        const t = targets.find((x) => x.name === target)!;
        const outcome = await t.run(new Uint8Array(readFileSync(join(at, file))));
        expect(outcome.hang).toBeUndefined();
        expect(outcome.misread).toBeUndefined();
        expect(outcome.noOffset ?? false).toBe(false);
      });
    }
  }
});
