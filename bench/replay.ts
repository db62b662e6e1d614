// A trace file written again item by item through a TraceWriter (a tapped one, for
// the live export), as a pull would have stored it: the same header (creation time included, so
// the OTLP ids match), sessions, names, chunks items, counters, losses and footer.

import { TraceFileReader } from "../host/tracefile/reader.js";
import type { TraceWriter } from "../host/tracefile/writer.js";

/** Copies `file` into `writer` (not closed); `between` runs after each item (to let sends go). */
export async function replayTrace(file: string, writer: TraceWriter, between?: () => Promise<void> | void): Promise<void> {
  for (const item of new TraceFileReader(file)) {
    switch (item.type) {
      case "header":
        writer.header({ tool: item.header.tool, source: item.header.source, created: item.header.created });
        break;
      case "session":
        writer.session(item.info);
        break;
      case "names":
        writer.names(item.session, item.names);
        break;
      case "chunks":
        writer.chunks(item.session, item.chunks);
        break;
      case "counters":
        writer.counters(item.session, item.counters);
        break;
      case "stalls":
        writer.stalls(item.session, item.stalls);
        break;
      case "loss":
        writer.loss(item.session, item.loss);
        break;
      case "footer":
        writer.footer({ ...item.footer });
        break;
    }
    await between?.();
  }
}
