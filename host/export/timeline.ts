// What both exporters see of a trace: the analysis model's one pass over the events
// (host/model/trace-model.ts), told in exporters' terms ("this poll began", "that task woke this
// one") through a TimelineSink. The model follows the tasks and applies every guard (a task first
// seen mid-run, an id reused without an end, a poll cut short, a stale wake); this adapter only
// keeps, per live task, the sink's state and the names it prints. Memory is bounded by what is
// live plus the batch being read: a task is handed to the sink and forgotten when it ends.
//
// A task that ends is held back until the executor moves on (the next poll, spawn or idle): an
// ending task still wakes the tasks joining it, and those wakes must find it.

import type { EventBatch } from "../format/batch.js";
import type { NameTable } from "../format/names.js";
import { RESOURCE_OPS, RESOURCE_OUTCOMES } from "../format/spec.js";
import { Analyzer } from "../model/analyze.js";
import { IdTable, SmallIdMap } from "../model/id-table.js";
import type { Lint } from "../model/lint.js";
import type { TraceModel, ModelOptions } from "../model/trace-model.js";
import type { ModelObserver, ObservedSession, PollResult, WakeKind } from "../model/observer.js";
import type { ResourceRecord } from "../model/resources.js";
import type { TaskEnd as ModelTaskEnd, TaskRecord } from "../model/tasks.js";
import type { SessionInfo } from "../tracefile/schema.js";
import type { LossEntry, TraceSession, TraceSummary } from "../tracefile/trace.js";
import { SessionClock } from "./clock.js";
import { formatLog } from "./log-text.js";

export type { WakeKind, PollResult } from "../model/observer.js";

export interface TimelineSession {
  index: number;
  info: SessionInfo;
  names: NameTable;
  clock: SessionClock;
  /** The reader's view of the session (counters and totals grow while the file is read). */
  source: TraceSession;
  /** First and last event time seen (ns since the device clock's zero). */
  firstT: number;
  lastT: number;
  /** Decoded rows seen. */
  rows: number;
  /** Losses of this session, known once the whole file has been read. */
  losses: LossEntry[];
  /** Where the file ends inside a record, if it does (known at the end). */
  truncatedAt: number | undefined;
}

/** How a task ended; "alive" means it was still running when the trace ended, "lost" that its id
 *  was spawned again without an end event (the end was not recorded). */
export type TaskEnd = "done" | "cancelled" | "alive" | "lost";

export interface ResourceInfo {
  id: number;
  name: string;
  kind: string;
  capacity: number;
}

export interface TaskState<X> {
  readonly session: TimelineSession;
  readonly id: number;
  /** 1 for the first task with this id in the session, 2 after the id was reused, ... */
  readonly incarnation: number;
  /** Unique in the file, in order of first sight. */
  readonly seq: number;
  readonly name: string;
  /** Parent task id (0: spawned from outside any task, or spawn not in the trace). */
  readonly parentId: number;
  readonly parentName: string | undefined;
  /** False when the task was first seen without its spawn (the trace started later). */
  readonly spawned: boolean;
  /** The flow the task was spawned serving (0 = none). */
  readonly spawnFlow: number;
  /** The flow it serves now. */
  flow: number;
  readonly startT: number;
  /** Time of its end event (or of the trace's end); set before the sink's taskEnd. */
  endT: number | undefined;
  end: TaskEnd | undefined;
  /** Last time anything happened to or because of the task (>= endT: it may wake joiners). */
  lastT: number;
  polling: boolean;
  /** Polls begun so far; the current or last poll's index. */
  polls: number;
  pollStartT: number;
  /** Where the current poll parked (AWAIT), cleared when the next poll begins. */
  awaitSite: string | undefined;
  /** The name id awaitSite is the text of (0: none). */
  awaitSiteId: number;
  awaitResource: ResourceInfo | undefined;
  lastWake: { t: number; kind: WakeKind } | undefined;
  /** Largest memory sample (MEM), bytes. */
  maxMemory: number | undefined;
  /** Time accounting shared with the insight engine (host/model/tasks.ts). */
  readonly stats: TaskRecord;
  /** The sink's own state for this task. */
  x: X;
}

