// Streaming analysis: consumes decoded event batches session by session and keeps one record per
// task, resource and flow kind (memory grows with those, not with trace length): task lifetimes
// and states, poll and wake-to-poll histograms, waker counts, where parked tasks wait, resource
// fill levels and holders, request flows, long polls and the delay they caused, executor load.
// The lints (lints.ts) and reports read this state; nothing here keeps per-event data.

import { EVENT, RESOURCE_OP, RESOURCE_OUTCOME } from "../format/spec.js";
import type { EventBatch } from "../format/batch.js";
import {
  type TaskRecord,
  newTask,
  onPollBegin,
  onPollEnd,
  onWake,
  onEnd,
  closeAt,
  isLive,
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
  /** Task of the longest one (index in tasks). */
  maxTask: number;
  /** Wake-to-poll delay other tasks spent waiting while these polls ran. */
  delayCausedNs: number;
  delayedPolls: number;
  delayedTasks: Set<number>;
}

/** A task that sat parked with no waker and was then cancelled (the end of the trace is handled
 *  by the lints from live state). */
export interface LostWakeEpisode {
  task: number;
  since: number;
  until: number;
  site: number;
  resource: number;
  reason: TaskRecord["orphanReason"];
  droppedBy: number;
}

/** Chunks missing between two batches, with the time range they fall in. */
export interface GapRange {
  session: number;
  chunks: number;
  fromNs: number;
  toNs: number;
}

/** Sees the intervals the model derives, as they complete (the HTML timeline draws them). */
export interface ModelObserver {
  /** A poll of `task` ran over [start, end]. */
  poll(task: TaskRecord, start: number, end: number, ready: boolean): void;
  /** `task` is polled at `pollAt`: it was parked from `parkedAt` (NaN: not parked, e.g. just
   *  spawned) and runnable from `readyAt` (NaN if unknown). */
  resumed(task: TaskRecord, parkedAt: number, readyAt: number, pollAt: number): void;
  /** `task` was woken at `t` by `by` (undefined: an interrupt or outside the executor). */
  wake(task: TaskRecord, by: TaskRecord | undefined, kind: number, t: number): void;
  /** The session ends at `end` with `task` still alive. */
  open(task: TaskRecord, end: number): void;
}

export interface ModelOptions {
  thresholds?: Partial<Thresholds>;
  /** Report window, ns from each session's first event: accounting starts at sinceNs (the state
   *  before it is still replayed) and the session is closed at untilNs. */
  window?: { sinceNs?: number; untilNs?: number };
  observer?: ModelObserver;
}

const NO_TASK = -1;
const DENSE_IDS = 1 << 16;
const RECENT_LONG_POLLS = 32;

export class TraceModel {
  /** Every task incarnation seen, in order of first appearance. */
  readonly tasks: TaskRecord[] = [];
  readonly executor: ExecutorStats = { busyNs: 0, idleNs: 0, polls: 0, maxWakeDelayNs: 0 };
  readonly sessions: SessionSpan[] = [];
  /** Every resource seen, in order of creation. */
  readonly resources: ResourceRecord[] = [];
  readonly flows = new FlowTracker();
  readonly longPolls = new Map<string, LongPollGroup>();
  readonly lostWakeEpisodes: LostWakeEpisode[] = [];
  readonly gaps: GapRange[] = [];
  readonly thresholds: Thresholds;

  private readonly observer: ModelObserver | undefined;
  private readonly sinceNs: number | undefined;
  private readonly untilNs: number | undefined;
  // Live tasks by id: dense for small ids (the usual case), a map beyond.
  private liveDense: (TaskRecord | undefined)[] = [];
  private liveSparse = new Map<number, TaskRecord>();
  // The last ended incarnation of each id, for late events about it (a child's end waking its
  // joiner, a waker of an ended task released).
  private endedDense: (TaskRecord | undefined)[] = [];
  private endedSparse = new Map<number, TaskRecord>();
  private incarnations = new Map<number, number>();
  private resourceById = new Map<number, ResourceRecord>();
  private contexts = new Map<number, SessionContext>();
  private nameKeys = new Map<string, number>();
  private session: SessionSpan | undefined;
  private ctx: SessionContext | undefined;
  private running: TaskRecord | undefined;
  private pollStart = 0;
  private resumeSite = 0;
  private selfWokeInPoll = false;
  private idleSince: number | undefined;
  private windowOpen = true;
  private pastWindow = false;
  // Recent long polls (ring): start, end and group, to charge the delay they cause.
  private lpStart = new Float64Array(RECENT_LONG_POLLS);
  private lpEnd = new Float64Array(RECENT_LONG_POLLS);
  private lpGroup: (LongPollGroup | undefined)[] = new Array(RECENT_LONG_POLLS);
  private lpTask = new Int32Array(RECENT_LONG_POLLS);
  private lpNext = 0;
  private lpCount = 0;
  private lastLongPollEnd = Number.NEGATIVE_INFINITY;

