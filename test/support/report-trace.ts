// Test helper: writes small, exact traces for the analysis tests. Events are given at explicit
// device times (1 MHz ticks = microseconds) with a few helpers for the usual shapes (a poll that
// parks at a site, a wake, a resource op), encoded into chunks by the reference encoder
// (wire-encoder.ts, written from docs/FORMAT.md) and stored with the real TraceWriter, so the
// analysis reads them exactly as it reads a pulled trace.

import type { StallInfo } from "../../host/tracefile/schema.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVENT, NAME_KIND, RESOURCE_KIND, RESOURCE_OP, RESOURCE_OUTCOME, WIRE_FORMAT_VERSION } from "../../host/format/spec.js";
import { TraceWriter } from "../../host/tracefile/writer.js";
import type { DeviceCounters, NameEntry } from "../../host/format/records.js";
import { encodeChunks, type WireEvent } from "./wire-encoder.js";

export const TICK_HZ = 1_000_000;
/** ns per tick at TICK_HZ. */
export const US = 1000;
export const MS = 1_000_000;

type Op = keyof typeof RESOURCE_OP;
type Outcome = keyof typeof RESOURCE_OUTCOME;

export interface ParkOptions {
  site?: string;
  res?: number;
}

export class TraceScript {
  readonly events: WireEvent[] = [];
  private readonly names: NameEntry[] = [];
  private readonly ids = new Map<string, number>();
  private nextRes = 1;

