// A store tap across threads: trace-pull --wasi records in a worker thread (the program runs
// there and blocks it between clock readings), while the live OTLP export sends from the main
// thread. The worker's TappedTraceWriter hands each stored item to a PortTap, which posts it;
// relayStore replays the items, in the same order, to the main thread's tap. Chunk payloads are
// copied out of the ingest's buffers (a posted view would clone its whole buffer) and moved, not
// copied again.

import type { MessagePort } from "node:worker_threads";
import type { StoreTap } from "./store-tap.js";

type Method = Exclude<keyof StoreTap, "detached">;
type Item = { method: Method; args: unknown[] } | { end: true; error?: string };

/** The worker's side: posts every item; end() says no more will come. */
export class PortTap implements StoreTap {
  constructor(private readonly port: MessagePort) {}

  header(...args: Parameters<StoreTap["header"]>): void {
    this.post("header", args);
  }
  session(...args: Parameters<StoreTap["session"]>): void {
    this.post("session", args);
  }
  names(...args: Parameters<StoreTap["names"]>): void {
    this.post("names", args);
  }
  chunks(index: number, payloads: readonly Uint8Array[]): void {
    const copies = payloads.map((p) => p.slice());
    this.port.postMessage({ method: "chunks", args: [index, copies] } satisfies Item, copies.map((c) => c.buffer));
  }
  counters(...args: Parameters<StoreTap["counters"]>): void {
    this.post("counters", args);
  }
  stalls(...args: Parameters<StoreTap["stalls"]>): void {
    this.post("stalls", args);
  }
  loss(...args: Parameters<StoreTap["loss"]>): void {
    this.post("loss", args);
  }
  footer(...args: Parameters<StoreTap["footer"]>): void {
    this.post("footer", args);
  }
  detached(error: unknown): void {
    this.end(error instanceof Error ? error.message : String(error));
  }

  /** No more items (`error`: the tap failed on this side). */
  end(error?: string): void {
    this.port.postMessage({ end: true, ...(error !== undefined ? { error } : {}) } satisfies Item);
    this.port.close();
  }

  private post(method: Method, args: unknown[]): void {
    this.port.postMessage({ method, args } satisfies Item);
  }
}

/** The main thread's side: items from `port` go to `tap` in order. The promise settles when the
 *  worker said end, or its side of the port went away (the worker stopped). */
export function relayStore(port: MessagePort, tap: StoreTap): Promise<void> {
  return new Promise<void>((resolve) => {
    let detached = false;
    const done = () => {
      port.close();
      resolve();
    };
    port.on("message", (item: Item) => {
      if ("end" in item) {
        if (item.error !== undefined && !detached) tap.detached(new Error(item.error));
        done();
        return;
      }
      if (detached) return;
      try {
        (tap[item.method] as (...a: unknown[]) => void)(...item.args);
      } catch (error) {
        detached = true;
        tap.detached(error);
      }
    });
    port.once("close", resolve);
  });
}
