// Task lifecycle, from spawn to end: state machine and time accounting. Every moment of a task's
// life is in exactly one state, so busy + scheduled + idle == lifetime.
//   scheduled: runnable, waiting for the executor (after spawn or a wake)
//   running:   inside a poll
//   parked:    returned Pending, nobody has woken it yet (idle)
//   done / cancelled: ended

import { Histogram } from "./histogram.js";
import type { TaskConc } from "./concurrency.js";

export type TaskState = "scheduled" | "running" | "parked" | "done" | "cancelled";

/** How a task's record was closed: its end event (done, cancelled), its id spawned again with no
 *  end in between (lost: the end was not recorded), or the trace ended first (alive). */
export type TaskEnd = "done" | "cancelled" | "lost" | "alive";

/** What outlives a task record: enough to name it (lints, flows, mutex holders keep these). */
export interface TaskRef {
  session: number;
  id: number;
  /** The incarnation's number in the model (unique, in order of first sight). */
  index: number;
  name: string;
}

/** Why a parked task has no live waker (see TaskRecord.orphanSince). */
export type OrphanReason = "" | "no-waker-stored" | "waker-dropped";

export interface TaskRecord {
  /** Session index in the trace file; task ids are per session (a reset restarts them). */
  session: number;
  /** Unique number of this incarnation in the model, in order of first sight (ids are reused;
   *  this is not). Ended tasks fold into their TaskGroup; only a few are kept as exemplars. */
  index: number;
  id: number;
  /** 1 for the first task that had this id in the session, 2 after the id was reused, ... */
  incarnation: number;
  name: string;
  /** Small number standing for `name` (the same for every task of that name in the model). */
  nameKey: number;
  /** The same for the parent's name (0: no parent known). */
  parentNameKey: number;
  /** Parent task id in the same session; 0 = spawned from outside any task. */
  parent: number;
  /** The parent's record (the incarnation alive at spawn), -1 if none or not in the trace. */
  parentIndex: number;
  /** The parent's name when it was alive at spawn. */
  parentName: string | undefined;
  flow: number;
  /** ns since the device clock's zero; undefined if the spawn was not in the trace. */
  spawnedAt: number | undefined;
  /** First event seen for the task (= spawnedAt when the spawn was recorded). */
  firstSeen: number;
  endedAt: number | undefined;
  /** Set when the record is closed (TaskEnd). */
  end: TaskEnd | undefined;
  state: TaskState;
  /** When the current state began. */
  since: number;
  busyNs: number;
  scheduledNs: number;
  idleNs: number;
  polls: number;
  wakes: number;
  selfWakes: number;
  firstPollAt: number | undefined;
  lastWakeAt: number | undefined;
  lastPollEndAt: number | undefined;
  /** Await point (site name) and resource of the last Pending; cleared when it runs again. */
  awaitSite: number;
  awaitResource: number;
  /** Waker clones minus drops. */
  liveWakers: number;
  /** A wake arrived while the task was running: the Pending that follows is scheduled again. */
  wokenWhileRunning: boolean;

  // ---- added by the insight engine (host/model/trace-model.ts keeps them up to date) ----
  /** Poll durations (ns). */
  pollTime: Histogram;
  /** Delay from becoming runnable (spawn, wake) to the poll that follows (ns). */
  wakeDelay: Histogram;
  /** Spawn to first poll (ns); undefined until polled or if the spawn is not in the trace. */
  firstPollDelayNs: number | undefined;
  /** Longest poll: duration, start, and the await site it resumed from (0 = none). */
  maxPollNs: number;
  maxPollAt: number;
  maxPollSite: number;
  /** Polls at or above the long-poll threshold, and their total time. */
  longPolls: number;
  longPollNs: number;
  /** When it last became runnable (NaN while not runnable). */
  readySince: number;
  /** Site and resource of the last Pending, kept while it runs again (awaitSite is cleared). */
  lastSite: number;
  lastResource: number;
  /** When the current park began (NaN unless parked or scheduled after a park). */
  parkedAt: number;
  /** Wakes by source; wakes - the three = self-wakes. */
  wakesByTask: number;
  wakesByIrq: number;
  wakesExt: number;
  /** Who made the last wake: a task id (0 for interrupt / external). */
  lastWakeBy: number;
  /** Site of the latest Pending that followed a self-wake in the same poll. */
  selfWakeSite: number;
  /** Parked with no live waker and no wake pending since (NaN otherwise): the lost wake-up state. */
  orphanSince: number;
  orphanReason: OrphanReason;
  /** Task that dropped its last waker (its index), -1 if none / executor. */
  orphanedBy: number;
  orphanedByRef: TaskRef | undefined;
  /** False when the waker count cannot be trusted (spawn not in the trace, count below zero). */
  wakersReliable: boolean;
  /** Resource of the last BLOCKED operation not yet followed by a success on it (0 = none). */
  blockedRes: number;
  /** Its op code (resource-ops table), -1 if none. */
  blockedOp: number;
  blockedSince: number;
  /** Mutex holder when it blocked (its index), -1 if unknown. */
  blockedBy: number;
  /** Starvation: while runnable, the time the executor spent polling tasks that became runnable
   *  after this one (not counting their long polls or interrupt handlers inside them) or idling.
   *  passedOverNs is the current runnable interval's; the sums are per completed interval. */
  passedOverNs: number;
  passedOverSumNs: number;
  passedOverCount: number;
  passedOverMaxNs: number;
  /** Its TaskRef, once asked for (see taskRef). */
  ref: TaskRef | undefined;
  /** Runnable queue links (in order of becoming runnable); null when not queued. */
  rqPrev: TaskRecord | null;
  rqNext: TaskRecord | null;
  queued: boolean;
  /** Armed timer deadline (ns), NaN when none (TIMER_ARM .. TIMER_FIRE). */
  timerDeadline: number;
  /** The last timer that fired: its deadline (NaN: the last wake was not a timer's). */
  firedDeadline: number;
  /** Memory samples (MEM): the latest and the largest, bytes; undefined when never sampled. */
  memBytes: number | undefined;
  memPeak: number | undefined;
  /** Flow served when it parked (time parked is charged to it). */
  waitFlow: number;
  /** The wake that ended the current park came from a task of the same flow. */
  wokenWithinFlow: boolean;
  /** ...and that task's index (-1 otherwise). */
  wokenByIndex: number;
  /** Flows served and begun, waits that overlapped, I/O loops (concurrency.ts); null until used. */
  conc: TaskConc | null;
}

