// Shared shell for the commands: one-line errors instead of stack traces, exit codes, and
// argument errors that say which flag is wrong. TASKSCOPE_DEBUG=1 shows stacks.

/** An error meant for the user: printed as one line, exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Wrong flags or arguments: exit code 2, like most Unix tools. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
  }
}

export async function runCli(program: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (e) {
    code = report(program, e);
  }
  process.exitCode = code;
}

function report(program: string, e: unknown): number {
  if (process.env["TASKSCOPE_DEBUG"] === "1") console.error(e);
  if (e instanceof CliError) {
    console.error(`${program}: ${e.message}`);
    if (e instanceof UsageError) console.error(`Try '${program} --help'.`);
    return e.exitCode;
  }
  const err = e as NodeJS.ErrnoException;
  if (err && typeof err === "object" && "code" in err && err.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    console.error(`${program}: ${err.message}`);
    console.error(`Try '${program} --help'.`);
    return 2;
  }
  if (err && typeof err === "object" && typeof err.code === "string" && err.code.startsWith("ERR_PARSE_ARGS")) {
    console.error(`${program}: ${err.message}`);
    return 2;
  }
  // Anything else is a bug in taskscope, not bad input; still one line plus a pointer.
  console.error(`${program}: internal error: ${(e as Error)?.message ?? String(e)} (set TASKSCOPE_DEBUG=1 for details)`);
  return 70;
}
