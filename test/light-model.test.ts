// The light model (ModelOptions.analysis: false, what the exports run) against the full one: its
// observers must be told exactly the same things, with the same arguments, over every kind of
// trace: the demo firmware's scenarios, the bench workloads (with and without a report window),
// the fuzz corpus's damaged files, and generated event streams that hit every guard (tasks first
// seen mid-run, ids reused without an end, polls cut short or ending without a begin, stale
// wakes and waker drops, gaps, windows, LOG arguments cut off at a batch's end).
//
// Both models read the same batches side by side; a recording observer turns every call into a
// plain value (records as the fields observers may read, OBSERVED_TASK_FIELDS), and the two
// recordings are compared after every batch, so a difference names the batch it appeared in.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import fc from "fast-check";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EventBatch } from "../host/format/batch.js";
import { EVENT, LOG_ARG } from "../host/format/spec.js";
import { Analyzer } from "../host/model/analyze.js";
import { OBSERVED_RESOURCE_FIELDS, OBSERVED_TASK_FIELDS, type ModelObserver } from "../host/model/observer.js";
import type { ModelOptions, TraceModel } from "../host/model/trace-model.js";
import { TraceModel as Model } from "../host/model/trace-model.js";
import { openTrace } from "../host/tracefile/trace.js";
import { writeWorkload } from "../bench/workloads.js";
import { pullDemoTrace } from "./support/otlp-traces.js";

/** Every ModelObserver call, recorded as plain values. */
class Recorder {
  readonly calls: unknown[][] = [];
  readonly observer: ModelObserver;

  constructor() {
    const methods: (keyof ModelObserver)[] = [
      "sessionStart", "advance", "taskStart", "pollBegin", "poll", "resumed", "await", "wake", "taskEnd", "flowBegin", "flowEnd",
      "flowEnter", "log", "mark", "counter", "memory", "resourceOp", "idle", "interrupt", "timerArm", "timerFire", "sessionClosing", "sessionEnd",
    ];
    const o: Record<string, (...args: unknown[]) => void> = {};
    for (const m of methods) o[m] = (...args: unknown[]) => void this.calls.push([m, ...args.map(plain)]);
    this.observer = o as ModelObserver;
  }
}

function pick(x: object, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) out[f] = (x as Record<string, unknown>)[f];
  return out;
}

function plain(x: unknown): unknown {
  if (x === null || typeof x !== "object") return x;
  if (Array.isArray(x)) return x.map(plain);
  if ("incarnation" in x) return { task: pick(x, OBSERVED_TASK_FIELDS) };
  if ("waiters" in x) return { resource: pick(x, OBSERVED_RESOURCE_FIELDS) };
  return { ...x }; // a session span
}

interface Pair {
  full: TraceModel;
  light: TraceModel;
  fullCalls: Recorder;
  lightCalls: Recorder;
}

function pair(options: ModelOptions = {}): Pair {
  const fullCalls = new Recorder();
  const lightCalls = new Recorder();
  return {
    full: new Model({ ...options, observer: fullCalls.observer }),
    light: new Model({ ...options, analysis: false, observer: lightCalls.observer }),
    fullCalls,
    lightCalls,
  };
}

/** Compares (and forgets) what both observers were told so far; returns the number of calls. */
function compare(p: Pair, where: string): number {
  const n = p.fullCalls.calls.length;
  if (p.lightCalls.calls.length !== n || JSON.stringify(p.lightCalls.calls) !== JSON.stringify(p.fullCalls.calls)) {
    expect(p.lightCalls.calls, where).toEqual(p.fullCalls.calls);
  }
  p.fullCalls.calls.length = 0;
  p.lightCalls.calls.length = 0;
  return n;
}

/** What the exports read of the model besides observer calls: guard counts, sessions, executor
 *  totals, resources, incarnations. */
