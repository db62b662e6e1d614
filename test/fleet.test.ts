// A fleet into one collector, as users run it: two simulated boards (the serial-device firmware
// under node:wasi, each on its own real pty from socat), each pulled by its own built
// `trace-pull --port ... --stream --otlp --endpoint URL` into one loopback OTLP/HTTP receiver.
// Every span must arrive exactly once or be counted as dropped, and be the span
// `trace-export --otlp` makes of that pull's own trace file (same id, same everything but where
// the lints sit), across a collector that answers 503 for a while and one that is down long
// enough to overflow the pullers' queues.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { DeviceSim } from "./support/device-sim.js";
import { startPtyPair, type PtyPair } from "./support/pty.js";
import { TestCollector } from "./support/collector.js";
import { decodeOtlpFile, type OtlpSpan } from "./support/otlp-decode.js";
import { cleanEnv, run, start, waitFor, within, type Run } from "./support/cli.js";
import { ROOT } from "./support/core-harness.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-fleet-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Board {
  name: string;
  pty: PtyPair;
  sim: DeviceSim;
  file: string;
  pull: ReturnType<typeof start>;
  stderr: () => string;
}

/** A board and its puller: the board is made ready first and powered on once trace-pull has the
 *  port open (so its start-up never eats into trace-pull's wait for a first answer). */
async function board(name: string, session: number, url: string, extra: string[], env: Record<string, string>): Promise<Board> {
  const pty = await startPtyPair(dir, `${name}-dev`, `${name}-host`);
  const sim = await DeviceSim.start({ tty: pty.a, scenario: "demo-loop", sessions: [session], hold: true });
  const file = join(dir, `${name}.trace.cbor`);
  const pull = start("trace-pull", ["--port", pty.b, "--stream", "--otlp", "--endpoint", url, "--json", "-o", file, ...extra], {
    cwd: dir,
    env: cleanEnv(env),
  });
  let stderr = "";
  pull.child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  await waitFor(`trace-pull for ${name} to open its port`, () => existsSync(file));
  sim.powerOn();
  return { name, pty, sim, file, pull, stderr: () => stderr };
}

/** Winds the board's loop down, stops the pull with Ctrl-C once the board is quiet, and powers
 *  the board off. */
async function finish(b: Board): Promise<Run> {
  b.sim.windDown();
  await waitFor(`${b.name}'s demo loop to wind down`, () => b.sim.scenarioDone);
  b.pull.child.kill("SIGINT");
  const r = await within(60_000, () => `trace-pull for ${b.name} to exit after Ctrl-C (its stderr: ${b.stderr().slice(-600)})`, b.pull.result);
  await within(60_000, `board ${b.name} to power off`, b.sim.stop());
  await within(30_000, `the pty pair of ${b.name} to close`, b.pty.stop());
  return r;
}

/** What trace-export --otlp makes of a trace file (protobuf, lints included), and its count of
 *  lints. */
