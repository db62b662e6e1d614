// The core on a real instruction set: the firmware of firmware-examples/cortex-m, built by
// `npm run build:mcu` (AssemblyScript -> wasm2c -> arm-none-eabi-gcc), booted in QEMU's mps2-an385
// (Cortex-M3) and pulled by the built trace-pull over the board's UART, which QEMU connects to a
// pseudo-terminal (test/support/qemu-board.ts). Every count is checked against the device's own
// counters; the lints the demo's scenarios give must be the ones the WASI build gives
// (test/scenario.test.ts), and with instruction-counted time they do not depend on host load.
//
// Needs qemu-system-arm and the build (npm run build; .ci/run installs the packages).

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { QemuBoard } from "./support/qemu-board.js";
import { startPull, waitFor } from "./support/trace-pull-run.js";
import { SCENARIO_LINTS, type ScenarioName } from "./support/scenario-lints.js";
import { readWholeTrace, type WholeTrace } from "../host/tracefile/trace.js";
import { analyzeTrace } from "../host/model/analyze.js";
import { buildReport } from "../host/report/report-data.js";
import { renderTextReport } from "../host/report/text-report.js";
import { EVENT } from "../host/format/spec.js";

const MCU = join(ROOT, "build/mcu");
/** firmware-examples/cortex-m/demo/main.ts: SCENARIOS */
const SCENARIO_INDEX: Record<ScenarioName, number> = { clean: 0, "lost-wakeup": 1, deadlock: 2, "cpu-hog": 3, "slow-requests": 4, leak: 5 };