  constructor(options: ModelOptions = {}) {
    this.thresholds = resolveThresholds(options.thresholds);
    this.observer = options.observer;
    this.sinceNs = options.window?.sinceNs;
    this.untilNs = options.window?.untilNs;
  }

  /** Feeds one decoded batch. Batches of a session must come in order. */
  consume(batch: EventBatch, ctx: SessionContext): void {
    if (batch.length === 0) return;
    if (!this.session || this.session.index !== ctx.index) this.enterSession(ctx, batch.t[0]!);
    this.ctx = ctx;
    this.contexts.set(ctx.index, ctx);
    if (this.pastWindow) return;
    const span = this.session!;
    const { kind, t, task, a, b, c, v } = batch;
    const n = batch.length;
    for (let i = 0; i < n; i++) {
      const ti = t[i]!;
      if (!this.windowOpen) {
        if (ti >= span.windowStart!) this.openWindow(span.windowStart!);
      }
      if (span.windowEnd !== undefined && ti > span.windowEnd) {
        this.pastWindow = true;
        span.lastT = span.windowEnd;
        return;
      }
      if (span.events === 0) span.firstT = ti;
      span.lastT = ti;
      span.events++;
      switch (kind[i]) {
        case EVENT.SPAWN:
          this.spawn(task[i]!, a[i]!, b[i]!, c[i]!, ti);
          break;
        case EVENT.POLL_BEGIN:
          this.pollBegin(this.taskAt(task[i]!, ti), ti);
          break;
        case EVENT.POLL_READY:
        case EVENT.POLL_PENDING: {
          const id = task[i]!;
          if (id === 0) break; // the poll began before the trace did and its context was lost
          this.pollEnd(this.taskAt(id, ti), kind[i] === EVENT.POLL_READY, ti);
          break;
        }
        case EVENT.WAKE_TASK:
          this.wake(task[i]!, a[i]!, EVENT.WAKE_TASK, ti);
          break;
        case EVENT.WAKE_SELF:
          this.wake(task[i]!, task[i]!, EVENT.WAKE_SELF, ti);
          break;
        case EVENT.WAKE_IRQ:
          this.wake(task[i]!, 0, EVENT.WAKE_IRQ, ti);
          break;
        case EVENT.WAKE_EXT:
          this.wake(task[i]!, 0, EVENT.WAKE_EXT, ti);
          break;
        case EVENT.WAKER_CLONE: {
          const rec = this.knownTask(task[i]!, ti);
          rec.liveWakers++;
          if (rec.liveWakers > 0) rec.orphanSince = Number.NaN;
          break;
        }
        case EVENT.WAKER_DROP:
          this.wakerDrop(this.knownTask(task[i]!, ti), ti);
          break;
        case EVENT.TASK_DONE:
        case EVENT.TASK_CANCEL:
          this.end(this.knownTask(task[i]!, ti), kind[i] === EVENT.TASK_CANCEL, ti);
          break;
        case EVENT.AWAIT:
          if (task[i]! !== 0) {
            const rec = this.taskAt(task[i]!, ti);
            rec.awaitSite = a[i]!;
            rec.awaitResource = b[i]!;
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
          this.flowEnter(this.taskAt(task[i]!, ti), a[i]!);
          break;
        case EVENT.IDLE_BEGIN:
          this.idleSince = ti;
          break;
        case EVENT.IDLE_END:
          if (this.idleSince !== undefined) this.executor.idleNs += ti - this.idleSince;
          this.idleSince = undefined;
          break;
        default:
          break;
      }
    }
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

  // ---- sessions and the report window ----

  private enterSession(ctx: SessionContext, t: number): void {
    this.closeSession();
    const span: SessionSpan = { index: ctx.index, firstT: t, lastT: t, events: 0 };
    if (this.sinceNs !== undefined) span.windowStart = t + this.sinceNs;
    if (this.untilNs !== undefined) span.windowEnd = t + this.untilNs;
    this.session = span;
    this.sessions.push(span);
    this.windowOpen = this.sinceNs === undefined || this.sinceNs <= 0;
    this.pastWindow = false;
  }

  private closeSession(): void {
    const span = this.session;
    if (!span) return;
    const end = span.lastT;
    if (!this.windowOpen) this.openWindow(span.windowStart!); // the window begins after the last event
    for (const rec of this.liveTasks()) {
      closeAt(rec, end);
      rec.since = end;
      if (this.observer) this.observer.open(rec, end);
    }
    if (this.idleSince !== undefined) this.executor.idleNs += end - this.idleSince;
    for (const r of this.resources) {
      if (r.session === span.index && !Number.isNaN(r.fullSince)) {
        closeFull(r, end);
        r.fullSince = end; // still full: the interval stays open at the end, already counted
      }
    }
    this.flows.closeSession(span.index);
    this.liveDense = [];
    this.liveSparse.clear();
    this.endedDense = [];
    this.endedSparse.clear();
    this.incarnations.clear();
    this.resourceById.clear();
    this.running = undefined;
    this.idleSince = undefined;
    this.session = undefined;
    this.lpCount = 0;
    this.lastLongPollEnd = Number.NEGATIVE_INFINITY;
  }

  /** Everything accounted so far is before the window: forget it, keep the state. */
  private openWindow(t0: number): void {
    this.windowOpen = true;
    const ex = this.executor;
    ex.busyNs = 0;
    ex.idleNs = 0;
    ex.polls = 0;
    ex.maxWakeDelayNs = 0;
    if (this.idleSince !== undefined) this.idleSince = Math.max(this.idleSince, t0);
    if (this.running) this.pollStart = Math.max(this.pollStart, t0);
    for (const rec of this.liveTasks()) {
      rec.since = Math.max(rec.since, t0);
      rec.busyNs = rec.scheduledNs = rec.idleNs = 0;
      rec.polls = rec.wakes = rec.selfWakes = 0;
      rec.wakesByTask = rec.wakesByIrq = rec.wakesExt = 0;
      rec.pollTime = new Histogram();
      rec.wakeDelay = new Histogram();
      rec.maxPollNs = 0;
      rec.longPolls = rec.longPollNs = 0;
      rec.fairDelaySumNs = rec.fairDelayCount = rec.fairDelayMaxNs = 0;
    }
    for (const r of this.resources) {
      r.ops = r.blockedOps = r.waits = r.waitNs = r.maxWaitNs = 0;
      r.fullNs = r.longestFullNs = 0;
      r.maxLevel = r.level;
      r.waiters.clear();
      if (!Number.isNaN(r.fullSince)) r.fullSince = Math.max(r.fullSince, t0);
    }
    this.flows.resetFinished();
    this.longPolls.clear();
    this.lostWakeEpisodes.length = 0;
    this.lpCount = 0;
    this.lastLongPollEnd = Number.NEGATIVE_INFINITY;
  }

  // ---- tasks ----

  private *liveTasks(): Generator<TaskRecord> {
    for (const rec of this.liveDense) if (rec) yield rec;
    yield* this.liveSparse.values();
  }

  private live(id: number): TaskRecord | undefined {
    return id < DENSE_IDS ? this.liveDense[id] : this.liveSparse.get(id);
  }

  private setLive(id: number, rec: TaskRecord | undefined): void {
    if (id < DENSE_IDS) this.liveDense[id] = rec;
    else if (rec) this.liveSparse.set(id, rec);
    else this.liveSparse.delete(id);
  }

  private ended(id: number): TaskRecord | undefined {
    return id < DENSE_IDS ? this.endedDense[id] : this.endedSparse.get(id);
  }

  private spawn(id: number, parent: number, name: number, flow: number, t: number): void {
    const old = this.live(id);
    if (old && isLive(old)) {
      // The id was reused without an end event (the end was lost or never recorded).
      closeAt(old, t);
    }
    const parentRec = parent === 0 ? undefined : this.live(parent);
    const rec = this.create(id, t);
    rec.spawnedAt = t;
    rec.parent = parent;
    rec.parentIndex = parentRec?.index ?? -1;
    rec.flow = flow;
    rec.name = this.ctx?.name(name) ?? (name === 0 ? `task ${id}` : `name#${name}`);
    rec.nameKey = this.nameKey(rec.name);
    if (flow !== 0) {
      const f = this.flows.get(rec.session, flow);
      if (f) this.flows.join(f, rec.index);
    }
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
    return created;
  }

  /** Live record, else the last ended one (late waker events about it), else a new record. */
  private knownTask(id: number, t: number): TaskRecord {
    return this.live(id) ?? this.ended(id) ?? this.taskAt(id, t);
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
    const rec = newTask(this.session!.index, this.tasks.length, id, t, n);
    this.setLive(id, rec);
    this.tasks.push(rec);
    return rec;
  }

  private pollBegin(rec: TaskRecord, t: number): void {
    const ready = rec.readySince;
    if (ready === ready) {
      // NaN-safe: ready is a number (runnable since then)
      const d = t - ready;
      rec.wakeDelay.add(d);
      if (d > this.executor.maxWakeDelayNs) this.executor.maxWakeDelayNs = d;
      const explained = ready < this.lastLongPollEnd ? this.chargeLongPolls(rec, ready, t) : 0;
      const fair = d - explained;
      rec.fairDelaySumNs += fair;
      rec.fairDelayCount++;
      if (fair > rec.fairDelayMaxNs) rec.fairDelayMaxNs = fair;
    }
    if (rec.firstPollAt === undefined && rec.spawnedAt !== undefined) rec.firstPollDelayNs = t - rec.spawnedAt;
    const parkedAt = rec.parkedAt;
    if (parkedAt === parkedAt) this.endWait(rec, t - parkedAt, parkedAt);
    if (this.observer) this.observer.resumed(rec, parkedAt, ready, t);
    rec.readySince = Number.NaN;
    rec.parkedAt = Number.NaN;
    rec.orphanSince = Number.NaN;
    this.resumeSite = rec.awaitSite !== 0 ? rec.awaitSite : rec.lastSite;
    onPollBegin(rec, t);
    this.running = rec;
    this.pollStart = t;
    this.selfWokeInPoll = false;
  }

  /** A park ended (the task runs again): charge the wait to its resource and flow. */
  private endWait(rec: TaskRecord, waitNs: number, parkedAt: number): void {
    const site = rec.lastSite;
    const res = rec.lastResource;
    const r = res !== 0 ? this.resourceById.get(res) : undefined;
    if (r) noteWait(r, rec, site, waitNs);
    if (rec.waitFlow !== 0) {
      const f = this.flows.get(rec.session, rec.waitFlow);
      if (f) {
        const step: FlowStep = { task: rec.index, site, resource: res, atNs: parkedAt, waitNs, internal: rec.wokenWithinFlow };
        // Blame the task that held the mutex for most of the wait (not just when it began).
        const blocker = r && r.kind === "mutex" ? blameHolder(r, parkedAt, parkedAt + waitNs) : -1;
        this.flows.addWait(f, step, blocker);
      }
    }
  }

  private pollEnd(rec: TaskRecord, ready: boolean, t: number): void {
    if (this.running === rec) {
      const d = t - this.pollStart;
      this.executor.busyNs += d;
      this.executor.polls++;
      rec.pollTime.add(d);
      if (d > rec.maxPollNs) {
        rec.maxPollNs = d;
        rec.maxPollAt = this.pollStart;
        rec.maxPollSite = this.resumeSite;
      }
      if (d >= this.thresholds.longPollNs) this.longPoll(rec, this.pollStart, t);
      if (this.observer) this.observer.poll(rec, this.pollStart, t, ready);
      if (rec.flow !== 0) {
        const f = this.flows.get(rec.session, rec.flow);
        if (f) f.busyNs += d;
      }
    }
    this.running = undefined;
    onPollEnd(rec, ready, t);
    if (ready) return;
    rec.lastSite = rec.awaitSite;
    rec.lastResource = rec.awaitResource;
    rec.parkedAt = t;
    rec.waitFlow = rec.flow;
    rec.wokenWithinFlow = false;
    if (this.selfWokeInPoll) rec.selfWakeSite = rec.awaitSite;
    if (rec.state === "scheduled") {
      rec.readySince = t; // woken during its own poll: runnable from now
    } else if (rec.liveWakers <= 0) {
      rec.orphanSince = t;
      rec.orphanReason = "no-waker-stored";
      rec.orphanedBy = NO_TASK;
    }
  }

  private wake(target: number, by: number, kind: number, t: number): void {
    const rec = this.live(target) ?? (this.ended(target) ? undefined : this.taskAt(target, t));
    if (!rec) return; // a wake for a task that already ended changes nothing
    const self = kind === EVENT.WAKE_SELF;
    if (kind === EVENT.WAKE_TASK) rec.wakesByTask++;
    else if (kind === EVENT.WAKE_IRQ) rec.wakesByIrq++;
    else if (kind === EVENT.WAKE_EXT) rec.wakesExt++;
    rec.lastWakeBy = by;
    if (rec.state === "parked") {
      rec.readySince = t;
      rec.orphanSince = Number.NaN;
      if (kind === EVENT.WAKE_TASK && rec.waitFlow !== 0) {
        const waker = this.live(by) ?? this.ended(by);
        rec.wokenWithinFlow = waker !== undefined && waker.flow === rec.waitFlow;
      }
    }
    if (self && this.running === rec) this.selfWokeInPoll = true;
    if (this.observer) {
      const from = kind === EVENT.WAKE_TASK ? (this.live(by) ?? this.ended(by)) : self ? rec : undefined;
      this.observer.wake(rec, from, kind, t);
    }
    onWake(rec, self, t);
  }

  private wakerDrop(rec: TaskRecord, t: number): void {
    rec.liveWakers--;
    if (rec.liveWakers < 0) rec.wakersReliable = false;
    if (rec.state === "parked" && rec.liveWakers <= 0 && rec.orphanSince !== rec.orphanSince) {
      rec.orphanSince = t;
      rec.orphanReason = "waker-dropped";
      rec.orphanedBy = this.running ? this.running.index : NO_TASK;
    }
  }

  private end(rec: TaskRecord, cancelled: boolean, t: number): void {
    const orphan = rec.orphanSince;
    if (cancelled && orphan === orphan && isLive(rec) && t - orphan >= this.thresholds.stuckNs) {
      this.lostWakeEpisodes.push({
        task: rec.index, since: orphan, until: t, site: rec.lastSite, resource: rec.lastResource,
        reason: rec.orphanReason, droppedBy: rec.orphanedBy,
      });
    }
    if (isLive(rec)) {
      rec.orphanSince = Number.NaN;
      rec.readySince = Number.NaN;
      rec.blockedRes = 0;
    }
    onEnd(rec, cancelled, t);
    if (this.live(rec.id) === rec) {
      this.setLive(rec.id, undefined);
      if (rec.id < DENSE_IDS) this.endedDense[rec.id] = rec;
      else this.endedSparse.set(rec.id, rec);
    }
  }

  // ---- long polls ----

  private longPoll(rec: TaskRecord, start: number, end: number): void {
    const d = end - start;
    rec.longPolls++;
    rec.longPollNs += d;
    const key = `${rec.session}\u0000${rec.name}\u0000${this.resumeSite}`;
    let g = this.longPolls.get(key);
    if (!g) {
      g = {
        session: rec.session, taskName: rec.name, site: this.resumeSite, endSite: rec.awaitSite,
        count: 0, totalNs: 0, maxNs: 0, maxAt: start, maxTask: rec.index,
        delayCausedNs: 0, delayedPolls: 0, delayedTasks: new Set(),
      };
      this.longPolls.set(key, g);
    }
    g.count++;
    g.totalNs += d;
    if (d > g.maxNs) {
      g.maxNs = d;
      g.maxAt = start;
      g.maxTask = rec.index;
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
      g.delayedTasks.add(rec.index);
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
    const rec = taskId === 0 ? undefined : this.live(taskId);
    r.ops++;
    setLevel(r, level, t);
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
        rec.blockedBy = r.kind === "mutex" ? r.holder : NO_TASK;
      }
      return;
    }
    if (rec && rec.blockedRes === id) {
      rec.blockedRes = 0;
      rec.blockedOp = -1;
    }
    if (op === RESOURCE_OP.acquire) changeHolder(r, rec ? rec.index : NO_TASK, t);
    else if (op === RESOURCE_OP.release && level === 0) changeHolder(r, NO_TASK, t);
  }

  // ---- flows ----

  private flowBegin(taskId: number, flow: number, nameId: number, t: number): void {
    const rec = taskId === 0 ? undefined : this.live(taskId);
    const name = this.ctx?.name(nameId) ?? (nameId === 0 ? "flow" : `name#${nameId}`);
    this.flows.begin(this.session!.index, flow, nameId, name, rec ? rec.index : NO_TASK, t);
    if (rec) rec.flow = flow;
  }

  private flowEnd(taskId: number, flow: number, t: number): void {
    const f = this.flows.get(this.session!.index, flow);
    if (f) this.flows.end(f, t);
    const rec = taskId === 0 ? undefined : this.live(taskId);
    if (rec && rec.flow === flow) rec.flow = 0;
  }

  private flowEnter(rec: TaskRecord, flow: number): void {
    rec.flow = flow;
    if (flow === 0) return;
    const f = this.flows.get(rec.session, flow);
    if (f) this.flows.join(f, rec.index);
  }
}
