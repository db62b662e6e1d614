// The HTML timeline that scales, in a real browser (Debian's Chromium, headless, playwright-core):
//   - slow-requests (a handler task per request): one shared lane for the handlers that lists
//     each task when expanded; clicking the lint pins the slow handlers and the mutex holder at
//     the top, in view; requests in flight drawn per kind;
//   - deadlock: the cycle drawn in the lint (members, channels, arrows) and across the members'
//     lanes, pinned at the top; a lock-order ring of three drawn the same way.
// Screenshots go to test-output/ (gitignored) for a human to look at.
//
// Needs build/demo.wasm, dist/ (npm run build) and /usr/bin/chromium.

import { describe, it, expect } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { COLOURS, countPixels, expectOffline, expectViewCovers, openReport, openScenarioReport, rows, screenshot, timelineNumber, useReport } from "./support/html-page.js";
import { TraceScript } from "./support/report-trace.js";

/** Waits until the page has drawn a frame (the lanes redraw on scroll in the next one). */
async function nextFrame(page: Page): Promise<void> {
  await page.evaluate(() => new Promise<void>((done) => {
    const raf = (globalThis as unknown as { requestAnimationFrame(f: () => void): void }).requestAnimationFrame;
    raf(() => raf(() => done()));
  }));
}

/** The rows' boxes lie inside the scroll box of the lanes (what a user sees without scrolling). */
async function inView(page: Page, count: number): Promise<boolean> {
  const wrap = (await (await page.$("#lanes-wrap"))!.boundingBox())!;
  const boxes = await Promise.all((await page.$$(".lane")).slice(0, count).map((e) => e.boundingBox()));
  const viewport = page.viewportSize()!;
  return boxes.every((b) => b !== null && b.y >= wrap.y - 0.5 && b.y + b.height <= wrap.y + wrap.height + 0.5 && b.y >= 0 && b.y + b.height <= viewport.height);
}

