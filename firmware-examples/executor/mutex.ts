// An async mutex: lock parks the polled task while another task holds it. Acquire and release
// are recorded as RES_OPs with the number of holders (0 or 1) as the level; waiting shows as a
// BLOCKED acquire, an AWAIT on the mutex, and later an UNBLOCKED acquire.

import * as ts from "../../core/index";
import { Context, WaitQueue, executor } from "./executor";

export class Mutex {
  /** Resource id in the trace. */
  readonly res: u32;
  private owner: u32 = 0; // handle of the holder, 0 when free
  private waiters: WaitQueue = new WaitQueue();

  /** Creates (and records) a mutex. Call after ts.init(). */
  constructor(name: string) {
    this.res = ts.resourceCreate(ts.RES_MUTEX, ts.resourceName(name), 1);
  }

  get isLocked(): bool {
    return this.owner != 0;
  }

  /** Task id of the holder (0 when free). */
  get holder(): u32 {
    return this.owner & 0xffff;
  }

  /** Takes the mutex and returns true, or parks the polled task at `site` and returns false.
   *  Not reentrant: locking a mutex the task already holds parks it forever (a deadlock the
   *  executor reports as stuck). A task that can be cancelled while holding it must unlock in
   *  Task.onCancel; a holder that ends without unlocking leaves its waiters stuck, on purpose:
   *  that is the bug the trace should show. */
  lock(cx: Context, site: u32): bool {
    const ex = executor();
    if (this.owner != 0) {
      ex.markBlocked(cx, this.res);
      ts.resourceOp(this.res, ts.OP_ACQUIRE, ts.OUTCOME_BLOCKED, 1);
      this.waiters.register(cx);
      cx.park(site, this.res);
      return false;
    }
    this.owner = cx.handle;
    ts.resourceOp(this.res, ts.OP_ACQUIRE, ex.outcomeFor(cx, this.res), 1);
    return true;
  }

  /** Releases the mutex and wakes the longest waiter (which then competes for it on its poll). */
  unlock(): void {
    if (this.owner == 0) return;
    this.owner = 0;
    ts.resourceOp(this.res, ts.OP_RELEASE, ts.OUTCOME_OK, 0);
    this.waiters.wakeOne();
  }
}