export interface Wake<X> {
  t: number;
  kind: WakeKind;
  target: TaskState<X>;
  /** The waking task, live or just ended ("task" and "self" wakes), if known. */
  by: TaskState<X> | undefined;
  byId: number;
  irq: number;
}

/** What an exporter does with the timeline. X is its state per task. */
export interface TimelineSink<X> {
  sessionStart(s: TimelineSession): void;
  /** Called before anything else of this event time is handled (lints are due up to here). */
  advance?(s: TimelineSession, t: number): void;
  /** A task appears; returns the sink's state for it. `parent` is the live spawner, if known. */
  taskStart(task: TaskState<X>, parent: TaskState<X> | undefined): X;
  pollBegin(task: TaskState<X>, t: number): void;
  pollEnd(task: TaskState<X>, t: number, result: PollResult): void;
  /** `wake` is reused for the next wake: copy what you keep. */
  wake(wake: Wake<X>): void;
  /** Final: endT, end and lastT are set; the task is forgotten afterwards. */
  taskEnd(task: TaskState<X>): void;
  /** `task` (the current task, if any) began flow `flow`; task.flow is already updated. */
  flowBegin(s: TimelineSession, task: TaskState<X> | undefined, flow: number, name: string, t: number): void;
  flowEnd(s: TimelineSession, task: TaskState<X> | undefined, flow: number, t: number): void;
  /** task.flow changed from `previous` (FLOW_ENTER). */
  flowEnter(task: TaskState<X>, previous: number, t: number): void;
  /** `args` is reused for the next log line: copy it to keep it. */
  log(s: TimelineSession, task: TaskState<X> | undefined, t: number, level: number, text: string, format: string, args: readonly number[]): void;
  mark(s: TimelineSession, task: TaskState<X> | undefined, t: number, name: string): void;
  counter(s: TimelineSession, task: TaskState<X> | undefined, t: number, name: string, value: number): void;
  memory(task: TaskState<X>, t: number, bytes: number): void;
  resourceOp(s: TimelineSession, task: TaskState<X> | undefined, t: number, res: ResourceInfo, op: string, outcome: string, level: number): void;
  idle(s: TimelineSession, begin: boolean, t: number): void;
  interrupt(s: TimelineSession, enter: boolean, irq: number, t: number): void;
  /** Every task of the session has ended; losses are known. */
  sessionEnd(s: TimelineSession): void;
}

/** Things the timeline could not place, reported so nothing goes missing silently. */
export interface TimelineStats {
  sessions: number;
  tasks: number;
  polls: number;
  wakes: number;
  /** Poll ends whose begin was before the trace started (no span can be made of them). */
  pollEndsWithoutBegin: number;
  /** Wakes or waker operations on a task that had already ended. */
  staleWakes: number;
}

interface SessionState<X> {
  s: TimelineSession;
  /** Tasks that ended and are held back until the executor moves on: in order of their end, and
   *  by task index. */
  ending: (TaskState<X> | undefined)[];
  endingCount: number;
  endingByIndex: IdTable<TaskState<X>>;
  closed: boolean;
}

export interface TimelineOptions extends Omit<ModelOptions, "observer" | "observers"> {
  /** The lints of this pass will be asked for (finish with lints): run the full analysis. */
  findLints?: boolean;
}

const LEVEL_NAMES = ["trace", "debug", "info", "warn", "error"];

/** Resource operations' and outcomes' names by code (an index per operation, not a search). */
const OP_NAMES = namesByCode(RESOURCE_OPS);
const OUTCOME_NAMES = namesByCode(RESOURCE_OUTCOMES);

function namesByCode(table: readonly { code: number; name: string }[]): (string | undefined)[] {
  const names: (string | undefined)[] = [];
  for (const row of table) names[row.code] ??= row.name; // the first row of a code, as codeName finds it
  return names;
}

/** Name of a LOG level (5..7 are left to the application). */
export function logLevelName(level: number): string {
  return LEVEL_NAMES[level] ?? `level ${level}`;
}

