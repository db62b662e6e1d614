// Ctrl-C and SIGTERM for the commands. While nothing needs doing on a signal, none is listened
// for and the default action ends the process at once, even inside synchronous code. While
// something does (a temporary file to remove, a job to stop, a stream to end with its closing
// dump), one listener hands the signal to the latest handler, or, with none, removes what was
// registered and exits. Register before creating what must be cleaned up: a signal that comes
// between the two would otherwise end the process with the file left behind.
// A stopped command exits as a shell expects: 128 + the signal's number (130, 143).

import { isatty } from "node:tty";
import { writeSync } from "node:fs";
import { constants } from "node:os";

type Handler = (signal: NodeJS.Signals) => void;

const SIGNALS = ["SIGINT", "SIGTERM"] as const;
const handlers: Handler[] = [];
const cleanups = new Set<() => void>();
let listening = false;

/** 2 for SIGINT, 15 for SIGTERM. */
export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}

/** `handler` takes SIGINT and SIGTERM until the returned function is called. */
export function handleSignals(handler: Handler): () => void {
  handlers.push(handler);
  listen();
  return () => {
    const at = handlers.lastIndexOf(handler);
    if (at >= 0) handlers.splice(at, 1);
    settle();
  };
}

/** Runs `cleanup` (removing a temporary copy, say) if the command ends by a signal; returns a
 *  function that forgets it. */
export function cleanupOnSignal(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  listen();
  return () => {
    cleanups.delete(cleanup);
    settle();
  };
}

/** Hands `signal` to the current handler as if it had arrived (a terminal in raw mode sends
 *  Ctrl-C as a key, not a signal; the live console's q means the same); false when no handler
 *  takes it: nothing is running that a signal would stop. */
export function deliverSignal(signal: NodeJS.Signals): boolean {
  const handler = handlers.at(-1);
  if (!handler) return false;
  handler(signal);
  return true;
}

function dispatch(signal: NodeJS.Signals): void {
  const handler = handlers.at(-1);
  if (handler) handler(signal);
  else exitForSignal(signal);
}

function listen(): void {
  if (listening) return;
  listening = true;
  for (const s of SIGNALS) process.on(s, dispatch);
}

function settle(): void {
  if (!listening || handlers.length > 0 || cleanups.size > 0) return;
  listening = false;
  for (const s of SIGNALS) process.off(s, dispatch); // back to the default action
}

/**
 * Removes what was registered with cleanupOnSignal and exits for `signal`. process.exit waits
 * for every thread, and one blocked in a system call (a FIFO that no writer opened yet, a pipe
 * nobody reads) never ends: unless the caller knows the threads are idle, the signal is raised
 * again with its default action instead, which ends the process at once with the same status.
 */
export function exitForSignal(signal: NodeJS.Signals, options: { threadsIdle?: boolean } = {}): never {
  for (const cleanup of [...cleanups]) {
    try {
      cleanup();
    } catch {
      // best effort: the process is ending
    }
  }
  if (isatty(2)) {
    try {
      writeSync(2, "\r\x1b[K"); // a progress line may be showing
    } catch {
      // the terminal is gone
    }
  }
  if (options.threadsIdle) process.exit(128 + signalNumber(signal));
  for (const s of SIGNALS) process.removeAllListeners(s);
  process.kill(process.pid, signal);
  // Delivery to this process is immediate; should it not be, do not linger.
  process.exit(128 + signalNumber(signal));
}
