// Fuzzing in the test suite: a short deterministic run of every fuzz target (test/fuzz/), and
// every input that ever failed (test/fuzz/corpus/TARGET/*.bin, written by `npm run fuzz`) replayed
// as a regression test. `npm run fuzz -- --seconds N` is the long run.
//
// A corpus entry whose fix belongs to another part of the code is listed in corpus/known.json
// with the file and function it points at, and shows as a todo until that is fixed.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fuzzLoop, type Finding } from "./fuzz/engine.js";
import { createTargets, TARGET_NAMES } from "./fuzz/targets.js";
import { CORPUS_DIR, prepareSeeds } from "./fuzz/seeds.js";
import type { FuzzTarget } from "./fuzz/target.js";

let dir: string;
let targets: FuzzTarget[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-fuzz-test-"));
  await prepareSeeds(dir, [undefined]);
  targets = await createTargets(dir);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fuzz: a short run of every target", () => {
  it("mutants of real traces, drains, frames and hostile devices: no crash, hang or misread, every error names its offset", { timeout: 300_000 }, async () => {
    const findings: Finding[] = [];
    const stats = await fuzzLoop(targets, { seed: 20_260_101, inputs: 150 * targets.length, balance: "count", onFinding: (f) => findings.push(f) });
    expect(findings.map((f) => `${f.kind} in ${f.target}: ${f.message} ${f.where ?? ""} (${f.ops.join(", ")})`)).toEqual([]);
    for (const name of TARGET_NAMES) expect(stats.get(name)!.inputs, name).toBeGreaterThanOrEqual(150);
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
