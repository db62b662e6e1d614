// The Perfetto mapping, native protobuf (docs/EXPORT.md): per device session a process track
// holding an `executor` track (idle slices; logs, marks and lints outside any task) with a track
// per task nested under it, an `interrupts` track, request tracks and counter tracks. A task's
// track is its lane: one per task id and name, so the incarnations of a reused id follow each
// other on it, each as one slice for its life with its polls nested inside. Wakes are flows
// from an instant on the waker's track (or the interrupt's) to the poll they caused.
//
// Events are written as the timeline walks. Lints are written at the end (they may come from an
// analysis running beside this export): Perfetto sorts packets by time when it loads a file.

import type { Lint } from "../../model/lint.js";
import { MAX_PENDING_ARROWS, clip } from "./limits.js";
import {
  logLevelName,
  type PollResult,
  type ResourceInfo,
  type TaskState,
  type TimelineSession,
  type TimelineSink,
  type Wake,
} from "../timeline.js";
import { TYPE, type PacketWriter } from "./packets.js";
import { IdTable } from "../../model/id-table.js";

export interface PerfettoTask {
  lane: Lane;
  /** Wake flows waiting for this task's next poll (or its end). */
  arrows: number[];
  memory: number | undefined;
}

interface Lane {
  id: number;
  /** The task's name (`name` is the track's). */
  taskName: string;
  uuid: number;
  name: string;
  memory: number | undefined;
  /** Incarnations on it now (0: idle). */
  live: number;
  /** The next lane of the same task id (another name), if any. */
  sameId: Lane | undefined;
  /** Neighbours in the session's idle list (least recently used first), while idle. */
  prevIdle: Lane | undefined;
  nextIdle: Lane | undefined;
}

interface Request {
  flow: number;
  name: string;
  lane: RequestLane;
}

/** A lane for requests of one name: several when requests of that name overlap. */
interface RequestLane {
  uuid: number;
  busy: boolean;
}

interface ResourceTrack {
  kind: string;
  name: string;
  /** `kind name` */
  label: string;
  /** Channel fill or mutex holders. */
  counter: number | undefined;
}

interface SessionTracks {
  s: TimelineSession;
  seq: number;
  process: number;
  executor: number;
  irq: number | undefined;
  irqStack: number[];
  idle: boolean;
  requestGroup: number | undefined;
  requestLanes: Map<string, RequestLane[]>;
  /** Requests open now, by flow id. */
  requests: IdTable<Request>;
  /** Task lanes by task id (lanes of one id with other names chained through `sameId`); the
   *  idle ones also in a list, least recently used first. Not Maps: a lane or request per task
   *  set and deleted makes a Map rehash again and again, and its outgrown tables keep what they
   *  held alive through young collections (host/model/id-table.ts). */
  lanes: IdTable<Lane>;
  lanesHeld: number;
  idleFirst: Lane | undefined;
  idleLast: Lane | undefined;
  idleCount: number;
  counters: Map<string, number>;
  /** By resource id (ids are reused: the kind and name say whether it is the same one). */
  resources: Map<number, ResourceTrack>;
  memoryTotal: number;
}

export interface PerfettoStats {
  /** Arrows not drawn because a task had more than MAX_PENDING_ARROWS waiting. */
  droppedArrows: number;
  arrows: number;
  lints: number;
  /** Task lanes (tracks) made, and the most held in memory at once. */
  lanes: number;
  lanesHeld: number;
}

/** Idle task lanes remembered per session. */
export const MAX_IDLE_LANES = 1024;

export class PerfettoTrackMapper implements TimelineSink<PerfettoTask> {
  readonly stats: PerfettoStats = { droppedArrows: 0, arrows: 0, lints: 0, lanes: 0, lanesHeld: 0 };
  private readonly sessions = new Map<number, SessionTracks>();
  private nextUuid = 1;
  private nextFlow = 1;

  constructor(private readonly out: PacketWriter) {}

