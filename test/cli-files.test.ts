// Never destroy a file: the three commands refuse to write over their input (by any name: the
// same device and inode), never turn a device node into a file, write through a temporary file
// and rename only on success, and say plainly when the disk is full. Built commands, real files;
// the full disk is a real 32 KiB tmpfs in a private mount namespace (unshare), where available.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { cleanEnv, expectOneLineError, run, type Command } from "./support/cli.js";

const DEMO = join(ROOT, "build/demo.wasm");

let dir: string;
let demo: string;
let corrupt: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-files-"));
  demo = join(dir, "demo.trace.cbor");
  const r = run("trace-pull", ["--wasi", DEMO, "-o", demo], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const bytes = Buffer.from(readFileSync(demo));
  bytes.fill(0xff, 0, 64); // the header: damage further in is skipped and reported (test/hostile-file.test.ts)
  corrupt = join(dir, "corrupt.trace.cbor");
  writeFileSync(corrupt, bytes);
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ cwd: dir });
const partials = () => readdirSync(dir).filter((f) => f.endsWith(".partial"));

/** `file`'s bytes before and after `action`, which must leave them as they were. */
function unchanged(file: string, action: () => void): void {
  const before = readFileSync(file);
  const mode = statSync(file).mode;
  action();
  expect(readFileSync(file).equals(before), `${file} changed`).toBe(true);
  expect(statSync(file).mode).toBe(mode);
}

describe("an output that is the input is refused, by whatever name", () => {
  it("trace-export --otlp/--perfetto, trace-report --html, trace-pull --wasi", () => {
    const copy = join(dir, "victim.trace.cbor");
    writeFileSync(copy, readFileSync(demo));
    linkSync(copy, join(dir, "hardlink.json"));
    symlinkSync(copy, join(dir, "symlink.json"));
    const wasm = join(dir, "app.wasm");
    writeFileSync(wasm, readFileSync(DEMO));
    const cases: [Command, string[]][] = [
      ["trace-export", ["--otlp", copy, "-o", copy]],
      ["trace-export", ["--otlp", copy, "-o", "hardlink.json"]],
      ["trace-export", ["--perfetto", copy, "-o", "symlink.json"]],
      ["trace-export", ["--perfetto", copy, "-o", `./${"victim.trace.cbor"}`]],
      ["trace-report", [copy, "--html", copy]],
      ["trace-report", [copy, "--html", "hardlink.json"]],
      ["trace-pull", ["--wasi", wasm, "-o", wasm]],
      ["trace-pull", ["--wasi", "app.wasm", "-o", "./app.wasm"]],
    ];
    for (const [command, args] of cases) {
      for (const file of [copy, wasm]) {
        unchanged(file, () => {
          const r = run(command, args, opts());
          expect(r.code, `${command} ${args.join(" ")}: ${r.stderr}`).toBe(1);
          expectOneLineError(r.stderr, "is the input", "choose another output");
        });
      }
    }
    expect(lstatSync(join(dir, "symlink.json")).isSymbolicLink()).toBe(true);
    expect(partials()).toEqual([]);
  });
});

describe("a failed command leaves an existing output as it was", () => {
  it("a corrupt trace: the OTLP file, the Perfetto file and the HTML report stay", () => {
    const cases: [Command, string[], string][] = [
      ["trace-export", ["--otlp", corrupt, "-o", "keep.json"], "keep.json"],
      ["trace-export", ["--perfetto", corrupt, "-o", "keep.pf.json"], "keep.pf.json"],
      ["trace-report", [corrupt, "--html", "keep.html"], "keep.html"],
    ];
    for (const [command, args, out] of cases) {
      writeFileSync(join(dir, out), "the user's file\n");
      unchanged(join(dir, out), () => {
        const r = run(command, args, opts());
        expect(r.code).toBe(1);
        expectOneLineError(r.stderr, "corrupt.trace.cbor", "byte");
      });
    }
    expect(partials()).toEqual([]);
  });

  it("trace-pull: no such module, not a module, no host interface; a new name gets no file", () => {
    const good = join(dir, "good.trace.cbor");
    writeFileSync(good, readFileSync(demo));
    writeFileSync(join(dir, "junk.wasm"), "not wasm");
    writeFileSync(join(dir, "empty.wasm"), Buffer.from([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]));
    for (const [wasm, message] of [["nosuch.wasm", "ENOENT"], ["junk.wasm", "not a valid WebAssembly module"], ["empty.wasm", "does not export the taskscope host interface"]]) {
      unchanged(good, () => {
        const r = run("trace-pull", ["--wasi", wasm!, "-o", good], opts());
        expect(r.code).toBe(1);
        expectOneLineError(r.stderr, message!);
      });
      const r = run("trace-pull", ["--wasi", wasm!, "-o", "fresh.trace.cbor"], opts());
      expect(r.code).toBe(1);
      expect(existsSync(join(dir, "fresh.trace.cbor"))).toBe(false);
    }
    expect(readWholeTrace(good).footer?.reason).toBe("exit 0");
    expect(partials()).toEqual([]);
  });

  it("a directory is refused as an output", () => {
    mkdirSync(join(dir, "outdir"), { recursive: true });
    for (const [command, args] of [
      ["trace-export", ["--perfetto", demo, "-o", "outdir"]],
      ["trace-report", [demo, "--html", "outdir"]],
      ["trace-pull", ["--wasi", DEMO, "-o", "outdir"]],
    ] as [Command, string[]][]) {
      const r = run(command, args, opts());
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, "cannot write outdir: it is a directory");
    }
  });
});

