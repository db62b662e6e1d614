// trace-report --compare --html in a real browser (Debian's Chromium, headless, playwright-core):
// the stream-serial demo against its prefetching fix must show the await sites that changed
// (the pipeline's own read went away, the reader's appeared), the recorded time that fell, and
// the serialized lint that went away; a trace against itself must show no change. The page must
// load nothing from the network and run no script that fails. A screenshot goes to test-output/.
//
// Needs build/demo.wasm, dist/ (npm run build) and /usr/bin/chromium.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "./support/core-harness.js";
import { cli, expectOffline, openPage, screenshot } from "./support/html-page.js";
import type { Comparison } from "../host/report/compare.js";

let dir: string;
const traces: Record<string, string> = {};

beforeAll(() => {
  for (const f of ["build/demo.wasm", "dist/host/cli/trace-report.js"]) {
    if (!existsSync(join(ROOT, f))) throw new Error(`${f} is missing: run npm run build`);
  }
  dir = mkdtempSync(join(tmpdir(), "taskscope-compare-html-"));
  for (const scenario of ["stream-serial", "stream-overlap"]) {
    const file = join(dir, `${scenario}.trace.cbor`);
    const r = cli(dir, "trace-pull", ["--wasi", join(ROOT, "build/demo.wasm"), "-o", file, "--", scenario]);
    expect(r.code, r.stderr).toBe(0);
    traces[scenario] = file;
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ComparePage {
  page: Page;
  data: Comparison;
  requests: string[];
  errors: string[];
  close(): Promise<void>;
}

/** trace-report --compare BASE NEW --html (a real process), opened in the browser. */
async function openCompare(base: string, next: string): Promise<ComparePage> {
  const pageDir = mkdtempSync(join(dir, "page-"));
  const html = join(pageDir, "compare.html");
  const r = cli(pageDir, "trace-report", ["--compare", base, next, "--html", html]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^trace-report: wrote .*compare\.html \(\d+ KiB\)\n$/);
  expect(r.stdout).toMatch(/^compare /); // the text comparison is still printed
  const text = readFileSync(html, "utf8");
  const data = JSON.parse(/<script id="compare-data" type="application\/json">(.*?)<\/script>/s.exec(text)![1]!) as Comparison;
  return { ...(await openPage(pageDir, html)), data };
}

const texts = (page: Page, selector: string) => page.$$eval(selector, (els) => els.map((e) => (e.textContent ?? "").trim()));

describe("trace-report --compare --html in headless Chromium", () => {
  it("stream-serial -> stream-overlap: the await sites that changed, the time it took, the lint that went away", async () => {
    const p = await openCompare(traces["stream-serial"]!, traces["stream-overlap"]!);
    try {
      expectOffline(p);
      const page = p.page;
      expect(await page.title()).toContain("taskscope comparison");
      // The await sites: the pipeline's own read of the bus went away, the reader's appeared.
      expect(await texts(page, "#only-base li")).toContain("site 'pipeline: next item' on sensor bus");
      const appeared = await texts(page, "#only-new li");
      expect(appeared).toContain("site 'reader: read item' on sensor bus");
      expect(appeared).toContain("site 'pipeline: take item' on items");
      // The run's time: 60 items of read 2 ms + write 1.5 ms in turn, against the two overlapped.
      const duration = (await page.textContent("#duration"))!;
      const m = /recorded (\S+) → (\S+) \(([-+]\d+)%/.exec(duration);
      expect(m, duration).not.toBeNull();
      expect(Number(m![3])).toBeLessThanOrEqual(-25);
      expect(p.data.duration.new).toBeLessThan(p.data.duration.base * 0.75);
      // The serialized lint went away; none appeared.
      const gone = await page.$$eval("#lints-gone li", (els) => els.map((e) => e.getAttribute("data-kind")));
      expect(gone).toContain("serialized");
      expect(await page.$$("#lints-new li")).toHaveLength(0);
      // Every change the comparison found is a row, with its verdict.
      const rows = await page.$$eval("tr.change", (els) => els.map((e) => [e.getAttribute("data-what"), e.getAttribute("data-name"), e.getAttribute("data-verdict")]));
      expect(rows.map((r) => `${r[0]} ${r[1]}`).sort()).toEqual(p.data.changes.map((c) => `${c.what} ${c.name}`).sort());
      expect(rows.find((r) => r[1] === "'pipeline: write item' on flash")).toBeDefined();
      await screenshot(page, "compare-stream.png");
    } finally {
      await p.close();
    }
  }, 60_000);

  it("a trace against itself: no change, no regression, nothing on one side only", async () => {
    const p = await openCompare(traces["stream-serial"]!, traces["stream-serial"]!);
    try {
      expectOffline(p);
      const page = p.page;
      expect(await page.textContent("#verdict")).toMatch(/^no significant change \(\d+ distributions compared\) · no regression$/);
      expect(await page.getAttribute("#verdict", "data-regressions")).toBe("0");
      expect(await page.textContent("#no-change")).toBe("No significant change.");
      expect(await page.$$("#changes tr.change")).toHaveLength(0);
      expect(await page.$$("#same tr.change[data-verdict='same']")).toHaveLength(p.data.changes.length);
      expect(p.data.changes.length).toBeGreaterThan(0);
      expect(await page.textContent("#only-base")).toBe("only in base (went away): none");
      expect(await page.textContent("#only-new")).toBe("only in new (appeared): none");
      expect(await page.textContent("#duration")).toMatch(/\(\+0%; one value a side/);
      expect(await page.$$("#lints-gone li, #lints-new li")).toHaveLength(0);
    } finally {
      await p.close();
    }
  }, 60_000);

  it("is refused with --json, and never overwrites an input", () => {
    const a = traces["stream-serial"]!;
    const r = cli(dir, "trace-report", ["--compare", a, a, "--json", "--html", join(dir, "x.html")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--json and --html go to different places");
    const before = readFileSync(a);
    const w = cli(dir, "trace-report", ["--compare", traces["stream-overlap"]!, a, "--html", a]);
    expect(w.code).toBe(1);
    expect(w.stderr).toContain("is the input");
    expect(readFileSync(a).equals(before)).toBe(true);
  });
});
