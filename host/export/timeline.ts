// One streaming pass over decoded events that both exporters share: it follows every task from
// spawn (or first sight) to its end, every poll, wake, flow change, log line, counter and resource
// operation, and tells a sink in plain terms ("this poll began", "that task woke this one").
// Memory is bounded by what is live (tasks, flows, resources) plus the batch being read: a task
// is handed to the sink and forgotten when it ends, and nothing is kept per event.
//
// A task that ends is held back until the executor moves on (the next poll, spawn or idle): an
// ending task still wakes the tasks joining it, and those wakes must find it.

import type { EventBatch } from "../format/batch.js";
import type { NameTable } from "../format/names.js";
import { EVENT, LOG_ARG, RESOURCE_KINDS, RESOURCE_OPS, RESOURCE_OUTCOMES, codeName } from "../format/spec.js";
import { closeAt, newTask, onEnd, onPollBegin, onPollEnd, onWake, type TaskRecord } from "../model/tasks.js";
import type { SessionInfo } from "../tracefile/schema.js";
import type { LossEntry, TraceSession, TraceSummary } from "../tracefile/trace.js";
import { SessionClock } from "./clock.js";
import { formatLog } from "./log-text.js";

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

export type WakeKind = "task" | "self" | "irq" | "external";

/** How a task ended; "alive" means it was still running when the trace ended, "lost" that its id
 *  was spawned again without an end event (the end was not recorded). */
export type TaskEnd = "done" | "cancelled" | "alive" | "lost";

export type PollResult = "ready" | "pending" | "cut";

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
  live: Map<number, TaskState<X>>;
  /** Tasks that ended and are held back until the executor moves on. */
  ending: Map<number, TaskState<X>>;
  incarnations: Map<number, number>;
  resources: Map<number, ResourceInfo>;
}

const LEVEL_NAMES = ["trace", "debug", "info", "warn", "error"];

/** Name of a LOG level (5..7 are left to the application). */
export function logLevelName(level: number): string {
  return LEVEL_NAMES[level] ?? `level ${level}`;
}

export class Timeline<X> {
  readonly stats: TimelineStats = { sessions: 0, tasks: 0, polls: 0, wakes: 0, pollEndsWithoutBegin: 0, staleWakes: 0 };
  private readonly sessions = new Map<number, SessionState<X>>();
  private seq = 0;
  private finished = false;
  private readonly args: number[] = [];

  constructor(private readonly sink: TimelineSink<X>) {}

