// What the model tells the parts that draw or export a trace while it reads it. The model
// (trace-model.ts) is the one pass that follows task state; the HTML timeline, both exporters
// (through host/export/timeline.ts) and the live view see the trace only through these calls,
// so every guard the model applies (a task first seen mid-run, an id reused without an end, a
// poll whose begin is not in the trace, a stale wake) holds for all of them at once.
//
// Records passed in are the model's own: read them, do not change them. A task's record is live
// from taskStart to taskEnd; after taskEnd it may be dropped (folded into its TaskGroup). An
// observer reads only OBSERVED_TASK_FIELDS and OBSERVED_RESOURCE_FIELDS of them: the light model
// (ModelOptions.analysis: false, what the exports run) keeps those as the full one does and
// leaves the analysis figures empty.

import type { ResourceRecord } from "./resources.js";
import type { TaskEnd, TaskRecord } from "./tasks.js";

/** What an observer may read of a task's record: the same in the light and the full model. */
export const OBSERVED_TASK_FIELDS = [
  "session", "index", "id", "incarnation", "name", "nameKey", "parentNameKey", "parent", "parentIndex", "parentName", "flow",
  "spawnedAt", "firstSeen", "endedAt", "end", "state", "since", "busyNs", "scheduledNs", "idleNs", "polls", "wakes", "selfWakes",
  "firstPollAt", "lastWakeAt", "lastPollEndAt", "awaitSite", "awaitResource", "liveWakers", "wokenWhileRunning", "readySince",
  "lastSite", "lastResource", "parkedAt", "wakesByTask", "wakesByIrq", "wakesExt", "lastWakeBy", "selfWakeSite", "orphanSince",
  "orphanReason", "orphanedBy", "wakersReliable", "timerDeadline", "firedDeadline", "memBytes", "memPeak", "queued",
] as const satisfies readonly (keyof TaskRecord)[];

/** What an observer may read of a resource's record. */
export const OBSERVED_RESOURCE_FIELDS = [
  "session", "index", "id", "kind", "name", "capacity", "createdAt", "droppedAt", "level", "maxLevel", "ops",
] as const satisfies readonly (keyof ResourceRecord)[];

export type WakeKind = "task" | "self" | "irq" | "external";

/** How a poll ended: its Ready or Pending event, or "cut": the next poll of the executor began,
 *  or the task ended or the trace did, with no end event for it. */
export type PollResult = "ready" | "pending" | "cut";

export interface ObservedSession {
  index: number;
  /** First event time (ns since the device clock's zero). */
  firstT: number;
  /** Last event time seen so far. */
  lastT: number;
}

export interface ModelObserver {
  sessionStart?(session: ObservedSession): void;
  /** Called before each event at `t` is handled (for work that is due by time, e.g. lints). */
  advance?(session: number, t: number): void;
  /** A task appears: its spawn (task.spawnedAt set), or its first event when the spawn is not in
   *  the trace. `parent` is the live spawner, when known. */
  taskStart?(task: TaskRecord, parent: TaskRecord | undefined, t: number): void;
  pollBegin?(task: TaskRecord, t: number): void;
  /** A poll of `task` ran over [start, end]. */
  poll?(task: TaskRecord, start: number, end: number, result: PollResult): void;
  /** `task` is polled at `pollAt`: it was parked from `parkedAt` (NaN: not parked, e.g. just
   *  spawned) and runnable from `readyAt` (NaN if unknown). */
  resumed?(task: TaskRecord, parkedAt: number, readyAt: number, pollAt: number): void;
  /** The current poll parks `task` at await site `site` (name id) on `resource` (0: none). */
  await?(task: TaskRecord, site: number, resource: ResourceRecord | undefined, t: number): void;
  /** `task` was woken at `t` by `by` (a task, live or just ended; itself for "self"), or by
   *  interrupt `irq`, or from outside the executor. */
  wake?(task: TaskRecord, by: TaskRecord | undefined, kind: WakeKind, t: number, irq: number): void;
  /** The record is closed. "alive": the session ended with the task alive. */
  taskEnd?(task: TaskRecord, end: TaskEnd, t: number): void;
  flowBegin?(session: number, task: TaskRecord | undefined, flow: number, name: string, t: number): void;
  flowEnd?(session: number, task: TaskRecord | undefined, flow: number, t: number): void;
  /** task.flow changed from `previous` (FLOW_ENTER). */
  flowEnter?(task: TaskRecord, previous: number, t: number): void;
  /** `args` is reused for the next log line: copy it to keep it. */
  log?(session: number, task: TaskRecord | undefined, t: number, level: number, format: string, args: readonly number[]): void;
  mark?(session: number, task: TaskRecord | undefined, t: number, name: string): void;
  counter?(session: number, task: TaskRecord | undefined, t: number, name: string, value: number): void;
  memory?(task: TaskRecord, t: number, bytes: number): void;
  resourceOp?(session: number, task: TaskRecord | undefined, t: number, resource: ResourceRecord, op: number, outcome: number, level: number): void;
  idle?(session: number, begin: boolean, t: number): void;
  interrupt?(session: number, enter: boolean, irq: number, t: number): void;
  /** `task` armed a timer for `deadline` (ns). */
  timerArm?(task: TaskRecord, t: number, deadline: number): void;
  /** `task`'s timer fired at `t`, `t - deadline` after its deadline (deadline NaN: not known). */
  timerFire?(task: TaskRecord, t: number, deadline: number): void;
  /** The session is about to close: its live tasks end ("alive") right after this. */
  sessionClosing?(session: ObservedSession): void;
  sessionEnd?(session: ObservedSession): void;
}

/** Calls every observer: the model holds one, whatever the number of parts listening. */
export function fanOut(observers: ModelObserver[]): ModelObserver {
  if (observers.length === 1) return observers[0]!;
  const out: ModelObserver = {};
  const keys = new Set<keyof ModelObserver>();
  for (const o of observers) for (const k of Object.keys(o) as (keyof ModelObserver)[]) keys.add(k);
  // Methods on prototypes (class instances) are not own keys: collect those too.
  for (const o of observers) {
    let proto = Object.getPrototypeOf(o) as object | null;
    while (proto && proto !== Object.prototype) {
      for (const k of Object.getOwnPropertyNames(proto)) if (k !== "constructor") keys.add(k as keyof ModelObserver);
      proto = Object.getPrototypeOf(proto) as object | null;
    }
  }
  for (const k of keys) {
    const targets = observers.filter((o) => typeof o[k] === "function");
    (out as Record<string, unknown>)[k] = (...args: unknown[]) => {
      for (const o of targets) (o[k] as (...a: unknown[]) => void).apply(o, args);
    };
  }
  return out;
}
