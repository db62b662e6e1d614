// The simulated board, run in a worker thread (device-sim.ts starts it): the serial-device
// firmware under node:wasi, its UART wired to one end of a pseudo-terminal. The firmware runs
// synchronously, so the "hardware" is its imports: `taskscope.clock` (a microsecond timer),
// `taskscope.link_write` (UART transmit: a blocking write when the pty is full, like a real UART)
// and `uart.read` (UART receive: non-blocking reads of the pty). A reset or power-off requested
// by the main thread is noticed in those imports and unwinds the firmware by throwing.
//
// Self-contained on purpose (node builtins only): under vitest it is transpiled alone.

import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { closeSync, constants, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { WASI } from "node:wasi";

/** Marks the module (device-sim.ts imports it so the build emits it next to itself). */
export const DEVICE_SIM_WORKER = "taskscope-device-sim";

export interface SimWorkerData {
  kind: typeof DEVICE_SIM_WORKER;
  wasmPath: string;
  tty: string;
  scenario: string;
  /** Session id of each boot, in order (the last one repeats). */
  sessions: number[];
  /** Get everything ready (firmware compiled, UART open) but boot only once powered on. */
  hold: boolean;
  /** Int32 control words: [0] request (0 run, 1 reset, 2 power off), [1] boots started,
   *  [2] events the current boot has recorded (as of its last UART read), [3] 1 once the
   *  current boot's scenario is done (it only idles from then on), [4] 1 to ask a looping
   *  scenario to wind down (the firmware's `board.wind_down`), [5] 1 once powered on (a board
   *  started with `hold` waits for it). */
  control: SharedArrayBuffer;
}

/** Posted once the firmware is compiled and the UART open (before the board boots). */
export interface SimReady {
  ready: true;
}

/** What a boot did, posted when it ends (reset or power off). */
export interface BootReport {
  boot: number;
  session: number;
  /** Events the core recorded in this boot (its own counter). */
  recorded: number;
  /** Bytes the core handed to link_write. */
  bytesSent: number;
  /** Bytes that reached the pty (less than bytesSent only if the boot ended mid-write). */
  bytesWritten: number;
  bytesRead: number;
  /** Why the boot ended. */
  end: "reset" | "off" | "exit" | "trap";
  detail?: string;
}

/** Int32 words in SimWorkerData.control. */
export const CONTROL_WORDS = 6;
export const CONTROL_REQUEST = 0;
export const CONTROL_BOOTS = 1;
export const CONTROL_RECORDED = 2;
export const CONTROL_DONE = 3;
export const CONTROL_WIND_DOWN = 4;
export const CONTROL_POWER = 5;

export const REQUEST_RUN = 0;
export const REQUEST_RESET = 1;
export const REQUEST_OFF = 2;

class Halt extends Error {}

interface BoardExports {
  memory: WebAssembly.Memory;
  device_recorded(): bigint;
  device_scenario_done(): number;
  taskscope_link_bytes_sent(): bigint;
}

/** Sleeps without spinning (the firmware's thread has nothing else to do). */
function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function runBoard(data: SimWorkerData): void {
  const control = new Int32Array(data.control);
  const module = new WebAssembly.Module(readFileSync(data.wasmPath));
  const fd = openSync(data.tty, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
  const devNull = openSync("/dev/null", "w");
  try {
    parentPort!.postMessage({ ready: true } satisfies SimReady);
    // Held: powered off until told (what arrives on the UART meanwhile waits in the pty).
    while (Atomics.load(control, CONTROL_POWER) === 0) {
      if (Atomics.load(control, CONTROL_REQUEST) === REQUEST_OFF) {
        const session = data.sessions[0]!;
        parentPort!.postMessage({ boot: 0, session, recorded: 0, bytesSent: 0, bytesWritten: 0, bytesRead: 0, end: "off" } satisfies BootReport);
        return;
      }
      Atomics.wait(control, CONTROL_POWER, 0, 20);
    }
    for (let boot = 0; ; boot++) {
      Atomics.store(control, CONTROL_RECORDED, 0);
      Atomics.store(control, CONTROL_DONE, 0);
      // The reset that ended the previous boot is done with. (Only that: a request made before
      // this boot got going, even before the first, stays, and halts it at once.)
      if (boot > 0) Atomics.compareExchange(control, CONTROL_REQUEST, REQUEST_RESET, REQUEST_RUN);
      Atomics.store(control, CONTROL_BOOTS, boot + 1);
      const report = runOnce(module, fd, devNull, data, boot, control);
      parentPort!.postMessage(report);
      if (report.end !== "reset") return;
    }
  } finally {
    closeSync(fd);
    closeSync(devNull);
  }
}

function runOnce(module: WebAssembly.Module, fd: number, devNull: number, data: SimWorkerData, boot: number, control: Int32Array): BootReport {
  const session = data.sessions[Math.min(boot, data.sessions.length - 1)]!;
  const report: BootReport = { boot, session, recorded: 0, bytesSent: 0, bytesWritten: 0, bytesRead: 0, end: "exit" };
  let memory: WebAssembly.Memory | undefined;
  let exports: BoardExports; // set once the instance exists; the imports run after that
  const pending: Buffer[] = [];
  let pendingBytes = 0;
  const t0 = performance.now();

  const checkHalt = (): void => {
    const req = Atomics.load(control, CONTROL_REQUEST);
    if (req !== REQUEST_RUN) throw new Halt(req === REQUEST_RESET ? "reset" : "off");
  };
  /** Writes what the pty takes now; true if everything queued is out. */
  const flush = (): boolean => {
    while (pending.length > 0) {
      const head = pending[0]!;
      let n: number;
      try {
        n = writeSync(fd, head);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EAGAIN") return false;
        throw e;
      }
      report.bytesWritten += n;
      pendingBytes -= n;
      if (n === head.length) pending.shift();
      else pending[0] = head.subarray(n);
    }
    return true;
  };

  const wasi = new WASI({ version: "preview1", args: ["serial-device", data.scenario, String(session)], env: {}, stdout: devNull, stderr: 2, returnOnExit: true });
  let clockCalls = 0;
  const imports = {
    wasi_snapshot_preview1: wasi.wasiImport,
    taskscope: {
      clock: (): number => {
        if ((++clockCalls & 4095) === 0) checkHalt(); // a firmware that never idles still halts
        return Math.floor((performance.now() - t0) * 1000) >>> 0;
      },
      link_write: (ptr: number, len: number): void => {
        const bytes = Buffer.from(new Uint8Array(memory!.buffer, ptr, len)); // copies
        pending.push(bytes);
        pendingBytes += len;
        report.bytesSent += len;
        // A UART write blocks until the bytes are out: past 64 KiB queued, wait for the pty.
        while (!flush() && pendingBytes > 65536) {
          checkHalt();
          sleepMs(1);
        }
      },
    },
    board: {
      wind_down: (): number => Atomics.load(control, CONTROL_WIND_DOWN),
    },
    uart: {
      read: (ptr: number, cap: number): number => {
        checkHalt();
        flush();
        // The board's progress, for tests that wait for it (the firmware reads its UART on every
        // turn of its main loop, outside any recording call).
        Atomics.store(control, CONTROL_RECORDED, Math.min(0x7fffffff, Number(exports.device_recorded())));
        Atomics.store(control, CONTROL_DONE, exports.device_scenario_done());
        try {
          const n = readSync(fd, new Uint8Array(memory!.buffer, ptr, cap), 0, cap, null);
          report.bytesRead += n;
          return n;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === "EAGAIN" || code === "EIO") return 0; // nothing yet; EIO: nobody on the other end
          throw e;
        }
      },
    },
  };
  const instance = new WebAssembly.Instance(module, imports as unknown as WebAssembly.Imports);
  exports = instance.exports as unknown as BoardExports;
  memory = exports.memory;
  try {
    wasi.start(instance);
  } catch (e) {
    if (e instanceof Halt) report.end = e.message as "reset" | "off";
    else {
      report.end = "trap";
      report.detail = (e as Error).message;
    }
  }
  report.recorded = Number(exports.device_recorded());
  if (report.end !== "reset") {
    // Powered off or exited: let what is queued reach the pty first (a UART finishes its byte).
    const until = performance.now() + 500;
    while (!flush() && performance.now() < until) sleepMs(1);
  }
  pending.length = 0; // a reset loses whatever the UART had not sent yet
  return report;
}

if (!isMainThread && (workerData as SimWorkerData | undefined)?.kind === DEVICE_SIM_WORKER) {
  runBoard(workerData as SimWorkerData);
}
