// The OTLP mapping (docs/EXPORT.md): a device session is a trace rooted at a session span; each
// flow (request) is a trace rooted at the flow's span; each task is a span in the trace of the
// flow it was spawned serving, under the spawner's span there; polls are child spans (or span
// events); wakes are links; await sites and resources are attributes; logs, marks, blocking
// resource operations and lints are span events. Spans are handed out as soon as they end.
//
// Every span ends within its parent and every event lies within its span: a poll whose parent
// (a flow's span, or a task's stay in a flow it entered) ends while the poll runs is split
// there, its next part going on under the task's span; events of a task that has ended go to
// the session's span.

import type { Attributes } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import type { Lint } from "../../model/lint.js";
import { lossAccount } from "../../tracefile/loss-account.js";
import type { TraceHeader } from "../../tracefile/schema.js";
import { IdScheme, type SessionIds, type TaskIds } from "../ids.js";
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
import { UnixNsText } from "./unix-text.js";
import { AttrList, SpanDetails, SpanKind, attrKey, retainSpan, sharedAttrs, type Attrs, type OtlpSpan, type SpanLimits, type SpanRef, type SpanSource } from "./spans.js";

export type PollMode = "spans" | "events";

export interface OtlpMapOptions {
  header: TraceHeader;
  /** Polls as child spans of the task (default) or as events on it. */
  polls: PollMode;
  limits: SpanLimits;
  lints: readonly Lint[];
  scope: InstrumentationScope;
  /** Applied over the session's own resource attributes (OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME). */
  resourceOverrides: Attributes;
}

/** Per-task state: the task's span and what is being built under it. */
export interface OtlpTask {
  ids: TaskIds;
  ref: SpanRef;
  parent: SpanRef | undefined;
  details: SpanDetails;
  /** While the task serves a flow it entered (FLOW_ENTER), its span in that flow's trace. */
  segment: Segment | undefined;
  segments: number;
  /** The poll in progress (a part of it, if it was split): `pollRecord` while polling. */
  poll: PollSpan | undefined;
  /** The task's poll record, made at its first poll and used for every one after it. */
  pollRecord: PollSpan | undefined;
  /** Wake links gathered for the next poll span. */
  nextPoll: SpanDetails | undefined;
  /** The first wake since the last poll: what scheduled the next one. */
  wokenAt: number; // NaN: none (a number always: a field that holds undefined boxes each time)
  wokenBy: string | undefined;
  /** Name of the flow it was spawned serving, if that flow was known then. */
  flowName: string | undefined;
  /** The attributes of a flow's link to it, the task that began the flow (made once: a server
   *  task begins every request's flow). */
  servedBy: Attrs | undefined;
}

interface Segment {
  flow: FlowSpan;
  ref: SpanRef;
  startT: number;
  details: SpanDetails;
}

/** A poll in progress. One record per task, filled again at each poll: a poll costs no object
 *  unless something links to it or it gets an event. */
interface PollSpan {
  /** Its span (polls as spans): the id bytes are rewritten at each poll, so a link to it takes
   *  `linked`, a copy. */
  ref: SpanRef;
  linked: SpanRef | undefined;
  parent: SpanRef;
  /** The span it is under, when that span can end before the poll does. */
  under: Segment | FlowSpan | undefined;
  startT: number;
  /** Made when the poll gets an event or a link (most get none). */
  details: SpanDetails | undefined;
  /** The task's poll count at its start. */
  index: number;
  /** What woke it, and how long it waited to run (the first part only; NaN: not known). */
  wokenBy: string | undefined;
  scheduledNs: number;
  /** Polls as events: the event's attributes, completed at the poll's end. */
  event: Attrs | undefined;
  /** 1 for an unsplit poll and for the first part of a split one. */
  part: number;
}

interface FlowSpan {
  id: number;
  name: string;
  ref: SpanRef;
  startT: number;
  /** The task that began the flow: its polls belong to the flow while it serves it. */
  owner: { seq: number; id: number; name: string } | undefined;
  ownerTask: TaskState<OtlpTask> | undefined;
  details: SpanDetails;
  /** Tasks with a span in this flow's trace because they entered it (made for the first). */
  visitors: Set<TaskState<OtlpTask>> | undefined;
}

