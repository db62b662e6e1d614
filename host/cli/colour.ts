// Whether a command colours what it writes: never off a terminal unless asked, never when the
// user said no. NO_COLOR (no-color.org) and FORCE_COLOR (force-color.org) count when set to a
// non-empty value; FORCE_COLOR=0 or false means no colour; FORCE_COLOR wins over NO_COLOR, as
// in Node itself.

import { isatty } from "node:tty";

export function useColour(fd: number, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") return force !== "0" && force.toLowerCase() !== "false";
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  return isatty(fd) && env["TERM"] !== "dumb";
}