export class Timeline<X> {
  readonly stats: TimelineStats = { sessions: 0, tasks: 0, polls: 0, wakes: 0, pollEndsWithoutBegin: 0, staleWakes: 0 };
  /** The analysis model driving this timeline (its guards; its lints' figures with findLints). */
  readonly model: TraceModel;
  /** The model with the reader's gaps noted, as trace-report analyses a file: its lints are
   *  trace-report's, found from this one pass (finish) instead of a second pass over the file. */
  private readonly analyzer: Analyzer;
  private readonly sessions = new Map<number, SessionState<X>>();
  /** Live tasks (LiveStates). Not a Map: one set and one delete per task make a Map rehash
   *  again and again, and an outgrown table promoted to the old generation keeps every later one
   *  and the records they hold alive through young collections (host/model/id-table.ts). */
  private readonly states = new LiveStates<TaskState<X>>();
  private current: SessionState<X> | undefined;
  private finished = false;
  /** The model tells the observer of every event (SinkObserver.advance) only when the sink has
   *  work due by time; otherwise a session's lastT is the model's latestT after each batch (the
   *  same events: none past the window, no LOG_ARG row). */
  private readonly perEvent: boolean;

  /** `findLints`: finish() will be asked for this pass's lints, so the model runs the full
   *  analysis; without it the model runs light (ModelOptions.analysis: the sink sees the same). */
  constructor(
    private readonly sink: TimelineSink<X>,
    options: TimelineOptions = {},
  ) {
    const { findLints, ...model } = options;
    this.perEvent = typeof sink.advance === "function";
    this.analyzer = new Analyzer({ analysis: findLints === true, ...model, observer: new SinkObserver<X>(this, this.perEvent) });
    this.model = this.analyzer.model;
  }

  /** Tasks followed now: live ones, and ended ones held back until the executor moves on. */
  get heldTasks(): number {
    let n = this.states.size;
    for (const st of this.sessions.values()) n += st.endingCount;
    return n;
  }

  /** Feeds one decoded batch of a session (batches of a session in file order). */
  consume(batch: EventBatch, session: TraceSession): void {
    if (batch.length === 0) return;
    this.current = this.sessionState(session, batch.t[0]!);
    const s = this.current.s;
    s.rows += batch.length;
    this.analyzer.consume(batch, session);
    if (!this.perEvent && this.model.latestT > s.lastT) s.lastT = this.model.latestT;
    if (batch.t[batch.length - 1]! > s.lastT) s.lastT = batch.t[batch.length - 1]!;
  }

  /** Ends every session: tasks still alive end with the trace, then the sink closes the session.
   *  With `lints`, returns the insight engine's lints for the trace (trace-report's). */
  finish(summary: TraceSummary, options: { lints?: boolean } = {}): Lint[] {
    if (options.lints && !this.model.analysis) throw new Error("Timeline.finish: lints need the full model (new Timeline(sink, { findLints: true }))");
    if (this.finished) return [];
    this.finished = true;
    const lints = options.lints ? this.analyzer.finish(summary).lints : (this.model.finish(), []);
    for (const session of summary.sessions) {
      // A session with no events still exists (it carries its loss figures).
      if (!this.sessions.has(session.index)) this.sessionState(session, undefined);
    }
    const ordered = [...this.sessions.values()].sort((p, q) => p.s.index - q.s.index);
    for (const st of ordered) {
      const s = st.s;
      s.losses = summary.losses.filter((l) => l.session === s.index);
      s.truncatedAt = summary.truncated?.offset;
      this.flushEnding(st);
      if (!st.closed) this.sink.advance?.(s, Number.POSITIVE_INFINITY);
      this.sink.sessionEnd(s);
    }
    const m = this.model.stats;
    this.stats.pollEndsWithoutBegin = m.pollEndsWithoutBegin;
    this.stats.staleWakes = m.staleWakes;
    return lints;
  }

  // ---- called by SinkObserver (the model's view, turned into the sink's) ----

  /** @internal */ sinkOf(): TimelineSink<X> {
    return this.sink;
  }

  /** @internal */ holds(index: number): boolean {
    return this.sessions.has(index);
  }

