#!/usr/bin/env node
// npm run build:mcu: the Cortex-M firmware, the C library and the recording benchmark, from the
// AssemblyScript sources:
//
//   AssemblyScript --asc, device target--> wasm --wasm2c--> C --arm-none-eabi-gcc--> ELF (mps2-an385)
//
// Outputs, under build/mcu/:
//   demo.elf               the demo (executor, scenarios, serial link), firmware-examples/cortex-m/demo
//   c-superloop.elf        the C example over core/c/taskscope.h, default core (64 x 256 B ring)
//   c-superloop-small.elf  the same with the small core, linked into 8 KiB of RAM (SMALL below)
//   core/, core-small/     the C library's generated core: tscore.c/.h and taskscope-lm.h, which
//                          core/c/taskscope.c includes (a C firmware copies these three files)
//   bench-core.elf, bench-ring.elf, bench-*-x86   bench/mcu: the core and a hand-written C ring
//   sizes.json             .text/.data/.bss of each firmware and of the library parts (bench, tests)
//
// Without wasm2c or arm-none-eabi-gcc it prints one line saying what to install and exits 0 (the
// rest of the build does not need them); the x86-64 bench binaries need a host `cc`.
//
// Usage: node firmware-examples/cortex-m/build.mjs [--quiet]
//        node firmware-examples/cortex-m/build.mjs --library DIR [--use NAME=VALUE]...
// The second form only generates the C library's core with the given sizes (core/config.ts) into
// DIR: tscore.c, tscore.h and taskscope-lm.h, for a firmware's own build (core/c/README.md).

import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync, existsSync, statSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build as compileWasm } from "../build.mjs";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const HERE = "firmware-examples/cortex-m";
const OUT = "build/mcu";
const WASM2C_RUNTIME = "/usr/src/wasm2c"; // wasm-rt.h, from Debian's wabt package
const quiet = process.argv.includes("--quiet");
const log = (s) => quiet || process.stdout.write(`${s}\n`);

// ---- configurations of the core (asc --use constants, core/config.ts) ----

/** Statics from address 8 rather than 1024: a small part cannot spare the 1 KiB AssemblyScript
 *  leaves empty by default (address 0 stays unused, so a null pointer is still no valid address). */
const MEMORY_BASE = ["--memoryBase", "8"];

/** The small configuration: a 14 x 128 B ring (about 600 events between pulls), 512 B of names,
 *  16 tasks with request tracking, no drain buffer (the serial link only), a 64 B receive buffer.
 *  Its static memory fits a 4 KiB linear memory, and the whole C example with it 8 KiB of RAM. */
export const SMALL = [
  "TASKSCOPE_CHUNK_SIZE=128",
  "TASKSCOPE_CHUNK_COUNT=14",
  "TASKSCOPE_NAMES_BYTES=512",
  "TASKSCOPE_MAX_TASKS=16",
  "TASKSCOPE_TRANSFER_BYTES=0",
  "TASKSCOPE_LINK_RX_BYTES=64",
];

/** wasm modules: `lm` fixes the linear memory (a power of two); otherwise it is the smallest
 *  power of two that holds the module's static memory (the C library never allocates). */
const MODULES = [
  { dir: "core", module: "tscore", entry: "core/c/core.ts", use: [], internal: true },
  { dir: "core-small", module: "tscore", entry: "core/c/core.ts", use: SMALL, internal: true },
  {
    dir: "demo",
    module: "demo",
    entry: `${HERE}/demo/main.ts`,
    // A ring of 256 x 256 B holds the whole demo (so a test sees it all however late it asks);
    // the executor allocates its objects at start-up (stub runtime): 256 KiB of linear memory.
    use: ["TASKSCOPE_CHUNK_COUNT=256", "TASKSCOPE_BOARD_IDLE=1"],
    lm: 256 * 1024,
  },
];

// ---- compiler flags, each with its reason ----

