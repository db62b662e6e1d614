// Where and how to send OTLP, from flags and the standard OTEL_EXPORTER_OTLP_* variables, with
// the precedence the OpenTelemetry specification gives them (a flag beats the signal-specific
// variable, which beats the general one). Also the secrets that must never be printed: every
// header value and any credentials in the endpoint URL.

import type { Attributes } from "@opentelemetry/api";
import { DEFAULT_SPAN_LIMITS, type SpanLimits } from "./spans.js";
import { otel } from "./lazy.js";

export type Env = Readonly<Record<string, string | undefined>>;

export type OtlpProtocol = "http/protobuf" | "http/json";

/** Wrong settings: the CLI reports these as usage errors. */
export class OtlpConfigError extends Error {}

/** The export could not be delivered; the message is safe to print (secrets removed). */
export class OtlpSendError extends Error {}

export interface SendFlags {
  endpoint?: string;
  /** "Key=Value" strings, as given with --header. */
  headers?: readonly string[];
  protocol?: string;
  timeoutMs?: string;
}

export interface SendConfig {
  /** The traces URL requests go to. */
  url: string;
  /** The URL without credentials or query, safe to print. */
  displayUrl: string;
  /** Headers from flags; the exporter adds OTEL_EXPORTER_OTLP_(TRACES_)HEADERS itself. */
  headers: Record<string, string>;
  protocol: OtlpProtocol;
  timeoutMillis: number;
  /** Values never to print (header values, URL credentials). */
  secrets: string[];
}

const TRACES_PATH = "v1/traces";
const DEFAULT_TIMEOUT_MS = 10_000;

/** The send configuration, or undefined when no endpoint is given by flag or environment. */
export function resolveSendConfig(flags: SendFlags, env: Env): SendConfig | undefined {
  const secrets = headerSecrets(env);
  const headers: Record<string, string> = {};
  for (const h of flags.headers ?? []) {
    const eq = h.indexOf("=");
    const key = eq > 0 ? h.slice(0, eq).trim() : "";
    if (key === "" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(key)) {
      // The value may be a token: name only the part before '='.
      throw new OtlpConfigError(`--header takes KEY=VALUE with a valid header name, not '${eq > 0 ? h.slice(0, eq) : "(no '=')"}=...'`);
    }
    const value = h.slice(eq + 1);
    headers[key] = value;
    if (value !== "") secrets.push(value);
  }
  const url = endpointUrl(flags.endpoint, env);
  if (url === undefined) return undefined;
  for (const part of urlSecrets(url)) secrets.push(part);
  return {
    url: url.href,
    displayUrl: `${url.protocol}//${url.host}${url.pathname}`,
    headers,
    protocol: protocol(flags.protocol, env),
    timeoutMillis: timeout(flags.timeoutMs, env),
    secrets: [...new Set(secrets)].filter((s) => s.length > 0),
  };
}

/**
 * --endpoint: a full traces URL, or a collector's base URL (nothing after the host) to which
 * /v1/traces is added. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as given;
 * OTEL_EXPORTER_OTLP_ENDPOINT gets /v1/traces appended (as the specification says).
 */