export function newTask(session: number, index: number, id: number, t: number, incarnation: number): TaskRecord {
  return {
    session,
    index,
    id,
    incarnation,
    name: "",
    nameKey: 0,
    parentNameKey: 0,
    parent: 0,
    parentIndex: -1,
    parentName: undefined,
    flow: 0,
    spawnedAt: undefined,
    firstSeen: t,
    endedAt: undefined,
    end: undefined,
    state: "scheduled",
    since: t,
    busyNs: 0,
    scheduledNs: 0,
    idleNs: 0,
    polls: 0,
    wakes: 0,
    selfWakes: 0,
    firstPollAt: undefined,
    lastWakeAt: undefined,
    lastPollEndAt: undefined,
    awaitSite: 0,
    awaitResource: 0,
    liveWakers: 0,
    wokenWhileRunning: false,
    pollTime: new Histogram(),
    wakeDelay: new Histogram(),
    firstPollDelayNs: undefined,
    maxPollNs: 0,
    maxPollAt: 0,
    maxPollSite: 0,
    longPolls: 0,
    longPollNs: 0,
    readySince: t,
    lastSite: 0,
    lastResource: 0,
    parkedAt: Number.NaN,
    wakesByTask: 0,
    wakesByIrq: 0,
    wakesExt: 0,
    lastWakeBy: 0,
    selfWakeSite: 0,
    orphanSince: Number.NaN,
    orphanReason: "",
    orphanedBy: -1,
    orphanedByRef: undefined,
    wakersReliable: true,
    blockedRes: 0,
    blockedOp: -1,
    blockedSince: 0,
    blockedBy: -1,
    passedOverNs: 0,
    passedOverSumNs: 0,
    passedOverCount: 0,
    passedOverMaxNs: 0,
    ref: undefined,
    rqPrev: null,
    rqNext: null,
    queued: false,
    timerDeadline: Number.NaN,
    firedDeadline: Number.NaN,
    memBytes: undefined,
    memPeak: undefined,
    waitFlow: 0,
    wokenWithinFlow: false,
    wokenByIndex: -1,
    conc: null,
  };
}

/** A record for the light model (ModelOptions.analysis: false): the fields observers read
 *  (OBSERVED_TASK_FIELDS in observer.ts), in newTask's order, and none of the analysis's (no
 *  histograms, blame, queue links). About half the memory of a full record, most of it boxed
 *  doubles that every spawned task would otherwise carry into the old generation. Only the light
 *  model makes these, and it touches no other field. A literal of its own, not newTask's with
 *  fields left out or added: one literal is one allocation with every field in the object, and
 *  the type below keeps its fields to OBSERVED_TASK_FIELDS (test/light-model.test.ts compares
 *  their values with the full model's). */
