// The one streaming pass over decoded events. It follows every task from spawn (or first sight)
// to its end, every poll, wake, waker, await, resource, flow, timer and interrupt, keeps the
// figures the lints and reports need, and tells observers (observer.ts) what it sees: the HTML
// timeline, both exporters and the live view draw from it, so a guard added here reaches all of
// them. Memory is bounded by what is alive (tasks, resources, flows, kinds of request) plus a few
// exemplars per group of look-alike tasks: an ended task folds into its TaskGroup.
//
// Guards against misreading (docs/REPORT.md, "What can make a lint wrong"):
//   - a task first seen without its spawn (an attach mid-run, overwritten chunks) has an unknown
//     waker count and is never judged stuck on it;
//   - an id spawned again with no end in between closes the old record as "lost", in O(1);
//   - a poll whose end is missing is "cut" when the next poll begins, not stretched;
//   - time in recorded interrupt handlers inside a poll is not the poll's;
//   - a task's wait is charged to who made it wait: the long poll that ran meanwhile, the tasks
//     woken later that ran first (starvation), or the poll that kept its timer from firing.

import { EVENT, LOG_ARG, RESOURCE_OP, RESOURCE_OUTCOME } from "../format/spec.js";
import type { EventBatch } from "../format/batch.js";
import {
  type TaskEnd,
  type TaskRecord,
  type TaskRef,
  newTask,
  newLightTask,
  onPollBegin,
  onPollEnd,
  onWake,
  onEnd,
  closeAt,
  isLive,
  taskRef,
  transition,
  packKey,
} from "./tasks.js";
import {
  type ResourceRecord,
  newResource,
  resourceKindName,
  setLevel,
  closeFull,
  addUser,
  noteWait,
  changeHolder,
  blameHolder,
} from "./resources.js";
import { FlowTracker, type FlowStep } from "./flows.js";
import { type Thresholds, resolveThresholds } from "./thresholds.js";
import { Histogram } from "./histogram.js";
import { TaskGroups } from "./task-groups.js";
import { fanOut, type ModelObserver, type PollResult, type WakeKind } from "./observer.js";
import { Concurrency } from "./concurrency.js";
import { SmallIdMap } from "./id-table.js";
import { GrowthGauges } from "./growth.js";

export type { ModelObserver } from "./observer.js";

/** What the model needs to know about the session a batch belongs to. */
export interface SessionContext {
  index: number;
  /** Resolves a name id (0 or unknown ids give undefined). */
  name(id: number): string | undefined;
}

export interface ExecutorStats {
  /** Sum of poll durations (ns). */
  busyNs: number;
  /** Sum of IDLE_BEGIN..IDLE_END intervals (ns). */
  idleNs: number;
  polls: number;
  /** Longest wake-to-poll delay any task saw (ns). */
  maxWakeDelayNs: number;
  /** Time in recorded interrupt handlers (ns). */
  isrNs: number;
}

export interface SessionSpan {
  index: number;
  firstT: number;
  lastT: number;
  events: number;
  /** Report window of this session (absolute ns); undefined ends when no window was asked for. */
  windowStart?: number;
  windowEnd?: number;
}

/** Long polls grouped by session, task name and the await site the poll resumed from. */
export interface LongPollGroup {
  session: number;
  taskName: string;
  /** Site the long poll resumed from (0 = first poll), and where it parked afterwards. */
  site: number;
  endSite: number;
  count: number;
  totalNs: number;
  maxNs: number;
  maxAt: number;
  /** Task of the longest one. */
  maxTask: TaskRef;
  /** Wake-to-poll delay other tasks spent waiting while these polls ran. */
  delayCausedNs: number;
  delayedPolls: number;
  /** Distinct tasks delayed (counted up to DISTINCT_CAP), and the first few of them. */
  delayedTasks: number;
  delayedSample: TaskRef[];
  /** Timers these polls kept from firing on time, and the latest one's lateness. */
  timersDelayed: number;
  maxTimerLateNs: number;
}

/** A task that sat parked with no waker and was then cancelled (the end of the trace is handled
 *  by the lints from live state). */
export interface LostWakeEpisode {
  task: TaskRef;
  since: number;
  until: number;
  site: number;
  resource: number;
  reason: TaskRecord["orphanReason"];
  droppedBy: TaskRef | undefined;
  polls: number;
  lastWakeAt: number | undefined;
  wakersReliable: boolean;
  spawned: boolean;
}

/** Chunks missing between two batches, with the time range they fall in. */
export interface GapRange {
  session: number;
  chunks: number;
  fromNs: number;
  toNs: number;
}

/** Timers of one task name at one await site that fired late. */
export interface LateTimerGroup {
  session: number;
  taskName: string;
  site: number;
  fires: number;
  late: number;
  /** Latest lateness: from the deadline to the poll that followed (ns). */
  maxLateNs: number;
  /** ...of which the timer fired this late (deadline to TIMER_FIRE). */
  maxFireLateNs: number;
  maxAt: number;
  maxTask: TaskRef;
  /** The poll that ran over the deadline of the latest one, if any: who delayed it. */
  blamed: { task: TaskRef; site: number; startNs: number; endNs: number; long: boolean } | undefined;
  /** Part of the latest lateness the executor spent idle (a late wake-up, not a busy executor). */
  idleNs: number;
  sumLateNs: number;
}

export interface ModelStats {
  /** Poll ends whose begin was before the trace started (no span can be made of them). */
  pollEndsWithoutBegin: number;
  /** Polls whose end is not in the trace (closed when the next poll began, or at the end). */
  pollsCut: number;
  /** Wakes or waker operations on a task that had already ended. */
  staleWakes: number;
  /** Ids spawned again while their previous task had no end event. */
  lostEnds: number;
}

export interface ModelOptions {
  thresholds?: Partial<Thresholds>;
  /** Report window, ns from each session's first event: accounting starts at sinceNs (the state
   *  before it is still replayed) and the session is closed at untilNs. */
  window?: { sinceNs?: number; untilNs?: number };
  observer?: ModelObserver;
  observers?: ModelObserver[];
  /** false: the light mode, for passes that only draw or export the trace and ask no lints of
   *  this model. It follows what observers see (task lifecycle and time accounting, polls, wakes,
   *  awaits, flows and resources as observers are told of them, timers, memory samples) with every
   *  guard (first sight mid-run, reused ids, cut polls, poll ends without begin, stale wakes,
   *  gaps, the window), and keeps none of the analysis (blame, concurrency, growth, flows' wait
   *  accounting, long polls, late timers, lost-wake episodes, task groups, histograms,
   *  starvation). Observers get the same calls with the same arguments in both modes
   *  (test/light-model.test.ts); the analysis figures of a light model stay empty. Default true. */
  analysis?: boolean;
}

