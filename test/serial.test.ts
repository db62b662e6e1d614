// trace-pull --port as a user runs it: the built CLI, real ptys (socat), the serialport package,
// and a simulated board running the serial-device firmware under node:wasi on the other end
// (test/support/device-sim.ts). Between them, where a test says so, a relay that damages bytes,
// drops them, inserts garbage, or plays a pulled cable (test/support/fault-relay.ts).
// Every count is checked exactly against what the device itself recorded or sent.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SerialPort } from "serialport";
import { ROOT } from "./support/core-harness.js";
import { startPull, type PullResult } from "./support/trace-pull-run.js";
import { startPtyPair, type PtyPair } from "./support/pty.js";
import { DeviceSim, SERIAL_DEVICE_16K_WASM, type DeviceSimOptions } from "./support/device-sim.js";
import { FaultRelay, CLEAN, type FaultPlan } from "./support/fault-relay.js";
import { readWholeTrace, openTrace, type WholeTrace } from "../host/tracefile/trace.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-serial-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Run = PullResult;

/** Starts the built trace-pull; `result` settles when it exits. */
function pull(args: string[], debugLink = process.env["TASKSCOPE_DEBUG_LINK"] === "1") {
  return startPull(args, dir, { ...process.env, TASKSCOPE_DEBUG_LINK: debugLink ? "1" : "" });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds. The bound is generous (a loaded CI box is slow) and only matters when
 *  something is broken: the wait ends as soon as the condition holds. */
async function waitFor(what: string, cond: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

/** A board booting into a running trace-pull: the board is got ready first (firmware compiled,
 *  UART open, powered off), then trace-pull starts, and once it has the port open (it has created
 *  `file`) the board is switched on. So the board's start-up, however slow on a loaded machine,
 *  never eats into trace-pull's wait for a first answer. */
async function bootIntoPull(args: string[], file: string, board: DeviceSimOptions, debugLink?: boolean) {
  const sim = await DeviceSim.start({ ...board, hold: true });
  const p = pull(args, debugLink);
  try {
    await waitFor("trace-pull to open the port", () => existsSync(file));
  } catch (e) {
    p.child.kill("SIGKILL");
    await sim.stop();
    throw e;
  }
  sim.powerOn();
  return { p, sim };
}

/** Chunks of device session `id` the relay passed to the host side in intact frames. */
function deliveredOf(relay: FaultRelay, id: number): number {
  let n = 0;
  for (const key of relay.deliveredIntact) if (key.startsWith(`${id}:`)) n++;
  return n;
}

/** One line, no stack trace: what a user sees for bad input. */
function expectOneLineError(stderr: string, ...fragments: string[]): void {
  const lines = stderr.trim().split("\n").filter((l) => !l.startsWith("Try '"));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  for (const f of fragments) expect(lines[0]).toContain(f);
}

/** The stored chunks of a trace: "session-id:seq" -> sha1, failing on a chunk stored twice. */
function storedChunks(file: string): Map<string, string> {
  const trace = openTrace(file);
  const out = new Map<string, string>();
  // Read the raw items: the chunk bytes as stored, not the decoded events.
  const reader = (trace as unknown as { reader: Iterable<{ type: string; session: number; chunks?: Uint8Array[] }> }).reader;
  trace.close();
  const sessions: number[] = [];
  for (const item of reader) {
    if (item.type === "session") sessions.push((item as unknown as { info: { deviceSession: number } }).info.deviceSession);
    if (item.type !== "chunks") continue;
    for (const c of item.chunks!) {
      const key = `${sessions[item.session]}:${new DataView(c.buffer, c.byteOffset).getUint32(0, true)}`;
      expect(out.has(key), `chunk ${key} stored twice`).toBe(false);
      out.set(key, createHash("sha1").update(c).digest("hex"));
    }
  }
  return out;
}

/** The link figures of trace-pull's summary line. */
function linkSummary(stderr: string) {
  const m = /link: ([\d,]+) frames(?:, (\d+) damaged)?(?:, (\d+) missing)?/.exec(stderr);
  expect(m, stderr).not.toBeNull();
  const n = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(/,/g, "")));
  return { frames: n(m![1]), damaged: n(m![2]), missing: n(m![3]) };
}

