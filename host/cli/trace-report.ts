#!/usr/bin/env node
// trace-report: explains a trace file: lints first (the failures found, most important first),
// then executor load, tasks, spawn tree, resources and request flows. Text, JSON or HTML.

import { parseArgs } from "node:util";
import { existsSync, writeFileSync } from "node:fs";
import { runCli, UsageError, CliError } from "./run-cli.js";
import { TraceFileError } from "../tracefile/errors.js";
import { analyzeTrace, type AnalysisOptions } from "../model/analyze.js";
import { buildReport } from "../report/report-data.js";
import { renderTextReport } from "../report/text-report.js";
import { renderHtmlReport } from "../report/html-report.js";
import { buildTimelines } from "../report/timeline.js";
import { parseTaskFilter } from "../report/task-filter.js";
import {
  DEFAULT_THRESHOLDS,
  THRESHOLD_SPECS,
  formatThreshold,
  parseDuration,
  parseThreshold,
  type Thresholds,
} from "../model/thresholds.js";

const thresholdHelp = THRESHOLD_SPECS.map((s) => {
  const flag = `  --${s.flag} ${s.unit === "duration" ? "DUR" : "N"}`;
  return `${flag.padEnd(31)}${s.what} (default ${formatThreshold(s, DEFAULT_THRESHOLDS[s.key])})`;
}).join("\n");

const HELP = `Usage:
  trace-report FILE.trace.cbor [--json | --html OUT.html] [options]

Explains a trace: first the lints (lost wake-ups, deadlocks, long polls, starvation, self-wake
loops, leaks, backpressure, slow requests, lost events), most important first, each with the
task, await site and time it concerns and a hint; then executor load, the task table, the spawn
tree, resources and request flows with the slow-request analysis.

Options:
  --json                       print the report as JSON (schema "taskscope.report/1", docs/REPORT.md)
  --html OUT.html              also write a self-contained HTML report with a timeline
  --all-tasks                  list every task (by default finished look-alikes are folded into one row)
  --since DUR, --until DUR     only this window, measured from each session's first event (e.g. 250ms, 1.5s)
  --task NAME|ID               only tasks whose name (* matches anything) or id matches; repeatable
  -h, --help                   show this help

Lint thresholds (DUR is a duration such as 5ms, 250us, 1.5s):
${thresholdHelp}

A file whose last record is incomplete (the writer was killed) is reported up to that record.
A corrupt file gives one line naming the byte offset, and exit status 1; wrong options exit 2.`;

async function main(argv: string[]): Promise<number> {
  const thresholdOptions = Object.fromEntries(THRESHOLD_SPECS.map((s) => [s.flag, { type: "string" as const }]));
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean" },
      html: { type: "string" },
      "all-tasks": { type: "boolean" },
      since: { type: "string" },
      until: { type: "string" },
      task: { type: "string", multiple: true },
      help: { type: "boolean", short: "h" },
      ...thresholdOptions,
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no trace file given" : "give one trace file");
  const file = positionals[0]!;
  const opts = values as Record<string, string | boolean | string[] | undefined>;

  const thresholds: Partial<Thresholds> = {};
  for (const spec of THRESHOLD_SPECS) {
    const text = opts[spec.flag];
    if (typeof text !== "string") continue;
    const parsed = parseThreshold(spec, text);
    if (typeof parsed === "string") throw new UsageError(parsed);
    thresholds[spec.key] = parsed;
  }
  const window: { sinceNs?: number; untilNs?: number } = {};
  for (const key of ["since", "until"] as const) {
    const text = values[key];
    if (text === undefined) continue;
    const ns = parseDuration(text);
    if (ns === undefined) throw new UsageError(`--${key} takes a duration such as 250ms or 1.5s, not '${text}'`);
    window[key === "since" ? "sinceNs" : "untilNs"] = ns;
  }
  if (window.sinceNs !== undefined && window.untilNs !== undefined && window.untilNs <= window.sinceNs) {
    throw new UsageError(`--until (${values.until}) must be after --since (${values.since})`);
  }
  const taskFilter = parseTaskFilter(values.task ?? []);
  if (values.json && values.html !== undefined) throw new UsageError("--json and --html go to different places: give one (the HTML file also embeds the data)");
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);

  const options: AnalysisOptions = {
    thresholds,
    ...(window.sinceNs !== undefined || window.untilNs !== undefined ? { window } : {}),
  };
  let report;
  let html: string | undefined;
  try {
    const analysis = analyzeTrace(file, options);
    report = buildReport(file, analysis.summary, analysis.model, {
      lints: analysis.lints,
      slow: analysis.slow,
      ...(taskFilter ? { taskFilter } : {}),
      window,
    });
    if (values.html !== undefined) {
      const timelines = buildTimelines(file, analysis, options, taskFilter ? { taskFilter } : {});
      html = renderHtmlReport(report, timelines);
    }
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(`${file}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "EACCES") throw new CliError(`${file}: cannot read (${code})`);
    throw e;
  }
  if (html !== undefined) {
    try {
      writeFileSync(values.html!, html);
    } catch (e) {
      throw new CliError(`cannot write ${values.html}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  process.stdout.write(
    values.json ? JSON.stringify(report, null, 2) + "\n" : renderTextReport(report, { allTasks: values["all-tasks"] === true }),
  );
  if (html !== undefined) console.error(`trace-report: wrote ${values.html} (${(html.length / 1024).toFixed(0)} KiB)`);
  return 0;
}

await runCli("trace-report", main);
