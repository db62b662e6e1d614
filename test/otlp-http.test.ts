// OTLP/HTTP sending against a real local collector (node:http / node:https) that decodes what it
// receives with readers independent of the serializers under test: batches, both encodings,
// retries, refusals, an unreachable endpoint, TLS, the OTEL_EXPORTER_OTLP_* variables, and
// secrets that must never be printed.

import { describe, it, expect, beforeAll, afterAll, afterEach } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveSendConfig } from "../host/export/otlp/config.js";
import { exportOtlp } from "../host/export/otlp/export.js";
import { OtlpSendError } from "../host/export/otlp/http-sink.js";
import { TestCollector, selfSignedCert } from "./support/collector.js";
import { decodeOtlpFile, type OtlpSpan } from "./support/otlp-decode.js";
import { checkOtlp, spanSignature } from "./support/otlp-check.js";
import { pullDemoTrace } from "./support/otlp-traces.js";
import { ROOT } from "./support/core-harness.js";

let dir: string;
let demo: string;
let fileSpans: OtlpSpan[];
const collectors: TestCollector[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "taskscope-otlp-http-"));
  demo = await pullDemoTrace(join(dir, "demo.trace.cbor"));
  await exportOtlp(demo, { toolVersion: "test", file: { path: join(dir, "demo.json"), format: "json" } });
  fileSpans = decodeOtlpFile(readFileSync(join(dir, "demo.json")), "json");
});
afterEach(async () => {
  for (const c of collectors.splice(0)) await c.close();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function collector(options: Parameters<typeof TestCollector.start>[0] = {}): Promise<TestCollector> {
  const c = await TestCollector.start(options);
  collectors.push(c);
  return c;
}

/** Runs the built CLI without blocking this process (the collector answers from it). */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("OTEL_")));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, "dist/host/cli/trace-export.js"), ...args], { cwd: dir, env: { ...base, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function expectOneLine(stderr: string, ...fragments: string[]): void {
  const lines = stderr.trim().split("\n");
  expect(lines, stderr).toHaveLength(1);
  for (const f of fragments) expect(lines[0]).toContain(f);
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("sending to an OTLP/HTTP collector", () => {
  it("sends every span in requests of bounded size as protobuf by default, the same spans the file holds", async () => {
    const c = await collector();
    const send = resolveSendConfig({ endpoint: c.url }, {})!;
    expect(send.protocol).toBe("http/protobuf");
    const result = await exportOtlp(demo, { toolVersion: "test", send, batchSize: 300 });
    expect(c.requests.length).toBe(Math.ceil(fileSpans.length / 300));
    for (const r of c.requests) {
      expect(r.method).toBe("POST");
      expect(r.path).toBe("/v1/traces");
      expect(r.headers["content-type"]).toBe("application/x-protobuf");
      expect(r.decodeError).toBeUndefined();
      expect(r.spans.length).toBeLessThanOrEqual(300);
    }
    // And by bytes: no request over the limit.
    const small = await collector();
    await exportOtlp(demo, { toolVersion: "test", send: resolveSendConfig({ endpoint: small.url }, {})!, maxRequestBytes: 32 * 1024 });
    expect(small.requests.length).toBeGreaterThan(c.requests.length / 3);
    for (const r of small.requests) expect(r.body.length).toBeLessThanOrEqual(32 * 1024);
    expect(spanSignature(small.spans())).toEqual(spanSignature(fileSpans));
    expect(result.sent).toMatchObject({ spans: fileSpans.length, batches: c.requests.length });
    const received = c.spans();
    checkOtlp(received);
    expect(spanSignature(received)).toEqual(spanSignature(fileSpans));
  });

  it("sends OTLP/JSON when asked, with links and attributes intact", async () => {
    const c = await collector();
    await exportOtlp(demo, { toolVersion: "test", send: resolveSendConfig({ endpoint: c.url, protocol: "http/json" }, {})! });
    expect(c.requests.every((r) => r.headers["content-type"] === "application/json")).toBe(true);
    const received = c.spans();
    expect(spanSignature(received)).toEqual(spanSignature(fileSpans));
    const links = received.flatMap((s) => s.links);
    expect(links.length).toBeGreaterThan(500);
    const worker = received.find((s) => s.name === "worker")!;
    expect(worker.attributes["taskscope.flow.name"]).toMatch(/^(GET|POST) \//);
  });

  it("retries 429 and 503 with backoff (Retry-After honoured) and delivers each span once", async () => {
    const c = await collector({ script: [{ status: 429, headers: { "retry-after": "0" } }, { status: 503 }] });
    const result = await exportOtlp(demo, { toolVersion: "test", send: resolveSendConfig({ endpoint: c.url }, {})!, batchSize: 10_000 });
    expect(c.requests.map((r) => r.answer.status)).toEqual([429, 503, 200]);
    expect(c.requests[0]!.body.equals(c.requests[2]!.body)).toBe(true); // the same batch again
    expect(c.accepted).toHaveLength(1);
    expect(spanSignature(c.spans())).toEqual(spanSignature(fileSpans));
    expect(result.sent!.spans).toBe(fileSpans.length);
  });

  it("retries other 5xx answers (which the exporter would not) a few times", async () => {
    const c = await collector({ script: [{ status: 500 }, { status: 500 }] });
    const result = await exportOtlp(demo, {
      toolVersion: "test", send: resolveSendConfig({ endpoint: c.url }, {})!, batchSize: 10_000,
      sendOptions: { serverErrorBackoffMs: 20 },
    });
    expect(c.requests.map((r) => r.answer.status)).toEqual([500, 500, 200]);
    expect(result.sent!.retries).toBe(2);
    expect(c.spans()).toHaveLength(fileSpans.length);
  });

  it("gives up on a collector that keeps failing, naming the endpoint and the status", async () => {
    const c = await collector({ script: Array.from({ length: 5 }, () => ({ status: 500, body: "collector restarting" })) });
    const error = await exportOtlp(demo, {
      toolVersion: "test", send: resolveSendConfig({ endpoint: c.url }, {})!, batchSize: 10_000,
      sendOptions: { serverErrorBackoffMs: 10, serverErrorRetries: 2 },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtlpSendError);
    expect((error as Error).message).toBe(`${c.url}/v1/traces answered HTTP 500 Internal Server Error: collector restarting`);
    expect(c.requests).toHaveLength(3);
  });
});

describe("trace-export --endpoint (the command)", () => {
  const TOKEN = "tok-0123456789abcdef";
  const API_KEY = "key-9876543210";

  it("sends, prints one summary line, and reports where", async () => {
    const c = await collector();
    const r = await cli(["--otlp", demo, "--endpoint", c.url, "--batch-size", "1000"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expectOneLine(r.stderr, `sent ${fileSpans.length.toLocaleString("en-US")} spans in 2 requests to ${c.url}/v1/traces (http/protobuf)`);
    expect(c.spans()).toHaveLength(fileSpans.length);
  });

  it("stops at a refusal with one line that never shows a header value", async () => {
    const c = await collector({ script: [{ status: 401, body: "echo-auth" }] });
    const r = await cli(["--otlp", demo, "--endpoint", `${c.url}/v1/traces`, "--header", `Authorization=Bearer ${TOKEN}`], {
      OTEL_EXPORTER_OTLP_HEADERS: `api-key=${API_KEY}`,
    });
    expect(r.code).toBe(1);
    // The collector got both headers, and echoed them in its answer...
    expect(c.requests[0]!.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
    expect(c.requests[0]!.headers["api-key"]).toBe(API_KEY);
    // ...which the error line shows with the secrets blanked out.
    expectOneLine(r.stderr, "trace-export:", `${c.url}/v1/traces answered HTTP 401`, "bad credentials: *** ***");
    for (const out of [r.stdout, r.stderr]) {
      expect(out).not.toContain(TOKEN);
      expect(out).not.toContain(API_KEY);
    }
  });

  it("never prints a token a collector quotes back alone or in part, from a flag or the environment", async () => {
    for (const [quote, env] of [
      [TOKEN, false],
      [`${TOKEN.slice(0, 12)}...`, false],
      [API_KEY, true],
    ] as const) {
      const c = await collector({ script: [{ status: 401, body: `invalid API token '${quote}'` }] });
      const r = await cli(
        ["--otlp", demo, "--endpoint", c.url, ...(env ? [] : ["--header", `Authorization=Bearer ${TOKEN}`])],
        env ? { OTEL_EXPORTER_OTLP_HEADERS: `api-key=${API_KEY}` } : {},
      );
      expect(r.code).toBe(1);
      expectOneLine(r.stderr, "answered HTTP 401", "invalid API token '***");
      for (const secret of [TOKEN, API_KEY, TOKEN.slice(0, 12), API_KEY.slice(0, 8)]) expect(r.stderr + r.stdout).not.toContain(secret);
    }
  });

  it("reports an unreachable endpoint in one line, after retrying within the timeout", async () => {
    const port = await closedPort();
    const r = await cli(["--otlp", demo, "--endpoint", `http://user:${TOKEN}@127.0.0.1:${port}/v1/traces?api-key=${API_KEY}`, "--timeout", "1000"]);
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, `trace-export: cannot reach http://127.0.0.1:${port}/v1/traces: connect ECONNREFUSED`);
    expect(r.stderr + r.stdout).not.toContain(TOKEN);
    expect(r.stderr + r.stdout).not.toContain(API_KEY);
  });

  it("takes endpoint, protocol, headers and compression from the OTEL_EXPORTER_OTLP_* variables", async () => {
    const c = await collector();
    const r = await cli(["--otlp", demo], {
      OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "x-team=embedded",
      OTEL_EXPORTER_OTLP_COMPRESSION: "gzip",
      OTEL_SERVICE_NAME: "sensor-gateway",
    });
    expect(r.code, r.stderr).toBe(0);
    expect(c.requests.length).toBeGreaterThan(0);
    for (const req of c.requests) {
      expect(req.path).toBe("/v1/traces");
      expect(req.headers["content-type"]).toBe("application/json");
      expect(req.headers["content-encoding"]).toBe("gzip");
      expect(req.headers["x-team"]).toBe("embedded");
    }
    const spans = c.spans();
    expect(spans).toHaveLength(fileSpans.length);
    expect(new Set(spans.map((s) => s.resource["service.name"]))).toEqual(new Set(["sensor-gateway"]));
  });

  it("a signal-specific endpoint is used as given; a flag beats the environment; -o alone writes only", async () => {
    const used = await collector();
    const unused = await collector();
    const r = await cli(["--otlp", demo, "--endpoint", `${used.url}/custom/traces`], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${unused.url}/v1/traces` });
    expect(r.code, r.stderr).toBe(0);
    expect(used.requests.map((q) => q.path)).toContain("/custom/traces");
    expect(unused.requests).toHaveLength(0);
    const env = await collector();
    const r2 = await cli(["--otlp", demo], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${env.url}/exact/path` });
    expect(r2.code, r2.stderr).toBe(0);
    expect(new Set(env.requests.map((q) => q.path))).toEqual(new Set(["/exact/path"]));
    // Asking for a file does not also upload to an endpoint that is only in the environment.
    const before = env.requests.length;
    const r3 = await cli(["--otlp", demo, "-o", "only-file.json"], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${env.url}/exact/path` });
    expect(r3.code, r3.stderr).toBe(0);
    expect(r3.stderr).not.toContain("sent");
    expect(env.requests.length).toBe(before);
  });

  const cert = (() => {
    try {
      return selfSignedCert(mkdtempSync(join(tmpdir(), "taskscope-tls-")));
    } catch {
      return undefined;
    }
  })();

  it.skipIf(!cert)("uses TLS for https, trusting a private CA given in OTEL_EXPORTER_OTLP_CERTIFICATE", async () => {
    const c = await collector({ tls: { key: cert!.key, cert: cert!.cert } });
    expect(c.url.startsWith("https://")).toBe(true);
    const refused = await cli(["--otlp", demo, "--endpoint", c.url, "--timeout", "3000"]);
    expect(refused.code).toBe(1);
    expectOneLine(refused.stderr, `TLS to ${c.url}/v1/traces failed`, "certificate", "OTEL_EXPORTER_OTLP_CERTIFICATE");
    expect(c.accepted).toHaveLength(0);
    const r = await cli(["--otlp", demo, "--endpoint", c.url, "--header", `authorization=Bearer ${TOKEN}`], { OTEL_EXPORTER_OTLP_CERTIFICATE: cert!.certPath });
    expect(r.code, r.stderr).toBe(0);
    expect(c.spans()).toHaveLength(fileSpans.length);
    expect(c.accepted[0]!.headers["authorization"]).toBe(`Bearer ${TOKEN}`);
  });
});
