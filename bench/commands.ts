// The three commands as users run them, whole process: `trace-report --json`, `trace-export
// --otlp -o x.pb` and `trace-export --perfetto`, on 1 M and 10 M events of both workloads (a
// fixed population, and a task spawned per request: bench/workloads.ts). Each figure is the
// median of a few runs, beside the baseline of a process that only decodes the same file.
// Peak RSS and CPU time are the kernel's account of the whole process (bench/process.ts);
// nothing is added to the measured process (no forced gc()).
//
// TASKSCOPE_BENCH_BEFORE=DIR also runs the commands of another build (DIR holds trace-report.js
// and trace-export.js, e.g. the code before a change), interleaved run by run with this build's,
// so both see the same machine; its figures print as the baseline of "before/after" rows.
// TASKSCOPE_BENCH_SIZES=1000000,10000000 and TASKSCOPE_BENCH_RUNS=3 change what is measured;
// TASKSCOPE_BENCH_COMMANDS=otlp,perfetto measures only those commands (report, otlp, perfetto).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { figure, median, type Figure } from "./figure.js";
import { measureProcess } from "./process.js";
import { WORKLOAD_NAMES, WORKLOADS, writeWorkload, type WorkloadKind } from "./workloads.js";

const DIST = resolve(import.meta.dirname, "..");
const CLI = join(DIST, "host/cli");
const BEFORE = process.env["TASKSCOPE_BENCH_BEFORE"];
const SIZES = (process.env["TASKSCOPE_BENCH_SIZES"] ?? "1000000,10000000").split(",").map(Number);
const RUNS = Number(process.env["TASKSCOPE_BENCH_RUNS"] ?? 3);
const MiB = 2 ** 20;

type Command = "decode" | "report" | "otlp" | "perfetto";
type Build = "now" | "before";

const ONLY = process.env["TASKSCOPE_BENCH_COMMANDS"]?.split(",");
const COMMANDS: { id: Exclude<Command, "decode">; what: string; eventsPerSec: number }[] = [
  { id: "report" as const, what: "trace-report --json", eventsPerSec: 5e6 },
  { id: "otlp" as const, what: "trace-export --otlp -o x.pb", eventsPerSec: 1e6 },
  { id: "perfetto" as const, what: "trace-export --perfetto", eventsPerSec: 3e6 },
].filter((c) => !ONLY || ONLY.includes(c.id));

/** Goals of issue 11 for the spawn-per-request trace; the fixed one is held to the same. */
const RSS_LIMIT_MIB = 200;
const RSS_GROWTH_LIMIT = 1.2;

export interface Run {
  wallS: number;
  cpuS: number;
  rssMiB: number;
}

function argv(command: Command, cli: string, file: string, dir: string): [string, string[]] {
  switch (command) {
    case "decode":
      return [process.execPath, [join(DIST, "bench/decode-file.js"), file]];
    case "report":
      return [process.execPath, [join(cli, "trace-report.js"), file, "--json"]];
    case "otlp":
      return [process.execPath, [join(cli, "trace-export.js"), "--otlp", file, "-o", join(dir, "out.pb")]];
    case "perfetto":
      return [process.execPath, [join(cli, "trace-export.js"), "--perfetto", file, "-o", join(dir, "out.pftrace")]];
  }
}