  /** @internal */ sessionFor(index: number): SessionState<X> {
    // Events of one session come in runs: the one of the last batch, without a lookup.
    const current = this.current;
    if (current !== undefined && current.s.index === index) return current;
    return this.sessions.get(index) ?? current!;
  }

  /** @internal */ state(task: TaskRecord | undefined): TaskState<X> | undefined {
    return task ? this.states.get(task) : undefined;
  }

  /** @internal */ start(task: TaskRecord, parent: TaskRecord | undefined, t: number): void {
    const st = this.sessionFor(task.session);
    this.flushEnding(st);
    const spawned = task.spawnedAt !== undefined;
    const parentState = this.state(parent);
    const rec: TaskState<X> = {
      session: st.s, id: task.id, incarnation: task.incarnation, seq: task.index, name: task.name,
      parentId: task.parent, parentName: parentState?.name ?? task.parentName, spawned,
      spawnFlow: spawned ? task.flow : 0, flow: spawned ? task.flow : 0,
      startT: t, endT: undefined, end: undefined, lastT: t,
      polling: false, polls: 0, pollStartT: t,
      awaitSite: undefined, awaitSiteId: 0, awaitResource: undefined, lastWake: undefined, maxMemory: undefined,
      stats: task, x: undefined as X,
    };
    this.states.set(task, rec);
    this.stats.tasks++;
    rec.x = this.sink.taskStart(rec, parentState);
  }

  /** @internal */ flushFor(session: number): void {
    this.flushEnding(this.sessionFor(session));
  }

  /** @internal */ ended(task: TaskRecord, how: ModelTaskEnd, t: number): void {
    const rec = this.states.delete(task);
    if (!rec) return;
    rec.endT = t;
    if (t > rec.lastT) rec.lastT = t; // not Math.max: a new number stored is a new heap number
    if (how === "done" || how === "cancelled") {
      rec.end = how;
      const st = this.sessionFor(task.session);
      st.ending[st.endingCount++] = rec;
      st.endingByIndex.set(task.index, rec);
      return;
    }
    rec.end = how;
    this.sink.taskEnd(rec);
  }

  /** @internal */ closing(session: number): void {
    const st = this.sessionFor(session);
    this.flushEnding(st);
    // Whatever is due at the very end (lints timed there) comes before the last tasks close.
    this.sink.advance?.(st.s, Number.POSITIVE_INFINITY);
    st.closed = true;
  }

  /** @internal */ endingState(task: TaskRecord | undefined): TaskState<X> | undefined {
    if (!task) return undefined;
    return this.states.get(task) ?? this.sessionFor(task.session).endingByIndex.get(task.index);
  }

  private sessionState(session: TraceSession, firstT: number | undefined): SessionState<X> {
    let st = this.sessions.get(session.index);
    if (st) return st;
    const info = session.info;
    const clock = new SessionClock(info.anchor, info.tickHz);
    const t0 = firstT ?? clock.anchorNs;
    const s: TimelineSession = {
      index: session.index, info, names: session.names, clock, source: session,
      firstT: t0, lastT: t0, rows: 0, losses: [], truncatedAt: undefined,
    };
    st = { s, ending: [], endingCount: 0, endingByIndex: new IdTable(), closed: false };
    this.sessions.set(session.index, st);
    this.stats.sessions++;
    this.sink.sessionStart(s);
    return st;
  }

  private flushEnding(st: SessionState<X>): void {
    const ending = st.ending;
    const n = st.endingCount;
    if (n === 0) return;
    for (let i = 0; i < n; i++) {
      const rec = ending[i]!;
      ending[i] = undefined;
      st.endingByIndex.delete(rec.stats.index);
      this.sink.taskEnd(rec);
    }
    // The array keeps its room (emptied with length = 0, every end would allocate it again).
    st.endingCount = 0;
  }
}

/** The model's observations, in the sink's terms. */
class SinkObserver<X> implements ModelObserver {
  /** The session of the last advance (called for every event: no lookup while it stays). */
  private advanced: TimelineSession | undefined;
  private readonly sinkAdvances: boolean;
  private readonly resources = new ResourceInfos();
  /** The one Wake handed to the sink, filled again for every wake (no object per wake). */
  private readonly wakeArg: Wake<X> = { t: 0, kind: "task", target: undefined as never, by: undefined, byId: 0, irq: 0 };