describe("slow-requests: a handler task per request", () => {
  const report = useReport(() => openScenarioReport("slow-requests"));

  it("shows one lane for the handlers, which lists each of them when expanded", async () => {
    expectOffline(report());
    const { page, payload } = report();
    const tl = payload.timelines[0]!;
    const handlers = payload.taskGroups.filter((g) => g.name === "handler").reduce((n, g) => n + g.count, 0);
    expect(handlers).toBeGreaterThanOrEqual(100);
    let shown = await rows(page);
    const lanes = shown.filter((x) => x.label.startsWith("handler"));
    expect(lanes.map((x) => x.label)).toEqual([`handler x${handlers}`]);
    expect(lanes[0]!.cls).toContain("shared");
    expect(shown.length).toBeLessThan(10);

    await page.click(`.lane.shared[data-lane="${lanes[0]!.lane}"]`);
    shown = await rows(page);
    const subs = shown.filter((x) => x.sub >= 0);
    // Every poll is drawn here, so every handler has a sub-lane (up to the cap).
    expect(await page.textContent("#timeline-note")).toContain("Every poll is drawn");
    expect(subs).toHaveLength(Math.min(handlers, tl.maxSubLanes));
    expect(subs.every((x) => x.lane === lanes[0]!.lane && x.label.startsWith("handler ("))).toBe(true);
    expect(await timelineNumber(page, "data-rows")).toBe(shown.length);
    // No two rows read alike: reused ids carry their incarnation.
    expect(new Set(shown.map((x) => x.label)).size).toBe(shown.length);
    expect(shown.some((x) => /^handler \(\d+, 2nd\)$/.test(x.label))).toBe(true);

    // Hundreds of rows: the canvas draws the rows scrolled into view.
    await page.evaluate(() => {
      const doc = (globalThis as unknown as { document: { getElementById(id: string): { scrollTop: number; scrollHeight: number; scrollIntoView(): void } } }).document;
      doc.getElementById("timeline-section").scrollIntoView();
      const wrap = doc.getElementById("lanes-wrap");
      wrap.scrollTop = wrap.scrollHeight;
    });
    await nextFrame(page);
    expect(await countPixels(page, COLOURS.poll)).toBeGreaterThanOrEqual(12);
    const last = (await page.$$(".lane")).at(-1)!;
    const lastBox = (await last.boundingBox())!;
    const wrapBox = (await (await page.$("#lanes-wrap"))!.boundingBox())!;
    expect(lastBox.y + lastBox.height).toBeLessThanOrEqual(wrapBox.y + wrapBox.height + 0.5);
    await screenshot(page, "html-slow-requests-expanded.png");

    await page.click(`.lane.shared[data-lane="${lanes[0]!.lane}"]`);
    expect((await rows(page)).length).toBe(tl.lanes.length);
  });

  it("pins the slow handlers and the mutex holder at the top when the lint is clicked", async () => {
    const { page, payload } = report();
    const tl = payload.timelines[0]!;
    const i = payload.report.lints.findIndex((l) => l.kind === "slow-requests");
    expect(i).toBeGreaterThanOrEqual(0);
    const lint = payload.report.lints[i]!;
    const holder = payload.report.slowRequests.find((s) => s.significant)!.causes[0]!.blocker!;
    expect(holder.name).toBe("backup");
    const named = lint.tasks.map((t) => t.index!);
    expect(named[0]).toBe(holder.index);

    await page.click(`.lint[data-lint="${i}"]`);
    expect(await page.getAttribute("#timeline", "data-pinned")).toBe(named.join(","));
    const shown = await rows(page);
    const pinned = shown.slice(0, named.length);
    expect(pinned.map((x) => x.task)).toEqual(named);
    expect(pinned.every((x) => x.cls.includes("pinned") && x.cls.includes("hl"))).toBe(true);
    expect(pinned[0]!.label).toMatch(/^backup \(\d+\)$/);
    // The slow handlers are tasks of the folded lane, shown on their own.
    const slow = pinned.filter((x) => x.label.startsWith("handler ("));
    expect(slow.length).toBeGreaterThanOrEqual(Math.min(4, named.length - 2));
    expect(slow.every((x) => x.sub >= 0)).toBe(true);
    expect(await inView(page, named.length)).toBe(true);

    const { start, end, at, until } = await expectViewCovers(page, lint, tl.startNs);
    // What they did there is drawn in their rows: backup parked while it held the db, and each
    // handler the report says waited a millisecond or more at 'handler: lock db' parked there
    // (the parked band).
    const x0 = (at - start) / (end - start);
    const x1 = (until - start) / (end - start);
    const row = (k: number) => ({ x0, x1, y0: k * 18, y1: (k + 1) * 18 });
    expect(await countPixels(page, COLOURS.parked, row(0))).toBeGreaterThan(100);
    const waited = new Set<number>();
    for (const f of payload.report.slowRequests.find((s) => s.significant)!.slowest) {
      for (const step of f.steps) if (step.site === "handler: lock db" && step.waitNs >= 1e6) waited.add(step.task.index);
    }
    const lockedOut = pinned.filter((x) => waited.has(x.task));
    expect(lockedOut.length).toBeGreaterThanOrEqual(3);
    for (const s of lockedOut) expect(await countPixels(page, COLOURS.parked, row(pinned.indexOf(s))), s.label).toBeGreaterThan(100);
    await screenshot(page, "html-slow-requests-lint.png");
  });

  it("draws the requests in flight per kind", async () => {
    const { page, payload } = report();
    const tl = payload.timelines[0]!;
    const k = tl.inflight.find((x) => x.kind === "GET /orders")!;
    expect(k).toBeDefined();
    // At least as many at once as the slowest requests the report lists overlap.
    const slowest = payload.report.slowRequests[0]!.slowest;
    let overlap = 0;
    for (const f of slowest) overlap = Math.max(overlap, slowest.filter((g) => g.beganNs <= f.beganNs && g.beganNs + g.latencyNs > f.beganNs).length);
    expect(overlap).toBeGreaterThanOrEqual(2);
    expect(k.max).toBeGreaterThanOrEqual(overlap);
    expect(await page.textContent("#inflight-labels")).toContain("GET /orders in flight");
    expect(await countPixels(page, COLOURS.inflight, {}, "inflight")).toBeGreaterThan(50);
  });
});

