// "lost-wakeup": a hand-written future loses its wake-up. A UART driver keeps one waker slot,
// filled by the reader's ReadFrame future and woken by the receive interrupt. ReadFrame stores
// its waker only when the buffer is empty; after a burst that ends mid-frame it returns Pending
// without storing one ("more bytes are coming, they will wake us"), but the interrupt's wake finds
// the slot empty. The reader sleeps forever while bytes pile up. The demo application runs
// alongside and finishes normally.
//
// Expected: trace-report's first lint is a lost wake-up of uart-reader at 'uart-reader: read frame'.

import * as ts from "../../../core/index";
import { Executor, Task, Context, Waker, Sleep } from "../../executor/index";
import { App, DemoConfig } from "../app";
import { runWithDeadline, statusText } from "./common";

const T_READER = ts.taskName("uart-reader");
const T_IRQ = ts.taskName("uart-rx-irq");
const SITE_READ = ts.siteName("uart-reader: read frame");
const SITE_IRQ_TICK = ts.siteName("uart-rx-irq: next burst");
const UART_IRQ: u32 = 5;
const FRAME: i32 = 8;
const FRAMES_WANTED: i32 = 40;
// Bytes per receive burst: whole frames, then one burst that ends mid-frame (the 5th).
const BURSTS: StaticArray<i32> = [8, 8, 8, 8, 4, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8];
const BURST_GAP_MS: u32 = 3;

/** The driver: bytes received and one waker slot, shared by every reader. */
class UartRx {
  readonly res: u32;
  bytes: i32 = 0;
  waker: Waker = new Waker();
  constructor() {
    this.res = ts.resourceCreate(ts.RES_IO, ts.resourceName("uart0 rx"), 64);
  }
}

let rx: UartRx | null = null;

/** The buggy future: reads one frame. */
function readFrame(cx: Context): bool {
  const u = rx!;
  if (u.bytes >= FRAME) {
    u.bytes -= FRAME;
    return true;
  }
  // BUG: only an empty buffer registers the waker. With a partial frame buffered the future
  // returns Pending with no waker stored anywhere, so the next interrupt wakes nobody.
  if (u.bytes == 0) u.waker.register(cx);
  cx.park(SITE_READ, u.res);
  return false;
}

class UartReader extends Task {
  frames: i32 = 0;
  poll(cx: Context): bool {
    while (this.frames < FRAMES_WANTED) {
      if (!readFrame(cx)) return false;
      this.frames++;
    }
    return true;
  }
}

/** Stands for the receive interrupt: every few ms a burst of bytes arrives and the stored waker
 *  is woken from "interrupt context" (recorded as WAKE_IRQ). */
class UartIrq extends Task {
  private sleep: Sleep = new Sleep();
  private next: i32 = 0;
  private armed: bool = false;
  poll(cx: Context): bool {
    const u = rx!;
    while (this.next < BURSTS.length) {
      if (!this.armed) {
        this.sleep.startMs(BURST_GAP_MS);
        this.armed = true;
      }
      if (!this.sleep.poll(cx, SITE_IRQ_TICK)) return false;
      this.armed = false;
      ts.isrEnter(UART_IRQ);
      u.bytes += BURSTS[this.next++];
      u.waker.wake();
      ts.isrExit(UART_IRQ);
    }
    return true;
  }
}

export function lostWakeup(): i32 {
  const ex = new Executor();
  const cfg = new DemoConfig();
  cfg.requests = 12;
  const app = new App(ex, cfg);
  rx = new UartRx();
  app.start();
  const reader = new UartReader();
  ex.spawn(reader, T_READER);
  ex.spawn(new UartIrq(), T_IRQ);
  const status = runWithDeadline(ex);
  console.log(`demo lost-wakeup: ${statusText(status)}, ${app.served} requests served, uart-reader got ${reader.frames} of ${FRAMES_WANTED} frames (${rx!.bytes} bytes unread)`);
  return 0;
}
