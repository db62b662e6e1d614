// Connects a link session (host/link/session.ts) to the trace-file ingest: the session hands over
// ordered records per device session, the ingest stores them exactly as it stores a WASI drain.
// An optional tap sees the same records (the live view decodes them).

import type { LinkSink } from "../link/session.js";
import type { ClockAnchor, EarlierPull } from "../tracefile/schema.js";
import type { TraceIngest } from "./ingest.js";

export type RecordTap = (records: Uint8Array, anchor: ClockAnchor) => void;

export class LinkIngest implements LinkSink {
  private anchor: ClockAnchor | undefined;

  constructor(
    private readonly ingest: TraceIngest,
    private readonly tap?: RecordTap,
  ) {}

  session(info: Uint8Array, anchor: ClockAnchor, earlier: EarlierPull): void {
    this.anchor = anchor;
    this.ingest.push(info, anchor, earlier);
    this.tap?.(info, anchor);
  }

  records(bytes: Uint8Array): void {
    const anchor = this.anchor;
    if (!anchor) return; // nothing belongs to a session before its INFO
    this.ingest.push(bytes, anchor);
    this.tap?.(bytes, anchor);
  }

  lost(fromSeq: number, toSeq: number, reason: string): void {
    this.ingest.linkLoss(fromSeq, toSeq, reason);
  }
}
