// Test helper: runs a built wasm module the way the WASI puller does, without depending on it.
// The module is instantiated under node:wasi with the core's clock import (a u32 microsecond
// counter from performance.now()), started, then flushed and drained; optionally it is also
// drained from inside the clock callback during the run, as an in-process puller does (the core
// reads the clock before touching ring state, so that is safe). Returns the raw drain bytes
// (docs/FORMAT.md section 2) and, via decodeTrace, a decoded view for assertions.

import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { performance } from "node:perf_hooks";
import { WASI } from "node:wasi";
import {
  EventBatch,
  NameTable,
  decodeChunk,
  decodeRecords,
  type CountersRecord,
  type InfoRecord,
} from "../../host/format/index.js";

/** The core's host interface (core/host.ts), plus whatever else the module exports. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  taskscope_buffer(): number;
  taskscope_drain(): number;
  taskscope_pending(): number;
  taskscope_flush(): void;
  [name: string]: unknown;
}

export interface WasiRunOptions {
  /** argv[1..]; argv[0] is the module's file name. */
  args?: string[];
  /** Drain from the clock callback at most every this many ms during the run (default 10);
   *  false: drain only after the module exits, so an overwrite-mode ring may lose chunks. */
  drainIntervalMs?: number | false;
  /** Capture the module's stdout/stderr into the result instead of inheriting them (default true). */
  capture?: boolean;
}

export interface WasiRunResult {
  exitCode: number;
  /** Every drain's bytes, concatenated in order. */
  bytes: Uint8Array;
  exports: CoreExports;
  stdout: string;
  stderr: string;
  /** Drain calls made (during the run and after it). */
  drains: number;
  /** Wall time of wasi.start, ms. */
  wallMs: number;
}

/** Microseconds since `t0` as a wrapping u32, like a free-running device timer. */
function microClock(t0: number): () => number {
  return () => Math.floor((performance.now() - t0) * 1000) >>> 0;
}

class Drainer {
  private parts: Uint8Array[] = [];
  private busy = false;
  drains = 0;
  core: CoreExports | undefined;

  /** Drains until the core has nothing more to hand over. */
  drainAll(): void {
    const core = this.core;
    if (!core || this.busy) return;
    this.busy = true;
    try {
      do {
        const n = core.taskscope_drain();
        this.drains++;
        this.parts.push(new Uint8Array(core.memory.buffer, core.taskscope_buffer(), n).slice());
      } while (core.taskscope_pending() === 1);
    } finally {
      this.busy = false;
    }
  }

  bytes(): Uint8Array {
    const total = this.parts.reduce((s, p) => s + p.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** Runs a WASI module (built with `--target wasi`) to completion and drains its trace. */
export async function runWasiModule(wasmPath: string, opts: WasiRunOptions = {}): Promise<WasiRunResult> {
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const capture = opts.capture ?? true;
  const dir = capture ? mkdtempSync(join(tmpdir(), "wasi-run-")) : undefined;
  const outFd = dir ? openSync(join(dir, "stdout"), "w+") : 1;
  const errFd = dir ? openSync(join(dir, "stderr"), "w+") : 2;
  try {
    const wasi = new WASI({
      version: "preview1",
      args: [basename(wasmPath), ...(opts.args ?? [])],
      env: {},
      stdout: outFd,
      stderr: errFd,
      returnOnExit: true,
    });
    const drainer = new Drainer();
    const interval = opts.drainIntervalMs ?? 10;
    const t0 = performance.now();
    const ticks = microClock(t0);
    let lastDrain = t0;
    const clock = (): number => {
      if (interval !== false && drainer.core) {
        const now = performance.now();
        if (now - lastDrain >= interval) {
          lastDrain = now;
          drainer.drainAll();
        }
      }
      return ticks();
    };
    const instance = await WebAssembly.instantiate(module, {
      wasi_snapshot_preview1: wasi.wasiImport,
      taskscope: { clock },
    });
    const core = instance.exports as unknown as CoreExports;
    drainer.core = core;
    const started = performance.now();
    const exitCode = wasi.start(instance) ?? 0;
    const wallMs = performance.now() - started;
    core.taskscope_flush();
    drainer.drainAll();
    return {
      exitCode,
      bytes: drainer.bytes(),
      exports: core,
      stdout: dir ? readFileSync(join(dir, "stdout"), "utf8") : "",
      stderr: dir ? readFileSync(join(dir, "stderr"), "utf8") : "",
      drains: drainer.drains,
      wallMs,
    };
  } finally {
    if (dir) {
      closeSync(outFd);
      closeSync(errFd);
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/** Instantiates a bare module (built with `--target device`: only the clock import), calls its
 *  export `entry` with `args`, then flushes and drains. */
export async function runDeviceModule(
  wasmPath: string,
  entry: string,
  args: number[] = [],
): Promise<{ result: unknown; bytes: Uint8Array; exports: CoreExports }> {
  const module = await WebAssembly.compile(readFileSync(wasmPath));
  const drainer = new Drainer();
  const instance = await WebAssembly.instantiate(module, { taskscope: { clock: microClock(performance.now()) } });
  const core = instance.exports as unknown as CoreExports;
  drainer.core = core;
  const fn = core[entry];
  if (typeof fn !== "function") throw new Error(`${wasmPath} does not export ${entry}()`);
  const result = (fn as (...a: number[]) => unknown)(...args);
  core.taskscope_flush();
  drainer.drainAll();
  return { result, bytes: drainer.bytes(), exports: core };
}

/** A drain stream decoded in one go: the session's INFO, names, events (in chunk order) and
 *  the last COUNTERS record. */
export interface DecodedTrace {
  info: InfoRecord;
  names: NameTable;
  events: EventBatch;
  /** Per chunk, in arrival order. */
  chunks: { seq: number; bytes: number; events: number }[];
  /** CHUNK payload bytes in total. */
  chunkBytes: number;
  /** Wire events decoded (LOG_ARG rows not counted). */
  wireEvents: number;
  counters: CountersRecord;
}

export function decodeTrace(bytes: Uint8Array): DecodedTrace {
  const records = decodeRecords(bytes);
  const names = new NameTable();
  const events = new EventBatch();
  const chunks: DecodedTrace["chunks"] = [];
  let info: InfoRecord | undefined;
  let counters: CountersRecord | undefined;
  let chunkBytes = 0;
  let wireEvents = 0;
  for (const r of records) {
    if (r.type === "INFO") {
      if (info) throw new Error("more than one INFO record");
      info = r;
    } else if (r.type === "NAMES") {
      names.addRecord(r);
    } else if (r.type === "CHUNK") {
      if (!info) throw new Error("CHUNK before INFO");
      const h = decodeChunk(r.payload, info.tickHz, events, r.payloadOffset);
      chunks.push({ seq: h.seq, bytes: r.payload.length, events: h.events });
      chunkBytes += r.payload.length;
      wireEvents += h.events;
    } else {
      counters = r;
    }
  }
  if (!info) throw new Error("no INFO record");
  if (!counters) throw new Error("no COUNTERS record");
  return { info, names, events, chunks, chunkBytes, wireEvents, counters };
}
