// A user's firmware links the core as a package: `import * as ts from "taskscope/core"` and
// `export * from "taskscope/core/host"` from node_modules, as the README shows. Compiled here with
// the real compiler against the files the package ships.

import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { ROOT } from "./support/core-harness.js";

// The compiler's own typings declare AssemblyScript's globals (its `console` among them), which
// would shadow Node's in this program; a non-literal import keeps them out.
interface AscApi {
  main(argv: string[], options: { stdout: { write(s: string): boolean }; stderr: { write(s: string): boolean } }): Promise<{ error: Error | null }>;
}
const ASC_MODULE: string = "assemblyscript/asc";
const loadAsc = async (): Promise<AscApi> => ((await import(ASC_MODULE)) as { default: AscApi }).default;

/** Compiles `source` in a temporary package layout; returns the compiler's error and output. */
async function compileConsumer(source: string, extra: string[] = []): Promise<{ error: Error | null; out: string; wasm?: Uint8Array }> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-consumer-"));
  try {
    const pkg = join(dir, "node_modules", "taskscope");
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, "core"), join(pkg, "core"), { recursive: true });
    cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    writeFileSync(join(dir, "app.ts"), source);
    let out = "";
    const sink = { write: (s: string) => ((out += s), true) };
    const asc = await loadAsc();
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const args = ["app.ts", "-o", "app.wasm", "--runtime", "stub", "--noAssert", "--use", "abort=", ...extra];
      const { error } = await asc.main(args, { stdout: sink, stderr: sink });
      return error ? { error, out } : { error, out, wasm: readFileSync(join(dir, "app.wasm")) };
    } finally {
      process.chdir(cwd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const MINIMAL = `import * as ts from "taskscope/core";
export * from "taskscope/core/host";
export function run(): void { ts.init(ts.MODE_OVERWRITE, 1_000, "board", "fw"); }
`;

describe("build-time configuration", () => {
  it("refuses ring sizes that would corrupt memory or never drain, even with --noAssert", async () => {
    const small = await compileConsumer(MINIMAL, ["--use", "TASKSCOPE_CHUNK_SIZE=64"]);
    expect(small.error).not.toBeNull();
    expect(small.out).toContain("TASKSCOPE_CHUNK_SIZE must be 128..65535");
    const big = await compileConsumer(MINIMAL, ["--use", "TASKSCOPE_CHUNK_SIZE=4096"]);
    expect(big.out).toContain("TASKSCOPE_TRANSFER_BYTES must be at least");
    const fixed = await compileConsumer(MINIMAL, ["--use", "TASKSCOPE_CHUNK_SIZE=4096", "--use", "TASKSCOPE_TRANSFER_BYTES=8192"]);
    expect(fixed.error, fixed.out).toBeNull();
  }, 60_000);
});

describe("the core as an npm package", () => {
  it("compiles a consumer's firmware that imports taskscope/core from node_modules", async () => {
    const { error, out, wasm } = await compileConsumer(`import * as ts from "taskscope/core";
export * from "taskscope/core/host";
const WORKER = ts.taskName("worker");
export function run(): void {
  ts.init(ts.MODE_OVERWRITE, 1_000_000, "board", "fw");
  ts.taskSpawn(1, 0, WORKER);
  ts.pollBegin(1);
  ts.pollEnd(true);
  ts.taskEnd(1, false);
}
`);
    expect(error, out).toBeNull();
    const module = new WebAssembly.Module(wasm!);
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "taskscope", name: "clock", kind: "function" }]);
    const names = WebAssembly.Module.exports(module).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(["run", "taskscope_drain", "taskscope_flush", "taskscope_buffer", "memory"]));
    let t = 0;
    const e = new WebAssembly.Instance(module, { taskscope: { clock: () => (t += 5) } }).exports as Record<string, () => number>;
    e.run!();
    e.taskscope_flush!();
    expect(e.taskscope_drain!()).toBeGreaterThan(0);
  }, 60_000);
});

