// A WASI program that records a little and then traps: the puller must keep everything recorded
// before the trap (test/cli.test.ts).
import * as ts from "../../core/index";
export * from "../../core/host";

function main(): void {
  const name = ts.taskName("doomed");
  ts.init(ts.MODE_OVERWRITE, 1_000_000, "trap-test", "trap-app 1");
  ts.taskSpawn(1, 0, name);
  for (let i = 0; i < 500; i++) {
    ts.pollBegin(1);
    ts.pollEnd(false);
  }
  unreachable();
}

main();