  sessionStart(s: TimelineSession): void {
    const seq = s.index + 1;
    this.out.startSequence(seq, s.clock.anchorNs, s.info.anchor.unixNs);
    const process = this.uuid();
    this.out.track(seq, { uuid: process, name: `${s.info.device} / ${s.info.firmware} (session ${s.index})`, process: { pid: seq, name: `${s.info.device} / ${s.info.firmware} (session ${s.index})` } });
    const executor = this.uuid();
    this.out.track(seq, { uuid: executor, parent: process, name: "executor", chronological: true });
    this.sessions.set(s.index, {
      s, seq, process, executor, irq: undefined, irqStack: [], idle: false,
      requestGroup: undefined, requestLanes: new Map(), requests: new IdTable(),
      lanes: new IdTable(), lanesHeld: 0, idleFirst: undefined, idleLast: undefined, idleCount: 0,
      counters: new Map(), resources: new Map(), memoryTotal: 0,
    });
  }

  taskStart(task: TaskState<PerfettoTask>, parent: TaskState<PerfettoTask> | undefined): PerfettoTask {
    const tr = this.tracks(task.session);
    const lane = this.lane(tr, task);
    const o = this.out;
    o.event(tr.seq, task.startT, TYPE.sliceBegin, lane.uuid);
    o.nameStatic(clip(task.name));
    o.category("task");
    o.argInt("task_id", task.id);
    o.argInt("incarnation", task.incarnation);
    o.argBool("spawn_recorded", task.spawned);
    if (task.parentId !== 0) o.argTaskLabel("parent", parent?.name ?? task.parentName ?? "task", task.parentId);
    if (task.spawnFlow !== 0) o.argString("flow", tr.requests.get(task.spawnFlow)?.name ?? `flow ${task.spawnFlow}`);
    o.done();
    return { lane, arrows: [], memory: undefined };
  }

  pollBegin(task: TaskState<PerfettoTask>, t: number): void {
    const tr = this.tracks(task.session);
    const o = this.out;
    o.event(tr.seq, t, TYPE.sliceBegin, task.x.lane.uuid);
    o.nameStatic("poll");
    o.category("poll");
    o.argInt("poll", task.polls);
    this.landArrows(task);
    o.done();
  }

  pollEnd(task: TaskState<PerfettoTask>, t: number, result: PollResult): void {
    const tr = this.tracks(task.session);
    const resource = task.awaitResource && this.resourceOf(tr, task.awaitResource);
    const o = this.out;
    o.event(tr.seq, t, TYPE.sliceEnd, task.x.lane.uuid);
    o.argStringStatic("result", result);
    if (task.awaitSite) o.argStringStatic("await_site", task.awaitSite);
    if (resource) o.argStringStatic("await_resource", resource.label);
    o.done();
  }

  wake(w: Wake<PerfettoTask>): void {
    const tr = this.tracks(w.target.session);
    let from: number | undefined;
    if (w.kind === "task" && w.by && w.by !== w.target) from = w.by.x.lane.uuid;
    else if (w.kind === "irq" && tr.irq !== undefined && tr.irqStack.includes(w.irq)) from = tr.irq;
    if (from === undefined) return;
    if (w.target.x.arrows.length >= MAX_PENDING_ARROWS) {
      this.stats.droppedArrows++;
      return;
    }
    const id = this.nextFlow++;
    const o = this.out;
    o.event(tr.seq, w.t, TYPE.instant, from);
    o.nameStatic("wake");
    o.category("wake");
    o.flow(id);
    o.done();
    w.target.x.arrows.push(id);
    this.stats.arrows++;
  }

  taskEnd(task: TaskState<PerfettoTask>): void {
    const tr = this.tracks(task.session);
    if (task.x.memory !== undefined) this.setMemory(tr, task, task.lastT, 0);
    const o = this.out;
    o.event(tr.seq, task.lastT, TYPE.sliceEnd, task.x.lane.uuid);
    o.argStringStatic("state", task.end ?? "done");
    this.landArrows(task);
    o.done();
    this.retire(tr, task.x.lane);
  }

  flowBegin(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, flow: number, name: string, t: number): void {
    const tr = this.tracks(s);
    if (tr.requests.has(flow)) this.flowEnd(s, undefined, flow, t);
    const request: Request = { flow, name: name || `flow ${flow}`, lane: this.requestLane(tr, name || `flow ${flow}`) };
    request.lane.busy = true;
    tr.requests.set(flow, request);
    const o = this.out;
    o.event(tr.seq, t, TYPE.sliceBegin, request.lane.uuid);
    o.nameStatic(clip(request.name));
    o.category("request");
    o.argInt("flow_id", flow);
    if (task) o.argTaskLabel("began_in", task.name, task.id);
    o.done();
  }