/** Recent long polls and polls kept to charge the delay they cause. */
const RECENT_LONG_POLLS = 32;
const RECENT_POLLS = 64;
/** Ended records kept for late events about them (a child's end waking its joiner). */
const RECENTLY_ENDED = 64;
/** Caps on per-lint bookkeeping that would otherwise grow with the trace. */
const DISTINCT_CAP = 4096;
const SAMPLE = 8;
const MAX_EPISODES = 256;
const MAX_GAPS = 256;
const EXECUTOR_IDLE = "(executor idle)";

export class TraceModel {
  readonly executor: ExecutorStats = { busyNs: 0, idleNs: 0, polls: 0, maxWakeDelayNs: 0, isrNs: 0 };
  readonly sessions: SessionSpan[] = [];
  /** Every resource seen, in order of creation (bounded by the resources a program has). */
  readonly resources: ResourceRecord[] = [];
  readonly flows = new FlowTracker();
  /** In flight and served at once, overlapped waits, I/O loops, waits per site (concurrency.ts). */
  readonly concurrency = new Concurrency((session, id) => this.resource(session, id));
  /** Channel levels and task memory over time, for the `growing` lint (growth.ts). */
  readonly growth = new GrowthGauges();
  readonly longPolls = new Map<string, LongPollGroup>();
  readonly lateTimers = new Map<number | string, LateTimerGroup>();
  readonly lostWakeEpisodes: LostWakeEpisode[] = [];
  /** Episodes not kept (beyond MAX_EPISODES). */
  lostWakeEpisodesDropped = 0;
  readonly gaps: GapRange[] = [];
  readonly groups = new TaskGroups();
  /** Starvation: per session and task name (packKey(session, nameKey, 0)), who passed its tasks
   *  over (task name -> ns). Bounded by the number of names. */
  readonly passedOverBy = new Map<number | string, Map<string, number>>();
  readonly stats: ModelStats = { pollEndsWithoutBegin: 0, pollsCut: 0, staleWakes: 0, lostEnds: 0 };
  readonly thresholds: Thresholds;
  /** Incarnations seen so far (the next task's index). */
  taskCount = 0;

  /** The full analysis (false: the light mode, see ModelOptions.analysis). */
  readonly analysis: boolean;
  private readonly observer: ModelObserver | undefined;
  private readonly sinceNs: number | undefined;
  private readonly untilNs: number | undefined;
  // Live tasks by id: dense for small ids (the usual case), a map beyond.
  /** Live tasks of the session by task id. */
  private readonly liveById = new SmallIdMap<TaskRecord>();
  /** Tasks alive when their session closed (they stay, for the lints and reports). */
  private readonly aliveAtEnd: TaskRecord[] = [];
  // The last ended incarnations, for late events about them.
  private endedById = new SmallIdMap<TaskRecord>();
  private endedRing: (TaskRecord | undefined)[] = new Array(RECENTLY_ENDED);
  private endedNext = 0;
  private incarnations = new SmallIdMap<number>();
  private resourceById = new SmallIdMap<ResourceRecord>();
  private contexts = new Map<number, SessionContext>();
  private nameKeys = new Map<string, number>();
  private session: SessionSpan | undefined;
  private ctx: SessionContext | undefined;
  private running: TaskRecord | undefined;
  private pollStart = 0;
  private pollIsrStart = 0;
  private resumeSite = 0;
  private selfWokeInPoll = false;
  private idleSince: number | undefined;
  private idleQueued = false;
  private windowOpen = true;
  private pastWindow = false;
  // Runnable queue, in order of becoming runnable (= order of readySince).
  private rqHead: TaskRecord | null = null;
  private rqTail: TaskRecord | null = null;
  /** Tasks queued ahead of the running one when its poll began (they are passed over by it). */
  private readonly ahead: (TaskRecord | undefined)[] = [];
  private aheadCount = 0;
  // Interrupt handlers: nesting depth, when the outermost began, total time.
  private isrDepth = 0;
  private isrSince = 0;
  // Recent long polls (ring): start, end and group, to charge the delay they cause.
  private lpStart = new Float64Array(RECENT_LONG_POLLS);
  private lpEnd = new Float64Array(RECENT_LONG_POLLS);
  private lpGroup: (LongPollGroup | undefined)[] = new Array(RECENT_LONG_POLLS);
  private lpTask = new Float64Array(RECENT_LONG_POLLS);
  private lpNext = 0;
  private lpCount = 0;
  private lastLongPollEnd = Number.NEGATIVE_INFINITY;
  private lpDistinct = new Map<LongPollGroup, Set<number>>();
  // Recent polls (ring), to find the poll that ran over a timer's deadline.
  private rpStart = new Float64Array(RECENT_POLLS);
  private rpEnd = new Float64Array(RECENT_POLLS);
  private rpTask: (TaskRecord | undefined)[] = new Array(RECENT_POLLS);
  private rpSite = new Int32Array(RECENT_POLLS);
  private rpNext = 0;
  private rpCount = 0;
  // Idle intervals since the last poll (for a late timer: was the executor busy or asleep?).
  private lastIdleFrom = Number.NaN;
  private lastIdleTo = Number.NaN;
  private readonly logArgs: number[] = [];
  private latest = Number.NEGATIVE_INFINITY;

  constructor(options: ModelOptions = {}) {
    this.thresholds = resolveThresholds(options.thresholds);
    this.analysis = options.analysis !== false;
    const observers = [...(options.observers ?? []), ...(options.observer ? [options.observer] : [])];
    this.observer = observers.length === 0 ? undefined : fanOut(observers);
    this.flows.hooks = this.concurrency; // [concurrency] told of every flow's begin and end
    this.sinceNs = options.window?.sinceNs;
    this.untilNs = options.window?.untilNs;
  }

  /** Every task record the model holds: the live ones, those alive when their session ended, and
   *  the exemplars of ended groups, in order of first sight. Ended tasks that are not exemplars
   *  are only in `groups`. */
  get tasks(): TaskRecord[] {
    const out: TaskRecord[] = [...this.aliveAtEnd, ...this.liveTasks(), ...this.groups.exemplars()];
    return out.sort((a, b) => a.index - b.index);
  }

  /** The latest time of the events handled in the current session (they may come out of order
   *  across chunks; a span's lastT is the last one's). -Infinity before any. */
  get latestT(): number {
    return this.latest;
  }

  /** Records held (live, alive at the end, exemplars): what memory grows with. */
  get heldRecords(): number {
    return this.aliveAtEnd.length + this.liveById.size + this.groups.exemplars().length + this.endedById.size;
  }

