// Streaming analysis: consumes decoded event batches session by session and keeps one record per
// task (memory grows with tasks, not with trace length).

import { EVENT } from "../format/spec.js";
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
}

export interface SessionSpan {
  index: number;
  firstT: number;
  lastT: number;
  events: number;
}

export class TraceModel {
  /** Every task incarnation seen, in order of first appearance. */
  readonly tasks: TaskRecord[] = [];
  readonly executor: ExecutorStats = { busyNs: 0, idleNs: 0, polls: 0 };
  readonly sessions: SessionSpan[] = [];

  private live = new Map<number, TaskRecord>();
  private incarnations = new Map<number, number>();
  private session: SessionSpan | undefined;
  private ctx: SessionContext | undefined;
  private running: TaskRecord | undefined;
  private pollStart = 0;
  private idleSince: number | undefined;

  /** Feeds one decoded batch. Batches of a session must come in order. */
  consume(batch: EventBatch, ctx: SessionContext): void {
    if (!this.session || this.session.index !== ctx.index) this.enterSession(ctx, batch.length > 0 ? batch.t[0]! : 0);
    this.ctx = ctx;
    const span = this.session!;
    const { kind, t, task, a } = batch;
    for (let i = 0; i < batch.length; i++) {
      const ti = t[i]!;
      if (span.events === 0) span.firstT = ti;
      span.lastT = ti;
      span.events++;
      switch (kind[i]) {
        case EVENT.SPAWN:
          this.spawn(task[i]!, a[i]!, batch.b[i]!, batch.c[i]!, ti);
          break;
        case EVENT.POLL_BEGIN: {
          const rec = this.taskAt(task[i]!, ti);
          onPollBegin(rec, ti);
          this.running = rec;
          this.pollStart = ti;
          break;
        }
        case EVENT.POLL_READY:
        case EVENT.POLL_PENDING: {
          const id = task[i]!;
          if (id === 0) break; // the poll began before the trace did and its context was lost
          const rec = this.taskAt(id, ti);
          onPollEnd(rec, kind[i] === EVENT.POLL_READY, ti);
          if (this.running === rec) {
            this.executor.busyNs += ti - this.pollStart;
            this.executor.polls++;
          }
          this.running = undefined;
          break;
        }
        case EVENT.WAKE_TASK:
        case EVENT.WAKE_IRQ:
        case EVENT.WAKE_EXT:
          onWake(this.taskAt(task[i]!, ti), false, ti);
          break;
        case EVENT.WAKE_SELF:
          onWake(this.taskAt(task[i]!, ti), true, ti);
          break;
        case EVENT.WAKER_CLONE:
          this.taskAt(task[i]!, ti).liveWakers++;
          break;
        case EVENT.WAKER_DROP:
          this.taskAt(task[i]!, ti).liveWakers--;
          break;
        case EVENT.TASK_DONE:
        case EVENT.TASK_CANCEL: {
          const rec = this.taskAt(task[i]!, ti);
          onEnd(rec, kind[i] === EVENT.TASK_CANCEL, ti);
          this.live.delete(rec.id);
          break;
        }
        case EVENT.AWAIT:
          if (task[i]! !== 0) {
            const rec = this.taskAt(task[i]!, ti);
            rec.awaitSite = a[i]!;
            rec.awaitResource = batch.b[i]!;
          }
          break;
        case EVENT.FLOW_ENTER:
          this.taskAt(task[i]!, ti).flow = a[i]!;
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

  private enterSession(ctx: SessionContext, t: number): void {
    this.closeSession();
    this.session = { index: ctx.index, firstT: t, lastT: t, events: 0 };
    this.sessions.push(this.session);
  }

  private closeSession(): void {
    const span = this.session;
    if (!span) return;
    for (const rec of this.live.values()) closeAt(rec, span.lastT);
    if (this.idleSince !== undefined) this.executor.idleNs += span.lastT - this.idleSince;
    this.live.clear();
    this.incarnations.clear();
    this.running = undefined;
    this.idleSince = undefined;
    this.session = undefined;
  }

  private spawn(id: number, parent: number, name: number, flow: number, t: number): void {
    const old = this.live.get(id);
    if (old && isLive(old)) {
      // The id was reused without an end event (the end was lost or never recorded).
      closeAt(old, t);
    }
    const parentRec = parent === 0 ? undefined : this.live.get(parent);
    const rec = this.create(id, t);
    rec.spawnedAt = t;
    rec.parent = parent;
    rec.parentIndex = parentRec?.index ?? -1;
    rec.flow = flow;
    rec.name = this.ctx?.name(name) ?? (name === 0 ? `task ${id}` : `name#${name}`);
  }

  /** The live record for a task id, created on first sight if its spawn is not in the trace. */
  private taskAt(id: number, t: number): TaskRecord {
    const rec = this.live.get(id);
    if (rec) return rec;
    const created = this.create(id, t);
    created.name = `task ${id}`;
    // Seen before its spawn: we know nothing of what it was doing, so count it from here as parked.
    created.state = "parked";
    return created;
  }

  private create(id: number, t: number): TaskRecord {
    const n = (this.incarnations.get(id) ?? 0) + 1;
    this.incarnations.set(id, n);
    const rec = newTask(this.session!.index, this.tasks.length, id, t, n);
    this.live.set(id, rec);
    this.tasks.push(rec);
    return rec;
  }
}