  flowEnd(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, flow: number, t: number): void {
    const tr = this.tracks(s);
    const request = tr.requests.get(flow);
    if (!request) return; // began before the trace did
    tr.requests.delete(flow);
    request.lane.busy = false;
    this.out.event(tr.seq, t, TYPE.sliceEnd, request.lane.uuid);
    this.out.done();
  }

  flowEnter(task: TaskState<PerfettoTask>, _previous: number, t: number): void {
    const tr = this.tracks(task.session);
    const name = task.flow === 0 ? "serves no request" : `serves ${tr.requests.get(task.flow)?.name ?? `flow ${task.flow}`}`;
    const o = this.out;
    o.event(tr.seq, t, TYPE.instant, task.x.lane.uuid);
    o.nameStatic(clip(name));
    o.category("flow");
    o.argInt("flow_id", task.flow);
    o.done();
  }

  log(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, level: number, text: string, format: string, args: readonly number[]): void {
    const tr = this.tracks(s);
    const o = this.out;
    o.event(tr.seq, t, TYPE.instant, task?.x.lane.uuid ?? tr.executor);
    o.name(clip(text));
    o.category("log");
    o.argString("level", logLevelName(level));
    o.argString("format", format);
    if (args.length > 0) {
      o.argArray("args");
      for (const a of args) o.itemInt(a);
      o.endArray();
    }
    o.done();
  }

  mark(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, name: string): void {
    const tr = this.tracks(s);
    this.out.event(tr.seq, t, TYPE.instant, task?.x.lane.uuid ?? tr.executor);
    this.out.nameStatic(clip(name));
    this.out.category("mark");
    this.out.done();
  }

  counter(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, t: number, name: string, value: number): void {
    if (!Number.isFinite(value)) return;
    const tr = this.tracks(s);
    this.counterEvent(tr, this.counterTrack(tr, clip(name), "count"), t, value);
  }

  memory(task: TaskState<PerfettoTask>, t: number, bytes: number): void {
    if (!Number.isFinite(bytes)) return;
    this.setMemory(this.tracks(task.session), task, t, bytes);
  }

  resourceOp(s: TimelineSession, _task: TaskState<PerfettoTask> | undefined, t: number, res: ResourceInfo, _op: string, _outcome: string, level: number): void {
    // The level is the fill afterwards: items in a channel, holders of a mutex.
    if (!Number.isFinite(level)) return;
    const tr = this.tracks(s);
    const r = this.resourceOf(tr, res);
    if (r.counter !== undefined) this.counterEvent(tr, r.counter, t, level);
  }

  idle(s: TimelineSession, begin: boolean, t: number): void {
    const tr = this.tracks(s);
    if (begin === tr.idle) return; // unmatched: its other half is not in the trace
    tr.idle = begin;
    this.out.event(tr.seq, t, begin ? TYPE.sliceBegin : TYPE.sliceEnd, tr.executor);
    if (begin) {
      this.out.nameStatic("idle");
      this.out.category("idle");
    }
    this.out.done();
  }

  interrupt(s: TimelineSession, enter: boolean, irq: number, t: number): void {
    const tr = this.tracks(s);
    const track = this.irqTrack(tr);
    if (enter) {
      tr.irqStack.push(irq);
      this.out.event(tr.seq, t, TYPE.sliceBegin, track);
      this.out.nameStatic(`irq ${irq}`);
      this.out.category("isr");
      this.out.argInt("irq", irq);
      this.out.done();
      return;
    }
    const at = tr.irqStack.lastIndexOf(irq);
    if (at < 0) return; // entered before the trace began
    // Handlers nest; an exit closes its handler and any inner one whose exit was not recorded.
    while (tr.irqStack.length > at) {
      tr.irqStack.pop();
      this.out.event(tr.seq, t, TYPE.sliceEnd, track);
      this.out.done();
    }
  }

