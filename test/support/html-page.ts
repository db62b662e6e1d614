// Test helper: an HTML report opened in a real browser, Debian's Chromium, headless, driven by
// playwright-core. Records every request the page makes (it must make none beyond its own file)
// and every script error, reads the report's embedded data, counts canvas pixels of a colour and
// writes screenshots to test-output/ (gitignored) for a human to look at.
//
// Needs dist/ (npm run build), build/demo.wasm for scenarios, and /usr/bin/chromium.

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./core-harness.js";
import type { HtmlPayload } from "../../host/report/html-report.js";

export const CHROMIUM = "/usr/bin/chromium";
export const OUTPUT = join(ROOT, "test-output");

export interface ReportPage {
  page: Page;
  payload: HtmlPayload;
  /** URLs the page requested. */
  requests: string[];
  /** Uncaught exceptions and console errors. */
  errors: string[];
  /** The trace file and the page, in a temporary directory removed by close(). */
  trace: string;
  html: string;
  close(): Promise<void>;
}

export function cli(dir: string, name: "trace-pull" | "trace-report", args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "dist/host/cli", `${name}.js`), ...args], { cwd: dir, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a demo scenario under WASI, writes its HTML report and opens it. */
export async function openScenarioReport(scenario: string): Promise<ReportPage> {
  for (const f of ["build/demo.wasm", "dist/host/cli/trace-report.js"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build`);
  }
  const dir = mkdtempSync(join(tmpdir(), "taskscope-html-"));
  const trace = join(dir, `${scenario}.trace.cbor`);
  const pull = cli(dir, "trace-pull", ["--wasi", join(ROOT, "build/demo.wasm"), "-o", trace, "--", scenario]);
  expect(pull.code, pull.stderr).toBe(0);
  return openReport(dir, trace);
}

/** Opens a report before the tests of the calling suite and closes it after them; the getter
 *  gives it to the tests. */
export function useReport(open: () => Promise<ReportPage>, timeoutMs = 90_000): () => ReportPage {
  let r: ReportPage | undefined;
  beforeAll(async () => {
    r = await open();
  }, timeoutMs);
  afterAll(async () => {
    await r?.close();
  });
  return () => r!;
}

/** The page is one self-contained file: it requested nothing but itself, and no script failed. */
export function expectOffline(r: Pick<ReportPage, "requests" | "errors">): void {
  expect(r.errors).toEqual([]);
  expect(r.requests.length).toBeGreaterThan(0);
  for (const url of r.requests) expect(url.startsWith("file://")).toBe(true);
}

/** Writes the HTML report of `trace` (trace-report --html, a real process) and opens it. */
export async function openReport(dir: string, trace: string): Promise<ReportPage> {
  const html = join(dir, "report.html");
  const r = cli(dir, "trace-report", [trace, "--html", html]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^trace-report: wrote .*report\.html \(\d+ KiB\)\n$/);
  const text = readFileSync(html, "utf8");
  const json = /<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(text)![1]!;
  const payload = JSON.parse(json) as HtmlPayload;

  const { page, requests, errors, close } = await openPage(dir, html);
  return { page, payload, requests, errors, trace, html, close };
}

/** A page of this project opened in headless Chromium, with the requests it made and its script
 *  errors; close() closes the browser and removes `dir`. */
export async function openPage(dir: string, html: string): Promise<{ page: Page; requests: string[]; errors: string[]; close(): Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install --no-install-recommends chromium`);
  // A fresh profile each run (playwright takes it as the persistent context's directory).
  const context: BrowserContext = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on("request", (req) => requests.push(req.url()));
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(m.text());
  });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector("body[data-ready='1']", { timeout: 10_000 });
  return {
    page, requests, errors,
    close: async () => {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Pixels of a canvas in the given colour (within a small tolerance). `region`: x as fractions
 *  of the width, y in CSS pixels from the canvas's top. */
export async function countPixels(page: Page, rgb: [number, number, number], region: { x0?: number; x1?: number; y0?: number; y1?: number } = {}, canvas = "lanes"): Promise<number> {
  return page.evaluate(
    ({ rgb, region, canvas }) => {
      // (Runs in the page; this project's type-check has no DOM library, hence the local types.)
      interface Canvas {
        width: number;
        height: number;
        clientHeight: number;
        getContext(kind: "2d"): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
      }
      const doc = (globalThis as unknown as { document: { getElementById(id: string): Canvas } }).document;
      const c = doc.getElementById(canvas);
      const ctx = c.getContext("2d");
      const scale = c.height / Math.max(1, c.clientHeight);
      const x0 = Math.floor((region.x0 ?? 0) * c.width);
      const x1 = Math.ceil((region.x1 ?? 1) * c.width);
      const y0 = Math.max(0, Math.floor((region.y0 ?? 0) * scale));
      const y1 = Math.min(c.height, Math.ceil((region.y1 ?? c.clientHeight) * scale));
      if (x1 <= x0 || y1 <= y0) return 0;
      const d = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (Math.abs(d[i]! - rgb[0]) < 8 && Math.abs(d[i + 1]! - rgb[1]) < 8 && Math.abs(d[i + 2]! - rgb[2]) < 8) n++;
      }
      return n;
    },
    { rgb, region, canvas },
  );
}

/** A numeric attribute of #timeline (data-view-start, data-view-end, data-rows). */
export async function timelineNumber(page: Page, name: string): Promise<number> {
  return Number(await page.getAttribute("#timeline", name));
}

/** The timeline's view after a lint was clicked: it must cover the lint's time. Returns the view
 *  and the lint's start and end, all in ns from the session's first event. */
export async function expectViewCovers(page: Page, lint: { atNs: number; untilNs?: number }, sessionStartNs: number) {
  const start = await timelineNumber(page, "data-view-start");
  const end = await timelineNumber(page, "data-view-end");
  const at = lint.atNs - sessionStartNs;
  const until = (lint.untilNs ?? lint.atNs) - sessionStartNs;
  expect(start).toBeLessThanOrEqual(at);
  expect(end).toBeGreaterThanOrEqual(until);
  return { start, end, at, until };
}

/** The rows (.lane labels) as shown, in order. */
export async function rows(page: Page): Promise<{ task: number; lane: number; sub: number; label: string; cls: string }[]> {
  return page.$$eval(".lane", (els) =>
    els.map((e) => ({
      task: Number(e.getAttribute("data-task")),
      lane: Number(e.getAttribute("data-lane")),
      sub: Number(e.getAttribute("data-sub")),
      label: e.getAttribute("data-label") ?? "",
      cls: e.getAttribute("class") ?? "",
    })),
  );
}

/** Saves a screenshot to test-output/ and checks it holds a picture (not a blank page). */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<string> {
  mkdirSync(OUTPUT, { recursive: true });
  const shot = join(OUTPUT, name);
  await page.screenshot({ path: shot, fullPage });
  expect(readFileSync(shot).length).toBeGreaterThan(10_000);
  return shot;
}

/** Colours the page draws with (html-client.ts). */
export const COLOURS = {
  poll: [0x2f, 0x6d, 0xb5],
  longPoll: [0xc6, 0x28, 0x28],
  parked: [0xc5, 0xcc, 0xd8],
  deadlock: [0x8e, 0x24, 0xaa],
  stuck: [0xe6, 0xc7, 0xec],
  inflight: [0x4d, 0xb6, 0xac],
} satisfies Record<string, [number, number, number]>;