const WASM2C_FLAGS = [
  `-I${WASM2C_RUNTIME}`, // wasm2c's wasm-rt.h, not /usr/include
  "-DNDEBUG", // no assert: it pulls in fiprintf, malloc and _sbrk
  "-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=1", // no per-access bounds check: masked addresses instead (core/c/wasm-rt-static.h)
  "-DWASM_RT_SKIP_SIGNAL_RECOVERY=1", // ... and no signal handler to go with it
  "-DWASM_RT_USE_STACK_DEPTH_COUNT=0", // no call-depth counter: the core does not recurse
  "-Wno-unused-value", // generated code is noisy
  "-Wno-unused-variable",
  "-Wno-unused-function",
  "-Wno-unused-but-set-variable",
];
const M3_FLAGS = [
  "-mcpu=cortex-m3",
  "-mthumb",
  "-O2",
  "-g",
  "-ffunction-sections", // one section per function: --gc-sections drops what a firmware does not call
  "-fdata-sections",
  "-fno-common",
  "-Wall",
  "-std=gnu11",
];
const M3_LINK = [
  `-T${HERE}/board/mps2-an385.ld`,
  "-nostartfiles", // board/startup.c is the start-up code
  "--specs=nano.specs", // newlib-nano: memcpy, memset, strlen and nothing larger
  "-Wl,--gc-sections",
];
const BOARD = [`${HERE}/board/startup.c`, `${HERE}/board/board.c`];
const RUNTIME = "core/c/wasm-rt-static.c";

// ---- tools ----

function have(tool, args = ["--version"]) {
  return spawnSync(tool, args, { stdio: "ignore" }).status === 0;
}

function run(cmd, args) {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", fail);
    child.once("exit", (code) => (code === 0 ? done(out) : fail(new Error(`${cmd} ${args.join(" ")}\n${out}`))));
  });
}

// ---- wasm -> C ----

/** End of a module's static memory: instantiated here with inert imports, it reports __heap_base. */
async function staticEnd(wasmFile) {
  const module = await WebAssembly.compile(readFileSync(resolve(ROOT, wasmFile)));
  const imports = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    imports[imp.module] ??= {};
    imports[imp.module][imp.name] = () => 0;
  }
  const instance = await WebAssembly.instantiate(module, imports);
  return Number(instance.exports.static_end());
}

const nextPow2 = (n) => 2 ** Math.ceil(Math.log2(Math.max(n, 64)));

/** The one edit to wasm2c's output: loads and stores address the static linear memory through
 *  TASKSCOPE_LM_AT (masked, core/c/wasm-rt-static.h). Fails if wasm2c's prelude changed shape, so a
 *  new wabt can never silently drop the memory safety the mask gives. */
function maskAccesses(c, file) {
  const from = "&mem->data[addr]";
  const count = c.split(from).length - 1;
  if (count !== 2) throw new Error(`${file}: expected wasm2c's load and store to address "${from}" twice, found ${count} (a different wabt?)`);
  return `#include "wasm-rt-static.h"\n${c.replaceAll(from, "TASKSCOPE_LM_AT(addr)")}`;
}

/** The recording calls a firmware makes per event: their code is compiled into the taskscope_*
 *  function itself. Everything else (start-up, names, logs, the link, drains) stays a call. */
const HOT_EXPORTS = [
  "poll_begin", "poll_end", "wake", "wake_by_task", "wake_by_irq", "wake_external", "wake_and_drop",
  "wake_by_task_and_drop", "waker_clone", "waker_drop", "await_at", "resource_op", "isr_enter", "isr_exit",
  "idle_begin", "idle_end", "timer_fire_wake", "mark", "now",
];

/** Each export's wrapper only forwards to the function behind it: declaring the hot ones'
 *  functions always_inline lets the C glue (core/c/taskscope.c, which calls the wrappers) compile
 *  to the recording code itself, without a call and a pointer to the instance in between. */
