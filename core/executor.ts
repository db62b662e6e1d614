// taskscope/core/executor: the example async executor (tasks, spawn/join/cancel, Channel, Mutex,
// Sleep, wakers) as a package entry, so a firmware writes
//   import { Executor, Task, Context, Channel, Mutex, Sleep } from "taskscope/core/executor";
// asc 0.28 resolves "taskscope/core/executor" to this file by path (it does not read package.json
// "exports"), hence a file under core/ (the package layout keeps its top level fixed). The sources stay in firmware-examples/executor/;
// their README documents the API and what each call records.

export * from "../firmware-examples/executor/index";