  /** Interns a name (same kind and text give the same id). */
  name(kind: keyof typeof NAME_KIND, text: string): number {
    const key = `${kind}:${text}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length + 1;
      this.names.push({ id, kind: NAME_KIND[kind], text });
      this.ids.set(key, id);
    }
    return id;
  }

  private ev(tag: number, us: number, fields?: Record<string, number>): this {
    this.events.push({ tag, ticks: us, ...(fields ? { fields } : {}) });
    return this;
  }

  spawn(us: number, task: number, name: string, parent = 0, flow = 0): this {
    return this.ev(EVENT.SPAWN, us, { task, parent, name: this.name("task", name), flow });
  }

  /** POLL_BEGIN at `us`; `inside` adds events during the poll (their times must lie within). */
  begin(us: number, task: number): this {
    return this.ev(EVENT.POLL_BEGIN, us, { task });
  }

  /** Ends the current poll Pending at `us`, parked at `site` on `res`. */
  pending(us: number, park: ParkOptions = {}): this {
    this.ev(EVENT.AWAIT, us, { site: park.site ? this.name("site", park.site) : 0, resource: park.res ?? 0 });
    return this.ev(EVENT.POLL_PENDING, us);
  }

  /** Ends the current poll Ready at `us` and the task with it. */
  ready(us: number, task: number): this {
    this.ev(EVENT.POLL_READY, us);
    return this.ev(EVENT.TASK_DONE, us, { task });
  }

  /** A whole poll: begin at `us`, `durUs` long, parks at `park` (stores a waker first unless
   *  `clone` is false). */
  poll(us: number, task: number, durUs: number, park: ParkOptions & { clone?: boolean } = {}): this {
    this.begin(us, task);
    if (park.clone !== false) this.clone(us + durUs, task);
    return this.pending(us + durUs, park);
  }

  clone(us: number, task: number): this {
    return this.ev(EVENT.WAKER_CLONE, us, { task });
  }

  drop(us: number, task: number): this {
    return this.ev(EVENT.WAKER_DROP, us, { task });
  }

  /** A consuming wake: wake by `by` (0 = external), then the waker's drop. */
  wake(us: number, target: number, by = 0): this {
    if (by === 0) this.ev(EVENT.WAKE_EXT, us, { target });
    else this.ev(EVENT.WAKE_TASK, us, { target, by });
    return this.drop(us, target);
  }

  wakeSelf(us: number, target: number): this {
    return this.ev(EVENT.WAKE_SELF, us, { target });
  }

  cancel(us: number, task: number): this {
    return this.ev(EVENT.TASK_CANCEL, us, { task });
  }

  done(us: number, task: number): this {
    return this.ev(EVENT.TASK_DONE, us, { task });
  }

  resource(us: number, kind: keyof typeof RESOURCE_KIND, name: string, capacity: number): number {
    const res = this.nextRes++;
    this.ev(EVENT.RES_CREATE, us, { res, kind: RESOURCE_KIND[kind], name: this.name("resource", name), capacity });
    return res;
  }

  /** A resource op by the polled task. */
  op(us: number, res: number, op: Op, outcome: Outcome, level: number): this {
    return this.ev(EVENT.RES_OP, us, { res, op: RESOURCE_OP[op], outcome: RESOURCE_OUTCOME[outcome], level });
  }

  flowBegin(us: number, flow: number, name: string): this {
    return this.ev(EVENT.FLOW_BEGIN, us, { flow, name: this.name("flow", name) });
  }

  flowEnd(us: number, flow: number): this {
    return this.ev(EVENT.FLOW_END, us, { flow });
  }

  flowEnter(us: number, task: number, flow: number): this {
    return this.ev(EVENT.FLOW_ENTER, us, { task, flow });
  }

  /** The polled task arms a timer on `res` for `deadlineUs`. */
  timerArm(us: number, res: number, deadlineUs: number): this {
    return this.ev(EVENT.TIMER_ARM, us, { res, due: deadlineUs - us });
  }

  /** The executor finds `task`'s timer on `res` due, and wakes it. */
  timerFire(us: number, task: number, res: number): this {
    this.ev(EVENT.TIMER_FIRE, us, { task, res });
    return this.wake(us, task);
  }

  idle(fromUs: number, toUs: number): this {
    this.ev(EVENT.IDLE_BEGIN, fromUs);
    return this.ev(EVENT.IDLE_END, toUs);
  }

  /** A memory sample: `task` holds `bytes`. */
  mem(us: number, task: number, bytes: number): this {
    return this.ev(EVENT.MEM, us, { task, bytes });
  }

  mark(us: number, name: string): this {
    return this.ev(EVENT.MARK, us, { name: this.name("mark", name) });
  }

  /** Writes the trace file (`chunksPerItem` chunks per stored item: one batch each when read).
   *  `dropChunks`: chunk indices left out (a transport loss the reader
   *  finds as a seq gap); `counters`: device counters to store (default: nothing lost). */
  write(
    path = tempTrace(),
    options: { chunkSize?: number; chunksPerItem?: number; dropChunks?: number[]; counters?: Partial<DeviceCounters>; stalls?: StallInfo } = {},
  ): string {
    const sorted = [...this.events].map((e, i) => ({ e, i })).sort((a, b) => Number(a.e.ticks) - Number(b.e.ticks) || a.i - b.i).map((x) => x.e);
    const payloads = encodeChunks(sorted, { chunkSize: options.chunkSize ?? 256 });
    const drop = new Set(options.dropChunks ?? []);
    const kept = payloads.filter((_, i) => !drop.has(i));
    const writer = new TraceWriter(path);
    writer.header({ tool: "test/support/report-trace", source: "synthetic" });
    const session = writer.session({
      deviceSession: 7, format: WIRE_FORMAT_VERSION, tickHz: TICK_HZ, device: "test-device", firmware: "test-fw", mode: "overwrite",
      chunkSize: options.chunkSize ?? 256, chunkCount: 64, namesCapacity: 4096, maxTasks: 256, filter: 0x7ff,
      anchor: { ticks: 0, unixNs: 1_700_000_000_000_000_000n },
    });
    writer.names(session, this.names);
    const per = options.chunksPerItem ?? 8;
    for (let i = 0; i < kept.length; i += per) writer.chunks(session, kept.slice(i, i + per));
    const events = sorted.length;
    const last = sorted.length > 0 ? Number(sorted[sorted.length - 1]!.ticks) : 0;
    writer.counters(session, {
      recorded: events, drained: events, droppedFull: 0, droppedOverwritten: 0, chunksOverwritten: 0, namesDropped: 0,
      nextSeq: payloads.length, pendingEvents: 0, now: last, firstDrop: 0, lastDrop: 0, ...options.counters,
    });
    if (options.stalls) writer.stalls(session, options.stalls);
    writer.footer({ reason: "exit 0", events });
    writer.close();
    return path;
  }
}

let dir: string | undefined;
let n = 0;

/** A fresh file name in this process's temporary directory. */
export function tempTrace(): string {
  dir ??= mkdtempSync(join(tmpdir(), "taskscope-report-"));
  return join(dir, `t${n++}.trace.cbor`);
}

const ms = (x: number) => x * 1000; // ms in µs ticks

/** A task that keeps the trace going (a periodic timer) until `untilMs`. */
export function ticker(s: TraceScript, id: number, untilMs: number, timer: number): void {
  s.spawn(0, id, "ticker");
  for (let t = 0; t < untilMs; t += 5) {
    if (t > 0) s.wake(ms(t), id);
    s.poll(ms(t) + 10, id, 20, { site: "ticker: tick", res: timer });
  }
}

/** `n` requests, 1 ms apart, each served by its own handler that takes the db; requests
 *  `slowFrom`..+`slowCount` find it held by "backup" and wait `extraMs`. */
export function requests(n: number, slowFrom: number, slowCount: number, extraMs: number): TraceScript {
  const s = new TraceScript();
  const db = s.resource(0, "mutex", "db", 1);
  s.spawn(0, 1, "backup");
  for (let i = 0; i < n; i++) {
    const id = 10 + (i % 50);
    const t0 = ms(i + 1);
    const flow = i + 1;
    s.flowBegin(t0, flow, "GET /orders").spawn(t0, id, "handler", 0, flow);
    const slow = i >= slowFrom && i < slowFrom + slowCount;
    if (slow && i === slowFrom) {
      // backup takes the db and holds it (parked on its own I/O) until the last slow request.
      s.begin(t0 + 1, 1).op(t0 + 2, db, "acquire", "ok", 1).clone(t0 + 3, 1).pending(t0 + 3, { site: "backup: write" });
      const release = ms(slowFrom + slowCount + extraMs);
      s.wake(release - 50, 1).begin(release - 40, 1).op(release - 30, db, "release", "ok", 0).ready(release - 20, 1);
    }
    s.begin(t0 + 10, id);
    if (slow) {
      s.op(t0 + 11, db, "acquire", "blocked", 1).clone(t0 + 11, id).pending(t0 + 12, { site: "handler: lock db", res: db });
      s.wake(t0 + ms(extraMs), id, 1);
      s.begin(t0 + ms(extraMs) + 5, id).op(t0 + ms(extraMs) + 6, db, "acquire", "unblocked", 1);
    } else {
      s.op(t0 + 11, db, "acquire", "ok", 1);
    }
    const end = slow ? t0 + ms(extraMs) + 100 : t0 + 100;
    s.op(end - 5, db, "release", "ok", 0).flowEnd(end - 2, flow).ready(end, id);
  }
  return s;
}

