// The core's promise: no heap allocation after start-up. The harness is built with the stub
// runtime (a bump allocator) and `--exportRuntime`; two probe allocations before and after a
// million recorded and drained events must sit exactly one probe apart, and memory must not grow.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { loadHarness, lastCounters, ROOT } from "./support/core-harness.js";
import { LOG_ARG } from "../host/format/spec.js";
import { resolve } from "node:path";

describe("core: zero allocation", () => {
  it("records and drains 1,000,000 events without allocating or growing memory", () => {
    const h = loadHarness();
    h.e.setup!(0, 1_000_000);
    for (let i = 0; i < 11; i++) h.e.internFixed!(i); // start-up work (names) happens before the probe
    const probe = () => h.e.__new!(0, 0);
    const first = probe();
    const second = probe();
    const stride = second - first;
    const pages = h.e.memory.buffer.byteLength;

    let calls = 0;
    while (calls < 1_000_000) {
      calls += h.e.stress!(1_000, calls + 1);
      h.drain(); // drain as a transport would, while recording continues
    }
    h.drainAll();

    expect(probe() - second).toBe(stride);
    expect(h.e.memory.buffer.byteLength).toBe(pages);
    // ...and the million events really went through the ring and reached the host.
    const c = lastCounters(h);
    expect(c.recorded).toBe(calls);
    expect(c.drained + c.droppedOverwritten).toBe(calls);
    let decoded = 0;
    const k = h.drained.events.kind;
    for (let i = 0; i < h.drained.events.length; i++) if (k[i] !== LOG_ARG) decoded++;
    expect(decoded).toBe(c.drained);
    expect(c.droppedOverwritten).toBe(0); // drained often enough that nothing was overwritten
  });

  it("imports nothing but the clock", () => {
    const module = new WebAssembly.Module(readFileSync(resolve(ROOT, "build/test/core-harness-small.wasm")));
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: "taskscope", name: "clock", kind: "function" }]);
  });
});
