// OTLP requests of bounded size on a large trace, so a collector accepts every one: the bench's
// spawn-per-request server workload (bench/workloads.ts), exported to a file and sent to a local
// collector, with every request checked against the limit and decoded. The default run uses a
// trace that exports in seconds; TASKSCOPE_TEST_20M=1 also exports 20 M events with the default
// limit (minutes).

import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSendConfig } from "../host/export/otlp/config.js";
import { DEFAULT_MAX_REQUEST_BYTES, exportOtlp } from "../host/export/otlp/export.js";
import { writeWorkload } from "../bench/workloads.js";
import { TestCollector } from "./support/collector.js";
import { decodeProtobufRequest, otlpFileRequests } from "./support/otlp-decode.js";
import { checkOtlp } from "./support/otlp-check.js";

let dir: string;
let trace: string;
const EVENTS = 150_000;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-otlp-requests-"));
  trace = join(dir, "spawn.trace.cbor");
  writeWorkload(trace, EVENTS, "spawn");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("OTLP requests of bounded size", () => {
  it("splits a file into requests no larger than the limit, every span in one of them", async () => {
    const limit = 256 * 1024;
    const out = join(dir, "spawn.pb");
    const result = await exportOtlp(trace, { toolVersion: "test", file: { path: out, format: "protobuf" }, maxRequestBytes: limit, batchSize: 1_000_000 });
    const requests = otlpFileRequests(readFileSync(out), "protobuf");
    expect(requests.length).toBe(result.fileRequests);
    expect(requests.length).toBeGreaterThan(10);
    const sizes = requests.map((r) => r.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(limit);
    expect(Math.max(...sizes)).toBe(result.largestRequestBytes);
    // Filled up to the limit, not cut short: all but the last are more than 3/4 full.
    expect(sizes.slice(0, -1).every((n) => n > 0.75 * limit)).toBe(true);
    const spans = requests.flatMap((r) => decodeProtobufRequest(r));
    expect(spans).toHaveLength(result.spans);
    // A task spawned per request: thousands of task incarnations, each a span, all well formed.
    checkOtlp(spans);
    expect(spans.filter((s) => s.name === "handler").length).toBeGreaterThan(EVENTS / 40);
  });

  it("sends requests no larger than the limit to a collector, which accepts every span once", async () => {
    const limit = 128 * 1024;
    const c = await TestCollector.start();
    try {
      const result = await exportOtlp(trace, { toolVersion: "test", send: resolveSendConfig({ endpoint: c.url }, {})!, maxRequestBytes: limit, batchSize: 1_000_000 });
      expect(c.requests.length).toBeGreaterThan(20);
      for (const r of c.requests) {
        expect(r.body.length).toBeLessThanOrEqual(limit);
        expect(r.decodeError).toBeUndefined();
      }
      expect(result.sent).toMatchObject({ spans: result.spans, batches: c.requests.length });
      expect(result.sent!.largestRequestBytes).toBeLessThanOrEqual(limit);
      const ids = c.spans().map((s) => `${s.traceId}/${s.spanId}`);
      expect(new Set(ids).size).toBe(result.spans);
    } finally {
      await c.close();
    }
  });

  it.runIf(process.env["TASKSCOPE_TEST_20M"] === "1")("exports 20 M events in requests no larger than the default limit", async () => {
    const big = join(dir, "spawn-20m.trace.cbor");
    writeWorkload(big, 20_000_000, "spawn");
    const out = join(dir, "spawn-20m.pb");
    const result = await exportOtlp(big, { toolVersion: "test", file: { path: out, format: "protobuf" } });
    rmSync(big);
    const requests = otlpFileRequests(readFileSync(out), "protobuf");
    expect(requests.length).toBe(result.fileRequests);
    expect(Math.max(...requests.map((r) => r.length))).toBeLessThanOrEqual(DEFAULT_MAX_REQUEST_BYTES);
    // Each a complete request (the first, the last, and one in the middle decoded in full).
    const sample = [requests[0]!, requests[requests.length >> 1]!, requests.at(-1)!].flatMap((r) => decodeProtobufRequest(r));
    expect(sample.length).toBeGreaterThan(0);
    rmSync(out);
  }, 30 * 60_000);
});
