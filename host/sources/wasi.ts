// In-process source: runs a WebAssembly module under node:wasi, supplies the core's clock import,
// and drains the core's ring during the run (from inside the clock callback, which the core calls
// before touching ring state) and after it. Hands raw drain bytes (docs/FORMAT.md section 2) to
// `onRecords`, the same bytes a serial link carries inside its frames.

import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";
import type { ClockAnchor } from "../tracefile/schema.js";
import { shouldDrain, DrainHint } from "./drain-policy.js";
import { StallClock, threadSchedReader, type StallAccount } from "./stall-clock.js";
import { gcWatch } from "./gc-watch.js";

export interface WasiSourceOptions {
  wasmPath: string;
  /** Arguments after the program name (argv[1..]). */
  args?: string[];
  env?: Record<string, string>;
  /** Called with each drain's bytes (a copy the callee may keep) and the clock anchor. */
  onRecords: (records: Uint8Array, anchor: ClockAnchor) => void;
  /** Minimum wall time between drains during the run. */
  drainIntervalMs?: number;
  /** Host file descriptors the program's standard output and error go to (default 1, 2). */
  stdout?: number;
  stderr?: number;
  /** Called just before the program writes to its standard output or error (a progress line
   *  clears itself so the program's text starts on a clean line). */
  beforeOutput?: () => void;
  /** Asked during the run (at a clock reading, every 10 ms at most): true ends the program
   *  there, as if it had exited (WasiRunResult.stopped), and the rings are still drained. */
  shouldStop?: () => boolean;
}

export interface WasiRunResult {
  exitCode: number;
  /** Set when the module trapped instead of exiting; everything recorded before is still drained. */
  trap?: string;
  /** Set when shouldStop ended the run. */
  stopped?: boolean;
  anchor: ClockAnchor;
  tickHz: number;
  /** Time the device clock skipped: the puller's own, and the OS running other processes. */
  hidden: StallAccount;
}

/** Host-interface exports the core provides (core/host.ts). */
interface CoreExports {
  memory: WebAssembly.Memory;
  taskscope_buffer(): number;
  taskscope_drain(): number;
  taskscope_pending(): number;
  taskscope_flush(): void;
  taskscope_tick_hz(): number;
  // Optional (cores before the drain hint): without them every interval is a drain point.
  taskscope_drain_hint?(): number;
  taskscope_unsent_chunks?(): number;
  taskscope_chunk_count?(): number;
}

const REQUIRED_EXPORTS = ["memory", "taskscope_buffer", "taskscope_drain", "taskscope_pending", "taskscope_flush", "taskscope_tick_hz"];

export class WasiSourceError extends Error {}

/** Thrown through the program from the clock import to end a run that shouldStop asked to end. */
class StopRun extends Error {}

