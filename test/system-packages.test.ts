// test/support/system-packages.sh (npm's pretest and .ci/run): finds the Debian packages the
// tests need that are missing and installs them, or stops with the command to run. Run with bash
// and a PATH holding only fakes (id, sudo, apt-get and the probed commands), so each machine
// situation is set up here rather than found, and nothing is really installed or removed.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./support/core-harness.js";

const SCRIPT = join(ROOT, "test/support/system-packages.sh");
const LIST = join(ROOT, "test/support/system-packages.txt");
const BASH = "/bin/bash";

interface Machine {
  /** What `id -u` prints. */
  uid: number;
  /** No sudo, sudo that runs without a password, or sudo that wants one. */
  sudo: "none" | "nopasswd" | "password";
  /** No apt-get, one that installs what it is asked for, one that fails, or one that succeeds
   *  without the probes appearing. */
  apt: "none" | "ok" | "fail" | "no-effect";
  /** Commands already on PATH. */
  commands?: string[];
}

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "taskscope-syspkg-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function fake(bin: string, name: string, body: string): void {
  writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
  chmodSync(join(bin, name), 0o755);
}

/** A machine in a fresh directory: bin/ (the only PATH entry), files/ for path probes, and the
 *  list `lines`. Returns how to run the script there and what apt-get and sudo were asked. */
function machine(m: Machine, lines: string[]) {
  const dir = join(root, `m${n++}`);
  const bin = join(dir, "bin");
  const files = join(dir, "files");
  mkdirSync(bin, { recursive: true });
  mkdirSync(files);
  const log = join(dir, "log");
  const list = join(dir, "packages.txt");
  writeFileSync(list, lines.map((l) => l.replaceAll("$FILES", files)).join("\n") + "\n");
  writeFileSync(log, "");
  fake(bin, "id", `[ "$1" = -u ] && echo ${m.uid}`);
  for (const c of m.commands ?? []) fake(bin, c, "exit 0");
  if (m.sudo === "nopasswd") fake(bin, "sudo", `echo "sudo $*" >> '${log}'\n[ "$1" = -n ] && shift\n[ "$1" = true ] && exit 0\nexec "$@"`);
  if (m.sudo === "password") fake(bin, "sudo", `echo "sudo $*" >> '${log}'\necho "sudo: a password is required" >&2\nexit 1`);
  if (m.apt !== "none") {
    // "Installs" a package by creating what its list line probes: the command in bin/ or the path.
    const install =
      m.apt === "ok"
        ? `"${process.execPath}" -e '
const fs = require("fs");
const pkgs = process.argv.slice(1).filter((a) => !a.startsWith("-") && a !== "install");
for (const line of fs.readFileSync(${JSON.stringify(list)}, "utf8").split("\\n")) {
  const [pkg, probe] = line.trim().split(/\\s+/);
  if (!pkgs.includes(pkg)) continue;
  const file = probe.startsWith("/") ? probe : ${JSON.stringify(bin)} + "/" + probe;
  fs.writeFileSync(file, "#!/bin/sh\\n", { mode: 0o755 });
}' "$@"`
        : "";
    fake(bin, "apt-get", `echo "apt-get $* (DEBIAN_FRONTEND=$DEBIAN_FRONTEND)" >> '${log}'\n${m.apt === "fail" ? "exit 100" : `[ "$1" = install ] && ${install || "true"}\nexit 0`}`);
  }
  const run = (args: string[] = [list]) => {
    const r = spawnSync(BASH, [SCRIPT, ...args], { env: { PATH: bin }, encoding: "utf8" });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout, calls: readFileSync(log, "utf8").trim().split("\n").filter(Boolean) };
  };
  return { run, bin, files, list };
}

const TWO = ["# a comment, then a blank line", "", "socat  socat            # the serial tests", "chromium  $FILES/chromium  # by path"];
const INSTALL = "install -y --no-install-recommends";

