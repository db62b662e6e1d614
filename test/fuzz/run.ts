// npm run fuzz -- --seconds N [--target a,b] [--seed S] [--no-save]
//
// The long fuzz run: the decoders' fuzz targets in a worker thread, watched from the main
// thread. The worker shows the watchdog each input before it runs it (in shared memory), so an
// input that keeps it busy for more than --hang-seconds (10) is saved and counted as a hang, and
// the worker is replaced. Every new failure is written to the corpus (test/fuzz/corpus/TARGET/),
// which test/fuzz.test.ts replays. Prints inputs, inputs/s, crashes, hangs, misreads, errors
// without an offset and the process's peak RSS.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { emptyStats, fuzzLoop, signature, type Finding, type TargetStats } from "./engine.js";
import { createTargets, TARGET_NAMES } from "./targets.js";
import { CORPUS_DIR, prepareSeeds } from "./seeds.js";
import { createHash } from "node:crypto";

const MAX_INPUT = 1 << 20;

interface WorkerArgs {
  seedDir: string;
  targets: string[];
  seed: number;
  until: number; // ms from the worker's start
  shared: SharedArrayBuffer;
}

type FromWorker =
  | { type: "ready"; targets: string[] }
  | { type: "finding"; finding: Finding }
  | { type: "stats"; stats: [string, TargetStats][] };

// Shared memory: [0] input counter, [1] target index, [2] input length, then the input bytes.
const HEAD_WORDS = 4;

async function workerMain(args: WorkerArgs): Promise<void> {
  const words = new Int32Array(args.shared, 0, HEAD_WORDS);
  const bytes = new Uint8Array(args.shared, HEAD_WORDS * 4);
  const targets = await createTargets(args.seedDir, args.targets);
  parentPort!.postMessage({ type: "ready", targets: targets.map((t) => t.name) } satisfies FromWorker);
  let lastPost = performance.now();
  const stats = await fuzzLoop(targets, {
    seed: args.seed,
    until: performance.now() + args.until,
    maxBytes: MAX_INPUT,
    stats: current,
    onFinding: (finding) => parentPort!.postMessage({ type: "finding", finding } satisfies FromWorker),
    onInput: (target, input) => {
      bytes.set(input.subarray(0, bytes.length));
      Atomics.store(words, 1, target);
      Atomics.store(words, 2, input.length);
      Atomics.add(words, 0, 1);
      const now = performance.now();
      if (now - lastPost > 1000) {
        lastPost = now;
        parentPort!.postMessage({ type: "stats", stats: [...current.entries()] } satisfies FromWorker);
      }
    },
  });
  parentPort!.postMessage({ type: "stats", stats: [...stats.entries()] } satisfies FromWorker);
}
// The loop's live stats, for the periodic posts (fuzzLoop fills the same map it returns).
let current = new Map<string, TargetStats>();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string", default: "60" },
      target: { type: "string" },
      seed: { type: "string" },
      "hang-seconds": { type: "string", default: "10" },
      "no-save": { type: "boolean" },
    },
  });
  const seconds = Number(values.seconds);
  const hangMs = Number(values["hang-seconds"]) * 1000;
  if (!(seconds > 0) || !(hangMs > 0)) throw new Error("--seconds and --hang-seconds take a positive number");
  const targets = values.target ? values.target.split(",") : [...TARGET_NAMES];
  for (const t of targets) if (!TARGET_NAMES.includes(t)) throw new Error(`unknown target ${t} (known: ${TARGET_NAMES.join(", ")})`);
  let seed = values.seed === undefined ? Date.now() >>> 0 : Number(values.seed);
  const save = !values["no-save"];

  const seedDir = mkdtempSync(join(existsShm() ? "/dev/shm" : tmpdir(), "taskscope-fuzz-"));
  process.stderr.write(`fuzz: preparing seeds (demo firmware under node:wasi)...\n`);
  await prepareSeeds(seedDir);

  const totals = new Map<string, TargetStats>(targets.map((t) => [t, emptyStats()]));
  const findings: Finding[] = [];
  const saved = new Set<string>();
  const started = performance.now();
  const deadline = started + seconds * 1000;

  const keep = (f: Finding) => {
    const key = signature(f);
    if (saved.has(key)) return;
    saved.add(key);
    findings.push(f);
    process.stderr.write(`fuzz: ${f.kind} in ${f.target}: ${f.message}${f.where ? ` [${f.where}]` : ""}\n`);
    if (!save) return;
    const dir = join(CORPUS_DIR(), f.target);
    mkdirSync(dir, { recursive: true });
    const name = `${f.kind}-${createHash("sha1").update(f.input).digest("hex").slice(0, 12)}.bin`;
    writeFileSync(join(dir, name), f.input);
  };

  // Runs workers one after another until the deadline: a hang replaces the worker.
  while (performance.now() < deadline - 500) {
    const shared = new SharedArrayBuffer(HEAD_WORDS * 4 + MAX_INPUT);
    const words = new Int32Array(shared, 0, HEAD_WORDS);
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { seedDir, targets, seed: seed++, until: deadline - performance.now(), shared } satisfies WorkerArgs,
      resourceLimits: { maxOldGenerationSizeMb: 2048 },
    });
    let latest = new Map<string, TargetStats>();
    let names: string[] = [];
    const ended = new Promise<number>((resolve) => worker.once("exit", resolve));
    worker.on("message", (m: FromWorker) => {
      if (m.type === "ready") names = m.targets;
      else if (m.type === "finding") keep(m.finding);
      else latest = new Map(m.stats);
    });
    worker.on("error", (e) => process.stderr.write(`fuzz: worker failed: ${e.stack ?? e}\n`));
    let lastCount = -1;
    let lastChange = performance.now();
    let hung = false;
    let finished = false;
    void ended.then(() => (finished = true));
    let lastProgress = performance.now();
    while (!finished) {
      await new Promise((r) => setTimeout(r, 250));
      const count = Atomics.load(words, 0);
      const now = performance.now();
      if (count !== lastCount) {
        lastCount = count;
        lastChange = now;
      } else if (count > 0 && now - lastChange > hangMs) {
        hung = true;
        const target = names[Atomics.load(words, 1)] ?? "?";
        const length = Atomics.load(words, 2);
        const input = new Uint8Array(shared, HEAD_WORDS * 4, Math.min(length, MAX_INPUT)).slice();
        keep({ target, kind: "hang", message: `no answer for ${(hangMs / 1000).toFixed(0)} s`, input, ops: [] });
        await worker.terminate();
        const t = latest.get(target);
        if (t) t.hangs++;
        break;
      } else if (now > deadline + hangMs + 5000) {
        await worker.terminate(); // past the deadline and not yet at the end of an input
        break;
      }
      if (now - lastProgress > 10_000) {
        lastProgress = now;
        const n = [...latest.values()].reduce((a, s) => a + s.inputs, 0) + [...totals.values()].reduce((a, s) => a + s.inputs, 0);
        process.stderr.write(`fuzz: ${((now - started) / 1000).toFixed(0)} s, ${n.toLocaleString("en-US")} inputs, peak RSS ${rssMiB()} MiB\n`);
      }
    }
    for (const [name, s] of latest) add(totals.get(name)!, s);
    if (!hung) break;
  }

  const secs = (performance.now() - started) / 1000;
  printTable(totals, secs);
  process.stdout.write(`new findings: ${findings.length}${findings.length > 0 && save ? ` (saved under test/fuzz/corpus/)` : ""}\n`);
  rmSync(seedDir, { recursive: true, force: true });
  const bad = [...totals.values()].some((s) => s.crashes + s.hangs + s.misreads + s.noOffset > 0);
  process.exitCode = bad ? 1 : 0;
}

