// The Perfetto mapping (docs/EXPORT.md): a process per device session (one executor), a thread
// track per task incarnation holding a slice for the task's life with its polls nested inside,
// flow arrows from the waker to the poll a wake caused, counters for channel fill, mutex holders,
// application counters and memory, instants for logs, marks and lints, idle and interrupt slices
// on tracks of their own, and an async slice per request (flow).
//
// The legacy Chrome trace-event JSON form (--format json); the default is protobuf
// (track-mapper.ts). Slices (a task's life, polls, idle, interrupt handlers) are complete events
// (ph X, with their duration and every argument) written when they end; instants, counters and
// flow arrows as they happen. Both readers of this format order complete events the same way
// whatever the file order (Perfetto by time, then the longer first; speedscope likewise), so
// slices nest correctly even when several begin or end at the same nanosecond, and a slice's
// begin and end never need to be matched by name (speedscope matches B to E by name and
// arguments, and stumbles where two share a timestamp). An arrow's end at a poll is written right
// after the poll's slice, at the poll's start, so it binds to that poll.

import type { Lint } from "../../model/lint.js";
import { MAX_PENDING_ARROWS, clip } from "./limits.js";
import { LintIndex } from "../lints.js";
import {
  logLevelName,
  type PollResult,
  type ResourceInfo,
  type TaskState,
  type TimelineSession,
  type TimelineSink,
  type Wake,
} from "../timeline.js";
import type { TraceEventWriter } from "./writer.js";

export interface PerfettoTask {
  tid: number;
  /** Wake arrows waiting for this task's next poll (or its end). */
  arrows: number[];
  memory: number | undefined;
  /** The life slice's start and arguments, written with its end. */
  lifeTs: number;
  args: Record<string, unknown>;
  /** The poll in progress: its start, and the arrows that end at it. */
  pollTs: number;
  landing: number[];
}

interface SessionTracks {
  s: TimelineSession;
  pid: number;
  /** The executor's own track: idle, logs and lints outside any task. */
  executorTid: number;
  irqTid: number | undefined;
  irqStack: number[];
  /** Start (µs) of each open interrupt handler, and of the idle period. */
  irqTs: number[];
  idle: boolean;
  idleTs: number;
  requests: Map<number, { id: number; name: string }>;
  /** Live tasks by id, to place a lint on the incarnation alive at its time. */
  live: Map<number, TaskState<PerfettoTask>>;
  lints: readonly Lint[];
  nextLint: number;
  memoryTotal: number;
  /** ns from the time base to device time zero, when plain arithmetic is exact (SessionClock.offsetFrom). */
  offset: number | undefined;
}

export interface PerfettoStats {
  /** Arrows not drawn because a task had more than MAX_PENDING_ARROWS waiting. */
  droppedArrows: number;
  arrows: number;
  lints: number;
}


export class PerfettoMapper implements TimelineSink<PerfettoTask> {
  readonly stats: PerfettoStats = { droppedArrows: 0, arrows: 0, lints: 0 };
  private readonly sessions = new Map<number, SessionTracks>();
  private readonly lints: LintIndex;
  private nextId = 1;
  private nextArrow = 1;
  private nextRequest = 1;
  /** Unix ns that ts 0 stands for: the first event of the first session. */
  private base: bigint | undefined;

  constructor(
    private readonly out: TraceEventWriter,
    lints: readonly Lint[],
  ) {
    this.lints = new LintIndex(lints);
  }

  get timeBaseUnixNs(): bigint | undefined {
    return this.base;
  }

  /** Process and thread ids: unique across the file (Perfetto names threads by tid). */
  sessionPids(): { index: number; pid: number }[] {
    return [...this.sessions.values()].map((t) => ({ index: t.s.index, pid: t.pid }));
  }