  /** Feeds one decoded batch. Batches of a session must come in order. */
  consume(batch: EventBatch, ctx: SessionContext): void {
    if (batch.length === 0) return;
    if (!this.session || this.session.index !== ctx.index) this.enterSession(ctx, batch.t[0]!);
    this.ctx = ctx;
    this.contexts.set(ctx.index, ctx);
    if (this.pastWindow) return;
    const span = this.session!;
    const obs = this.observer;
    const advance = obs?.advance;
    const { kind, t, task, a, b, c, v } = batch;
    const n = batch.length;
    let latest = this.latest; // kept here, stored when the batch ends
    for (let i = 0; i < n; i++) {
      const ti = t[i]!;
      if (!this.windowOpen) {
        if (ti >= span.windowStart!) this.openWindow(span.windowStart!);
      }
      if (span.windowEnd !== undefined && ti > span.windowEnd) {
        this.pastWindow = true;
        span.lastT = span.windowEnd;
        break;
      }
      const k = kind[i]!;
      if (k === LOG_ARG) continue; // read with their LOG
      if (span.events === 0) span.firstT = ti;
      span.lastT = ti;
      if (ti > latest) latest = ti;
      span.events++;
      if (advance) advance.call(obs, span.index, ti);
      switch (k) {
        case EVENT.SPAWN:
          this.spawn(task[i]!, a[i]!, b[i]!, c[i]!, ti);
          break;
        case EVENT.POLL_BEGIN:
          this.pollBegin(this.taskAt(task[i]!, ti), ti);
          break;
        case EVENT.POLL_READY:
        case EVENT.POLL_PENDING: {
          const id = task[i]!;
          // The poll began before the trace did and its context was lost.
          if (id === 0) this.stats.pollEndsWithoutBegin++;
          else this.pollEnd(this.taskAt(id, ti), k === EVENT.POLL_READY, ti);
          break;
        }
        case EVENT.WAKE_TASK:
          this.wake(task[i]!, a[i]!, "task", 0, ti);
          break;
        case EVENT.WAKE_SELF:
          this.wake(task[i]!, task[i]!, "self", 0, ti);
          break;
        case EVENT.WAKE_IRQ:
          this.wake(task[i]!, 0, "irq", a[i]!, ti);
          break;
        case EVENT.WAKE_EXT:
          this.wake(task[i]!, 0, "external", 0, ti);
          break;
        case EVENT.WAKER_CLONE: {
          const rec = this.knownTask(task[i]!, ti);
          if (!rec) break;
          rec.liveWakers++;
          if (rec.liveWakers > 0) rec.orphanSince = Number.NaN;
          break;
        }
        case EVENT.WAKER_DROP: {
          const rec = this.knownTask(task[i]!, ti);
          if (rec) this.wakerDrop(rec, ti);
          break;
        }
        case EVENT.TASK_DONE:
        case EVENT.TASK_CANCEL: {
          // (After POLL_READY the record is no longer live but has no end yet: TASK_DONE ends it.)
          const rec = this.knownTask(task[i]!, ti);
          if (rec && rec.end === undefined) this.end(rec, k === EVENT.TASK_CANCEL, ti);
          else if (rec) this.stats.staleWakes++;
          break;
        }
        case EVENT.AWAIT:
          if (task[i]! !== 0) {
            const rec = this.taskAt(task[i]!, ti);
            rec.awaitSite = a[i]!;
            rec.awaitResource = b[i]!;
            if (obs?.await) obs.await(rec, a[i]!, b[i]! === 0 ? undefined : this.resourceAt(b[i]!), ti);
          }
          break;
        case EVENT.RES_CREATE:
          this.resourceCreate(a[i]!, b[i]!, c[i]!, v[i]!, ti);
          break;
        case EVENT.RES_OP:
          this.resourceOp(task[i]!, a[i]!, b[i]!, c[i]!, v[i]!, ti);
          break;
        case EVENT.RES_DROP:
          this.resourceAt(a[i]!).droppedAt = ti;
          break;
        case EVENT.FLOW_BEGIN:
          this.flowBegin(task[i]!, a[i]!, b[i]!, ti);
          break;
        case EVENT.FLOW_END:
          this.flowEnd(task[i]!, a[i]!, ti);
          break;
        case EVENT.FLOW_ENTER:
          this.flowEnter(this.taskAt(task[i]!, ti), a[i]!, ti);
          break;
        case EVENT.LOG: {
          // The arguments follow as LOG_ARG rows of the same chunk, hence of the same batch.
          const args = this.logArgs;
          args.length = 0;
          const argc = c[i]!;
          let j = i;
          while (args.length < argc && j + 1 < n && kind[j + 1] === LOG_ARG) args.push(v[++j]!);
          if (obs?.log) {
            const format = this.name(a[i]!, "format");
            obs.log(span.index, this.current(task[i]!, ti), ti, b[i]!, format, args);
          }
          i = j;
          break;
        }
        case EVENT.MARK:
          if (obs?.mark) obs.mark(span.index, this.current(task[i]!, ti), ti, this.name(a[i]!, "mark"));
          break;
        case EVENT.COUNTER:
          if (obs?.counter) obs.counter(span.index, this.current(task[i]!, ti), ti, this.name(a[i]!, "counter"), v[i]!);
          break;
        case EVENT.MEM: {
          const rec = this.taskAt(task[i]!, ti);
          const bytes = v[i]!;
          rec.memBytes = bytes;
          if (rec.memPeak === undefined || bytes > rec.memPeak) rec.memPeak = bytes;
          if (this.analysis) this.growth.taskMemory(rec, ti, bytes); // [growth]
          if (obs?.memory) obs.memory(rec, ti, bytes);
          break;
        }
        case EVENT.IDLE_BEGIN:
          this.idleBegin(ti);
          break;
        case EVENT.IDLE_END:
          this.idleEnd(ti);
          break;
        case EVENT.ISR_ENTER:
          if (this.isrDepth++ === 0) this.isrSince = ti;
          if (obs?.interrupt) obs.interrupt(span.index, true, a[i]!, ti);
          break;
        case EVENT.ISR_EXIT:
          if (this.isrDepth > 0 && --this.isrDepth === 0) this.executor.isrNs += ti - this.isrSince;
          if (obs?.interrupt) obs.interrupt(span.index, false, a[i]!, ti);
          break;
        case EVENT.TIMER_ARM: {
          const rec = task[i]! === 0 ? undefined : this.taskAt(task[i]!, ti);
          if (rec) {
            rec.timerDeadline = v[i]!;
            if (obs?.timerArm) obs.timerArm(rec, ti, v[i]!);
          }
          break;
        }
        case EVENT.TIMER_FIRE: {
          const rec = this.knownTask(task[i]!, ti);
          if (!rec) break;
          const deadline = rec.timerDeadline;
          rec.timerDeadline = Number.NaN;
          rec.firedDeadline = deadline; // the wake that follows carries it to the next poll
          if (obs?.timerFire) obs.timerFire(rec, ti, deadline);
          break;
        }
        default:
          break;
      }
    }
    this.latest = latest;
  }

