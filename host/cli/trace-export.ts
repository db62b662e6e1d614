#!/usr/bin/env node
// trace-export: a trace file into OpenTelemetry (OTLP file or OTLP/HTTP) or Perfetto.
//   trace-export --otlp FILE.trace.cbor [-o OUT.json|OUT.pb] [--endpoint URL [--header K=V]...]
//   trace-export --perfetto FILE.trace.cbor [-o OUT.pftrace | -o OUT.json]
// This file reads the flags and prints; the export runs in a worker thread (export-job.ts), so
// Ctrl-C and SIGTERM end it at once and leave no partial output.

import { basename, dirname, join } from "node:path";
import { parseArgs } from "./args.js";
import { openInput } from "./input.js";
import { runJob } from "./job.js";
import { writeStdout, note } from "./stdio.js";
import { planOutput } from "../export/output.js";
import { redactOutput } from "../export/otlp/redact.js";
import { headerSecrets } from "../export/otlp/config.js";
import { UsageError, runCli, versionLine } from "./run-cli.js";
import { TOOL_VERSION } from "./version.js";
import { OTLP_SEND_OPTIONS } from "./otlp-flags.js";
import type { ExportJobInput, ExportJobResult } from "./export-job.js";

const help = (defaultBatchSize: number, defaultMaxRequestBytes: number) => `Usage:
  trace-export --otlp FILE.trace.cbor [-o OUT.json | -o OUT.pb] [--endpoint URL [--header KEY=VALUE]...]
  trace-export --perfetto FILE.trace.cbor [-o OUT.pftrace | -o OUT.json]

--otlp turns the trace into OpenTelemetry traces: a trace per device session and per request
(flow), a span per task under the span of the task that spawned it, polls as child spans, wakes
as links, lints and logs as span events (docs/EXPORT.md has the whole mapping).
--perfetto writes a Perfetto trace (protobuf TrackEvent) that ui.perfetto.dev opens: a track per
task nested under its executor, slices for polls, arrows for wakes, counters for channel fill and
memory; --format json writes Chrome trace-event JSON instead (speedscope reads it too).
FILE "-" reads the trace from standard input.

OTLP options:
  -o, --output FILE       write OTLP requests: protobuf if FILE ends in .pb (each request after its
                          4-byte length), JSON Lines otherwise ("-" for standard output)
  --format json|protobuf  the file format, whatever the name
  --endpoint URL          send over OTLP/HTTP; a URL with no path gets /v1/traces; https uses TLS
  --header KEY=VALUE      a request header, e.g. an API key (repeat for more); never printed
  --protocol PROTOCOL     http/protobuf (default) or http/json
  --timeout MS            time for one batch, retries included (default 10000)
  --polls spans|events    polls as child spans (default) or as events on the task's span
  --batch-size N          spans per request at most (default ${defaultBatchSize})
  --max-request-bytes N   bytes per request at most, e.g. 4MiB (default ${defaultMaxRequestBytes / 2 ** 20}MiB): a collector
                          refuses larger ones

Perfetto options:
  -o, --output FILE       default: FILE with .pftrace (or .perfetto.json) in place of .trace.cbor
                          ("-" for standard output)
  --format protobuf|json  protobuf (default; JSON when FILE ends in .json)

Both:
  --no-lints              leave out the lints (lost wake-ups, deadlocks, long polls, ...): OTLP and
                          Perfetto JSON find them in a pass over the file before their own
  --json                  print a summary of what was written or sent as JSON on standard output
                          (schema "taskscope.export/1"; not with -o -)
  -h, --help              show this help
  --version               show the version

An existing output file is replaced only when the export succeeded: a failed or interrupted
export (Ctrl-C, SIGTERM) leaves it as it was. The trace itself is never written over (-o naming
the input is refused), and a device or FIFO given as -o (/dev/null) is written, not replaced.

Environment (the OpenTelemetry standard ones; flags win): OTEL_EXPORTER_OTLP_ENDPOINT,
OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_OTLP_COMPRESSION (gzip),
OTEL_EXPORTER_OTLP_CERTIFICATE (a private CA), OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
OTEL_SPAN_EVENT_COUNT_LIMIT, OTEL_SPAN_LINK_COUNT_LIMIT. An endpoint in the environment sends
when no -o is given; with -o, only --endpoint sends.

Exit status: 0 done; 1 unreadable or corrupt trace, unwritable output, or a collector that
could not be reached or refused the data; 2 wrong arguments; 130/143 stopped by Ctrl-C/SIGTERM.`;

