// Whole-process measurement of a command, as a user runs it: wall time from spawn to exit, CPU
// time (user + system: on a shared machine the steadier figure) and the process's peak resident
// set. Peak and CPU come from the kernel's own account (wait4's rusage through GNU time, Debian
// package `time`); without it, /proc/<pid>/status VmHWM is read every few ms while the child runs
// (a high-water mark, so only growth in the last few ms can be missed) and CPU is not known.
// Nothing runs inside the measured process but the command itself.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ProcessFigures {
  wallS: number;
  /** User + system CPU seconds (NaN without GNU time). */
  cpuS: number;
  peakRssBytes: number;
  stdout: string;
}

const GNU_TIME = "/usr/bin/time";

export async function measureProcess(command: string, args: readonly string[], options: { stdout?: "keep" | "discard" } = {}): Promise<ProcessFigures> {
  const useTime = existsSync(GNU_TIME);
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-proc-"));
  const timeFile = join(dir, "time.txt");
  try {
    const argv = useTime ? ["-f", "%M %U %S", "-o", timeFile, command, ...args] : [...args];
    const start = performance.now();
    const child = spawn(useTime ? GNU_TIME : command, argv, { stdio: ["ignore", options.stdout === "keep" ? "pipe" : "ignore", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (s: string) => (stdout += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (stderr = (stderr + s).slice(-4000)));
    let hwm = 0;
    const poll = useTime
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
            if (m) hwm = Math.max(hwm, Number(m[1]) * 1024);
          } catch {
            // exited between two reads
          }
        }, 5);
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("error", reject);
      child.once("close", (c) => resolve(c));
    });
    const wallS = (performance.now() - start) / 1000;
    if (poll) clearInterval(poll);
    if (code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n").slice(-3).join(" / ")}`);
    const [rssKiB, user, sys] = useTime ? readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number) : [hwm / 1024, NaN, NaN];
    return { wallS, cpuS: user! + sys!, peakRssBytes: rssKiB! * 1024, stdout };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
