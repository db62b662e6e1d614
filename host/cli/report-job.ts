// trace-report's long part, run in a worker thread (job.ts): reads the trace through the
// analysis with a progress line, builds the report and renders it; writes the HTML file.

import { statSync } from "node:fs";
import { analyzeTrace, type AnalysisOptions } from "../model/analyze.js";
import { buildReport } from "../report/report-data.js";
import { matchesPattern, parseTaskFilter } from "../report/task-filter.js";
import { formatCount } from "../report/units.js";
import { TraceFileError } from "../tracefile/errors.js";
import { closestWord } from "./args.js";
import { CliError } from "./run-cli.js";
import { StepMeter } from "./progress.js";
import type { JobContext } from "./job-worker.js";

export interface ReportJobInput {
  /** The trace as the user named it, and the file to read. */
  name: string;
  path: string;
  analysis: AnalysisOptions;
  window: { sinceNs?: number; untilNs?: number };
  taskPatterns: string[];
  json: boolean;
  allTasks: boolean;
  color: boolean;
  /** HTML output: a file, "-" (the result's stdout), or none. */
  html: string | undefined;
}

export interface ReportJobResult {
  /** What goes to standard output. */
  stdout: string;
  /** Bytes of the HTML file written (not for "-"). */
  htmlBytes: number | undefined;
  warnings: string[];
  /** Error lints in the report (--fail-on error). */
  errors: number;
}

// (The text, HTML and timeline modules are loaded only for the output asked for.)
export async function run(input: ReportJobInput, context: JobContext): Promise<ReportJobResult> {
  const { progress } = context;
  const size = statSync(input.path).size;
  const meter = new StepMeter("reading");
  const taskFilter = parseTaskFilter(input.taskPatterns);
  try {
    const analysis = analyzeTrace(input.path, input.analysis, (p) =>
      progress.update(() => meter.text(p.bytesRead, size, [`${formatCount(p.events)} events`])),
    );
    progress.update("building the report...", true);
    const report = buildReport(input.name, analysis.summary, analysis.model, {
      lints: analysis.lints,
      slow: analysis.slow,
      ...(taskFilter ? { taskFilter } : {}),
      window: input.window,
    });
    const warnings: string[] = [];
    if (taskFilter) {
      const names = [...new Set(analysis.model.tasks.map((t) => t.name))];
      taskFilter.patterns.forEach((pattern, i) => {
        if (report.tasks.some((t) => matchesPattern(taskFilter, i, t))) return;
        const guess = pattern.includes("*") || /^\d+$/.test(pattern) ? undefined : closestWord(pattern, names);
        const windowed = input.window.sinceNs !== undefined || input.window.untilNs !== undefined;
        warnings.push(`warning: --task '${pattern}' matches no task${windowed ? " in the window" : ""}${guess ? ` (did you mean '${guess}'?)` : ""}`);
      });
    }
    let html: string | undefined;
    if (input.html !== undefined) {
      progress.update("building the HTML timeline (reads the trace again)...", true);
      const [{ renderHtmlReport }, { buildTimelines }] = await Promise.all([import("../report/html-report.js"), import("../report/timeline.js")]);
      html = renderHtmlReport(report, buildTimelines(input.path, analysis, input.analysis, taskFilter ? { taskFilter } : {}));
    }
    progress.done();
    const errors = report.lints.filter((l) => l.severity === "error").length;
    if (html !== undefined && input.html === "-") return { stdout: html, htmlBytes: undefined, warnings, errors };
    const htmlBytes = html !== undefined ? (await import("../export/output.js")).writeOutputFile(input.html!, html, { inputs: [input.path] }) : undefined;
    const stdout = input.json ? JSON.stringify(report, null, 2) + "\n" : (await import("../report/text-report.js")).renderTextReport(report, { allTasks: input.allTasks, color: input.color });
    return { stdout, htmlBytes, warnings, errors };
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(`${input.name}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === "EISDIR" || code === "EACCES") && (e as NodeJS.ErrnoException).syscall !== "write") throw new CliError(`${input.name}: cannot read (${code})`);
    throw e;
  }
}
