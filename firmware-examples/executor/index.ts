// taskscope example executor: `import { Executor, Task, Context, Channel, Mutex, Sleep } from
// "../executor"`. See executor.ts for the model and the demo (../demo) for a complete program.

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