/** Chunk seqs of one session, sorted, checked to run without a gap except where a loss item says. */
function expectContiguous(trace: WholeTrace, index: number): void {
  const gaps = trace.losses.filter((l) => l.session === index && l.kind === "seq-gap");
  expect(gaps, `seq gaps not reported as link losses: ${JSON.stringify(trace.losses)}`).toEqual([]);
}

describe("trace-pull --port over a clean pty", () => {
  let pty: PtyPair;
  beforeAll(async () => {
    pty = await startPtyPair(dir, "dev0", "host0");
  });
  afterAll(async () => pty?.stop());

  it("streams a whole run from boot: every event the device recorded, quietly off a terminal", async () => {
    const file = join(dir, "stream.trace.cbor");
    // trace-pull says hello first; the board boots into it (its ring holds the whole demo, so
    // however long trace-pull takes to start streaming, nothing is overwritten).
    const { p, sim } = await bootIntoPull(["--port", pty.b, "--stream", "-o", file], file, { tty: pty.a, scenario: "demo", sessions: [0xc0ffee] });
    await waitFor("the demo to end on the board", () => sim.scenarioDone);
    p.child.kill("SIGINT"); // stop: the closing dump takes whatever the stream has not carried yet
    const r = await p.result;
    const boot = await sim.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain("\r"); // no progress line off a terminal
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/nothing dropped on the device; nothing lost on the link/);
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toBe("interrupted");
    expect(trace.sessions).toHaveLength(1);
    const s = trace.sessions[0]!;
    const c = s.counters!;
    expect(s.info.deviceSession).toBe(0xc0ffee);
    expect(s.info.device).toBe("serial-sim");
    expect(boot.recorded).toBeGreaterThan(10_000); // the demo ran to the end
    expect(s.events).toBe(boot.recorded); // every event, exactly
    expect(c).toMatchObject({ recorded: boot.recorded, drained: boot.recorded, droppedOverwritten: 0, droppedFull: 0, pendingEvents: 0 });
    expect(trace.losses).toEqual([]);
    const names = new Set(s.names.entries().map((n) => n.text));
    for (const n of ["main", "producer", "http-server", "worker"]) expect(names).toContain(n);
  }, 60_000);

  it("shows a progress line on a terminal (bytes, events, rate, frames damaged and lost)", async () => {
    const sim = await DeviceSim.start({ tty: pty.a, scenario: "demo-loop" });
    try {
      const file = join(dir, "tty.trace.cbor");
      const cmd = [process.execPath, join(ROOT, "dist/host/cli/trace-pull.js"), "--port", pty.b, "--duration", "1", "-o", file];
      // script(1) runs the command on a pseudo-terminal of its own: stderr is a terminal there.
      const r = spawnSync("script", ["-qec", cmd.map((a) => `'${a}'`).join(" "), "/dev/null"], { encoding: "utf8", cwd: dir });
      expect(r.status, r.stdout + r.stderr).toBe(0);
      const updates = r.stdout.split("\r").filter((l) => l.startsWith("host0: "));
      expect(updates.length).toBeGreaterThan(1);
      expect(updates.at(-1), JSON.stringify(updates.slice(-2))).toMatch(/^host0: [\d,]+ events, [\d.]+ (KiB|MiB|B), frames damaged 0 lost 0, [\d,]+ ev\/s [\d.]+ (KiB|MiB|B)\/s/);
      expect(r.stdout).toMatch(/trace-pull: wrote .*tty\.trace\.cbor/);
    } finally {
      await sim.stop();
    }
  });

  it("--clear starts the pull on an empty ring in a new session; --filter records only what it names", async () => {
    const sim = await DeviceSim.start({ tty: pty.a, scenario: "demo-loop", sessions: [0xabc] });
    try {
      await waitFor("the board to record before the pull", () => sim.recorded > 1000);
      const file = join(dir, "filtered.trace.cbor");
      const r = await pull(["--port", pty.b, "--duration", "1", "--clear", "--filter", "task,poll", "-o", file]).result;
      expect(r.code, r.stderr).toBe(0);
      const trace = readWholeTrace(file);
      expect(trace.footer?.reason).toBe("duration");
      expect(trace.sessions).toHaveLength(1); // the session before the clear is not in the file
      const s = trace.sessions[0]!;
      expect(s.info.deviceSession).not.toBe(0xabc);
      expect(s.info.filter).toBe(0b11);
      const kinds = new Set(s.rows.map((row) => row.kind));
      expect([...kinds].every((k) => [0x01, 0x02, 0x03, 0x04, 0x0b, 0x0c].includes(k)), [...kinds].join(",")).toBe(true);
      expect(s.events).toBeGreaterThan(0);
      // Counted from the clear: nothing before it, nothing lost after it.
      expect(s.counters).toMatchObject({ drained: s.events, droppedOverwritten: 0 });
      expect(r.stderr).not.toContain("device sessions"); // one session in the file
      const bad = await pull(["--port", pty.b, "--filter", "tasks"]).result;
      expect(bad.code).toBe(2);
      expectOneLineError(bad.stderr, "--filter: unknown category 'tasks'");
    } finally {
      await sim.stop();
    }
  });

  it("dumps what a running device holds: overwritten events counted, the rest all there", async () => {
    // The default 16 KiB ring: the demo (~13k events, ~45 KiB of chunks) overflows it before
    // anyone asks, since nobody asks before the demo is over.
    const sim = await DeviceSim.start({ tty: pty.a, scenario: "demo", sessions: [0xd00d], wasmPath: SERIAL_DEVICE_16K_WASM });
    await waitFor("the demo to end on the board", () => sim.scenarioDone);
    const file = join(dir, "dump.trace.cbor");
    const r = await pull(["--port", pty.b, "-o", file]).result;
    const boot = await sim.stop();
    expect(r.code, r.stderr).toBe(0);
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toBe("dump complete");
    const s = trace.sessions[0]!;
    const c = s.counters!;
    expect(s.info.chunkCount).toBe(64);
    expect(c.recorded).toBe(boot.recorded);
    expect(c.droppedOverwritten).toBeGreaterThan(0);
    expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
    expect(c.pendingEvents).toBe(0);
    expect(s.events).toBe(c.drained);
    expect(r.stderr).toContain(`${c.droppedOverwritten.toLocaleString("en-US")} events dropped on the device`);
  });

  it("a second pull of the same boot: the first pull's events are named as such, not as lost", async () => {
    // The board runs the demo in a loop on a 16 KiB ring: by the second pull, what the first one
    // took has been overwritten by newer events.
    const sim = await DeviceSim.start({ tty: pty.a, scenario: "demo-loop", sessions: [0xd00e], wasmPath: SERIAL_DEVICE_16K_WASM });
    try {
      const first = join(dir, "first.trace.cbor");
      const second = join(dir, "second.trace.cbor");
      await waitFor("the board to record", () => sim.recorded > 5_000);
      const r1 = await pull(["--port", pty.b, "-o", first]).result;
      expect(r1.code, r1.stderr).toBe(0);
      const after = sim.recorded;
      await waitFor("the board to record a ring's worth more", () => sim.recorded > after + 20_000);
      sim.windDown();
      await waitFor("the demo loop to wind down", () => sim.scenarioDone);
      const r2 = await pull(["--port", pty.b, "-o", second]).result;
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stderr).toContain("nothing lost on the link");
      const s1 = readWholeTrace(first).sessions[0]!;
      const s2 = readWholeTrace(second).sessions[0]!;
      expect(r2.stderr).toMatch(/[\d,]+ events went to an earlier pull of this boot/);

      expect(s1.info.earlier).toBeUndefined();
      expect(s2.info.earlier?.drained).toBe(s1.counters!.drained);
      // The chunks still in the ring come again: the second file starts with them.
      expect(s2.events).toBeGreaterThan(0);

      const report = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-report.js"), second, "--json"], { encoding: "utf8" });
      expect(report.status, report.stderr).toBe(0);
      const loss = JSON.parse(report.stdout).sessions[0].loss;
      expect(loss.lostInTransfer).toBe(0);
      // Every event the device handed over is in one of the two files, or went to the first pull.
      expect(loss.pulledEarlier + s2.events).toBe(s2.counters!.drained);
      expect(loss.pulledEarlier).toBeGreaterThan(0);
    } finally {
      await sim.stop();
    }
  });

  it("says in one line when the port is missing, busy, or has no device on it", async () => {
    const missing = await pull(["--port", join(dir, "no-such-tty")]).result;
    expect(missing.code).toBe(1);
    expectOneLineError(missing.stderr, "no-such-tty: no such port");

    const holder = new SerialPort({ path: pty.b, baudRate: 115200, autoOpen: false });
    await new Promise<void>((done, fail) => holder.open((e) => (e ? fail(e) : done())));
    try {
      const busy = await pull(["--port", pty.b]).result;
      expect(busy.code).toBe(1);
      expectOneLineError(busy.stderr, "is busy: another program has it open");
    } finally {
      await new Promise<void>((done) => holder.close(() => done()));
    }

    const silent = await pull(["--port", pty.b, "-o", join(dir, "silent.trace.cbor")]).result; // nothing on pty.a
    expect(silent.code).toBe(1);
    expectOneLineError(silent.stderr, "no answer from the device", "taskscope's link");

    const flags = await pull(["--port", pty.b, "--dump", "--stream"]).result;
    expect(flags.code).toBe(2);
    expect(flags.stderr).toContain("choose one");
    const wasiFlag = await pull(["--wasi", "x.wasm", "--baud", "9600"]).result;
    expect(wasiFlag.code).toBe(2);
  });
});

