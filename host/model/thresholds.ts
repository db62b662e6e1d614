// The numbers the lints are held to. Defaults suit a microcontroller-class executor (polls of
// tens of microseconds, timers of milliseconds); each is a trace-report flag. This table is the
// one place they are defined: trace-report --help and docs/REPORT.md are checked against it.

export interface Thresholds {
  /** long-poll: a poll at least this long (ns) held the executor. */
  longPollNs: number;
  /** lost-wakeup, deadlock: a task stuck at least this long (ns) before the trace ends. */
  stuckNs: number;
  /** starvation: mean time passed over (other tasks, woken later, run first) at least this many
   *  times the other task names' median... */
  starvationFactor: number;
  /** ...and at least this long (ns). */
  starvationMinNs: number;
  /** late-timer: a timer-driven task polled at least this long (ns) after its deadline. */
  lateTimerNs: number;
  /** self-wake-loop: at least this share (0..1) of a task's wakes are self-wakes... */
  selfWakeRatio: number;
  /** ...and at least this many self-wakes. */
  selfWakeMin: number;
  /** leak: a task alive at the end of the trace, at least this old (ns). */
  leakNs: number;
  /** backpressure: a bounded channel full without a break for at least this long (ns). */
  backpressureNs: number;
  /** slow requests: flows at or above this latency percentile (0..100) of their name... */
  slowPercentile: number;
  /** ...when that percentile is at least this many times the median... */
  slowFactor: number;
  /** ...and at least this much (ns) above it... */
  slowMinNs: number;
  /** ...among at least this many finished flows of the name. */
  slowMinFlows: number;
  /** growing: a channel's level or a task's memory must rise over at least this long (ns). */
  growthMinNs: number;
}

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = Object.freeze({
  longPollNs: 5_000_000,
  stuckNs: 10_000_000,
  starvationFactor: 10,
  starvationMinNs: 1_000_000,
  lateTimerNs: 5_000_000,
  selfWakeRatio: 0.9,
  selfWakeMin: 100,
  leakNs: 100_000_000,
  backpressureNs: 100_000_000,
  slowPercentile: 99,
  slowFactor: 3,
  slowMinNs: 2_000_000,
  slowMinFlows: 20,
  growthMinNs: 100_000_000,
});

export type ThresholdUnit = "duration" | "ratio" | "count" | "factor" | "percentile";

export interface ThresholdSpec {
  key: keyof Thresholds;
  /** trace-report flag, without the dashes. */
  flag: string;
  unit: ThresholdUnit;
  /** One line for --help and docs/REPORT.md. */
  what: string;
}

export const THRESHOLD_SPECS: readonly ThresholdSpec[] = [
  { key: "longPollNs", flag: "long-poll", unit: "duration", what: "a poll at least this long is a long poll (executor hog)" },
  { key: "stuckNs", flag: "stuck", unit: "duration", what: "a lost wake-up or deadlock must last at least this long" },
  { key: "starvationFactor", flag: "starvation-factor", unit: "factor", what: "starved: mean time passed over (tasks woken later ran first) this many times the other tasks' median" },
  { key: "starvationMinNs", flag: "starvation-min", unit: "duration", what: "starved: and a mean time passed over at least this long" },
  { key: "lateTimerNs", flag: "late-timer", unit: "duration", what: "a timer-driven task polled at least this long after its deadline is a late timer" },
  { key: "selfWakeRatio", flag: "self-wake-ratio", unit: "ratio", what: "self-wake loop: at least this share of the task's wakes are self-wakes" },
  { key: "selfWakeMin", flag: "self-wake-min", unit: "count", what: "self-wake loop: and at least this many self-wakes" },
  { key: "leakNs", flag: "leak", unit: "duration", what: "a task alive at the end of the trace and at least this old is reported" },
  { key: "backpressureNs", flag: "backpressure", unit: "duration", what: "a bounded channel full without a break for this long is reported" },
  { key: "slowPercentile", flag: "slow-percentile", unit: "percentile", what: "slow requests: flows at or above this latency percentile of their kind" },
  { key: "slowFactor", flag: "slow-factor", unit: "factor", what: "slow requests: reported when that percentile is this many times the median" },
  { key: "slowMinNs", flag: "slow-min", unit: "duration", what: "slow requests: and at least this much above the median" },
  { key: "slowMinFlows", flag: "slow-min-flows", unit: "count", what: "slow requests: only for kinds with at least this many finished flows" },
  { key: "growthMinNs", flag: "growth-min", unit: "duration", what: "growing: a channel's level or a task's memory must keep rising over at least this long" },
];

export function resolveThresholds(partial: Partial<Thresholds> = {}): Thresholds {
  const out = { ...DEFAULT_THRESHOLDS };
  for (const spec of THRESHOLD_SPECS) {
    const v = partial[spec.key];
    if (v !== undefined) out[spec.key] = v;
  }
  return out;
}

/** Parses a duration such as "5ms", "1.5s", "250us", "250µs", "800ns". Undefined if malformed. */
export function parseDuration(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(ns|us|µs|ms|s|min)\s*$/.exec(text);
  if (!m) return undefined;
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, min: 60e9 }[m[2] as "ns" | "us" | "µs" | "ms" | "s" | "min"];
  return Number(m[1]) * scale;
}

/** Parses a threshold flag's value by its unit; a message naming the problem when it is wrong. */
export function parseThreshold(spec: ThresholdSpec, text: string): number | string {
  if (spec.unit === "duration") {
    const ns = parseDuration(text);
    return ns === undefined ? `--${spec.flag} takes a duration such as 5ms, 250us or 1.5s, not '${text}'` : ns;
  }
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0) return `--${spec.flag} takes a non-negative number, not '${text}'`;
  if (spec.unit === "ratio" && n > 1) return `--${spec.flag} takes a share between 0 and 1, not '${text}'`;
  if (spec.unit === "percentile" && (n <= 0 || n >= 100)) return `--${spec.flag} takes a percentile between 0 and 100 (exclusive), not '${text}'`;
  if (spec.unit === "count" && !Number.isInteger(n)) return `--${spec.flag} takes a whole number, not '${text}'`;
  return n;
}

/** How a default is written in --help and docs ("5ms", "0.9", "99"). */
export function formatThreshold(spec: ThresholdSpec, value: number): string {
  if (spec.unit !== "duration") return String(value);
  if (value % 1e9 === 0) return `${value / 1e9}s`;
  if (value % 1e6 === 0) return `${value / 1e6}ms`;
  if (value % 1e3 === 0) return `${value / 1e3}us`;
  return `${value}ns`;
}