  /** Closes open intervals at the end of the trace. */
  finish(): void {
    this.closeSession();
  }

  /** Name text of a name id in the session being consumed. */
  nameOf(id: number): string | undefined {
    return this.ctx?.name(id);
  }

  /** Name text of a name id in any session consumed so far. */
  nameIn(session: number, id: number): string | undefined {
    return id === 0 ? undefined : this.contexts.get(session)?.name(id);
  }

  /** The span of a session, if it has events. */
  span(session: number): SessionSpan | undefined {
    return this.sessions.find((s) => s.index === session);
  }

  /** Records chunks missing between batches (found by the reader of the file). */
  noteGap(session: number, chunks: number, fromNs: number, toNs: number): void {
    const last = this.gaps[this.gaps.length - 1];
    if (this.gaps.length >= MAX_GAPS && last && last.session === session) {
      last.chunks += chunks;
      last.toNs = Math.max(last.toNs, toNs);
      return;
    }
    this.gaps.push({ session, chunks, fromNs, toNs });
  }

  /** The resource record for a session's resource id, if seen. */
  resource(session: number, id: number): ResourceRecord | undefined {
    const r = this.resourceById.get(id);
    if (r && r.session === session) return r;
    return this.resources.find((x) => x.session === session && x.id === id);
  }

  /** Time of the last event consumed in the current (or last) session. */
  get lastT(): number {
    return this.sessions.length === 0 ? 0 : this.sessions[this.sessions.length - 1]!.lastT;
  }

  /** Live tasks of the session being read. */
  *liveTasks(): Generator<TaskRecord> {
    yield* this.liveById.values();
  }

  // ---- sessions and the report window ----

  private enterSession(ctx: SessionContext, t: number): void {
    this.closeSession();
    const span: SessionSpan = { index: ctx.index, firstT: t, lastT: t, events: 0 };
    if (this.sinceNs !== undefined) span.windowStart = t + this.sinceNs;
    if (this.untilNs !== undefined) span.windowEnd = t + this.untilNs;
    this.session = span;
    this.sessions.push(span);
    this.latest = Number.NEGATIVE_INFINITY;
    this.windowOpen = this.sinceNs === undefined || this.sinceNs <= 0;
    this.pastWindow = false;
    this.observer?.sessionStart?.(span);
  }

  private closeSession(): void {
    const span = this.session;
    if (!span) return;
    const end = span.lastT;
    if (!this.windowOpen) this.openWindow(span.windowStart!); // the window begins after the last event
    this.observer?.sessionClosing?.(span);
    if (this.running) this.cutPoll(end);
    if (this.idleSince !== undefined) this.idleEnd(end, false);
    for (const rec of [...this.liveTasks()]) {
      this.dequeue(rec);
      closeAt(rec, end);
      rec.since = end;
      rec.end = "alive";
      this.aliveAtEnd.push(rec);
      this.observer?.taskEnd?.(rec, "alive", end);
    }
    for (const r of this.resources) {
      if (r.session === span.index && !Number.isNaN(r.fullSince)) {
        closeFull(r, end);
        r.fullSince = end; // still full: the interval stays open at the end, already counted
      }
    }
    this.flows.closeSession(span.index, end);
    this.liveById.clear();
    this.endedById.clear();
    this.endedRing.fill(undefined);
    this.incarnations.clear();
    this.resourceById.clear();
    this.running = undefined;
    this.idleSince = undefined;
    this.rqHead = this.rqTail = null;
    this.isrDepth = 0;
    this.session = undefined;
    this.lpCount = 0;
    this.rpCount = 0;
    this.lastLongPollEnd = Number.NEGATIVE_INFINITY;
    this.observer?.sessionEnd?.(span);
  }

  /** Everything accounted so far is before the window: forget it, keep the state. */
  private openWindow(t0: number): void {
    this.windowOpen = true;
    const ex = this.executor;
    ex.busyNs = ex.idleNs = ex.polls = ex.maxWakeDelayNs = ex.isrNs = 0;
    if (this.idleSince !== undefined) this.idleSince = Math.max(this.idleSince, t0);
    if (this.running) this.pollStart = Math.max(this.pollStart, t0);
    for (const rec of this.liveTasks()) {
      rec.since = Math.max(rec.since, t0);
      rec.busyNs = rec.scheduledNs = rec.idleNs = 0;
      rec.polls = rec.wakes = rec.selfWakes = 0;
      rec.wakesByTask = rec.wakesByIrq = rec.wakesExt = 0;
      if (!this.analysis) continue;
      rec.pollTime = new Histogram();
      rec.wakeDelay = new Histogram();
      rec.maxPollNs = 0;
      rec.longPolls = rec.longPollNs = 0;
      rec.passedOverNs = rec.passedOverSumNs = rec.passedOverCount = rec.passedOverMaxNs = 0;
    }
    for (const r of this.resources) {
      r.ops = r.blockedOps = r.waits = r.waitNs = r.maxWaitNs = 0;
      r.fullNs = r.longestFullNs = 0;
      r.maxLevel = r.level;
      r.waiters.clear();
      if (!Number.isNaN(r.fullSince)) r.fullSince = Math.max(r.fullSince, t0);
    }
    this.groups.clear();
    this.passedOverBy.clear();
    this.flows.resetFinished();
    if (this.analysis) {
      this.concurrency.resetWindow(this.liveTasks(), t0); // [concurrency]
      this.growth.resetWindow(t0); // [growth]
    }
    this.longPolls.clear();
    this.lpDistinct.clear();
    this.lateTimers.clear();
    this.lostWakeEpisodes.length = 0;
    this.lostWakeEpisodesDropped = 0;
    this.lpCount = 0;
    this.lastLongPollEnd = Number.NEGATIVE_INFINITY;
  }

  // ---- tasks ----

  private live(id: number): TaskRecord | undefined {
    return this.liveById.get(id);
  }

  private setLive(id: number, rec: TaskRecord | undefined): void {
    if (rec) this.liveById.set(id, rec);
    else this.liveById.delete(id);
  }

  private name(id: number, kind: string): string {
    if (id === 0) return "";
    return this.ctx?.name(id) ?? `${kind}#${id}`;
  }

