// A WASI program that records forever (test/cli-signals.test.ts): only a signal to trace-pull
// ends it, so a test can stop it at any moment without racing its end.
import * as ts from "../../core/index";
export * from "../../core/host";

function main(): void {
  const name = ts.taskName("forever");
  ts.init(ts.MODE_OVERWRITE, 1_000_000, "forever-test", "forever-app 1");
  ts.taskSpawn(1, 0, name);
  while (true) {
    ts.pollBegin(1);
    ts.pollEnd(false);
  }
}

main();
