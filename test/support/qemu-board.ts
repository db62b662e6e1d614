// A firmware booted in QEMU's mps2-an385 (Cortex-M3), as the tests use it: UART0 (the trace link)
// on a pseudo-terminal that trace-pull opens like a USB adapter, UART1 (the firmware's console) on
// QEMU's stdout, the monitor on a unix socket (cont, system_reset), semihosting for the exit code.
//
// Time: `-icount shift=5` makes device time the instruction count (32 ns each) while the CPU runs,
// and `sleep=off` jumps it to the next timer deadline while the firmware sleeps (WFI): everything
// a trace says about polls, waits and timers is then the same on a loaded host as on an idle one.
// (A firmware waiting for the host with no timer armed stops virtual time and costs no CPU.)
// `time: "host"` lets sleeps follow the host's clock instead (sleep=on): a board that records
// while the host streams in real time. The scenario a firmware runs is a word QEMU's loader device
// places in RAM before boot (board_param(0) in firmware-examples/cortex-m/board).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";

/** firmware-examples/cortex-m/board/board.h: BOARD_PARAM_ADDR */
const PARAM_ADDR = 0x203ffff0;

export function qemuAvailable(): boolean {
  return spawnSync("qemu-system-arm", ["--version"], { stdio: "ignore" }).status === 0;
}

export interface QemuBoardOptions {
  /** The ELF to boot (build/mcu/...). */
  elf: string;
  /** A directory for the monitor socket. */
  dir: string;
  /** board_param(0): the demo's scenario index. */
  param?: number;
  /** Start with the CPU stopped; `cont()` starts it (for a host that must be listening first). */
  paused?: boolean;
  /** "instructions" (the default): device time counts instructions and skips sleeps; "host":
   *  sleeps take the host's time (see above). */
  time?: "instructions" | "host";
}

export class QemuBoard {
  /** The pseudo-terminal UART0 is connected to. */
  readonly tty: string;
  private console = "";
  private stderr = "";
  private exited: Promise<number | null>;

  private constructor(
    private readonly child: ChildProcess,
    tty: string,
    private readonly monitorPath: string,
    exited: Promise<number | null>,
  ) {
    this.tty = tty;
    this.exited = exited;
    child.stdout!.on("data", (d: Buffer) => (this.console += d.toString()));
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
  }

  static async start(opts: QemuBoardOptions): Promise<QemuBoard> {
    if (!qemuAvailable()) throw new Error("qemu-system-arm is not installed (apt-get install --no-install-recommends qemu-system-arm)");
    if (!existsSync(opts.elf)) throw new Error(`${opts.elf} is missing: run npm run build:mcu`);
    const monitor = join(opts.dir, `qemu-${process.pid}-${Math.random().toString(36).slice(2)}.sock`);
    const args = [
      "-M", "mps2-an385",
      "-display", "none",
      "-monitor", `unix:${monitor},server=on,wait=off`,
      "-semihosting-config", "enable=on,target=native",
      "-serial", "pty", // UART0: the link
      "-serial", "stdio", // UART1: the console
      "-device", `loader,addr=0x${PARAM_ADDR.toString(16)},data=${opts.param ?? 0},data-len=4`,
      "-kernel", opts.elf,
    ];
    args.push("-icount", opts.time === "host" ? "shift=5,sleep=on" : "shift=5,sleep=off");
    if (opts.paused) args.push("-S");
    const child = spawn("qemu-system-arm", args, { stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
    // QEMU names the pty before it runs anything (on stdout here, on stderr in other versions).
    let early = "";
    const tty = await new Promise<string>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`qemu did not report its pty: ${early}`)), 20_000);
      const onData = (d: Buffer) => {
        early += d.toString();
        const m = /char device redirected to (\S+) \(label serial0\)/.exec(early);
        if (m) {
          clearTimeout(timer);
          child.stdout!.off("data", onData);
          child.stderr!.off("data", onData);
          done(m[1]!);
        }
      };
      child.stdout!.on("data", onData);
      child.stderr!.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        fail(new Error(`qemu exited (${code}) before it ran: ${early}`));
      });
    });
    const board = new QemuBoard(child, tty, monitor, exited);
    // What came with the pty's name is not the firmware's (it had not run yet).
    board.stderr = early;
    return board;
  }

  /** Everything the firmware printed on its console so far (QEMU's own pty line left out). */
  get consoleText(): string {
    return this.console.replace(/^char device redirected to .*\n/m, "");
  }

  /** Waits until the console shows `pattern` (the bound only matters when something is broken). */
  async waitForConsole(pattern: RegExp, ms = 60_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const text = this.consoleText;
      const m = pattern.exec(text);
      if (m) return m;
      if (/fault|trap/.test(text)) throw new Error(`the firmware failed:\n${text}`);
      if (this.child.exitCode !== null) throw new Error(`qemu exited (${this.child.exitCode}):\n${this.console}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${pattern} on the console:\n${this.console}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A command on QEMU's monitor (cont, system_reset, ...). */
  monitor(command: string): Promise<void> {
    return new Promise((done, fail) => {
      const socket = createConnection(this.monitorPath);
      socket.once("error", fail);
      // The monitor greets with a prompt; once the command is sent, the next prompt says it ran.
      let sent = false;
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString();
        if (!text.includes("(qemu)")) return;
        text = "";
        if (!sent) {
          sent = true;
          socket.write(`${command}\n`);
        } else socket.end();
      });
      socket.once("close", () => (sent ? done() : fail(new Error(`qemu's monitor closed before ${command} was sent`))));
    });
  }

  cont(): Promise<void> {
    return this.monitor("cont");
  }

  reset(): Promise<void> {
    return this.monitor("system_reset");
  }

  /** Powers the board off; resolves with QEMU's exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
    return this.exited;
  }
}