describe("deadlock: telemetry and compressor on two full channels", () => {
  const report = useReport(() => openScenarioReport("deadlock"));

  it("draws the cycle in the lint: both tasks, both channels, arrows from each to the next", async () => {
    expectOffline(report());
    const { page, payload } = report();
    expect(payload.report.lints[0]!.kind).toBe("deadlock");
    const svg = '.lint[data-lint="0"] svg.cycle';
    const tasks = await page.$$eval(`${svg} g.task text:first-of-type`, (els) => els.map((e) => e.textContent));
    const channels = await page.$$eval(`${svg} g.res text:first-of-type`, (els) => els.map((e) => e.textContent));
    expect(tasks.sort()).toEqual(["compressor (3)", "telemetry (2)"]);
    expect(channels.sort()).toEqual(["acks", "samples"]);
    const edges = await page.$$eval(`${svg} path.edge`, (els) => els.map((e) => e.getAttribute("marker-end")));
    expect(edges).toHaveLength(4);
    expect(edges.every((m) => m !== null && /^url\(#arrow-0\)$/.test(m))).toBe(true);
    const words = await page.$$eval(`${svg} text.elabel`, (els) => els.map((e) => e.textContent).sort());
    expect(words).toEqual(["only drained by", "only drained by", "waits to send", "waits to send"]);
  });

  it("pins the cycle's members and draws who waits for whom across their lanes", async () => {
    const { page, payload } = report();
    const tl = payload.timelines[0]!;
    const cycle = tl.cycles[0]!;
    expect(cycle.members.map((m) => m.resource).sort()).toEqual(["acks", "samples"]);
    await page.click('.lint[data-lint="0"]');
    const members = cycle.members.map((m) => m.task);
    expect(await page.getAttribute("#timeline", "data-pinned")).toBe(members.join(","));
    const shown = await rows(page);
    expect(shown.slice(0, 2).map((x) => x.label).sort()).toEqual(["compressor (3)", "telemetry (2)"]);
    expect(await inView(page, 2)).toBe(true);
    // Their rows: stuck from the moment they blocked to the end (hatched), and the arrows of
    // the deadlock between them.
    const since = Math.max(...cycle.members.map((m) => m.sinceNs));
    const start = await timelineNumber(page, "data-view-start");
    const end = await timelineNumber(page, "data-view-end");
    const region = { x0: Math.max(0, (since - start) / (end - start)), x1: 1, y0: 0, y1: 36 };
    expect(await countPixels(page, COLOURS.stuck, region)).toBeGreaterThan(1000);
    expect(await countPixels(page, COLOURS.deadlock, region)).toBeGreaterThan(200);
    // Nothing of the kind in the other rows.
    expect(await countPixels(page, COLOURS.stuck, { y0: 36 })).toBe(0);
    await screenshot(page, "html-deadlock.png", true);
  });
});

describe("deadlock of three", () => {
  const report = useReport(async () => {
    const s = new TraceScript();
    const m = [s.resource(0, "mutex", "m1", 1), s.resource(0, "mutex", "m2", 1), s.resource(0, "mutex", "m3", 1)];
    const names = ["alpha", "beta", "gamma"];
    names.forEach((n, i) => s.spawn(0, i + 1, n));
    names.forEach((n, i) => s.begin(10 + i * 10, i + 1).op(11 + i * 10, m[i]!, "acquire", "ok", 1).wakeSelf(12 + i * 10, i + 1).pending(13 + i * 10, { site: `${n}: yield` }));
    names.forEach((n, i) => {
      const next = m[(i + 1) % 3]!;
      s.begin(100 + i * 10, i + 1).op(101 + i * 10, next, "acquire", "blocked", 1).clone(101 + i * 10, i + 1).pending(102 + i * 10, { site: `${n}: lock`, res: next });
    });
    s.mark(50_000, "end");
    const dir = mkdtempSync(join(tmpdir(), "taskscope-html-"));
    return openReport(dir, s.write(join(dir, "ring.trace.cbor")));
  });

  it("draws a ring of three tasks and three mutexes, each held by the next", async () => {
    expectOffline(report());
    const { page } = report();
    const svg = '.lint[data-lint="0"] svg.cycle';
    expect((await page.$$eval(`${svg} g.task text:first-of-type`, (els) => els.map((e) => e.textContent))).sort()).toEqual(["alpha (1)", "beta (2)", "gamma (3)"]);
    expect((await page.$$eval(`${svg} g.res text:first-of-type`, (els) => els.map((e) => e.textContent))).sort()).toEqual(["m1", "m2", "m3"]);
    const words = await page.$$eval(`${svg} text.elabel`, (els) => els.map((e) => e.textContent));
    expect(words.filter((w) => w === "waits to lock")).toHaveLength(3);
    expect(words.filter((w) => w === "held by")).toHaveLength(3);
    await page.click('.lint[data-lint="0"]');
    expect((await rows(page)).slice(0, 3).map((x) => x.label)).toEqual(["alpha (1)", "beta (2)", "gamma (3)"]);
    await screenshot(page, "html-deadlock-ring.png", true);
  });
});
