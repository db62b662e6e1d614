// The server workload (server.ts) under node:wasi: `trace-pull --wasi build/server.wasm -- [N]`
// serves N requests (default 1000). The tick rate is a build constant (`--use SERVER_TICK_HZ=n`)
// so the bench can measure the encoding at several clock rates.

import * as ts from "../../core/index";
import { runServer, RUN_DONE } from "./server";

export * from "../../core/host";

// @ts-ignore: compile-time constant supplied by --use
const TICK_HZ: u32 = isDefined(SERVER_TICK_HZ) ? SERVER_TICK_HZ : 1_000_000;
ts.init(ts.MODE_OVERWRITE, TICK_HZ, "wasi-server", "taskscope-server 0.1");

const argv = process.argv;
const requests = argv.length > 1 ? <i32>I32.parseInt(argv[1]) : 1000;
const status = runServer(requests);
if (status != RUN_DONE) {
  process.stderr.write("server: did not finish\n");
  process.exit(1);
}
console.log(`server: ${requests} requests served`);
