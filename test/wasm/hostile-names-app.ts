// A WASI program whose device, firmware, task, await-site and resource names carry terminal
// escape sequences, newlines and HTML (test/cli-manners.test.ts): whatever a trace says, the
// reports must print it as text, never let it drive the terminal or the page.
import * as ts from "../../core/index";
export * from "../../core/host";

function main(): void {
  ts.init(ts.MODE_OVERWRITE, 1_000_000, "dev\x1b[31mRED\x1b[0m", "fw 1\nlost: nothing (forged line)");
  const evil = ts.taskName("evil\x1b]0;pwned\x07\x1b[2J");
  const html = ts.taskName("</script><img src=x onerror=\"document.title='pwned'\">");
  const site = ts.siteName("wait\x1b[1A\rhere");
  const res = ts.resourceCreate(ts.RES_CHANNEL, ts.resourceName("chan\u202eevil"), 4);
  ts.taskSpawn(1, 0, evil);
  ts.taskSpawn(2, 0, html);
  // Task 1 parks with no waker: a lost wake-up that names it. Task 2 polls and finishes.
  ts.pollBegin(1);
  ts.awaitAt(site, res);
  ts.pollEnd(false);
  ts.pollBegin(2);
  ts.pollEnd(true);
  ts.taskEnd(2, false);
  // Let device time pass so the lost wake-up lasts (a few KiB of marks: the ring holds them).
  const tick = ts.markName("tick");
  for (let i = 0; i < 2000; i++) ts.mark(tick);
}

main();
