// The core on its targets, beside a hand-written C ring doing the same job (bench/mcu/c-ring.c,
// which writes the same bytes: checked here before anything is compared):
//   instructions per event on a Cortex-M3 (QEMU mps2-an385, -icount shift=0: one instruction per
//   virtual nanosecond, read from the board's 25 MHz timer) and on x86-64 (callgrind), for two
//   mixes: A = poll begin + poll end, B = poll begin + wake + await + poll end;
//   .text and static RAM of what a firmware links (bench/mcu/size-probe.c, build/mcu/sizes.json);
//   bytes per event of wire format 2 on the demo and on a server that spawns a task per request,
//   at 1, 16 and 64 MHz (under WASI), beside the same events in wire format 1.
// Each part that lacks its tool (arm-none-eabi-gcc and wasm2c for build:mcu, qemu-system-arm,
// valgrind) is skipped with one line saying so.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runWasi } from "../host/sources/wasi.js";
import { decodeRecords, decodeChunk, EventBatch } from "../host/format/index.js";
import { EVENTS, LOG_ARG } from "../host/format/spec.js";
import { encodeChunks, type WireEvent } from "../test/support/wire-encoder.js";
import type { Figure } from "./figure.js";

/** A figure before run.ts adds its ratio and whether it met its target. */
type McuFigure = Omit<Figure, "ratio" | "met">;

export interface McuBench {
  figures: McuFigure[];
  /** One line per part that could not run, saying why. */
  skipped: string[];
}

const ROOT = resolve(import.meta.dirname, "../..");
const MCU = join(ROOT, "build/mcu");
/** bench/mcu/bench-main.c */
const ITERATIONS_M3 = 20_000;
const ITERATIONS_X86 = 100_000;
const WARM_X86 = 1_000;
const EVENTS_PER_ITERATION = { a: 2, b: 4 } as const;
/** The board's timer runs at 25 MHz; with -icount shift=0 an instruction takes 1 ns: 40 per tick. */
const INSTRUCTIONS_PER_TICK = 40;

const has = (tool: string, args = ["--version"]) => spawnSync(tool, args, { stdio: "ignore" }).status === 0;

export async function benchMcu(log: (s: string) => void): Promise<McuBench> {
  const out: McuBench = { figures: [], skipped: [] };
  if (!existsSync(join(MCU, "sizes.json"))) {
    out.skipped.push("Cortex-M figures skipped: build/mcu was not built (npm run build:mcu needs wabt, gcc-arm-none-eabi and libnewlib-arm-none-eabi)");
  } else {
    if (has("qemu-system-arm")) {
      log("measuring: recording on a Cortex-M3 (QEMU)...");
      out.figures.push(...cortexM3());
    } else out.skipped.push("Cortex-M3 instruction counts skipped: qemu-system-arm is not installed");
    if (has("valgrind") && existsSync(join(MCU, "bench-core-x86"))) {
      log("measuring: recording on x86-64 (callgrind)...");
      out.figures.push(...x86());
    } else out.skipped.push("x86-64 instruction counts skipped: valgrind or a host C compiler is missing");
    out.figures.push(...sizes());
  }
  log("measuring: bytes per event at 1, 16 and 64 MHz...");
  out.figures.push(...(await bytesPerEvent()));
  return out;
}

// ---- instructions per event ----

function qemuTicks(elf: string): { a: number; b: number } {
  const r = spawnSync(
    "qemu-system-arm",
    ["-M", "mps2-an385", "-display", "none", "-monitor", "none", "-semihosting-config", "enable=on,target=native",
      "-icount", "shift=0", "-serial", "null", "-serial", "stdio", "-kernel", join(MCU, elf)],
    { encoding: "utf8", timeout: 120_000 },
  );
  const num = (label: string) => {
    const m = new RegExp(`${label} 0x([0-9a-f]+)`).exec(r.stdout);
    if (!m) throw new Error(`${elf} printed no "${label}" (exit ${r.status}): ${r.stdout}${r.stderr}`);
    return parseInt(m[1]!, 16);
  };
  if (num("bench: iterations") !== ITERATIONS_M3) throw new Error(`${elf}: unexpected iteration count`);
  return { a: num("bench: mix-a ticks"), b: num("bench: mix-b ticks") };
}

