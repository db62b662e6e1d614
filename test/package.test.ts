// A user's firmware links the core as a package: `import * as ts from "taskscope/core"` and
// `export * from "taskscope/core/host"` from node_modules, as the README shows. Compiled here with
// the real compiler against the files the package ships.

import { describe, it, expect } from "vitest";
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
