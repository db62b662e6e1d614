// A simulated board for the serial tests and the link benchmark: the serial-device firmware
// (firmware-examples/serial-device) running under node:wasi in a worker thread, its UART on one
// end of a pseudo-terminal (see pty.ts). The test talks to it only through the pty, as trace-pull
// talks to a real board; the worker reports what each boot recorded, for exact comparisons, and
// shows how far the board has got (events recorded, scenario over), so a test waits for that
// instead of guessing how long the board takes on a loaded machine.

import { Worker } from "node:worker_threads";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  CONTROL_BOOTS,
  CONTROL_DONE,
  CONTROL_POWER,
  CONTROL_RECORDED,
  CONTROL_REQUEST,
  CONTROL_WIND_DOWN,
  CONTROL_WORDS,
  DEVICE_SIM_WORKER,
  REQUEST_OFF,
  REQUEST_RESET,
  type BootReport,
  type SimReady,
  type SimWorkerData,
} from "./device-sim-worker.js";

export type { BootReport };

const HERE = dirname(fileURLToPath(import.meta.url));
const BUILD = resolve(HERE, HERE.includes(`${"dist"}/test`) ? "../../../build" : "../../build");
/** The serial-device firmware with a ring that holds the whole demo (256 x 256 B = 64 KiB). */
export const SERIAL_DEVICE_WASM = join(BUILD, "serial-device.wasm");
/** The same with the core's default ring (64 x 256 B = 16 KiB), which the demo overflows. */
export const SERIAL_DEVICE_16K_WASM = join(BUILD, "serial-device-16k.wasm");

export interface DeviceSimOptions {
  /** The pty end the device's UART uses. */
  tty: string;
  /** Firmware scenario: demo, demo-loop, stuck, flood. */
  scenario: string;
  /** Session id per boot (the last repeats); default: distinct random ids. */
  sessions?: number[];
  /** The firmware (default SERIAL_DEVICE_WASM, whose ring holds the whole demo). */
  wasmPath?: string;
  /** Get the board ready but boot it only on powerOn() (so its start-up costs nothing then). */
  hold?: boolean;
}

let workerScript: string | undefined;

/** The worker's JavaScript: beside this file when built, else transpiled from its TypeScript. */
async function workerPath(): Promise<string> {
  if (workerScript) return workerScript;
  const js = join(HERE, "device-sim-worker.js");
  if (import.meta.url.endsWith(".js")) return (workerScript = js);
  const ts = (await import("typescript")).default;
  const source = readFileSync(join(HERE, "device-sim-worker.ts"), "utf8");
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const dir = mkdtempSync(join(tmpdir(), "taskscope-sim-"));
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  workerScript = join(dir, "device-sim-worker.mjs");
  writeFileSync(workerScript, out.outputText);
  return workerScript;
}

export class DeviceSim {
  /** One report per finished boot, in order. */
  readonly boots: BootReport[] = [];
  private waiting: { resolve: (r: BootReport) => void; reject: (e: Error) => void }[] = [];
  private readonly exited: Promise<void>;
  /** Settles once the firmware is compiled and the UART open. */
  private readonly ready: Promise<void>;
  /** Set if the worker failed (the firmware could not be loaded, the pty not opened). */
  error: Error | undefined;

  private constructor(
    worker: Worker,
    private readonly control: SharedArrayBuffer,
  ) {
    let ready!: { resolve: () => void; reject: (e: Error) => void };
    this.ready = new Promise((resolve, reject) => (ready = { resolve, reject }));
    worker.on("message", (m: BootReport | SimReady) => {
      if ("ready" in m) {
        ready.resolve();
        return;
      }
      this.boots.push(m);
      this.waiting.shift()?.resolve(m);
    });
    worker.on("error", (e) => {
      this.error = e;
      ready.reject(e);
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
    this.exited = new Promise((done) => worker.once("exit", () => done()));
  }

  /** Starts the board's worker; resolves once the firmware is compiled and the UART open (the
   *  board then boots, or with `hold` waits for powerOn()). */
  static async start(opts: DeviceSimOptions): Promise<DeviceSim> {
    const sessions = opts.sessions ?? Array.from({ length: 8 }, () => 1 + Math.floor(Math.random() * 0xfffffffe));
    const control = new SharedArrayBuffer(4 * CONTROL_WORDS);
    const data: SimWorkerData = {
      kind: DEVICE_SIM_WORKER,
      wasmPath: opts.wasmPath ?? SERIAL_DEVICE_WASM,
      tty: opts.tty,
      scenario: opts.scenario,
      sessions,
      hold: opts.hold ?? false,
      control,
    };
    if (!opts.hold) Atomics.store(new Int32Array(control), CONTROL_POWER, 1);
    const sim = new DeviceSim(new Worker(await workerPath(), { workerData: data }), control);
    await sim.ready;
    return sim;
  }

  /** Boots started so far (1 while the first runs). */
  get bootsStarted(): number {
    return Atomics.load(new Int32Array(this.control), CONTROL_BOOTS);
  }

  /** Events the current boot has recorded so far (updated on every turn of its main loop). */
  get recorded(): number {
    return Atomics.load(new Int32Array(this.control), CONTROL_RECORDED);
  }

  /** The current boot's scenario is over (demo, stuck; demo-loop once wound down): it records
   *  nothing more, only idles. */
  get scenarioDone(): boolean {
    return Atomics.load(new Int32Array(this.control), CONTROL_DONE) === 1;
  }

  /** Boots a board started with `hold`. */
  powerOn(): void {
    const control = new Int32Array(this.control);
    Atomics.store(control, CONTROL_POWER, 1);
    Atomics.notify(control, CONTROL_POWER);
  }

  /** Asks demo-loop to end after its current round (scenarioDone then follows), in this boot and
   *  any later one. */
  windDown(): void {
    Atomics.store(new Int32Array(this.control), CONTROL_WIND_DOWN, 1);
  }

  /** Resets the board: the current boot ends (its report is returned), a new one starts. */
  reset(): Promise<BootReport> {
    return this.request(REQUEST_RESET);
  }

  /** Powers the board off; returns the last boot's report. */
  async stop(): Promise<BootReport> {
    const r = await this.request(REQUEST_OFF);
    await this.exited;
    return r;
  }

  private request(what: number): Promise<BootReport> {
    if (this.error) return Promise.reject(this.error);
    const done = new Promise<BootReport>((resolve, reject) => this.waiting.push({ resolve, reject }));
    Atomics.store(new Int32Array(this.control), CONTROL_REQUEST, what);
    return done;
  }
}
