// npm run bench: every figure beside a baseline measured in the same run, as a ratio, plus the
// target it is held to. `npm run bench -- --json` prints the same figures as one JSON object.
// Timings are best-of-N on purpose: the machine may be shared, and the minimum is the least noisy.

import os from "node:os";
import { benchRecord } from "./record.js";
import { benchDemoWorkload } from "./demo-workload.js";
import { benchDecode } from "./decode.js";
import { benchAnalysis } from "./analysis.js";
import { benchExport } from "./export.js";
import { benchLink } from "./link.js";
import { benchMcu } from "./mcu.js";

interface Figure {
  id: string;
  what: string;
  value: number;
  unit: string;
  baseline?: { what: string; value: number };
  /** value / baseline value */
  ratio?: number;
  target?: { op: "<=" | ">="; value: number };
  met?: boolean;
}

function figure(f: Omit<Figure, "ratio" | "met">): Figure {
  const ratio = f.baseline ? f.value / f.baseline.value : undefined;
  const met = f.target ? (f.target.op === "<=" ? f.value <= f.target.value : f.value >= f.target.value) : undefined;
  return { ...f, ...(ratio === undefined ? {} : { ratio }), ...(met === undefined ? {} : { met }) };
}

function fmt(x: number, unit: string): string {
  if (unit === "events/s") return `${(x / 1e6).toFixed(1)} M/s`;
  if (unit === "%") return `${x.toFixed(1)} %`;
  if (unit === "x") return `${x.toFixed(2)}x`;
  return `${x.toFixed(2)} ${unit}`;
}

