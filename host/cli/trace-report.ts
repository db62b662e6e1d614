#!/usr/bin/env node
// trace-report: explains a trace file: lints first (the failures found, most important first),
// then executor load, tasks, spawn tree, resources and request flows. Text, JSON or HTML.
// The reading and analysis run in a worker thread (report-job.ts), so Ctrl-C is always heard.

import { runCli, UsageError, versionLine } from "./run-cli.js";
import { parseArgs, parseWholeNumber } from "./args.js";
import { openInput } from "./input.js";
import { runJob } from "./job.js";
import { useColour } from "./colour.js";
import { writeStdout, note } from "./stdio.js";
import { planOutput, writeOutputFile } from "../export/output.js";
import { formatCount } from "../report/units.js";
import type { ReportJobInput, ReportJobResult } from "./report-job.js";
import { DEFAULT_THRESHOLDS, THRESHOLD_SPECS, formatThreshold, parseDuration, parseThreshold, type Thresholds } from "../model/thresholds.js";

const thresholdHelp = THRESHOLD_SPECS.map((s) => {
  const flag = `  --${s.flag} ${s.unit === "duration" ? "DUR" : "N"}`;
  return `${flag.padEnd(31)}${s.what} (default ${formatThreshold(s, DEFAULT_THRESHOLDS[s.key])})`;
}).join("\n");