  private spawn(id: number, parent: number, name: number, flow: number, t: number): void {
    const old = this.live(id);
    if (old) {
      // The id was reused without an end event (the end was lost or never recorded).
      if (old.end === undefined && isLive(old)) this.stats.lostEnds++;
      this.close(old, isLive(old) ? "lost" : old.state === "cancelled" ? "cancelled" : "done", t);
    }
    const parentRec = parent === 0 ? undefined : this.live(parent);
    const rec = this.create(id, t);
    rec.spawnedAt = t;
    rec.parent = parent;
    rec.parentIndex = parentRec?.index ?? -1;
    rec.parentName = parentRec?.name;
    rec.parentNameKey = parentRec?.nameKey ?? 0;
    rec.flow = flow;
    rec.name = this.ctx?.name(name) ?? (name === 0 ? `task ${id}` : `name#${name}`);
    rec.nameKey = this.nameKey(rec.name);
    this.enqueue(rec, t);
    if (flow !== 0 && this.analysis) {
      const f = this.flows.get(rec.session, flow);
      if (f) this.flows.join(f, rec);
      this.concurrency.flowChanged(rec, f, t); // [concurrency] serves its parent's flow
    }
    this.observer?.taskStart?.(rec, parentRec, t);
  }

  /** The live record for a task id, created on first sight if its spawn is not in the trace. */
  private taskAt(id: number, t: number): TaskRecord {
    const rec = this.live(id);
    if (rec) return rec;
    const created = this.create(id, t);
    created.name = `task ${id}`;
    created.nameKey = this.nameKey(created.name);
    // Seen before its spawn: we know nothing of what it was doing, so count it from here as
    // parked, and do not trust its waker count.
    created.state = "parked";
    created.readySince = Number.NaN;
    created.wakersReliable = false;
    this.observer?.taskStart?.(created, undefined, t);
    return created;
  }

  /** The current task of an event (0: none), created on first sight. */
  private current(id: number, t: number): TaskRecord | undefined {
    return id === 0 ? undefined : this.taskAt(id, t);
  }

  /** Live record, else the one that just ended (late events about it), else a new record when
   *  the id was never seen; undefined for an id whose task ended long ago (a stale event). */
  private knownTask(id: number, t: number): TaskRecord | undefined {
    const rec = this.live(id) ?? this.endedById.get(id);
    if (rec) return rec;
    if (this.incarnations.has(id)) {
      this.stats.staleWakes++;
      return undefined;
    }
    return this.taskAt(id, t);
  }

  private nameKey(name: string): number {
    let k = this.nameKeys.get(name);
    if (k === undefined) {
      k = this.nameKeys.size + 1;
      this.nameKeys.set(name, k);
    }
    return k;
  }

  private create(id: number, t: number): TaskRecord {
    const n = (this.incarnations.get(id) ?? 0) + 1;
    this.incarnations.set(id, n);
    const rec = (this.analysis ? newTask : newLightTask)(this.session!.index, this.taskCount++, id, t, n);
    this.setLive(id, rec);
    return rec;
  }

  /** Closes a record: the observers hear of it, its figures fold into its group, and it is kept
   *  a little while for late events (a wake by a child that just ended). */
  private close(rec: TaskRecord, end: Exclude<TaskEnd, "alive">, t: number): void {
    if (this.running === rec) this.cutPoll(t);
    this.dequeue(rec);
    if (isLive(rec)) closeAt(rec, t);
    rec.end = end;
    if (rec.endedAt === undefined) rec.endedAt = t;
    if (this.live(rec.id) === rec) this.setLive(rec.id, undefined);
    this.observer?.taskEnd?.(rec, end, t);
    if (this.analysis) {
      this.concurrency.taskClosed(rec, t); // [concurrency]
      this.growth.taskClosed(rec); // [growth]
      this.groups.add(rec, end, t);
    }
    const k = this.endedNext;
    const evicted = this.endedRing[k];
    if (evicted && this.endedById.get(evicted.id) === evicted) this.endedById.delete(evicted.id);
    this.endedRing[k] = rec;
    this.endedNext = (k + 1) % RECENTLY_ENDED;
    this.endedById.set(rec.id, rec);
  }

  // ---- the runnable queue (for starvation: who ran while a task waited) ----

  private enqueue(rec: TaskRecord, t: number): void {
    if (rec.queued) return;
    rec.readySince = t;
    rec.queued = true;
    if (!this.analysis) return; // the queue's order is for starvation only
    rec.passedOverNs = 0;
    rec.rqPrev = this.rqTail;
    rec.rqNext = null;
    if (this.rqTail) this.rqTail.rqNext = rec;
    else this.rqHead = rec;
    this.rqTail = rec;
  }

  private dequeue(rec: TaskRecord): void {
    if (!rec.queued) return;
    rec.queued = false;
    if (!this.analysis) return;
    if (rec.rqPrev) rec.rqPrev.rqNext = rec.rqNext;
    else this.rqHead = rec.rqNext;
    if (rec.rqNext) rec.rqNext.rqPrev = rec.rqPrev;
    else this.rqTail = rec.rqPrev;
    rec.rqPrev = rec.rqNext = null;
  }

  private passOver(victim: TaskRecord, by: string, ns: number): void {
    victim.passedOverNs += ns;
    const key = packKey(victim.session, victim.nameKey, 0);
    let m = this.passedOverBy.get(key);
    if (!m) this.passedOverBy.set(key, (m = new Map()));
    m.set(by, (m.get(by) ?? 0) + ns);
  }

  // ---- polls and wakes ----

  private pollBegin(rec: TaskRecord, t: number): void {
    if (this.running) this.cutPoll(t); // the previous poll's end is not in the trace
    const ready = rec.readySince;
    const parkedAt = rec.parkedAt;
    if (this.analysis) this.resumeAnalysis(rec, ready, parkedAt, t);
    else this.dequeue(rec);
    rec.firedDeadline = Number.NaN;
    this.observer?.resumed?.(rec, parkedAt, ready, t);
    rec.readySince = Number.NaN;
    rec.parkedAt = Number.NaN;
    rec.orphanSince = Number.NaN;
    this.resumeSite = rec.awaitSite !== 0 ? rec.awaitSite : rec.lastSite;
    onPollBegin(rec, t);
    this.running = rec;
    this.pollStart = t;
    this.pollIsrStart = this.isrTotal(t);
    this.selfWokeInPoll = false;
    this.observer?.pollBegin?.(rec, t);
  }

