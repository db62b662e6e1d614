// The device clock is a free-running u32 that wraps every 2^32 ticks (71 minutes at 1 MHz). Held
// exactly over many wraps, end to end: the real core (wasm) records a workload whose clock passes
// dozens of wraps, some gaps close to a whole wrap; its drains go through the ingest and writer
// into a trace file; the reader, the report, the OTLP export and the Perfetto export must each
// give every time to the nanosecond, as the workload's own 64-bit clock says.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadHarness, ROOT } from "./support/core-harness.js";
import { decodeOtlpFile } from "./support/otlp-decode.js";
import { readPerfetto } from "./support/perfetto-decode.js";
import { TraceWriter } from "../host/tracefile/writer.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { TraceIngest } from "../host/pull/ingest.js";
import { analyzeTrace } from "../host/model/analyze.js";
import { buildReport } from "../host/report/report-data.js";
import { exportOtlp } from "../host/export/otlp/export.js";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { EVENT, LOG_ARG } from "../host/format/spec.js";
import { decodeRecords, decodeChunk, EventBatch } from "../host/format/index.js";

const HZ = 1_000_000; // 1 tick = 1 µs = 1000 ns
const WRAP = 2 ** 32;
const UNIX0 = 1_800_000_000_000_000_000n;

interface Logged {
  kind: number;
  ticks: number;
  task: number;
}

let dir: string;
let file: string;
const log: Logged[] = [];
let t0 = 0;
let wraps = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-wrap-"));
  file = join(dir, "wrap.trace.cbor");
  const h = loadHarness();
  const e = h.e as unknown as Record<string, (...a: (number | bigint)[]) => number>;
  const writer = new TraceWriter(file);
  writer.header({ tool: "clock-wrap test", source: "core-harness" });
  const ingest = new TraceIngest(writer);
  // The workload's own 64-bit time; the core sees only its low 32 bits.
  let ticks = WRAP - 1000;
  t0 = ticks;
  const anchor = { ticks: t0, unixNs: UNIX0 };
  const drain = () => {
    e.taskscope_flush!();
    do {
      const n = e.taskscope_drain!();
      ingest.push(new Uint8Array(h.e.memory.buffer, e.taskscope_buffer!(), n).slice(), anchor);
    } while (e.taskscope_pending!() !== 0);
  };
  const at = (fn: () => void) => {
    h.clock.raw = ticks % WRAP;
    h.clock.step = 0;
    fn();
  };
  let seed = 12345;
  const random = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  // Mostly short steps; every few events a gap of most of a wrap (the core must still see one
  // reading per wrap, which every event is).
  const step = () => {
    const r = random();
    ticks += r < 0.12 ? 3_000_000_000 + Math.floor(random() * 1_200_000_000) : r < 0.3 ? Math.floor(random() * 5_000_000) : 1 + Math.floor(random() * 200);
  };
  const record = (kind: number, task: number, fn: () => void) => {
    step();
    at(fn);
    log.push({ kind, ticks, task });
  };
  // A Pending right after the task's AWAIT is merged into it (wire format 2, AWAIT_PENDING):
  // no clock read, the AWAIT's time. An executor calls awaitAt just before the poll returns, so
  // no time passes here; a step would also be a stretch of time the core never reads.
  const recordMergedPending = (task: number) => {
    at(() => e.pollEnd!(0));
    log.push({ kind: EVENT.POLL_PENDING, ticks, task });
  };

  at(() => h.e.setup!(0, HZ));
  const worker = h.e.internFixed!(1);
  const site = h.e.internFixed!(2);
  const tasks = Array.from({ length: 12 }, (_, i) => i + 1);
  for (const task of tasks) record(EVENT.SPAWN, task, () => e.taskSpawn!(task, 0, worker));
  for (let round = 0; round < 8; round++) {
    for (const task of tasks) {
      record(EVENT.WAKE_EXT, task, () => e.wakeExternal!(task));
      record(EVENT.POLL_BEGIN, task, () => e.pollBegin!(task));
      if (round < 7) {
        record(EVENT.AWAIT, task, () => e.awaitAt!(site, 0));
        recordMergedPending(task);
      } else {
        record(EVENT.POLL_READY, task, () => e.pollEnd!(1));
        record(EVENT.TASK_DONE, task, () => e.taskEnd!(task, 0));
      }
    }
    at(drain);
  }
  at(drain);
  ingest.finish("exit 0");
  writer.close();
  wraps = Math.floor(ticks / WRAP) - Math.floor(t0 / WRAP);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ns = (ticks: number) => ticks * 1000;
