// Command-line manners of trace-pull, trace-report and trace-export, as a user meets them: built
// commands in real processes, pipes, a real terminal (a pty from `script`), real files.
//   --version; "-" for standard input and output; a quiet end when the reader of a pipe leaves;
//   "did you mean"; --json summaries; a warning when --task matches nothing; counts with
//   separators; progress with rate and ETA, cleared before other output; colour only where
//   wanted; strings from a trace escaped in text and HTML, exact in JSON.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";
import { ROOT } from "./support/core-harness.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { writeWorkload } from "../bench/workloads.js";
import { cliPath, cleanEnv, expectOneLineError, onTerminal, run, type Command } from "./support/cli.js";

const DEMO = join(ROOT, "build/demo.wasm");
const HOSTILE = join(ROOT, "build/test/hostile-names-app.wasm");
const VERSION = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

let dir: string;
let demo: string;
let big: string;
let server: string;
let hostile: string;

beforeAll(() => {
  for (const f of [DEMO, HOSTILE, cliPath("trace-pull")]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), "taskscope-manners-"));
  demo = join(dir, "demo.trace.cbor");
  let r = run("trace-pull", ["--wasi", DEMO, "-o", demo], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  hostile = join(dir, "hostile.trace.cbor");
  r = run("trace-pull", ["--wasi", HOSTILE, "-o", hostile], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  big = join(dir, "big.trace.cbor");
  writeWorkload(big, 1_500_000);
  // A server trace whose reports are larger than a pipe holds (the demo's are not).
  server = join(dir, "server.trace.cbor");
  writeWorkload(server, 200_000);
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const opts = () => ({ cwd: dir });

describe("--version and --help", () => {
  it("every command says its version and lists --version in its help", () => {
    for (const command of ["trace-pull", "trace-report", "trace-export"] as Command[]) {
      const r = run(command, ["--version"], opts());
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(`${command} (taskscope) ${VERSION}\n`);
      expect(run(command, ["--help"], opts()).stdout).toContain("--version");
    }
  });
});

describe("unknown flags", () => {
  it("get the closest flag of that command, exit 2, no Node error text", () => {
    const cases: [Command, string[], string][] = [
      ["trace-pull", ["--port", "/dev/null", "--durration", "5"], "unknown option '--durration' (did you mean --duration?)"],
      ["trace-export", ["--perfeto", "x.trace.cbor"], "unknown option '--perfeto' (did you mean --perfetto?)"],
      ["trace-report", ["x.trace.cbor", "--jsno"], "unknown option '--jsno' (did you mean --json?)"],
      ["trace-report", ["x.trace.cbor", "--all"], "unknown option '--all' (did you mean --all-tasks?)"],
      ["trace-report", ["x.trace.cbor", "--since"], "--since needs a value"],
      ["trace-report", [demo, "--since", "-5ms"], "--since counts from each session's first event and cannot be negative: '-5ms'"],
      ["trace-report", [demo, "--self-wake-min", "1.0"], "--self-wake-min takes a whole number (0 or more), not '1.0'"],
      ["trace-report", [demo, "--self-wake-min", "1e308"], "not '1e308'"],
      ["trace-pull", ["--port", "/dev/null", "--baud", "-0"], "--baud takes a whole number above 0, not '-0'"],
      ["trace-pull", ["--port", "/dev/null", "--filter", "0x100000000"], "--filter: the mask 0x100000000 is wider than the device's 32-bit filter"],
      ["trace-export", ["--otlp", demo, "-o", "x.json", "--batch-size", "1.0"], "--batch-size takes a whole number above 0, not '1.0'"],
    ];
    for (const [command, args, message] of cases) {
      const r = run(command, args, opts());
      expect(r.code, `${command} ${args.join(" ")}: ${r.stderr}`).toBe(2);
      expectOneLineError(r.stderr, message);
      expect(r.stderr).not.toMatch(/ERR_PARSE_ARGS|ambiguous|TypeError/);
    }
  });
});

describe('"-" is standard input and output everywhere', () => {
  it("trace-pull -o - writes the trace to standard output (no file named '-'), the program's output to standard error", () => {
    const r = spawnSync(process.execPath, [cliPath("trace-pull"), "--wasi", DEMO, "-o", "-"], { cwd: dir, env: cleanEnv() });
    expect(r.status, r.stderr.toString()).toBe(0);
    expect(existsSync(join(dir, "-"))).toBe(false);
    expect(r.stderr.toString()).toContain("demo: 32 requests served");
    expect(r.stderr.toString()).toMatch(/trace-pull: wrote standard output: [\d,]+ events/);
    writeFileSync(join(dir, "from-stdout.trace.cbor"), r.stdout);
    const trace = readWholeTrace(join(dir, "from-stdout.trace.cbor"));
    expect(trace.footer?.reason).toBe("exit 0");
    expect(trace.sessions[0]!.events).toBeGreaterThan(10_000);
  });

  it("trace-pull --wasi - reads the module from standard input", () => {
    const r = run("trace-pull", ["--wasi", "-", "-o", "piped-module.trace.cbor"], { cwd: dir, input: readFileSync(DEMO) });
    expect(r.code, r.stderr).toBe(0);
    expect(readWholeTrace(join(dir, "piped-module.trace.cbor")).sessions[0]!.info.device).toBe("wasi-demo");
  });

  it("trace-report - and trace-export - read a trace from a pipe; -o - and --html - write to standard output", () => {
    const bytes = readFileSync(demo);
    const fromFile = run("trace-report", [demo, "--json"], opts());
    const fromPipe = run("trace-report", ["-", "--json"], { cwd: dir, input: bytes });
    expect(fromPipe.code, fromPipe.stderr).toBe(0);
    const a = JSON.parse(fromFile.stdout);
    const b = JSON.parse(fromPipe.stdout);
    expect(b.file).toBe("-");
    expect({ ...b, file: a.file }).toEqual(a);
    const html = run("trace-report", ["-", "--html", "-"], { cwd: dir, input: bytes });
    expect(html.code, html.stderr).toBe(0);
    expect(html.stdout).toMatch(/^<!doctype html>/i);
    const pf = run("trace-export", ["--perfetto", "-", "-o", "-", "--format", "json"], { cwd: dir, input: bytes });
    expect(pf.code, pf.stderr).toBe(0);
    expect(JSON.parse(pf.stdout).traceEvents.length).toBeGreaterThan(5000);
    expect(existsSync(join(dir, "-"))).toBe(false);
    expect(existsSync(join(dir, "stdin.perfetto.json"))).toBe(false);
    expect(existsSync(join(dir, "stdin.pftrace"))).toBe(false);
  });
});

describe("a reader that leaves early ends the command quietly", () => {
  // Each output is far larger than a pipe holds, so the command is still writing when head exits.
  const pipeline = (command: Command, args: string[], head: string) =>
    spawnSync("bash", ["-c", `'${process.execPath}' '${cliPath(command)}' ${args.map((a) => `'${a}'`).join(" ")} | ${head} >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`], { cwd: dir, encoding: "utf8", env: cleanEnv() });

  it("trace-report --json | head -3, trace-export -o - | head -c 100: no EPIPE, no stack, status 0", () => {
    // More than a pipe holds (64 KiB) plus what head reads before it leaves.
    expect(run("trace-report", [server, "--json"], opts()).stdout.length).toBeGreaterThan(80 * 1024);
    expect(run("trace-report", [server, "--html", "-"], opts()).stdout.length).toBeGreaterThan(256 * 1024);
    for (const [command, args, head] of [
      ["trace-report", [server, "--json"], "head -3"],
      ["trace-report", [server, "--html", "-"], "head -3"],
      ["trace-export", ["--perfetto", big, "--no-lints", "-o", "-"], "head -c 100"],
      ["trace-export", ["--otlp", demo, "--no-lints", "-o", "-"], "head -c 100"],
    ] as [Command, string[], string][]) {
      const r = pipeline(command, args, head);
      expect(r.stderr, `${command} ${args.join(" ")}`).toBe("status=0\n");
    }
  });
});

describe("--json summaries", () => {
  it("trace-pull --json prints only JSON on standard output, the figures of the file it wrote", () => {
    const r = run("trace-pull", ["--wasi", DEMO, "-o", "json.trace.cbor", "--json"], opts());
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    const trace = readWholeTrace(join(dir, "json.trace.cbor"));
    expect(s).toMatchObject({ schema: "taskscope.pull/1", source: "wasi:demo.wasm", output: "json.trace.cbor", events: trace.sessions[0]!.events, sessions: 1, exitCode: 0, trap: null, interrupted: false });
    expect(s.bytes).toBe(statSync(join(dir, "json.trace.cbor")).size);
    expect(r.stderr).toContain("demo: 32 requests served"); // the program's own output moved aside
    expect(r.stderr).not.toContain("trace-pull: wrote");
  });

  it("trace-export --json for both exports; not with -o -", () => {
    let r = run("trace-export", ["--perfetto", demo, "-o", "j.pf.json", "--json"], opts());
    expect(r.code, r.stderr).toBe(0);
    let s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ schema: "taskscope.export/1", format: "perfetto", output: "j.pf.json", taskTracks: 78, truncatedAtByte: null });
    expect(s.bytes).toBe(statSync(join(dir, "j.pf.json")).size);
    expect(s.traceEvents).toBe(JSON.parse(readFileSync(join(dir, "j.pf.json"), "utf8")).traceEvents.length);
    r = run("trace-export", ["--otlp", demo, "-o", "j.json", "--json"], opts());
    expect(r.code, r.stderr).toBe(0);
    s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ format: "otlp", fileFormat: "OTLP/JSON Lines", traces: 33, sent: null });
    expect(s.bytes).toBe(statSync(join(dir, "j.json")).size);
    r = run("trace-export", ["--otlp", demo, "-o", "-", "--json"], opts());
    expect(r.code).toBe(2);
    expectOneLineError(r.stderr, "--json prints the summary on standard output");
  });
});

