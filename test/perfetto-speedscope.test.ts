// The Perfetto JSON export (--format json) loaded into speedscope, the real one from the registry
// (node_modules/speedscope), in headless Chromium, the way its own command line opens a file. The
// profile it builds (read back through its own Export button) must hold every task's slices flat
// and correctly nested: a life slice per task incarnation with that task's polls inside it,
// nothing left open, nothing nested in a poll, with no complaint from its importer.

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type BrowserContext } from "playwright-core";
import { exportPerfetto } from "../host/export/perfetto/export.js";
import { pullDemoTrace } from "./support/otlp-traces.js";
import { ROOT } from "./support/core-harness.js";

const CHROMIUM = "/usr/bin/chromium";
const SPEEDSCOPE = join(ROOT, "node_modules/speedscope/dist/release/index.html");

interface SpeedscopeFile {
  shared: { frames: { name: string }[] };
  profiles: { name: string; type: string; events: { type: "O" | "C"; frame: number; at: number }[] }[];
}

interface TraceEvent {
  ph: string;
  dur?: number;
  pid: number;
  tid?: number;
  name?: string;
  args?: Record<string, unknown>;
}

let dir: string;
let context: BrowserContext;
let warnings: string[] = [];
let loaded: SpeedscopeFile;
let doc: { traceEvents: TraceEvent[] };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install --no-install-recommends chromium`);
  dir = mkdtempSync(join(tmpdir(), "taskscope-speedscope-"));
  const trace = await pullDemoTrace(join(dir, "demo.trace.cbor"));
  const out = join(dir, "demo.json");
  await exportPerfetto(trace, { out, format: "json" });
  doc = JSON.parse(readFileSync(out, "utf8")) as typeof doc;
  // What speedscope's command line does: a script that hands the file over, named in the URL.
  const loader = join(dir, "load.js");
  writeFileSync(loader, `speedscope.loadFileFromBase64("demo.json", ${JSON.stringify(readFileSync(out).toString("base64"))})`);

  context = await chromium.launchPersistentContext(mkdtempSync(join(dir, "profile-")), {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1400, height: 900 },
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "warning" || m.type() === "error") warnings.push(m.text());
  });
  page.on("pageerror", (e) => warnings.push(`page error: ${String(e)}`));
  await page.goto(`${pathToFileURL(SPEEDSCOPE).href}#localProfilePath=${loader}`);
  await page.getByText("Export").waitFor({ timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: 30_000 }), page.getByText("Export").click()]);
  loaded = JSON.parse(readFileSync((await download.path())!, "utf8")) as SpeedscopeFile;
}, 120_000);

afterAll(async () => {
  await context?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("Perfetto JSON in speedscope", () => {
  it("imports without a complaint: no slice left open, ended out of order or mismatched", () => {
    const broken = warnings.filter((w) => /Tried to end|stack was empty|still open at end of profile|Something went wrong|page error/.test(w));
    expect(broken.slice(0, 5)).toEqual([]);
  });

  it("makes a profile per thread: the executor, each task incarnation, the interrupts", () => {
    const threads = doc.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name").map((e) => String(e.args!["name"]));
    const withSlices = new Set(doc.traceEvents.filter((e) => e.ph === "X").map((e) => e.tid));
    expect(loaded.profiles).toHaveLength(withSlices.size);
    expect(loaded.profiles.every((p) => p.type === "evented")).toBe(true);
    const names = loaded.profiles.map((p) => p.name);
    for (const t of threads.filter((_, i) => withSlices.has(doc.traceEvents.filter((e) => e.ph === "M" && e.name === "thread_name")[i]!.tid))) {
      expect(names.some((n) => n.includes(`${t} (tid `))).toBe(true);
    }
  });

  it("nests each task's polls in its life, flat: no deeper, nothing left open", () => {
    // A frame is named after the slice and its arguments: `poll {"poll":3,...}`.
    const frame = (i: number) => loaded.shared.frames[i]!.name.replace(/ \{.*$/, "");
    const polls = new Map<number, number>();
    // (speedscope keeps no slice of zero length: a poll within one clock tick is not in its profile)
    for (const e of doc.traceEvents) if (e.ph === "X" && e.name === "poll" && e.dur! > 0) polls.set(e.tid!, (polls.get(e.tid!) ?? 0) + 1);
    let tasks = 0;
    for (const profile of loaded.profiles) {
      const tid = Number(/\(tid (\d+)\)$/.exec(profile.name)?.[1]);
      const stack: string[] = [];
      let lives = 0;
      let seenPolls = 0;
      let deepest = 0;
      for (const e of profile.events) {
        if (e.type === "O") {
          stack.push(frame(e.frame));
          deepest = Math.max(deepest, stack.length);
          if (stack.length === 1 && frame(e.frame) !== "poll") lives++;
          if (frame(e.frame) === "poll") {
            seenPolls++;
            expect(stack.length, `${profile.name}: a poll outside its task's life`).toBe(2);
          }
        } else {
          expect(stack.pop(), `${profile.name}: a close that is not the innermost open slice`).toBe(frame(e.frame));
        }
      }
      expect(stack, profile.name).toEqual([]);
      if (/\(task \d+\)/.test(profile.name)) {
        tasks++;
        expect([lives, deepest <= 2, seenPolls], profile.name).toEqual([1, true, polls.get(tid) ?? 0]);
      }
    }
    expect(tasks).toBe(78);
  });
});
