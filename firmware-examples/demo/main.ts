// taskscope demo: an application on the example executor, traced without tracing code in its
// tasks. Run it with `npm run demo` (trace-pull --wasi build/demo.wasm, then the report), or
// pick a scenario: `trace-pull --wasi build/demo.wasm -- <scenario>` (see scenarios/index.ts).
// It prints one line; the puller prints the report.

import * as ts from "../../core/index";
import { runScenario, SCENARIOS, FAILURE_SCENARIOS, DEFAULT_SCENARIO } from "./scenarios/index";

// The host interface (taskscope_drain, ...) the puller calls.
export * from "../../core/host";

// Device ticks are microseconds unless the build says otherwise (`--use DEMO_TICK_HZ=16000000`:
// the bench measures the encoding at several clock rates); the host's clock import counts them.
// @ts-ignore: compile-time constant supplied by --use
const TICK_HZ: u32 = isDefined(DEMO_TICK_HZ) ? DEMO_TICK_HZ : 1_000_000;
ts.init(ts.MODE_OVERWRITE, TICK_HZ, "wasi-demo", "taskscope-demo 0.1");

const argv = process.argv;
const scenario = argv.length > 1 ? argv[1] : DEFAULT_SCENARIO;
const code = runScenario(scenario);
if (code < 0) {
  // (wasi-shim's console.error writes to stdout, which the puller's output shares.)
  process.stderr.write(`demo: unknown scenario "${scenario}" (known: ${SCENARIOS}); failure scenarios: ${FAILURE_SCENARIOS}\n`);
  process.exit(2);
} else if (code != 0) {
  process.exit(code);
}
