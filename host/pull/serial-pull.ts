// Pulls a trace from a device on a serial port into a trace file: the port (host/sources/serial),
// the link protocol (host/link/session) and the ingest (./ingest) wired together. The caller
// decides when a stream ends (stop()), and sees progress through stats.

import { SerialSource } from "../sources/serial.js";
import { LinkSession, type LinkSessionOptions, type LinkStats } from "../link/session.js";
import type { FrameDecoderStats } from "../link/frame-decoder.js";
import { TraceWriter } from "../tracefile/writer.js";
import type { FooterInfo } from "../tracefile/schema.js";
import { TraceIngest, type IngestStats } from "./ingest.js";
import { LinkIngest, type RecordTap } from "./link-ingest.js";
import { TappedTraceWriter, type StoreTap } from "./store-tap.js";

export interface SerialPullOptions extends Omit<LinkSessionOptions, "now"> {
  path: string;
  baudRate: number;
  output: string;
  /** Header "tool" field. */
  tool: string;
  mode: "dump" | "stream";
  /** Sees every record stored, with its anchor (the live view). */
  tap?: RecordTap;
  /** Sees every item stored in the trace file, after it is written (the live OTLP export). */
  store?: StoreTap;
  /** Called when the port goes away and when it is back. */
  onPortState?: (open: boolean) => void;
}

export interface SerialPullStats {
  ingest: IngestStats;
  link: LinkStats;
  frames: FrameDecoderStats;
  bytesOut: number;
  portOpen: boolean;
  /** Times the port went away and was opened again. */
  reopened: number;
}

/** A pull in progress: `done` settles when it ends (dump complete, or stream stopped). */
export class SerialPull {
  readonly writer: TraceWriter;
  private readonly source: SerialSource;
  private readonly session: LinkSession;
  private readonly ingest: TraceIngest;
  private constructor(
    private readonly opts: SerialPullOptions,
    source: SerialSource,
    session: LinkSession,
    writer: TraceWriter,
    ingest: TraceIngest,
    private readonly reopened: { count: number },
  ) {
    this.source = source;
    this.session = session;
    this.writer = writer;
    this.ingest = ingest;
  }

  /** Opens the port (SerialSourceError if it cannot be used), then the trace file. */
  static async open(opts: SerialPullOptions): Promise<SerialPull> {
    let session: LinkSession | undefined;
    const reopened = { count: 0 };
    const source = new SerialSource({
      path: opts.path,
      baudRate: opts.baudRate,
      onFrame: (f) => session?.frame(f),
      onDamage: () => session?.damaged(),
      onDisconnect: () => {
        session?.disconnected();
        opts.onPortState?.(false);
      },
      onReconnect: () => {
        reopened.count++;
        session?.reconnected();
        opts.onPortState?.(true);
      },
    });
    await source.open();
    let writer: TraceWriter;
    try {
      writer = opts.store ? new TappedTraceWriter(opts.output, opts.store) : new TraceWriter(opts.output);
    } catch (e) {
      await source.close();
      throw e;
    }
    writer.header({ tool: opts.tool, source: `serial:${opts.path}` });
    const ingest = new TraceIngest(writer);
    session = new LinkSession((bytes) => source.write(bytes), new LinkIngest(ingest, opts.tap), {
      bytesPerSecond: opts.baudRate / 10,
      ...opts,
    });
    return new SerialPull(opts, source, session, writer, ingest, reopened);
  }

  /** Runs the dump or the stream; settles when it is over (stop() ends a stream). */
  run(): Promise<void> {
    return this.opts.mode === "dump" ? this.session.dump() : this.session.stream();
  }

  /** Ends a stream with a closing dump of whatever has not arrived yet. */
  stop(): void {
    this.session.stop();
  }

  /** Ends now, keeping what arrived. */
  abandon(): void {
    this.session.abandon();
  }

  /** Waits until no byte arrived for `quietMs` (at most `maxMs`). */
  private async quiet(quietMs: number, maxMs: number): Promise<void> {
    const until = Date.now() + maxMs;
    let last = -1;
    while (Date.now() < until && this.source.isOpen) {
      const bytes = this.source.stats.bytes;
      if (bytes === last) return;
      last = bytes;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  get stats(): SerialPullStats {
    return {
      ingest: this.ingest.stats,
      link: this.session.stats,
      frames: this.source.stats,
      bytesOut: this.source.bytesOut,
      portOpen: this.source.isOpen,
      reopened: this.reopened.count,
    };
  }

  /** Reads what is still on the wire (late answers to commands sent twice), then writes the
   *  footer and closes the file and the port. */
  async close(reason: string): Promise<FooterInfo> {
    await this.quiet(100, 1000);
    const footer = this.ingest.finish(reason);
    this.writer.close();
    await this.source.close();
    return footer;
  }
}
