// The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core. The
// report of the demo's cpu-hog scenario must render its lanes with slices drawn, load nothing
// from the network, and move the timeline to a lint when the lint is clicked, pinning the lint's
// tasks at the top. A screenshot of that state is kept in test-output/ (gitignored) for a human
// to look at. (html-scale.test.ts: folded lanes, the slow-requests and deadlock scenarios.)
//
// Needs build/demo.wasm, dist/ (npm run build) and /usr/bin/chromium.

import { describe, it, expect } from "vitest";
import { COLOURS, countPixels, expectOffline, expectViewCovers, openScenarioReport, rows, screenshot, timelineNumber, useReport } from "./support/html-page.js";

describe("HTML report in headless Chromium", () => {
  const report = useReport(() => openScenarioReport("cpu-hog"));

  it("is one self-contained file: no request leaves the page, no script error", () => {
    expectOffline(report());
  });

  it("draws every task: a lane each for the kept ones, one shared lane per name for look-alikes", async () => {
    const { payload, page } = report();
    const tl = payload.timelines[0]!;
    // The 30 fetch tasks fold into one lane; decoder and gateway keep their own.
    const fetch = tl.lanes.filter((l) => l.label.startsWith("fetch"));
    expect(fetch.map((l) => [l.task, l.label])).toEqual([[-1, "fetch x30"]]);
    expect(tl.lanes.filter((l) => l.task >= 0).map((l) => l.label).sort()).toEqual(["decoder (1)", "gateway (2)"]);
    // Every task is in exactly one lane (its own, or its name's shared lane).
    const total = payload.taskGroups.reduce((n, g) => n + g.count, 0) + payload.tasks.filter((t) => t.end === "alive").length;
    expect(tl.lanes.reduce((n, l) => n + l.shared, 0)).toBe(total);
    // Every kept task has a row to go to: its lane, or a sub-lane of its name's shared lane.
    for (const t of payload.tasks) {
      expect(tl.lanes.some((l) => l.task === t.index) || tl.subLanes.some((s) => s.task === t.index), t.name).toBe(true);
    }
    const shown = await rows(page);
    expect(shown.map((x) => x.label)).toEqual(tl.lanes.map((l) => l.label));
    expect(await page.textContent("#timeline-note")).toContain("Every poll is drawn");
    // A drawn poll is at least 1 px wide and a lane minus 6 px (12 px) tall; at full zoom a real
    // run's polls are often a single pixel wide, so "drawn" is what is asserted, not an area.
    const ONE_POLL = 12;
    expect(await countPixels(page, COLOURS.poll)).toBeGreaterThanOrEqual(ONE_POLL);
    expect(await countPixels(page, COLOURS.longPoll)).toBeGreaterThanOrEqual(ONE_POLL);
    expect(await page.$$eval(".lint", (els) => els.length)).toBe(payload.report.lints.length);
  });

  it("moves the timeline to a lint when it is clicked, pinning its tasks at the top", async () => {
    const { payload, page } = report();
    const lint = payload.report.lints[0]!;
    expect(lint.kind).toBe("long-poll");
    const tl = payload.timelines[0]!;
    const before = [await timelineNumber(page, "data-view-start"), await timelineNumber(page, "data-view-end")];
    expect(before[1]! - before[0]!).toBeCloseTo(tl.durationNs, -3);

    await page.click(".lint >> nth=0");
    const { start, end, at, until } = await expectViewCovers(page, lint, tl.startNs);
    // Zoomed in on it: its span with a margin of 30% each side (how long the lint is depends on
    // the run, so the bound does too).
    expect(end - start).toBeLessThanOrEqual(Math.max(until - at, tl.durationNs / 2000, 20_000) * 1.6 + 1);
    expect(end - start).toBeLessThan(tl.durationNs);
    expect(await page.getAttribute("#timeline", "data-selected-lint")).toBe("0");
    expect(await page.getAttribute(".lint >> nth=0", "class")).toContain("selected");
    // The lint names the decoder and the fetch tasks it delayed (sub-lanes of "fetch x30"): all
    // of them are the first rows now, highlighted.
    const named = lint.tasks.map((t) => t.index!);
    expect(await page.getAttribute("#timeline", "data-pinned")).toBe(named.join(","));
    const shown = await rows(page);
    expect(shown.slice(0, named.length).map((x) => x.task)).toEqual(named);
    expect(shown.slice(0, named.length).every((x) => x.cls.includes("pinned") && x.cls.includes("hl"))).toBe(true);
    expect(shown[0]!.label).toBe("decoder (1)");
    expect(shown.slice(1, named.length).every((x) => x.sub >= 0 && x.label.startsWith("fetch ("))).toBe(true);
    // The long poll fills the marked part of the view: red pixels where the lint is, in the
    // decoder's row (the first).
    const x0 = (at - start) / (end - start);
    const x1 = (until - start) / (end - start);
    expect(await countPixels(page, COLOURS.longPoll, { x0, x1, y0: 0, y1: 18 })).toBeGreaterThan(100);
    await screenshot(page, "html-report-lint.png");
  });

  it("zooms with the wheel and returns to the whole trace", async () => {
    const { page } = report();
    const box = (await page.$("#lanes"))!;
    const b = (await box.boundingBox())!;
    const before = (await timelineNumber(page, "data-view-end")) - (await timelineNumber(page, "data-view-start"));
    await page.mouse.move(b.x + b.width / 2, b.y + 10);
    await page.mouse.wheel(0, 300);
    const after = (await timelineNumber(page, "data-view-end")) - (await timelineNumber(page, "data-view-start"));
    expect(after).toBeGreaterThan(before);
    await page.click("#fit");
    expect(await timelineNumber(page, "data-view-start")).toBe(0);
  });
});
