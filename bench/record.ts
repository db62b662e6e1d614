// Cost of recording one event in V8: the core's poll begin/end loop inside wasm, beside a
// plain-JS DataView ring that writes the same 2-3 byte events with the same chunk rotation, both
// timed in this run (best of several rounds; the machine may be shared).

import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export interface RecordFigures {
  /** Core, clock read inside the module (stands in for a hardware counter register). */
  wasmNsPerEvent: number;
  /** Core, clock imported from JavaScript (what a WASI run under Node pays). */
  wasmJsClockNsPerEvent: number;
  /** Plain-JS DataView ring, same events, same clock step. */
  jsDataViewNsPerEvent: number;
}

const ROOT = resolve(import.meta.dirname, "../..");
const EVENTS_PER_ROUND = 4_000_000; // pollLoop records two events per iteration
const ROUNDS = 7;

type Core = { setup(mode: number, hz: number): void; pollLoop(n: number): void };

function loadCore(file: string, clock?: () => number): Core {
  const module = new WebAssembly.Module(readFileSync(resolve(ROOT, file)));
  const imports: WebAssembly.Imports = clock ? { taskscope: { clock } } : {};
  const core = new WebAssembly.Instance(module, imports).exports as unknown as Core;
  core.setup(0, 1_000_000);
  return core;
}

/** Best (lowest) ns per event over ROUNDS timed calls of `run(n)` after a warm-up. */
function bestNsPerEvent(run: (iterations: number) => void): number {
  const iterations = EVENTS_PER_ROUND / 2;
  run(iterations); // warm-up: let V8 tier up
  run(iterations);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    run(iterations);
    const ns = Number(process.hrtime.bigint() - t0);
    best = Math.min(best, ns / EVENTS_PER_ROUND);
  }
  return best;
}

/** The baseline: the same chunked layout written from JavaScript through a DataView. */
class DataViewRing {
  private readonly view: DataView;
  private w = 0;
  private chunkEnd = 0;
  private prev = 0;
  private ticks = 0;
  private seq = 0;

  constructor(
    private readonly chunkSize = 256,
    private readonly chunks = 64,
  ) {
    this.view = new DataView(new ArrayBuffer(chunkSize * chunks));
  }

  private clock(): number {
    this.ticks = (this.ticks + 3) >>> 0;
    return this.ticks;
  }

  private open(now: number): void {
    const base = (this.seq % this.chunks) * this.chunkSize;
    this.view.setUint32(base, this.seq++, true);
    this.view.setUint32(base + 4, now, true);
    this.view.setUint32(base + 8, 0, true);
    this.view.setUint8(base + 12, 0);
    this.w = base + 13;
    this.chunkEnd = base + this.chunkSize;
    this.prev = now;
  }

  record(tag: number, field: number, withField: boolean): void {
    const now = this.clock();
    if (this.w + 3 > this.chunkEnd) this.open(now);
    const v = this.view;
    v.setUint8(this.w, tag);
    v.setUint8(this.w + 1, (now - this.prev) & 0x7f);
    this.prev = now;
    if (withField) {
      v.setUint8(this.w + 2, field);
      this.w += 3;
    } else {
      this.w += 2;
    }
  }
}

export function benchRecord(): RecordFigures {
  const inModule = loadCore("build/bench/core-bench-clock.wasm");
  let t = 0;
  const jsClock = (): number => (t = (t + 3) >>> 0);
  const imported = loadCore("build/bench/core-import-clock.wasm", jsClock);
  const ring = new DataViewRing();
  const jsLoop = (n: number): void => {
    for (let i = 0; i < n; i++) {
      ring.record(0x02, (i & 7) + 1, true);
      ring.record(0x04, 0, false);
    }
  };
  return {
    wasmNsPerEvent: bestNsPerEvent((n) => inModule.pollLoop(n)),
    wasmJsClockNsPerEvent: bestNsPerEvent((n) => imported.pollLoop(n)),
    jsDataViewNsPerEvent: bestNsPerEvent(jsLoop),
  };
}
