// A bounded channel between tasks. Sends park when it is full, receives park when it is empty;
// every operation is recorded as a RES_OP with the fill level afterwards, so backpressure shows
// in the trace as BLOCKED sends and a level pinned at capacity.
//
// Each message carries the sender's flow (the request it serves); the receiver enters that flow
// on receipt, so a request can be followed across a hand-off.

import * as ts from "../../core/index";
import { Context, WaitQueue, executor, fail } from "./executor";

export class Channel<T> {
  /** Resource id in the trace. */
  readonly res: u32;
  private buf: StaticArray<T>;
  private flows: StaticArray<u32>;
  private head: i32 = 0;
  private count: i32 = 0;
  private lastIndex: i32 = 0;
  private senders: WaitQueue = new WaitQueue();
  private receivers: WaitQueue = new WaitQueue();

  /** Creates (and records) a channel holding up to `capacity` messages. Call after ts.init().
   *  `unbounded`: recorded with capacity 0 (no bound) and sends never park, as a heap-backed queue
   *  would; `capacity` is then only its storage, and a send beyond it fails the program. */
  constructor(name: string, readonly capacity: i32, readonly unbounded: bool = false) {
    if (capacity < 1) fail("Channel capacity must be >= 1");
    this.buf = new StaticArray<T>(capacity);
    this.flows = new StaticArray<u32>(capacity);
    this.res = ts.resourceCreate(ts.RES_CHANNEL, ts.resourceName(name), unbounded ? 0 : <u32>capacity);
  }

  /** Messages waiting in the channel. */
  get length(): i32 {
    return this.count;
  }

  /** Sends `value` if there is room and returns true. If the channel is full, parks the polled
   *  task at `site` and returns false: return Pending and call send again with the same value
   *  when polled next. */
  send(cx: Context, value: T, site: u32): bool {
    const ex = executor();
    if (this.count == this.capacity) {
      if (this.unbounded) fail("unbounded Channel: out of storage");
      ex.markBlocked(cx, this.res);
      ts.resourceOp(this.res, ts.OP_SEND, ts.OUTCOME_BLOCKED, <u32>this.count);
      this.senders.register(cx);
      cx.park(site, this.res);
      return false;
    }
    const i = (this.head + this.count) % this.capacity;
    unchecked((this.buf[i] = value));
    unchecked((this.flows[i] = ts.currentFlow()));
    this.count++;
    ts.resourceOp(this.res, ts.OP_SEND, ex.outcomeFor(cx, this.res), <u32>this.count);
    this.receivers.wakeOne();
    return true;
  }

  /** Receives a message if there is one and returns true (read it with `received` right away);
   *  if the channel is empty, parks the polled task at `site` and returns false. */
  recv(cx: Context, site: u32): bool {
    const ex = executor();
    if (this.count == 0) {
      ex.markBlocked(cx, this.res);
      ts.resourceOp(this.res, ts.OP_RECV, ts.OUTCOME_BLOCKED, 0);
      this.receivers.register(cx);
      cx.park(site, this.res);
      return false;
    }
    const i = this.head;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    this.lastIndex = i;
    ts.resourceOp(this.res, ts.OP_RECV, ex.outcomeFor(cx, this.res), <u32>this.count);
    // A message sent outside any request carries no flow and leaves the receiver's flow alone.
    const flow = unchecked(this.flows[i]);
    if (flow != 0) ts.flowEnter(flow);
    this.senders.wakeOne();
    return true;
  }

  /** The message the last successful recv took. Valid until the next send into its slot, i.e.
   *  read it in the same poll, before sending to this channel. */
  get received(): T {
    return unchecked(this.buf[this.lastIndex]);
  }
}
