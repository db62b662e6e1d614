// The baseline process of the command benchmarks: reads a trace file through the project's own
// decoder and nothing else, as the first step of every command does.
//   node dist/bench/decode-file.js FILE [PASSES]
// prints {"events":N,"passS":[...]} on stdout: the first pass is cold (fresh process, JIT not
// warmed up), the later ones warm.

import { openTrace } from "../host/tracefile/trace.js";

const [file, passesArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: decode-file.js FILE [PASSES]");
  process.exit(2);
}
const passS: number[] = [];
let events = 0;
for (let i = 0; i < Number(passesArg ?? 1); i++) {
  const start = performance.now();
  events = openTrace(file).forEach(() => undefined).totals.events;
  passS.push((performance.now() - start) / 1000);
}
console.log(JSON.stringify({ events, passS }));
