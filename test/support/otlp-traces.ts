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
import { WIRE_FORMAT_VERSION } from "../../host/format/spec.js";
import { encodeChunks, type WireEvent } from "./wire-encoder.js";
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
  format: WIRE_FORMAT_VERSION,
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