function exported(file: string): { spans: OtlpSpan[]; lints: number } {
  const out = `${file}.pb`;
  const r = run("trace-export", ["--otlp", file, "-o", out, "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return { spans: decodeOtlpFile(readFileSync(out), "protobuf"), lints: (JSON.parse(r.stdout) as { lints: number }).lints };
}

/** A span as both exports must agree on it, lint events aside (a live export learns the lints at
 *  the end and puts them on the spans still open). */
function shape(s: OtlpSpan): string {
  const events = s.events.filter((e) => !e.name.startsWith("lint: ")).map((e) => `${e.name}@${e.timeUnixNano}`);
  return JSON.stringify([s.traceId, s.spanId, s.parentSpanId, s.name, s.kind, `${s.startTimeUnixNano}-${s.endTimeUnixNano}`, events, s.links.map((l) => l.spanId), s.attributes], (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

/** The spans the collector accepted from one puller (its trace file's source). */
const fromBoard = (c: TestCollector, b: Board) => c.spans().filter((s) => s.resource["taskscope.trace.source"] === `serial:${b.pty.b}`);

/** Requests from one puller, in order, with their answers. */
const requestsOf = (c: TestCollector, b: Board) => c.requests.filter((r) => r.spans[0]?.resource["taskscope.trace.source"] === `serial:${b.pty.b}`);

interface OtlpSummary {
  spans: number;
  sent: number;
  retried: number;
  lints: number;
  dropped: { queueFull: number; refused: number; unsent: number };
  queue: { maxSpans: number; peakSpans: number };
}

describe("a fleet of boards streaming into one collector", () => {
  it("delivers every span once, the same as trace-export of each pull's file, across 503s and an outage that overflows the queues", async () => {
    const c = await TestCollector.start();
    // Requests leave every 100 ms, and a queue of 300 spans fills within a second or two of an
    // outage at the rate these boards record. --timeout stays at its 10 s: a collector that
    // answers later than that (a loaded machine) may get a request twice, as OTLP delivers at
    // least once, and this test counts spans exactly.
    const env = { OTEL_BSP_SCHEDULE_DELAY: "100" };
    const extra = ["--queue-size", "300", "--batch-size", "100"];
    const boards = [await board("a", 0xa1, c.url, extra, env), await board("b", 0xb2, c.url, extra, env)];
    let runs: Run[] = [];
    try {
      await waitFor("both boards' spans at the collector", () => boards.every((b) => requestsOf(c, b).filter((r) => r.answer.status === 200).length >= 2));

      // A collector that answers 503 for a while: the exporter's backoff, then the queue's.
      const before = c.requests.length;
      c.answer(...Array.from({ length: 4 }, () => ({ status: 503 })));
      await waitFor("four 503 answers, then accepted requests from both", () =>
        c.requests.length >= before + 4 && boards.every((b) => requestsOf(c, b).slice(-1)[0]?.answer.status === 200));

      // Down long enough for both queues to fill: spans are dropped, counted, and said so.
      // What the pullers say is taken from before the collector goes down: a puller refused while
      // down() waits for the requests in flight to be answered says so then, and only once.
      // A queue is full when its last word on it is "full": on a loaded machine a slow collector
      // can fill a queue before the outage, and a queue says so once until it takes spans again.
      const said = boards.map((b) => b.stderr().length);
      await within(60_000, "the collector to stop listening", c.down());
      const saidSince = () => boards.map((b, k) => `${b.name} said: ${JSON.stringify(b.stderr().slice(said[k]).slice(-800))}`).join("; ");
      const queueFull = (b: Board) => b.stderr().lastIndexOf("OTLP: the queue is full") > b.stderr().lastIndexOf("takes spans again");
      await waitFor(() => `both pullers to say their queue is full and the collector cannot be reached (${saidSince()})`, () =>
        boards.every((b, k) => queueFull(b) && /OTLP: cannot reach/.test(b.stderr().slice(said[k]))), 150_000);
      await within(30_000, "the collector to listen again", c.up());
      await waitFor(() => `both pullers to say the collector takes spans again (${saidSince()})`, () => boards.every((b, k) => /takes spans again \([\d,]+ dropped meanwhile\)/.test(b.stderr().slice(said[k]))), 150_000);
    } finally {
      runs = await Promise.all(boards.map(finish));
      await within(30_000, "the collector to close", c.close());
    }
    // Each board's spans carry its own resource: its source, and its device session and instance.
    const resources = boards.map((b) => fromBoard(c, b).map((s) => `${String(s.resource["service.instance.id"])} ${String(s.resource["taskscope.device_session"])}`));
    expect(new Set(resources[0]).size).toBe(1);
    expect(new Set(resources[1]).size).toBe(1);
    expect(resources[0]![0]).not.toBe(resources[1]![0]);
    expect(c.spans().length).toBe(resources[0]!.length + resources[1]!.length);
    const answered503 = new Set(c.requests.filter((q) => q.answer.status === 503).flatMap((q) => q.spans.map((s) => s.spanId)));
    expect(answered503.size).toBeGreaterThan(0);

    for (const [i, b] of boards.entries()) {
      const r = runs[i]!;
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout) as { events: number; otlp: OtlpSummary };
      const o = summary.otlp;
      const { spans: file, lints } = exported(b.file);
      const got = fromBoard(c, b);
      // Exactly once: no span twice, none the file does not have, the rest counted as dropped.
      const ids = got.map((s) => s.spanId);
      expect(new Set(ids).size, `${b.name}: a span arrived twice`).toBe(ids.length);
      expect(o.spans).toBe(file.length);
      expect(o.sent).toBe(got.length);
      expect(o.dropped.queueFull).toBeGreaterThan(0);
      expect(o.dropped).toMatchObject({ refused: 0, unsent: 0 });
      expect(o.sent + o.dropped.queueFull).toBe(file.length);
      expect(o.retried).toBeGreaterThan(0);
      expect(o.queue.peakSpans).toBeLessThanOrEqual(o.queue.maxSpans);
      // The same spans as the file export, field for field (lint events aside).
      const byId = new Map(file.map((s) => [s.spanId, s]));
      for (const s of got) {
        const twin = byId.get(s.spanId);
        expect(twin, `${b.name}: ${s.name} ${s.spanId} is not in trace-export's output`).toBeDefined();
        expect(shape(s)).toBe(shape(twin!));
      }
      // A request answered 503 was sent again: its spans arrived, once.
      const idSet = new Set(ids);
      for (const q of requestsOf(c, b).filter((q) => q.answer.status === 503)) {
        for (const s of q.spans) expect(idSet.has(s.spanId), `${b.name}: span ${s.spanId} of a request answered 503 never arrived`).toBe(true);
      }
      // The lints went out at the end, as many as trace-export places.
      expect(o.lints).toBe(lints);
      expect(o.lints).toBeGreaterThan(0);
      // What the user read: the outage, the drops.
      expect(r.stderr).toMatch(/OTLP: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/traces/);
      expect(r.stderr).toMatch(/OTLP: the queue is full/);
    }
  }, 900_000);

  it("ends within --timeout when the collector is down at the end: what was not delivered is counted unsent", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const url = `http://127.0.0.1:${port}`;
    const b = await board("down", 0xc3, url, ["--timeout", "500", "--no-lints"], { OTEL_BSP_SCHEDULE_DELAY: "50" });
    await waitFor("the puller to say the collector cannot be reached", () => /OTLP: cannot reach/.test(b.stderr()));
    const r = await finish(b);
    expect(r.code, r.stderr).toBe(0);
    const o = (JSON.parse(r.stdout) as { otlp: OtlpSummary }).otlp;
    const file = exported(b.file).spans;
    expect(o.spans).toBe(file.length);
    expect(o.sent).toBe(0);
    expect(o.dropped.unsent).toBeGreaterThan(0);
    expect(o.dropped.unsent + o.dropped.queueFull).toBe(file.length);
    expect(o.lints).toBe(0);
    // The trace file is whole whatever the collector did.
    expect(run("trace-report", [b.file, "--json"], { cwd: dir }).code).toBe(0);
  }, 120_000);
});

describe("trace-pull --wasi --otlp", () => {
  it("sends the spans of a WASI run while it records: the spans trace-export --otlp makes of its file, each once", async () => {
    const c = await TestCollector.start();
    try {
      const file = join(dir, "demo.trace.cbor");
      const r = await start("trace-pull", ["--wasi", join(ROOT, "build/demo.wasm"), "--otlp", "--endpoint", c.url, "--json", "-o", file], { cwd: dir, env: cleanEnv() }).result;
      expect(r.code, r.stderr).toBe(0);
      const o = (JSON.parse(r.stdout) as { otlp: OtlpSummary }).otlp;
      const { spans: exportedSpans, lints } = exported(file);
      const got = c.spans();
      expect(new Set(got.map((s) => s.spanId)).size).toBe(got.length);
      expect(o).toMatchObject({ spans: exportedSpans.length, sent: exportedSpans.length, lints, dropped: { queueFull: 0, refused: 0, unsent: 0 } });
      expect(got.map(shape).sort()).toEqual(exportedSpans.map(shape).sort());
      expect(new Set(got.map((s) => s.resource["taskscope.trace.source"]))).toEqual(new Set(["wasi:demo.wasm"]));
    } finally {
      await c.close();
    }
  }, 120_000);

  it("says which flags go together", () => {
    const cases: [string[], string][] = [
      [["--wasi", "x.wasm", "--endpoint", "http://127.0.0.1:1"], "--endpoint goes with --otlp"],
      [["--port", "/dev/null", "--dump", "--otlp", "--endpoint", "http://127.0.0.1:1"], "--otlp sends spans while a stream records"],
      [["--wasi", "x.wasm", "--otlp"], "--otlp needs a collector"],
      [["--wasi", "x.wasm", "--otlp", "--endpoint", "http://127.0.0.1:1", "--queue-size", "0"], "--queue-size"],
    ];
    for (const [args, message] of cases) {
      const r = run("trace-pull", args, { cwd: dir, env: cleanEnv() });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});