  /** The analysis of a poll that begins: the wait it ends, who delayed it, who it passes over. */
  private resumeAnalysis(rec: TaskRecord, ready: number, parkedAt: number, t: number): void {
    if (ready === ready) {
      // NaN-safe: ready is a number (runnable since then)
      const d = t - ready;
      rec.wakeDelay.add(d);
      if (d > this.executor.maxWakeDelayNs) this.executor.maxWakeDelayNs = d;
      if (ready < this.lastLongPollEnd) this.chargeLongPolls(rec, ready, t);
      const over = rec.passedOverNs;
      rec.passedOverSumNs += over;
      rec.passedOverCount++;
      if (over > rec.passedOverMaxNs) rec.passedOverMaxNs = over;
      const fired = rec.firedDeadline;
      if (fired === fired) this.timerResumed(rec, fired, t);
    }
    if (rec.firstPollAt === undefined && rec.spawnedAt !== undefined) rec.firstPollDelayNs = t - rec.spawnedAt;
    // Tasks queued before this one are passed over by its poll.
    this.clearAhead();
    if (rec.queued) {
      const ahead = this.ahead;
      let n = 0;
      for (let q = this.rqHead; q !== null && q !== rec; q = q.rqNext) ahead[n++] = q;
      this.aheadCount = n;
      this.dequeue(rec);
    }
    if (parkedAt === parkedAt) this.endWait(rec, t - parkedAt, parkedAt);
    this.concurrency.pollBegun(rec, t); // [concurrency]
  }

  /** Empties `ahead` (slots cleared, not the array's length: setting that is a runtime call,
   *  3 % of the analysis when done twice per poll). */
  private clearAhead(): void {
    for (let j = 0; j < this.aheadCount; j++) this.ahead[j] = undefined;
    this.aheadCount = 0;
  }

  /** Interrupt time so far, counting an interrupt still running. */
  private isrTotal(t: number): number {
    return this.executor.isrNs + (this.isrDepth > 0 ? t - this.isrSince : 0);
  }

  /** A park ended (the task runs again): charge the wait to its resource and flow. */
  private endWait(rec: TaskRecord, waitNs: number, parkedAt: number): void {
    const site = rec.lastSite;
    const res = rec.lastResource;
    const r = res !== 0 ? this.resourceById.get(res) : undefined;
    if (r) noteWait(r, rec, site, waitNs);
    this.concurrency.waitEnded(rec, site, res, r, waitNs, parkedAt, parkedAt + waitNs); // [concurrency]
    if (rec.waitFlow !== 0) {
      const f = this.flows.get(rec.session, rec.waitFlow);
      if (f) {
        const step: FlowStep = {
          task: taskRef(rec), site, resource: res, atNs: parkedAt, waitNs, internal: rec.wokenWithinFlow, wokenBy: rec.wokenWithinFlow ? rec.wokenByIndex : -1,
        };
        // Blame the task that held the mutex for most of the wait (not just when it began).
        const blocker = r && r.kind === "mutex" ? blameHolder(r, parkedAt, parkedAt + waitNs) : undefined;
        this.flows.addWait(f, step, blocker);
      }
    }
  }

  /** Ends the running poll without its end event (the next poll began, or the task or trace
   *  ended): its time is not counted as a poll, the task is taken as parked. */
  private cutPoll(t: number): void {
    const rec = this.running!;
    this.running = undefined;
    this.stats.pollsCut++;
    this.observer?.poll?.(rec, this.pollStart, t, "cut");
    if (isLive(rec)) transition(rec, "parked", t);
    rec.parkedAt = t;
    rec.lastSite = rec.awaitSite;
    rec.lastResource = rec.awaitResource;
    rec.wakersReliable = false; // what the lost part of the poll did to its wakers is unknown
    if (this.analysis) this.concurrency.parked(rec, t); // [concurrency]
  }

  private pollEnd(rec: TaskRecord, ready: boolean, t: number): void {
    const result: PollResult = ready ? "ready" : "pending";
    if (this.running === rec) {
      const gross = t - this.pollStart;
      // Interrupt handlers that ran inside the poll took that time, not the task.
      const d = gross - (this.isrTotal(t) - this.pollIsrStart);
      this.executor.busyNs += d;
      this.executor.polls++;
      if (this.analysis) this.pollAnalysis(rec, t, d);
      this.observer?.poll?.(rec, this.pollStart, t, result);
      if (this.analysis) this.concurrency.pollEnded(rec, t, d); // [concurrency] the flow's CPU, split where the poll switched flows
      this.running = undefined;
    } else {
      this.stats.pollEndsWithoutBegin++;
    }
    this.clearAhead();
    onPollEnd(rec, ready, t);
    if (ready) return;
    rec.lastSite = rec.awaitSite;
    rec.lastResource = rec.awaitResource;
    rec.parkedAt = t;
    if (this.analysis) {
      rec.waitFlow = rec.flow;
      rec.wokenWithinFlow = false;
      rec.wokenByIndex = -1;
      this.concurrency.parked(rec, t); // [concurrency]
    }
    if (this.selfWokeInPoll) rec.selfWakeSite = rec.awaitSite;
    if (rec.state === "scheduled") {
      this.enqueue(rec, t); // woken during its own poll: runnable from now
    } else if (rec.liveWakers <= 0) {
      rec.orphanSince = t;
      rec.orphanReason = "no-waker-stored";
      rec.orphanedBy = -1;
    }
  }

  /** The analysis of a poll that ended after `d` ns of its own: its time, long polls, those it
   *  passed over, the ring of recent polls. */
  private pollAnalysis(rec: TaskRecord, t: number, d: number): void {
    rec.pollTime.add(d);
    if (d > rec.maxPollNs) {
      rec.maxPollNs = d;
      rec.maxPollAt = this.pollStart;
      rec.maxPollSite = this.resumeSite;
    }
    const long = d >= this.thresholds.longPollNs;
    if (long) this.longPoll(rec, this.pollStart, t, d);
    else {
      // Those it passed over (queued before it): charged to it, unless it was a long poll,
      // which the long-poll lint reports on its own.
      for (let j = 0; j < this.aheadCount; j++) {
        const q = this.ahead[j]!;
        if (q.queued && q.readySince <= this.pollStart) this.passOver(q, rec.name, d);
      }
    }
    this.recentPoll(rec, this.pollStart, t);
  }

  private wake(target: number, by: number, kind: WakeKind, irq: number, t: number): void {
    const rec = this.live(target) ?? (this.endedById.has(target) || this.incarnations.has(target) ? undefined : this.taskAt(target, t));
    if (!rec) {
      this.stats.staleWakes++; // a wake for a task that already ended changes nothing
      return;
    }
    const self = kind === "self";
    if (kind === "task") rec.wakesByTask++;
    else if (kind === "irq") rec.wakesByIrq++;
    else if (kind === "external") rec.wakesExt++;
    rec.lastWakeBy = by;
    if (rec.state === "parked") {
      rec.orphanSince = Number.NaN;
      if (this.analysis && kind === "task" && rec.waitFlow !== 0) {
        const waker = this.live(by) ?? this.endedById.get(by);
        rec.wokenWithinFlow = waker !== undefined && waker.flow === rec.waitFlow;
        rec.wokenByIndex = rec.wokenWithinFlow ? waker!.index : -1;
      }
      this.enqueue(rec, t);
    }
    if (self && this.running === rec) this.selfWokeInPoll = true;
    if (this.observer?.wake) {
      const from = kind === "task" ? (this.live(by) ?? this.endedById.get(by)) : self ? rec : undefined;
      this.observer.wake(rec, from, kind, t, irq);
    }
    onWake(rec, self, t);
  }

