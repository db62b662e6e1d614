// A tap on what a pull stores: every item goes to the trace file first, then to the tap, in the
// file's order. So whoever listens (the live OTLP export) sees exactly what a later reader of the
// file will see, item for item, while the pull is still running. A tap that throws is detached
// and told why; the recording goes on without it.

import type { DeviceCounters, NameEntry } from "../format/records.js";
import type { FooterInfo, LossInfo, SessionInfo, StallInfo, TraceHeader } from "../tracefile/schema.js";
import { TRACE_FILE_VERSION } from "../format/spec.js";
import { TraceWriter, unixNowNs, type FooterFields, type HeaderFields } from "../tracefile/writer.js";

export interface StoreTap {
  header(header: TraceHeader): void;
  session(index: number, info: SessionInfo): void;
  names(index: number, entries: readonly NameEntry[]): void;
  /** The CHUNK payloads of one chunks item (views: valid during the call). */
  chunks(index: number, payloads: readonly Uint8Array[]): void;
  counters(index: number, counters: DeviceCounters): void;
  stalls(index: number, stalls: StallInfo): void;
  loss(index: number, loss: LossInfo): void;
  footer(footer: FooterInfo): void;
  /** The tap threw: it gets nothing more. */
  detached(error: unknown): void;
}

/** A TraceWriter that hands each item it wrote to a tap. */
export class TappedTraceWriter extends TraceWriter {
  private tap: StoreTap | undefined;

  constructor(path: string, tap: StoreTap) {
    super(path);
    this.tap = tap;
  }

  override header(fields: HeaderFields): void {
    // The creation time is fixed here so the tap gets the value the file holds.
    const created = fields.created ?? unixNowNs();
    super.header({ ...fields, created });
    this.pass((t) => t.header({ version: TRACE_FILE_VERSION, created, tool: fields.tool, source: fields.source }));
  }

  override session(info: SessionInfo): number {
    const index = super.session(info);
    this.pass((t) => t.session(index, info));
    return index;
  }

  override names(session: number, entries: readonly NameEntry[]): void {
    super.names(session, entries);
    if (entries.length > 0) this.pass((t) => t.names(session, entries));
  }

  override chunks(session: number, payloads: readonly Uint8Array[]): void {
    super.chunks(session, payloads);
    if (payloads.length > 0) this.pass((t) => t.chunks(session, payloads));
  }

  override counters(session: number, counters: DeviceCounters): void {
    super.counters(session, counters);
    this.pass((t) => t.counters(session, counters));
  }

  override stalls(session: number, stalls: StallInfo): void {
    super.stalls(session, stalls);
    this.pass((t) => t.stalls(session, stalls));
  }

  override loss(session: number, loss: LossInfo): void {
    super.loss(session, loss);
    this.pass((t) => t.loss(session, loss));
  }

  override footer(fields: FooterFields): FooterInfo {
    const footer = super.footer(fields);
    this.pass((t) => t.footer(footer));
    return footer;
  }

  private pass(deliver: (tap: StoreTap) => void): void {
    const tap = this.tap;
    if (!tap) return;
    try {
      deliver(tap);
    } catch (error) {
      this.tap = undefined;
      tap.detached(error);
    }
  }
}