function cortexM3(): McuFigure[] {
  const core = qemuTicks("bench-core.elf");
  const ring = qemuTicks("bench-ring.elf");
  const perEvent = (ticks: number, mix: "a" | "b") => (ticks * INSTRUCTIONS_PER_TICK) / (ITERATIONS_M3 * EVENTS_PER_ITERATION[mix]);
  return (["a", "b"] as const).map((mix) => ({
    id: `m3_instructions_per_event_mix_${mix}`,
    what: `Cortex-M3 instructions per event, mix ${mix.toUpperCase()} (${mix === "a" ? "poll begin/end" : "poll, wake, await"})`,
    value: perEvent(core[mix], mix),
    unit: "instr",
    baseline: { what: "hand-written C ring, same bytes", value: perEvent(ring[mix], mix) },
    target: { op: "<=", value: 1.15, on: "ratio" },
  }));
}

function callgrind(binary: string, mix: "a" | "b"): number {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-callgrind-"));
  try {
    const r = spawnSync(
      "valgrind",
      ["--tool=callgrind", `--callgrind-out-file=${join(dir, "out")}`, `--toggle-collect=bench_mix_${mix}`, join(MCU, binary), `mix-${mix}`, String(ITERATIONS_X86)],
      { encoding: "utf8", timeout: 300_000 },
    );
    const m = /Collected : (\d+)/.exec(r.stderr);
    if (!m) throw new Error(`callgrind on ${binary}: ${r.stderr}`);
    return Number(m[1]) / ((ITERATIONS_X86 + WARM_X86) * EVENTS_PER_ITERATION[mix]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The core and the ring must have written the same chunks for the same calls and clock. */
function checkSameBytes(): void {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-same-"));
  try {
    const chunks = (binary: string) => {
      const file = join(dir, binary);
      const r = spawnSync(join(MCU, binary), ["dump", file], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(`${binary} dump: ${r.stderr}`);
      return decodeRecords(readFileSync(file)).filter((x) => x.type === "CHUNK").map((x) => Buffer.from(x.payload).toString("hex"));
    };
    const core = chunks("bench-core-x86");
    const ring = chunks("bench-ring-x86");
    if (core.length === 0 || core.join() !== ring.join()) throw new Error("the C ring and the core wrote different chunks: the comparison would not be like for like");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function x86(): McuFigure[] {
  checkSameBytes();
  return (["a", "b"] as const).map((mix) => {
    const ring = callgrind("bench-ring-x86", mix);
    return {
      id: `x86_instructions_per_event_mix_${mix}`,
      what: `x86-64 instructions per event, mix ${mix.toUpperCase()} (callgrind)`,
      value: callgrind("bench-core-x86", mix),
      unit: "instr",
      baseline: { what: "hand-written C ring, same bytes", value: ring },
      target: { op: "<=", value: 1.1, on: "ratio" },
    };
  });
}

// ---- sizes ----

interface Sizes {
  firmware: Record<string, { text: number; data: number; bss: number; objects: Record<string, { text: number; ram: number }> }>;
}

function sizes(): McuFigure[] {
  const s = JSON.parse(readFileSync(join(MCU, "sizes.json"), "utf8")) as Sizes;
  const part = (elf: string, objects: string[], what: "text" | "ram") =>
    objects.reduce((n, o) => n + (s.firmware[elf]?.objects[o]?.[what] ?? 0), 0);
  const LIB = ["taskscope.o", "wasm-rt-static.o"];
  const ringText = part("bench-ring.elf", ["c-ring.o"], "text");
  const ringRam = part("bench-ring.elf", ["c-ring.o"], "ram");
  const small = s.firmware["c-superloop-small.elf"]!;
  return [
    {
      id: "m3_core_text_bytes",
      what: "Cortex-M3 .text of the core for the ring's job (the bench's calls, start-up, drain, runtime)",
      value: part("bench-core.elf", LIB, "text"),
      unit: "B",
      baseline: { what: "hand-written C ring", value: ringText },
      target: { op: "<=", value: 4096 },
    },
    {
      id: "m3_core_text_bytes_all",
      what: "Cortex-M3 .text of the whole C API (every taskscope.h call but the link)",
      value: part("size-core.elf", LIB, "text"),
      unit: "B",
      baseline: { what: "the ring's job", value: part("bench-core.elf", LIB, "text") },
    },
    {
      id: "m3_core_text_bytes_link",
      what: "Cortex-M3 .text of the whole C API with the serial link",
      value: part("size-core-link.elf", LIB, "text"),
      unit: "B",
      baseline: { what: "without the link", value: part("size-core.elf", LIB, "text") },
    },
    {
      id: "m3_core_static_ram_bytes",
      what: "static RAM of the core, default configuration (64 x 256 B ring, names, link, drain buffer)",
      value: part("bench-core.elf", LIB, "ram"),
      unit: "B",
      baseline: { what: "hand-written C ring (64 x 256 B)", value: ringRam },
    },
    {
      id: "m3_small_static_ram_bytes",
      what: "static RAM of the core, small configuration (14 x 128 B ring, link only)",
      value: part("c-superloop-small.elf", LIB, "ram"),
      unit: "B",
      baseline: { what: "the whole C example firmware, stack included", value: small.data + small.bss },
      target: { op: "<=", value: 8192 },
    },
  ];
}

// ---- bytes per event ----

const RATES = [1_000_000, 16_000_000, 64_000_000];

async function bytesPerEvent(): Promise<McuFigure[]> {
  const { build } = (await import(pathToFileURL(join(ROOT, "firmware-examples/build.mjs")).href)) as {
    build(e: { entry: string; out: string; target: string; use?: string[] }): Promise<string | null>;
  };
  const workloads = [
    { name: "demo", entry: "firmware-examples/demo/main.ts", constant: "DEMO_TICK_HZ", args: [] as string[] },
    { name: "server", entry: "firmware-examples/server/main.ts", constant: "SERVER_TICK_HZ", args: ["2000"] },
  ];
  const jobs = workloads.flatMap((w) => RATES.map((hz) => ({ ...w, hz, out: `build/bench/mcu/${w.name}-${hz / 1e6}mhz.wasm` })));
  for (const j of jobs) {
    const error = await build({ entry: j.entry, out: j.out, target: "wasi", use: [`${j.constant}=${j.hz}`] });
    if (error) throw new Error(`bench: ${j.out}: ${error}`);
  }
  const figures: McuFigure[] = [];
  for (const j of jobs) {
    const m = await measureWorkload(join(ROOT, j.out), j.args);
    figures.push({
      id: `bytes_per_event_${j.name}_${j.hz / 1e6}mhz`,
      what: `bytes per event, ${j.name === "demo" ? "demo" : "server, a task per request"} at ${j.hz / 1e6} MHz (${m.events} events)`,
      value: m.bytes / m.events,
      unit: "B",
      baseline: { what: "the same events in wire format 1", value: m.v1Bytes / m.events },
      target: { op: "<=", value: 3.0 },
    });
  }
  return figures;
}

/** Runs a workload under WASI: its chunk bytes and events, and the bytes the same events take in
 *  wire format 1 (re-encoded from the decoded rows by the reference encoder, in chunks of the same
 *  size). */
async function measureWorkload(wasmPath: string, args: string[]): Promise<{ events: number; bytes: number; v1Bytes: number }> {
  let bytes = 0;
  let events = 0;
  let tickHz = 0;
  let chunkSize = 256;
  const rows: WireEvent[] = [];
  const batch = new EventBatch();
  await runWasi({
    wasmPath,
    args,
    onRecords: (buf) => {
      for (const r of decodeRecords(buf)) {
        if (r.type === "INFO") {
          tickHz = r.tickHz;
          chunkSize = r.chunkSize;
        }
        if (r.type !== "CHUNK") continue;
        bytes += r.payload.length;
        batch.clear();
        events += decodeChunk(r.payload, tickHz, batch).events;
        rows.push(...toWireEvents(batch, tickHz));
      }
    },
  });
  const v1Bytes = encodeChunks(rows, { chunkSize, format: 1 }).reduce((n, c) => n + c.length, 0);
  return { events, bytes, v1Bytes };
}

const FIELD_COLUMNS = new Map<number, (typeof EVENTS)[number]>(EVENTS.map((e) => [e.tag, e]));

/** Decoded rows back to events (for re-encoding): each field from the column the events table
 *  puts it in; LOG_ARG rows become the LOG's arguments. */
function toWireEvents(b: EventBatch, tickHz: number): WireEvent[] {
  const out: WireEvent[] = [];
  const ticksOf = (ns: number) => Math.round((ns * tickHz) / 1e9);
  for (let i = 0; i < b.length; i++) {
    const kind = b.kind[i]!;
    if (kind === LOG_ARG) {
      (out.at(-1)!.args as number[]).push(b.v[i]!);
      continue;
    }
    const spec = FIELD_COLUMNS.get(kind)!;
    const ticks = ticksOf(b.t[i]!);
    const column: Record<string, number> = { task: b.task[i]!, a: b.a[i]!, b: b.b[i]!, c: b.c[i]!, v: b.v[i]! };
    const fields: Record<string, number> = {};
    for (const col of ["task", "a", "b", "c", "v"] as const) {
      const name = spec[col];
      if (name !== null && name !== "current") fields[name] = column[col]!;
    }
    if (spec.name === "TIMER_ARM") fields.due = ticksOf(b.v[i]!) - ticks;
    out.push({ tag: kind, ticks, fields, ...(spec.name === "LOG" ? { args: [] as number[] } : {}) });
  }
  return out;
}