const unix = (ticks: number) => UNIX0 + BigInt(ticks - t0) * 1000n;

/** Expected polls: [task, begin ticks, end ticks], in order. */
function polls(): [number, number, number][] {
  const open = new Map<number, number>();
  const out: [number, number, number][] = [];
  for (const l of log) {
    if (l.kind === EVENT.POLL_BEGIN) open.set(l.task, l.ticks);
    if (l.kind === EVENT.POLL_READY || l.kind === EVENT.POLL_PENDING) out.push([l.task, open.get(l.task)!, l.ticks]);
  }
  return out;
}

const byPair = (a: [bigint, bigint], b: [bigint, bigint]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);

describe("the device clock held exactly over many 32-bit wraps", () => {
  it("the workload passes at least 10 wraps, some gaps most of a wrap long", () => {
    expect(wraps).toBeGreaterThanOrEqual(10);
    const gaps = log.slice(1).map((l, i) => l.ticks - log[i]!.ticks);
    expect(Math.max(...gaps)).toBeGreaterThan(3_000_000_000);
    expect(Math.max(...gaps)).toBeLessThan(WRAP);
  });

  it("reader: every event at its time to the nanosecond, nothing lost", () => {
    const trace = readWholeTrace(file);
    expect(trace.damaged).toEqual([]);
    expect(trace.losses).toEqual([]);
    const rows = trace.sessions[0]!.rows.filter((r) => r.kind !== LOG_ARG);
    expect(rows.map((r) => [r.kind, r.task, r.t])).toEqual(log.map((l) => [l.kind, l.task, ns(l.ticks)]));
  });

  it("report: lifetimes, busy time and the session start exact", () => {
    const a = analyzeTrace(file);
    const r = buildReport(file, a.summary, a.model, { lints: a.lints, slow: a.slow });
    const s = r.sessions[0]!;
    expect(s.firstNs).toBe(ns(log[0]!.ticks));
    expect(s.lastNs).toBe(ns(log.at(-1)!.ticks));
    expect(s.durationNs).toBe(ns(log.at(-1)!.ticks - log[0]!.ticks));
    expect(BigInt(s.startUnixNs)).toBe(unix(log[0]!.ticks));
    for (const t of r.tasks) {
      const mine = log.filter((l) => l.task === t.id);
      const spawn = mine.find((l) => l.kind === EVENT.SPAWN)!.ticks;
      const done = mine.find((l) => l.kind === EVENT.POLL_READY)!.ticks; // Ready ends a task
      expect(t.spawnedNs).toBe(ns(spawn));
      expect(t.endedNs).toBe(ns(done));
      expect(t.totalNs).toBe(ns(done - spawn));
      const busy = polls().filter(([task]) => task === t.id).reduce((sum, [, b, e]) => sum + (e - b), 0);
      expect(t.busyNs, `task ${t.id}`).toBe(ns(busy));
      expect(t.polls).toBe(8);
    }
  });

  it("OTLP export: every poll span starts and ends at its Unix time to the nanosecond", async () => {
    const out = join(dir, "wrap.otlp.jsonl");
    await exportOtlp(file, { toolVersion: "test", file: { path: out, format: "json" } });
    // JSON Lines: one request per line, all of them read.
    const spans = decodeOtlpFile(new Uint8Array(readFileSync(out)), "json").filter((s) => s.name === "poll");
    const got = spans.map((s): [bigint, bigint] => [s.startTimeUnixNano, s.endTimeUnixNano]).sort(byPair);
    const want = polls().map(([, b, e]): [bigint, bigint] => [unix(b), unix(e)]).sort(byPair);
    expect(got).toEqual(want);
  });

  it("Perfetto export (protobuf): every poll slice at its Unix time to the nanosecond", async () => {
    const out = join(dir, "wrap.pftrace");
    await exportPerfetto(file, { out });
    const p = readPerfetto(new Uint8Array(readFileSync(out)));
    const got = p.slices.filter((s) => s.name === "poll").map((s): [bigint, bigint] => [s.begin, s.end]).sort(byPair);
    const want = polls().map(([, b, e]): [bigint, bigint] => [unix(b), unix(e)]).sort(byPair);
    expect(got).toEqual(want);
  });

  it("Perfetto export (JSON): every poll slice at its time to the microsecond tick", async () => {
    const out = join(dir, "wrap.perfetto.json");
    await exportPerfetto(file, { out, format: "json" });
    const doc = JSON.parse(readFileSync(out, "utf8")) as {
      traceEvents: { ph: string; ts?: number; dur?: number; name?: string }[];
      otherData: { taskscope: { time_base_unix_ns: string } };
    };
    const base = BigInt(doc.otherData.taskscope.time_base_unix_ns);
    // Polls are complete ("X") slices: ts and dur in microseconds after the time base.
    const us = (v: number) => BigInt(Math.round(v * 1000));
    const got = doc.traceEvents
      .filter((ev) => ev.ph === "X" && ev.name === "poll")
      .map((ev): [bigint, bigint] => [base + us(ev.ts!), base + us(ev.ts!) + us(ev.dur!)]);
    const want = polls().map(([, b, e]): [bigint, bigint] => [unix(b), unix(e)]).sort(byPair);
    expect(got.sort(byPair)).toEqual(want);
  });
});