const OPTIONS = {
  otlp: { type: "boolean" },
  perfetto: { type: "boolean" },
  output: { type: "string", short: "o" },
  format: { type: "string" },
  ...OTLP_SEND_OPTIONS,
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Values never to print: the header values given by flag or environment (the worker redacts
 *  what it says too; this catches anything else written to stderr). */
let secrets: string[] = [];
redactOutput([process.stderr], () => secrets);

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  secrets = [...headerSecrets(process.env), ...(values.header ?? []).map((h) => h.slice(h.indexOf("=") + 1)).filter((v) => v.length > 0)];
  if (values.help) {
    // The OTLP modules are loaded by the worker only; --help alone reads the default from them.
    const { DEFAULT_BATCH_SIZE, DEFAULT_MAX_REQUEST_BYTES } = await import("../export/otlp/export.js");
    writeStdout(help(DEFAULT_BATCH_SIZE, DEFAULT_MAX_REQUEST_BYTES) + "\n");
    return 0;
  }
  if (values.version) {
    writeStdout(versionLine("trace-export") + "\n");
    return 0;
  }
  if (values.otlp && values.perfetto) throw new UsageError("choose one of --otlp and --perfetto (run twice for both)");
  if (!values.otlp && !values.perfetto) throw new UsageError("choose what to export: --otlp or --perfetto");
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? "no trace file given" : `give one trace file, not ${positionals.length}`);
  const file = positionals[0]!;
  let perfettoFormat: "protobuf" | "json" | undefined;
  if (values.perfetto) {
    for (const flag of ["endpoint", "header", "protocol", "timeout", "polls", "batch-size", "max-request-bytes"] as const) {
      if (values[flag] !== undefined) throw new UsageError(`--${flag} is an OTLP option; it does nothing with --perfetto`);
    }
    perfettoFormat = formatOfPerfetto(values.output, values.format);
  }
  const output = perfettoFormat ? (values.output ?? defaultPerfettoOutput(file, perfettoFormat)) : values.output;
  if (values.json && output === "-") throw new UsageError("--json prints the summary on standard output, and -o - writes the export there: give -o FILE");

  const input = await openInput(file);
  let result: ExportJobResult;
  try {
    const plans = output !== undefined ? [planOutput(output, [input.path])] : [];
    const job: ExportJobInput = {
      kind: values.perfetto ? "perfetto" : "otlp",
      name: file,
      path: input.path,
      output,
      lints: !values["no-lints"],
      format: perfettoFormat ?? values.format,
      endpoint: values.endpoint,
      header: values.header,
      protocol: values.protocol,
      timeout: values.timeout,
      polls: values.polls,
      batchSize: values["batch-size"],
      maxRequestBytes: values["max-request-bytes"],
      toolVersion: TOOL_VERSION,
      env: { ...process.env },
    };
    result = await runJob<ExportJobResult>(new URL("./export-job.js", import.meta.url), job, { outputs: plans });
  } finally {
    input.release(); // before printing: nothing is left to clean up, so Ctrl-C ends a stalled print at once
  }
  if (values.json) {
    writeStdout(JSON.stringify({ ...result.summary, input: file }, null, 2) + "\n");
    for (const n of result.notes) if (/^(warning|note):/.test(n)) note("trace-export", n);
  } else {
    for (const n of result.notes) note("trace-export", n);
  }
  return 0;
}

function defaultPerfettoOutput(file: string, format: "protobuf" | "json"): string {
  const ext = format === "json" ? "perfetto.json" : "pftrace";
  if (file === "-") return `stdin.${ext}`;
  const name = basename(file).replace(/(\.trace)?\.cbor$/, "");
  return join(dirname(file), `${name}.${ext}`);
}

/** Perfetto's output format: the flag, else JSON for a .json file, else protobuf. */
function formatOfPerfetto(output: string | undefined, flag: string | undefined): "protobuf" | "json" {
  if (flag !== undefined) {
    if (flag === "json" || flag === "protobuf") return flag;
    throw new UsageError(`--format takes protobuf or json, not '${flag}'`);
  }
  return output !== undefined && /\.json$/i.test(output) ? "json" : "protobuf";
}

await runCli("trace-export", main);
