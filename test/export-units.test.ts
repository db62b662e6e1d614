// The exporters' pure parts: device time to Unix time, deterministic ids, log text, lint placement,
// and the OTLP settings from flags and OTEL_* variables (with the secrets that must not print).

import { describe, it, expect } from "vitest";
import fc from "fast-check";
import { SessionClock, hrTime } from "../host/export/clock.js";
import { createHash } from "node:crypto";
import { IdScheme } from "../host/export/ids.js";
import { Sha256 } from "../host/export/sha256.js";
import { formatLog } from "../host/export/log-text.js";
import { LintIndex } from "../host/export/lints.js";
import { OtlpConfigError, redact, resolveSendConfig, resourceOverridesFromEnv, spanLimitsFromEnv } from "../host/export/otlp/config.js";
import { ticksToNs } from "../host/format/chunk.js";
import type { Lint } from "../host/model/lint.js";

describe("SessionClock: device ticks to Unix ns, exactly", () => {
  const exact = (anchorTicks: bigint, unix: bigint, hz: bigint, ticks: bigint) => {
    const d = (ticks - anchorTicks) * 1_000_000_000n;
    const q = d / hz;
    return unix + (d % hz !== 0n && d < 0n ? q - 1n : q);
  };

  it("matches BigInt arithmetic for any tick rate, anchor and time (while t is exact)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1_000_000, 32_768, 1_000_000_000, 48_000_000, 7, 80_000_000),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.bigInt({ min: 0n, max: 2n ** 40n }),
        fc.bigInt({ min: 1_000_000_000_000_000_000n, max: 2_000_000_000_000_000_000n }),
        (hz, anchorTicks, ticks, unix) => {
          const t = ticksToNs(Number(ticks), hz);
          fc.pre(Number.isInteger(1e9 / hz) ? t <= Number.MAX_SAFE_INTEGER : true);
          const clock = new SessionClock({ ticks: Number(anchorTicks), unixNs: unix }, hz);
          expect(clock.unixNs(t)).toBe(exact(anchorTicks, unix, BigInt(hz), ticks));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("is exact past 2^53 ns of Unix time (where doubles would round)", () => {
    const clock = new SessionClock({ ticks: 0, unixNs: 1_795_441_914_403_897_601n }, 1_000_000);
    expect(clock.unixNs(ticksToNs(3, 1_000_000))).toBe(1_795_441_914_403_900_601n);
  });

  it("gives HrTime without losing a nanosecond", () => {
    expect(hrTime(1_795_441_914_403_897_601n)).toEqual([1_795_441_914, 403_897_601]);
    expect(hrTime(-1n)).toEqual([-1, 999_999_999]);
  });

  it("gives plain-number offsets only where they are exact", () => {
    const clock = new SessionClock({ ticks: 10, unixNs: 1_795_441_914_403_897_601n }, 1_000_000);
    expect(clock.offsetFrom(1_795_441_914_000_000_000n)).toBe(403_897_601 - 10_000);
    expect(clock.offsetFrom(0n)).toBeUndefined(); // 1.8e18 ns: past 2^53
    expect(new SessionClock({ ticks: 0, unixNs: 5n }, 32_768).offsetFrom(0n)).toBeUndefined(); // not whole ns per tick
    // µs as whole ns / 1000 print as the exact decimal.
    for (const ns of [1_234_567, 5, 258_000, 8_999_999_999_999]) expect(String(ns / 1000)).toBe((ns / 1000).toFixed(3).replace(/\.?0+$/, ""));
  });
});

describe("IdScheme: deterministic trace and span ids", () => {
  const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

  it("gives the same ids for the same file and key, different ones otherwise", () => {
    const a = new IdScheme("created=1").session(0, 7);
    const b = new IdScheme("created=1").session(0, 7);
    const other = new IdScheme("created=2").session(0, 7);
    expect(hex(a.traceId)).toBe(hex(b.traceId));
    expect(hex(a.task(3, 1).poll(5))).toBe(hex(b.task(3, 1).poll(5)));
    expect(hex(a.traceId)).not.toBe(hex(other.traceId));
    expect(hex(a.task(3, 1).spanId)).not.toBe(hex(a.task(3, 2).spanId));
    expect(hex(a.flowTraceId(9))).not.toBe(hex(a.traceId));
    expect(a.traceId).toHaveLength(16);
    expect(a.task(1, 1).spanId).toHaveLength(8);
    // The documented derivation: a poll's id is its task's id XOR M(n), so two exports agree.
    expect(hex(a.task(3, 1).poll(1))).not.toBe(hex(a.task(3, 1).spanId));
  });

  it("does not collide across many tasks, polls, parts, stays in flows and flows", () => {
    const s = new IdScheme("created=42").session(0, 1);
    const seen = new Set<string>([hex(s.spanId)]);
    let n = 1;
    for (let t = 0; t < 300; t++) {
      const task = s.task(t % 256, 1 + (t >> 8));
      for (const id of [task.spanId, ...Array.from({ length: 200 }, (_, i) => task.poll(i + 1)), task.pollPart(7, 2), task.pollPart(7, 3), task.segment(1), task.segment(2)]) {
        seen.add(hex(id));
        n++;
      }
    }
    for (let f = 0; f < 5000; f++) {
      seen.add(hex(s.flowSpanId(f)));
      n++;
    }
    expect(seen.size).toBe(n);
    const traces = new Set(Array.from({ length: 5000 }, (_, f) => hex(s.flowTraceId(f))).concat(hex(s.traceId)));
    expect(traces.size).toBe(5001);
  });

  it("derives a task's ids from SHA-256(S \"task=<id>.<incarnation>\"), as docs/EXPORT.md says", () => {
    const sha = (data: Uint8Array | string) => new Uint8Array(createHash("sha256").update(data).digest());
    const f = sha("taskscope-otlp-ids/2\0created=5");
    const sDigest = sha(Buffer.concat([f, Buffer.from("session=1/9")]));
    const s = new IdScheme("created=5").session(1, 9);
    expect(hex(s.traceId)).toBe(hex(sDigest.subarray(0, 16)));
    for (const [id, incarnation] of [[0, 0], [7, 1], [65535, 12], [4294967295, 4294967295], [2 ** 53 - 1, 10], [1e16, 3], [1.5, 2]] as const) {
      const t = sha(Buffer.concat([sDigest, Buffer.from(`task=${id}.${incarnation}`)]));
      const task = s.task(id, incarnation);
      expect(hex(task.spanId)).toBe(hex(t.subarray(0, 8)));
      expect(hex(task.segment(1))).not.toBe(hex(t.subarray(8, 16)));
    }
  });
});

describe("Sha256: node:crypto's digest without allocating", () => {
  it("matches node:crypto for messages of every length across the padding boundaries", () => {
    const h = new Sha256();
    const out = new Uint8Array(32);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (message) => {
        h.digest(message, message.length, out);
        expect(Buffer.from(out).toString("hex")).toBe(createHash("sha256").update(message).digest("hex"));
      }),
      { numRuns: 400 },
    );
    for (let n = 0; n <= 130; n++) {
      const message = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
      h.digest(message, n, out);
      expect(Buffer.from(out).toString("hex")).toBe(createHash("sha256").update(message).digest("hex"));
    }
  });
});

