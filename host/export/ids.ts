// Deterministic trace and span ids: a SHA-256 of the trace file's identity and a key naming the
// thing (session, flow, task incarnation, poll), so exporting the same file twice gives the same
// ids and a re-export replaces rather than duplicates what a backend already holds. The scheme
// is documented in docs/EXPORT.md ("Ids").

import * as crypto from "node:crypto";
import type { TraceHeader } from "../tracefile/schema.js";

const SCHEME = "taskscope-otlp-ids/1";

export class IdScheme {
  /** `identity` names the trace file: its header's creation time. */
  constructor(private readonly identity: string) {}

  static forHeader(header: TraceHeader): IdScheme {
    return new IdScheme(`created=${header.created}`);
  }

  /** 16 bytes, hex (32 digits), never all zero. */
  traceId(key: string): string {
    return this.digest(`trace|${key}`, 32);
  }

  /** 8 bytes, hex (16 digits), never all zero. */
  spanId(key: string): string {
    return this.digest(`span|${key}`, 16);
  }

  private digest(key: string, digits: number): string {
    const hex = sha256Hex(`${SCHEME}\0${this.identity}\0${key}`).slice(0, digits);
    // An all-zero id is invalid in OTLP; a hash gives one with probability 2^-64 at worst.
    return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
  }
}

/** crypto.hash (Node >= 20.12) is the same digest at half the cost of a Hash object per id. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === "function"
    ? (text) => crypto.hash("sha256", text, "hex")
    : (text) => crypto.createHash("sha256").update(text).digest("hex");

/** The key prefix of one device session in a file: its index and the device's session id. */
export function sessionKey(index: number, deviceSession: number): string {
  return `session=${index}/${deviceSession}`;
}
