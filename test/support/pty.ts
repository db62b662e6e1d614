// A pair of connected pseudo-terminals from socat (Debian's socat): bytes written to one end come
// out of the other, through a real tty line discipline, so serialport opens them as it opens a
// USB adapter. Each end gets a fixed symlink, so a pair can be stopped and started again under
// the same names (a cable pulled and plugged back in).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface PtyPair {
  /** Path of one end (a symlink to /dev/pts/N). */
  a: string;
  /** Path of the other end. */
  b: string;
  /** Ends the pair (both ends hang up); resolves when socat has exited. */
  stop(): Promise<void>;
}

export function socatAvailable(): boolean {
  return spawnSync("socat", ["-V"], { stdio: "ignore" }).status === 0;
}

/** Starts socat with two linked ptys at dir/<aName> and dir/<bName>. */
export async function startPtyPair(dir: string, aName = "device", bName = "host"): Promise<PtyPair> {
  if (!socatAvailable()) throw new Error("socat is not installed (apt-get install socat): the serial tests need real ptys");
  const a = join(dir, aName);
  const b = join(dir, bName);
  const child: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((done) => child.once("exit", () => done()));
  const deadline = Date.now() + 5000;
  while (!(existsSync(a) && existsSync(b))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`socat did not create ${a} and ${b}: ${stderr.trim()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    a,
    b,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}