export async function runWasi(opts: WasiSourceOptions): Promise<WasiRunResult> {
  let bytes: Buffer;
  try {
    bytes = await readFile(opts.wasmPath);
  } catch (e) {
    throw new WasiSourceError(`cannot read ${opts.wasmPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let module: WebAssembly.Module;
  try {
    module = await WebAssembly.compile(bytes);
  } catch (e) {
    throw new WasiSourceError(`${opts.wasmPath} is not a valid WebAssembly module: ${(e as Error).message}`);
  }
  const exportNames = new Set(WebAssembly.Module.exports(module).map((e) => e.name));
  const missing = REQUIRED_EXPORTS.filter((n) => !exportNames.has(n));
  if (missing.length > 0) {
    throw new WasiSourceError(
      `${opts.wasmPath} does not export the taskscope host interface (missing ${missing.join(", ")}); ` +
        `re-export it from the entry file: export * from "taskscope/core/host"`,
    );
  }

  const { WASI } = await importWasiQuietly();
  const wasi = new WASI({
    version: "preview1",
    args: [opts.wasmPath, ...(opts.args ?? [])],
    env: opts.env ?? {},
    returnOnExit: true,
    ...(opts.stdout !== undefined ? { stdout: opts.stdout } : {}),
    ...(opts.stderr !== undefined ? { stderr: opts.stderr } : {}),
  });
  const wasiImport = opts.beforeOutput ? withOutputHook(wasi.wasiImport, opts.beforeOutput) : wasi.wasiImport;

  const interval = opts.drainIntervalMs ?? 50;
  const sched = threadSchedReader();
  const gc = gcWatch();
  const stalls = new StallClock({
    ...(sched ? { runQueueNs: sched.runQueueNs, cpuNs: sched.cpuNs } : {}),
    ...(gc ? { heapUsed: gc.heapUsed, gcPausesNs: gc.pausesNs } : {}),
  });
  const t0 = performance.now();
  // The clock below returns ticks since t0, so device tick 0 is exactly this wall time.
  const anchor: ClockAnchor = { ticks: 0, unixNs: BigInt(Math.round((performance.timeOrigin + t0) * 1e6)) };
  let core: CoreExports | undefined;
  let ticksPerMs = 0;
  let lastDrain = t0;
  let draining = false;
  let running = false;

  const drainAll = (): void => {
    if (!core) return;
    draining = true;
    try {
      do {
        const n = core.taskscope_drain();
        const view = new Uint8Array(core.memory.buffer, core.taskscope_buffer(), n);
        opts.onRecords(view.slice(), anchor);
      } while (core.taskscope_pending() !== 0);
    } finally {
      draining = false;
    }
  };

  const drainDue = (c: CoreExports, now: number): boolean =>
    shouldDrain({
      sinceLastMs: now - lastDrain,
      intervalMs: interval,
      hint: c.taskscope_drain_hint ? (c.taskscope_drain_hint() as DrainHint) : DrainHint.Idle,
      unsent: c.taskscope_unsent_chunks ? c.taskscope_unsent_chunks() : 0,
      chunkCount: c.taskscope_chunk_count ? c.taskscope_chunk_count() : 1,
    });

  // Device time is wall time since t0 minus what the StallClock hides: everything the host does
  // inside this call (the drain, a GC its allocations trigger), and run-queue waits
  // (docs/REPORT.md, "Time the tool hides").
  let lastStopCheck = t0;
  const clock = (): number => {
    const entered = performance.now();
    // Asked at most every 10 ms: the clock is read for every event.
    if (running && opts.shouldStop && entered - lastStopCheck >= 10) {
      lastStopCheck = entered;
      if (opts.shouldStop()) {
        running = false; // once: the flush after the run reads the clock too
        throw new StopRun("stopped");
      }
    }
    const deviceMs = stalls.enter((entered - t0) * 1e6) / 1e6;
    if (core) {
      if (ticksPerMs === 0) ticksPerMs = core.taskscope_tick_hz() / 1000;
      if (!draining && entered - lastDrain >= interval && drainDue(core, entered)) {
        drainAll();
        lastDrain = performance.now();
      }
    }
    const ticks = Math.floor(deviceMs * ticksPerMs) >>> 0;
    // The last reading comes after every other piece of work: a collection that the allocation
    // of its own result sets off is found by the next call (StallClock.markHeap).
    stalls.markHeap();
    stalls.leave((performance.now() - t0) * 1e6);
    return ticks;
  };

  // A sleep that overruns what the program asked for is the host's time (StallClock.sleptOver).
  const pollOneoff = wasiImport["poll_oneoff"] as (inPtr: number, outPtr: number, n: number, nOut: number) => number;
  // The whole call is measured, not just the sleep: the host's work around it (and a GC an
  // allocation there sets off) is not the program's time either.
  const sleepWatch = (inPtr: number, outPtr: number, n: number, nOut: number): number => {
    const entered = performance.now();
    const asked = core ? relativeSleepNs(core.memory, inPtr, n) : undefined;
    if (asked !== undefined) stalls.sleepBegins((entered - t0) * 1e6);
    const from = performance.now();
    const r = pollOneoff(inPtr, outPtr, n, nOut);
    const to = performance.now();
    if (asked !== undefined) {
      const rq = sched?.runQueueNs();
      stalls.markHeap();
      stalls.sleptOver((entered - t0) * 1e6, (performance.now() - t0) * 1e6, asked, (to - from) * 1e6, rq);
    }
    return r;
  };
  const imports: WebAssembly.Imports = {
    wasi_snapshot_preview1: { ...wasiImport, poll_oneoff: sleepWatch },
    taskscope: { clock },
  };
  let instance: WebAssembly.Instance;
  try {
    instance = await WebAssembly.instantiate(module, imports);
  } catch (e) {
    throw new WasiSourceError(`cannot instantiate ${opts.wasmPath}: ${(e as Error).message}`);
  }
  core = instance.exports as unknown as CoreExports;
  ticksPerMs = 0; // read the declared rate on the first clock call (init sets it before reading)

  let exitCode = 0;
  let trap: string | undefined;
  let stopped = false;
  try {
    running = true;
    exitCode = wasi.start(instance);
  } catch (e) {
    if (e instanceof StopRun) stopped = true;
    else {
      trap = (e as Error).message;
      exitCode = 134;
    }
  } finally {
    running = false;
  }
  core.taskscope_flush();
  drainAll();
  sched?.close();
  gc?.close();
  return { exitCode, trap, ...(stopped ? { stopped } : {}), anchor, tickHz: core.taskscope_tick_hz(), hidden: { ...stalls.account } };
}

/** The sleep a poll_oneoff call asks for: the shortest relative clock timeout, when every
 *  subscription is one (48 bytes each: userdata u64, tag u8 at 8 (0 = clock), clock id u32 at 16,
 *  timeout u64 at 24, precision u64 at 32, flags u16 at 40, bit 0 = absolute time). Anything else
 *  (I/O, absolute deadlines) is not a plain sleep: undefined. */
export function relativeSleepNs(memory: WebAssembly.Memory, inPtr: number, n: number): number | undefined {
  if (n <= 0 || inPtr < 0 || inPtr + n * 48 > memory.buffer.byteLength) return undefined;
  const view = new DataView(memory.buffer);
  let shortest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const at = inPtr + i * 48;
    if (view.getUint8(at + 8) !== 0 || (view.getUint16(at + 40, true) & 1) !== 0) return undefined;
    shortest = Math.min(shortest, Number(view.getBigUint64(at + 24, true)));
  }
  return shortest;
}

/** The WASI imports with `before` called ahead of each write to fd 1 or 2. */
function withOutputHook(imports: NodeJS.Dict<unknown>, before: () => void): NodeJS.Dict<unknown> {
  const write = imports["fd_write"] as (fd: number, ...rest: number[]) => number;
  return {
    ...imports,
    fd_write: (fd: number, ...rest: number[]) => {
      if (fd === 1 || fd === 2) before();
      return write(fd, ...rest);
    },
  };
}

/** node:wasi prints an ExperimentalWarning on load; this tool chose WASI on purpose, so that one
 *  warning (and only it) is not shown to the user. */
async function importWasiQuietly(): Promise<typeof import("node:wasi")> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const text = typeof warning === "string" ? warning : warning.message;
    if (/WASI/.test(text)) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await import("node:wasi");
  } finally {
    process.emitWarning = emit;
  }
}
