// trace-export as a user runs it: the built command in dist/, real processes and files, one-line
// errors with the right exit codes, a progress line only on a terminal (a real pty, via script).

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTrace } from "../host/tracefile/trace.js";
import { TestCollector } from "./support/collector.js";
import { decodeOtlpFile } from "./support/otlp-decode.js";
import { checkOtlp } from "./support/otlp-check.js";
import { pullDemoTrace } from "./support/otlp-traces.js";
import { ROOT } from "./support/core-harness.js";

const CLI = join(ROOT, "dist/host/cli/trace-export.js");
let dir: string;
let demo: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-export-cli-"));
  demo = await pullDemoTrace(join(dir, "demo.trace.cbor"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: "utf8", env: { ...cleanEnv(), ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking: for running many at once. */
function runAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: cleanEnv() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneLineError(stderr: string, ...fragments: string[]): void {
  const lines = stderr.trim().split("\n").filter((l) => !l.startsWith("Try '"));
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
  for (const f of fragments) expect(lines[0]).toContain(f);
}

describe("trace-export: files", () => {
  it("--help names both exports, every flag and the environment variables", () => {
    const r = run(["--help"]);
    expect(r.code).toBe(0);
    for (const s of ["--otlp", "--perfetto", "--endpoint", "--header", "--protocol", "--polls", "--batch-size", "--max-request-bytes", "--format", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS"]) {
      expect(r.stdout).toContain(s);
    }
  });

  it("writes OTLP/JSON, OTLP protobuf by file name, and --format overrides the name", () => {
    let r = run(["--otlp", demo, "-o", "demo.json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^trace-export: wrote demo\.json: [\d,]+ spans in 33 traces, \d+ lints? \(OTLP\/JSON Lines, [\d.]+ MiB in \d+ requests? of at most 4\.0 MiB\)\n$/);
    const json = decodeOtlpFile(readFileSync(join(dir, "demo.json")), "json");
    checkOtlp(json);
    r = run(["--otlp", demo, "-o", "demo.pb", "--max-request-bytes", "64KiB"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/OTLP\/protobuf, [\d.]+ [KM]iB in \d{2,} requests of at most 64\.0 KiB/);
    expect(decodeOtlpFile(readFileSync(join(dir, "demo.pb")), "protobuf")).toHaveLength(json.length);
    r = run(["--otlp", demo, "-o", "named.pb", "--format", "json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeOtlpFile(readFileSync(join(dir, "named.pb")), "json")).toHaveLength(json.length);
    r = run(["--otlp", demo, "-o", "-", "--polls", "events"]);
    expect(r.code, r.stderr).toBe(0);
    expect(decodeOtlpFile(Buffer.from(r.stdout), "json").some((s) => s.name === "poll")).toBe(false);
    expect(r.stderr).toContain("wrote standard output");
    expect(r.stderr).toContain("past the per-span limits"); // the producer polls more than 128 times
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  it("writes a Perfetto protobuf trace beside the trace by default, JSON when asked", () => {
    // (The clean demo may still show a lint when this machine stalls it mid-poll: not asserted.)
    let r = run(["--perfetto", demo]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^trace-export: wrote .*demo\.pftrace: [\d,]+ packets, 78 tasks, [\d,]+ wake arrows, \d+ lints? \(protobuf, .*\); open it in ui\.perfetto\.dev\n$/);
    // A Trace message: its packets, field 1, one after another.
    const pb = readFileSync(join(dir, "demo.pftrace"));
    expect(pb[0]).toBe(0x0a);
    for (const [args, file] of [[["--format", "json"], "demo.perfetto.json"], [["-o", "named.json"], "named.json"]] as const) {
      r = run(["--perfetto", demo, ...args]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/trace events, 78 tasks, .*\(JSON, /);
      const doc = JSON.parse(readFileSync(join(dir, file), "utf8"));
      expect(doc.traceEvents.length).toBeGreaterThan(5000);
    }
  });

  it("exports a file cut off mid-record, with a warning", () => {
    const bytes = readFileSync(demo);
    // Cut inside a record (a cut on a record boundary would be a complete, shorter file).
    let at = Math.floor(bytes.length * 0.6);
    for (;; at--) {
      writeFileSync(join(dir, "cut.trace.cbor"), bytes.subarray(0, at));
      if (openTrace(join(dir, "cut.trace.cbor")).summary().truncated) break;
    }
    for (const args of [["--otlp", "cut.trace.cbor", "-o", "cut.json"], ["--perfetto", "cut.trace.cbor", "-o", "cut.pf.json"]]) {
      const r = run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: cut\.trace\.cbor ends inside a record at byte \d+ \(the writer was stopped\); exported everything before it/);
    }
  });
});

describe("trace-export carries the insight engine's lints", () => {
  it("a lost wake-up: an event with error status on the stuck task's span, an instant on its track", async () => {
    const file = await pullDemoTrace(join(dir, "lost-wakeup.trace.cbor"), "lost-wakeup");
    // As many lints as trace-report finds, in every export's summary and in every export.
    const report = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-report.js"), file, "--json"], { encoding: "utf8", maxBuffer: 64 << 20 });
    const lints = (JSON.parse(report.stdout) as { lints: unknown[] }).lints.length;
    expect(lints).toBeGreaterThanOrEqual(1);
    let r = run(["--otlp", file, "-o", "lw.json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`traces, ${lints} lints? \\(`));
    const spans = decodeOtlpFile(readFileSync(join(dir, "lw.json")), "json");
    // A lint naming two tasks is an event on both spans: the events of the same lint count once.
    const placed = new Set(spans.flatMap((s) => s.events.filter((e) => e.name.startsWith("lint: ")).map((e) => `${e.name} ${e.attributes["message"]}`)));
    expect(placed.size).toBe(lints);
    for (const format of ["protobuf", "json"]) {
      const pr = run(["--perfetto", file, "--format", format, "-o", `lw.${format}.out`]);
      expect(pr.code, pr.stderr).toBe(0);
      expect(pr.stderr).toMatch(new RegExp(`wake arrows, ${lints} lints? \\(`));
    }
    const stuck = spans.filter((s) => s.events.some((e) => e.name === "lint: lost-wakeup"));
    expect(stuck.map((s) => s.name)).toEqual(["uart-reader"]);
    expect(stuck[0]!.status.code).toBe(2);
    expect(stuck[0]!.status.message).toMatch(/^lost wake-up: uart-reader/);
    const event = stuck[0]!.events.find((e) => e.name === "lint: lost-wakeup")!;
    expect(event.attributes["taskscope.lint.site"]).toBe("uart-reader: read frame");
    expect(stuck[0]!.attributes["taskscope.await.site"]).toBe("uart-reader: read frame"); // parked there at the end

    r = run(["--perfetto", file, "-o", "lw.pf.json"]);
    expect(JSON.parse(readFileSync(join(dir, "lw.pf.json"), "utf8")).traceEvents.filter((e: { cat?: string }) => e.cat === "lint")).toHaveLength(lints);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, "lw.pf.json"), "utf8")) as { traceEvents: { ph: string; cat?: string; name?: string; tid?: number; args?: Record<string, unknown> }[] };
    const instant = doc.traceEvents.find((e) => e.cat === "lint" && e.args?.["kind"] === "lost-wakeup")!;
    const track = doc.traceEvents.find((e) => e.ph === "M" && e.tid === instant.tid && e.name === "thread_name")!;
    expect(track.args!["name"]).toMatch(/^uart-reader \(task \d+\)$/);

    r = run(["--otlp", file, "-o", "lw-none.json", "--no-lints"]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, "lw-none.json"), "utf8")).not.toContain("lint: ");
  });
});

describe("trace-export: bad input gets one clear line", () => {
  it("a corrupt trace: exit 1, the byte offset, and no output left behind", () => {
    const bytes = Buffer.from(readFileSync(demo));
    bytes.fill(0xff, 0, 64); // the header: damage further in is skipped and reported (test/hostile-file.test.ts)
    writeFileSync(join(dir, "bad.trace.cbor"), bytes);
    for (const [mode, out] of [["--otlp", "bad.json"], ["--perfetto", "bad.pf.json"]] as const) {
      const r = run([mode, "bad.trace.cbor", "-o", out]);
      expect(r.code).toBe(1);
      expectOneLineError(r.stderr, "trace-export: bad.trace.cbor:", "byte");
      expect(existsSync(join(dir, out))).toBe(false);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith(".partial"))).toEqual([]);
  });

  it("a missing file, a file that is not a trace, an output that cannot be written", () => {
    let r = run(["--perfetto", "nope.trace.cbor"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "nope.trace.cbor: no such file");
    writeFileSync(join(dir, "notes.txt"), "not a trace\n");
    r = run(["--otlp", "notes.txt", "-o", "n.json"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "notes.txt", "not a taskscope trace file");
    r = run(["--otlp", demo, "-o", join(dir, "no-such-dir", "out.json")]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "cannot write", "no-such-dir", "ENOENT");
    mkdirSync(join(dir, "adir"), { recursive: true });
    r = run(["--perfetto", "adir"]);
    expect(r.code).toBe(1);
    expectOneLineError(r.stderr, "adir: cannot read (EISDIR)");
  });

  it("wrong flags exit 2 and say which", async () => {
    const cases: [string[], string][] = [
      [[demo], "choose what to export: --otlp or --perfetto"],
      [["--otlp", "--perfetto", demo], "choose one of --otlp and --perfetto"],
      [["--otlp"], "no trace file given"],
      [["--otlp", demo, demo, "-o", "x.json"], "give one trace file"],
      [["--otlp", demo], "nothing to do: give -o FILE"],
      [["--otlp", demo, "-o", "x.json", "--polls", "sometimes"], "--polls takes spans or events"],
      [["--otlp", demo, "-o", "x.json", "--batch-size", "0"], "--batch-size takes a whole number above 0"],
      [["--otlp", demo, "--format", "xml", "-o", "x"], "--format takes json or protobuf"],
      [["--otlp", demo, "--endpoint", "http://c", "--format", "json"], "--format needs an output file"],
      [["--otlp", demo, "-o", "x.json", "--header", "k=v"], "--header needs somewhere to send: --endpoint URL"],
      [["--otlp", demo, "-o", "x.json", "--timeout", "5"], "--timeout needs somewhere to send"],
      [["--otlp", demo, "--endpoint", "ftp://c"], "--endpoint must be an http:// or https:// URL"],
      [["--otlp", demo, "--endpoint", "http://c", "--protocol", "grpc"], "grpc is not supported"],
      [["--otlp", demo, "--endpoint", "http://c", "--header", "=oops-s3cret"], "--header takes KEY=VALUE"],
      [["--perfetto", demo, "--endpoint", "http://c"], "--endpoint is an OTLP option"],
      [["--otlp", demo, "--frobnicate"], "--frobnicate"],
    ];
    const results = await Promise.all(cases.map(([args]) => runAsync(args)));
    for (const [i, [args, message]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expectOneLineError(r.stderr, message);
      expect(r.stderr).not.toContain("s3cret");
    }
  });
});

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;

describe("trace-export interrupted", () => {
  it("leaves no partial file and exits 130 on Ctrl-C", async () => {
    const c = await TestCollector.start({ hang: true });
    try {
      const child = spawn(process.execPath, [CLI, "--otlp", demo, "-o", "interrupted.json", "--endpoint", c.url, "--no-lints"], { cwd: dir, env: cleanEnv() });
      const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
      // Wait until it is stuck sending (the file is still being written), then interrupt it.
      for (let i = 0; i < 200 && c.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(c.requests.length).toBeGreaterThan(0);
      expect(readdirSync(dir).some((f) => f.startsWith("interrupted.json.") && f.endsWith(".partial"))).toBe(true);
      child.kill("SIGINT");
      expect(await closed).toBe(130);
      expect(readdirSync(dir).filter((f) => f.startsWith("interrupted.json"))).toEqual([]);
    } finally {
      await c.close();
    }
  });
});

describe.skipIf(!hasScript)("trace-export on a terminal", () => {
  it("shows a progress line that never holds a secret, and clears it", async () => {
    const c = await TestCollector.start();
    try {
      const token = "Bearer zz-secret-token-42";
      const cmd = [process.execPath, CLI, "--otlp", demo, "-o", join(dir, "tty.json"), "--endpoint", c.url, "--header", `authorization=${token}`, "--batch-size", "100", "--no-lints"]
        .map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
      const out = await new Promise<{ code: number | null; text: string }>((resolve) => {
        const child = spawn("script", ["-qec", cmd, "/dev/null"], { cwd: dir, env: cleanEnv() });
        let text = "";
        child.stdout.on("data", (d: Buffer) => (text += d.toString()));
        child.on("close", (code) => resolve({ code, text }));
      });
      expect(out.code, out.text).toBe(0);
      expect(out.text).toMatch(/\rexporting: \d+% of [\d.]+ KiB, [\d,]+ spans, [\d,]+ sent(, [\d.]+ [KMG]?i?B\/s(, ETA \w+)?)?\x1b\[K/);
      expect(out.text).toContain("\r\x1b[Ktrace-export: wrote"); // the line is cleared before the summary
      expect(out.text).toContain(`sent `);
      expect(out.text).not.toContain("zz-secret-token-42");
      expect(c.accepted[0]!.headers["authorization"]).toBe(token);
    } finally {
      await c.close();
    }
  });
});
