// A store tap across threads: trace-pull --wasi records in a worker thread (the program runs
// there and blocks it between clock readings), while the live OTLP export sends from the main
// thread. The worker's TappedTraceWriter hands each stored item to a portTap, which posts it;
// relayStore replays the items, in the same order, to the main thread's tap. Chunk payloads are
// copied out of the ingest's buffers (a posted view would clone its whole buffer) and moved, not
// copied again.

import type { MessagePort } from "node:worker_threads";
import type { StoreTap } from "./store-tap.js";

type Method = Exclude<keyof StoreTap, "detached">;
type Item = { method: Method; args: unknown[] } | { end: true; error?: string };

/** The worker's side: a tap that posts every item; end() says no more will come. */
export function portTap(port: MessagePort): StoreTap & { end(error?: string): void } {
  const post =
    (method: Method) =>
    (...args: unknown[]): void =>
      port.postMessage({ method, args } satisfies Item);
  const end = (error?: string): void => {
    port.postMessage({ end: true, ...(error !== undefined ? { error } : {}) } satisfies Item);
    port.close();
  };
  return {
    header: post("header"),
    session: post("session"),
    names: post("names"),
    chunks(index, payloads) {
      const copies = payloads.map((p) => p.slice());
      port.postMessage({ method: "chunks", args: [index, copies] } satisfies Item, copies.map((c) => c.buffer));
    },
    counters: post("counters"),
    stalls: post("stalls"),
    loss: post("loss"),
    footer: post("footer"),
    detached: (error) => end(error instanceof Error ? error.message : String(error)),
    end,
  };
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