describe("a successful command replaces the file, keeping what the user set up", () => {
  it("the file's mode, and a symbolic link stays a link to the new content", () => {
    const out = join(dir, "mine.pf.json");
    writeFileSync(out, "old");
    chmodSync(out, 0o640);
    let r = run("trace-export", ["--perfetto", demo, "-o", out], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o640);
    expect(JSON.parse(readFileSync(out, "utf8")).traceEvents.length).toBeGreaterThan(5000);
    const real = join(dir, "real.html");
    writeFileSync(real, "old");
    symlinkSync(real, join(dir, "link.html"));
    r = run("trace-report", [demo, "--html", "link.html"], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(lstatSync(join(dir, "link.html")).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toMatch(/^<!doctype html>/i);
    // trace-pull over an existing trace: the new recording replaces it.
    const again = join(dir, "again.trace.cbor");
    writeFileSync(again, "old");
    r = run("trace-pull", ["--wasi", DEMO, "-o", again], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(readWholeTrace(again).footer?.reason).toBe("exit 0");
    expect(partials()).toEqual([]);
  });
});

describe("devices are written, never replaced", () => {
  it("-o /dev/full: a clear 'no space left' line, exit 1, and /dev/full is still a device", () => {
    for (const [command, args] of [
      ["trace-export", ["--perfetto", demo, "-o", "/dev/full"]],
      ["trace-export", ["--otlp", demo, "-o", "/dev/full"]],
      ["trace-report", [demo, "--html", "/dev/full"]],
      ["trace-pull", ["--wasi", DEMO, "-o", "/dev/full"]],
    ] as [Command, string[]][]) {
      const r = run(command, args, opts());
      expect(r.code, `${command}: ${r.stderr}`).toBe(1);
      expectOneLineError(r.stderr, "cannot write /dev/full: no space left on device (ENOSPC)");
      expect(statSync("/dev/full").isCharacterDevice()).toBe(true);
    }
    const r = run("trace-export", ["--perfetto", demo, "-o", "/dev/null"], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(statSync("/dev/null").isCharacterDevice()).toBe(true);
  });
});

const canMount = spawnSync("unshare", ["-rm", "sh", "-c", `mount -t tmpfs -o size=32k tmpfs '${tmpdir()}'`]).status === 0;

describe.skipIf(!canMount)("a full disk (a 32 KiB tmpfs, mounted in a private namespace by unshare -rm)", () => {
  /** Runs `script` (sh) with a small filesystem at $D (smaller than any output here); prints what
   *  the assertions need. */
  function onSmallDisk(script: string): string {
    const d = join(dir, "small");
    mkdirSync(d, { recursive: true });
    const node = process.execPath;
    const r = spawnSync("unshare", ["-rm", "sh", "-c", `mount -t tmpfs -o size=32k tmpfs '${d}' && D='${d}' NODE='${node}' CLI='${join(ROOT, "dist/host/cli")}' DEMO_TRACE='${demo}' DEMO_WASM='${DEMO}'; ${script}`], { encoding: "utf8", cwd: dir, env: cleanEnv() });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  }

  it("trace-export and trace-report: one line naming ENOSPC, the existing file as it was, no partial file", () => {
    const out = onSmallDisk(`
      echo kept > "$D/out.json"; echo kept > "$D/out.html"
      "$NODE" "$CLI/trace-export.js" --otlp "$DEMO_TRACE" -o "$D/out.json" 2>&1; echo "status=$?"
      "$NODE" "$CLI/trace-report.js" "$DEMO_TRACE" --html "$D/out.html" 2>&1; echo "status=$?"
      cat "$D/out.json" "$D/out.html"; ls "$D"`);
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^trace-export: cannot write .*out\.json: no space left on device \(ENOSPC\)$/);
    expect(lines[1]).toBe("status=1");
    expect(lines[2]).toMatch(/^trace-report: cannot write .*out\.html: no space left on device \(ENOSPC\)$/);
    expect(lines[3]).toBe("status=1");
    expect(lines.slice(4)).toEqual(["kept", "kept", "out.html", "out.json"]);
  });

  it("trace-pull: a clear line (not 'internal error', not exit 70), and the trace up to then is readable", () => {
    const out = onSmallDisk(`
      "$NODE" "$CLI/trace-pull.js" --wasi "$DEMO_WASM" -o "$D/t.trace.cbor" 2>&1 >/dev/null; echo "status=$?"
      "$NODE" "$CLI/trace-report.js" "$D/t.trace.cbor" --json > "$D/../small-report.json" 2>/dev/null; echo "report=$?"`);
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^trace-pull: cannot write .*t\.trace\.cbor: no space left on device \(ENOSPC\); it holds the trace up to then, without its end$/);
    expect(lines).toContain("status=1");
    expect(lines).toContain("report=0");
    const report = JSON.parse(readFileSync(join(dir, "small-report.json"), "utf8"));
    expect(report.sessions[0].events).toBeGreaterThan(1000);
  });
});