describe("system-packages.sh: detection", () => {
  it("is quiet and installs nothing when every probe is found (a command on PATH, a path)", () => {
    const m = machine({ uid: 1000, sudo: "none", apt: "ok", commands: ["socat"] }, TWO);
    writeFileSync(join(m.files, "chromium"), "");
    const r = m.run();
    expect(r).toMatchObject({ code: 0, stderr: "", stdout: "", calls: [] });
  });

  it("finds exactly the missing ones, in list order, by command and by path", () => {
    const m = machine({ uid: 1000, sudo: "password", apt: "ok" }, TWO);
    const both = m.run();
    expect(both.code).toBe(1);
    expect(both.stderr).toContain("not installed: socat chromium");
    fake(m.bin, "socat", "exit 0");
    const one = m.run();
    expect(one.code).toBe(1);
    expect(one.stderr).toContain("not installed: chromium\n");
    expect(one.stderr).toContain(`sudo apt-get ${INSTALL} chromium\n`);
  });

  it("rejects a list line that names no probe, with the file and line", () => {
    const m = machine({ uid: 0, sudo: "none", apt: "ok" }, ["socat socat", "wabt   # no probe"]);
    const r = m.run();
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${m.list} line 2: 'wabt' names no command or path`);
    expect(r.calls).toEqual([]);
  });
});

describe("system-packages.sh: installing or stopping", () => {
  it("as root: apt-get update, then install -y --no-install-recommends of the missing packages", () => {
    const m = machine({ uid: 0, sudo: "none", apt: "ok", commands: ["socat"] }, TWO);
    const r = m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual(["apt-get update -qq (DEBIAN_FRONTEND=noninteractive)", `apt-get ${INSTALL} chromium -qq (DEBIAN_FRONTEND=noninteractive)`]);
    expect(existsSync(join(m.files, "chromium"))).toBe(true);
    expect(m.run()).toMatchObject({ code: 0, stderr: "" }); // now nothing is missing
  });

  it("not root, sudo without a password: the same through sudo -n", () => {
    const m = machine({ uid: 1000, sudo: "nopasswd", apt: "ok" }, TWO);
    const r = m.run();
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls.filter((c) => c.startsWith("sudo"))).toEqual(["sudo -n true", "sudo -n apt-get update -qq", `sudo -n apt-get ${INSTALL} socat chromium -qq`]);
    expect(r.calls.filter((c) => c.startsWith("apt-get"))).toHaveLength(2);
  });

  for (const sudo of ["password", "none"] as const) {
    it(`not root, ${sudo === "none" ? "no sudo" : "sudo wants a password"}: stops with the one command to run`, () => {
      const m = machine({ uid: 1000, sudo, apt: "ok" }, TWO);
      const r = m.run();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("not root, and sudo needs a password");
      expect(r.stderr.trim().split("\n").at(-1)).toBe(`  sudo apt-get update && sudo apt-get ${INSTALL} socat chromium`);
      expect(r.calls.some((c) => c.startsWith("apt-get"))).toBe(false);
    });
  }

  it("without apt-get: stops and says so", () => {
    const r = machine({ uid: 0, sudo: "none", apt: "none" }, TWO).run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("apt-get is not on PATH");
  });

  it("a failing apt-get stops the tests", () => {
    const r = machine({ uid: 0, sudo: "none", apt: "fail" }, TWO).run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("apt-get update failed");
  });

  it("an install that leaves a probe missing is an error naming it", () => {
    const r = machine({ uid: 0, sudo: "none", apt: "no-effect" }, TWO).run();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("installed, but still not found: socat chromium");
  });
});

describe("the repository's list", () => {
  it("names socat and chromium, each with a probe, and is what npm test and .ci/run use", () => {
    const entries = readFileSync(LIST, "utf8")
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim())
      .filter(Boolean)
      .map((l) => l.split(/\s+/));
    for (const e of entries) expect(e.length, e.join(" ")).toBe(2);
    expect(entries.map((e) => e[0])).toEqual(expect.arrayContaining(["socat", "chromium"]));
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe("bash test/support/system-packages.sh");
    expect(readFileSync(join(ROOT, ".ci/run"), "utf8")).toMatch(/^bash test\/support\/system-packages\.sh$/m);
  });
});
