// The JS engine's garbage collections, as the WASI clock needs them (stall-clock.ts): how much of
// the heap is in use (it only drops when a collection ran) and how long the collections since the
// last question paused this thread. Both are synchronous, so the clock can ask inside a host call;
// the collector's record (v8.GCProfiler) is only read after the heap showed a collection.

import v8 from "node:v8";

export interface GcWatch {
  /** Bytes in use on this thread's heap. */
  heapUsed: () => number;
  /** Pauses of the collections since the last call (or since the watch began), ns. */
  pausesNs: () => number;
  close: () => void;
}

/** Undefined where the engine keeps no record of its collections (Node before 18.15). */
export function gcWatch(): GcWatch | undefined {
  if (typeof v8.GCProfiler !== "function") return undefined;
  const profiler = new v8.GCProfiler();
  profiler.start();
  return {
    heapUsed: () => v8.getHeapStatistics().used_heap_size,
    pausesNs: () => {
      const record = profiler.stop();
      profiler.start();
      let us = 0;
      for (const gc of record?.statistics ?? []) us += gc.cost; // µs
      return us * 1000;
    },
    close: () => void profiler.stop(),
  };
}
