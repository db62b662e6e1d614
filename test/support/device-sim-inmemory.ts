// An in-memory board for the link session's tests: the link harness (core + link host interface,
// firmware-examples/serial-device/link-harness.ts) run as wasm in this thread, wired to a
// LinkSession through fault-injecting byte pipes, with a workload recorded between link
// services. No pty, no worker: fast and deterministic enough to walk every recovery path.
// (test/serial.test.ts runs the same protocol over real ptys.)

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ROOT } from "./core-harness.js";
import { FrameSplitter } from "../../host/link/frame-decoder.js";
import { FaultyDirection, CLEAN, type FaultPlan } from "./fault-relay.js";
import type { Frame } from "../../host/link/protocol.js";

type Exports = Record<string, (...a: number[]) => number> & { memory: WebAssembly.Memory };

export interface InMemoryBoardOptions {
  file?: string;
  toHost?: FaultPlan;
  toDevice?: FaultPlan;
  seed?: number;
  /** Ring mode: 0 overwrite (default), 1 stop. */
  mode?: number;
  /** Sees every byte the device writes, before the faults (what it really sent). */
  onDeviceBytes?: (bytes: Uint8Array) => void;
}

export class InMemoryBoard {
  e!: Exports;
  /** Raw clock reading (ticks = µs). */
  clock = 1000;
  readonly toHost: FaultyDirection;
  readonly toDevice: FaultyDirection;
  readonly splitter: FrameSplitter;
  /** Events recorded by the workload (the harness counts them too). */
  recorded = 0;
  private module: WebAssembly.Module;
  private hostInbox: Uint8Array[] = [];
  private deviceInbox: Uint8Array[] = [];
  private seedCalls = 1;

  constructor(
    onFrame: (f: Frame) => void,
    private readonly opts: InMemoryBoardOptions = {},
    onDamage: () => void = () => {},
  ) {
    this.module = new WebAssembly.Module(readFileSync(resolve(ROOT, opts.file ?? "build/test/link-harness.wasm")));
    this.toHost = new FaultyDirection(opts.toHost ?? CLEAN, opts.seed ?? 1);
    this.toDevice = new FaultyDirection(opts.toDevice ?? CLEAN, (opts.seed ?? 1) ^ 0x5bd1e995);
    this.splitter = new FrameSplitter(onFrame, onDamage);
    this.boot();
  }

  /** Starts (or restarts: a reset) the device with fresh memory. */
  boot(): void {
    const instance = new WebAssembly.Instance(this.module, {
      taskscope: {
        clock: () => this.clock >>> 0,
        link_write: (ptr: number, len: number) => {
          const bytes = new Uint8Array(this.e.memory.buffer, ptr, len);
          this.opts.onDeviceBytes?.(bytes);
          this.hostInbox.push(this.toHost.process(bytes));
        },
      },
    });
    this.e = instance.exports as unknown as Exports;
    this.e.setup!(this.opts.mode ?? 0, 1_000_000);
    this.recorded = 0;
  }

  /** What the host writes: through the faults, into the device's receive path on the next run. */
  hostWrite(bytes: Uint8Array): void {
    this.deviceInbox.push(this.toDevice.process(bytes));
  }

  /** One slice of device time: record `events`, take received bytes, service the link, deliver. */
  run(events: number, micros = 1000): void {
    if (events > 0) this.recorded += this.e.stress!(events, this.seedCalls++);
    this.clock += micros;
    for (const bytes of this.deviceInbox.splice(0)) {
      for (let o = 0; o < bytes.length; o += 256) {
        const part = bytes.subarray(o, o + 256);
        new Uint8Array(this.e.memory.buffer, this.e.taskscope_link_rx_buffer!(), part.length).set(part);
        this.e.taskscope_link_receive!(part.length);
      }
    }
    for (let i = 0; i < 64 && this.e.taskscope_link_service!() !== 0; i++);
    for (const bytes of this.hostInbox.splice(0)) this.splitter.push(bytes);
  }
}