// What a user does, end to end, outside this repository: `npm pack`, install the tarball into a
// new project (its dependencies from the registry, through npm's cache), compile a firmware that
// imports taskscope/core and taskscope/core/executor with that project's plain asc, exactly as the
// README says, pull it with the installed trace-pull --wasi and read it with trace-report. Runs
// after `npm run build` (npm test builds first); the pack skips `prepare` so it does not build
// again.
describe("a firmware built outside the repository against the packed package", () => {
  /** Runs a command; an error names the step, its exit and its output. npm's own npm_* variables
   *  (set when this runs under `npm test`) are left out, so the inner npm reads no config of the
   *  outer one, and so is FORCE_COLOR, so the report is plain text. */
  function step(what: string, command: string, args: string[], cwd: string): { stdout: string; stderr: string } {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|force_color$)/i.test(k)));
    const t0 = performance.now();
    const r = spawnSync(command, args, { cwd, env, encoding: "utf8", timeout: 240_000 });
    timings.push(`${what} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (r.status !== 0) {
      throw new Error(`${what} (${[command, ...args].join(" ")} in ${cwd}) exited ${r.status ?? r.signal ?? r.error}:\n${r.stdout}\n${r.stderr}`);
    }
    return r;
  }
  const timings: string[] = [];

  it("npm pack, npm install the tarball, asc, trace-pull --wasi, trace-report", () => {
    const pull = join(ROOT, "dist/host/cli/trace-pull.js");
    if (!existsSync(pull)) throw new Error(`${pull} is missing: run npm run build first (npm test does)`);
    const dir = mkdtempSync(join(tmpdir(), "taskscope-outside-"));
    expect(relative(ROOT, dir).startsWith("..")).toBe(true); // asc must not find the repo's node_modules
    try {
      // The tarball holds what a firmware and the commands need, and not the repo's tests or builds.
      const packed = JSON.parse(step("npm pack", "npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], ROOT).stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      const files = packed[0]!.files.map((f) => f.path);
      expect(files).toEqual(
        expect.arrayContaining(["core/index.ts", "core/host.ts", "core/executor.ts", "firmware-examples/executor/executor.ts", "dist/host/cli/trace-pull.js", "dist/host/cli/trace-report.js", "README.md"]),
      );
      expect(files.filter((f) => /^(test|build|bench|dist\/bench|firmware-examples\/(demo|fixtures|serial-device))\//.test(f))).toEqual([]);

      const project = join(dir, "my-firmware");
      mkdirSync(join(project, "src"), { recursive: true });
      writeFileSync(join(project, "package.json"), JSON.stringify({ name: "my-firmware", version: "1.0.0", private: true }));
      step("npm install", "npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", join(dir, packed[0]!.filename)], project);
      cpSync(join(ROOT, "test/wasm/consumer-app.ts"), join(project, "src/app.ts"));

      // The README's command, run in the project: asc finds node_modules from its working directory.
      const bin = (name: string) => join(project, "node_modules/.bin", name);
      step("asc", bin("asc"), ["src/app.ts", "--config", "node_modules/@assemblyscript/wasi-shim/asconfig.json", "-O3", "--noAssert", "-o", "build/app.wasm"], project);
      const imports = WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(join(project, "build/app.wasm"))));
      expect(new Set(imports.map((i) => i.module))).toEqual(new Set(["taskscope", "wasi_snapshot_preview1"]));

      const pulled = step("trace-pull", bin("trace-pull"), ["--wasi", "build/app.wasm", "-o", "app.trace.cbor"], project).stderr;
      expect(pulled).toMatch(/trace-pull: wrote app\.trace\.cbor: .* nothing lost/);

      const text = step("trace-report", bin("trace-report"), ["app.trace.cbor"], project).stdout;
      expect(text).toContain("device my-board, firmware my-firmware 1.0");
      expect(text).toMatch(/^lost: nothing$/m);
      for (const name of ["main", "sensor-reader", "uplink"]) expect(text).toMatch(new RegExp(`^${name} +\\d+ .* done `, "m"));

      const report = JSON.parse(step("trace-report --json", bin("trace-report"), ["app.trace.cbor", "--json"], project).stdout) as {
        tasks: Array<{ name: string; state: string; parentName: string | null; polls: number }>;
        resources: Array<{ name: string; kind: string; ops: number }>;
        lints: Array<{ kind: string; severity: string }>;
      };
      // A loaded machine may stretch a poll into a long-poll warning; nothing is stuck or lost.
      expect(report.lints.filter((l) => l.severity === "error" || l.kind === "lost-events")).toEqual([]);
      expect(report.tasks.map((t) => [t.name, t.state, t.parentName])).toEqual([
        ["main", "done", null],
        ["sensor-reader", "done", "main"],
        ["uplink", "done", "main"],
      ]);
      expect(report.resources.map((r) => [r.name, r.kind])).toEqual([
        ["timer", "timer"],
        ["readings", "channel"],
        ["radio", "mutex"],
      ]);
      // 5 sends and 5 receives at least; 5 acquires and 5 releases.
      expect(report.resources.find((r) => r.name === "readings")!.ops).toBeGreaterThanOrEqual(10);
      expect(report.resources.find((r) => r.name === "radio")!.ops).toBeGreaterThanOrEqual(10);
      console.info(`outside-the-repo build: ${timings.join(", ")}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