  private wakerDrop(rec: TaskRecord, t: number): void {
    rec.liveWakers--;
    if (rec.liveWakers < 0) rec.wakersReliable = false;
    if (rec.state === "parked" && rec.liveWakers <= 0 && rec.orphanSince !== rec.orphanSince) {
      rec.orphanSince = t;
      rec.orphanReason = "waker-dropped";
      rec.orphanedBy = this.running ? this.running.index : -1;
      if (this.analysis) rec.orphanedByRef = this.running ? taskRef(this.running) : undefined;
    }
  }

  private end(rec: TaskRecord, cancelled: boolean, t: number): void {
    const orphan = rec.orphanSince;
    if (this.analysis && cancelled && orphan === orphan && isLive(rec) && t - orphan >= this.thresholds.stuckNs) {
      const episode: LostWakeEpisode = {
        task: taskRef(rec), since: orphan, until: t, site: rec.lastSite, resource: rec.lastResource,
        reason: rec.orphanReason, droppedBy: rec.orphanedByRef, polls: rec.polls, lastWakeAt: rec.lastWakeAt,
        wakersReliable: rec.wakersReliable, spawned: rec.spawnedAt !== undefined,
      };
      if (this.lostWakeEpisodes.length < MAX_EPISODES) this.lostWakeEpisodes.push(episode);
      else this.lostWakeEpisodesDropped++;
    }
    if (this.running === rec) this.cutPoll(t);
    if (isLive(rec)) {
      rec.orphanSince = Number.NaN;
      rec.readySince = Number.NaN;
      if (this.analysis) rec.blockedRes = 0;
    }
    onEnd(rec, cancelled, t);
    this.close(rec, rec.state === "cancelled" ? "cancelled" : "done", t);
  }

  // ---- the executor: idle, polls kept for blame ----

  private idleBegin(t: number): void {
    this.idleSince = t;
    this.idleQueued = this.rqHead !== null;
    this.observer?.idle?.(this.session!.index, true, t);
  }

  private idleEnd(t: number, notify = true): void {
    const since = this.idleSince;
    if (since !== undefined) {
      this.executor.idleNs += t - since;
      this.lastIdleFrom = since;
      this.lastIdleTo = t;
      // Idling with tasks runnable passes all of them over (an executor that forgot them).
      if (this.idleQueued) for (let q = this.rqHead; q !== null; q = q.rqNext) this.passOver(q, EXECUTOR_IDLE, t - Math.max(since, q.readySince));
    }
    this.idleSince = undefined;
    if (notify) this.observer?.idle?.(this.session!.index, false, t);
  }

  private recentPoll(rec: TaskRecord, start: number, end: number): void {
    const k = this.rpNext;
    this.rpStart[k] = start;
    this.rpEnd[k] = end;
    this.rpTask[k] = rec;
    this.rpSite[k] = this.resumeSite;
    this.rpNext = (k + 1) % RECENT_POLLS;
    if (this.rpCount < RECENT_POLLS) this.rpCount++;
  }

  // ---- timers ----

  /** `rec` is polled at `t` after its timer's `deadline` passed: how late, and who kept it. */
  private timerResumed(rec: TaskRecord, deadline: number, t: number): void {
    const late = t - deadline;
    const key = packKey(rec.session, rec.nameKey, rec.lastSite);
    let g = this.lateTimers.get(key);
    if (!g) {
      g = {
        session: rec.session, taskName: rec.name, site: rec.lastSite, fires: 0, late: 0, maxLateNs: 0, maxFireLateNs: 0,
        maxAt: deadline, maxTask: taskRef(rec), blamed: undefined, idleNs: 0, sumLateNs: 0,
      };
      this.lateTimers.set(key, g);
    }
    g.fires++;
    if (late < this.thresholds.lateTimerNs) return;
    g.late++;
    g.sumLateNs += late;
    // The poll that overlapped [deadline, t] the most (other tasks'): it kept the executor from
    // firing the timer or from polling the task.
    let best = -1;
    let bestOverlap = 0;
    for (let j = 0; j < this.rpCount; j++) {
      const k = (this.rpNext - 1 - j + RECENT_POLLS) % RECENT_POLLS;
      const end = this.rpEnd[k]!;
      if (end <= deadline) break;
      if (this.rpTask[k] === rec) continue;
      const o = Math.min(end, t) - Math.max(this.rpStart[k]!, deadline);
      if (o > bestOverlap) {
        bestOverlap = o;
        best = k;
      }
    }
    const idle = Math.max(0, Math.min(this.lastIdleTo, t) - Math.max(this.lastIdleFrom, deadline)) || 0;
    // A poll is to blame only when it covers most of the lateness: a few-µs poll that happened to
    // fall inside a long delay did not cause it (the victim of something else is no culprit).
    if (best >= 0 && (bestOverlap < late / 2 || bestOverlap < idle)) best = -1;
    if (best >= 0) {
      for (const lp of this.longPolls.values()) {
        if (lp.session === rec.session && lp.taskName === this.rpTask[best]!.name && this.rpEnd[best]! - this.rpStart[best]! >= this.thresholds.longPollNs && lp.site === this.rpSite[best]) {
          lp.timersDelayed++;
          if (late > lp.maxTimerLateNs) lp.maxTimerLateNs = late;
        }
      }
    }
    if (late <= g.maxLateNs) return;
    g.maxLateNs = late;
    g.maxAt = deadline;
    g.maxTask = taskRef(rec);
    g.idleNs = idle;
    g.maxFireLateNs = Math.max(0, (rec.lastWakeAt ?? t) - deadline);
    g.blamed =
      best >= 0
        ? {
            task: taskRef(this.rpTask[best]!), site: this.rpSite[best]!, startNs: this.rpStart[best]!, endNs: this.rpEnd[best]!,
            long: this.rpEnd[best]! - this.rpStart[best]! >= this.thresholds.longPollNs,
          }
        : undefined;
  }

  // ---- long polls ----