function add(into: TargetStats, s: TargetStats): void {
  into.inputs += s.inputs;
  into.errors += s.errors;
  into.noOffset += s.noOffset;
  into.misreads += s.misreads;
  into.crashes += s.crashes;
  into.hangs += s.hangs;
  into.slow += s.slow;
  into.maxMs = Math.max(into.maxMs, s.maxMs);
  into.ms += s.ms;
}

function rssMiB(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

function existsShm(): boolean {
  try {
    rmSync(mkdtempSync("/dev/shm/taskscope-probe-"), { recursive: true });
    return true;
  } catch {
    return false;
  }
}

function printTable(totals: Map<string, TargetStats>, secs: number): void {
  const rows: string[][] = [["target", "inputs", "inputs/s", "errors", "no offset", "misread", "crashes", "hangs>10s", "slow>1s", "max ms"]];
  const all = emptyStats();
  for (const [name, s] of totals) {
    add(all, s);
    rows.push([name, s.inputs.toLocaleString("en-US"), Math.round(s.inputs / secs).toLocaleString("en-US"), String(s.errors), String(s.noOffset), String(s.misreads), String(s.crashes), String(s.hangs), String(s.slow), s.maxMs.toFixed(0)]);
  }
  rows.push(["all", all.inputs.toLocaleString("en-US"), Math.round(all.inputs / secs).toLocaleString("en-US"), String(all.errors), String(all.noOffset), String(all.misreads), String(all.crashes), String(all.hangs), String(all.slow), all.maxMs.toFixed(0)]);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) process.stdout.write(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ") + "\n");
  process.stdout.write(`time ${secs.toFixed(0)} s, peak RSS ${rssMiB()} MiB (whole process, inputs up to ${MAX_INPUT >> 20} MiB)\n`);
}

if (isMainThread) {
  main().catch((e) => {
    process.stderr.write(`fuzz: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
} else {
  const args = workerData as WorkerArgs;
  current = new Map();
  workerMain(args).catch((e) => {
    process.stderr.write(`fuzz worker: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
}
