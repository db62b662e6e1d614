// The pure pieces behind the commands' manners: flag parsing and suggestions, strict numbers,
// the linear glob of --task, counts with separators, terminal-safe text, the colour decision, and
// where an output goes (planOutput). The commands themselves: cli-manners, cli-files, cli-signals.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, rmSync, writeFileSync, symlinkSync, linkSync, mkdirSync, readFileSync, existsSync, openSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, closestOption, editDistance, parseWholeNumber, parseDecimal } from "../host/cli/args.js";
import { UsageError } from "../host/cli/run-cli.js";
import { globMatch, matchesTaskFilter, parseTaskFilter } from "../host/report/task-filter.js";
import { formatCount, safeText } from "../host/report/units.js";
import { useColour } from "../host/cli/colour.js";
import { planOutput, OutputError, OutputFile, tempPathFor } from "../host/export/output.js";
import { formatEta } from "../host/cli/progress.js";

const OPTIONS = {
  output: { type: "string", short: "o" },
  duration: { type: "string" },
  since: { type: "string" },
  task: { type: "string", multiple: true },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true });
}

/** The message of the error `f` throws, which must be a `kind`. */
function thrown(kind: new (...args: never[]) => Error, f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return (e as Error).message;
  }
  throw new Error(`no ${kind.name}`);
}

const usageMessage = (f: () => unknown) => thrown(UsageError, f);

