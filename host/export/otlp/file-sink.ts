// OTLP to a file, one request after another, each of bounded size, in the framing the
// OpenTelemetry world reads:
// - JSON: JSON Lines, one ExportTraceServiceRequest per line (the OTLP file format of the
//   OpenTelemetry specification, and what the Collector's otlpjsonfile receiver reads);
// - protobuf: each ExportTraceServiceRequest preceded by its length as a 4-byte big-endian
//   unsigned integer (the Collector's file exporter's `proto` format).
// Every request in it can be posted to a collector's /v1/traces as it is.

import type { OutputFile } from "../output.js";
import type { EncodedRequest } from "./encode.js";

export type OtlpFileFormat = "json" | "protobuf";

const NEWLINE = new Uint8Array([0x0a]);

export class OtlpFileSink {
  requests = 0;
  /** A request's length (copied with it by writeBehind). */
  private readonly head = new Uint8Array(4);

  constructor(
    private readonly out: OutputFile,
    readonly format: OtlpFileFormat,
  ) {}

  /** Writes a request; its bytes are not kept (the caller may reuse them). Protobuf requests are
   *  written behind (OutputFile.writeBehind): the caller `turn`s and `settle`s the output. */
  write(request: EncodedRequest): void {
    if (this.format === "json") {
      this.out.writeNow(request.bytes);
      this.out.write(NEWLINE);
    } else {
      const head = this.head;
      new DataView(head.buffer).setUint32(0, request.bytes.length, false);
      this.out.writeBehind(head, request.bytes);
    }
    this.requests++;
  }
}

/** The requests of an OTLP file written by OtlpFileSink, in order. */
export function* fileRequests(bytes: Uint8Array, format: OtlpFileFormat): Generator<Uint8Array> {
  if (format === "json") {
    let at = 0;
    while (at < bytes.length) {
      let end = bytes.indexOf(0x0a, at);
      if (end < 0) end = bytes.length;
      if (end > at) yield bytes.subarray(at, end);
      at = end + 1;
    }
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let at = 0; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new Error(`OTLP protobuf file cut inside a length at byte ${at}`);
    const n = view.getUint32(at, false);
    if (at + 4 + n > bytes.length) throw new Error(`OTLP protobuf file cut inside a request at byte ${at}`);
    yield bytes.subarray(at + 4, at + 4 + n);
    at += 4 + n;
  }
}