  sessionStart(s: TimelineSession): void {
    this.base ??= s.clock.unixNs(s.firstT);
    const pid = this.nextId++;
    const tracks: SessionTracks = {
      s, pid, executorTid: pid, irqTid: undefined, irqStack: [], irqTs: [], idle: false, idleTs: 0,
      requests: new Map(), live: new Map(), lints: this.lints.inOrder(s.index), nextLint: 0, memoryTotal: 0,
      offset: s.clock.offsetFrom(this.base),
    };
    this.sessions.set(s.index, tracks);
    this.out.event({ ph: "M", pid, name: "process_name", args: { name: `${s.info.device} / ${s.info.firmware} (session ${s.index})` } });
    this.out.event({ ph: "M", pid, tid: pid, name: "thread_name", args: { name: "executor" } });
  }

  advance(s: TimelineSession, t: number): void {
    const tr = this.tracks(s);
    while (tr.nextLint < tr.lints.length && tr.lints[tr.nextLint]!.atNs < t) this.lint(tr, tr.lints[tr.nextLint++]!);
  }

  taskStart(task: TaskState<PerfettoTask>, parent: TaskState<PerfettoTask> | undefined): PerfettoTask {
    const tr = this.tracks(task.session);
    const tid = this.nextId++;
    tr.live.set(task.id, task);
    this.out.event({ ph: "M", pid: tr.pid, tid, name: "thread_name", args: { name: `${task.name} (task ${task.id})` } });
    const args: Record<string, unknown> = { task_id: task.id, incarnation: task.incarnation, spawn_recorded: task.spawned };
    if (task.parentId !== 0) args["parent"] = `${parent?.name ?? task.parentName ?? "task"} (task ${task.parentId})`;
    if (task.spawnFlow !== 0) args["flow"] = tr.requests.get(task.spawnFlow)?.name ?? `flow ${task.spawnFlow}`;
    return { tid, arrows: [], memory: undefined, lifeTs: this.ts(task.session, task.startT), args, pollTs: 0, landing: [] };
  }

  pollBegin(task: TaskState<PerfettoTask>, t: number): void {
    const x = task.x;
    x.pollTs = this.ts(task.session, t);
    // The wakes that led to this poll end at it.
    [x.landing, x.arrows] = [x.arrows, x.landing];
  }

  pollEnd(task: TaskState<PerfettoTask>, t: number, result: PollResult): void {
    const tr = this.tracks(task.session);
    const args: Record<string, unknown> = { poll: task.polls, result };
    if (task.awaitSite) args["await_site"] = task.awaitSite;
    if (task.awaitResource) args["await_resource"] = `${task.awaitResource.kind} ${task.awaitResource.name}`;
    const x = task.x;
    this.slice(tr.pid, x.tid, x.pollTs, this.ts(task.session, t), "poll", "poll", args);
    this.landArrows(tr.pid, x.tid, x.landing, x.pollTs);
  }

  wake(w: Wake<PerfettoTask>): void {
    const tr = this.tracks(w.target.session);
    let fromTid: number | undefined;
    if (w.kind === "task" && w.by && w.by !== w.target) fromTid = w.by.x.tid;
    else if (w.kind === "irq" && tr.irqTid !== undefined && tr.irqStack.includes(w.irq)) fromTid = tr.irqTid;
    if (fromTid === undefined) return;
    if (w.target.x.arrows.length >= MAX_PENDING_ARROWS) {
      this.stats.droppedArrows++;
      return;
    }
    const id = this.nextArrow++;
    // The start binds to the slice open on the waker's track (its poll, or its life).
    this.out.event({ ph: "s", ts: this.ts(w.target.session, w.t), pid: tr.pid, tid: fromTid, name: "wake", cat: "wake", id });
    w.target.x.arrows.push(id);
    this.stats.arrows++;
  }

  taskEnd(task: TaskState<PerfettoTask>): void {
    const tr = this.tracks(task.session);
    const x = task.x;
    const ts = this.ts(task.session, task.lastT);
    if (x.memory !== undefined) this.setMemory(tr, task, task.lastT, 0);
    this.slice(tr.pid, x.tid, x.lifeTs, ts, clip(task.name), "task", { ...x.args, state: task.end ?? "done" });
    // Wakes after its last poll end at its life's end.
    this.landArrows(tr.pid, x.tid, x.landing, ts);
    this.landArrows(tr.pid, x.tid, x.arrows, ts);
    if (tr.live.get(task.id) === task) tr.live.delete(task.id);
  }