/** Medians of RUNS runs of the command, this build's and (interleaved) the other build's. */
async function measure(command: Command, file: string, dir: string): Promise<Map<Build, Run>> {
  const builds: [Build, string][] = command === "decode" || !BEFORE ? [["now", CLI]] : [["now", CLI], ["before", BEFORE]];
  const samples = new Map<Build, Run[]>(builds.map(([b]) => [b, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [build, cli] of builds) {
      const [cmd, args] = argv(command, cli, file, dir);
      const r = await measureProcess(cmd, args);
      samples.get(build)!.push({ wallS: r.wallS, cpuS: r.cpuS, rssMiB: r.peakRssBytes / MiB });
    }
  }
  const out = new Map<Build, Run>();
  for (const [build, runs] of samples) {
    out.set(build, { wallS: median(runs.map((r) => r.wallS)), cpuS: median(runs.map((r) => r.cpuS)), rssMiB: median(runs.map((r) => r.rssMiB)) });
  }
  return out;
}

export interface CommandResults {
  /** workload -> size -> command -> build -> run */
  runs: Record<WorkloadKind, Map<number, Map<Command, Map<Build, Run>>>>;
  sizes: number[];
  decode: { events: number; coldEventsPerSec: number; warmEventsPerSec: number };
}

export async function benchCommands(log: (s: string) => void = () => undefined): Promise<CommandResults> {
  const dir = mkdtempSync(join(tmpdir(), "taskscope-bench-commands-"));
  try {
    const runs = { fixed: new Map(), spawn: new Map() } as CommandResults["runs"];
    let decode: CommandResults["decode"] | undefined;
    for (const kind of WORKLOADS) {
      for (const size of SIZES) {
        const file = join(dir, `${kind}-${size}.trace.cbor`);
        writeWorkload(file, size, kind);
        const bySize = new Map<Command, Map<Build, Run>>();
        runs[kind].set(size, bySize);
        for (const command of ["decode", ...COMMANDS.map((c) => c.id)] as Command[]) {
          log(`  ${command}, ${kind} workload, ${size / 1e6} M events`);
          bySize.set(command, await measure(command, file, dir));
        }
        if (kind === "fixed" && size === Math.max(...SIZES)) {
          // Cold (first pass in a fresh process) and warm (best later pass) decode.
          const r = await measureProcess(process.execPath, [join(DIST, "bench/decode-file.js"), file, "5"], { stdout: "keep" });
          const { events, passS } = JSON.parse(r.stdout) as { events: number; passS: number[] };
          decode = { events, coldEventsPerSec: events / passS[0]!, warmEventsPerSec: events / Math.min(...passS.slice(1)) };
        }
        rmSync(file, { force: true });
      }
    }
    return { runs, sizes: SIZES, decode: decode! };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function commandFigures(r: CommandResults): Figure[] {
  const out: Figure[] = [];
  const big = Math.max(...r.sizes);
  const small = Math.min(...r.sizes);
  const m = (n: number) => `${n / 1e6} M`;
  out.push(
    figure({
      id: "decode_cold_events_per_s",
      what: `decode, first pass in a fresh process (${m(r.decode.events)} events, fixed)`,
      value: r.decode.coldEventsPerSec,
      unit: "events/s",
      baseline: { what: "warm (best later pass)", value: r.decode.warmEventsPerSec },
    }),
  );
  for (const kind of WORKLOADS) {
    const at = (size: number, c: Command, build: Build = "now") => r.runs[kind].get(size)!.get(c)!.get(build);
    for (const c of COMMANDS) {
      for (const size of r.sizes) {
        const now = at(size, c.id)!;
        const where = `${c.what}, ${m(size)} events, ${WORKLOAD_NAMES[kind]}`;
        out.push(
          figure({
            id: `cmd_${c.id}_${kind}_${size / 1e6}m_events_per_s`,
            what: `${where}: whole process (${now.wallS.toFixed(2)} s)`,
            value: size / now.wallS,
            unit: "events/s",
            baseline: { what: "a process that only decodes the file", value: size / at(size, "decode")!.wallS },
            ...(size === big ? { target: { op: ">=" as const, value: c.eventsPerSec } } : {}),
          }),
        );
        const before = at(size, c.id, "before");
        out.push(
          figure({
            id: `cmd_${c.id}_${kind}_${size / 1e6}m_cpu_s`,
            what: `${where}: CPU time, user + system`,
            value: now.cpuS,
            unit: "s",
            baseline: before ? { what: "the build before (same run)", value: before.cpuS } : { what: "decoding alone", value: at(size, "decode")!.cpuS },
          }),
        );
        if (before) {
          out.push(
            figure({
              id: `cmd_${c.id}_${kind}_${size / 1e6}m_wall_vs_before_s`,
              what: `${where}: wall time`,
              value: now.wallS,
              unit: "s",
              baseline: { what: "the build before (same run)", value: before.wallS },
            }),
          );
        }
      }
      const rss = (build: Build) => ({ big: at(big, c.id, build)?.rssMiB, small: at(small, c.id, build)?.rssMiB });
      out.push(
        figure({
          id: `cmd_${c.id}_${kind}_${big / 1e6}m_peak_rss_mib`,
          what: `${c.what}, ${m(big)} events, ${WORKLOAD_NAMES[kind]}: peak RSS`,
          value: rss("now").big!,
          unit: "MiB",
          baseline: rss("before").big !== undefined ? { what: "the build before (same run)", value: rss("before").big! } : { what: "decoding alone", value: at(big, "decode")!.rssMiB },
          target: { op: "<=", value: RSS_LIMIT_MIB },
        }),
      );
      if (small !== big) {
        const before = rss("before");
        out.push(
          figure({
            id: `cmd_${c.id}_${kind}_rss_growth`,
            what: `${c.what}, ${WORKLOAD_NAMES[kind]}: peak RSS at ${m(big)} over ${m(small)} events`,
            value: rss("now").big! / rss("now").small!,
            unit: "x",
            baseline: before.big !== undefined ? { what: "the build before (same run)", value: before.big / before.small! } : { what: "decoding alone", value: at(big, "decode")!.rssMiB / at(small, "decode")!.rssMiB },
            target: { op: "<=", value: RSS_GROWTH_LIMIT },
          }),
        );
      }
    }
  }
  return out;
}