interface SessionOut {
  ids: SessionIds;
  source: SpanSource;
  ref: SpanRef;
  details: SpanDetails;
  flows: Map<number, FlowSpan>;
  /** Wake times as text, for wake links. */
  unixText: UnixNsText;
}

export interface OtlpMapStats {
  spans: number;
  /** Distinct traces: one per session, one per flow begun. */
  traces: number;
  /** Events and links past the per-span limits (counted in the spans' dropped counts). */
  droppedEvents: number;
  droppedLinks: number;
  /** Lints placed (each once, however many spans carry it). */
  lints: number;
  /** Polls split because their parent span ended during them. */
  splitPolls: number;
}

const K = {
  taskId: attrKey("taskscope.task.id"),
  taskName: attrKey("taskscope.task.name"),
  incarnation: attrKey("taskscope.task.incarnation"),
  state: attrKey("taskscope.task.state"),
  spawnRecorded: attrKey("taskscope.task.spawn_recorded"),
  polls: attrKey("taskscope.task.polls"),
  wakes: attrKey("taskscope.task.wakes"),
  selfWakes: attrKey("taskscope.task.self_wakes"),
  busy: attrKey("taskscope.task.busy_ns"),
  scheduled: attrKey("taskscope.task.scheduled_ns"),
  idle: attrKey("taskscope.task.idle_ns"),
  liveWakers: attrKey("taskscope.task.live_wakers"),
  parentId: attrKey("taskscope.task.parent_id"),
  parentName: attrKey("taskscope.task.parent_name"),
  memory: attrKey("taskscope.task.memory.max_bytes"),
  flowId: attrKey("taskscope.flow.id"),
  flowName: attrKey("taskscope.flow.name"),
  flowEnded: attrKey("taskscope.flow.ended"),
  flowEntered: attrKey("taskscope.flow.entered"),
  pollIndex: attrKey("taskscope.poll.index"),
  pollResult: attrKey("taskscope.poll.result"),
  pollPart: attrKey("taskscope.poll.part"),
  pollScheduled: attrKey("taskscope.poll.scheduled_ns"),
  pollDuration: attrKey("taskscope.poll.duration_ns"),
  wakeSource: attrKey("taskscope.wake.source"),
  wakeUnixNs: attrKey("taskscope.wake.unix_ns"),
  awaitSite: attrKey("taskscope.await.site"),
  awaitResource: attrKey("taskscope.await.resource"),
  awaitKind: attrKey("taskscope.await.resource_kind"),
  link: attrKey("taskscope.link"),
  message: attrKey("message"),
  severity: attrKey("log.severity"),
  logFormat: attrKey("taskscope.log.format"),
  logArgs: attrKey("taskscope.log.args"),
  mark: attrKey("taskscope.mark"),
  resName: attrKey("taskscope.resource.name"),
  resKind: attrKey("taskscope.resource.kind"),
  resOp: attrKey("taskscope.resource.op"),
  resOutcome: attrKey("taskscope.resource.outcome"),
  resLevel: attrKey("taskscope.resource.level"),
  resCapacity: attrKey("taskscope.resource.capacity"),
  lintKind: attrKey("taskscope.lint.kind"),
  lintSeverity: attrKey("taskscope.lint.severity"),
  lintHint: attrKey("taskscope.lint.hint"),
  lintTasks: attrKey("taskscope.lint.tasks"),
  lintSite: attrKey("taskscope.lint.site"),
  lintResource: attrKey("taskscope.lint.resource"),
  lintDuration: attrKey("taskscope.lint.duration_ns"),
  lintAt: attrKey("taskscope.lint.at_unix_ns"),
  sessionIndex: attrKey("taskscope.session.index"),
  sessionEvents: attrKey("taskscope.session.events"),
  sessionChunks: attrKey("taskscope.session.chunks"),
  lossExact: attrKey("taskscope.loss.exact"),
  lossDropped: attrKey("taskscope.loss.dropped_on_device"),
  lossTransfer: attrKey("taskscope.loss.lost_in_transfer"),
  lossEarlier: attrKey("taskscope.loss.pulled_earlier"),
  lossOverwritten: attrKey("taskscope.loss.chunks_overwritten"),
  lossNames: attrKey("taskscope.loss.names_dropped"),
  lossMissing: attrKey("taskscope.loss.missing_chunks"),
  lossDamaged: attrKey("taskscope.loss.damaged_chunks"),
  truncated: attrKey("taskscope.trace.truncated_at_byte"),
};