describe("--task", () => {
  it("warns about a pattern that matches no task, with the name it may have meant", () => {
    let r = run("trace-report", [demo, "--task", "wroker", "--task", "http-*"], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("trace-report: warning: --task 'wroker' matches no task (did you mean 'worker'?)\n");
    expect(r.stdout).toMatch(/^http-server\s/m);
    r = run("trace-report", [demo, "--task", "nosuchtask"], opts());
    expect(r.stderr).toBe("trace-report: warning: --task 'nosuchtask' matches no task\n");
    r = run("trace-report", [demo, "--task", "w*", "--task", "1"], opts());
    expect(r.stderr).toBe("");
  });
});

describe("counts", () => {
  it("have separators in summaries and reports", () => {
    const r = run("trace-report", [big], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 1,500,000 events in [\d,]+ chunks/);
    const table = r.stdout.split("\n").filter((l) => /^(client|worker|ticker)\b/.test(l));
    expect(table.length).toBeGreaterThan(0);
    for (const line of table) expect(line.replace(/\d+\.\.\d+/, "")).not.toMatch(/\d{4}/); // ids aside, 4+ digits are grouped
    const pull = run("trace-pull", ["--wasi", DEMO, "-o", "counts.trace.cbor"], opts());
    expect(pull.stderr).toMatch(/wrote counts\.trace\.cbor: \d{1,3}(,\d{3})+ events/);
  });
});

describe("on a terminal", () => {
  it("trace-report shows its progress with rate and ETA, clears it, then prints the report in colour", async () => {
    const t = onTerminal("trace-report", [big], opts());
    const { code, text } = await t.result;
    expect(code, text.slice(-2000)).toBe(0);
    const updates = text.split("\r").filter((s) => s.startsWith("reading: "));
    expect(updates.some((u) => /^reading: \d+% of [\d.]+ MiB, [\d,]+ events, [\d.]+ [KMG]?i?B\/s, ETA \w+\x1b\[K$/.test(u)), updates.join("\n")).toBe(true);
    expect(text).toContain("\r\x1b[Ktaskscope report:"); // the line is cleared before the report
  }, 120_000);

  it("colours severities and stuck tasks; NO_COLOR turns it off; off a terminal only FORCE_COLOR colours", async () => {
    const args = [hostile, "--stuck", "1us"];
    const coloured = await onTerminal("trace-report", args, opts()).result;
    expect(coloured.code, coloured.text).toBe(0);
    expect(coloured.text).toContain("\x1b[1;31mERROR\x1b[0m lost wake-up");
    expect(coloured.text).toMatch(/\x1b\[31mevil\\x1b\]0;pwned\\x07\\x1b\[2J +1 +- +parked .*\x1b\[0m/); // the stuck task's row
    const plain = await onTerminal("trace-report", args, { cwd: dir, env: cleanEnv({ NO_COLOR: "1" }) }).result;
    expect(plain.text).toContain("ERROR lost wake-up");
    expect(plain.text).not.toMatch(/\x1b\[[0-9;]*m/);
    const piped = run("trace-report", args, opts());
    expect(piped.stdout).not.toMatch(/\x1b/);
    const forced = run("trace-report", args, { cwd: dir, env: cleanEnv({ FORCE_COLOR: "1" }) });
    expect(forced.stdout).toContain("\x1b[1;31mERROR\x1b[0m");
    expect(run("trace-report", [...args, "--json"], { cwd: dir, env: cleanEnv({ FORCE_COLOR: "1" }) }).stdout).not.toContain("\x1b[1;31m");
  }, 60_000);

  it("trace-pull clears its progress line before the program's own output", async () => {
    // The demo prints its line while trace-pull is drawing progress (issue: "8,134 ev/sdemo ...").
    const { code, text } = await onTerminal("trace-pull", ["--wasi", DEMO, "-o", "tty.trace.cbor"], opts()).result;
    expect(code, text).toBe(0);
    const at = text.indexOf("demo: 32 requests served");
    expect(at).toBeGreaterThan(0);
    const before = text.slice(0, at);
    expect(before.endsWith("\r\x1b[K") || before.endsWith("\n")).toBe(true);
  }, 60_000);
});

describe("strings from a trace", () => {
  it("are escaped in the text report: no escape sequence, no forged line", () => {
    const r = run("trace-report", [hostile, "--stuck", "1us"], opts());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
    expect(r.stdout).toContain("device dev\\x1b[31mRED\\x1b[0m, firmware fw 1\\nlost: nothing (forged line), ");
    expect(r.stdout.split("\n").filter((l) => l.startsWith("lost:"))).toEqual(["lost: nothing"]);
    expect(r.stdout).toContain("lost wake-up: evil\\x1b]0;pwned\\x07\\x1b[2J (task 1) parked at 'wait\\x1b[1A\\rhere'");
    expect(r.stdout).toContain("chan\\u202eevil");
  });

  it("stay exact in JSON (the report, OTLP)", () => {
    const report = JSON.parse(run("trace-report", [hostile, "--json", "--stuck", "1us"], opts()).stdout);
    expect(report.sessions[0].device).toBe("dev\x1b[31mRED\x1b[0m");
    expect(report.tasks.map((t: { name: string }) => t.name)).toEqual(["evil\x1b]0;pwned\x07\x1b[2J", "</script><img src=x onerror=\"document.title='pwned'\">"]);
    const spans = JSON.parse(run("trace-export", ["--otlp", hostile, "-o", "-"], opts()).stdout).resourceSpans.flatMap((r: { scopeSpans: { spans: { name: string }[] }[] }) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.map((s: { name: string }) => s.name)).toContain("evil\x1b]0;pwned\x07\x1b[2J");
  });

  it("are text in the HTML report: nothing injected, in a real browser", async () => {
    const html = join(dir, "hostile.html");
    const r = run("trace-report", [hostile, "--stuck", "1us", "--html", html], opts());
    expect(r.code, r.stderr).toBe(0);
    const context = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.goto(pathToFileURL(html).href);
      await page.waitForSelector("body[data-ready='1']", { timeout: 20_000 });
      const seen = await page.evaluate(() => {
        const doc = (globalThis as unknown as { document: { title: string; querySelectorAll(s: string): { length: number }; body: { textContent: string } } }).document;
        return { title: doc.title, images: doc.querySelectorAll("img").length, text: doc.body.textContent };
      });
      expect(seen.title).not.toBe("pwned");
      expect(seen.images).toBe(0);
      expect(seen.text).toContain("</script><img src=x onerror=\"document.title='pwned'\">"); // shown as the text it is
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 60_000);
});