  sessionEnd(s: TimelineSession): void {
    const tr = this.tracks(s);
    for (const request of tr.requests.values()) this.flowEnd(s, undefined, request.flow, s.lastT);
    if (tr.idle) this.idle(s, false, s.lastT);
    while (tr.irqStack.length > 0) {
      tr.irqStack.pop();
      this.out.event(tr.seq, s.lastT, TYPE.sliceEnd, tr.irq!);
      this.out.done();
    }
  }

  /**
   * Lints, once every session has ended: an instant named after its title on the lane of the
   * first task it names (else the executor's), at its time (clamped to the session's events).
   */
  lints(lints: readonly Lint[]): void {
    for (const lint of lints) {
      const tr = this.sessions.get(lint.session);
      if (!tr) continue;
      const s = tr.s;
      const lane = lint.tasks.map((x) => laneOf(tr, x.id, x.name)).find((x) => x !== undefined);
      const o = this.out;
      o.event(tr.seq, Math.min(Math.max(lint.atNs, s.firstT), s.lastT), TYPE.instant, lane?.uuid ?? tr.executor);
      o.name(clip(lint.title));
      o.category("lint");
      o.argString("kind", lint.kind);
      o.argString("severity", lint.severity);
      o.argString("hint", lint.hint);
      if (lint.tasks.length > 0) {
        o.argArray("tasks");
        for (const x of lint.tasks) o.itemString(`${x.name} (task ${x.id})`);
        o.endArray();
      }
      o.argInt("at_ns", lint.atNs);
      if (lint.untilNs !== undefined) o.argInt("until_ns", lint.untilNs);
      if (lint.site !== undefined) o.argString("site", lint.site);
      if (lint.resource !== undefined) o.argString("resource", lint.resource);
      for (const [k, v] of Object.entries(lint.evidence)) {
        if (typeof v === "number") o.argInt(`evidence.${k}`, v);
        else o.argString(`evidence.${k}`, v);
      }
      o.done();
      this.stats.lints++;
    }
  }

  /** Process ids by session, for the summary. */
  sessionPids(): { index: number; pid: number }[] {
    return [...this.sessions.values()].map((t) => ({ index: t.s.index, pid: t.seq }));
  }

  // ---- helpers -----------------------------------------------------------------------------

  private tracks(s: TimelineSession): SessionTracks {
    return this.sessions.get(s.index)!;
  }

  private uuid(): number {
    return this.nextUuid++;
  }

  private lane(tr: SessionTracks, task: TaskState<PerfettoTask>): Lane {
    let lane = laneOf(tr, task.id, task.name);
    if (!lane) {
      lane = {
        id: task.id, taskName: task.name, uuid: this.uuid(), name: clip(`${task.name} (task ${task.id})`), memory: undefined, live: 0,
        sameId: tr.lanes.get(task.id), prevIdle: undefined, nextIdle: undefined,
      };
      tr.lanes.set(task.id, lane);
      this.out.track(tr.seq, { uuid: lane.uuid, parent: tr.executor, name: lane.name });
      this.stats.lanes++;
      this.stats.lanesHeld = Math.max(this.stats.lanesHeld, ++tr.lanesHeld);
    } else if (lane.live === 0) unlinkIdle(tr, lane);
    lane.live++;
    return lane;
  }

  /** An incarnation left its lane. Idle lanes are kept for the next task with that id and name,
   *  up to MAX_IDLE_LANES of them (memory follows the live tasks, not every task id a trace
   *  ever used): past that the least recently used is forgotten, and should its id and name
   *  come back, a new track of the same name takes its place (Perfetto shows tracks of one
   *  name under one parent as one). */
  private retire(tr: SessionTracks, lane: Lane): void {
    if (--lane.live > 0) return;
    lane.prevIdle = tr.idleLast;
    lane.nextIdle = undefined;
    if (tr.idleLast) tr.idleLast.nextIdle = lane;
    else tr.idleFirst = lane;
    tr.idleLast = lane;
    if (++tr.idleCount <= MAX_IDLE_LANES) return;
    const oldest = tr.idleFirst!;
    unlinkIdle(tr, oldest);
    forgetLane(tr, oldest);
  }

