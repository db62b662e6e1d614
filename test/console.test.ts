// trace-pull --live in a real terminal: the built command runs in a tmux pane (Debian's tmux),
// the test presses keys and reads the screen as a user sees it. WASI programs from the demo and
// the test fixtures, and a simulated board on a real pty (test/support/device-sim.ts) for the
// serial console: one stuck while the console watches, one that booted long before the console
// attached. Every wait is for something on the screen (or a file, or the board's own progress),
// never a fixed time, and the assertions are about what is shown, never about how fast.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { cleanEnv, cliPath, waitFor } from "./support/cli.js";
import { Tmux } from "./support/tmux.js";
import { startPtyPair } from "./support/pty.js";
import { DeviceSim, SERIAL_DEVICE_16K_WASM } from "./support/device-sim.js";
import { readWholeTrace } from "../host/tracefile/trace.js";
import { analyzeTrace } from "../host/model/analyze.js";

const DEMO = join(ROOT, "build/demo.wasm");
const FOREVER = join(ROOT, "build/test/forever-app.wasm");
const HOSTILE = join(ROOT, "build/test/hostile-names-app.wasm");

let dir: string;
beforeAll(() => {
  for (const f of [DEMO, FOREVER, HOSTILE, cliPath("trace-pull")]) if (!existsSync(f)) throw new Error(`${f} is missing: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), "taskscope-console-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The environment a user's shell gives (no colour asked for or refused unless the test says). */
function env(extra: Record<string, string> = {}): Record<string, string> {
  const e = cleanEnv(extra);
  delete e["TMUX"];
  delete e["TMUX_PANE"];
  return e;
}

let panes = 0;
/** trace-pull in a new tmux pane. */
function console(args: string[], size: { width: number; height: number }, extraEnv: Record<string, string> = {}): Tmux {
  return Tmux.start([process.execPath, cliPath("trace-pull"), ...args], { dir, name: `pane${++panes}`, ...size, env: env(extraEnv), cwd: dir });
}

const has = (screen: string[], re: RegExp) => screen.some((l) => re.test(l));
/** The bottom line: the keys the console takes (it is there only in a frame drawn for this size). */
const KEYS_LINE = /^ q quit {2}↑↓ move/;
/** A histogram bin's label in the detail view. */
const BIN = "(?:≥\\S+|<1ns)";
// SGR colour codes (foreground, background, 256 and true colour): what NO_COLOR must leave out.
// eslint-disable-next-line no-control-regex
const COLOUR = /\x1b\[(?:[0-9;]*;)?(?:3[0-7]|9[0-7]|4[0-7]|10[0-7]|38;|48;)[0-9;]*m/;

describe("trace-pull --wasi --live", () => {
  it("shows the stuck task in a full-screen console that fits 80x24, with keys and a task's detail; q leaves a complete trace", async () => {
    const file = join(dir, "lost.trace.cbor");
    const t = console(["--wasi", DEMO, "--live", "-o", file, "--", "lost-wakeup"], { width: 110, height: 32 });
    try {
      // A stuck task sorts first: the cursor is on it.
      await t.waitFor("the stuck task", (s) => has(s, /^>uart-reader\s+\d+\s+STUCK \(no waker\)/));

      // Resized to 80x24 the whole frame is drawn again for the new size: title on the first
      // row, the keys on the last, nothing wrapped.
      t.resize(80, 24);
      let screen = await t.waitFor("a frame drawn at 80x24", (s) => s.length === 24 && KEYS_LINE.test(s[23]!) && /^ \S.* │ device time \S+ │ /.test(s[0]!));
      expect(t.format("#{pane_width}x#{pane_height}")).toBe("80x24");
      // (Right-aligned columns are as wide as their widest value: "BUSY" may be "12.5%" wide.)
      expect(screen[2], screen.join("\n")).toMatch(/^ TASK\s+ID STATE\s+FOR\s+POLLS\s+BUSY\s+LAST WAKE\s+WARN\s+AWAITING/);

      // The program ends by itself; the console stays on the complete trace.
      screen = await t.waitFor("the end of the program", (s) => has(s, /^ demo\.wasm exited with status 0; q to quit \(the trace is complete: /));
      const row = screen.find((l) => l.startsWith(">uart-reader"))!;
      // Every column but the last in full at 80 columns; the await site is cut to fit.
      expect(row).toMatch(/^>uart-reader\s+\d+\s+STUCK \(no waker\)\s+\S+\s+\d+\s+\S+%\s+\S+\s+\d+ E\s+uart-reader:/);
      expect(row.length).toBeLessThanOrEqual(80);
      expect(has(screen, /^─ lints \(\d+\) ─/)).toBe(true);
      expect(has(screen, /^ ERROR lost wake-up: uart-reader \(task \d+\) parked at 'uart-reader: read frame'/)).toBe(true);
      // Colour, on a terminal that has it: the stuck state in red.
      expect(t.styled()).toMatch(/\x1b\[[0-9;]*31m[^\n]*STUCK \(no waker\)/);

      // Enter: the task's detail.
      t.keys("Enter");
      screen = await t.waitFor("the task's detail", (s) => has(s, /^ task uart-reader \(id \d+\)/) && has(s, /^ poll time/));
      expect(has(screen, /^ state\s+STUCK \(no waker\) for /)).toBe(true);
      expect(has(screen, /^ awaits\s+'uart-reader: read frame' on io 'uart0 rx'/)).toBe(true);
      expect(has(screen, /^ wakes\s+\d+: by tasks 0, by interrupts [1-9]\d*, external 0, self 0/)).toBe(true);
      expect(has(screen, /^ wakers\s+0 held; none live for \S+ \(none stored when it parked\)/)).toBe(true);
      expect(has(screen, /^ memory\s+/)).toBe(true);
      expect(has(screen, /^ flow\s+/)).toBe(true);
      expect(has(screen, /^ lint\s+ERROR lost wake-up/)).toBe(true);
      // Both histograms, side by side at 80 columns, each with bars.
      expect(has(screen, /^ poll time\s+wake delay/)).toBe(true);
      // (A bin's label is "≥" its low end, or "<1ns": the clock leaves out time the program did
      // not run, so on a loaded machine a short poll can measure 0.)
      const bars = screen.filter((l) => new RegExp(`${BIN} █+ +\\d+ +${BIN} `).test(l) || new RegExp(`${BIN} +\\d+ +${BIN} █+`).test(l));
      expect(bars.length, screen.join("\n")).toBeGreaterThan(0);
      expect(screen).toHaveLength(24);
      expect(KEYS_LINE.test(screen[23]!)).toBe(true);

      // Esc: back to the table; ? shows the keys, any key closes them.
      t.keys("Escape");
      await t.waitFor("the task table again", (s) => has(s, /^ TASK\s+ID STATE/) && has(s, /^>uart-reader/));
      t.keys("?");
      await t.waitFor("the help", (s) => has(s, /^ keys/) && has(s, /^ q, Ctrl-C\s+quit/));
      t.keys("x");
      await t.waitFor("the table after the help", (s) => has(s, /^ TASK\s+ID STATE/));

      // q: the console goes, the terminal is as it was, with the program's own output and the
      // summary under it.
      t.keys("q");
      expect(await t.exited()).toBe(0);
      expect(has(t.screen(), /device time/)).toBe(false);
      expect(t.history()).toMatch(/^demo lost-wakeup: stuck, .*\ntrace-pull: wrote .*lost\.trace\.cbor: /m);
      const trace = readWholeTrace(file);
      expect(trace.footer?.reason).toBe("exit 0");
      expect(trace.truncated).toBeUndefined();
      const first = analyzeTrace(file).lints[0]!;
      expect([first.kind, first.tasks[0]?.name]).toEqual(["lost-wakeup", "uart-reader"]);
    } finally {
      t.stop();
    }
  }, 120_000);

  it("shows resources with their fill and who is parked on each, the lints, sorts and moves", async () => {
    const file = join(dir, "deadlock.trace.cbor");
    const t = console(["--wasi", DEMO, "--live", "-o", file, "--", "deadlock"], { width: 100, height: 30 });
    try {
      await t.waitFor("the end of the program", (s) => has(s, /exited with status 0/));

      // Resources: both channels of the deadlock full, each with the task parked on it.
      t.keys("r");
      let screen = await t.waitFor("the resources", (s) => has(s, /^ RESOURCE\s+KIND\s+FILL/));
      expect(has(screen, /^ {2}Tasks {3}Resources {3}Lints/)).toBe(true);
      expect(screen.find((l) => /^[ >]samples /.test(l))).toMatch(/channel\s+█{6} 4\/4\s+4\s+\S+\s+-\s+1: telemetry\b/);
      expect(screen.find((l) => /^[ >]acks /.test(l))).toMatch(/channel\s+█{6} 2\/2\s+2\s+\S+\s+-\s+1: compressor\b/);
      expect(screen.find((l) => /^[ >]db /.test(l))).toMatch(/mutex\s+free\s+\d+\s+-\s+-\s+-/);

      // Lints: the deadlock first; Enter opens the first task it names.
      t.keys("l");
      // Lints are found again at most once a second (live-feed.ts): wait for the last events' turn.
      screen = await t.waitFor("the deadlock among the lints", (s) => has(s, /^ SEVERITY LINT/) && /^>ERROR\s+deadlock: /.test(s[3] ?? ""));
      expect(screen[3]).toMatch(/^>ERROR\s+deadlock: /);
      expect(has(screen, /^ hint {2}\S/)).toBe(true);
      const named = /^ tasks (\S+) \((\d+)\)/.exec(screen.find((l) => l.startsWith(" tasks "))!)!;
      t.keys("Enter");
      screen = await t.waitFor("the named task's detail", (s) => has(s, new RegExp(`^ task ${named[1]} \\(id ${named[2]}\\)`)));
      expect(has(screen, /^ blocked\s+send on '(samples|acks)'/)).toBe(true);
      t.keys("Escape");

      // Tasks: sort by name, then move down one and open it.
      t.keys("t", "n");
      // The header and the rows reach the terminal in separate writes: wait for the rows as well.
      const taskNames = (s: string[]) => s.filter((l) => /^[ >]\S+\s+\d+ /.test(l) && !l.startsWith(" TASK")).map((l) => l.slice(1).split(/\s+/)[0]!);
      screen = await t.waitFor("tasks by name", (s) => has(s, /sort: name/) && taskNames(s).length === 2);
      const names = taskNames(screen);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(["compressor", "telemetry"]);
      // The cursor stays on the task it was on (the one the lint named first, or the top row):
      // bring it to the top, then move down one.
      t.keys("k");
      await t.waitFor("the cursor on the first task", (s) => has(s, /^>compressor/));
      t.keys("j");
      await t.waitFor("the cursor on the second task", (s) => has(s, /^>telemetry/));
      t.keys("n");
      await t.waitFor("names reversed", (s) => has(s, /sort: name \(reversed\)/) && s.findIndex((l) => /^[ >]telemetry/.test(l)) < s.findIndex((l) => /^[ >]compressor/.test(l)));
      // The cursor stays on the task it was on.
      expect(t.screen().find((l) => l.startsWith(">"))).toMatch(/^>telemetry/);
      t.keys("Enter");
      await t.waitFor("telemetry's detail", (s) => has(s, /^ task telemetry \(id \d+\)/));
      t.keys("Escape", "q");
      expect(await t.exited()).toBe(0);
    } finally {
      t.stop();
    }
  }, 120_000);

  for (const key of ["q", "C-c"]) {
    it(`${key} while the program runs stops it as Ctrl-C does: a complete trace, status 130, the terminal given back`, async () => {
      const file = join(dir, `forever-${key}.trace.cbor`);
      const t = console(["--wasi", FOREVER, "--live", "-o", file], { width: 80, height: 24 });
      try {
        // (It records faster than it is drained: its spawn is overwritten before the first drain.)
        await t.waitFor("the task polled", (s) => has(s, /^>(forever|task 1\*?)\s+1\s+.*\s[1-9][\d,]*\s/));
        t.keys(key);
        expect(await t.exited()).toBe(130);
        expect(has(t.screen(), /device time/)).toBe(false);
        expect(t.history()).toMatch(/^trace-pull: stopped forever-app\.wasm \(the trace up to then is in .*, complete\)$/m);
        const trace = readWholeTrace(file);
        expect(trace.footer?.reason).toBe("interrupted");
        expect(trace.truncated).toBeUndefined();
        expect(trace.sessions[0]!.events).toBeGreaterThan(0);
      } finally {
        t.stop();
      }
    }, 90_000);
  }

  for (const [name, value] of [["NO_COLOR", "1"], ["FORCE_COLOR", "0"]] as const) {
    it(`honours ${name}=${value} and shows names from the trace as text, never as terminal commands`, async () => {
      const file = join(dir, `hostile-${name}.trace.cbor`);
      const t = console(["--wasi", HOSTILE, "--live", "-o", file], { width: 120, height: 24 }, { [name]: value });
      try {
        const screen = await t.waitFor("the end of the program", (s) => has(s, /exited with status 0/) && has(s, /STUCK/));
        expect(has(screen, /^>evil\\x1b\]0;pwned\\x07\S*\s+1\s+STUCK \(no waker\)\s.*wait\\x1b\[1A\\rhere \[chan\\u202eevil\]/)).toBe(true);
        expect(screen[0]).toContain("dev\\x1b[31mRED\\x1b[0m");
        expect(t.format("#{pane_title}")).not.toContain("pwned");
        const styled = t.styled();
        expect(styled).not.toMatch(COLOUR);
        // Attributes are not colour: the selected row still shows in inverse video.
        expect(styled).toMatch(/\x1b\[[0-9;]*7m[^\n]*evil/);
        t.keys("Enter");
        const detail = await t.waitFor("its detail", (s) => has(s, /^ task evil/));
        expect(has(detail, /^ task evil\\x1b\]0;pwned\\x07\\x1b\[2J \(id 1\)/)).toBe(true);
        expect(t.styled()).not.toMatch(COLOUR);
        t.keys("q");
        expect(await t.exited()).toBe(0);
      } finally {
        t.stop();
      }
    }, 90_000);
  }
});

describe("trace-pull --port --live", () => {
  it("shows a board's stuck task while the board runs; q ends the stream with its closing dump", async () => {
    const pty = await startPtyPair(dir, "stuck-dev", "stuck-host");
    const sim = await DeviceSim.start({ tty: pty.a, scenario: "stuck", hold: true });
    const file = join(dir, "board-stuck.trace.cbor");
    const t = console(["--port", pty.b, "--live", "-o", file], { width: 100, height: 30 });
    try {
      // Booted once trace-pull has the port open: its start-up costs nothing then.
      await waitFor("trace-pull to open the port", () => existsSync(file));
      sim.powerOn();
      let screen = await t.waitFor("the stuck task", (s) => has(s, /^>sensor-reader\s+\d+\s+STUCK \(no waker\)\s/));
      // The board is still running (and still answering): the task is stuck now, not at the end.
      expect(sim.error).toBeUndefined();
      expect(sim.boots).toHaveLength(0);
      expect(has(screen, /^ stuck-host: [\d,]+ events/)).toBe(true);
      t.keys("Enter");
      screen = await t.waitFor("its detail", (s) => has(s, /^ task sensor-reader/));
      expect(has(screen, /^ awaits\s+'sensor-reader: wait sample'/)).toBe(true);
      expect(has(screen, /^ wakes\s+0: .*; never woken/)).toBe(true);
      t.keys("q");
      expect(await t.exited()).toBe(0);
      expect(t.history()).toMatch(/^trace-pull: wrote .*board-stuck\.trace\.cbor: /m);
      expect(readWholeTrace(file).footer?.reason).toBe("interrupted");
    } finally {
      t.stop();
      await sim.stop();
      await pty.stop();
    }
  }, 120_000);

  /** A board that has run a while, then trace-pull --live attached to it in a pane; returns
   *  every screen seen until the console had pulled `events` events, and the trace file. */
  async function attachLate(name: string, scenario: string, events: number, check: (frames: string[][], file: string) => void): Promise<void> {
    const pty = await startPtyPair(dir, `${name}-dev`, `${name}-host`);
    // A 16 KiB ring: the spawns of the tasks running when the console attaches, and the wakers
    // they cloned, were overwritten long before.
    const sim = await DeviceSim.start({ tty: pty.a, scenario, wasmPath: SERIAL_DEVICE_16K_WASM });
    const file = join(dir, `${name}.trace.cbor`);
    let t: Tmux | undefined;
    try {
      await waitFor("the board to run a while", () => sim.recorded > 40_000, 120_000);
      t = console(["--port", pty.b, "--live", "-o", file], { width: 120, height: 40 });
      const seen: string[][] = [];
      const status = new RegExp(`^ ${name}-host: ([\\d,]+) events`);
      const pulled = (s: string[]) => Number(s.map((l) => status.exec(l)?.[1]).find(Boolean)?.replace(/,/g, "") ?? 0);
      const table = (s: string[]) => has(s, /^ TASK\s+ID STATE/) && has(s, /^>/);
      // Several tables read while it pulls (a loaded machine may read few screens per second).
      await t.waitFor(`the console to pull ${events} events`, (s) => pulled(s) > events && seen.filter(table).length > 3, { seen, ms: 120_000 });
      t.keys("q");
      expect(await t.exited()).toBe(0);
      const frames = seen.filter(table);
      check(frames, file);
    } finally {
      t?.stop();
      await sim.stop();
      await pty.stop();
    }
  }

  it("attached to a board that booted long before, never calls a healthy task stuck", async () => {
    // The demo again and again: tasks come and go, some seen first mid-run.
    await attachLate("late", "demo-loop", 30_000, (frames, file) => {
      expect(frames.filter((s) => has(s, /STUCK/)).map((s) => s.join("\n")).slice(0, 1)).toEqual([]);
      // It did attach mid-run: the chunks before the first it got had been overwritten.
      const a = analyzeTrace(file);
      expect(a.model.gaps.some((g) => g.session === 0 && g.chunks > 0)).toBe(true);
    });
  }, 240_000);

  it("tasks polled thousands of times whose spawn and wakers it never saw: 'waker unknown', never STUCK", async () => {
    // The flood firmware polls and wakes 16 tasks as fast as it can; their spawns and waker
    // clones are long gone. Parked with no waker seen, they would look stuck to a naive view.
    await attachLate("flood", "flood", 20_000, (frames) => {
      expect(frames.filter((s) => has(s, /STUCK/)).map((s) => s.join("\n")).slice(0, 1)).toEqual([]);
      const unknown = frames.flat().filter((l) => /^[ >]task \d+\*\s+\d+\s+parked \(waker unknown\)\s+\S+\s+[\d,]{3,}\s/.test(l));
      expect(unknown.length).toBeGreaterThan(0);
      expect(frames.some((s) => has(s, /\*: first seen mid-run, history incomplete/))).toBe(true);
    });
  }, 240_000);
});
