// Test helper: a real OTLP/HTTP trace receiver on localhost (node:http, or node:https with a
// certificate made by openssl). It records every request (headers, body, gunzipped if sent so),
// decodes the spans with the independent readers of otlp-decode.ts (JSON or protobuf by
// Content-Type), and answers from a script: e.g. 429 then 503 then 200, to exercise retries.

import { execFileSync } from "node:child_process";
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { decodeJsonRequest, decodeProtobufRequest, type OtlpSpan } from "./otlp-decode.js";

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** Response body; `echo-auth` sends back the request's authorization header (a leaky server). */
  body?: string | "echo-auth";
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Decoded spans, or the decoding error. */
  spans: OtlpSpan[];
  decodeError: string | undefined;
  answer: Answer;
}

export interface CollectorOptions {
  tls?: { key: string; cert: string };
  /** Never answer (a collector that hangs). */
  hang?: boolean;
  /** Answers for the first requests, in order; later ones get 200. */
  script?: Answer[];
}

export class TestCollector {
  readonly requests: ReceivedRequest[] = [];
  private readonly script: Answer[];
  /** Set by hold(): the answer to every request until released. */
  private held: Answer | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    script: Answer[],
    private readonly hang: boolean,
  ) {
    this.script = [...script];
  }

  static async start(options: CollectorOptions = {}): Promise<TestCollector> {
    let collector: TestCollector | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => collector!.handle(req, res);
    const server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createHttpServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    collector = new TestCollector(server, `${options.tls ? "https" : "http"}://127.0.0.1:${port}`, options.script ?? [], options.hang ?? false);
    return collector;
  }

  /** Requests answered with a 2xx. */
  get accepted(): ReceivedRequest[] {
    return this.requests.filter((r) => r.answer.status >= 200 && r.answer.status < 300);
  }

  /** Spans of the accepted requests. */
  spans(): OtlpSpan[] {
    return this.accepted.flatMap((r) => r.spans);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Answers the next requests with these, in order (then 200 again). */
  answer(...answers: Answer[]): void {
    this.script.push(...answers);
  }

  /** Answers every request with `answer` (a 503, say) until hold(undefined). */
  hold(answer: Answer | undefined): void {
    this.held = answer;
  }

  /** Stops listening (new connections are refused) until up(). Requests already received are
   *  answered first, so none is taken without its sender hearing so (an abrupt crash can make a
   *  sender try a taken request again: OTLP delivers at least once). */
  async down(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections?.();
    await closed;
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    const port = Number(new URL(this.url).port);
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, "127.0.0.1", () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const parts: Buffer[] = [];
    req.on("data", (c: Buffer) => parts.push(c));
    req.on("end", () => {
      let body = Buffer.concat(parts);
      let spans: OtlpSpan[] = [];
      let decodeError: string | undefined;
      try {
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        const type = String(req.headers["content-type"] ?? "");
        if (type.startsWith("application/json")) spans = decodeJsonRequest(body.toString("utf8"));
        else if (type.startsWith("application/x-protobuf")) spans = decodeProtobufRequest(body);
        else decodeError = `unexpected content type '${type}'`;
      } catch (e) {
        decodeError = (e as Error).message;
      }
      const answer = this.hang ? { status: 0 } : (this.held ?? this.script.shift() ?? { status: decodeError ? 400 : 200 });
      this.requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body, spans, decodeError, answer });
      if (this.hang) return;
      const json = String(req.headers["content-type"] ?? "").startsWith("application/json");
      const text = answer.body === "echo-auth" ? `bad credentials: ${req.headers["authorization"] ?? ""} ${req.headers["api-key"] ?? ""}` : (answer.body ?? (json ? "{}" : ""));
      res.writeHead(answer.status, { "content-type": json ? "application/json" : "application/x-protobuf", ...answer.headers });
      res.end(text);
    });
  }
}

/** A self-signed certificate for 127.0.0.1 / localhost, made with openssl; undefined without it. */
export function selfSignedCert(dir: string): { key: string; cert: string; certPath: string } | undefined {
  const keyPath = join(dir, "collector-key.pem");
  const certPath = join(dir, "collector-cert.pem");
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath, "-days", "1",
      "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ], { stdio: "ignore" });
  } catch {
    return undefined;
  }
  return { key: readFileSync(keyPath, "utf8"), cert: readFileSync(certPath, "utf8"), certPath };
}