describe("formatLog", () => {
  it("fills each {} in turn and keeps what does not fit", () => {
    expect(formatLog("request {} done with {} workers", [7, 3])).toBe("request 7 done with 3 workers");
    expect(formatLog("a {} b {}", [1])).toBe("a 1 b {}");
    expect(formatLog("no holes", [1, -2])).toBe("no holes [1, -2]");
    expect(formatLog("", [])).toBe("");
  });

  it("says what the regular expression it replaced said, for any format and arguments", () => {
    const reference = (format: string, args: readonly number[]): string => {
      let next = 0;
      const text = format.replace(/\{\}/g, (hole) => (next < args.length ? String(args[next++]) : hole));
      return next < args.length ? `${text} [${args.slice(next).join(", ")}]` : text;
    };
    const format = fc.array(fc.constantFrom("{", "}", "{}", "a", " ", "é"), { maxLength: 12 }).map((parts) => parts.join(""));
    const args = fc.array(fc.oneof(fc.integer(), fc.double()), { maxLength: 5 });
    fc.assert(
      fc.property(format, args, (f, a) => {
        expect(formatLog(f, a)).toBe(reference(f, a));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("LintIndex: each lint placed once", () => {
  const lint = (kind: Lint["kind"], atNs: number, ids: number[], session = 0): Lint => ({
    kind, severity: "warning", title: kind, hint: "", session, atNs, evidence: {},
    tasks: ids.map((id) => ({ session, id, name: `t${id}` })),
  });

  it("gives a task's lints within its life, the rest to the session, each counted once", () => {
    const a = lint("long-poll", 50, [1]);
    const b = lint("leak", 500, [1]);
    const d = lint("deadlock", 60, [1, 2]);
    const s = lint("lost-events", 1, []);
    const gap = lint("starvation", 150, [1]);
    const other = lint("leak", 5, [1], 1);
    const index = new LintIndex([b, d, a, s, gap, other]);
    expect(index.takeForTask(0, 1, 10, 100)).toEqual([a, d]); // first incarnation: 10 to 100
    expect(index.takeForTask(0, 1, 10, 100)).toEqual([]);
    expect(index.takeForTask(0, 2, 0, 1000)).toEqual([d]); // the deadlock names both tasks
    expect(index.takeForTask(0, 1, 200, 300)).toEqual([]); // the second incarnation: 150 was before it
    expect(index.placed).toBe(2);
    expect(index.takeForSession(0)).toEqual([s, gap, b]); // b: no incarnation of task 1 reached 500
    expect(index.placed).toBe(5);
    expect(index.inOrder(1)).toEqual([other]);
    expect(index.inOrder(0).map((l) => l.atNs)).toEqual([1, 50, 60, 150, 500]);
  });
});

describe("OTLP settings from flags and OTEL_EXPORTER_OTLP_* variables", () => {
  it("adds /v1/traces to a base URL, keeps a full one, and prefers flags to variables", () => {
    expect(resolveSendConfig({ endpoint: "http://collector:4318" }, {})!.url).toBe("http://collector:4318/v1/traces");
    expect(resolveSendConfig({ endpoint: "https://otlp.example/api/traces" }, {})!.url).toBe("https://otlp.example/api/traces");
    expect(resolveSendConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base" })!.url).toBe("http://c:4318/base/v1/traces");
    expect(resolveSendConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x" })!.url).toBe("http://t:1/x");
    expect(resolveSendConfig({ endpoint: "http://flag:1" }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:1/x" })!.url).toBe("http://flag:1/v1/traces");
    expect(resolveSendConfig({}, {})).toBeUndefined();
  });

  it("takes protocol and timeout from flag, signal variable, general variable, then default", () => {
    expect(resolveSendConfig({ endpoint: "http://c" }, {})).toMatchObject({ protocol: "http/protobuf", timeoutMillis: 10_000 });
    expect(resolveSendConfig({ endpoint: "http://c" }, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TIMEOUT: "500" }))
      .toMatchObject({ protocol: "http/json", timeoutMillis: 500 });
    expect(resolveSendConfig({ endpoint: "http://c" }, { OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" })!.protocol).toBe("http/protobuf");
    expect(resolveSendConfig({ endpoint: "http://c", protocol: "http/json", timeoutMs: "42" }, { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }))
      .toMatchObject({ protocol: "http/json", timeoutMillis: 42 });
  });

  it("refuses what it cannot do, naming the setting and never a header value", () => {
    const refuse = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(OtlpConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(refuse(() => resolveSendConfig({ endpoint: "ftp://x" }, {}))).toBe("--endpoint must be an http:// or https:// URL, not ftp://");
    expect(refuse(() => resolveSendConfig({ endpoint: "not a url" }, {}))).toBe("--endpoint must be an http:// or https:// URL");
    expect(refuse(() => resolveSendConfig({ endpoint: "http://c" }, { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }))).toContain("grpc is not supported");
    expect(refuse(() => resolveSendConfig({ endpoint: "http://c", timeoutMs: "soon" }, {}))).toContain("--timeout");
    const msg = refuse(() => resolveSendConfig({ endpoint: "http://c", headers: ["bad header=s3cr3t-value"] }, {}));
    expect(msg).toContain("--header");
    expect(msg).not.toContain("s3cr3t");
    expect(refuse(() => spanLimitsFromEnv({ OTEL_SPAN_EVENT_COUNT_LIMIT: "-1" }))).toContain("OTEL_SPAN_EVENT_COUNT_LIMIT");
  });

  it("collects every secret: header values from flags and variables, URL credentials and query", () => {
    const cfg = resolveSendConfig(
      { endpoint: "https://me:p%40ss@otlp.example/v1/traces?token=qwerty", headers: ["Authorization=Bearer abc123", "x-empty="] },
      { OTEL_EXPORTER_OTLP_HEADERS: "api-key=k%20ey,x-scope=team", OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-other=zzz" },
    )!;
    expect(cfg.headers).toEqual({ Authorization: "Bearer abc123", "x-empty": "" });
    expect(cfg.displayUrl).toBe("https://otlp.example/v1/traces");
    for (const s of ["Bearer abc123", "k ey", "k%20ey", "team", "zzz", "p%40ss", "p@ss", "qwerty", "token=qwerty"]) expect(cfg.secrets).toContain(s);
    expect(cfg.secrets).not.toContain("me"); // a user name is not a credential (and would blank out every "me")
    const text = "failed: Bearer abc123 / k ey / p@ss / ?token=qwerty / qwerty";
    expect(redact(text, cfg.secrets)).toBe("failed: *** / *** / *** / ?*** / ***");
  });

  it("redacts a secret's token quoted alone, or in part, by whoever answers", () => {
    const secrets = ["Bearer tok_4f9a1c2e7b3d5a60", "x-api-key-value-0123456789"];
    // A collector quoting the token without "Bearer", or only its first characters.
    expect(redact("401: invalid API token 'tok_4f9a1c2e7b3d5a60'", secrets)).toBe("401: invalid API token '***'");
    expect(redact("invalid API token 'tok_4f9a1c2e...'", secrets)).toBe("invalid API token '***...'");
    expect(redact("key ...0123456789 rejected", secrets)).toBe("key ...*** rejected");
    // Short common words of a secret stay: only whole secrets and runs of 8+ characters go.
    expect(redact("Bearer token missing", secrets)).toBe("Bearer token missing");
  });

  it("reads span limits and resource attributes the SDK's way", () => {
    expect(spanLimitsFromEnv({})).toEqual({ events: 128, links: 128 });
    expect(spanLimitsFromEnv({ OTEL_SPAN_EVENT_COUNT_LIMIT: "10", OTEL_SPAN_LINK_COUNT_LIMIT: "0" })).toEqual({ events: 10, links: 0 });
    expect(resourceOverridesFromEnv({ OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=lab,service.name=x", OTEL_SERVICE_NAME: "gw" }))
      .toEqual({ "deployment.environment": "lab", "service.name": "gw" });
  });
});
