// The contract between the insight engine (which finds lints) and everything that shows them
// (text, JSON and HTML reports, OTLP span events, Perfetto instants). Fields may be added; none
// may be renamed or removed without updating every consumer.

export type LintKind =
  | "lost-wakeup" // Pending, not running, no live waker, no wake pending
  | "deadlock" // a cycle in the waits-for graph
  | "long-poll" // one poll held the executor longer than a threshold
  | "starvation" // wake-to-poll delay far above the other tasks'
  | "self-wake-loop" // most wakes are self-wakes
  | "leak" // task never finished by the end of the trace
  | "backpressure" // bounded channel full for long
  | "lost-events" // ring overflow or link loss
  | "slow-requests" // the slowest requests of a kind lost their time at one place (added with the insight engine)
  | "late-timer" // a timer-driven task polled well after its deadline, and the poll that held it
  | "serialized" // work structured to overlap whose waits took turns (a loop over independent I/O, a fan-out served one at a time)
  | "growing"; // a channel's fill level or a task's memory that kept rising over the trace

export type LintSeverity = "error" | "warning" | "info";

export interface LintTask {
  session: number;
  id: number;
  name: string;
  /** The incarnation's number in the model (ids are reused; this is not). */
  index?: number;
}

export interface Lint {
  kind: LintKind;
  severity: LintSeverity;
  /** One line naming the cause, e.g. "lost wake-up: sensor-reader parked at 'read sample' with no waker". */
  title: string;
  /** One line on what to do about it. */
  hint: string;
  session: number;
  /** The tasks involved, most relevant first. */
  tasks: LintTask[];
  /** Await site and resource names involved, if any. */
  site?: string;
  resource?: string;
  /** When it starts and (if known) ends: ns since the session's device clock zero. */
  atNs: number;
  untilNs?: number;
  /** Numbers and names backing the lint (durations in ns), for JSON and tooltips. */
  evidence: Record<string, number | string>;
  /** How much it cost (ns: time stuck, delay caused, extra latency...); orders lints of equal severity. */
  impactNs?: number;
  /** Resource id and await-site name id in the session, when the lint names them. */
  resourceId?: number;
  siteId?: number;
}
