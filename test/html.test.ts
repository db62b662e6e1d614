// The HTML report in a real browser: Debian's Chromium, headless, driven by playwright-core. The
// report of the demo's cpu-hog scenario must render a lane per task with slices drawn, load
// nothing from the network, and move the timeline to a lint when the lint is clicked. A
// screenshot of that state is kept in test-output/ (gitignored) for a human to look at.
//
// Needs build/demo.wasm, dist/ (npm run build) and /usr/bin/chromium.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./support/core-harness.js";
import type { HtmlPayload } from "../host/report/html-report.js";

const CHROMIUM = "/usr/bin/chromium";
const OUTPUT = join(ROOT, "test-output");

let dir: string;
let context: BrowserContext;
let page: Page;
let payload: HtmlPayload;
const requests: string[] = [];
const errors: string[] = [];

function cli(name: "trace-pull" | "trace-report", args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli", `${name}.js`), ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install --no-install-recommends chromium`);
  for (const f of ["build/demo.wasm", "dist/host/cli/trace-report.js"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build`);
  }
  dir = mkdtempSync(join(tmpdir(), "taskscope-html-"));
  const trace = join(dir, "cpu-hog.trace.cbor");
  const pull = cli("trace-pull", ["--wasi", join(ROOT, "build/demo.wasm"), "-o", trace, "--", "cpu-hog"]);
  expect(pull.code, pull.stderr).toBe(0);
  const html = join(dir, "report.html");
  const r = cli("trace-report", [trace, "--html", html]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^trace-report: wrote .*report\.html \(\d+ KiB\)\n$/);
  const text = readFileSync(html, "utf8");
  const json = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(text)![1]!;
  payload = JSON.parse(json) as HtmlPayload;

  // A fresh profile each run (playwright takes it as the persistent context's directory).
  context = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  page = await context.newPage();
  page.on("request", (req) => requests.push(req.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
}, 60_000);

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Pixels of the lanes canvas in the given colour (within a small tolerance). */
async function countPixels(rgb: [number, number, number], region?: { x0: number; x1: number }): Promise<number> {
  return page.evaluate(
    ({ rgb, region }) => {
      // (Runs in the page; this project's type-check has no DOM library, hence the local types.)
      interface Canvas {
        width: number;
        height: number;
        getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      }
      const doc = (globalThis as unknown as { document: { getElementById(id: string): Canvas } }).document;
      const c = doc.getElementById("lanes");
      const ctx = c.getContext("2d");
      const x0 = region ? Math.floor(region.x0 * c.width) : 0;
      const x1 = region ? Math.ceil(region.x1 * c.width) : c.width;
      const d = ctx.getImageData(x0, 0, Math.max(1, x1 - x0), c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i]! - rgb[0]) < 8 && Math.abs(d[i + 1]! - rgb[1]) < 8 && Math.abs(d[i + 2]! - rgb[2]) < 8) n++;
      }
      return n;
    },
    { rgb, region },
  );
}

describe("HTML report in headless Chromium", () => {
  it("is one self-contained file: no request leaves the page, no script error", () => {
    expect(errors).toEqual([]);
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(url.startsWith("file://")).toBe(true);
  });

  it("renders a lane per task, with polls and long polls drawn", async () => {
    const tl = payload.timelines[0]!;
    // Every task the analysis kept has a lane of its own; the other (ended) tasks of a name share
    // one lane, and every task is drawn somewhere.
    const own = tl.lanes.filter((l) => l.task >= 0);
    expect(own.map((l) => l.task).sort((a, b) => a - b)).toEqual(payload.tasks.map((t) => t.index).sort((a, b) => a - b));
    const folded = payload.taskGroups.reduce((n, g) => n + g.count - g.exemplars.length, 0);
    expect(tl.lanes.filter((l) => l.task < 0).reduce((n, l) => n + l.shared, 0)).toBe(folded);
    const labels = await page.$$eval(".lane", (els) => els.map((e) => e.textContent ?? ""));
    expect(labels).toHaveLength(tl.lanes.length);
    expect(labels.some((l) => l.startsWith("decoder ("))).toBe(true);
    expect(labels.filter((l) => l.startsWith("fetch (")).length).toBeGreaterThanOrEqual(3);
    expect(await page.textContent("#timeline-note")).toContain("Every poll is drawn");
    // A drawn poll is at least 1 px wide and a lane minus 6 px (12 px) tall; at full zoom a real
    // run's polls are often a single pixel wide, so "drawn" is what is asserted, not an area.
    const ONE_POLL = 12;
    expect(await countPixels([0x2f, 0x6d, 0xb5])).toBeGreaterThanOrEqual(ONE_POLL); // polls
    expect(await countPixels([0xc6, 0x28, 0x28])).toBeGreaterThanOrEqual(ONE_POLL); // long polls
    expect(await page.$$eval(".lint", (els) => els.length)).toBe(payload.report.lints.length);
  });

  it("moves the timeline to a lint when it is clicked, highlighting its tasks", async () => {
    const lint = payload.report.lints[0]!;
    expect(lint.kind).toBe("long-poll");
    const tl = payload.timelines[0]!;
    const before = [Number(await page.getAttribute("#timeline", "data-view-start")), Number(await page.getAttribute("#timeline", "data-view-end"))];
    expect(before[1]! - before[0]!).toBeCloseTo(tl.durationNs, -3);

    await page.click(".lint >> nth=0");
    const start = Number(await page.getAttribute("#timeline", "data-view-start"));
    const end = Number(await page.getAttribute("#timeline", "data-view-end"));
    const at = lint.atNs - tl.startNs;
    const until = lint.untilNs! - tl.startNs;
    expect(start).toBeLessThanOrEqual(at);
    expect(end).toBeGreaterThanOrEqual(until);
    expect(end - start).toBeLessThan(tl.durationNs / 4); // zoomed in on it
    expect(await page.getAttribute("#timeline", "data-selected-lint")).toBe("0");
    expect(await page.getAttribute(".lint >> nth=0", "class")).toContain("selected");
    const highlighted = await page.$$eval(".lane.hl", (els) => els.map((e) => e.getAttribute("data-task")));
    expect(highlighted).toContain(String(lint.tasks[0]!.index));
    // The long poll fills the marked part of the view: red pixels where the lint is.
    const x0 = (at - start) / (end - start);
    const x1 = (until - start) / (end - start);
    expect(await countPixels([0xc6, 0x28, 0x28], { x0, x1 })).toBeGreaterThan(100);

    mkdirSync(OUTPUT, { recursive: true });
    const shot = join(OUTPUT, "html-report-lint.png");
    await page.screenshot({ path: shot, fullPage: false });
    expect(readFileSync(shot).length).toBeGreaterThan(10_000);
  });

  it("zooms with the wheel and returns to the whole trace", async () => {
    const box = (await page.$("#lanes"))!;
    const b = (await box.boundingBox())!;
    const before = Number(await page.getAttribute("#timeline", "data-view-end")) - Number(await page.getAttribute("#timeline", "data-view-start"));
    await page.mouse.move(b.x + b.width / 2, b.y + 10);
    await page.mouse.wheel(0, 300);
    const after = Number(await page.getAttribute("#timeline", "data-view-end")) - Number(await page.getAttribute("#timeline", "data-view-start"));
    expect(after).toBeGreaterThan(before);
    await page.click("#fit");
    expect(Number(await page.getAttribute("#timeline", "data-view-start"))).toBe(0);
  });
});
