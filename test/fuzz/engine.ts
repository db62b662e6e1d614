// The fuzz loop: mutants of each target's seeds, round robin by time spent, with the books the
// report needs (inputs, errors, errors without an offset, misreads, crashes, slow inputs).
// Findings are handed to `onFinding` with their input, at most one per target and signature.

import { createHash } from "node:crypto";
import { Mutator, Rng } from "./mutate.js";
import type { FuzzTarget, Outcome } from "./target.js";

export type FindingKind = "crash" | "hang" | "misread" | "no-offset";

export interface Finding {
  target: string;
  kind: FindingKind;
  /** One line: the exception or the oracle that failed. */
  message: string;
  /** Where a crash came from (the first frames of its stack). */
  where?: string;
  input: Uint8Array;
  ops: string[];
}

export interface TargetStats {
  inputs: number;
  errors: number;
  noOffset: number;
  misreads: number;
  crashes: number;
  hangs: number;
  /** Inputs that took over a second, and the longest one (ms). */
  slow: number;
  maxMs: number;
  ms: number;
}

export interface LoopOptions {
  seed: number;
  /** Stop after this many inputs in all, or at this time (ms, performance.now()). */
  inputs?: number;
  until?: number;
  /** Largest input (default 1 MiB). */
  maxBytes?: number;
  onFinding?: (f: Finding) => void;
  /** Called before each input runs (the watchdog keeps it, to save it if the run hangs). */
  onInput?: (target: number, input: Uint8Array) => void;
  /** Which target goes next: the one with the least time so far (default), or the fewest inputs
   *  (the same sequence of inputs on every run, for tests). */
  balance?: "time" | "count";
  /** Filled as the loop goes (default: a new map, returned at the end). */
  stats?: Map<string, TargetStats>;
}

export function emptyStats(): TargetStats {
  return { inputs: 0, errors: 0, noOffset: 0, misreads: 0, crashes: 0, hangs: 0, slow: 0, maxMs: 0, ms: 0 };
}

/** Signature of a finding: same kind, target and place count once. */
export function signature(f: Pick<Finding, "target" | "kind" | "message" | "where">): string {
  const text = `${f.target}|${f.kind}|${f.message.replace(/\d+/g, "N")}|${f.where ?? ""}`;
  return createHash("sha1").update(text).digest("hex").slice(0, 12);
}

/** Runs mutants of the targets' seeds; returns per-target stats. */
export async function fuzzLoop(targets: readonly FuzzTarget[], opts: LoopOptions): Promise<Map<string, TargetStats>> {
  const stats = opts.stats ?? new Map<string, TargetStats>();
  for (const t of targets) if (!stats.has(t.name)) stats.set(t.name, emptyStats());
  const mutator = new Mutator(new Rng(opts.seed));
  const seen = new Set<string>();
  let total = 0;
  const report = (f: Finding) => {
    const key = signature(f);
    if (seen.has(key)) return;
    seen.add(key);
    opts.onFinding?.(f);
  };
  const done = () => (opts.inputs !== undefined && total >= opts.inputs) || (opts.until !== undefined && performance.now() >= opts.until);

  // The seeds themselves first: they must all read cleanly.
  for (const [i, t] of targets.entries()) {
    for (const seed of t.seeds) {
      await runOne(t, i, seed.bytes, [], seed, true);
      if (done()) return stats;
    }
  }
  while (!done()) {
    // The target that has had the least time (or the fewest inputs) so far goes next.
    const weight = (t: FuzzTarget) => (opts.balance === "count" ? stats.get(t.name)!.inputs : stats.get(t.name)!.ms);
    let i = 0;
    for (let k = 1; k < targets.length; k++) if (weight(targets[k]!) < weight(targets[i]!)) i = k;
    const t = targets[i]!;
    const seed = mutator.rng.pick(t.seeds);
    const m = mutator.mutate(seed, t.seeds, opts.maxBytes);
    await runOne(t, i, m.bytes, m.ops, seed, m.inPlace);
  }
  return stats;

  async function runOne(t: FuzzTarget, index: number, input: Uint8Array, ops: string[], seed: FuzzTarget["seeds"][number], inPlace: boolean): Promise<void> {
    const s = stats.get(t.name)!;
    opts.onInput?.(index, input);
    const started = performance.now();
    let outcome: Outcome | undefined;
    try {
      outcome = await t.run(input, seed, inPlace);
    } catch (e) {
      s.crashes++;
      const err = e as Error;
      report({ target: t.name, kind: "crash", message: `${err?.name ?? "Error"}: ${err?.message ?? String(e)}`, where: stackTop(err), input, ops });
    }
    const ms = performance.now() - started;
    s.inputs++;
    total++;
    s.ms += ms;
    s.maxMs = Math.max(s.maxMs, ms);
    if (ms > 1000) s.slow++;
    if (!outcome) return;
    if (outcome.error !== undefined) s.errors++;
    if (outcome.noOffset) {
      s.noOffset++;
      report({ target: t.name, kind: "no-offset", message: outcome.error ?? "", input, ops });
    }
    if (outcome.misread) {
      s.misreads++;
      report({ target: t.name, kind: "misread", message: outcome.misread, input, ops });
    }
    if (outcome.hang) {
      s.hangs++;
      report({ target: t.name, kind: "hang", message: outcome.hang, input, ops });
    }
  }
}

/** The first frames of a stack that are in taskscope's own code. */
export function stackTop(e: Error | undefined): string | undefined {
  const lines = (e?.stack ?? "").split("\n").filter((l) => /^\s+at /.test(l) && /host\//.test(l));
  return lines.slice(0, 2).map((l) => l.trim().replace(/\(.*?(host\/[^:)]+).*\)/, "($1)").replace(/^at .*?(host\/[^:)]+).*$/, "at $1")).join(" < ") || undefined;
}