  /** Feeds one decoded batch of a session (batches of a session in file order). */
  consume(batch: EventBatch, session: TraceSession): void {
    if (batch.length === 0) return;
    const st = this.sessionState(session, batch.t[0]!);
    const s = st.s;
    const sink = this.sink;
    const { kind, t, task, a, b, c, v } = batch;
    for (let i = 0; i < batch.length; i++) {
      const ti = t[i]!;
      if (ti > s.lastT) s.lastT = ti;
      s.rows++;
      sink.advance?.(s, ti);
      switch (kind[i]) {
        case EVENT.SPAWN:
          this.flushEnding(st);
          this.spawn(st, task[i]!, a[i]!, b[i]!, c[i]!, ti);
          break;
        case EVENT.POLL_BEGIN:
          this.flushEnding(st);
          this.pollBegin(st, task[i]!, ti);
          break;
        case EVENT.POLL_READY:
        case EVENT.POLL_PENDING:
          this.pollEnd(st, task[i]!, kind[i] === EVENT.POLL_READY, ti);
          break;
        case EVENT.WAKE_TASK:
          this.wake(st, task[i]!, "task", a[i]!, 0, ti);
          break;
        case EVENT.WAKE_SELF:
          this.wake(st, task[i]!, "self", task[i]!, 0, ti);
          break;
        case EVENT.WAKE_IRQ:
          this.wake(st, task[i]!, "irq", 0, a[i]!, ti);
          break;
        case EVENT.WAKE_EXT:
          this.wake(st, task[i]!, "external", 0, 0, ti);
          break;
        case EVENT.WAKER_CLONE:
        case EVENT.WAKER_DROP: {
          const rec = this.existing(st, task[i]!, ti);
          if (rec) rec.stats.liveWakers += kind[i] === EVENT.WAKER_CLONE ? 1 : -1;
          break;
        }
        case EVENT.TASK_DONE:
        case EVENT.TASK_CANCEL:
          this.taskEnd(st, task[i]!, kind[i] === EVENT.TASK_CANCEL, ti);
          break;
        case EVENT.AWAIT: {
          const rec = task[i]! === 0 ? undefined : this.active(st, task[i]!, ti);
          if (rec) {
            rec.awaitSite = this.name(s, a[i]!, "site");
            rec.awaitResource = b[i]! === 0 ? undefined : this.resource(st, b[i]!);
            rec.stats.awaitSite = a[i]!;
            rec.stats.awaitResource = b[i]!;
          }
          break;
        }
        case EVENT.RES_CREATE:
          st.resources.set(a[i]!, {
            id: a[i]!,
            name: this.name(s, b[i]!, "resource"),
            kind: codeName(RESOURCE_KINDS, c[i]!) ?? `kind ${c[i]}`,
            capacity: v[i]!,
          });
          break;
        case EVENT.RES_OP:
          sink.resourceOp(
            s, this.current(st, task[i]!, ti), ti, this.resource(st, a[i]!),
            codeName(RESOURCE_OPS, b[i]!) ?? `op ${b[i]}`, codeName(RESOURCE_OUTCOMES, c[i]!) ?? `outcome ${c[i]}`, v[i]!,
          );
          break;
        case EVENT.RES_DROP:
          st.resources.delete(a[i]!);
          break;
        case EVENT.FLOW_BEGIN: {
          const rec = this.current(st, task[i]!, ti);
          if (rec) rec.flow = a[i]!;
          sink.flowBegin(s, rec, a[i]!, this.name(s, b[i]!, "flow"), ti);
          break;
        }
        case EVENT.FLOW_END: {
          const rec = this.current(st, task[i]!, ti);
          // The core clears the current task's flow only if it is the one ending.
          if (rec && rec.flow === a[i]!) rec.flow = 0;
          sink.flowEnd(s, rec, a[i]!, ti);
          break;
        }
        case EVENT.FLOW_ENTER: {
          const rec = this.active(st, task[i]!, ti);
          if (rec && rec.flow !== a[i]!) {
            const previous = rec.flow;
            rec.flow = a[i]!;
            sink.flowEnter(rec, previous, ti);
          }
          break;
        }
        case EVENT.LOG: {
          // The arguments follow as LOG_ARG rows of the same chunk, hence of the same batch.
          const at = i;
          const argc = c[at]!;
          const args = this.args;
          args.length = 0;
          while (args.length < argc && i + 1 < batch.length && kind[i + 1] === LOG_ARG) args.push(v[++i]!);
          s.rows += args.length;
          const format = this.name(s, a[at]!, "format");
          sink.log(s, this.current(st, task[at]!, ti), ti, b[at]!, formatLog(format, args), format, args);
          break;
        }
        case EVENT.MARK:
          sink.mark(s, this.current(st, task[i]!, ti), ti, this.name(s, a[i]!, "mark"));
          break;
        case EVENT.COUNTER:
          sink.counter(s, this.current(st, task[i]!, ti), ti, this.name(s, a[i]!, "counter"), v[i]!);
          break;
        case EVENT.MEM: {
          const rec = this.active(st, task[i]!, ti);
          if (rec) {
            rec.maxMemory = Math.max(rec.maxMemory ?? 0, v[i]!);
            sink.memory(rec, ti, v[i]!);
          }
          break;
        }
        case EVENT.IDLE_BEGIN:
        case EVENT.IDLE_END:
          this.flushEnding(st);
          sink.idle(s, kind[i] === EVENT.IDLE_BEGIN, ti);
          break;
        case EVENT.ISR_ENTER:
        case EVENT.ISR_EXIT:
          sink.interrupt(s, kind[i] === EVENT.ISR_ENTER, a[i]!, ti);
          break;
        default:
          break; // LOG_ARG rows are read with their LOG
      }
    }
  }

