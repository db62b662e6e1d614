// taskscope example executor: `import { Executor, Task, Context, Channel, Mutex, Sleep } from
// "taskscope/core/executor"` in a firmware of your own (the package's core/executor.ts re-exports this
// file), "../executor" inside this repository. See executor.ts (here) for the model and the demo
// (../demo) for a complete program.

export {
  Executor,
  Task,
  Context,
  Waker,
  WaitQueue,
  executor,
  fail,
  MAX_TASKS,
  RUN_DONE,
  RUN_STUCK,
  RUN_TIMEOUT,
} from "./executor";
export { Channel } from "./channel";
export { Mutex } from "./mutex";
export { Sleep } from "./sleep";