const TASK_STATE = { done: "done", cancelled: "cancelled", alive: "alive at end of trace", lost: "end not recorded" } as const;

/**
 * Task events in, finished spans out. `emit` gets each span as it ends, in one record that is
 * filled again for the next span (its attributes and a poll's id bytes too): a consumer encodes
 * it at once, or keeps `retainSpan(span)`. A span per poll made ~40 % of what the export
 * allocated, and the collector's time grows with that.
 */
export class OtlpMapper implements TimelineSink<OtlpTask> {
  readonly stats: OtlpMapStats = { spans: 0, traces: 0, droppedEvents: 0, droppedLinks: 0, lints: 0, splitPolls: 0 };
  private readonly ids: IdScheme;
  private lints: LintIndex;
  private readonly sessions = new Map<number, SessionOut>();
  private readonly spansAsEvents: boolean;
  /** The attributes of the span being finished, and the span record handed to `emit`. */
  private readonly attrs = new AttrList();
  private readonly span: OtlpSpan;
  private readonly resourceEvents = new ResourceEvents();

  constructor(
    private readonly options: OtlpMapOptions,
    private readonly emit: (span: OtlpSpan) => void,
  ) {
    const none = new Uint8Array(0);
    this.span = { ref: { traceId: none, spanId: none }, parent: undefined, name: "", kind: SpanKind.INTERNAL, startT: 0, endT: 0, attributes: [], details: undefined, source: undefined! };
    this.ids = IdScheme.forHeader(options.header);
    this.lints = new LintIndex(options.lints);
    this.spansAsEvents = options.polls === "events";
  }

  /** Spans open beside the tasks' own: sessions and flows (what the mapper holds per live task
   *  is on the task, counted by the timeline). */
  get openSpans(): number {
    let n = 0;
    for (const out of this.sessions.values()) n += 1 + out.flows.size;
    return n;
  }

  /** Lints found after the spans began to leave (a live export learns them at the end): they go
   *  on the spans still open, and those whose tasks' spans already left go on the session's. */
  setLints(lints: readonly Lint[]): void {
    this.lints = new LintIndex(lints);
  }

  sessionStart(s: TimelineSession): void {
    const ids = this.ids.session(s.index, s.info.deviceSession);
    this.stats.traces++;
    this.sessions.set(s.index, {
      ids,
      source: { attributes: this.resource(s), scope: this.options.scope, clock: s.clock },
      ref: { traceId: ids.traceId, spanId: ids.spanId },
      details: this.details(),
      flows: new Map(),
      unixText: new UnixNsText(s.clock),
    });
  }

  taskStart(task: TaskState<OtlpTask>, parent: TaskState<OtlpTask> | undefined): OtlpTask {
    const out = this.out(task.session);
    const traceId = this.flowTraceId(out, task.spawnFlow);
    const details = this.details();
    let parentRef: SpanRef | undefined;
    if (parent) {
      const spawner = this.activeRef(parent);
      if (sameId(spawner.traceId, traceId)) parentRef = spawner;
      else details.link(spawner, [K.link, "spawned by", K.taskId, parent.id, K.taskName, parent.name]);
    }
    const flow = out.flows.get(task.spawnFlow);
    parentRef ??= task.spawnFlow === 0 ? out.ref : flow?.ref;
    const ids = out.ids.task(task.id, task.incarnation);
    return {
      ids,
      ref: { traceId, spanId: ids.spanId },
      parent: parentRef,
      details,
      segment: undefined,
      segments: 0,
      poll: undefined,
      pollRecord: undefined,
      nextPoll: undefined,
      wokenAt: task.spawned ? task.startT : NaN,
      wokenBy: task.spawned ? "spawn" : undefined,
      flowName: flow?.name,
      servedBy: undefined,
    };
  }