function endpointUrl(flag: string | undefined, env: Env): URL | undefined {
  if (flag !== undefined) {
    const url = parseUrl(flag, "--endpoint");
    if (url.pathname === "/" || url.pathname === "") url.pathname = `/${TRACES_PATH}`;
    return url;
  }
  const specific = nonEmpty(env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
  if (specific !== undefined) return parseUrl(specific, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const general = nonEmpty(env["OTEL_EXPORTER_OTLP_ENDPOINT"]);
  if (general !== undefined) {
    const url = parseUrl(general, "OTEL_EXPORTER_OTLP_ENDPOINT");
    url.pathname = url.pathname.endsWith("/") ? `${url.pathname}${TRACES_PATH}` : `${url.pathname}/${TRACES_PATH}`;
    return url;
  }
  return undefined;
}

function parseUrl(text: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OtlpConfigError(`${what} must be an http:// or https:// URL`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new OtlpConfigError(`${what} must be an http:// or https:// URL, not ${url.protocol}//`);
  }
  return url;
}

function protocol(flag: string | undefined, env: Env): OtlpProtocol {
  const [value, what] =
    flag !== undefined ? [flag, "--protocol"]
    : nonEmpty(env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]) !== undefined ? [env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]!, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"]
    : nonEmpty(env["OTEL_EXPORTER_OTLP_PROTOCOL"]) !== undefined ? [env["OTEL_EXPORTER_OTLP_PROTOCOL"]!, "OTEL_EXPORTER_OTLP_PROTOCOL"]
    : ["http/protobuf", "default"];
  const p = value.trim();
  if (p === "http/protobuf" || p === "http/json") return p;
  if (p === "grpc") throw new OtlpConfigError(`${what}: grpc is not supported; use http/protobuf or http/json`);
  throw new OtlpConfigError(`${what} must be http/protobuf or http/json, not '${p}'`);
}

function timeout(flag: string | undefined, env: Env): number {
  const [value, what] =
    flag !== undefined ? [flag, "--timeout"]
    : nonEmpty(env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"]) !== undefined ? [env["OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"]!, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT"]
    : nonEmpty(env["OTEL_EXPORTER_OTLP_TIMEOUT"]) !== undefined ? [env["OTEL_EXPORTER_OTLP_TIMEOUT"]!, "OTEL_EXPORTER_OTLP_TIMEOUT"]
    : [String(DEFAULT_TIMEOUT_MS), "default"];
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new OtlpConfigError(`${what} takes a number of milliseconds above 0, not '${value}'`);
  return ms;
}

/** Header values from the environment, decoded and as written (both must stay unprinted). */
export function headerSecrets(env: Env): string[] {
  const out: string[] = [];
  for (const name of ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS"]) {
    const raw = env[name];
    if (!raw) continue;
    out.push(...Object.values(otel.core().parseKeyPairsIntoRecord(raw)));
    for (const pair of raw.split(",")) {
      const eq = pair.indexOf("=");
      if (eq >= 0) out.push(pair.slice(eq + 1).trim());
    }
  }
  return out;
}

/** The password and the query of a URL (a user name is not a credential). */
function urlSecrets(url: URL): string[] {
  const out = [url.password, decodeSafe(url.password)];
  for (const [, value] of url.searchParams) out.push(value);
  if (url.search.length > 1) out.push(url.search.slice(1));
  return out;
}

function decodeSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** OTEL_SPAN_EVENT_COUNT_LIMIT and OTEL_SPAN_LINK_COUNT_LIMIT (the SDK's own variables). */
export function spanLimitsFromEnv(env: Env): SpanLimits {
  return {
    events: countLimit(env, "OTEL_SPAN_EVENT_COUNT_LIMIT", DEFAULT_SPAN_LIMITS.events),
    links: countLimit(env, "OTEL_SPAN_LINK_COUNT_LIMIT", DEFAULT_SPAN_LIMITS.links),
  };
}

function countLimit(env: Env, name: string, fallback: number): number {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new OtlpConfigError(`${name} must be a whole number, not '${raw}'`);
  return n;
}

/** OTEL_RESOURCE_ATTRIBUTES, then OTEL_SERVICE_NAME (which wins for service.name). */
export function resourceOverridesFromEnv(env: Env): Attributes {
  const out: Attributes = {};
  const raw = env["OTEL_RESOURCE_ATTRIBUTES"];
  if (raw) Object.assign(out, otel.core().parseKeyPairsIntoRecord(raw));
  const service = nonEmpty(env["OTEL_SERVICE_NAME"]);
  if (service !== undefined) out["service.name"] = service;
  return out;
}

export { redact } from "./redact.js";
