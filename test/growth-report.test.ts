// The `growing` lint reaches every place that shows lints, from the model's one pass: the demo's
// queue-growing scenario (an unbounded channel filling for the whole run) gives an HTML report
// whose first lint, in a real browser (headless Chromium), is the growing channel, and a
// Perfetto export (trace-export, a real process) that carries it as a lint.
//
// Needs build/demo.wasm, dist/ (npm run build) and /usr/bin/chromium.

import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { spawnSync } from "node:child_process";
import { ROOT } from "./support/core-harness.js";
import { expectOffline, openScenarioReport, useReport } from "./support/html-page.js";

describe("the growing lint in the HTML report and the Perfetto export", () => {
  const report = useReport(() => openScenarioReport("queue-growing"));

  it("the HTML report lists it, naming the channel and both sides", async () => {
    const { page, payload } = report();
    expectOffline(report());
    const lints = payload.report.lints.filter((l) => l.kind === "growing");
    expect(lints.map((l) => l.resource)).toEqual(["samples"]);
    const shown = await page.$$eval(".lint", (els) => els.map((e) => (e.textContent ?? "").trim()));
    expect(shown.some((t) => /growing: channel 'samples' \(unbounded\) grew from \d+ to \d+ items over \d+ms \(\+\d+\/s\), sent to by sampler, received by uploader/.test(t)), shown.join("\n")).toBe(true);
  });

  it("trace-export --perfetto carries it", () => {
    const { trace } = report();
    const out = join(dirname(trace), "queue.json");
    const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli/trace-export.js"), "--perfetto", trace, "-o", out], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(out, "utf8")).toMatch(/growing: channel 'samples' \(unbounded\)/);
  });
});
