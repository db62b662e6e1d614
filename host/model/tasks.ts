// Task lifecycle, from spawn to end: state machine and time accounting. Every moment of a task's
// life is in exactly one state, so busy + scheduled + idle == lifetime.
//   scheduled: runnable, waiting for the executor (after spawn or a wake)
//   running:   inside a poll
//   parked:    returned Pending, nobody has woken it yet (idle)
//   done / cancelled: ended

export type TaskState = "scheduled" | "running" | "parked" | "done" | "cancelled";

export interface TaskRecord {
  /** Session index in the trace file; task ids are per session (a reset restarts them). */
  session: number;
  /** Position in TraceModel.tasks. */
  index: number;
  id: number;
  /** 1 for the first task that had this id in the session, 2 after the id was reused, ... */
  incarnation: number;
  name: string;
  /** Parent task id in the same session; 0 = spawned from outside any task. */
  parent: number;
  /** The parent's record (the incarnation alive at spawn), -1 if none or not in the trace. */
  parentIndex: number;
  flow: number;
  /** ns since the device clock's zero; undefined if the spawn was not in the trace. */
  spawnedAt: number | undefined;
  /** First event seen for the task (= spawnedAt when the spawn was recorded). */
  firstSeen: number;
  endedAt: number | undefined;
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
}

export function newTask(session: number, index: number, id: number, t: number, incarnation: number): TaskRecord {
  return {
    session,
    index,
    id,
    incarnation,
    name: "",
    parent: 0,
    parentIndex: -1,
    flow: 0,
    spawnedAt: undefined,
    firstSeen: t,
    endedAt: undefined,
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
  };
}

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
