#!/usr/bin/env node
// Compiles every wasm module of the repo with the AssemblyScript compiler, using the targets of
// the root asconfig.json:
//   target "wasi"   programs run under node:wasi (wasi-shim runtime, exports _start)
//   target "device" bare modules with the stub runtime and no WASI imports
//
// To add a module, append an entry to ENTRIES below:
//   { entry: "path/to/main.ts", out: "build/name.wasm", target: "wasi" | "device",
//     use?: ["TASKSCOPE_CHUNK_COUNT=16", ...],   // extra `asc --use` constants
//     args?: ["--exportTable", ...] }            // any other asc flags, appended last
// Paths are relative to the repository root. `use` and `args` are merged with the target's
// options by asc itself (arrays are concatenated).
//
// Usage: node firmware-examples/build.mjs [filter...]
//   With filters, only entries whose entry or out path contains one of them are built.
// Exits non-zero, with the compiler's diagnostics, if any module fails to compile.
//
// Each module compiles in its own child process (cwd = repository root): asc keeps `--lib` files
// (the wasi target's wasi-shim) in module-level state, so in a shared compiler every build after
// a wasi build would see the shim's globals. (Worker threads would do, but cannot chdir, and
// asc's --baseDir mis-joins the config's already-resolved lib path.) Modules build in parallel.

import { mkdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { fork } from "node:child_process";

/** @typedef {{ entry: string, out: string, target: "wasi" | "device", use?: string[], args?: string[] }} Entry */

/** @type {Entry[]} */
export const ENTRIES = [
  // The demo application (`npm run demo`): the executor example under node:wasi.
  { entry: "firmware-examples/demo/main.ts", out: "build/demo.wasm", target: "wasi" },
  // Executor test fixtures (test/executor*.test.ts): small programs with one behaviour each.
  { entry: "firmware-examples/fixtures/executor-basic.ts", out: "build/test/executor-basic.wasm", target: "wasi" },
  // Programs in which a naive analysis blames the wrong task (test/diagnosis.test.ts).
  { entry: "firmware-examples/fixtures/diagnosis.ts", out: "build/test/diagnosis.wasm", target: "wasi" },
  {
    entry: "firmware-examples/fixtures/executor-stuck.ts",
    out: "build/test/executor-stuck.wasm",
    target: "wasi",
  },
  // Device build of the executor with a small ring: proves it compiles without WASI.
  {
    entry: "firmware-examples/fixtures/executor-device.ts",
    out: "build/test/executor-device.wasm",
    target: "device",
    use: ["TASKSCOPE_CHUNK_COUNT=8"],
  },
  // Core test harness (test/core*.test.ts): every event function, wire constants as globals,
  // `--exportRuntime` so the zero-allocation test can probe the stub allocator.
  { entry: "test/wasm/core-harness.ts", out: "build/test/core-harness.wasm", target: "device", args: ["--exportRuntime"] },
  // The same with a tiny ring and names table, to exercise overwrite, stop and full-table paths.
  {
    entry: "test/wasm/core-harness.ts",
    out: "build/test/core-harness-small.wasm",
    target: "device",
    use: ["TASKSCOPE_CHUNK_SIZE=128", "TASKSCOPE_CHUNK_COUNT=4", "TASKSCOPE_NAMES_BYTES=64"],
  },
  // A WASI program that traps after recording (test/cli.test.ts: nothing recorded is lost).
  // (device target with a _start export: it needs no WASI imports, and tiny programs trip an
  // AssemblyScript shadow-stack bug under the wasi target's incremental runtime.)
  { entry: "test/wasm/trap-app.ts", out: "build/test/trap-app.wasm", target: "device", args: ["--exportStart", "_start"] },
  // A WASI program that records until trace-pull is stopped by a signal (test/cli-signals.test.ts).
  { entry: "test/wasm/forever-app.ts", out: "build/test/forever-app.wasm", target: "device", args: ["--exportStart", "_start"] },
  // A WASI program whose names carry escape sequences and HTML (test/cli-manners.test.ts).
  { entry: "test/wasm/hostile-names-app.ts", out: "build/test/hostile-names-app.wasm", target: "device", args: ["--exportStart", "_start"] },
  // Benchmark builds (bench/): the harness with the in-module counter clock, and that clock alone.
  {
    entry: "test/wasm/core-harness.ts",
    out: "build/bench/core-bench-clock.wasm",
    target: "device",
    use: ["TASKSCOPE_BENCH_CLOCK=1"],
  },
  { entry: "test/wasm/core-harness.ts", out: "build/bench/core-import-clock.wasm", target: "device" },
  // Serial link (test/link*.test.ts, test/serial*.test.ts, bench/link.ts): the firmware the
  // device simulator runs over a pty, and the core harness with the link's host interface (a
  // small ring too, for overwrites during resends). The simulated board's ring (256 x 256 B =
  // 64 KiB) holds the whole demo, so what a test sees does not hang on how soon a loaded host
  // says hello; the -16k build keeps the default ring (64 x 256 B) for the tests whose point is
  // a ring that overflows.
  {
    entry: "firmware-examples/serial-device/main.ts",
    out: "build/serial-device.wasm",
    target: "wasi",
    use: ["TASKSCOPE_CHUNK_COUNT=256"],
  },
  { entry: "firmware-examples/serial-device/main.ts", out: "build/serial-device-16k.wasm", target: "wasi" },
  { entry: "firmware-examples/serial-device/link-harness.ts", out: "build/test/link-harness.wasm", target: "device", args: ["--exportRuntime"] },
  {
    entry: "firmware-examples/serial-device/link-harness.ts",
    out: "build/test/link-harness-small.wasm",
    target: "device",
    use: ["TASKSCOPE_CHUNK_SIZE=128", "TASKSCOPE_CHUNK_COUNT=4"],
  },
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const TARGETS = new Set(["wasi", "device"]);
const CHILD_FLAG = "--compile-one";

/** In the child: compiles one entry; returns null on success or the compiler's message. */
async function compileHere(e) {
  const { default: asc } = await import("assemblyscript/asc");
  const argv = [e.entry, "--config", "asconfig.json", "--target", e.target, "--outFile", e.out];
  for (const u of e.use ?? []) argv.push("--use", u);
  argv.push(...(e.args ?? []));
  let out = "";
  const sink = { write: (s) => { out += String(s); return true; } };
  try {
    const { error } = await asc.main(argv, { stdout: sink, stderr: sink });
    return error ? `${out.trim()}\n${error.message}`.trim() : null;
  } catch (err) {
    return `${out.trim()}\n${err instanceof Error ? err.stack : String(err)}`.trim();
  }
}

/** Compiles one entry in a fresh process; resolves to null on success or an error message.
 *  (Also used by firmware-examples/cortex-m/build.mjs.) */
export async function build(e) {
  if (!TARGETS.has(e.target)) return `unknown target "${e.target}" (expected wasi or device)`;
  await mkdir(dirname(resolve(ROOT, e.out)), { recursive: true });
  return new Promise((done) => {
    const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let result;
    child.once("message", (m) => (result = m.message));
    child.once("error", (err) => (result ??= err.stack ?? String(err)));
    child.once("exit", (code, signal) => done(result !== undefined ? result : `compiler process exited (${signal ?? code})`));
    child.send(e);
  });
}

async function main() {
  const filters = process.argv.slice(2);
  const selected = filters.length
    ? ENTRIES.filter((e) => filters.some((f) => e.entry.includes(f) || e.out.includes(f)))
    : ENTRIES;
  if (selected.length === 0) {
    console.error(`build: no entry matches ${filters.join(", ")}`);
    process.exit(2);
  }
  let failed = 0;
  let next = 0;
  const lanes = Math.max(1, Math.min(availableParallelism(), selected.length));
  const lane = async () => {
    while (next < selected.length) {
      const e = selected[next++];
      const t0 = performance.now();
      const message = await build(e);
      const ms = Math.round(performance.now() - t0);
      if (message === null) {
        process.stdout.write(`build: ${e.out} (${e.target}) ${ms} ms\n`);
      } else {
        failed++;
        process.stderr.write(`build: FAILED ${e.out} from ${e.entry} (${e.target}):\n${message}\n\n`);
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  if (failed) {
    process.stderr.write(`build: ${failed} of ${selected.length} module(s) failed\n`);
    process.exit(1);
  }
}

if (process.argv[2] === CHILD_FLAG) {
  process.once("message", async (e) => {
    const message = await compileHere(e);
    process.send({ message }, () => process.disconnect());
  });
} else if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Importable (for the ENTRIES table) without building.
  await main();
}
