// OTLP flags shared by trace-export and trace-pull --otlp: their values checked, with the usage
// errors a user sees.

import type { PollMode } from "../export/otlp/mapper.js";
import { OtlpConfigError } from "../export/otlp/config.js";
import { UsageError } from "./run-cli.js";

/** The OTLP flags trace-export and trace-pull --otlp share, for their option tables. */
export const OTLP_SEND_OPTIONS = {
  endpoint: { type: "string" },
  header: { type: "string", multiple: true },
  protocol: { type: "string" },
  timeout: { type: "string" },
  polls: { type: "string" },
  "batch-size": { type: "string" },
  "max-request-bytes": { type: "string" },
  "no-lints": { type: "boolean" },
} as const;

/** A byte count: a whole number, optionally with KiB, MiB (or k, M) after it. */
export function byteSize(value: string, flag: string): number {
  const m = /^(\d+)\s*(k|kib|kb|m|mib|mb)?$/i.exec(value.trim());
  const unit = { "": 1, k: 1024, kib: 1024, kb: 1024, m: 2 ** 20, mib: 2 ** 20, mb: 2 ** 20 }[(m?.[2] ?? "").toLowerCase() as ""];
  const n = m ? Number(m[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1024) throw new UsageError(`${flag} takes a size of at least 1024 bytes (e.g. 4MiB), not '${value}'`);
  return n;
}

export function pollMode(value: string | undefined): PollMode {
  if (value === undefined) return "spans";
  if (value === "spans" || value === "events") return value;
  throw new UsageError(`--polls takes spans or events, not '${value}'`);
}

/** Runs `read` (settings from flags and the environment), turning wrong settings into usage errors. */
export function settings<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof OtlpConfigError) throw new UsageError(e.message);
    throw e;
  }
}