  pollBegin(task: TaskState<OtlpTask>, t: number): void {
    const x = task.x;
    const poll = (x.pollRecord ??= newPoll(x.ref));
    poll.index = task.polls;
    poll.wokenBy = x.wokenBy;
    poll.scheduledNs = t - x.wokenAt;
    poll.startT = t;
    poll.part = 1;
    poll.linked = undefined;
    x.wokenAt = NaN;
    x.wokenBy = undefined;
    x.poll = poll;
    if (this.spansAsEvents) {
      // The event takes its place among the task's events now; its result is filled in at the end.
      const attributes = pollAttributes(new AttrList(), task, poll).done();
      this.eventTarget(task).event("poll", t, attributes);
      poll.ref = poll.parent = x.ref;
      poll.under = undefined;
      poll.details = x.details;
      poll.event = attributes;
      return;
    }
    const under = x.segment ?? this.ownedFlow(task);
    const parent = under?.ref ?? x.ref;
    poll.ref.traceId = parent.traceId;
    x.ids.poll(task.polls, poll.ref.spanId);
    poll.parent = parent;
    poll.under = under;
    poll.details = x.nextPoll;
    x.nextPoll = undefined;
  }

  pollEnd(task: TaskState<OtlpTask>, t: number, result: PollResult): void {
    const poll = task.x.poll;
    if (!poll) return;
    task.x.poll = undefined;
    if (this.spansAsEvents) {
      const a = poll.event!;
      poll.event = undefined;
      a.push(K.pollResult, result);
      if (task.awaitSite) a.push(K.awaitSite, task.awaitSite);
      if (task.awaitResource) a.push(K.awaitResource, task.awaitResource.name, K.awaitKind, task.awaitResource.kind);
      a.push(K.pollDuration, Math.round(t - poll.startT));
      return;
    }
    const a = pollAttributes(this.attrs, task, poll).add(K.pollResult, result);
    if (task.awaitSite) a.add(K.awaitSite, task.awaitSite);
    if (task.awaitResource) a.add(K.awaitResource, task.awaitResource.name).add(K.awaitKind, task.awaitResource.kind);
    if (poll.part > 1) a.add(K.pollPart, poll.part);
    const details = poll.details;
    poll.details = undefined;
    this.finish(task.session, poll.ref, poll.parent, "poll", SpanKind.INTERNAL, poll.startT, t, a.done(), details);
  }

  wake(w: Wake<OtlpTask>): void {
    const x = w.target.x;
    if (Number.isNaN(x.wokenAt)) {
      x.wokenAt = w.t;
      x.wokenBy = w.kind;
    }
    if (w.kind !== "task" || !w.by) return;
    const attributes: Attrs = [K.link, "woken by", K.taskId, w.by.id, K.taskName, w.by.name, K.wakeUnixNs, this.out(w.target.session).unixText.of(w.t)];
    const target = this.spansAsEvents ? x.details : (x.nextPoll ??= this.details());
    target.link(this.wakerRef(w.by), attributes);
  }

