// Loads a build of test/wasm/core-harness.ts with a scriptable clock, drains it and decodes the
// result with host/format, so core tests read like "record these, expect those rows".

import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  decodeRecords,
  decodeChunk,
  EventBatch,
  NameTable,
  type InfoRecord,
  type CountersRecord,
  type DecodedEvent,
  type WireRecord,
} from "../../host/format/index.js";

export type HarnessExports = Record<string, (...args: number[]) => number> & {
  memory: WebAssembly.Memory;
  [k: string]: unknown;
};

export interface Harness {
  e: HarnessExports;
  /** The raw clock value the next read returns; `step` is added after every read. */
  clock: { raw: number; step: number; reads: number };
  /** Everything drained so far, decoded. */
  drained: DrainLog;
  drain(): WireRecord[];
  /** Flush and drain until nothing is pending. */
  drainAll(): void;
  global(name: string): number;
}

export interface DrainLog {
  info: InfoRecord[];
  names: NameTable;
  chunkSeqs: number[];
  events: EventBatch;
  counters: CountersRecord[];
  records: number;
}

export const ROOT = resolve(import.meta.dirname, "../..");

export function loadHarness(file = "build/test/core-harness.wasm"): Harness {
  const clock = { raw: 1000, step: 1, reads: 0 };
  const module = new WebAssembly.Module(readFileSync(resolve(ROOT, file)));
  const instance = new WebAssembly.Instance(module, {
    taskscope: {
      clock: () => {
        const v = clock.raw >>> 0;
        clock.raw = (clock.raw + clock.step) % 2 ** 32;
        clock.reads++;
        return v;
      },
    },
  });
  const e = instance.exports as unknown as HarnessExports;
  const drained: DrainLog = { info: [], names: new NameTable(), chunkSeqs: [], events: new EventBatch(), counters: [], records: 0 };
  const tickHz = (): number => drained.info.at(-1)?.tickHz ?? 1_000_000;

  const drain = (): WireRecord[] => {
    const n = e.taskscope_drain!();
    const bytes = new Uint8Array(e.memory.buffer, e.taskscope_buffer!(), n).slice();
    const records = decodeRecords(bytes);
    for (const r of records) {
      drained.records++;
      if (r.type === "INFO") drained.info.push(r);
      else if (r.type === "NAMES") drained.names.addRecord(r);
      else if (r.type === "CHUNK") drained.chunkSeqs.push(decodeChunk(r.payload, tickHz(), drained.events, r.payloadOffset).seq);
      else drained.counters.push(r);
    }
    return records;
  };

  return {
    e,
    clock,
    drained,
    drain,
    drainAll() {
      e.taskscope_flush!();
      do drain();
      while (e.taskscope_pending!() !== 0);
    },
    global(name: string): number {
      const g = (instance.exports as Record<string, unknown>)[name];
      if (!(g instanceof WebAssembly.Global)) throw new Error(`harness does not export global ${name}`);
      return Number(g.value);
    },
  };
}

/** Decoded rows without the name column, for compact expectations. */
export function rows(h: Harness): Omit<DecodedEvent, "name">[] {
  return h.drained.events.toEvents().map(({ name: _name, ...row }) => row);
}

export function lastCounters(h: Harness): CountersRecord {
  const c = h.drained.counters.at(-1);
  if (!c) throw new Error("nothing drained yet");
  return c;
}
