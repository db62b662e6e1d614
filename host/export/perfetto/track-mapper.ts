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
  type TaskEnd,
  type TaskState,
  type TimelineSession,
  type TimelineSink,
  type Wake,
} from "../timeline.js";
import { Interned, TYPE, type PacketWriter } from "./packets.js";
import { IdTable, SmallIdMap } from "../../model/id-table.js";

export interface PerfettoTask {
  lane: Lane;
  tracks: SessionTracks;
  /** Wake flows waiting for this task's next poll (or its end): the first `arrowCount` (the
   *  array keeps its room: emptied by setting its length, it would grow again for every wake). */
  arrows: number[];
  arrowCount: number;
  memory: number | undefined;
}

interface Lane {
  id: number;
  /** The task's name (`name` is the track's). */
  taskName: string;
  uuid: number;
  name: string;
  /** The iid of the task's name (its slices' name) in the session's sequence, once written. */
  nameIid: number;
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
  /** The iid of the request's name (the lane's, clipped), once written. */
  nameIid: number;
  /** The iid of `serves <name>` (a flow-enter instant's name), once written: kept by the lane,
   *  not the request, as the lane's requests all have its name. */
  servesIid: number;
}

interface ResourceTrack {
  kind: string;
  name: string;
  /** `kind name` */
  label: string;
  /** The iid of the label as an argument value, once written. */
  labelIid: number;
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
  /** Interrupt slices' names (`irq N`) by number: their iids. */
  irqNames: Map<number, number>;
  /** By resource id (ids are reused: the kind and name say whether it is the same one). */
  resources: SmallIdMap<ResourceTrack>;
  /** Await sites' iids (as argument values) by site name id: the text is kept to check that the
   *  id still names it (a name may arrive after the events that use it). */
  sites: SmallIdMap<{ text: string; iid: number }>;
  memoryTotal: number;
  /** The counter track of all tasks' memory, once made. */
  memoryAll: number | undefined;
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

// The strings every event kind writes: interned once per sequence, found by slot.
const K = {
  task: Interned.fixed("task"),
  poll: Interned.fixed("poll"),
  wake: Interned.fixed("wake"),
  request: Interned.fixed("request"),
  flow: Interned.fixed("flow"),
  log: Interned.fixed("log"),
  mark: Interned.fixed("mark"),
  idle: Interned.fixed("idle"),
  isr: Interned.fixed("isr"),
  lint: Interned.fixed("lint"),
  taskId: Interned.fixed("task_id"),
  incarnation: Interned.fixed("incarnation"),
  spawnRecorded: Interned.fixed("spawn_recorded"),
  parent: Interned.fixed("parent"),
  result: Interned.fixed("result"),
  awaitSite: Interned.fixed("await_site"),
  awaitResource: Interned.fixed("await_resource"),
  state: Interned.fixed("state"),
  flowId: Interned.fixed("flow_id"),
  beganIn: Interned.fixed("began_in"),
  level: Interned.fixed("level"),
  format: Interned.fixed("format"),
  args: Interned.fixed("args"),
  irq: Interned.fixed("irq"),
  kind: Interned.fixed("kind"),
  severity: Interned.fixed("severity"),
  hint: Interned.fixed("hint"),
  tasks: Interned.fixed("tasks"),
  atNs: Interned.fixed("at_ns"),
  untilNs: Interned.fixed("until_ns"),
  site: Interned.fixed("site"),
  resource: Interned.fixed("resource"),
} as const;

/** Poll results and task ends, as interned argument values. */
const RESULTS = { ready: Interned.fixed("ready"), pending: Interned.fixed("pending"), cut: Interned.fixed("cut") } as const;
const ENDS = { done: Interned.fixed("done"), cancelled: Interned.fixed("cancelled"), alive: Interned.fixed("alive"), lost: Interned.fixed("lost") } as const;

/** RESULTS[result] (compared, not looked up by a key that changes from poll to poll). */
function resultValue(result: PollResult): Interned | string {
  return result === "ready" ? RESULTS.ready : result === "pending" ? RESULTS.pending : result === "cut" ? RESULTS.cut : result;
}

/** ENDS[end], "done" when not set. */
function endValue(end: TaskEnd | undefined): Interned | string {
  return end === undefined || end === "done" ? ENDS.done : end === "cancelled" ? ENDS.cancelled : end === "alive" ? ENDS.alive : end === "lost" ? ENDS.lost : end;
}

/** Idle task lanes remembered per session. */
export const MAX_IDLE_LANES = 1024;

const SERVES_NONE = Interned.fixed("serves no request");

export class PerfettoTrackMapper implements TimelineSink<PerfettoTask> {
  readonly stats: PerfettoStats = { droppedArrows: 0, arrows: 0, lints: 0, lanes: 0, lanesHeld: 0 };
  private readonly sessions = new Map<number, SessionTracks>();
  /** The session looked up last (events of one session come in runs). */
  private last: SessionTracks | undefined;
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
      counters: new Map(), irqNames: new Map(), resources: new SmallIdMap(), sites: new SmallIdMap(), memoryTotal: 0, memoryAll: undefined,
    });
  }

  taskStart(task: TaskState<PerfettoTask>, parent: TaskState<PerfettoTask> | undefined): PerfettoTask {
    const tr = this.tracks(task.session);
    const lane = this.lane(tr, task);
    const o = this.out;
    o.event(tr.seq, task.startT, TYPE.sliceBegin, lane.uuid);
    if (lane.nameIid === 0) lane.nameIid = o.internName(clip(task.name));
    o.nameIid(lane.nameIid);
    o.category(K.task);
    o.argInt(K.taskId, task.id);
    o.argInt(K.incarnation, task.incarnation);
    o.argBool(K.spawnRecorded, task.spawned);
    if (task.parentId !== 0) o.argTaskLabel(K.parent, parent?.name ?? task.parentName ?? "task", task.parentId);
    if (task.spawnFlow !== 0) o.argString(K.flow, tr.requests.get(task.spawnFlow)?.name ?? `flow ${task.spawnFlow}`);
    o.done();
    return { lane, tracks: tr, arrows: [], arrowCount: 0, memory: undefined };
  }

  pollBegin(task: TaskState<PerfettoTask>, t: number): void {
    const x = task.x;
    const o = this.out;
    o.event(x.tracks.seq, t, TYPE.sliceBegin, x.lane.uuid);
    o.nameStatic(K.poll);
    o.category(K.poll);
    o.argInt(K.poll, task.polls);
    this.landArrows(task);
    o.done();
  }

  pollEnd(task: TaskState<PerfettoTask>, t: number, result: PollResult): void {
    const tr = task.x.tracks;
    const resource = task.awaitResource && this.resourceOf(tr, task.awaitResource);
    const o = this.out;
    o.event(tr.seq, t, TYPE.sliceEnd, task.x.lane.uuid);
    o.argStringStatic(K.result, resultValue(result));
    if (task.awaitSite) o.argStringIid(K.awaitSite, this.siteIid(tr, task.awaitSiteId, task.awaitSite));
    if (resource) {
      if (resource.labelIid === 0) resource.labelIid = o.internArgValue(resource.label);
      o.argStringIid(K.awaitResource, resource.labelIid);
    }
    o.done();
  }

  wake(w: Wake<PerfettoTask>): void {
    const tr = w.target.x.tracks;
    let from: number | undefined;
    if (w.kind === "task" && w.by && w.by !== w.target) from = w.by.x.lane.uuid;
    else if (w.kind === "irq" && tr.irq !== undefined && tr.irqStack.includes(w.irq)) from = tr.irq;
    if (from === undefined) return;
    const x = w.target.x;
    if (x.arrowCount >= MAX_PENDING_ARROWS) {
      this.stats.droppedArrows++;
      return;
    }
    const id = this.nextFlow++;
    const o = this.out;
    o.event(tr.seq, w.t, TYPE.instant, from);
    o.nameStatic(K.wake);
    o.category(K.wake);
    o.flow(id);
    o.done();
    x.arrows[x.arrowCount++] = id;
    this.stats.arrows++;
  }

  taskEnd(task: TaskState<PerfettoTask>): void {
    const tr = task.x.tracks;
    if (task.x.memory !== undefined) this.setMemory(tr, task, task.lastT, 0);
    const o = this.out;
    o.event(tr.seq, task.lastT, TYPE.sliceEnd, task.x.lane.uuid);
    o.argStringStatic(K.state, endValue(task.end));
    this.landArrows(task);
    o.done();
    this.retire(tr, task.x.lane);
  }

  flowBegin(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, flow: number, name: string, t: number): void {
    const tr = this.tracks(s);
    if (tr.requests.has(flow)) this.flowEnd(s, undefined, flow, t);
    const request: Request = { flow, name: name || `flow ${flow}`, lane: this.requestLane(tr, name || `flow ${flow}`) };
    const lane = request.lane;
    lane.busy = true;
    tr.requests.set(flow, request);
    const o = this.out;
    o.event(tr.seq, t, TYPE.sliceBegin, lane.uuid);
    if (lane.nameIid === 0) lane.nameIid = o.internName(clip(request.name));
    o.nameIid(lane.nameIid);
    o.category(K.request);
    o.argInt(K.flowId, flow);
    if (task) o.argTaskLabel(K.beganIn, task.name, task.id);
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
    const tr = task.x.tracks;
    const o = this.out;
    o.event(tr.seq, t, TYPE.instant, task.x.lane.uuid);
    const request = task.flow === 0 ? undefined : tr.requests.get(task.flow);
    if (request) {
      const lane = request.lane;
      if (lane.servesIid === 0) lane.servesIid = o.internName(clip(`serves ${request.name}`));
      o.nameIid(lane.servesIid);
    } else o.nameStatic(task.flow === 0 ? SERVES_NONE : clip(`serves flow ${task.flow}`));
    o.category(K.flow);
    o.argInt(K.flowId, task.flow);
    o.done();
  }

  log(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, level: number, text: string, format: string, args: readonly number[]): void {
    const tr = this.tracks(s);
    const o = this.out;
    o.event(tr.seq, t, TYPE.instant, task?.x.lane.uuid ?? tr.executor);
    o.name(clip(text));
    o.category(K.log);
    o.argString(K.level, logLevelName(level));
    o.argString(K.format, format);
    if (args.length > 0) {
      o.argArray(K.args);
      for (const a of args) o.itemInt(a);
      o.endArray();
    }
    o.done();
  }

  mark(s: TimelineSession, task: TaskState<PerfettoTask> | undefined, t: number, name: string): void {
    const tr = this.tracks(s);
    this.out.event(tr.seq, t, TYPE.instant, task?.x.lane.uuid ?? tr.executor);
    this.out.nameStatic(clip(name));
    this.out.category(K.mark);
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
      this.out.nameStatic(K.idle);
      this.out.category(K.idle);
    }
    this.out.done();
  }

  interrupt(s: TimelineSession, enter: boolean, irq: number, t: number): void {
    const tr = this.tracks(s);
    const track = this.irqTrack(tr);
    if (enter) {
      tr.irqStack.push(irq);
      const o = this.out;
      o.event(tr.seq, t, TYPE.sliceBegin, track);
      let name = tr.irqNames.get(irq);
      if (name === undefined) tr.irqNames.set(irq, (name = o.internName(`irq ${irq}`)));
      o.nameIid(name);
      o.category(K.isr);
      o.argInt(K.irq, irq);
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
      o.category(K.lint);
      o.argString(K.kind, lint.kind);
      o.argString(K.severity, lint.severity);
      o.argString(K.hint, lint.hint);
      if (lint.tasks.length > 0) {
        o.argArray(K.tasks);
        for (const x of lint.tasks) o.itemString(`${x.name} (task ${x.id})`);
        o.endArray();
      }
      o.argInt(K.atNs, lint.atNs);
      if (lint.untilNs !== undefined) o.argInt(K.untilNs, lint.untilNs);
      if (lint.site !== undefined) o.argString(K.site, lint.site);
      if (lint.resource !== undefined) o.argString(K.resource, lint.resource);
      for (const [k, v] of Object.entries(lint.evidence)) {
        const key = Interned.of(`evidence.${k}`);
        if (typeof v === "number") o.argInt(key, v);
        else o.argString(key, v);
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
    const last = this.last;
    if (last !== undefined && last.s === s) return last;
    return (this.last = this.sessions.get(s.index)!);
  }

  private uuid(): number {
    return this.nextUuid++;
  }

  private lane(tr: SessionTracks, task: TaskState<PerfettoTask>): Lane {
    let lane = laneOf(tr, task.id, task.name);
    if (!lane) {
      lane = {
        id: task.id, taskName: task.name, uuid: this.uuid(), name: clip(`${task.name} (task ${task.id})`), nameIid: 0, memory: undefined, live: 0,
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
      lane = { uuid: this.uuid(), busy: false, nameIid: 0, servesIid: 0 };
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
      r = { kind: res.kind, name: res.name, label, labelIid: 0, counter: what === undefined ? undefined : this.counterTrack(tr, clip(`${label} (${what})`), "count") };
      tr.resources.set(res.id, r);
    }
    return r;
  }

  /** The iid of an await site's text, as an argument value. */
  private siteIid(tr: SessionTracks, id: number, text: string): number {
    const known = tr.sites.get(id);
    if (known !== undefined && known.text === text) return known.iid;
    const iid = this.out.internArgValue(text);
    if (known === undefined) tr.sites.set(id, { text, iid });
    else {
      known.text = text;
      known.iid = iid;
    }
    return iid;
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
    const x = task.x;
    const arrows = x.arrows;
    for (let i = 0; i < x.arrowCount; i++) this.out.terminatingFlow(arrows[i]!);
    x.arrowCount = 0;
  }

  private setMemory(tr: SessionTracks, task: TaskState<PerfettoTask>, t: number, bytes: number): void {
    tr.memoryTotal += bytes - (task.x.memory ?? 0);
    task.x.memory = bytes;
    const lane = task.x.lane;
    lane.memory ??= this.counterTrack(tr, memoryTrackName(lane), "bytes");
    this.counterEvent(tr, lane.memory, t, bytes);
    tr.memoryAll ??= this.counterTrack(tr, "memory: all tasks", "bytes");
    this.counterEvent(tr, tr.memoryAll, t, tr.memoryTotal);
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

/** A lane's memory counter track's name. */
function memoryTrackName(lane: Lane): string {
  return clip(`memory: ${lane.name}`);
}

/** Drops an idle lane from its id's chain, and its memory counter's name (a lane made again
 *  for the same task gets a new counter track, as it gets a new track). */
function forgetLane(tr: SessionTracks, lane: Lane): void {
  if (lane.memory !== undefined && tr.counters.get(memoryTrackName(lane)) === lane.memory) tr.counters.delete(memoryTrackName(lane));
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