describe("trace-pull --port through a noisy link", () => {
  // Bit-error rate 1e-4 and dropped bytes both ways, some inserted garbage.
  const NOISE: FaultPlan = { bitErrorRate: 1e-4, dropRate: 1e-4, insertRate: 2e-5 };
  const seed = Number(process.env["TASKSCOPE_FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  let devPty: PtyPair;
  let hostPty: PtyPair;
  let relay: FaultRelay;
  let sim: DeviceSim;
  let run: Run;
  let file: string;
  let boot: Awaited<ReturnType<DeviceSim["stop"]>>;

  beforeAll(async () => {
    devPty = await startPtyPair(dir, "dev1", "relay1");
    hostPty = await startPtyPair(dir, "relay2", "host1");
    relay = await FaultRelay.start({ devicePath: devPty.b, hostPath: hostPty.a, toHost: NOISE, toDevice: NOISE, seed });
    file = join(dir, "noisy.trace.cbor");
    const started = await bootIntoPull(["--port", hostPty.b, "--stream", "-o", file], file, { tty: devPty.a, scenario: "demo-loop" });
    const p = started.p;
    sim = started.sim;
    // Enough to mean something: a few hundred chunks through the noise (however long a loaded
    // box takes), then stop, with the closing dump through the noise too.
    await waitFor("200 chunks through the noisy link", () => relay.deliveredIntact.size >= 200, 60_000);
    p.child.kill("SIGINT");
    run = await p.result;
    boot = await sim.stop();
    await sleep(100); // what the board still wrote reaches the relay's books
  }, 90_000);
  afterAll(async () => {
    await relay?.stop();
    await hostPty?.stop();
    await devPty?.stop();
  });

  it(`finishes with a complete file (fault seed ${seed})`, () => {
    expect(run.code, run.stderr).toBe(0);
    expect(relay.toHost.stats.bitFlips + relay.toHost.stats.dropped).toBeGreaterThan(20); // the link was noisy
    expect(relay.toDevice.stats.bytesIn).toBeGreaterThan(0);
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toBe("interrupted");
    expect(trace.truncated).toBeUndefined();
  });

  it("counts damage exactly: every intact frame decoded, every damaged one dropped", () => {
    const host = linkSummary(run.stderr);
    expect(host.frames).toBe(relay.toHost.stats.intact);
    expect(host.damaged).toBe(relay.toHost.stats.damaged);
    expect(relay.toHost.stats.damaged).toBeGreaterThan(0);
  });

  it("never stores a damaged chunk: each one is byte-identical to what the device sent", () => {
    const stored = storedChunks(file);
    expect(relay.conflicts).toBe(0);
    expect(stored.size).toBeGreaterThanOrEqual(200);
    for (const [key, sha1] of stored) expect(relay.reference.get(key)?.sha1, key).toBe(sha1);
    // ...and every chunk that reached the host in an intact frame is in the file.
    for (const key of relay.deliveredIntact) expect(stored.has(key), key).toBe(true);
  });

  it("reports what the link lost, as exact counts", () => {
    const trace = readWholeTrace(file);
    expect(trace.sessions).toHaveLength(1);
    const s = trace.sessions[0]!;
    const c = s.counters!;
    const id = s.info.deviceSession;
    expectContiguous(trace, 0);
    // Missing chunks are reported as loss items: sent and lost on the link (the relay saw them
    // go), or overwritten on the device before they could be sent (it never did).
    const lost = trace.losses.filter((l) => l.kind === "link");
    let linkEvents = 0;
    let linkChunks = 0;
    let neverSent = 0;
    for (const l of lost) {
      for (let seq = l.fromSeq!; seq <= l.toSeq!; seq++) {
        const ref = relay.reference.get(`${id}:${seq}`);
        if (ref) {
          linkEvents += ref.events;
          linkChunks++;
        } else neverSent++;
      }
    }
    // The device's counters split them exactly: drained - stored = lost on the link.
    expect(s.events + linkEvents).toBe(c.drained);
    expect(neverSent).toBeLessThanOrEqual(c.chunksOverwritten);
    expect(c.recorded).toBe(c.drained + c.droppedOverwritten + c.pendingEvents);
    expect(boot.recorded).toBeGreaterThanOrEqual(c.recorded);
    if (linkEvents > 0) expect(run.stderr).toContain(`${linkEvents.toLocaleString("en-US")} events lost on the link`);
    else expect(run.stderr).toContain("nothing lost on the link");
  });
});

describe("trace-pull --port when the device resets or the cable is pulled", () => {
  let devPty: PtyPair;
  let hostPty: PtyPair;
  let relay: FaultRelay;
  beforeAll(async () => {
    devPty = await startPtyPair(dir, "dev2", "relay3");
    hostPty = await startPtyPair(dir, "relay4", "host2");
    relay = await FaultRelay.start({ devicePath: devPty.b, hostPath: hostPty.a, toHost: CLEAN, toDevice: CLEAN, seed: 1 });
  });
  afterAll(async () => {
    await relay?.stop();
    await hostPty?.stop();
    await devPty?.stop();
  });

  it("a reset mid-stream: one valid file, a session per boot, no chunk twice", async () => {
    const file = join(dir, "reset.trace.cbor");
    const { p, sim } = await bootIntoPull(["--port", hostPty.b, "--stream", "-o", file], file, { tty: devPty.a, scenario: "demo", sessions: [0x1111, 0x2222] });
    await waitFor("the first boot's chunks to stream", () => deliveredOf(relay, 0x1111) >= 4);
    const first = await sim.reset(); // mid-stream
    // The second boot runs the demo to its end, and trace-pull has found it (a rebooted device
    // is silent until asked); the closing dump takes the rest.
    await waitFor("the second boot's demo to end", () => sim.bootsStarted === 2 && sim.scenarioDone);
    await waitFor("the second boot's chunks to stream", () => deliveredOf(relay, 0x2222) > 0);
    p.child.kill("SIGINT");
    const r = await p.result;
    const second = await sim.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("2 device sessions");
    const stored = storedChunks(file); // fails on a chunk stored twice
    for (const [key, sha1] of stored) expect(relay.reference.get(key)?.sha1).toBe(sha1);
    const trace = readWholeTrace(file);
    expect(trace.footer?.reason).toBe("interrupted");
    expect(trace.sessions.map((s) => s.info.deviceSession)).toEqual([0x1111, 0x2222]);
    expectContiguous(trace, 0);
    expectContiguous(trace, 1);
    const [a, b] = trace.sessions;
    // The first boot: what it sent before the reset is all there, in order.
    expect(a!.events).toBeGreaterThan(0);
    expect(a!.events).toBeLessThanOrEqual(first.recorded);
    // (Its last counters may be older than its last chunks: the board reset without warning.)
    expect(a!.events).toBeGreaterThanOrEqual(a!.counters!.drained);
    // The second: everything it recorded, except what its ring overwrote before trace-pull
    // noticed the reset (a rebooted device is silent until asked), which it counted.
    const c = b!.counters!;
    expect(c).toMatchObject({ recorded: second.recorded, drained: b!.events, pendingEvents: 0 });
    expect(b!.events + c.droppedOverwritten).toBe(second.recorded);
    // Any gap in the second boot is chunks its ring overwrote before they could be sent (it
    // streams only once asked): none of them ever went on the wire.
    for (const l of trace.losses.filter((x) => x.session === 1)) {
      for (let seq = l.fromSeq!; seq <= l.toSeq!; seq++) expect(relay.reference.has(`${0x2222}:${seq}`), `chunk ${seq}`).toBe(false);
    }
    // What the first boot had sent when it reset and never arrived (its UART's queue went with
    // it) is reported, after the last chunk that did.
    for (const l of trace.losses.filter((x) => x.session === 0)) {
      expect(l).toMatchObject({ kind: "link", reason: "the device restarted before it arrived" });
    }
  }, 60_000);

  it("a cable pulled and plugged back: the same session carries on, nothing twice, loss bounded and exact", async () => {
    const file = join(dir, "cable.trace.cbor");
    // The default 16 KiB ring, which the board (recording all along) overflows while the cable is
    // out: what is lost then is bounded by flow control, not by a ring that holds everything.
    const board = { tty: devPty.a, scenario: "demo-loop", sessions: [0x3333], wasmPath: SERIAL_DEVICE_16K_WASM };
    const { p, sim } = await bootIntoPull(["--port", hostPty.b, "--stream", "-o", file], file, board);
    await waitFor("the stream to flow", () => deliveredOf(relay, 0x3333) >= 4);
    relay.dead = true; // wires pulled mid-stream: nothing passes for a while
    await sleep(800);
    relay.dead = false;
    const intactBefore = relay.toHost.stats.intact;
    await waitFor("the device to be heard again", () => relay.toHost.stats.intact > intactBefore);
    sim.windDown(); // the board finishes its round of the demo and stops recording
    await waitFor("the board to stop recording", () => sim.scenarioDone);
    p.child.kill("SIGINT"); // the closing dump takes what the stream has not carried yet
    const r = await p.result;
    const boot = await sim.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(relay.toHost.stats.dropped + relay.toDevice.stats.dropped).toBeGreaterThan(0); // the cable was out mid-conversation
    const trace = readWholeTrace(file);
    expect(trace.sessions).toHaveLength(1);
    const s = trace.sessions[0]!;
    expect(s.info.chunkCount).toBe(64);
    expectContiguous(trace, 0);
    const c = s.counters!;
    expect(c).toMatchObject({ recorded: boot.recorded, pendingEvents: 0 });
    // What the ring still held when the cable came back came through. Lost: at most the window
    // of chunks sent into the dead cable (flow control holds the rest back), and what the ring
    // overwrote meanwhile; both counted, exactly.
    const stored = storedChunks(file);
    const sentNotStored = [...relay.reference.keys()].filter((k) => k.startsWith(`${s.info.deviceSession}:`) && !stored.has(k));
    const window = Math.min(32, s.info.chunkCount / 4);
    expect(sentNotStored.length).toBeLessThanOrEqual(window);
    const linkLost = c.drained - s.events;
    const sentLostEvents = sentNotStored.reduce((n, k) => n + relay.reference.get(k)!.events, 0);
    expect(linkLost).toBe(sentLostEvents);
    expect(s.events + linkLost + c.droppedOverwritten).toBe(boot.recorded);
    // Every gap in the file is a reported loss (sent and lost, or overwritten before sending).
    const reported = trace.losses.filter((l) => l.kind === "link").reduce((n, l) => n + l.chunks, 0);
    expect(reported).toBeGreaterThanOrEqual(sentNotStored.length);
  }, 60_000);
});

describe("trace-pull --port when the adapter is unplugged", () => {
  it("reopens the port by path when it comes back and carries on in the same session", async () => {
    const devPty = await startPtyPair(dir, "dev5", "relay5");
    let hostPty = await startPtyPair(dir, "relay6", "host5");
    const relay = await FaultRelay.start({ devicePath: devPty.b, hostPath: hostPty.a, toHost: CLEAN, toDevice: CLEAN, seed: 2 });
    try {
      const file = join(dir, "unplug.trace.cbor");
      const { p, sim } = await bootIntoPull(["--port", hostPty.b, "--stream", "-o", file], file, { tty: devPty.a, scenario: "demo", sessions: [0x4444] });
      await waitFor("the stream to flow", () => deliveredOf(relay, 0x4444) >= 4);
      await hostPty.stop(); // the port vanishes under trace-pull mid-stream
      await sleep(300);
      hostPty = await startPtyPair(dir, "relay6", "host5"); // ...and comes back at the same path
      await relay.openHost();
      const heardBefore = relay.toDevice.stats.bytesIn;
      await waitFor("trace-pull to reopen the port and talk again", () => relay.toDevice.stats.bytesIn > heardBefore);
      await waitFor("the demo to end on the board", () => sim.scenarioDone);
      p.child.kill("SIGINT"); // the closing dump takes what the stream has not carried yet
      const r = await p.result;
      const boot = await sim.stop();
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain("port reopened 1 time");
      const trace = readWholeTrace(file);
      expect(trace.sessions.map((s) => s.info.deviceSession)).toEqual([0x4444]);
      expectContiguous(trace, 0);
      const s = trace.sessions[0]!;
      const c = s.counters!;
      storedChunks(file);
      expect(c.recorded).toBe(boot.recorded);
      expect(s.events + (c.drained - s.events) + c.droppedOverwritten).toBe(boot.recorded);
      expect(s.events).toBeGreaterThan(boot.recorded / 3);
    } finally {
      await relay.stop();
      await hostPty.stop();
      await devPty.stop();
    }
  }, 60_000);
});

describe("trace-pull --port killed at a random moment", () => {
  it("leaves a file trace-report reads up to its last complete record", async () => {
    const pty = await startPtyPair(dir, "dev3", "host3");
    try {
      const file = join(dir, "killed.trace.cbor");
      const { p, sim } = await bootIntoPull(["--port", pty.b, "--stream", "-o", file], file, { tty: pty.a, scenario: "demo-loop" });
      // Killed at a random moment once the device session is in the file (before that there is
      // nothing of the device to read back).
      await waitFor("the device session in the file", () => {
        try {
          return readWholeTrace(file).sessions.length === 1;
        } catch {
          return false; // not created yet, or its first item half written
        }
      });
      const at = Math.floor(Math.random() * 1500);
      await sleep(at);
      p.child.kill("SIGKILL");
      const r = await p.result;
      await sim.stop();
      expect(r.signal).toBe("SIGKILL");
      expect(statSync(file).size).toBeGreaterThan(0);
      const trace = readWholeTrace(file);
      expect(trace.footer, `killed ${at} ms after the session began`).toBeUndefined();
      expect(trace.sessions.length).toBe(1);
      const report = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-report.js"), file], { encoding: "utf8" });
      expect(report.status, report.stderr).toBe(0);
      expect(report.stdout).toMatch(/warning: the file (ends inside a record|has no footer)/);
      expect(report.stdout).toContain("device serial-sim");
    } finally {
      await pty.stop();
    }
  });
});

describe("trace-pull --live", () => {
  it("shows a stuck task while it is stuck", async () => {
    const pty = await startPtyPair(dir, "dev4", "host4");
    try {
      const file = join(dir, "live.trace.cbor");
      const { p, sim } = await bootIntoPull(["--port", pty.b, "--live", "-o", file], file, { tty: pty.a, scenario: "stuck" }, true);
      // The demo ends after ~0.7 s; the lost-wakeup task stays parked with no waker, forever.
      let snapshot = "";
      // Generous: it returns as soon as the snapshot appears; a loaded CI box can take seconds.
      const deadline = Date.now() + 25_000;
      while (Date.now() < deadline) {
        await sleep(200);
        const blocks = p.stdout().split("\n\n").filter((b) => b.includes("STUCK"));
        const last = blocks.at(-1);
        if (last && /main\s+\d+\s+done|live tasks/.test(last) && !/heartbeat/.test(last)) {
          snapshot = last;
          break;
        }
      }
      p.child.kill("SIGINT");
      const r = await p.result;
      const boot = await sim.stop();
      expect(boot.end, boot.detail).toBe("off");
      expect(snapshot, `${p.stdout().slice(-3000)}\n${r.stderr.slice(-4000)}`).toMatch(/^sensor-reader\s+\d+\s+STUCK \(no waker\)\s+\S+\s+1\s+\S+\s+never\s+sensor-reader: wait sample$/m);
      expect(r.code, r.stderr).toBe(0);
      const trace = readWholeTrace(file);
      expect(trace.footer?.reason).toBe("interrupted");
    } finally {
      await pty.stop();
    }
  }, 45_000);
});
