// The trace file a command reads. A regular file is read where it is. Standard input ("-"), a
// FIFO or a character device is first copied to a temporary file, asynchronously: the reader
// needs a file it can read at any offset (and the exports read it twice), and while the copy
// waits for a writer Ctrl-C and SIGTERM still end the command.

import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync, fstatSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { CliError } from "./run-cli.js";
import { cleanupOnSignal } from "./signals.js";
import { ioErrorText } from "../export/output.js";

export interface TraceInput {
  /** As the user named it ("-" for standard input): for messages and reports. */
  name: string;
  /** The file to read. */
  path: string;
  /** Removes the temporary copy, if one was made. */
  release(): void;
}

export async function openInput(name: string): Promise<TraceInput> {
  const isStdin = name === "-";
  let st;
  try {
    st = isStdin ? fstatSync(0) : statSync(name);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") throw new CliError(`${name}: no such file`);
    throw new CliError(`${name}: cannot read (${code ?? ioErrorText(e)})`);
  }
  if (st.isDirectory()) throw new CliError(`${name}: cannot read (EISDIR)`);
  if (st.isFile()) return { name, path: isStdin ? "/dev/stdin" : name, release: () => {} };
  return spool(name, isStdin);
}

/** Copies a stream input to a temporary file. A signal meanwhile removes it and ends the
 *  command (a thread may be blocked opening the FIFO: the exit never waits for it). */
async function spool(name: string, isStdin: boolean): Promise<TraceInput> {
  let dir: string | undefined;
  const remove = (): void => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const forget = cleanupOnSignal(remove); // first: a signal from here on removes the copy
  dir = mkdtempSync(join(tmpdir(), "taskscope-input-"));
  const path = join(dir, "input.trace.cbor");
  const source = isStdin ? createReadStream("", { fd: 0, autoClose: false }) : createReadStream(name);
  try {
    await pipeline(source, createWriteStream(path));
  } catch (e) {
    remove();
    forget();
    throw new CliError(`${name}: cannot read (${ioErrorText(e)})`);
  }
  return {
    name,
    path,
    release: () => {
      remove();
      forget();
    },
  };
}