let dir: string;
beforeAll(() => {
  for (const f of ["demo.elf", "c-superloop.elf", "c-superloop-small.elf", "sizes.json"].map((f) => join(MCU, f))) {
    if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build (build:mcu needs wabt, gcc-arm-none-eabi and libnewlib-arm-none-eabi)`);
  }
  dir = mkdtempSync(join(tmpdir(), "taskscope-mcu-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pull = (args: string[]) => startPull(args, dir);

/** The number the firmware printed on its console after `label` (board_console_u32). */
function consoleNumber(text: string, label: string): number {
  const m = new RegExp(`${label} 0x([0-9a-f]+)`).exec(text);
  if (!m) throw new Error(`no "${label}" on the console:\n${text}`);
  return parseInt(m[1]!, 16);
}

/** Boots `elf`, lets it finish (its console says `done`), pulls everything with --dump. */
async function bootAndDump(elf: string, param: number, done: RegExp, name: string) {
  const board = await QemuBoard.start({ elf: join(MCU, elf), dir, param });
  try {
    await board.waitForConsole(done);
    const file = join(dir, `${name}.trace.cbor`);
    const r = await pull(["--port", board.tty, "--dump", "-o", file]).result;
    expect(r.code, r.stderr).toBe(0);
    return { board, file, r, trace: readWholeTrace(file), console: board.consoleText };
  } finally {
    await board.stop();
  }
}

function expectComplete(trace: WholeTrace, recorded: number): void {
  expect(trace.sessions).toHaveLength(1);
  const s = trace.sessions[0]!;
  expect(s.info.format).toBe(2);
  expect(s.info.device).toBe("mps2-an385");
  expect(s.info.tickHz).toBe(25_000_000);
  expect(s.counters).toMatchObject({ recorded, drained: recorded, droppedOverwritten: 0, droppedFull: 0 });
  expect(s.events).toBe(recorded);
  expect(trace.losses).toEqual([]);
}

describe("the demo on a Cortex-M3 (QEMU mps2-an385), pulled over its UART", () => {
  it("dump: every event the board recorded, nothing lost, no lint for the clean demo", async () => {
    const { trace, console, r, file } = await bootAndDump("demo.elf", SCENARIO_INDEX.clean, /scenario done/, "clean");
    expect(console).toContain("demo: 32 requests served");
    const recorded = consoleNumber(console, "demo: events recorded");
    expect(recorded).toBeGreaterThan(10_000);
    // Between the scenario's end and the dump the board only idled, outside the executor: the
    // counters the dump ends with are the console's.
    expectComplete(trace, recorded);
    expect(r.stderr).toMatch(/nothing dropped on the device; nothing lost on the link/);
    const s = trace.sessions[0]!;
    const names = new Set(s.names.entries().map((n) => n.text));
    for (const n of ["main", "producer", "http-server", "worker"]) expect(names).toContain(n);
    // The idle wake-up interrupt is recorded as an ISR; the link's own work is not in device time.
    expect(s.rows.some((row) => row.kind === EVENT.ISR_ENTER && row.a === 9)).toBe(true);
    expect(s.counters!.hiddenTicks).toBeGreaterThan(0);
    const a = analyzeTrace(file);
    expect(a.lints).toEqual([]);
    // The report says how much of the board's time was the core's own (40 ns per 25 MHz tick).
    const report = buildReport(file, a.summary, a.model, { lints: a.lints, slow: a.slow });
    expect(report.sessions[0]!.deviceHiddenNs).toBe(s.counters!.hiddenTicks! * 40);
    expect(renderTextReport(report)).toMatch(/device clock: left out [\d.]+(ns|µs|ms|s) of the core's own link service and drains on the device/);
  }, 120_000);
});

describe("the demo's scenarios on the board give the lints the WASI build gives", () => {
  for (const scenario of ["lost-wakeup", "deadlock", "cpu-hog", "slow-requests", "leak"] as const) {
    it(scenario, async () => {
      const { trace, file, console } = await bootAndDump("demo.elf", SCENARIO_INDEX[scenario], /scenario done/, scenario);
      expectComplete(trace, consoleNumber(console, "demo: events recorded"));
      const { kind, check } = SCENARIO_LINTS[scenario];
      const lints = analyzeTrace(file).lints;
      // Device time counts instructions: no host stall can put another lint first.
      expect(lints[0]?.kind, lints.map((l) => l.title).join(" | ")).toBe(kind);
      check(lints[0]!);
    }, 120_000);
  }
});

describe("streaming from the board", () => {
  it("follows the board as it records, across a reset mid-stream: two sessions, the second complete", async () => {
    // The board waits, stopped, until trace-pull has the port open; then it boots into the stream.
    // Its sleeps take host time, so the demo runs for most of a second, as on a real board.
    const board = await QemuBoard.start({ elf: join(MCU, "demo.elf"), dir, param: SCENARIO_INDEX.clean, paused: true, time: "host" });
    const file = join(dir, "stream.trace.cbor");
    const p = pull(["--port", board.tty, "--stream", "-o", file]);
    try {
      await waitFor("trace-pull to open the port", () => existsSync(file));
      await board.cont();
      await board.waitForConsole(/demo: boot 0x00000001/);
      // Reset while the demo runs and the stream carries it.
      await waitFor("chunks to stream", () => readFileSync(file).length > 8_000);
      await board.reset();
      await board.waitForConsole(/demo: boot 0x00000002[\s\S]*scenario done/);
      const recorded = consoleNumber(board.consoleText.slice(board.consoleText.indexOf("boot 0x00000002")), "demo: events recorded");
      await waitFor("the second boot's events to arrive", () => {
        try {
          const s = readWholeTrace(file).sessions[1];
          return s !== undefined && s.events >= recorded;
        } catch {
          return false; // a file caught mid-write
        }
      });
      p.child.kill("SIGINT");
      const r = await p.result;
      expect(r.code, r.stderr).toBe(0);
      const trace = readWholeTrace(file);
      expect(trace.footer?.reason).toBe("interrupted");
      expect(trace.sessions).toHaveLength(2);
      const [first, second] = trace.sessions as [WholeTrace["sessions"][0], WholeTrace["sessions"][0]];
      expect(second.info.deviceSession).not.toBe(first.info.deviceSession);
      // The second boot: every event, nothing lost.
      expect(second.counters).toMatchObject({ recorded, drained: recorded, droppedOverwritten: 0 });
      expect(second.events).toBe(recorded);
      expect(trace.losses.filter((l) => l.session === 1)).toEqual([]);
      // The first: what arrived decodes; anything the reset cut off between chunks that did arrive
      // is reported as a link loss, not left as a silent gap.
      expect(first.events).toBeGreaterThan(1000);
      expect(trace.losses.filter((l) => l.session === 0 && l.kind !== "link")).toEqual([]);
    } finally {
      p.child.kill("SIGKILL");
      await board.stop();
    }
  }, 180_000);

  it("--live shows the stuck task while it is stuck", async () => {
    const board = await QemuBoard.start({ elf: join(MCU, "demo.elf"), dir, param: SCENARIO_INDEX["lost-wakeup"] });
    const file = join(dir, "live.trace.cbor");
    const p = pull(["--port", board.tty, "--live", "-o", file]);
    try {
      let snapshot = "";
      await waitFor("a task table with the stuck reader", () => {
        const blocks = p.stdout().split("\n\n").filter((b) => b.includes("STUCK"));
        snapshot = blocks.at(-1) ?? "";
        return /^uart-reader\s+\d+\s+STUCK \(no waker\)/m.test(snapshot);
      });
      expect(snapshot).toMatch(/uart-reader: read frame/);
      p.child.kill("SIGINT");
      const r = await p.result;
      expect(r.code, r.stderr).toBe(0);
    } finally {
      p.child.kill("SIGKILL");
      await board.stop();
    }
  }, 120_000);
});

describe("C firmware over taskscope.h", () => {
  it("the super-loop example: its tasks, the interrupt that wakes one, flows through the queue, nothing lost", async () => {
    const { trace, file, console } = await bootAndDump("c-superloop.elf", 0, /c-superloop: done/, "c-superloop");
    const recorded = consoleNumber(console, "c-superloop: done, events recorded");
    expectComplete(trace, recorded);
    const s = trace.sessions[0]!;
    expect(s.info.firmware).toBe("taskscope c-superloop 0.1");
    const names = new Set(s.names.entries().map((n) => n.text));
    for (const n of ["sensor", "filter", "reporter", "sensor: wait for a sample", "samples", "sample"]) expect(names).toContain(n);
    const count = (kind: number, pred: (i: number) => boolean = () => true) => s.rows.filter((r, i) => r.kind === kind && pred(i)).length;
    expect(count(EVENT.ISR_ENTER)).toBe(150); // one per sample
    expect(count(EVENT.WAKE_IRQ)).toBeGreaterThan(0); // the interrupt woke the sensor
    expect(count(EVENT.FLOW_BEGIN)).toBe(150);
    expect(count(EVENT.FLOW_END)).toBe(150);
    expect(count(EVENT.TASK_DONE)).toBe(3);
    expect(analyzeTrace(file).lints.filter((l) => l.severity === "error")).toEqual([]);
  }, 120_000);

  it("the small configuration records and pulls a useful trace in 8 KiB of RAM", async () => {
    // Linked for a part with 8 KiB of RAM (the link fails otherwise); what taskscope itself takes:
    const sizes = JSON.parse(readFileSync(join(MCU, "sizes.json"), "utf8"));
    const small = sizes.firmware["c-superloop-small.elf"];
    const core = small.objects["taskscope.o"].ram + small.objects["wasm-rt-static.o"].ram;
    expect(core).toBeLessThanOrEqual(8 * 1024);
    expect(small.data + small.bss).toBeLessThanOrEqual(8 * 1024);
    // A 14-chunk ring holds about 600 events (80 ms of this firmware); it records ~15,000 over
    // 2 s, streamed as they come. Whatever the ring overwrote before the host's first HELLO got
    // through, or while a loaded host fell behind by more than the ring holds, is counted on the
    // board; the link itself loses nothing.
    // (Sleeps in host time: the board records at the pace a real one would while the host streams.)
    const board = await QemuBoard.start({ elf: join(MCU, "c-superloop-small.elf"), dir, paused: true, time: "host" });
    const file = join(dir, "small.trace.cbor");
    const p = pull(["--port", board.tty, "--stream", "-o", file]);
    try {
      await waitFor("trace-pull to open the port", () => existsSync(file));
      await board.cont();
      await board.waitForConsole(/c-superloop: done/);
      const recorded = consoleNumber(board.consoleText, "c-superloop: done, events recorded");
      expect(recorded).toBeGreaterThan(10_000);
      await waitFor("the last events to arrive", () => {
        try {
          const s = readWholeTrace(file).sessions[0];
          return s?.counters !== undefined && s.events + s.counters.droppedOverwritten >= recorded;
        } catch {
          return false;
        }
      });
      p.child.kill("SIGINT");
      const r = await p.result;
      expect(r.code, r.stderr).toBe(0);
      const trace = readWholeTrace(file);
      const s = trace.sessions[0]!;
      expect(s.info).toMatchObject({ chunkSize: 128, chunkCount: 14, namesCapacity: 512, maxTasks: 16 });
      const c = s.counters!;
      expect(c.recorded).toBe(recorded);
      // Every event is in the file or counted as overwritten on the board; every event the board
      // sent arrived; and the trace is useful: more than a ring's worth, every name, analysable.
      expect(s.events + c.droppedOverwritten).toBe(recorded);
      expect(c.drained).toBe(s.events);
      expect(s.events).toBeGreaterThan(14 * 40);
      expect(c.namesDropped).toBe(0);
      expect(trace.losses.every((l) => l.kind === "link")).toBe(true);
      const lost = trace.losses.reduce((n, l) => n + l.chunks, 0);
      expect(lost).toBeLessThanOrEqual(c.chunksOverwritten); // the gaps are the board's overwrites
      expect(analyzeTrace(file).lints.filter((l) => l.severity === "error")).toEqual([]);
    } finally {
      p.child.kill("SIGKILL");
      await board.stop();
    }
  }, 120_000);
});