  flowBegin(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, flow: number, name: string, t: number): void {
    const tr = this.tracks(s);
    if (tr.requests.has(flow)) this.flowEnd(s, undefined, flow, t);
    const request = { id: this.nextRequest++, name: name || `flow ${flow}` };
    tr.requests.set(flow, request);
    const args: Record<string, unknown> = { flow_id: flow };
    if (task) args["began_in"] = `${task.name} (task ${task.id})`;
    this.out.event({ ph: "b", ts: this.ts(s, t), pid: tr.pid, name: clip(request.name), cat: "request", id: request.id, args });
  }

  flowEnd(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, flow: number, t: number): void {
    const tr = this.tracks(s);
    const request = tr.requests.get(flow);
    if (!request) return; // began before the trace did
    tr.requests.delete(flow);
    this.out.event({ ph: "e", ts: this.ts(s, t), pid: tr.pid, name: clip(request.name), cat: "request", id: request.id });
  }

  flowEnter(task: TaskState<PerfettoTask>, _previous: number, t: number): void {
    const tr = this.tracks(task.session);
    const name = task.flow === 0 ? "serves no request" : `serves ${tr.requests.get(task.flow)?.name ?? `flow ${task.flow}`}`;
    this.out.event({ ph: "i", ts: this.ts(task.session, t), pid: tr.pid, tid: task.x.tid, name: clip(name), cat: "flow", s: "t", args: { flow_id: task.flow } });
  }

  log(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, level: number, text: string, format: string, args: readonly number[]): void {
    const tr = this.tracks(s);
    this.out.event({
      ph: "i", ts: this.ts(s, t), pid: tr.pid, tid: task?.x.tid ?? tr.executorTid, name: clip(text), cat: "log", s: "t",
      args: { level: logLevelName(level), message: text, format, args: [...args] },
    });
  }

  mark(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, name: string): void {
    const tr = this.tracks(s);
    this.out.event({ ph: "i", ts: this.ts(s, t), pid: tr.pid, tid: task?.x.tid ?? tr.executorTid, name: clip(name), cat: "mark", s: "t" });
  }

  counter(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, t: number, name: string, value: number): void {
    if (!Number.isFinite(value)) return;
    const tr = this.tracks(s);
    this.out.event({ ph: "C", ts: this.ts(s, t), pid: tr.pid, tid: tr.executorTid, name: clip(name), cat: "counter", args: { value } });
  }

  memory(task: TaskState<PerfettoTask>, t: number, bytes: number): void {
    if (!Number.isFinite(bytes)) return;
    this.setMemory(this.tracks(task.session), task, t, bytes);
  }

  resourceOp(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, t: number, res: ResourceInfo, _op: string, _outcome: string, level: number): void {
    // The level is the fill afterwards: items in a channel, holders of a mutex.
    const what = res.kind === "channel" ? "fill" : res.kind === "mutex" ? "holders" : undefined;
    if (what === undefined || !Number.isFinite(level)) return;
    const tr = this.tracks(s);
    this.out.event({ ph: "C", ts: this.ts(s, t), pid: tr.pid, tid: tr.executorTid, name: clip(`${res.kind} ${res.name}`), cat: "resource", args: { [what]: level } });
  }

  idle(s: TimelineSession, begin: boolean, t: number): void {
    const tr = this.tracks(s);
    if (begin === tr.idle) return; // unmatched: its other half is not in the trace
    tr.idle = begin;
    const ts = this.ts(s, t);
    if (begin) tr.idleTs = ts;
    else this.slice(tr.pid, tr.executorTid, tr.idleTs, ts, "idle", "idle", undefined);
  }

  interrupt(s: TimelineSession, enter: boolean, irq: number, t: number): void {
    const tr = this.tracks(s);
    const ts = this.ts(s, t);
    if (tr.irqTid === undefined) {
      tr.irqTid = this.nextId++;
      this.out.event({ ph: "M", pid: tr.pid, tid: tr.irqTid, name: "thread_name", args: { name: "interrupts" } });
    }
    if (enter) {
      tr.irqStack.push(irq);
      tr.irqTs.push(ts);
      return;
    }
    const at = tr.irqStack.lastIndexOf(irq);
    if (at < 0) return; // entered before the trace began
    // Handlers nest; an exit closes its handler and any inner one whose exit was not recorded.
    while (tr.irqStack.length > at) this.endIrq(tr, ts);
  }