function compareState(p: Pair, where: string): void {
  const state = (m: TraceModel) => ({
    stats: m.stats, sessions: m.sessions, gaps: m.gaps, taskCount: m.taskCount,
    executor: { busyNs: m.executor.busyNs, idleNs: m.executor.idleNs, polls: m.executor.polls, isrNs: m.executor.isrNs },
    resources: m.resources.map((r) => pick(r, OBSERVED_RESOURCE_FIELDS)),
  });
  expect(state(p.light), where).toEqual(state(p.full));
}

/** Reads a trace file through both models (each behind an Analyzer, as the exports do: gaps
 *  noted from chunk numbers); returns the calls compared. */
function compareFile(path: string, options: ModelOptions = {}): number {
  const fullCalls = new Recorder();
  const lightCalls = new Recorder();
  const full = new Analyzer({ ...options, observer: fullCalls.observer });
  const light = new Analyzer({ ...options, analysis: false, observer: lightCalls.observer });
  const p: Pair = { full: full.model, light: light.model, fullCalls, lightCalls };
  const trace = openTrace(path, { badChunks: "skip" });
  let calls = 0;
  let batches = 0;
  for (const { session, batch } of trace.batches()) {
    full.consume(batch, session);
    light.consume(batch, session);
    calls += compare(p, `${path}, batch ${batches++}`);
  }
  trace.close();
  full.model.finish();
  light.model.finish();
  calls += compare(p, `${path}, finish`);
  compareState(p, path);
  return calls;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-light-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the light model tells observers what the full one does", () => {
  it("on the demo firmware's scenarios", async () => {
    for (const scenario of [undefined, "lost-wakeup", "deadlock", "slow-requests", "leak"]) {
      const file = await pullDemoTrace(join(dir, `${scenario ?? "clean"}.trace.cbor`), scenario);
      expect(compareFile(file)).toBeGreaterThan(1000);
      // A window that opens and closes mid-run (the state before it is still replayed).
      expect(compareFile(file, { window: { sinceNs: 20_000_000, untilNs: 200_000_000 } })).toBeGreaterThan(0);
    }
  }, 120_000);

  it("on the bench workloads, whole and through a window", () => {
    for (const kind of ["fixed", "spawn"] as const) {
      const file = join(dir, `${kind}.trace.cbor`);
      writeWorkload(file, 60_000, kind);
      expect(compareFile(file)).toBeGreaterThan(60_000);
      expect(compareFile(file, { window: { sinceNs: 5_000_000, untilNs: 40_000_000 } })).toBeGreaterThan(0);
    }
  });

  it("on the fuzz corpus's damaged trace files", () => {
    const corpus = join(import.meta.dirname, "fuzz/corpus/tracefile");
    let read = 0;
    for (const f of readdirSync(corpus)) {
      try {
        compareFile(join(corpus, f));
        read++;
      } catch (e) {
        // A file the reader refuses is refused before either model sees a batch.
        if (!(e instanceof Error) || e.name !== "TraceFileError") throw e;
      }
    }
    expect(read).toBeGreaterThan(0);
  });

  // Generated streams: few task ids (0 = none, one past the dense table) and small field values, so
  // ids collide, spawns repeat, polls interleave and resources, flows and names are shared.
  const KINDS = [...Object.values(EVENT), LOG_ARG, LOG_ARG, 0x3f];
  const TASKS = [0, 1, 2, 3, 4, 70_000];
  // Lifecycle events weigh more, so ends, stale wakes and reused ids come often in every run.
  const LIFECYCLE = [EVENT.SPAWN, EVENT.POLL_BEGIN, EVENT.POLL_PENDING, EVENT.POLL_READY, EVENT.WAKE_TASK, EVENT.WAKE_SELF, EVENT.TASK_DONE, EVENT.TASK_CANCEL, EVENT.WAKER_DROP];
  const row = fc.record({
    kind: fc.oneof({ arbitrary: fc.constantFrom(...LIFECYCLE), weight: 1 }, { arbitrary: fc.constantFrom(...KINDS), weight: 1 }),
    dt: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1_000, max: 20_000_000 })),
    task: fc.constantFrom(...TASKS),
    a: fc.oneof(fc.constantFrom(...TASKS), fc.integer({ min: 0, max: 9 })),
    b: fc.integer({ min: 0, max: 6 }),
    c: fc.integer({ min: 0, max: 4 }),
    v: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 100_000_000 })),
  });
  const session = fc.record({
    rows: fc.array(row, { maxLength: 300 }),
    cuts: fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 6 }),
    gap: fc.option(fc.integer({ min: 1, max: 5 })),
  });
  const names = (id: number) => (id >= 1 && id <= 4 ? `name ${id}` : undefined);

  it("on generated event streams that hit every guard", () => {
    let calls = 0;
    const guards = { pollEndsWithoutBegin: 0, pollsCut: 0, staleWakes: 0, lostEnds: 0, gaps: 0, firstSeen: 0 };
    fc.assert(
      fc.property(
        fc.array(session, { minLength: 1, maxLength: 3 }),
        fc.option(fc.record({ sinceNs: fc.integer({ min: 0, max: 40_000_000 }), untilNs: fc.option(fc.integer({ min: 0, max: 80_000_000 }), { nil: undefined }) }), { nil: undefined }),
        (sessions, window) => {
          // Small thresholds: the full model's analysis runs its every branch beside the light one.
          const p = pair({ window, thresholds: { longPollNs: 20, stuckNs: 10, lateTimerNs: 5 } });
          let t = 1_000;
          sessions.forEach((s, index) => {
            const ctx = { index, name: names };
            const cuts = [...new Set([0, ...s.cuts.filter((c) => c < s.rows.length), s.rows.length])].sort((x, y) => x - y);
            for (let k = 0; k + 1 < cuts.length; k++) {
              const batch = new EventBatch(4);
              for (const r of s.rows.slice(cuts[k], cuts[k + 1])) batch.push(r.kind, (t += r.dt), r.task, r.a, r.b, r.c, r.v);
              if (k === 1 && s.gap !== null) for (const m of [p.full, p.light]) m.noteGap(index, s.gap, batch.t[0] ?? t, t);
              p.full.consume(batch, ctx);
              p.light.consume(batch, ctx);
              calls += compare(p, `session ${index}, batch ${k}`);
            }
          });
          p.full.finish();
          p.light.finish();
          calls += compare(p, "finish");
          compareState(p, "end");
          for (const k of ["pollEndsWithoutBegin", "pollsCut", "staleWakes", "lostEnds"] as const) guards[k] += p.light.stats[k];
          guards.gaps += p.light.gaps.length;
          guards.firstSeen += p.full.tasks.filter((x) => x.spawnedAt === undefined).length;
        },
      ),
      { numRuns: 400 },
    );
    expect(calls).toBeGreaterThan(10_000);
    // Every guard was hit, several times over (each is hit some 20 to 1,500 times in 400 runs).
    for (const [k, n] of Object.entries(guards)) expect(n, k).toBeGreaterThan(5);
  });
});

describe("the light model keeps no analysis", () => {
  it("holds no ended records, groups, flows or figures for the lints", () => {
    const file = join(dir, "spawn-small.trace.cbor");
    writeWorkload(file, 30_000, "spawn");
    const light = new Analyzer({ analysis: false });
    const trace = openTrace(file);
    for (const { session, batch } of trace.batches()) light.consume(batch, session);
    light.model.finish();
    const m = light.model;
    expect(m.taskCount).toBeGreaterThan(100);
    expect(m.groups.exemplars()).toEqual([]);
    expect(m.longPolls.size + m.lateTimers.size + m.passedOverBy.size + m.lostWakeEpisodes.length).toBe(0);
    expect(m.flows.get(0, 1)).toBeUndefined();
    expect(m.growth.memory.size + m.growth.channels.size).toBe(0);
    // What the exports read is still there.
    expect(m.stats.lostEnds + m.executor.polls).toBeGreaterThan(0);
  });
});