describe("parseArgs", () => {
  it("reads flags, values, repeats and positionals as node:util's parseArgs does", () => {
    const { values, positionals } = parse(["in.cbor", "-o", "out.json", "--json", "--task", "a", "--task=b*", "--since=5ms", "--", "--json"]);
    expect(values).toEqual({ output: "out.json", json: true, task: ["a", "b*"], since: "5ms" });
    expect(positionals).toEqual(["in.cbor", "--json"]);
    expect(parse(["-oout.json"]).values.output).toBe("out.json");
  });

  it("takes '-' and values that start with a dash as values", () => {
    expect(parse(["-o", "-"]).values.output).toBe("-");
    expect(parse(["--since", "-5ms"]).values.since).toBe("-5ms");
    expect(parse(["-"]).positionals).toEqual(["-"]);
  });

  it("says what is wrong, with the flag meant", () => {
    expect(usageMessage(() => parse(["--durration", "5"]))).toBe("unknown option '--durration' (did you mean --duration?)");
    expect(usageMessage(() => parse(["--jsno"]))).toBe("unknown option '--jsno' (did you mean --json?)");
    expect(usageMessage(() => parse(["--dur", "5"]))).toBe("unknown option '--dur' (did you mean --duration?)");
    expect(usageMessage(() => parse(["--frobnicate"]))).toBe("unknown option '--frobnicate'");
    expect(usageMessage(() => parse(["-x"]))).toBe("unknown option '-x'");
    expect(usageMessage(() => parse(["--output"]))).toBe("--output needs a value");
    expect(usageMessage(() => parse(["-o", "--json"]))).toBe("-o (--output) needs a value");
    expect(usageMessage(() => parse(["--json=yes"]))).toBe("--json takes no value (found '--json=yes')");
    expect(usageMessage(() => parseArgs({ args: ["x"], options: OPTIONS }))).toBe("unexpected argument 'x'");
  });

  it("suggests only what is close: a unique prefix or a typo of a few letters", () => {
    const names = ["output", "otlp", "perfetto", "no-lints", "batch-size"];
    expect(closestOption("--outptu", names)).toBe("output");
    expect(closestOption("--perfeto", names)).toBe("perfetto");
    expect(closestOption("--nolints", names)).toBe("no-lints");
    expect(closestOption("--o", names)).toBeUndefined(); // too short to be a prefix of one
    expect(closestOption("--color", names)).toBeUndefined();
    expect(editDistance("ab", "ba")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
  });
});

describe("numbers in flags", () => {
  it("refuses integral floats, signs, exponents and hex in whole-number fields", () => {
    for (const bad of ["1.0", "-0", "-0.0", "1e308", "1e3", "0x10", " 5", "5 ", "", "+3", "9007199254740993"]) {
      expect(usageMessage(() => parseWholeNumber(bad, "--batch-size", 1)), bad).toContain(`--batch-size takes a whole number above 0, not '${bad}'`);
    }
    expect(parseWholeNumber("0", "--n")).toBe(0);
    expect(parseWholeNumber("115200", "--baud", 1)).toBe(115200);
    expect(usageMessage(() => parseWholeNumber("0", "--baud", 1))).toContain("above 0");
    expect(usageMessage(() => parseWholeNumber("300", "--x", 1, 255))).toContain("from 1 to 255");
  });

  it("plain decimals for durations in seconds and milliseconds", () => {
    expect(parseDecimal("1.5", "--duration", "seconds")).toBe(1.5);
    expect(parseDecimal(".5", "--duration", "seconds")).toBe(0.5);
    expect(parseDecimal("0", "--drain-ms", "ms", true)).toBe(0);
    for (const bad of ["0", "-1", "1e3", "Infinity", "0x1", "1.5s"]) expect(() => parseDecimal(bad, "--duration", "seconds")).toThrow(UsageError);
  });
});

describe("--task globs", () => {
  const filter = (...p: string[]) => parseTaskFilter(p)!;
  it("match names with * anywhere, ids by number", () => {
    expect(globMatch(["worker"], "worker")).toBe(true);
    expect(globMatch(["work", ""], "worker")).toBe(true);
    expect(globMatch(["", "er"], "worker")).toBe(true);
    expect(globMatch(["w", "k", "r"], "worker")).toBe(true);
    expect(globMatch(["w", "k", "x"], "worker")).toBe(false);
    expect(globMatch(["ab", "ba"], "aba")).toBe(false); // prefix and suffix may not overlap
    expect(globMatch(["a", "a", "a"], "aaa")).toBe(true);
    expect(globMatch(["a", "a", "a"], "aa")).toBe(false);
    expect(globMatch(["", "b", "", "c", ""], "xxbyyc")).toBe(true);
    expect(matchesTaskFilter(filter("7"), { id: 7, name: "x" })).toBe(true);
    expect(matchesTaskFilter(filter("h*r", "12"), { id: 3, name: "handler" })).toBe(true);
    expect(matchesTaskFilter(filter("h*r", "12"), { id: 3, name: "hand" })).toBe(false);
    expect(matchesTaskFilter(filter("a.b"), { id: 1, name: "axb" })).toBe(false); // no regex syntax
  });

  it("take linear time whatever the number of stars (a backtracking regex took 29 s at 25)", () => {
    // A regex built from this glob explores every way to split the name among the stars; the
    // matcher looks at each piece once. Exponential time would hang here until the test times out.
    const pattern = "*a".repeat(60) + "*b";
    const name = "a".repeat(5000);
    expect(matchesTaskFilter(filter(pattern), { id: 1, name })).toBe(false);
    expect(matchesTaskFilter(filter(pattern), { id: 1, name: name + "b" })).toBe(true);
  });
});

describe("counts and text for people", () => {
  it("counts always with separators, never in exponent form, without Intl", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(999)).toBe("999");
    expect(formatCount(75783)).toBe("75,783");
    expect(formatCount(-1234567)).toBe("-1,234,567");
    expect(formatCount(1234.5)).toBe("1,234.5");
    expect(formatCount(36893488147419103000)).toBe("36,893,488,147,419,103,000"); // no "3.7e+19"
    expect(formatCount(1e22)).toBe("10,000,000,000,000,000,000,000");
    expect(formatCount(2n ** 64n)).toBe("18,446,744,073,709,551,616");
  });

  it("escapes control characters and invisible reordering marks from a trace", () => {
    expect(safeText("worker")).toBe("worker");
    expect(safeText("evil\x1b[2J\x1b]0;title\x07name")).toBe("evil\\x1b[2J\\x1b]0;title\\x07name");
    expect(safeText("two\nlines\r\ttab")).toBe("two\\nlines\\r\\ttab");
    expect(safeText("c1 \u009b31m csi")).toBe("c1 \\x9b31m csi");
    expect(safeText("rtl \u202eevil\u2066")).toBe("rtl \\u202eevil\\u2066");
    expect(safeText("µs ünïcödé 任务 ✓")).toBe("µs ünïcödé 任务 ✓"); // printable text stays as it is
  });

  it("ETA in seconds, minutes, hours", () => {
    expect(formatEta(2.2)).toBe("3s");
    expect(formatEta(125)).toBe("2m05s");
    expect(formatEta(3725)).toBe("1h02m");
  });

  it("colour: on a terminal only, NO_COLOR turns it off, FORCE_COLOR on (0/false off)", () => {
    const fd = 99; // not a terminal
    expect(useColour(fd, {})).toBe(false);
    expect(useColour(fd, { FORCE_COLOR: "1" })).toBe(true);
    expect(useColour(fd, { FORCE_COLOR: "0" })).toBe(false);
    expect(useColour(fd, { FORCE_COLOR: "false" })).toBe(false);
    expect(useColour(fd, { FORCE_COLOR: "" })).toBe(false);
    expect(useColour(fd, { FORCE_COLOR: "1", NO_COLOR: "1" })).toBe(true);
    expect(useColour(fd, { NO_COLOR: "1" })).toBe(false);
  });
});