// The analysis, the report's modules and --compare's are loaded only where used (the analysis
// runs in the worker): loading them here took 50 ms before every report.
const help = (schema: string): string => `Usage:
  trace-report FILE.trace.cbor [--json | --html OUT.html] [options]
  trace-report --compare BASE.trace.cbor NEW.trace.cbor [--json | --html OUT.html] [--fail-on regression]

Explains a trace: first the lints (lost wake-ups, deadlocks, long polls, starvation, self-wake
loops, leaks, backpressure, slow requests, serialized work, growing queues and memory, lost
events), most important first, each with the task, await site and time it concerns and a hint;
then executor load, the task table, the spawn tree, resources and request flows with the
slow-request analysis.

FILE "-" reads the trace from standard input.

Options:
  --json                       print the report as JSON (schema "${schema}", docs/REPORT.md)
  --html OUT.html              also write a self-contained HTML report with a timeline ("-": print
                               it instead of the text report)
  --all-tasks                  list every task (by default finished look-alikes are folded into one row)
  --since DUR, --until DUR     only this window, measured from each session's first event (e.g. 250ms, 1.5s)
  --task NAME|ID               only tasks whose name (* matches anything) or id matches; repeatable
  --compare                    compare two traces (BASE NEW): per request kind, await site, resource
                               and task name what got slower or faster (Kolmogorov-Smirnov test,
                               p<0.01, and the median moved by at least --regression-threshold),
                               concurrency per request kind, lints that appeared or went away;
                               with --html OUT.html also as a self-contained page
  --regression-threshold PCT   smallest change of the median that counts (default 10)
  --fail-on regression|error   exit 1 when --compare finds a regression, or when the report has an
                               error lint
  -h, --help                   show this help
  --version                    show the version

Lint thresholds (DUR is a duration such as 5ms, 250us, 1.5s):
${thresholdHelp}

On a terminal a progress line shows how far the reading is, and the text report is coloured
(NO_COLOR=1 turns colour off, FORCE_COLOR=1 on). Strings from the trace are printed escaped.
An existing --html file is replaced only when the report succeeded; Ctrl-C leaves it as it was.

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
      compare: { type: "boolean" },
      "regression-threshold": { type: "string" },
      "fail-on": { type: "string" },
      help: { type: "boolean", short: "h" },
      version: { type: "boolean" },
      ...thresholdOptions,
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    const { REPORT_SCHEMA } = await import("../report/report-data.js");
    writeStdout(help(REPORT_SCHEMA) + "\n");
    return 0;
  }
  if (values.version) {
    writeStdout(versionLine("trace-report") + "\n");
    return 0;
  }
  const failOn = values["fail-on"];
  if (failOn !== undefined && failOn !== "regression" && failOn !== "error") throw new UsageError(`--fail-on takes regression or error, not '${failOn}'`);
  if (values.compare) {
    if (positionals.length !== 2) throw new UsageError("--compare takes two trace files: BASE NEW");
    if (failOn === "error") throw new UsageError("--fail-on error is for a single report; with --compare use --fail-on regression");
    if (values.json && values.html !== undefined) throw new UsageError("--json and --html go to different places: give one (the HTML file also embeds the data)");
    const [{ analyzeTrace }, { compareAnalyses, DEFAULT_REGRESSION_THRESHOLD }, { compareText }, { renderCompareHtml }] = await Promise.all([
      import("../model/analyze.js"), import("../report/compare.js"), import("../report/compare-text.js"), import("../report/compare-html.js"),
    ]);
    const text = values["regression-threshold"];
    const threshold = text === undefined ? DEFAULT_REGRESSION_THRESHOLD : Number(text) / 100;
    if (!(threshold >= 0) || (text !== undefined && !/^\d+(\.\d+)?$/.test(text))) throw new UsageError(`--regression-threshold takes a percentage such as 10, not '${text}'`);
    const [a, b] = [await openInput(positionals[0]!), await openInput(positionals[1]!)];
    try {
      const html = values.html;
      if (html !== undefined) planOutput(html, [a.path, b.path]); // refused before the work, not after
      // (In this thread: two analyses, then a comparison of their distributions.)
      const c = compareAnalyses(analyzeTrace(a.path), analyzeTrace(b.path), threshold);
      c.base = positionals[0]!;
      c.new = positionals[1]!;
      if (html === "-") writeStdout(renderCompareHtml(c));
      else writeStdout(values.json ? JSON.stringify(c, null, 2) + "\n" : compareText(c));
      if (html !== undefined && html !== "-") {
        const bytes = writeOutputFile(html, renderCompareHtml(c), { inputs: [a.path, b.path] });
        note("trace-report", `wrote ${html} (${formatCount(Math.round(bytes / 1024))} KiB)`);
      }
      return failOn === "regression" && c.regressions > 0 ? 1 : 0;
    } finally {
      a.release();
      b.release();
    }
  }
  if (failOn === "regression") throw new UsageError("--fail-on regression needs --compare BASE NEW");
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no trace file given" : "give one trace file");
  const file = positionals[0]!;
  const opts = values as Record<string, string | boolean | string[] | undefined>;

  const thresholds: Partial<Thresholds> = {};
  for (const spec of THRESHOLD_SPECS) {
    const text = opts[spec.flag];
    if (typeof text !== "string") continue;
    if (spec.unit === "count") parseWholeNumber(text, `--${spec.flag}`);
    else if (spec.unit !== "duration" && !/^(\d+(\.\d+)?|\.\d+)$/.test(text)) throw new UsageError(`--${spec.flag} takes a plain number such as 0.9 or 4, not '${text}'`);
    const parsed = parseThreshold(spec, text);
    if (typeof parsed === "string") throw new UsageError(parsed);
    thresholds[spec.key] = parsed;
  }
  const window: { sinceNs?: number; untilNs?: number } = {};
  for (const key of ["since", "until"] as const) {
    const text = values[key];
    if (text === undefined) continue;
    if (text.trim().startsWith("-")) throw new UsageError(`--${key} counts from each session's first event and cannot be negative: '${text}'`);
    const ns = parseDuration(text);
    if (ns === undefined) throw new UsageError(`--${key} takes a duration such as 250ms or 1.5s, not '${text}'`);
    window[key === "since" ? "sinceNs" : "untilNs"] = ns;
  }
  if (window.sinceNs !== undefined && window.untilNs !== undefined && window.untilNs <= window.sinceNs) {
    throw new UsageError(`--until (${values.until}) must be after --since (${values.since})`);
  }
  if (values.json && values.html !== undefined) throw new UsageError("--json and --html go to different places: give one (the HTML file also embeds the data)");

  const input = await openInput(file);
  let result: ReportJobResult;
  try {
    const htmlPlan = values.html !== undefined ? planOutput(values.html, [input.path]) : undefined;
    const job: ReportJobInput = {
      name: file,
      path: input.path,
      analysis: { thresholds, ...(window.sinceNs !== undefined || window.untilNs !== undefined ? { window } : {}) },
      window,
      taskPatterns: values.task ?? [],
      json: values.json === true,
      allTasks: values["all-tasks"] === true,
      color: values.json !== true && useColour(1),
      html: values.html,
    };
    // A 16 MiB young generation: a fifth less CPU than 8 on 10 M events, with the same peak RSS
    // (88 MiB on the bench traces, 1 M or 10 M events alike).
    result = await runJob<ReportJobResult>(new URL("./report-job.js", import.meta.url), job, { outputs: htmlPlan ? [htmlPlan] : [], youngGenerationMb: 16 });
  } finally {
    input.release(); // before printing: nothing is left to clean up, so Ctrl-C ends a stalled print at once
  }
  writeStdout(result.stdout);
  for (const w of result.warnings) note("trace-report", w);
  if (result.htmlBytes !== undefined) note("trace-report", `wrote ${values.html} (${formatCount(Math.round(result.htmlBytes / 1024))} KiB)`);
  if (failOn === "error" && result.errors > 0) return 1;
  return 0;
}

await runCli("trace-report", main);
