// "slow-requests": a few requests are slow, together, because of one shared resource. Requests
// arrive every millisecond; each is handled by its own task that takes the "db" mutex for a short
// query. Once, a backup task takes the same mutex and holds it for a long write: the requests
// arriving meanwhile queue behind it. The p99 of request latency is those requests, clustered in
// time, and the time went to waiting for "db" at 'handler: lock db', held by backup.
//
// Expected: the first lint is slow-requests naming backup (the holder), 'handler: lock db' and
// the resource "db", clustered in time.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Mutex, Sleep } from "../../executor/index";
import { busyFor } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_CLIENT = ts.taskName("client");
const T_HANDLER = ts.taskName("handler");
const T_BACKUP = ts.taskName("backup");
const SITE_CLIENT_GAP = ts.siteName("client: next request");
const SITE_LOCK = ts.siteName("handler: lock db");
const SITE_QUERY = ts.siteName("handler: query");
const SITE_BACKUP_WAIT = ts.siteName("backup: wait schedule");
const SITE_BACKUP_LOCK = ts.siteName("backup: lock db");
const SITE_BACKUP_WRITE = ts.siteName("backup: write snapshot");
const FLOW_ORDERS = ts.flowName("GET /orders");
const REQUESTS: i32 = 400;
const GAP_US: u32 = 1000;
const QUERY_US: u32 = 200;
const BACKUP_AT_MS: u32 = 200;
const BACKUP_HOLD_MS: u32 = 25;

let served: i32 = 0;

class Handler extends Task {
  private state: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly ex: Executor, readonly db: Mutex) {
    super();
  }
  poll(cx: Context): bool {
    if (this.state == 0) {
      busyFor(this.ex, 30);
      this.state = 1;
    }
    if (this.state == 1) {
      if (!this.db.lock(cx, SITE_LOCK)) return false;
      this.sleep.startUs(QUERY_US);
      this.state = 2;
    }
    if (!this.sleep.poll(cx, SITE_QUERY)) return false;
    this.db.unlock();
    served++;
    ts.flowEnd(ts.currentFlow());
    return true;
  }
}

/** Starts one request (a flow, served by a new handler task) every GAP_US. */
class Client extends Task {
  private sleep: Sleep = new Sleep();
  private sent: i32 = 0;
  private armed: bool = false;
  constructor(readonly ex: Executor, readonly db: Mutex) {
    super();
  }
  poll(cx: Context): bool {
    while (this.sent < REQUESTS) {
      if (!this.armed) {
        this.sleep.until(ts.now() + this.ex.ticksFromUs(GAP_US));
        this.armed = true;
      }
      if (!this.sleep.poll(cx, SITE_CLIENT_GAP)) return false;
      this.armed = false;
      ts.flowBegin(FLOW_ORDERS);
      this.ex.spawn(new Handler(this.ex, this.db), T_HANDLER); // inherits the flow
      ts.flowEnter(0); // the client itself does not serve the request
      this.sent++;
    }
    return true;
  }
}

/** Once: takes the db and holds it for a long write. */
class Backup extends Task {
  private state: i32 = 0;
  private sleep: Sleep = new Sleep();
  constructor(readonly db: Mutex) {
    super();
  }
  poll(cx: Context): bool {
    if (this.state == 0) {
      this.sleep.startMs(BACKUP_AT_MS);
      this.state = 1;
    }
    if (this.state == 1) {
      if (!this.sleep.poll(cx, SITE_BACKUP_WAIT)) return false;
      this.state = 2;
    }
    if (this.state == 2) {
      if (!this.db.lock(cx, SITE_BACKUP_LOCK)) return false;
      this.sleep.startMs(BACKUP_HOLD_MS);
      this.state = 3;
    }
    if (!this.sleep.poll(cx, SITE_BACKUP_WRITE)) return false;
    this.db.unlock();
    return true;
  }
}

export function slowRequests(): i32 {
  const ex = new Executor();
  const db = new Mutex("db");
  ex.spawn(new Client(ex, db), T_CLIENT);
  ex.spawn(new Backup(db), T_BACKUP);
  const status = runWithDeadline(ex);
  console.log(`demo slow-requests: ${statusText(status)}, ${served} of ${REQUESTS} requests served`);
  return 0;
}