export function newLightTask(session: number, index: number, id: number, t: number, incarnation: number): TaskRecord {
  const rec: LightTaskRecord = {
    session,
    index,
    id,
    incarnation,
    name: "",
    nameKey: 0,
    parentNameKey: 0,
    parent: 0,
    parentIndex: -1,
    parentName: undefined,
    flow: 0,
    spawnedAt: undefined,
    firstSeen: t,
    endedAt: undefined,
    end: undefined,
    state: "scheduled",
    since: t,
    busyNs: 0,
    scheduledNs: 0,
    idleNs: 0,
    polls: 0,
    wakes: 0,
    selfWakes: 0,
    firstPollAt: undefined,
    lastWakeAt: undefined,
    lastPollEndAt: undefined,
    awaitSite: 0,
    awaitResource: 0,
    liveWakers: 0,
    wokenWhileRunning: false,
    readySince: t,
    lastSite: 0,
    lastResource: 0,
    parkedAt: Number.NaN,
    wakesByTask: 0,
    wakesByIrq: 0,
    wakesExt: 0,
    lastWakeBy: 0,
    selfWakeSite: 0,
    orphanSince: Number.NaN,
    orphanReason: "",
    orphanedBy: -1,
    wakersReliable: true,
    ref: undefined,
    queued: false,
    timerDeadline: Number.NaN,
    firedDeadline: Number.NaN,
    memBytes: undefined,
    memPeak: undefined,
  };
  return rec as TaskRecord;
}

/** The fields a light record has (newLightTask). */
type LightTaskRecord = Pick<TaskRecord, (typeof import("./observer.js").OBSERVED_TASK_FIELDS)[number] | "ref">;

/** Adds the time spent in the current state up to `t` and enters `next`. */
export function transition(task: TaskRecord, next: TaskState, t: number): void {
  const spent = t > task.since ? t - task.since : 0;
  switch (task.state) {
    case "running":
      task.busyNs += spent;
      break;
    case "scheduled":
      task.scheduledNs += spent;
      break;
    case "parked":
      task.idleNs += spent;
      break;
    default:
      break;
  }
  task.state = next;
  task.since = t;
}

export function isLive(task: TaskRecord): boolean {
  return task.state !== "done" && task.state !== "cancelled";
}

export function onPollBegin(task: TaskRecord, t: number): void {
  task.polls++;
  if (task.firstPollAt === undefined) task.firstPollAt = t;
  task.wokenWhileRunning = false;
  task.awaitSite = 0;
  task.awaitResource = 0;
  transition(task, "running", t);
}

export function onPollEnd(task: TaskRecord, ready: boolean, t: number): void {
  task.lastPollEndAt = t;
  if (ready) {
    // The task completes; TASK_DONE follows, but Ready alone already ends it.
    transition(task, "done", t);
    task.endedAt = t;
  } else {
    transition(task, task.wokenWhileRunning ? "scheduled" : "parked", t);
  }
}

export function onWake(task: TaskRecord, self: boolean, t: number): void {
  task.wakes++;
  if (self) task.selfWakes++;
  task.lastWakeAt = t;
  if (task.state === "parked") transition(task, "scheduled", t);
  else if (task.state === "running") task.wokenWhileRunning = true;
}

export function onEnd(task: TaskRecord, cancelled: boolean, t: number): void {
  if (task.endedAt === undefined || cancelled) {
    transition(task, cancelled ? "cancelled" : "done", t);
    task.endedAt = task.endedAt ?? t;
  }
}

/** Closes the accounting of a task still alive when the trace ends. */
export function closeAt(task: TaskRecord, t: number): void {
  if (isLive(task)) transition(task, task.state, t);
}

export function lifetimeNs(task: TaskRecord, traceEnd: number): number {
  return (task.endedAt ?? traceEnd) - (task.spawnedAt ?? task.firstSeen);
}

/** A number standing for (session, a name key, a small id): a map key that needs no string.
 *  Falls back to a string when the parts are too large to pack exactly. */
export function packKey(session: number, nameKey: number, small: number): number | string {
  return session < 512 && nameKey < 0x10_0000 && small < 0x40_0000 ? (session * 0x10_0000 + nameKey) * 0x40_0000 + small : `${session}/${nameKey}/${small}`;
}

/** The record's TaskRef (made once and kept: flows, mutex holds and lints share it). */
export function taskRef(t: TaskRecord): TaskRef {
  return (t.ref ??= { session: t.session, id: t.id, index: t.index, name: t.name });
}

/** Whether a parked task with no live waker can be called stuck: only when its whole history is
 *  in the trace (its spawn, hence every waker clone) and the count never went below zero. An
 *  attach mid-run misses clones made before it, so "no waker" means "unknown" there. */
export function wakerCountKnown(t: TaskRecord): boolean {
  return t.wakersReliable && t.spawnedAt !== undefined;
}

/** "stuck": parked with no waker and no wake pending, history complete; "unknown": the same
 *  picture but part of its history is missing; undefined otherwise. */
export function noWakerVerdict(t: TaskRecord): "stuck" | "unknown" | undefined {
  if (t.state !== "parked" || t.liveWakers > 0) return undefined;
  return wakerCountKnown(t) ? "stuck" : "unknown";
}