  taskEnd(task: TaskState<OtlpTask>): void {
    const x = task.x;
    const s = task.session;
    const endT = task.endT ?? task.lastT;
    this.closeSegment(task, endT);
    // Wakes gathered for a poll that never came still say who woke the task.
    if (x.nextPoll) {
      for (const link of x.nextPoll.links ?? []) x.details.link(link.to, link.attributes);
      x.details.droppedLinks += x.nextPoll.droppedLinks;
      x.nextPoll = undefined;
    }
    for (const lint of this.lints.takeForTask(s.index, task.id, task.startT, endT)) this.lintEvent(x.details, lint, lint.atNs);
    const st = task.stats;
    const a = this.attrs
      .begin()
      .add(K.taskId, task.id)
      .add(K.incarnation, task.incarnation)
      .add(K.state, TASK_STATE[task.end ?? "done"])
      .add(K.spawnRecorded, task.spawned)
      .add(K.polls, st.polls)
      .add(K.wakes, st.wakes)
      .add(K.selfWakes, st.selfWakes)
      .add(K.busy, st.busyNs)
      .add(K.scheduled, st.scheduledNs)
      .add(K.idle, st.idleNs)
      .add(K.liveWakers, st.liveWakers);
    if (task.parentId !== 0) a.add(K.parentId, task.parentId);
    if (task.parentName !== undefined) a.add(K.parentName, task.parentName);
    if (task.spawnFlow !== 0) {
      a.add(K.flowId, task.spawnFlow);
      if (x.flowName !== undefined) a.add(K.flowName, x.flowName);
    }
    if (task.end === "alive" && task.stats.state === "parked") {
      if (task.awaitSite) a.add(K.awaitSite, task.awaitSite);
      if (task.awaitResource) a.add(K.awaitResource, task.awaitResource.name);
    }
    if (task.maxMemory !== undefined) a.add(K.memory, task.maxMemory);
    this.finish(s, x.ref, x.parent, task.name, SpanKind.INTERNAL, task.startT, endT, a.done(), x.details);
  }

  flowBegin(s: TimelineSession, task: TaskState<OtlpTask> | undefined, flow: number, name: string, t: number): void {
    const out = this.out(s);
    if (out.flows.has(flow)) this.endFlow(s, flow, t, false);
    this.stats.traces++;
    const details = this.details();
    if (task) details.link(task.x.ref, (task.x.servedBy ??= sharedAttrs([K.link, "served by", K.taskId, task.id, K.taskName, task.name])));
    out.flows.set(flow, {
      id: flow,
      name: name || `flow ${flow}`,
      ref: { traceId: this.flowTraceId(out, flow), spanId: out.ids.flowSpanId(flow) },
      startT: t,
      owner: task ? { seq: task.seq, id: task.id, name: task.name } : undefined,
      ownerTask: task,
      details,
      visitors: undefined,
    });
    if (task) this.reconcile(task, t);
  }

  flowEnd(s: TimelineSession, task: TaskState<OtlpTask> | undefined, flow: number, t: number): void {
    this.endFlow(s, flow, t, true);
    if (task) this.reconcile(task, t);
  }

  flowEnter(task: TaskState<OtlpTask>, _previous: number, t: number): void {
    this.reconcile(task, t);
  }

  log(s: TimelineSession, task: TaskState<OtlpTask> | undefined, t: number, level: number, text: string, format: string, args: readonly number[]): void {
    this.eventTarget(task, s).event("log", t, [K.message, text, K.severity, logLevelName(level), K.logFormat, format, K.logArgs, [...args]]);
  }

  mark(s: TimelineSession, task: TaskState<OtlpTask> | undefined, t: number, name: string): void {
    this.eventTarget(task, s).event(`mark: ${name}`, t, [K.mark, name]);
  }

  counter(): void {
    // Counters are metrics, not spans: the Perfetto export draws them.
  }

  memory(): void {
    // The largest sample becomes a task attribute (TaskState.maxMemory).
  }

  resourceOp(s: TimelineSession, task: TaskState<OtlpTask> | undefined, t: number, res: ResourceInfo, op: string, outcome: string, level: number): void {
    if (outcome === "ok") return; // only waiting is worth an event; the fill is in Perfetto's counters
    const e = this.resourceEvents.of(res, op, outcome, level);
    this.eventTarget(task, s).event(e.name, t, e.attributes);
  }

  idle(): void {}

  interrupt(): void {}

