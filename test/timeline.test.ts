// The timeline (host/export/timeline.ts) over hand-made batches: what a sink sees of a session's
// time span whether or not it asks to be told of every event, the live task states it is handed
// (ids reused, ids past the dense range, a task that just ended waking its joiner), and, through
// the Perfetto sink, an await site whose name arrives after the events that use it.

import { describe, it, expect } from "vitest";
import type { OutputFile } from "../host/export/output.js";
import { PacketWriter } from "../host/export/perfetto/packets.js";
import { PerfettoTrackMapper } from "../host/export/perfetto/track-mapper.js";
import { Timeline, type TaskState, type TimelineOptions, type TimelineSession, type TimelineSink, type Wake } from "../host/export/timeline.js";
import { EventBatch } from "../host/format/batch.js";
import { NameTable } from "../host/format/names.js";
import { EVENT, LOG_ARG, NAME_KIND } from "../host/format/spec.js";
import type { TraceSession, TraceSummary } from "../host/tracefile/trace.js";
import { readPerfetto } from "./support/perfetto-decode.js";

type Row = [kind: number, t: number, task: number, a?: number, b?: number, c?: number, v?: number];

function batch(rows: Row[]): EventBatch {
  const out = new EventBatch();
  for (const [kind, t, task, a = 0, b = 0, c = 0, v = 0] of rows) out.push(kind, t, task, a, b, c, v);
  return out;
}

function session(index = 0): TraceSession {
  return {
    index,
    info: {
      deviceSession: 1, format: 2, tickHz: 1_000_000, device: "dev", firmware: "fw", mode: "overwrite", chunkSize: 4096, chunkCount: 8,
      namesCapacity: 64, maxTasks: 64, filter: 0, anchor: { ticks: 0, unixNs: 1_700_000_000_000_000_000n },
    },
    names: new NameTable(),
    counters: undefined, stalls: undefined, chunks: 1, events: 0, resentEvents: 0, damagedEvents: 0, lastSeq: undefined,
  };
}

function summary(sessions: TraceSession[]): TraceSummary {
  return { sessions, losses: [] } as unknown as TraceSummary;
}

/** A sink that notes what it is told: the session's span at its end, and the task states. */
class Notes implements TimelineSink<number> {
  span: { firstT: number; lastT: number } | undefined;
  readonly polls: { id: number; incarnation: number; seq: number }[] = [];
  readonly wakes: { target: number; by: number | undefined; byEnded: boolean }[] = [];
  readonly ends: { id: number; incarnation: number; end: string | undefined }[] = [];
  sessionStart(): void {}
  taskStart(task: TaskState<number>): number {
    return task.seq;
  }
  pollBegin(task: TaskState<number>): void {
    expect(task.x).toBe(task.seq); // the sink's own state comes with the task
    this.polls.push({ id: task.id, incarnation: task.incarnation, seq: task.seq });
  }
  pollEnd(): void {}
  wake(w: Wake<number>): void {
    this.wakes.push({ target: w.target.id, by: w.by?.id, byEnded: w.by?.end !== undefined });
  }
  taskEnd(task: TaskState<number>): void {
    this.ends.push({ id: task.id, incarnation: task.incarnation, end: task.end });
  }
  flowBegin(): void {}
  flowEnd(): void {}
  flowEnter(): void {}
  log(): void {}
  mark(): void {}
  counter(): void {}
  memory(): void {}
  resourceOp(): void {}
  idle(): void {}
  interrupt(): void {}
  sessionEnd(s: TimelineSession): void {
    this.span = { firstT: s.firstT, lastT: s.lastT };
  }
}

/** The same, asking to be told of every event's time. */
class AdvancingNotes extends Notes {
  readonly times: number[] = [];
  advance(_s: TimelineSession, t: number): void {
    this.times.push(t);
  }
}

function run(sink: TimelineSink<number>, batches: Row[][], options: TimelineOptions = {}): void {
  const s = session();
  const tl = new Timeline(sink, options);
  for (const rows of batches) tl.consume(batch(rows), s);
  tl.finish(summary([s]));
}

