// "leak": the demo application, except that every 4th request also spawns an audit task that
// waits for an acknowledgement nobody ever sends, and nobody keeps its handle. The application
// finishes; the audit tasks never do.
//
// Expected: the first lint is a leak of the 'audit' tasks, parked at 'audit: wait ack' on
// "audit-acks", spawned by http-server (which has ended).

import { Executor } from "../../executor/index";
import { App, DemoConfig } from "../app";
import { runWithDeadline, statusText } from "./common";

export function leak(): i32 {
  const ex = new Executor();
  const cfg = new DemoConfig();
  cfg.requests = 16;
  cfg.auditEvery = 4;
  const app = new App(ex, cfg);
  app.start();
  const status = runWithDeadline(ex);
  console.log(`demo leak: ${statusText(status)}, ${app.served} requests served, ${ex.liveTasks} task(s) never finished`);
  return 0;
}