  sessionEnd(s: TimelineSession): void {
    const out = this.out(s);
    for (const flow of [...out.flows.keys()]) this.endFlow(s, flow, s.lastT, false);
    // Lints no task took, at their time within the session's (the span covers every event).
    for (const lint of this.lints.takeForSession(s.index)) this.lintEvent(out.details, lint, Math.min(Math.max(lint.atNs, s.firstT), s.lastT));
    const src = s.source;
    const c = src.counters;
    const a = this.attrs.begin().add(K.sessionIndex, s.index).add(K.sessionEvents, src.events).add(K.sessionChunks, src.chunks).add(K.lossExact, c !== undefined);
    if (c) {
      const loss = lossAccount(c, src, src.info.earlier);
      a.add(K.lossDropped, loss.droppedOnDevice).add(K.lossTransfer, loss.lostInTransfer).add(K.lossEarlier, loss.pulledEarlier);
      a.add(K.lossOverwritten, c.chunksOverwritten).add(K.lossNames, c.namesDropped);
    }
    const gapChunks = s.losses.filter((l) => l.kind !== "decode").reduce((n, l) => n + l.chunks, 0);
    const damaged = s.losses.filter((l) => l.kind === "decode").reduce((n, l) => n + l.chunks, 0);
    a.add(K.lossMissing, gapChunks).add(K.lossDamaged, damaged);
    if (s.truncatedAt !== undefined) a.add(K.truncated, s.truncatedAt);
    this.finish(s, out.ref, undefined, `${s.info.device} session ${s.index}`, SpanKind.INTERNAL, s.firstT, s.lastT, a.done(), out.details);
    this.sessions.delete(s.index);
    this.stats.lints = this.lints.placed;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private out(s: TimelineSession): SessionOut {
    return this.sessions.get(s.index)!;
  }

  private details(): SpanDetails {
    return new SpanDetails(this.options.limits);
  }

  private flowTraceId(out: SessionOut, flow: number): Uint8Array {
    if (flow === 0) return out.ref.traceId;
    return out.flows.get(flow)?.ref.traceId ?? out.ids.flowTraceId(flow); // the open flow's: the same bytes
  }

  /** The span a task's polls, logs and children go under now. */
  private activeRef(task: TaskState<OtlpTask>): SpanRef {
    const x = task.x;
    if (x.segment) return x.segment.ref;
    return this.ownedFlow(task)?.ref ?? x.ref;
  }

  /** The flow the task began and still serves, if any. */
  private ownedFlow(task: TaskState<OtlpTask>): FlowSpan | undefined {
    if (task.flow === 0 || task.flow === task.spawnFlow) return undefined;
    const flow = this.out(task.session).flows.get(task.flow);
    return flow?.owner?.seq === task.seq ? flow : undefined;
  }

  /** Where a waker was when it woke: its poll span if polling, else its active span. */
  private wakerRef(by: TaskState<OtlpTask>): SpanRef {
    const poll = by.x.poll;
    if (this.spansAsEvents || !poll) return this.activeRef(by);
    return (poll.linked ??= { traceId: poll.ref.traceId, spanId: new Uint8Array(poll.ref.spanId) });
  }

  /** Where a task's events go: its poll span while polling (polls as spans), else its active
   *  span; without a task, or for a task that has ended, the session span. */
  private eventTarget(task: TaskState<OtlpTask> | undefined, s?: TimelineSession): SpanDetails {
    if (!task || task.end !== undefined) return this.out(task?.session ?? s!).details;
    const x = task.x;
    if (!this.spansAsEvents && x.poll) return (x.poll.details ??= this.details());
    if (x.segment) return x.segment.details;
    return this.ownedFlow(task)?.details ?? x.details;
  }

  /** Opens or closes the task's segment so it matches the flow it serves now: a segment for an
   *  open flow the task entered (not one it began, not the one it was spawned into). */
  private reconcile(task: TaskState<OtlpTask>, t: number): void {
    const x = task.x;
    const out = this.out(task.session);
    const flow = task.flow !== 0 && task.flow !== task.spawnFlow && !this.ownedFlow(task) ? out.flows.get(task.flow) : undefined;
    if (x.segment?.flow === flow) return;
    if (x.segment) this.closeSegment(task, t);
    if (!flow) return;
    const details = this.details();
    details.link(x.ref, [K.link, "task", K.taskId, task.id, K.taskName, task.name]);
    x.segments++;
    x.segment = { flow, ref: { traceId: flow.ref.traceId, spanId: x.ids.segment(x.segments) }, startT: t, details };
    (flow.visitors ??= new Set()).add(task);
  }

  private closeSegment(task: TaskState<OtlpTask>, t: number): void {
    const seg = task.x.segment;
    if (!seg) return;
    task.x.segment = undefined;
    seg.flow.visitors?.delete(task);
    this.splitPoll(task, seg, t);
    const a = this.attrs.begin().add(K.taskId, task.id).add(K.flowId, seg.flow.id).add(K.flowEntered, true).add(K.flowName, seg.flow.name);
    this.finish(task.session, seg.ref, seg.flow.ref, task.name, SpanKind.INTERNAL, seg.startT, t, a.done(), seg.details);
  }

  /** The span `under` ends at `t` while the task polls under it: the poll's part so far ends
   *  there, and the poll goes on in a new part under the task's span. */
  private splitPoll(task: TaskState<OtlpTask>, under: Segment | FlowSpan, t: number): void {
    const poll = task.x.poll;
    if (!poll || poll.under !== under || this.spansAsEvents) return;
    this.stats.splitPolls++;
    const a = pollAttributes(this.attrs, task, poll).add(K.pollResult, "continues").add(K.pollPart, poll.part);
    this.finish(task.session, poll.ref, poll.parent, "poll", SpanKind.INTERNAL, poll.startT, t, a.done(), poll.details);
    // The next part: the same poll (task id, name, poll index), under the task's span.
    const parent = task.x.ref;
    poll.part++;
    poll.ref.traceId = parent.traceId;
    task.x.ids.pollPart(task.polls, poll.part, poll.ref.spanId);
    poll.linked = undefined;
    poll.parent = parent;
    poll.under = undefined;
    poll.startT = t;
    poll.details = undefined;
    poll.wokenBy = undefined;
    poll.scheduledNs = NaN;
  }

  private endFlow(s: TimelineSession, id: number, t: number, ended: boolean): void {
    const out = this.out(s);
    const flow = out.flows.get(id);
    if (!flow) return;
    // Spans under it end with it: the stays of tasks that entered it, the owner's poll part.
    if (flow.visitors) for (const visitor of [...flow.visitors]) this.closeSegment(visitor, t);
    out.flows.delete(id);
    if (flow.ownerTask) this.splitPoll(flow.ownerTask, flow, t);
    const a = this.attrs.begin().add(K.flowId, id).add(K.flowName, flow.name).add(K.flowEnded, ended);
    if (flow.owner) a.add(K.taskId, flow.owner.id).add(K.taskName, flow.owner.name);
    this.finish(s, flow.ref, undefined, flow.name, SpanKind.SERVER, flow.startT, t, a.done(), flow.details);
  }

  private lintEvent(details: SpanDetails, lint: Lint, t: number): void {
    const a: Attrs = [
      K.lintKind, lint.kind,
      K.lintSeverity, lint.severity,
      K.message, lint.title,
      K.lintHint, lint.hint,
      K.lintTasks, lint.tasks.map((x) => `${x.name} (${x.id})`),
    ];
    if (lint.site !== undefined) a.push(K.lintSite, lint.site);
    if (lint.resource !== undefined) a.push(K.lintResource, lint.resource);
    if (lint.untilNs !== undefined) a.push(K.lintDuration, lint.untilNs - lint.atNs);
    for (const [k, v] of Object.entries(lint.evidence)) a.push(attrKey(`taskscope.lint.evidence.${k}`), v);
    details.event(`lint: ${lint.kind}`, t, a, true);
    if (lint.severity === "error") details.fail(lint.title);
  }

  /** Hands out a finished span, in the record used for every span. */
  private finish(
    s: TimelineSession, ref: SpanRef, parent: SpanRef | undefined, name: string, kind: SpanKind,
    startT: number, endT: number, attributes: Attrs, details: SpanDetails | undefined,
  ): void {
    if (details) {
      this.stats.droppedEvents += details.droppedEvents;
      this.stats.droppedLinks += details.droppedLinks;
    }
    this.stats.spans++;
    const span = this.span;
    span.ref = ref;
    span.parent = parent;
    span.name = name;
    span.kind = kind;
    span.startT = startT;
    span.endT = endT < startT ? startT : endT;
    span.attributes = attributes;
    span.details = details;
    span.source = this.out(s).source;
    this.emit(span);
  }


  private resource(s: TimelineSession): Attributes {
    const info = s.info;
    const h = this.options.header;
    return {
      "service.name": info.firmware || "taskscope",
      "service.instance.id": `${info.device}/${info.deviceSession}`,
      "taskscope.device": info.device,
      "taskscope.firmware": info.firmware,
      "taskscope.device_session": info.deviceSession,
      "taskscope.session.index": s.index,
      "taskscope.tick_hz": info.tickHz,
      "taskscope.ring.mode": info.mode,
      "taskscope.ring.chunk_size": info.chunkSize,
      "taskscope.ring.chunk_count": info.chunkCount,
      "taskscope.trace.created_unix_ns": h.created.toString(),
      "taskscope.trace.source": h.source,
      "taskscope.trace.tool": h.tool,
      ...this.options.resourceOverrides,
    };
  }
}

function newPoll(ref: SpanRef): PollSpan {
  return {
    ref: { traceId: ref.traceId, spanId: new Uint8Array(8) },
    linked: undefined,
    parent: ref,
    under: undefined,
    startT: 0,
    details: undefined,
    index: 0,
    wokenBy: undefined,
    scheduledNs: NaN,
    event: undefined,
    part: 1,
  };
}

/** A poll's own attributes, from the start of `a`: task id and name, poll index, and (for its
 *  first part) what woke it and how long it waited. */
function pollAttributes(a: AttrList, task: TaskState<OtlpTask>, poll: PollSpan): AttrList {
  a.begin().add(K.taskId, task.id).add(K.taskName, task.name).add(K.pollIndex, poll.index);
  if (poll.wokenBy !== undefined) a.add(K.wakeSource, poll.wokenBy);
  if (!Number.isNaN(poll.scheduledNs)) a.add(K.pollScheduled, poll.scheduledNs);
  return a;
}

function sameId(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Resource operations' events, their names and attributes made once per resource, operation,
 *  outcome and level and shared (never changed): a lock waited for in every request made its
 *  events most of the mapper's garbage. */
class ResourceEvents {
  private readonly byResource = new Map<ResourceInfo, Map<string, Map<string, ResourceEvent>>>();

  of(res: ResourceInfo, op: string, outcome: string, level: number): { name: string; attributes: Attrs } {
    let ops = this.byResource.get(res);
    if (!ops) {
      if (this.byResource.size >= CACHED_RESOURCES) this.byResource.clear();
      ops = new Map();
      this.byResource.set(res, ops);
    }
    let outcomes = ops.get(op);
    if (!outcomes) ops.set(op, (outcomes = new Map()));
    let e = outcomes.get(outcome);
    if (!e) outcomes.set(outcome, (e = { name: `${res.kind} ${op} ${outcome}`, attributes: [], byLevel: [] }));
    const cached = Number.isInteger(level) && level >= 0 && level < CACHED_LEVELS;
    let attributes = cached ? e.byLevel[level] : undefined;
    if (!attributes) {
      attributes = [K.resName, res.name, K.resKind, res.kind, K.resOp, op, K.resOutcome, outcome, K.resLevel, level, K.resCapacity, res.capacity];
      if (cached) e.byLevel[level] = sharedAttrs(attributes);
    }
    e.attributes = attributes;
    return e;
  }
}

interface ResourceEvent {
  name: string;
  /** The attributes of the event `of` returned last. */
  attributes: Attrs;
  byLevel: Attrs[];
}

/** Resources whose events are kept (past them, the cache starts again), and levels per event. */
const CACHED_RESOURCES = 1024;
const CACHED_LEVELS = 64;
