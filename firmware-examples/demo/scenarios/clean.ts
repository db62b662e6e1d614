// "clean": the demo as it should behave. Every task finishes; the trace shows backpressure on
// the queue, contention on the db mutex and one flow per request with its workers.

import { Executor, RUN_DONE } from "../../executor/index";
import { App, DemoConfig } from "../app";

export function clean(): i32 {
  const ex = new Executor();
  const app = new App(ex, new DemoConfig());
  app.start();
  const status = ex.run();
  if (status != RUN_DONE) {
    console.log(`demo: stuck with ${ex.liveTasks} task(s) left`);
    return 1;
  }
  console.log(`demo: ${app.served} requests served`);
  return 0;
}
