// npm run bench: every figure beside a baseline measured in the same run, as a ratio, plus the
// target it is held to. `npm run -s bench -- --json` prints the same figures as one JSON object
// and nothing else on stdout (the measurements run in a child process whose stdout goes to
// stderr, so nothing a module under test prints can reach it; -s keeps npm's own banner off).
// In-process timings are best-of-N on purpose (the machine may be shared, and the minimum is the
// least noisy); whole-process ones (bench/commands.ts) are medians.
//
// Each section is one module's figures: add a module by adding a line to SECTIONS.
//   npm run bench -- --only export,commands      runs only those sections

import { fork } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { benchRecord } from "./record.js";
import { benchDemoWorkload } from "./demo-workload.js";
import { benchDecode } from "./decode.js";
import { analysisFigures, benchAnalysis } from "./analysis.js";
import { benchExport, exportFigures } from "./export.js";
import { benchCommands, commandFigures } from "./commands.js";
import { benchLink } from "./link.js";
import { socatAvailable } from "../test/support/pty.js";
import { benchMcu } from "./mcu.js";
import { benchLiveExport, liveExportFigures } from "./live-export.js";
import { figure, formatTarget, formatValue, type Figure } from "./figure.js";

interface Section {
  id: string;
  title: string;
  run(log: (s: string) => void): Promise<Figure[]>;
}

const SECTIONS: Section[] = [
  { id: "record", title: "recording cost", run: async () => recordFigures() },
  { id: "demo", title: "demo workload", run: demoFigures },
  { id: "decode", title: "host decode", run: decodeFigures },
  { id: "link", title: "serial link through a pty", run: linkFigures },
  { id: "analysis", title: "analysis (10 M events)", run: async () => analysisFigures(await benchAnalysis()) },
  { id: "export", title: "export, in process", run: async () => exportFigures(await benchExport()) },
  { id: "live", title: "export while pulling (trace-pull --otlp), in process", run: async () => liveExportFigures(await benchLiveExport()) },
  { id: "commands", title: "the three commands, whole process", run: async (log) => commandFigures(await benchCommands(log)) },
  { id: "mcu", title: "the core on a Cortex-M3 and x86-64, its sizes, bytes per event", run: mcuFigures },
];

/** bench/mcu.ts; a part whose tool is missing says so in one line. */
async function mcuFigures(log: (s: string) => void): Promise<Figure[]> {
  const mcu = await benchMcu(log);
  for (const line of mcu.skipped) log(line);
  return mcu.figures.map(figure);
}

function recordFigures(): Figure[] {
  const rec = benchRecord();
  return [
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
  ];
}

async function demoFigures(): Promise<Figure[]> {
  const demo = await benchDemoWorkload();
  return [
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
      id: "trace_file_bytes_per_event",
      what: "trace-file bytes per event (demo)",
      value: demo.traceFileBytesPerEvent,
      unit: "B",
      baseline: { what: "demo chunk bytes", value: demo.chunkBytesPerEvent },
    }),
  ];
}

async function decodeFigures(): Promise<Figure[]> {
  const dec = await benchDecode();
  return [
    figure({
      id: "decode_events_per_s",
      what: `host decode, ${(dec.events / 1e6).toFixed(1)} M events, warm (wire ${dec.bytesPerEventWire.toFixed(2)} B/event)`,
      value: dec.decodeEventsPerSec,
      unit: "events/s",
      baseline: { what: "cbor-x decoding the same events", value: dec.cborxDecodeEventsPerSec },
      target: { op: ">=", value: 10e6 },
    }),
    figure({
      id: "trace_file_bytes_per_event_synthetic",
      what: "trace-file bytes per event (decode workload)",
      value: dec.traceFileBytesPerEvent,
      unit: "B",
      baseline: { what: "its wire bytes", value: dec.bytesPerEventWire },
    }),
  ];
}

async function linkFigures(log: (s: string) => void): Promise<Figure[]> {
  // Like the mcu section, a missing tool skips the section in one line instead of ending the run.
  if (!socatAvailable()) {
    log("link: skipped, socat not found (apt-get install --no-install-recommends socat)");
    return [];
  }
  const link = await benchLink();
  return [
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
  ];
}

function selected(argv: readonly string[]): Section[] {
  const at = argv.indexOf("--only");
  if (at < 0) return SECTIONS;
  const ids = (argv[at + 1] ?? "").split(",");
  const unknown = ids.filter((id) => !SECTIONS.some((s) => s.id === id));
  if (unknown.length > 0) throw new Error(`--only: no section ${unknown.join(", ")} (sections: ${SECTIONS.map((s) => s.id).join(", ")})`);
  return SECTIONS.filter((s) => ids.includes(s.id));
}

/** Runs the sections here, logging progress to stderr. */
async function measure(argv: readonly string[]): Promise<Figure[]> {
  const figures: Figure[] = [];
  for (const section of selected(argv)) {
    console.error(`measuring: ${section.title}...`);
    figures.push(...(await section.run((s) => console.error(s))));
  }
  return figures;
}

/** --json: measures in a child whose stdout is this process's stderr, then prints the JSON. */
function measureInChild(argv: readonly string[]): Promise<Figure[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ["--child", ...argv], { stdio: ["ignore", 2, 2, "ipc"] });
    let figures: Figure[] | undefined;
    child.once("message", (m) => (figures = m as Figure[]));
    child.once("error", reject);
    child.once("exit", (code) => (figures ? resolve(figures) : reject(new Error(`bench child exited ${code}`))));
  });
}

function print(figures: readonly Figure[]): void {
  const machine = { node: process.version, cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length };
  if (process.argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ machine, figures }, null, 2)}\n`);
    return;
  }
  console.log(`taskscope bench — node ${machine.node}, ${machine.cpu}, ${machine.cores} cores; baselines measured in this run`);
  console.log("");
  const rows = figures.map((f) => [
    f.what,
    formatValue(f.value, f.unit),
    f.baseline ? `${f.baseline.what}: ${formatValue(f.baseline.value, f.unit)}` : "",
    f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}x`,
    formatTarget(f),
    f.met === undefined ? "" : f.met ? "met" : "MISSED",
  ]);
  const header = ["figure", "value", "baseline", "ratio", "target", ""];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") {
  const figures = await measure(argv.slice(1));
  process.send!(figures, () => process.disconnect());
} else {
  print(argv.includes("--json") ? await measureInChild(argv) : await measure(argv));
}
