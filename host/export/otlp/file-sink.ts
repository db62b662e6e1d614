// OTLP to a file, a batch at a time, through the official serializers. The file holds one
// ExportTraceServiceRequest whatever its size: protobuf messages concatenate into one message
// whose repeated resource_spans are the union (the protobuf merge rule), and for JSON each
// batch's resourceSpans entries are spliced into one array. Either file can be posted to a
// collector's /v1/traces as it is.

import { JsonTraceSerializer, ProtobufTraceSerializer } from "@opentelemetry/otlp-transformer";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { OutputFile } from "../output.js";

export type OtlpFileFormat = "json" | "protobuf";

const JSON_HEAD = '{"resourceSpans":[';
const JSON_TAIL = "]}";

export class OtlpFileSink {
  private first = true;
  private readonly decoder = new TextDecoder();

  constructor(
    private readonly out: OutputFile,
    readonly format: OtlpFileFormat,
  ) {
    if (format === "json") out.write(JSON_HEAD);
  }

  write(spans: ReadableSpan[]): void {
    if (spans.length === 0) return;
    if (this.format === "protobuf") {
      this.out.write(ProtobufTraceSerializer.serializeRequest(spans)!);
      return;
    }
    const text = this.decoder.decode(JsonTraceSerializer.serializeRequest(spans)!);
    if (!text.startsWith(JSON_HEAD) || !text.endsWith(JSON_TAIL)) {
      throw new Error(`unexpected OTLP/JSON request shape from the serializer: ${text.slice(0, 40)}...`);
    }
    const inner = text.slice(JSON_HEAD.length, text.length - JSON_TAIL.length);
    if (inner.length === 0) return;
    this.out.write(this.first ? inner : `,${inner}`);
    this.first = false;
  }

  close(): void {
    if (this.format === "json") this.out.write(`${JSON_TAIL}\n`);
  }
}