  /** Ends every session: tasks still alive end with the trace, then the sink closes the session. */
  finish(summary: TraceSummary): void {
    if (this.finished) return;
    this.finished = true;
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
      // Whatever is due at the very end (lints timed there) comes before the last tasks close.
      this.sink.advance?.(s, Number.POSITIVE_INFINITY);
      for (const rec of st.live.values()) {
        if (rec.polling) this.closePoll(rec, s.lastT, "cut");
        closeAt(rec.stats, s.lastT);
        this.finalize(rec, s.lastT, "alive");
      }
      st.live.clear();
      this.sink.sessionEnd(s);
    }
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
    st = { s, live: new Map(), ending: new Map(), incarnations: new Map(), resources: new Map() };
    this.sessions.set(session.index, st);
    this.stats.sessions++;
    this.sink.sessionStart(s);
    return st;
  }

  private name(s: TimelineSession, id: number, kind: string): string {
    if (id === 0) return "";
    return s.names.get(id) ?? `${kind}#${id}`;
  }

  private resource(st: SessionState<X>, id: number): ResourceInfo {
    return st.resources.get(id) ?? { id, name: `resource#${id}`, kind: "unknown", capacity: 0 };
  }

  private create(st: SessionState<X>, id: number, t: number, spawn: { parent: TaskState<X> | undefined; parentId: number; name: string; flow: number } | undefined): TaskState<X> {
    const incarnation = (st.incarnations.get(id) ?? 0) + 1;
    st.incarnations.set(id, incarnation);
    const stats = newTask(st.s.index, this.seq, id, t, incarnation);
    const rec: TaskState<X> = {
      session: st.s, id, incarnation, seq: this.seq++,
      name: spawn?.name ?? `task ${id}`,
      parentId: spawn?.parentId ?? 0,
      parentName: spawn?.parent?.name,
      spawned: spawn !== undefined,
      spawnFlow: spawn?.flow ?? 0,
      flow: spawn?.flow ?? 0,
      startT: t, endT: undefined, end: undefined, lastT: t,
      polling: false, polls: 0, pollStartT: t,
      awaitSite: undefined, awaitResource: undefined, lastWake: undefined, maxMemory: undefined,
      stats,
      x: undefined as X,
    };
    stats.name = rec.name;
    stats.parent = rec.parentId;
    stats.flow = rec.flow;
    if (spawn) stats.spawnedAt = t;
    // Seen before its spawn: what it was doing is unknown, so it counts as parked from here.
    else stats.state = "parked";
    st.live.set(id, rec);
    this.stats.tasks++;
    rec.x = this.sink.taskStart(rec, spawn?.parent);
    return rec;
  }

  /** A live (or just-ended) task, created on first sight (the trace may start after its spawn). */
  private active(st: SessionState<X>, id: number, t: number): TaskState<X> | undefined {
    const rec = st.live.get(id) ?? st.ending.get(id);
    if (rec) return rec;
    // An id that ended and shows activity again without a spawn: the spawn was not recorded.
    this.flushEnding(st);
    return this.create(st, id, t, undefined);
  }

  /** The current task of an event (0: none). */
  private current(st: SessionState<X>, id: number, t: number): TaskState<X> | undefined {
    return id === 0 ? undefined : this.active(st, id, t);
  }

  /** A live or just-ended task, or a new one for an id never seen; undefined for an id that ended
   *  earlier (a stale wake or waker operation). */
  private existing(st: SessionState<X>, id: number, t: number): TaskState<X> | undefined {
    const rec = st.live.get(id) ?? st.ending.get(id);
    if (rec) return rec;
    if (st.incarnations.has(id)) {
      this.stats.staleWakes++;
      return undefined;
    }
    return this.create(st, id, t, undefined);
  }

  private spawn(st: SessionState<X>, id: number, parentId: number, name: number, flow: number, t: number): void {
    const old = st.live.get(id);
    if (old) {
      // The id was reused without an end event: the end was not recorded.
      if (old.polling) this.closePoll(old, t, "cut");
      closeAt(old.stats, t);
      st.live.delete(id);
      this.finalize(old, t, "lost");
    }
    const parent = parentId === 0 ? undefined : st.live.get(parentId);
    this.create(st, id, t, { parent, parentId, name: this.name(st.s, name, "task") || `task ${id}`, flow });
  }

  private pollBegin(st: SessionState<X>, id: number, t: number): void {
    const rec = this.active(st, id, t)!;
    if (rec.polling) this.closePoll(rec, t, "cut"); // its end was not recorded
    rec.polling = true;
    rec.polls++;
    rec.pollStartT = t;
    rec.lastT = t;
    rec.awaitSite = undefined;
    rec.awaitResource = undefined;
    onPollBegin(rec.stats, t);
    this.stats.polls++;
    this.sink.pollBegin(rec, t);
  }

  private pollEnd(st: SessionState<X>, id: number, ready: boolean, t: number): void {
    const rec = id === 0 ? undefined : st.live.get(id);
    if (!rec || !rec.polling) {
      // The poll began before the trace did (its chunk's context task carried it over).
      this.stats.pollEndsWithoutBegin++;
      return;
    }
    onPollEnd(rec.stats, ready, t);
    this.closePoll(rec, t, ready ? "ready" : "pending");
  }

  private closePoll(rec: TaskState<X>, t: number, result: PollResult): void {
    rec.polling = false;
    rec.lastT = Math.max(rec.lastT, t);
    this.sink.pollEnd(rec, t, result);
  }

  private wake(st: SessionState<X>, targetId: number, kind: WakeKind, byId: number, irq: number, t: number): void {
    const target = this.existing(st, targetId, t);
    if (!target) return;
    const by = kind === "self" ? target : kind === "task" && byId !== 0 ? (st.live.get(byId) ?? st.ending.get(byId)) : undefined;
    if (by) by.lastT = Math.max(by.lastT, t);
    onWake(target.stats, kind === "self", t);
    target.lastWake = { t, kind };
    this.stats.wakes++;
    this.sink.wake({ t, kind, target, by, byId, irq });
  }

  private taskEnd(st: SessionState<X>, id: number, cancelled: boolean, t: number): void {
    const rec = st.live.get(id) ?? (st.incarnations.has(id) ? undefined : this.create(st, id, t, undefined));
    if (!rec) {
      this.stats.staleWakes++;
      return;
    }
    if (rec.polling) this.closePoll(rec, t, "cut");
    onEnd(rec.stats, cancelled, t);
    rec.endT = t;
    rec.end = cancelled ? "cancelled" : "done";
    rec.lastT = Math.max(rec.lastT, t);
    st.live.delete(id);
    st.ending.set(id, rec);
  }

  private flushEnding(st: SessionState<X>): void {
    if (st.ending.size === 0) return;
    for (const rec of st.ending.values()) this.sink.taskEnd(rec);
    st.ending.clear();
  }

  private finalize(rec: TaskState<X>, t: number, end: TaskEnd): void {
    rec.endT = t;
    rec.end = end;
    rec.lastT = Math.max(rec.lastT, t);
    this.sink.taskEnd(rec);
  }
}