function inlineExports(c, file) {
  const hot = new Set(HOT_EXPORTS);
  const targets = new Set(
    [...c.matchAll(/\/\* export: '([^']*)' \*\/\n[^\n]*\{\n\s+return (w2c_[A-Za-z0-9_]+)\(/g)].filter((m) => hot.has(m[1])).map((m) => m[2]),
  );
  if (targets.size === 0) throw new Error(`${file}: found no export wrappers to inline (a different wabt?)`);
  let marked = 0;
  const out = c.replace(/^static ([^\n(]+) (w2c_[A-Za-z0-9_]+)\(([^\n{]*)\);$/gm, (line, ret, name, params) => {
    if (!targets.has(name)) return line;
    marked++;
    return `static inline __attribute__((always_inline)) ${ret} ${name}(${params});`;
  });
  if (marked !== targets.size) throw new Error(`${file}: declared ${marked} of ${targets.size} exported functions inline`);
  return out;
}

/** For the C library only (core/c/taskscope.c includes the core's C and is the only caller): the
 *  export wrappers become static inline, so each taskscope_* function compiles to the recording
 *  code itself and the generated core adds no external symbols of its own. */
function internalExports(h, module, file) {
  let count = 0;
  const out = h.replace(new RegExp(`^([A-Za-z_][\\w ]*\\*?) (Z_${module}Z_[A-Za-z0-9_]+)\\((.*)\\);$`, "gm"), (line, ret, name, params) => {
    count++;
    return `static inline __attribute__((always_inline)) ${ret} ${name}(${params});`;
  });
  if (count === 0) throw new Error(`${file}: found no export declarations (a different wabt?)`);
  return out;
}

async function toC(m) {
  const dir = m.path ?? join(OUT, m.dir);
  mkdirSync(resolve(ROOT, dir), { recursive: true });
  const wasm = join(dir, `${m.module}.wasm`);
  const end = await staticEnd(wasm);
  const lm = m.lm ?? nextPow2(end);
  if (end > lm) throw new Error(`${m.entry}: static memory ends at ${end}, beyond its ${lm}-byte linear memory`);
  const c = join(dir, `${m.module}.c`);
  await run("wasm2c", [wasm, "-o", c, "-n", m.module]);
  writeFileSync(resolve(ROOT, c), inlineExports(maskAccesses(readFileSync(resolve(ROOT, c), "utf8"), c), c));
  if (m.internal) {
    const h = join(dir, `${m.module}.h`);
    writeFileSync(resolve(ROOT, h), internalExports(readFileSync(resolve(ROOT, h), "utf8"), m.module, h));
  }
  writeFileSync(
    resolve(ROOT, dir, "taskscope-lm.h"),
    `/* Generated by ${HERE}/build.mjs from ${m.entry} (asc --use ${m.use.join(" ") || "defaults"}). */\n` +
      `/* Static memory ends at ${end}; the linear memory is the next power of two. */\n` +
      `#define TASKSCOPE_LM_BYTES ${lm}u\n`,
  );
  return { ...m, staticEnd: end, lm };
}

// ---- firmware ----

function firmwares() {
  const core = (dir) => [`-I${OUT}/${dir}`, "-Icore/c", `-I${HERE}/board`];
  return [
    {
      out: "demo.elf",
      sources: [...BOARD, RUNTIME, `${HERE}/demo/main.c`, `${OUT}/demo/demo.c`],
      flags: [`-I${OUT}/demo`, "-Icore/c", `-I${HERE}/board`],
    },
    { out: "c-superloop.elf", sources: [...BOARD, RUNTIME, "core/c/taskscope.c", `${HERE}/c-superloop/main.c`], flags: core("core") },
    {
      // The small configuration, linked for a part with 8 KiB of RAM (data, bss and a 2 KiB stack):
      // the link fails if it does not fit.
      out: "c-superloop-small.elf",
      sources: [...BOARD, RUNTIME, "core/c/taskscope.c", `${HERE}/c-superloop/main.c`],
      // It samples for 2 s, so a host that connects late still streams most of the run.
      flags: [...core("core-small"), "-DSAMPLES=1000", "-Wl,--defsym=RAM_SIZE=0x2000", "-Wl,--defsym=STACK_SIZE=0x800"],
    },
    // bench/mcu: the same loops over the core and over a hand-written C ring (bench/mcu.ts).
    {
      out: "bench-core.elf",
      sources: [...BOARD, RUNTIME, "core/c/taskscope.c", "bench/mcu/bench-main.c", "bench/mcu/bench-core.c"],
      flags: [...core("core"), "-Ibench/mcu", "-DTASKSCOPE_NO_LOCK", "-DBENCH_CORE"],
    },
    { out: "bench-ring.elf", sources: [...BOARD, "bench/mcu/bench-main.c", "bench/mcu/c-ring.c"], flags: [`-I${HERE}/board`, "-Ibench/mcu"] },
    // What the library adds to a firmware that links all of it: without the link, and with it.
    { out: "size-core.elf", sources: [...BOARD, RUNTIME, "core/c/taskscope.c", "bench/mcu/size-probe.c"], flags: core("core") },
    { out: "size-core-link.elf", sources: [...BOARD, RUNTIME, "core/c/taskscope.c", "bench/mcu/size-probe.c"], flags: [...core("core"), "-DWITH_LINK"] },
  ];
}

/** Compiles each source to its own object (named after the source, so the link map says what
 *  each part costs), then links. */
async function linkFirmware(f) {
  const elf = join(OUT, f.out);
  const objDir = join(OUT, "obj", f.out.replace(/\.elf$/, ""));
  mkdirSync(resolve(ROOT, objDir), { recursive: true });
  const objects = await Promise.all(
    f.sources.map(async (src) => {
      const obj = join(objDir, src.replace(/^.*\//, "").replace(/\.c$/, ".o"));
      await run("arm-none-eabi-gcc", [...M3_FLAGS, ...WASM2C_FLAGS, ...f.flags.filter((x) => !x.startsWith("-Wl,")), "-c", src, "-o", obj]);
      return obj;
    }),
  );
  await run("arm-none-eabi-gcc", [...M3_FLAGS, ...f.flags.filter((x) => x.startsWith("-Wl,")), ...M3_LINK, `-Wl,-Map=${elf}.map`, ...objects, "-o", elf]);
  return { ...f, elf };
}

/** x86-64 builds of the bench for callgrind: the same sources, the host's compiler. */
function x86Benches() {
  const flags = ["-O2", "-g", "-std=gnu11", ...WASM2C_FLAGS, "-Ibench/mcu", "-Icore/c", `-I${OUT}/core`, "-DBENCH_HOST"];
  return [
    // Guard pages, not masks, keep the core in its memory on a 64-bit host (core/c/wasm-rt-static.h).
    { out: "bench-core-x86", args: [...flags, "-DTASKSCOPE_NO_LOCK", "-DBENCH_CORE", "-DTASKSCOPE_LM_GUARD", RUNTIME, "core/c/taskscope.c", "bench/mcu/bench-main.c", "bench/mcu/bench-core.c"] },
    { out: "bench-ring-x86", args: [...flags, "bench/mcu/bench-main.c", "bench/mcu/c-ring.c"] },
  ];
}

// ---- sizes ----

/** .text (code and read-only data), .data and .bss of an ELF, and per input object from its map. */
async function sizes(elf) {
  const out = await run("arm-none-eabi-size", ["-A", elf]);
  const section = (name) => Number(new RegExp(`^\\${name}\\s+(\\d+)`, "m").exec(out)?.[1] ?? 0);
  return { text: section(".text"), data: section(".data"), bss: section(".bss"), objects: mapContributions(`${elf}.map`) };
}

/** Bytes each input file contributes to .text and to RAM (.data + .bss), from a GNU ld map. */
function mapContributions(mapFile) {
  const map = readFileSync(resolve(ROOT, mapFile), "utf8");
  const start = map.indexOf("Linker script and memory map");
  const lines = map.slice(start).split("\n");
  const out = {};
  let section = "";
  let pending = null; // a long section name on its own line: address and size follow on the next
  for (const line of lines) {
    const head = /^\s?(\.[\w.]+)/.exec(line);
    if (head && !line.startsWith("  ")) section = head[1].startsWith(".text") ? ".text" : head[1].startsWith(".data") ? ".data" : head[1].startsWith(".bss") ? ".bss" : head[1];
    const m = /^ (\.[\w.$]+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)\)?$/.exec(line) ?? (pending ? /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+\.o)$/.exec(line) : null);
    if (/^ \.[\w.$]+$/.test(line)) {
      pending = line.trim();
      continue;
    }
    if (m) {
      const size = parseInt(m.length === 5 ? m[3] : m[2], 16);
      const file = (m.length === 5 ? m[4] : m[3]).replace(/^.*\//, "");
      const kind = section === ".text" ? "text" : section === ".data" || section === ".bss" ? "ram" : undefined;
      if (kind && size > 0) {
        out[file] ??= { text: 0, ram: 0 };
        out[file][kind] += size;
      }
    }
    pending = null;
  }
  return out;
}

/** Newest modification time of the AssemblyScript sources a module may use: a wasm newer than it
 *  is up to date (asc takes most of this build's time). */
function newestSource() {
  let newest = statSync(resolve(ROOT, "asconfig.json")).mtimeMs;
  const walk = (dir) => {
    for (const e of readdirSync(resolve(ROOT, dir), { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith(".ts")) newest = Math.max(newest, statSync(resolve(ROOT, p)).mtimeMs);
    }
  };
  walk("core");
  walk("firmware-examples");
  return Math.max(newest, statSync(fileURLToPath(import.meta.url)).mtimeMs);
}

function upToDate(file, since) {
  const p = resolve(ROOT, file);
  return existsSync(p) && statSync(p).mtimeMs > since;
}

// ---- main ----

/** --library DIR [--use X=Y]...: the core's C for a firmware's own sizes, nothing else. */
async function library(args) {
  const dir = args[args.indexOf("--library") + 1];
  if (!dir || dir.startsWith("--")) throw new Error("--library takes a directory");
  const use = [];
  for (let i = 0; i < args.length; i++) if (args[i] === "--use") use.push(args[++i]);
  const path = relative(ROOT, resolve(process.cwd(), dir));
  const m = { dir, path, module: "tscore", entry: "core/c/core.ts", use, internal: true };
  const error = await compileWasm({ entry: m.entry, out: join(path, "tscore.wasm"), target: "device", use, args: MEMORY_BASE });
  if (error) throw new Error(`asc failed:\n${error}`);
  const done = await toC(m);
  log(`build:mcu: ${resolve(ROOT, path, "tscore.c")}: static memory ${done.staticEnd} B, linear memory ${done.lm} B (${use.join(" ") || "default sizes"})`);
}

async function main() {
  if (!have("wasm2c") || !existsSync(join(WASM2C_RUNTIME, "wasm-rt.h"))) {
    if (process.argv.includes("--library")) throw new Error("wasm2c and its runtime headers are needed (apt-get install --no-install-recommends wabt)");
  }
  if (process.argv.includes("--library")) return library(process.argv);
  const missing = [["wasm2c", "wabt"], ["arm-none-eabi-gcc", "gcc-arm-none-eabi libnewlib-arm-none-eabi"]].filter(([t]) => !have(t));
  if (missing.length > 0 || !existsSync(join(WASM2C_RUNTIME, "wasm-rt.h"))) {
    const pkgs = missing.length ? missing.map(([, p]) => p).join(" ") : "wabt";
    console.log(`build:mcu: skipped, ${missing.map(([t]) => t).join(" and ") || "wasm2c's runtime headers"} not found (apt-get install --no-install-recommends ${pkgs})`);
    return;
  }
  mkdirSync(resolve(ROOT, OUT), { recursive: true });
  const t0 = performance.now();
  // 1. AssemblyScript to wasm, one compiler process per module, in parallel.
  const since = newestSource();
  const failures = (
    await Promise.all(
      MODULES.map((m) => {
        const out = join(OUT, m.dir, `${m.module}.wasm`);
        if (upToDate(out, since)) return null;
        return compileWasm({ entry: m.entry, out, target: "device", use: m.use, args: MEMORY_BASE });
      }),
    )
  ).filter((r) => r !== null);
  if (failures.length) throw new Error(`asc failed:\n${failures.join("\n\n")}`);
  // 2. wasm to C, with the masked memory accesses.
  const modules = await Promise.all(MODULES.map(toC));
  for (const m of modules) log(`build:mcu: ${OUT}/${m.dir}/${m.module}.c: static memory ${m.staticEnd} B, linear memory ${m.lm} B`);
  // 3. firmware (and the x86-64 bench when the host has a compiler).
  const built = await Promise.all(firmwares().map(linkFirmware));
  if (have("cc")) {
    await Promise.all(x86Benches().map((b) => run("cc", [...b.args, "-o", join(OUT, b.out)])));
  } else {
    log("build:mcu: no host cc: the x86-64 bench binaries are not built");
  }
  const report = { modules: Object.fromEntries(modules.map((m) => [m.dir, { staticEnd: m.staticEnd, linearMemory: m.lm, use: m.use }])), firmware: {} };
  for (const f of built) report.firmware[f.out] = await sizes(f.elf);
  writeFileSync(resolve(ROOT, OUT, "sizes.json"), `${JSON.stringify(report, null, 2)}\n`);
  for (const f of built) {
    const s = report.firmware[f.out];
    log(`build:mcu: ${OUT}/${f.out}: text ${s.text} B, data ${s.data} B, bss ${s.bss} B`);
  }
  log(`build:mcu: done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

main().catch((e) => {
  process.stderr.write(`build:mcu: ${e.message ?? e}\n`);
  process.exit(1);
});