  private longPoll(rec: TaskRecord, start: number, end: number, d: number): void {
    rec.longPolls++;
    rec.longPollNs += d;
    const key = `${rec.session}\u0000${rec.name}\u0000${this.resumeSite}`;
    let g = this.longPolls.get(key);
    if (!g) {
      g = {
        session: rec.session, taskName: rec.name, site: this.resumeSite, endSite: rec.awaitSite,
        count: 0, totalNs: 0, maxNs: 0, maxAt: start, maxTask: taskRef(rec),
        delayCausedNs: 0, delayedPolls: 0, delayedTasks: 0, delayedSample: [], timersDelayed: 0, maxTimerLateNs: 0,
      };
      this.longPolls.set(key, g);
    }
    g.count++;
    g.totalNs += d;
    if (d > g.maxNs) {
      g.maxNs = d;
      g.maxAt = start;
      g.maxTask = taskRef(rec);
      g.endSite = rec.awaitSite;
    }
    const k = this.lpNext;
    this.lpStart[k] = start;
    this.lpEnd[k] = end;
    this.lpGroup[k] = g;
    this.lpTask[k] = rec.index;
    this.lpNext = (k + 1) % RECENT_LONG_POLLS;
    if (this.lpCount < RECENT_LONG_POLLS) this.lpCount++;
    if (end > this.lastLongPollEnd) this.lastLongPollEnd = end;
  }

  /** `rec` was runnable over [ready, t]: charge the overlap with recent long polls (of other
   *  tasks) to them; returns the delay they explain. */
  private chargeLongPolls(rec: TaskRecord, ready: number, t: number): number {
    let explained = 0;
    for (let j = 0; j < this.lpCount; j++) {
      const k = (this.lpNext - 1 - j + RECENT_LONG_POLLS) % RECENT_LONG_POLLS;
      const end = this.lpEnd[k]!;
      if (end <= ready) break; // older ones ended even earlier
      if (this.lpTask[k] === rec.index) continue; // its own poll did not keep it waiting
      const g = this.lpGroup[k]!;
      const overlap = Math.min(end, t) - Math.max(this.lpStart[k]!, ready);
      if (overlap <= 0) continue;
      g.delayCausedNs += overlap;
      g.delayedPolls++;
      let seen = this.lpDistinct.get(g);
      if (!seen) this.lpDistinct.set(g, (seen = new Set()));
      if (!seen.has(rec.index) && seen.size < DISTINCT_CAP) {
        seen.add(rec.index);
        g.delayedTasks++;
        if (g.delayedSample.length < SAMPLE) g.delayedSample.push(taskRef(rec));
      }
      explained += overlap;
    }
    return explained;
  }

  // ---- resources ----

  private resourceAt(id: number): ResourceRecord {
    let r = this.resourceById.get(id);
    if (!r) {
      r = newResource(this.session!.index, this.resources.length, id);
      this.resources.push(r);
      this.resourceById.set(id, r);
    }
    return r;
  }

  private resourceCreate(id: number, name: number, kind: number, capacity: number, t: number): void {
    const old = this.resourceById.get(id);
    if (old && old.createdAt !== undefined) this.resourceById.delete(id); // id reused: a new resource
    const r = this.resourceAt(id);
    r.kind = resourceKindName(kind);
    r.name = this.ctx?.name(name) ?? (name === 0 ? `${r.kind} ${id}` : `name#${name}`);
    r.capacity = capacity;
    r.createdAt = t;
  }

  private resourceOp(taskId: number, id: number, op: number, outcome: number, level: number, t: number): void {
    const r = this.resourceAt(id);
    const rec = taskId === 0 ? undefined : this.taskAt(taskId, t);
    r.ops++;
    setLevel(r, level, t);
    if (this.analysis && r.kind === "channel") this.growth.channelLevel(r, t, level); // [growth]
    this.observer?.resourceOp?.(this.session!.index, rec, t, r, op, outcome, level);
    if (!this.analysis) return; // users, blocked operations and holders are for the lints
    if (rec) {
      if (op === RESOURCE_OP.send) addUser(r.senders, rec);
      else if (op === RESOURCE_OP.recv || op === RESOURCE_OP.acquire) addUser(r.receivers, rec);
    }
    if (outcome === RESOURCE_OUTCOME.blocked) {
      r.blockedOps++;
      if (rec) {
        rec.blockedRes = id;
        rec.blockedOp = op;
        rec.blockedSince = t;
        rec.blockedBy = r.kind === "mutex" && r.holder ? r.holder.index : -1;
      }
      return;
    }
    if (rec && rec.blockedRes === id) {
      rec.blockedRes = 0;
      rec.blockedOp = -1;
    }
    if (op === RESOURCE_OP.acquire) changeHolder(r, rec ? taskRef(rec) : undefined, t);
    else if (op === RESOURCE_OP.release && level === 0) changeHolder(r, undefined, t);
  }

  // ---- flows ----

  private flowBegin(taskId: number, flow: number, nameId: number, t: number): void {
    const rec = taskId === 0 ? undefined : this.taskAt(taskId, t);
    const name = this.ctx?.name(nameId) ?? (nameId === 0 ? "flow" : `name#${nameId}`);
    const f = this.analysis ? this.flows.begin(this.session!.index, flow, nameId, name, rec, t) : undefined;
    if (rec) {
      rec.flow = flow;
      if (f) this.concurrency.flowChanged(rec, f, t); // [concurrency]
    }
    this.observer?.flowBegin?.(this.session!.index, rec, flow, name, t);
  }

  private flowEnd(taskId: number, flow: number, t: number): void {
    const rec = taskId === 0 ? undefined : this.taskAt(taskId, t);
    // The core clears the current task's flow only if it is the one ending.
    if (rec && rec.flow === flow) {
      rec.flow = 0;
      if (this.analysis) this.concurrency.flowChanged(rec, undefined, t); // [concurrency] its CPU up to here is the flow's
    }
    const f = this.analysis ? this.flows.get(this.session!.index, flow) : undefined;
    if (f) this.flows.end(f, t, false, rec);
    this.observer?.flowEnd?.(this.session!.index, rec, flow, t);
  }

  private flowEnter(rec: TaskRecord, flow: number, t: number): void {
    const previous = rec.flow;
    rec.flow = flow;
    if (this.analysis) {
      const f = flow === 0 ? undefined : this.flows.get(rec.session, flow);
      if (f) this.flows.join(f, rec);
      this.concurrency.flowChanged(rec, f, t); // [concurrency]
    }
    if (previous !== flow) this.observer?.flowEnter?.(rec, previous, t);
  }
}

/** The key of model.passedOverBy for a task name's tasks. */
export function passedOverKey(t: Pick<TaskRecord, "session" | "nameKey">): number | string {
  return packKey(t.session, t.nameKey, 0);
}
