// Ending a command that was stopped by Ctrl-C or SIGTERM, as a shell expects: status 128 + the
// signal's number (130, 143), with the progress line cleared.

import { isatty } from "node:tty";
import { writeSync } from "node:fs";
import { constants } from "node:os";

/** 2 for SIGINT, 15 for SIGTERM. */
export function signalNumber(signal: NodeJS.Signals): number {
  return constants.signals[signal] ?? 0;
}

/**
 * Exits for `signal`. process.exit waits for every thread, and one blocked in a system call (a
 * FIFO that no writer opened yet, a pipe nobody reads) never ends: unless the caller knows the
 * threads are idle, the signal is raised again with its default action instead, which ends the
 * process at once with the same status as seen by a shell.
 */
export function exitForSignal(signal: NodeJS.Signals, options: { threadsIdle?: boolean } = {}): never {
  runCleanups();
  if (isatty(2)) {
    try {
      writeSync(2, "\r\x1b[K");
    } catch {
      // the terminal is gone
    }
  }
  if (options.threadsIdle) process.exit(128 + signalNumber(signal));
  process.removeAllListeners(signal); // back to the default action
  process.kill(process.pid, signal);
  // Delivery to this process is immediate; should it not be, do not linger.
  process.exit(128 + signalNumber(signal));
}

const onExit = new Set<() => void>();

/** Runs `cleanup` if the command ends by a signal (removing a temporary copy, say); returns a
 *  function that forgets it. */
export function cleanupOnSignal(cleanup: () => void): () => void {
  onExit.add(cleanup);
  return () => onExit.delete(cleanup);
}

function runCleanups(): void {
  for (const cleanup of [...onExit]) {
    try {
      cleanup();
    } catch {
      // best effort: the process is ending
    }
  }
  onExit.clear();
}
