// Scenario registry. The demo runs the scenario named by its first argument (WASI argv[1]):
//   trace-pull --wasi build/demo.wasm -- <scenario>
// To add one: write scenarios/<name>.ts exporting `function <name>(): i32` (exit code; print
// one short line to stdout, nothing else), import it here, add it to SCENARIOS and the switch.
// Reuse ../app (DemoConfig knobs, task classes) and end the run yourself if it gets stuck:
// Executor.run() returns RUN_STUCK instead of sleeping forever.

import { clean } from "./clean";

/** Scenario names, for the usage message. */
export const SCENARIOS = "clean";

export const DEFAULT_SCENARIO = "clean";

/** Runs scenario `name`; returns its exit code, or -1 if there is no such scenario. */
export function runScenario(name: string): i32 {
  if (name == "clean") return clean();
  return -1;
}
