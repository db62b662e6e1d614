// Shared shell for the commands: one-line errors instead of stack traces, exit codes, argument
// errors that say which flag is wrong, and a quiet end when the reader of standard output goes
// away (`trace-report --json | head`). TASKSCOPE_DEBUG=1 shows stacks.

import { safeText } from "../report/units.js";
import { OutputError, ioErrorText } from "../export/output.js";
import { TOOL_VERSION } from "./version.js";

/** An error meant for the user: printed as one line, exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    /** Follow the message with "Try 'PROGRAM --help'." */
    readonly helpHint = false,
  ) {
    super(message);
  }
}

/** Wrong flags or arguments: exit code 2, like most Unix tools. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2, true);
  }
}

/** The reader of standard output went away: stop quietly, as `cmd | head` expects (status 0,
 *  like ripgrep; the shell's pipefail still sees the reader's status). */
export class PipeClosed extends CliError {
  constructor() {
    super("standard output closed", 0);
  }
}

/** "trace-report (taskscope) 0.1.0" */
export function versionLine(program: string): string {
  return `${program} (taskscope) ${TOOL_VERSION}`;
}

export async function runCli(program: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw e;
  });
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    code = report(program, e);
  }
  process.exitCode = code;
}

/** Prints `e` as the user should see it; returns the exit status. */
export function report(program: string, e: unknown): number {
  if (process.env["TASKSCOPE_DEBUG"] === "1") console.error(e);
  const say = (line: string) => console.error(`${program}: ${safeText(line)}`);
  if (e instanceof PipeClosed || (e as NodeJS.ErrnoException)?.code === "EPIPE") return 0;
  if (e instanceof CliError) {
    say(e.message);
    if (e.helpHint) console.error(`Try '${program} --help'.`);
    return e.exitCode;
  }
  if (e instanceof OutputError) {
    say(e.message); // an output that cannot be used (the input itself, a directory...)
    return 1;
  }
  const io = systemCallMessage(e);
  if (io) {
    say(io);
    return 1;
  }
  // Anything else is a bug in taskscope, not bad input; still one line plus a pointer.
  say(`internal error: ${(e as Error)?.message ?? String(e)} (set TASKSCOPE_DEBUG=1 for details)`);
  return 70;
}

/** A system call that failed where no caller expected it (a full disk, say), in words; undefined
 *  for anything else. */
export function systemCallMessage(e: unknown): string | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!err || typeof err.code !== "string" || typeof err.syscall !== "string") return undefined;
  return `${err.syscall === "write" ? "cannot write" : `${err.syscall} failed`}${err.path ? ` ${err.path}` : ""}: ${ioErrorText(err)}`;
}