  private requestLane(tr: SessionTracks, name: string): RequestLane {
    if (tr.requestGroup === undefined) {
      tr.requestGroup = this.uuid();
      this.out.track(tr.seq, { uuid: tr.requestGroup, parent: tr.process, name: "requests" });
    }
    let lanes = tr.requestLanes.get(name);
    if (!lanes) tr.requestLanes.set(name, (lanes = []));
    let lane: RequestLane | undefined;
    for (let i = 0; i < lanes.length; i++) {
      if (!lanes[i]!.busy) {
        lane = lanes[i]!;
        break;
      }
    }
    if (!lane) {
      lane = { uuid: this.uuid(), busy: false };
      lanes.push(lane);
      // Lanes of one name share it: Perfetto shows them as one track, as deep as they overlap.
      this.out.track(tr.seq, { uuid: lane.uuid, parent: tr.requestGroup, name: clip(name) });
    }
    return lane;
  }

  /** A resource's label (`kind name`) and its counter track: channel fill, mutex holders. */
  private resourceOf(tr: SessionTracks, res: ResourceInfo): ResourceTrack {
    let r = tr.resources.get(res.id);
    if (!r || r.kind !== res.kind || r.name !== res.name) {
      const what = res.kind === "channel" ? "fill" : res.kind === "mutex" ? "holders" : undefined;
      const label = `${res.kind} ${res.name}`;
      r = { kind: res.kind, name: res.name, label, counter: what === undefined ? undefined : this.counterTrack(tr, clip(`${label} (${what})`), "count") };
      tr.resources.set(res.id, r);
    }
    return r;
  }

  private irqTrack(tr: SessionTracks): number {
    if (tr.irq === undefined) {
      tr.irq = this.uuid();
      this.out.track(tr.seq, { uuid: tr.irq, parent: tr.process, name: "interrupts" });
    }
    return tr.irq;
  }

  private counterTrack(tr: SessionTracks, name: string, unit: "count" | "bytes"): number {
    let uuid = tr.counters.get(name);
    if (uuid === undefined) {
      uuid = this.uuid();
      tr.counters.set(name, uuid);
      this.out.track(tr.seq, { uuid, parent: tr.process, name, counter: unit });
    }
    return uuid;
  }

  private counterEvent(tr: SessionTracks, track: number, t: number, value: number): void {
    this.out.event(tr.seq, t, TYPE.counter, track);
    this.out.counterValue(value);
    this.out.done();
  }

  private landArrows(task: TaskState<PerfettoTask>): void {
    const arrows = task.x.arrows;
    for (let i = 0; i < arrows.length; i++) this.out.terminatingFlow(arrows[i]!);
    arrows.length = 0;
  }

  private setMemory(tr: SessionTracks, task: TaskState<PerfettoTask>, t: number, bytes: number): void {
    tr.memoryTotal += bytes - (task.x.memory ?? 0);
    task.x.memory = bytes;
    const lane = task.x.lane;
    lane.memory ??= this.counterTrack(tr, clip(`memory: ${lane.name}`), "bytes");
    this.counterEvent(tr, lane.memory, t, bytes);
    this.counterEvent(tr, this.counterTrack(tr, "memory: all tasks", "bytes"), t, tr.memoryTotal);
  }
}

/** The lane of task `id` named `name`, if held. */
function laneOf(tr: SessionTracks, id: number, name: string): Lane | undefined {
  let lane = tr.lanes.get(id);
  while (lane !== undefined && lane.taskName !== name) lane = lane.sameId;
  return lane;
}

function unlinkIdle(tr: SessionTracks, lane: Lane): void {
  if (lane.prevIdle) lane.prevIdle.nextIdle = lane.nextIdle;
  else tr.idleFirst = lane.nextIdle;
  if (lane.nextIdle) lane.nextIdle.prevIdle = lane.prevIdle;
  else tr.idleLast = lane.prevIdle;
  lane.prevIdle = lane.nextIdle = undefined;
  tr.idleCount--;
}

/** Drops an idle lane from its id's chain. */
function forgetLane(tr: SessionTracks, lane: Lane): void {
  const first = tr.lanes.get(lane.id)!;
  if (first === lane) {
    if (lane.sameId) tr.lanes.set(lane.id, lane.sameId);
    else tr.lanes.delete(lane.id);
  } else {
    let l = first;
    while (l.sameId !== lane) l = l.sameId!;
    l.sameId = lane.sameId;
  }
  lane.sameId = undefined;
  tr.lanesHeld--;
}