  sessionEnd(s: TimelineSession): void {
    const tr = this.tracks(s);
    this.advance(s, Number.POSITIVE_INFINITY);
    const ts = this.ts(s, s.lastT);
    for (const flow of [...tr.requests.keys()]) this.flowEnd(s, undefined, flow, s.lastT);
    if (tr.idle) this.idle(s, false, s.lastT);
    while (tr.irqStack.length > 0) this.endIrq(tr, ts);
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** Ends the innermost interrupt handler's slice. */
  private endIrq(tr: SessionTracks, ts: number): void {
    const irq = tr.irqStack.pop()!;
    this.slice(tr.pid, tr.irqTid!, tr.irqTs.pop()!, ts, `irq ${irq}`, "isr", { irq });
  }

  /** A complete slice from `ts` to `end` (µs). */
  private slice(pid: number, tid: number, ts: number, end: number, name: string, cat: string, args: Record<string, unknown> | undefined): void {
    // Whole ns: the difference of two exact decimals is rounded back to the ns.
    const dur = Math.max(0, Math.round((end - ts) * 1000) / 1000);
    this.out.event(args ? { ph: "X", ts, dur, pid, tid, name, cat, args } : { ph: "X", ts, dur, pid, tid, name, cat });
  }

  private tracks(s: TimelineSession): SessionTracks {
    return this.sessions.get(s.index)!;
  }

  /** Trace-event time (µs since the first event of the file, ns precision) of a device time. */
  private ts(s: TimelineSession, t: number): number {
    const offset = this.tracks(s).offset;
    // Whole ns divided by 1000: the division is correctly rounded, so the JSON shows the exact
    // decimal (at most three places).
    if (offset !== undefined) return (offset + Math.round(t)) / 1000;
    return Number(s.clock.unixNs(t) - this.base!) / 1000;
  }

  private landArrows(pid: number, tid: number, arrows: number[], ts: number): void {
    for (const id of arrows) this.out.event({ ph: "f", ts, pid, tid, name: "wake", cat: "wake", id, bp: "e" });
    arrows.length = 0;
  }

  private setMemory(tr: SessionTracks, task: TaskState<PerfettoTask>, t: number, bytes: number): void {
    const ts = this.ts(task.session, t);
    tr.memoryTotal += bytes - (task.x.memory ?? 0);
    task.x.memory = bytes;
    this.out.event({ ph: "C", ts, pid: tr.pid, tid: tr.executorTid, name: clip(`memory: ${task.name} (task ${task.id})`), cat: "memory", args: { bytes } });
    this.out.event({ ph: "C", ts, pid: tr.pid, tid: tr.executorTid, name: "memory: all tasks", cat: "memory", args: { bytes: tr.memoryTotal } });
  }

  /** A lint as an instant on the track of the first task it names that is alive at its time,
   *  else on the executor's track. Times past the last event are shown at the end. */
  private lint(tr: SessionTracks, lint: Lint): void {
    const s = tr.s;
    const t = Math.min(Math.max(lint.atNs, s.firstT), s.lastT);
    const task = lint.tasks.map((x) => tr.live.get(x.id)).find((x) => x !== undefined);
    const args: Record<string, unknown> = {
      kind: lint.kind, severity: lint.severity, hint: lint.hint,
      tasks: lint.tasks.map((x) => `${x.name} (task ${x.id})`), at_ns: lint.atNs, evidence: lint.evidence,
    };
    if (lint.site !== undefined) args["site"] = lint.site;
    if (lint.resource !== undefined) args["resource"] = lint.resource;
    if (lint.untilNs !== undefined) args["until_ns"] = lint.untilNs;
    this.out.event({ ph: "i", ts: this.ts(s, t), pid: tr.pid, tid: task?.x.tid ?? tr.executorTid, name: clip(lint.title), cat: "lint", s: "t", args });
    this.stats.lints++;
  }
}
