#!/usr/bin/env node
// trace-report: explains a trace file.
//   trace-report FILE.trace.cbor [--json]

import { parseArgs } from "node:util";
import { existsSync } from "node:fs";
import { runCli, UsageError, CliError } from "./run-cli.js";
import { openTrace } from "../tracefile/trace.js";
import { TraceFileError } from "../tracefile/errors.js";
import { TraceModel } from "../model/trace-model.js";
import { buildReport } from "../report/report-data.js";
import { renderTextReport } from "../report/text-report.js";

const HELP = `Usage:
  trace-report FILE.trace.cbor [--json] [--all-tasks]

Prints what happened in a trace: device and loss, executor load, and a table of tasks with their
state, lifetime and busy / scheduled / idle time, polls and wakes.

Options:
  --json        print the report as JSON (schema "taskscope.report/1", see docs/REPORT.md)
  --all-tasks   list every task (by default finished look-alikes are folded into one row)
  -h, --help    show this help

A file whose last record is incomplete (the writer was killed) is reported up to that record.
A corrupt file gives one line naming the byte offset, and exit status 1.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { json: { type: "boolean" }, "all-tasks": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no trace file given" : "give one trace file");
  const file = positionals[0]!;
  if (!existsSync(file)) throw new CliError(`${file}: no such file`);

  const model = new TraceModel();
  let report;
  try {
    const trace = openTrace(file);
    const summary = trace.forEach((batch, session) =>
      model.consume(batch, { index: session.index, name: (id) => session.names.get(id) }),
    );
    model.finish();
    report = buildReport(file, summary, model);
  } catch (e) {
    if (e instanceof TraceFileError) throw new CliError(`${file}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EISDIR" || code === "EACCES") throw new CliError(`${file}: cannot read (${code})`);
    throw e;
  }
  process.stdout.write(
    values.json ? JSON.stringify(report, null, 2) + "\n" : renderTextReport(report, { allTasks: values["all-tasks"] === true }),
  );
  return 0;
}

await runCli("trace-report", main);