describe("planOutput: where an output goes, and what is refused", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "taskscope-plan-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refused = (f: () => unknown) => thrown(OutputError, f);

  it("a new or existing regular file: a temporary file beside it, renamed later", () => {
    const fresh = join(dir, "new.json");
    expect(planOutput(fresh)).toEqual({ kind: "replace", target: fresh, path: fresh, temp: tempPathFor(fresh), mode: undefined });
    writeFileSync(join(dir, "old.json"), "old", { mode: 0o640 });
    expect(planOutput(join(dir, "old.json"))).toMatchObject({ kind: "replace", mode: 0o640 });
    expect(planOutput("-")).toEqual({ kind: "stdout", target: "-" });
  });

  it("a symbolic link: the file it names is replaced, the link stays", () => {
    writeFileSync(join(dir, "real.json"), "x");
    symlinkSync(join(dir, "real.json"), join(dir, "link.json"));
    expect(planOutput(join(dir, "link.json"))).toMatchObject({ kind: "replace", path: join(dir, "real.json") });
  });

  it("devices and FIFOs are written in place; directories, the input (any name for it) refused", () => {
    expect(planOutput("/dev/null")).toEqual({ kind: "direct", target: "/dev/null", path: "/dev/null" });
    mkdirSync(join(dir, "sub"));
    expect(refused(() => planOutput(join(dir, "sub")))).toContain("it is a directory");
    const input = join(dir, "in.trace.cbor");
    writeFileSync(input, "trace");
    linkSync(input, join(dir, "hardlink.cbor"));
    symlinkSync(input, join(dir, "symlink.cbor"));
    for (const out of [input, join(dir, "hardlink.cbor"), join(dir, "symlink.cbor"), join(dir, ".", "in.trace.cbor")]) {
      expect(refused(() => planOutput(out, [input]))).toContain("is the input");
    }
    expect(planOutput(join(dir, "other.json"), [input]).kind).toBe("replace");
  });
});

describe("OutputFile.writeBehind: writes on libuv's threads, in order, into the temporary file", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "taskscope-behind-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("gives the bytes of plain writes, whatever mix of writes behind, turns and full slots", async () => {
    const path = join(dir, "out.pb");
    writeFileSync(path, "the previous output");
    const out = new OutputFile(path);
    const expected: Buffer[] = [];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    for (let i = 0; i < 300; i++) {
      const parts = Array.from({ length: 1 + (next() % 3) }, () => new Uint8Array(next() % (i % 50 === 0 ? 3_000_000 : 5000)).map(() => next() & 0xff));
      if (i % 7 === 0) {
        const text = `text ${i}\n`;
        out.write(text);
        expected.push(Buffer.from(text));
      }
      out.writeBehind(...parts);
      for (const part of parts) {
        expected.push(Buffer.from(part)); // copied: the caller may change them at once
        part.fill(0xee);
      }
      if (i % 3 === 0) await out.turn(); // sometimes none: all slots busy, written in place
    }
    await out.settle();
    expect(readFileSync(path, "utf8")).toBe("the previous output"); // until commit
    out.commit();
    expect(Buffer.compare(readFileSync(path), Buffer.concat(expected))).toBe(0);
    expect(out.bytes).toBe(Buffer.concat(expected).length);
    expect(existsSync(tempPathFor(path))).toBe(false);
  });

  it("an abort with writes in flight removes the partial file and keeps the previous one", async () => {
    const path = join(dir, "kept.pb");
    writeFileSync(path, "kept");
    const out = new OutputFile(path);
    for (let i = 0; i < 4; i++) out.writeBehind(new Uint8Array(1 << 20));
    out.abort();
    expect(existsSync(tempPathFor(path))).toBe(false);
    expect(readFileSync(path, "utf8")).toBe("kept");
  });

  it("writes a device at once (no positions there)", async () => {
    const out = new OutputFile("/dev/null");
    out.writeBehind(new Uint8Array(10), new Uint8Array(5));
    await out.settle();
    out.commit();
    expect(out.bytes).toBe(15);
  });

  it("names the file when a write behind fails", async () => {
    const path = join(dir, "fails.pb");
    const out = new OutputFile(path);
    // A write that cannot succeed: the descriptor is swapped for one open for reading (EBADF).
    const file = out as unknown as { fd: number };
    const writable = file.fd;
    file.fd = openSync(tempPathFor(path), "r");
    closeSync(writable);
    out.writeBehind(new Uint8Array(16));
    await expect(out.settle()).rejects.toThrow(new RegExp(`cannot write ${path}`));
    out.abort();
    expect(existsSync(tempPathFor(path))).toBe(false);
  });
});