  /** Called by the model before every event: only when the timeline needs it (Timeline.perEvent). */
  readonly advance: ((session: number, t: number) => void) | undefined;

  constructor(
    private readonly tl: Timeline<X>,
    perEvent: boolean,
  ) {
    this.sinkAdvances = typeof tl.sinkOf().advance === "function";
    this.advance = perEvent ? this.advanceTo : undefined;
  }

  private get sink(): TimelineSink<X> {
    return this.tl.sinkOf();
  }

  private session(index: number): TimelineSession {
    return this.tl.sessionFor(index).s;
  }

  private advanceTo(session: number, t: number): void {
    let s = this.advanced;
    if (s === undefined || s.index !== session) {
      s = this.session(session);
      // Only a session the timeline holds is kept (its state is made once per index).
      this.advanced = this.tl.holds(session) ? s : undefined;
    }
    if (t > s.lastT) s.lastT = t;
    if (this.sinkAdvances) this.sink.advance!(s, t);
  }

  taskStart(task: TaskRecord, parent: TaskRecord | undefined, t: number): void {
    this.tl.start(task, parent, t);
  }

  pollBegin(task: TaskRecord, t: number): void {
    this.tl.flushFor(task.session);
    const rec = this.tl.state(task);
    if (!rec) return;
    rec.polling = true;
    rec.polls++;
    rec.pollStartT = t;
    if (t > rec.lastT) rec.lastT = t; // not Math.max: a new number stored is a new heap number
    rec.awaitSite = undefined;
    rec.awaitSiteId = 0;
    rec.awaitResource = undefined;
    this.tl.stats.polls++;
    this.sink.pollBegin(rec, t);
  }

  poll(task: TaskRecord, _start: number, end: number, result: PollResult): void {
    const rec = this.tl.endingState(task);
    if (!rec || !rec.polling) return;
    rec.polling = false;
    if (end > rec.lastT) rec.lastT = end;
    this.sink.pollEnd(rec, end, result);
  }

  await(task: TaskRecord, site: number, resource: ResourceRecord | undefined): void {
    const rec = this.tl.state(task);
    if (!rec) return;
    const s = this.session(task.session);
    rec.awaitSite = site === 0 ? "" : (s.names.get(site) ?? `site#${site}`);
    rec.awaitSiteId = site;
    rec.awaitResource = resource ? this.resources.of(resource) : undefined;
  }

  wake(task: TaskRecord, by: TaskRecord | undefined, kind: WakeKind, t: number, irq: number): void {
    const target = this.tl.state(task);
    if (!target) return;
    const from = kind === "self" ? target : this.tl.endingState(by);
    if (from && t > from.lastT) from.lastT = t;
    if (target.lastWake) {
      target.lastWake.t = t;
      target.lastWake.kind = kind;
    } else target.lastWake = { t, kind };
    this.tl.stats.wakes++;
    const w = this.wakeArg;
    w.t = t;
    w.kind = kind;
    w.target = target;
    w.by = from;
    w.byId = kind === "task" ? (by?.id ?? task.lastWakeBy) : kind === "self" ? task.id : 0;
    w.irq = irq;
    this.sink.wake(w);
    w.target = w.by = undefined as never; // holds no task past the call
  }

  taskEnd(task: TaskRecord, how: ModelTaskEnd, t: number): void {
    this.tl.ended(task, how, t);
  }

  flowBegin(session: number, task: TaskRecord | undefined, flow: number, name: string, t: number): void {
    const rec = this.tl.state(task);
    if (rec) rec.flow = flow;
    this.sink.flowBegin(this.session(session), rec, flow, name, t);
  }

  flowEnd(session: number, task: TaskRecord | undefined, flow: number, t: number): void {
    const rec = this.tl.state(task);
    if (rec && rec.flow === flow) rec.flow = 0;
    this.sink.flowEnd(this.session(session), rec, flow, t);
  }

  flowEnter(task: TaskRecord, previous: number, t: number): void {
    const rec = this.tl.state(task);
    if (!rec) return;
    rec.flow = task.flow;
    this.sink.flowEnter(rec, previous, t);
  }