describe("Timeline", () => {
  // Chunks of a batch out of order (the second one earlier), a LOG whose argument row carries a
  // later time than any event (the model reads it with its LOG, not as an event), and a last row
  // earlier than the latest event.
  const outOfOrder: Row[][] = [
    [
      [EVENT.SPAWN, 100, 1],
      [EVENT.POLL_BEGIN, 900, 1],
      [EVENT.POLL_PENDING, 950, 1],
      [EVENT.SPAWN, 400, 2],
      [EVENT.LOG, 500, 2, 0, 2, 1],
      [LOG_ARG, 5000, 2, 0, 0, 0, 7],
      [EVENT.POLL_BEGIN, 600, 2],
    ],
    [[EVENT.POLL_PENDING, 700, 2]],
  ];

  it("gives a session the time of its latest event, whether or not the sink is told of every one", () => {
    const quiet = new Notes();
    const told = new AdvancingNotes();
    run(quiet, outOfOrder);
    run(told, outOfOrder);
    expect(quiet.span).toEqual({ firstT: 100, lastT: 950 });
    expect(told.span).toEqual(quiet.span);
    expect(told.times).toEqual([100, 900, 950, 400, 500, 600, 700, Number.POSITIVE_INFINITY]);
  });

  it("agrees with a sink told of every event when a report window ends the session early", () => {
    for (const window of [{ untilNs: 450 }, { sinceNs: 300 }, { sinceNs: 300, untilNs: 850 }]) {
      const quiet = new Notes();
      const told = new AdvancingNotes();
      run(quiet, outOfOrder, { window });
      run(told, outOfOrder, { window });
      expect(quiet.span, JSON.stringify(window)).toEqual(told.span);
    }
  });

  it("hands the sink the live state of each task: ids reused, ids past the dense range, a task that just ended", () => {
    const big = 70_000; // past the ids kept in an array slot
    const notes = new Notes();
    run(notes, [
      [
        [EVENT.SPAWN, 10, 1],
        [EVENT.POLL_BEGIN, 20, 1],
        [EVENT.POLL_PENDING, 30, 1],
        [EVENT.SPAWN, 40, 1], // id 1 again, with no end: the first one is lost
        [EVENT.SPAWN, 50, big],
        [EVENT.POLL_BEGIN, 60, 1],
        [EVENT.POLL_PENDING, 70, 1],
        [EVENT.POLL_BEGIN, 80, big],
        [EVENT.POLL_READY, 90, big],
        [EVENT.TASK_DONE, 91, big],
        [EVENT.WAKE_TASK, 92, 1, big], // the task that just ended wakes its joiner
        [EVENT.POLL_BEGIN, 100, 1],
        [EVENT.POLL_READY, 110, 1],
        [EVENT.TASK_DONE, 111, 1],
      ],
    ]);
    expect(notes.polls).toEqual([
      { id: 1, incarnation: 1, seq: 0 },
      { id: 1, incarnation: 2, seq: 1 },
      { id: big, incarnation: 1, seq: 2 },
      { id: 1, incarnation: 2, seq: 1 },
    ]);
    expect(notes.wakes).toEqual([{ target: 1, by: big, byEnded: true }]);
    expect(notes.ends).toEqual([
      { id: 1, incarnation: 1, end: "lost" },
      { id: big, incarnation: 1, end: "done" },
      { id: 1, incarnation: 2, end: "done" },
    ]);
  });
});

describe("Perfetto sink", () => {
  it("names an await site by its text at each poll, also when its name arrives after its first use", () => {
    const chunks: Buffer[] = [];
    const out = { writeNow: (b: Uint8Array) => void chunks.push(Buffer.from(b)) } as unknown as OutputFile;
    const packets = new PacketWriter(out);
    const tl = new Timeline(new PerfettoTrackMapper(packets));
    const s = session();
    const poll = (t: number): Row[] => [
      [EVENT.POLL_BEGIN, t, 1],
      [EVENT.AWAIT, t + 1, 1, 1],
      [EVENT.POLL_PENDING, t + 2, 1],
    ];
    tl.consume(batch([[EVENT.SPAWN, 10, 1], ...poll(20), ...poll(30)]), s);
    s.names.addEntries([{ id: 1, kind: NAME_KIND.site, text: "read socket" }]);
    tl.consume(batch([...poll(40), ...poll(50)]), s);
    tl.finish(summary([s]));
    packets.flush();
    const trace = readPerfetto(Buffer.concat(chunks));
    const sites = trace.slices.filter((x) => x.name === "poll").map((x) => x.args["await_site"]);
    expect(sites).toEqual(["site#1", "site#1", "read socket", "read socket"]);
  });
});
