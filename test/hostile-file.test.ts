// Trace files of about 1 MiB made to cost the reader as much as possible, through the commands
// users run on them (trace-report, trace-report --json, trace-export --otlp and --perfetto). Each
// must end with a report or a one-line error, never an internal error, and the reader's work is
// bounded by counting (bytes scanned, resynchronisation included, against the file's size). The
// commands get a generous time limit only so a hang fails the test rather than the suite.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";
import { pullDemoTrace } from "./support/otlp-traces.js";
import { openTrace } from "../host/tracefile/trace.js";
import { TraceFileError } from "../host/tracefile/errors.js";
import { plainCborEncoder } from "../host/tracefile/writer.js";
import { concat, Rng } from "./fuzz/mutate.js";
import { itemMarks } from "./fuzz/target-tracefile.js";

const MiB = 1 << 20;
let dir: string;
let demoFile: string;
const files: Record<string, string> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-hostile-file-"));
  demoFile = await pullDemoTrace(join(dir, "demo.trace.cbor"));
  const demo = new Uint8Array(readFileSync(demoFile));
  const marks = itemMarks(demo);
  // header, session, names: the first items before the first chunks item
  const firstChunks = marks.findIndex((m, i) => i > 0 && demo[m] === 0xa2 && Buffer.from(demo.subarray(m, m + 20)).includes(Buffer.from("chunks")));
  const head = demo.subarray(0, marks[firstChunks]!);
  const chunksItem = demo.subarray(marks[firstChunks]!, marks[firstChunks + 1]!);
  /** `start`, then `piece` as often as fits in 1 MiB. */
  const fill = (start: Uint8Array[], piece: Uint8Array) => {
    const first = concat(...start);
    const times = Math.floor((MiB - first.length) / piece.length);
    const out = new Uint8Array(first.length + times * piece.length);
    out.set(first);
    for (let i = 0; i < times; i++) out.set(piece, first.length + i * piece.length);
    return out;
  };
  const enc = plainCborEncoder();
  const r = new Rng(3);
  const make: Record<string, () => Uint8Array> = {
    // The case: one chunks item stored over and over (same session, same seqs).
    "repeated-chunks": () => fill([head], chunksItem),
    // Places that look like an item start every 32 bytes, each claiming an array that runs to
    // the end of the file: resynchronising from each would scan the rest of the file.
    "resync-bomb": () => {
      const bomb = Uint8Array.from([0xa2, 0x67, ...Buffer.from("session"), 0x00, 0x66, ...Buffer.from("chunks"), 0x9a, 0x00, 0x0f, 0x42, 0x40]);
      return fill([head, Uint8Array.of(0xff)], concat(bomb, new Uint8Array(32 - bomb.length)));
    },
    // Random bytes after a valid start.
    noise: () => concat(head, Uint8Array.from({ length: MiB - head.length }, () => r.below(256))),
    // The demo again and again as new sessions, one bit in a hundred bytes flipped.
    "bit-rot": () => {
      const body = demo.subarray(head.length);
      const out = fill([head], body);
      for (let i = head.length; i < out.length; i += 100) out[i]! ^= 1 << r.below(8);
      return out;
    },
    // Nesting as deep as the bytes allow.
    deep: () => fill([head], Uint8Array.of(0x81)),
    // Every other byte a damaged stretch: many damage entries.
    "damage-everywhere": () => fill([head], concat(Uint8Array.of(0xff), enc.encode({ session: 0, counters: { recorded: 1 } }))),
  };
  for (const [name, build] of Object.entries(make)) {
    files[name] = join(dir, `${name}.trace.cbor`);
    writeFileSync(files[name]!, build());
  }
}, 120_000);
afterAll(() => (process.env["KEEP_HOSTILE"] ? console.log(dir) : rmSync(dir, { recursive: true, force: true })));

describe("1 MiB hostile trace files", () => {
  it("the reader's work is bounded by the file's size, whatever the file", () => {
    for (const [name, file] of Object.entries(files)) {
      let trace;
      try {
        trace = openTrace(file);
        trace.summary();
      } catch (e) {
        expect(e, name).toBeInstanceOf(TraceFileError);
        continue;
      }
      const s = trace.readerStats;
      expect(s.scannedBytes, name).toBeLessThanOrEqual(9 * MiB + (1 << 20) + 64);
      expect(s.largestBuffer, name).toBeLessThanOrEqual(2 * MiB + 64);
    }
  });

  it("the repeated chunks item: each chunk counted once, the copies counted as duplicates", () => {
    const summary = openTrace(files["repeated-chunks"]!).summary();
    expect(summary.duplicateChunks).toBeGreaterThan(2000);
    expect(summary.damaged).toEqual([]);
  });

  for (const command of [["trace-report"], ["trace-report", "--json"], ["trace-export", "--otlp"], ["trace-export", "--perfetto"]]) {
    it(`${command.join(" ")}: a report or a one-line error, never an internal error`, { timeout: 600_000 }, () => {
      for (const [name, file] of Object.entries(files)) {
        const args = [join(ROOT, `dist/host/cli/${command[0]}.js`), ...command.slice(1), file];
        if (command[0] === "trace-export") args.push("-o", join(dir, `${name}.${command[1]!.slice(2)}.out`));
        const r = spawnSync(process.execPath, args, { encoding: "utf8", timeout: 120_000, maxBuffer: 256 * MiB });
        expect(r.signal, `${name}: ${command.join(" ")} did not finish`).toBeNull();
        expect([0, 1], `${name}: ${r.stderr}`).toContain(r.status);
        expect(r.stderr, name).not.toMatch(/internal error/);
        if (r.status === 1) expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("warning")).length, `${name}: ${r.stderr}`).toBeLessThanOrEqual(3);
      }
    });
  }
});

describe("damage in the middle of a file, through the commands", () => {
  it("trace-report and trace-export read everything else and say where the damage is", { timeout: 120_000 }, () => {
    const bytes = Buffer.from(readFileSync(demoFile));
    // Over the start of an item in the middle: the item's head is lost, the file is damaged there.
    const at = itemMarks(bytes).find((m) => m > bytes.length >> 1)!;
    bytes.fill(0xff, at, at + 16);
    const bad = join(dir, "middle.trace.cbor");
    writeFileSync(bad, bytes);
    const report = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-report.js"), bad], { encoding: "utf8" });
    expect(report.status, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/^warning: damaged at byte \d+, [\d,]+ bytes skipped: bad CBOR item/m);
    expect(report.stdout).not.toMatch(/ends inside a record/);
    expect(report.stdout).toContain("tasks (");
    for (const mode of ["--otlp", "--perfetto"]) {
      const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-export.js"), mode, bad, "-o", join(dir, `middle${mode}.json`)], { encoding: "utf8" });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/warning: .*middle\.trace\.cbor is damaged at byte \d+, [\d,]+ bytes skipped/);
    }
  });
});