// On a board the core hides its own link work and drains from device time (core/clock.ts
// pauseClock): the pause reads the clock, so it is a reading like now(). One late in a gap of
// most of a wrap moves the clock's base past the last event; an event soon after then sits a raw
// difference of almost nothing from the last one, across a wrap, and must not take the fast path
// (whose 32-bit delta would lose the wrap).
describe("the device clock over a wrap around the core's own hidden work", () => {
  function device() {
    const clock = { raw: 1000 };
    const module = new WebAssembly.Module(readFileSync(join(ROOT, "build/test/link-harness.wasm")));
    const instance = new WebAssembly.Instance(module, {
      taskscope: { clock: () => clock.raw % WRAP, link_write: () => {} },
    });
    const e = instance.exports as Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };
    e.setup!(0, HZ);
    const times = (): [string, number][] => {
      e.taskscope_flush!();
      const batch = new EventBatch();
      const n = e.taskscope_drain!();
      for (const r of decodeRecords(new Uint8Array(e.memory.buffer, e.taskscope_buffer!(), n).slice())) {
        if (r.type === "CHUNK") decodeChunk(r.payload, HZ, batch);
      }
      return batch.toEvents().map((r) => [r.name!, r.t]);
    };
    return { e, clock, times };
  }

  const hiddenWork: [string, (e: ReturnType<typeof device>["e"]) => void][] = [
    ["the link's service", (e) => e.taskscope_link_service!()],
    ["a receive interrupt's decoding", (e) => {
      new Uint8Array(e.memory.buffer, e.taskscope_link_rx_buffer!(), 2).set([0, 0]);
      e.taskscope_link_receive!(2);
    }],
  ];
  for (const [what, work] of hiddenWork) {
    it(`${what} late in a long gap: the next event is a whole wrap later, not 50 ticks`, () => {
      const d = device();
      d.e.pollBegin!(3);
      d.clock.raw += WRAP - 50;
      work(d.e);
      d.clock.raw += 100;
      d.e.pollEnd!(1);
      const t = d.times();
      expect(t.map(([name]) => name)).toEqual(["POLL_BEGIN", "POLL_READY"]);
      expect(t[1]![1] - t[0]![1]).toBe(ns(WRAP + 50));
    });
  }
});
