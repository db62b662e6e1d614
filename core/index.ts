// taskscope device core: `import * as ts from "taskscope"`.
//
// Call `init` once at start-up, intern names into ids (`taskName`, `siteName`, ...), and call the
// event functions from the executor. Nothing here allocates: rings and tables are static
// (sizes in config.ts, set with `asc --use`). The host interface lives in ./host.

export {
  MODE_OVERWRITE,
  MODE_STOP,
  RES_CHANNEL,
  RES_MUTEX,
  RES_TIMER,
  RES_IO,
  OP_SEND,
  OP_RECV,
  OP_ACQUIRE,
  OP_RELEASE,
  OUTCOME_OK,
  OUTCOME_BLOCKED,
  OUTCOME_UNBLOCKED,
  CAT_TASK,
  CAT_POLL,
  CAT_WAKE,
  CAT_AWAIT,
  CAT_RESOURCE,
  CAT_FLOW,
  CAT_LOG,
  CAT_MARK,
  CAT_MEM,
  CAT_IDLE,
  CAT_ISR,
  CAT_TIMER,
  CAT_ALL,
} from "./wire";

export { CHUNK_SIZE, CHUNK_COUNT, NAMES_BYTES, MAX_TASKS } from "./config";
export { init, resendInfo } from "./session";
export { tickHz } from "./clock";
export { nowTicks as now } from "./ring";
export {
  filter,
  setFilter,
  taskSpawn,
  pollBegin,
  pollEnd,
  taskEnd,
  wake,
  wakeByTask,
  wakeAndDrop,
  wakeByTaskAndDrop,
  wakeByIrq,
  wakeExternal,
  wakerClone,
  wakerDrop,
  awaitAt,
  resourceCreate,
  resourceOp,
  resourceDrop,
  flowBegin,
  flowEnd,
  flowEnter,
  flowEnterTask,
  currentFlow,
  timerArm,
  timerFire,
  timerFireWake,
  log0,
  log1,
  log2,
  log3,
  log4,
  mark,
  counter,
  memSample,
  idleBegin,
  idleEnd,
  isrEnter,
  isrExit,
} from "./events";
export { currentTask, recordedEvents as eventsRecorded } from "./ring";
export { drainInto, drainPending, transferBuffer } from "./drain";
export { flushRing as flush } from "./ring";

import { intern } from "./names";
import { NAME_TASK, NAME_SITE, NAME_RESOURCE, NAME_FORMAT, NAME_MARK, NAME_COUNTER, NAME_FLOW } from "./wire";
export { intern };

/** Interns a task name; returns its id (0 if the names table is full). */
export function taskName(text: string): u32 {
  return intern(NAME_TASK, text);
}
/** Interns an await-point name, e.g. "worker: recv job". */
export function siteName(text: string): u32 {
  return intern(NAME_SITE, text);
}
export function resourceName(text: string): u32 {
  return intern(NAME_RESOURCE, text);
}
/** Interns a log format; `{}` stands for each argument. */
export function logFormat(text: string): u32 {
  return intern(NAME_FORMAT, text);
}
export function markName(text: string): u32 {
  return intern(NAME_MARK, text);
}
export function counterName(text: string): u32 {
  return intern(NAME_COUNTER, text);
}
export function flowName(text: string): u32 {
  return intern(NAME_FLOW, text);
}