  log(session: number, task: TaskRecord | undefined, t: number, level: number, format: string, args: readonly number[]): void {
    this.sink.log(this.session(session), this.tl.state(task), t, level, formatLog(format, args), format, args);
  }

  mark(session: number, task: TaskRecord | undefined, t: number, name: string): void {
    this.sink.mark(this.session(session), this.tl.state(task), t, name);
  }

  counter(session: number, task: TaskRecord | undefined, t: number, name: string, value: number): void {
    this.sink.counter(this.session(session), this.tl.state(task), t, name, value);
  }

  memory(task: TaskRecord, t: number, bytes: number): void {
    const rec = this.tl.state(task);
    if (!rec) return;
    rec.maxMemory = Math.max(rec.maxMemory ?? 0, bytes);
    this.sink.memory(rec, t, bytes);
  }

  resourceOp(session: number, task: TaskRecord | undefined, t: number, r: ResourceRecord, op: number, outcome: number, level: number): void {
    this.sink.resourceOp(
      this.session(session), this.tl.state(task), t, this.resources.of(r),
      OP_NAMES[op] ?? `op ${op}`, OUTCOME_NAMES[outcome] ?? `outcome ${outcome}`, level,
    );
  }

  idle(session: number, begin: boolean, t: number): void {
    this.tl.flushFor(session);
    this.sink.idle(this.session(session), begin, t);
  }

  interrupt(session: number, enter: boolean, irq: number, t: number): void {
    this.sink.interrupt(this.session(session), enter, irq, t);
  }

  sessionClosing(session: ObservedSession): void {
    this.tl.closing(session.index);
  }
}

/** Ids below this have a slot in LiveStates. */
const DENSE_IDS = 1 << 16;

/**
 * The live tasks' states, found from the model's record (several times per event). The model
 * holds one live task per id (an id spawned again ends the task that had it, a new session ends
 * them all), so a state sits in its task id's slot: an array index and a check that the slot
 * holds this record's state, not a hash. A state whose slot is taken, or whose id is large, is
 * kept by task index in an IdTable (not a Map: see `states` above).
 */
class LiveStates<S extends { readonly stats: TaskRecord }> {
  private readonly byId: (S | undefined)[] = [];
  private readonly others = new IdTable<S>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(task: TaskRecord): S | undefined {
    const id = task.id;
    if (id < DENSE_IDS) {
      const state = this.byId[id];
      if (state !== undefined && state.stats === task) return state;
    }
    return this.others.size === 0 ? undefined : this.others.get(task.index);
  }

  /** `state` is the (new) record `task`'s. */
  set(task: TaskRecord, state: S): void {
    this.count++;
    const id = task.id;
    if (id < DENSE_IDS) {
      const byId = this.byId;
      // Grown slot by slot: an array written far past its end turns into a slow dictionary.
      while (byId.length <= id) byId.push(undefined);
      if (byId[id] === undefined) {
        byId[id] = state;
        return;
      }
    }
    this.others.set(task.index, state);
  }

  /** Forgets `task`'s state; returns it. */
  delete(task: TaskRecord): S | undefined {
    const id = task.id;
    if (id < DENSE_IDS) {
      const state = this.byId[id];
      if (state !== undefined && state.stats === task) {
        this.byId[id] = undefined;
        this.count--;
        return state;
      }
    }
    const state = this.others.get(task.index);
    if (state !== undefined) {
      this.others.delete(task.index);
      this.count--;
    }
    return state;
  }
}

/** What the sinks see of resources, made once per resource (not per operation on it): by the
 *  model's record index, made again if the record changed (a create after its first use). */
class ResourceInfos {
  private readonly byIndex = new SmallIdMap<ResourceInfo>();

  of(r: ResourceRecord): ResourceInfo {
    const known = this.byIndex.get(r.index);
    if (known && known.id === r.id && known.name === r.name && known.kind === r.kind && known.capacity === r.capacity) return known;
    const info = { id: r.id, name: r.name, kind: r.kind, capacity: r.capacity };
    this.byIndex.set(r.index, info);
    return info;
  }
}