async function main(): Promise<void> {
  const json = process.argv.includes("--json");
  const log = (s: string) => {
    if (!json) console.error(s);
  };
  log("measuring: recording cost...");
  const rec = benchRecord();
  log("measuring: demo workload...");
  const demo = await benchDemoWorkload();
  log("measuring: host decode...");
  const dec = await benchDecode();
  log("measuring: serial link through a pty...");
  const link = await benchLink();
  log("measuring: analysis (10 M events)...");
  const ana = await benchAnalysis();
  log("measuring: export...");
  const exp = await benchExport();
  const mcu = await benchMcu(log);

  const figures: Figure[] = [
    figure({
      id: "record_ns_wasm",
      what: "record one event in V8 (clock read in wasm)",
      value: rec.wasmNsPerEvent,
      unit: "ns",
      baseline: { what: "plain-JS DataView ring", value: rec.jsDataViewNsPerEvent },
      target: { op: "<=", value: 3 },
    }),
    figure({
      id: "record_ns_js_clock",
      what: "record one event in V8 (clock imported from JS)",
      value: rec.wasmJsClockNsPerEvent,
      unit: "ns",
      baseline: { what: "plain-JS DataView ring", value: rec.jsDataViewNsPerEvent },
    }),
    figure({
      id: "demo_chunk_bytes_per_event",
      what: `bytes per event, demo workload (${demo.events} events, chunk bytes)`,
      value: demo.chunkBytesPerEvent,
      unit: "B",
      baseline: { what: "SystemView, best case (literature)", value: 2 },
      target: { op: "<=", value: 3.5 },
    }),
    figure({
      id: "demo_stream_bytes_per_event",
      what: "bytes per event, demo workload (whole drain stream)",
      value: demo.streamBytesPerEvent,
      unit: "B",
      baseline: { what: "demo chunk bytes", value: demo.chunkBytesPerEvent },
    }),
    figure({
      id: "decode_events_per_s",
      what: `host decode, ${(dec.events / 1e6).toFixed(1)} M events (wire ${dec.bytesPerEventWire.toFixed(2)} B/event)`,
      value: dec.decodeEventsPerSec,
      unit: "events/s",
      baseline: { what: "cbor-x decoding the same events", value: dec.cborxDecodeEventsPerSec },
      target: { op: ">=", value: 10e6 },
    }),
    figure({
      id: "trace_file_bytes_per_event",
      what: "trace-file bytes per event (demo)",
      value: demo.traceFileBytesPerEvent,
      unit: "B",
      baseline: { what: "demo chunk bytes", value: demo.chunkBytesPerEvent },
    }),
    figure({
      id: "trace_file_bytes_per_event_synthetic",
      what: "trace-file bytes per event (decode workload)",
      value: dec.traceFileBytesPerEvent,
      unit: "B",
      baseline: { what: "its wire bytes", value: dec.bytesPerEventWire },
    }),
    figure({
      id: "link_efficiency",
      what: `link efficiency, demo streamed through a pty (${link.demoEvents} events)`,
      value: link.linkEfficiency * 100,
      unit: "%",
      baseline: { what: "in-process drain (records, no framing)", value: link.drainEfficiency * 100 },
      target: { op: ">=", value: 97 },
    }),
    figure({
      id: "link_pull_events_per_s",
      what: "pull rate through a pty (board recording flat out)",
      value: link.pullEventsPerSec,
      unit: "events/s",
    }),
    figure({
      id: "link_pull_mb_per_s",
      what: "pull rate through a pty, wire bytes",
      value: link.pullBytesPerSec / 1e6,
      unit: "MB/s",
      baseline: { what: "raw pty throughput", value: link.ptyBytesPerSec / 1e6 },
    }),
    figure({
      id: "analysis_events_per_s",
      what: `analysis (model + lints), ${(ana.events / 1e6).toFixed(0)} M events`,
      value: ana.analysisEventsPerSec,
      unit: "events/s",
      baseline: { what: "reading the same file alone", value: ana.readEventsPerSec },
      target: { op: ">=", value: 5e6 },
    }),
    figure({
      id: "analysis_heap_growth",
      what: `analysis live heap, ${(ana.memory[1]!.events / 1e6).toFixed(0)} M vs ${(ana.memory[0]!.events / 1e6).toFixed(0)} M events`,
      value: ana.heapGrowth,
      unit: "x",
      baseline: { what: "flat memory", value: 1 },
      target: { op: "<=", value: 1.1 },
    }),
    figure({
      id: "analysis_peak_rss_mib",
      what: `analysis peak RSS, ${(ana.memory[1]!.events / 1e6).toFixed(0)} M events`,
      value: ana.memory[1]!.peakRssBytes / 2 ** 20,
      unit: "MiB",
      baseline: { what: `${(ana.memory[0]!.events / 1e6).toFixed(0)} M events`, value: ana.memory[0]!.peakRssBytes / 2 ** 20 },
    }),
    figure({
      id: "export_otlp_events_per_s",
      what: `OTLP protobuf file export (${exp.spansPerKiloEvent.toFixed(0)} spans per 1000 events)`,
      value: exp.otlpProtobufEventsPerSec,
      unit: "events/s",
      baseline: { what: "decoding the same trace", value: exp.decodeEventsPerSec },
    }),
    figure({
      id: "export_otlp_json_events_per_s",
      what: "OTLP/JSON file export",
      value: exp.otlpJsonEventsPerSec,
      unit: "events/s",
      baseline: { what: "decoding the same trace", value: exp.decodeEventsPerSec },
    }),
    figure({
      id: "export_perfetto_events_per_s",
      what: "Perfetto JSON export",
      value: exp.perfettoEventsPerSec,
      unit: "events/s",
      baseline: { what: "decoding the same trace", value: exp.decodeEventsPerSec },
    }),
    figure({
      id: "export_otlp_heap_4x_mib",
      what: "OTLP export retained heap, trace 4x as long",
      value: exp.otlpHeapMiB.long,
      unit: "MiB",
      baseline: { what: "same export, 1x trace", value: exp.otlpHeapMiB.base },
    }),
    figure({
      id: "export_perfetto_heap_4x_mib",
      what: "Perfetto export retained heap, trace 4x as long",
      value: exp.perfettoHeapMiB.long,
      unit: "MiB",
      baseline: { what: "same export, 1x trace", value: exp.perfettoHeapMiB.base },
    }),
    // Streaming means the heap an export retains does not follow the trace's length: the growth
    // from the 1x to the 4x trace, per added event, beside holding the input file alone.
    ...(["OTLP", "Perfetto"] as const).map((name) => {
      const heap = name === "OTLP" ? exp.otlpHeapMiB : exp.perfettoHeapMiB;
      const growth = (Math.max(0, heap.long - heap.base) * 2 ** 20) / (exp.longEvents - exp.events);
      return figure({
        id: `export_${name.toLowerCase()}_heap_growth_bytes_per_event`,
        what: `${name} export retained heap growth per added event`,
        value: growth,
        unit: "B",
        baseline: { what: "holding the trace file: its bytes per event", value: exp.fileBytesPerEvent },
        target: { op: "<=", value: 0.5 },
      });
    }),
    // The core on a Cortex-M3 and x86-64 beside a C ring, sizes, bytes per event (bench/mcu.ts).
    ...mcu.figures.map(figure),
  ];

  const machine = { node: process.version, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length };
  if (json) {
    console.log(JSON.stringify({ machine, figures, skipped: mcu.skipped }, null, 2));
    return;
  }
  console.log(`taskscope bench — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; baselines measured in this run`);
  console.log("");
  const rows = figures.map((f) => [
    f.what,
    fmt(f.value, f.unit),
    f.baseline ? `${f.baseline.what}: ${fmt(f.baseline.value, f.unit)}` : "",
    f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}x`,
    f.target ? `${f.target.op} ${fmt(f.target.value, f.unit)}` : "",
    f.met === undefined ? "" : f.met ? "met" : "MISSED",
  ]);
  const header = ["figure", "value", "baseline", "ratio", "target", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  for (const line of mcu.skipped) console.log(line);
}

await main();
