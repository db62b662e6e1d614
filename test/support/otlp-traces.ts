// Test helper for the exporters (OTLP and Perfetto alike): trace files to export. A real one,
// pulled from the demo firmware under node:wasi exactly as trace-pull does it, and small
// synthetic ones written event by event (the reference encoder, then the trace writer) for the
// cases the demo does not show: entered flows, interrupts, memory, lost starts, several sessions.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { runWasi } from "../../host/sources/wasi.js";
import { TraceIngest } from "../../host/pull/ingest.js";
import { TraceWriter } from "../../host/tracefile/writer.js";
import type { DeviceCounters, NameEntry } from "../../host/format/records.js";
import type { SessionInfo } from "../../host/tracefile/schema.js";
import { encodeChunks, type WireEvent } from "./wire-encoder.js";
import { EVENT } from "../../host/format/spec.js";
import { ROOT } from "./core-harness.js";

/** Runs build/demo.wasm in-process (the clean demo, or a failure scenario) and writes its trace
 *  to `path`. */
export async function pullDemoTrace(path: string, scenario?: string): Promise<string> {
  const wasm = join(ROOT, "build/demo.wasm");
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: node firmware-examples/build.mjs demo.wasm`);
  const writer = new TraceWriter(path);
  writer.header({ tool: "taskscope test", source: "wasi:demo.wasm" });
  const ingest = new TraceIngest(writer);
  const result = await runWasi({
    wasmPath: wasm,
    args: scenario === undefined ? [] : [scenario],
    onRecords: (bytes, anchor) => ingest.push(bytes, anchor),
    drainIntervalMs: 20,
  });
  ingest.finish(`exit ${result.exitCode}`);
  writer.close();
  if (result.exitCode !== 0) throw new Error(`demo exited ${result.exitCode}`);
  return path;
}

export interface SyntheticSession {
  info?: Partial<SessionInfo>;
  /** Names by id from 1, as [kind, text] (kinds: 1 task, 2 site, 3 resource, 4 format, 5 mark, 6 counter, 7 flow). */
  names?: readonly (readonly [number, string])[];
  events: readonly WireEvent[];
  counters?: Partial<DeviceCounters>;
  /** Chunk slot size (default 256). */
  chunkSize?: number;
  /** Task being polled when the first chunk opened (a trace that starts mid-poll). */
  contextTask?: number;
}

export const SYNTHETIC_CREATED = 1_800_000_000_000_000_000n;

export const BASE_INFO: SessionInfo = {
  deviceSession: 0x1234,
  format: 1,
  tickHz: 1_000_000,
  device: "test-board",
  firmware: "test-fw 1.0",
  mode: "overwrite",
  chunkSize: 256,
  chunkCount: 64,
  namesCapacity: 4096,
  maxTasks: 256,
  filter: 0x7ff,
  anchor: { ticks: 0, unixNs: 1_800_000_000_000_000_000n },
};

/** Writes a trace file of the given sessions (header created at SYNTHETIC_CREATED unless given). */
export function writeSyntheticTrace(path: string, sessions: readonly SyntheticSession[], created = SYNTHETIC_CREATED): string {
  const writer = new TraceWriter(path);
  writer.header({ tool: "taskscope test", source: "synthetic", created });
  let events = 0;
  for (const s of sessions) {
    const info: SessionInfo = { ...BASE_INFO, ...s.info, anchor: s.info?.anchor ?? BASE_INFO.anchor };
    const index = writer.session(info);
    const names: NameEntry[] = (s.names ?? []).map(([kind, text], i) => ({ id: i + 1, kind, text }));
    writer.names(index, names);
    const payloads = encodeChunks(s.events, { chunkSize: s.chunkSize ?? 256, contextTask: s.contextTask ?? 0 });
    for (let i = 0; i < payloads.length; i += 8) writer.chunks(index, payloads.slice(i, i + 8));
    if (s.counters) {
      writer.counters(index, {
        recorded: s.events.length, drained: s.events.length, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0,
        namesDropped: 0, nextSeq: payloads.length, pendingEvents: 0, now: 0, firstDrop: 0, lastDrop: 0, ...s.counters,
      });
    }
    events += s.events.length;
  }
  writer.footer({ reason: "exit 0", events, ended: created + 1_000_000_000n });
  writer.close();
  return path;
}

/** Shorthand for a wire event at `ticks` (1 tick = 1 µs at the default 1 MHz). */
export function ev(tag: number, ticks: number, fields: Record<string, number> = {}, args?: number[]): WireEvent {
  return { tag, ticks, fields, args };
}

/**
 * A sensor task (name 1) and its logger (name 2, spawned by it): the sensor begins a request
 * (flow 5, name 7) and parks at a site (3); the executor idles, an interrupt handler (4, with a
 * nested one, 9, whose exit is never recorded) wakes the sensor, which logs (format 4, these
 * arguments), records memory for both, ends, and wakes its joiner; the logger enters the request.
 */
export function sensorScenario(logArgs: number[]): WireEvent[] {
  return [
    ev(EVENT.SPAWN, 10, { task: 1, parent: 0, name: 1, flow: 0 }),
    ev(EVENT.SPAWN, 11, { task: 2, parent: 1, name: 2, flow: 0 }),
    ev(EVENT.POLL_BEGIN, 20, { task: 1 }),
    ev(EVENT.MEM, 21, { task: 1, bytes: 512 }),
    ev(EVENT.FLOW_BEGIN, 22, { flow: 5, name: 7 }),
    ev(EVENT.AWAIT, 23, { site: 3, resource: 0 }),
    ev(EVENT.POLL_PENDING, 24),
    ev(EVENT.IDLE_BEGIN, 30),
    ev(EVENT.ISR_ENTER, 31, { irq: 4 }),
    ev(EVENT.ISR_ENTER, 32, { irq: 9 }), // nested, and its exit is never recorded
    ev(EVENT.WAKE_IRQ, 33, { target: 1, irq: 4 }),
    ev(EVENT.ISR_EXIT, 35, { irq: 4 }),
    ev(EVENT.IDLE_END, 36),
    ev(EVENT.POLL_BEGIN, 40, { task: 1 }),
    ev(EVENT.LOG, 41, { format: 4, level: 3 }, logArgs),
    ev(EVENT.MEM, 42, { task: 2, bytes: 100 }),
    ev(EVENT.POLL_READY, 43),
    ev(EVENT.TASK_DONE, 44, { task: 1 }),
    ev(EVENT.WAKE_TASK, 45, { target: 2, by: 1 }), // the ended task wakes its joiner
    ev(EVENT.POLL_BEGIN, 50, { task: 2 }),
    ev(EVENT.FLOW_ENTER, 51, { task: 2, flow: 5 }),
    ev(EVENT.POLL_PENDING, 52),
  ];
}
