// The OTLP mapping (docs/EXPORT.md): a device session is a trace rooted at a session span; each
// flow (request) is a trace rooted at the flow's span; each task is a span in the trace of the
// flow it was spawned serving, under the spawner's span there; polls are child spans (or span
// events); wakes are links; await sites and resources are attributes; logs, marks, blocking
// resource operations and lints are span events. Spans are handed out as soon as they end.

import type { Attributes } from "@opentelemetry/api";
import type { InstrumentationScope } from "@opentelemetry/core";
import { resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import type { ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { Lint } from "../../model/lint.js";
import { IdScheme, sessionKey } from "../ids.js";
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
import type { TraceHeader } from "../../tracefile/schema.js";
import { SpanDetails, SpanKind, readableSpan, type FinishedSpan, type SpanLimits, type SpanRef } from "./spans.js";
import { lossAccount } from "../../tracefile/loss-account.js";

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
  ref: SpanRef;
  parent: SpanRef | undefined;
  startNs: bigint;
  details: SpanDetails;
  /** While the task serves a flow it entered (FLOW_ENTER), its span in that flow's trace. */
  segment: Segment | undefined;
  segments: number;
  /** The poll in progress (polls as spans). */
  poll: PollSpan | undefined;
  /** Wake links gathered for the next poll span. */
  nextPoll: SpanDetails | undefined;
  /** The first wake since the last poll: what scheduled the next one. */
  wokenAt: number | undefined;
  wokenBy: string | undefined;
  /** Name of the flow it was spawned serving, if that flow was known then. */
  flowName: string | undefined;
}

interface Segment {
  flow: number;
  ref: SpanRef;
  parent: SpanRef | undefined;
  startNs: bigint;
  details: SpanDetails;
}

interface PollSpan {
  ref: SpanRef;
  parent: SpanRef;
  startNs: bigint;
  details: SpanDetails;
  attributes: Attributes;
}

interface FlowSpan {
  id: number;
  name: string;
  ref: SpanRef;
  startNs: bigint;
  /** The task that began the flow: its polls belong to the flow while it serves it. */
  owner: { seq: number; id: number; name: string } | undefined;
  details: SpanDetails;
}

interface SessionOut {
  key: string;
  resource: Resource;
  ref: SpanRef;
  details: SpanDetails;
  flows: Map<number, FlowSpan>;
}

export interface OtlpMapStats {
  spans: number;
  /** Distinct traces: one per session, one per flow begun. */
  traces: number;
  /** Events and links past the per-span limits (counted in the spans' dropped counts). */
  droppedEvents: number;
  droppedLinks: number;
  lints: number;
}

export class OtlpMapper implements TimelineSink<OtlpTask> {
  readonly stats: OtlpMapStats = { spans: 0, traces: 0, droppedEvents: 0, droppedLinks: 0, lints: 0 };
  private readonly ids: IdScheme;
  private readonly lints: LintIndex;
  private readonly sessions = new Map<number, SessionOut>();

  constructor(
    private readonly options: OtlpMapOptions,
    private readonly emit: (span: ReadableSpan) => void,
  ) {
    this.ids = IdScheme.forHeader(options.header);
    this.lints = new LintIndex(options.lints);
  }

  sessionStart(s: TimelineSession): void {
    const key = sessionKey(s.index, s.info.deviceSession);
    const traceId = this.ids.traceId(`${key}/session`);
    this.stats.traces++;
    this.sessions.set(s.index, {
      key,
      resource: this.resource(s),
      ref: { traceId, spanId: this.ids.spanId(`${key}/session`) },
      details: this.details(),
      flows: new Map(),
    });
  }

  taskStart(task: TaskState<OtlpTask>, parent: TaskState<OtlpTask> | undefined): OtlpTask {
    const out = this.out(task.session);
    const traceId = this.flowTraceId(out, task.spawnFlow);
    const details = this.details();
    let parentRef: SpanRef | undefined;
    if (parent) {
      const spawner = this.activeRef(parent);
      if (spawner.traceId === traceId) parentRef = spawner;
      else details.link(spawner, { "taskscope.link": "spawned by", "taskscope.task.id": parent.id, "taskscope.task.name": parent.name });
    }
    parentRef ??= task.spawnFlow === 0 ? out.ref : out.flows.get(task.spawnFlow)?.ref;
    return {
      ref: { traceId, spanId: this.ids.spanId(`${out.key}/${taskKey(task)}`) },
      parent: parentRef,
      startNs: task.session.clock.unixNs(task.startT),
      details,
      segment: undefined,
      segments: 0,
      poll: undefined,
      nextPoll: undefined,
      wokenAt: task.spawned ? task.startT : undefined,
      wokenBy: task.spawned ? "spawn" : undefined,
      flowName: out.flows.get(task.spawnFlow)?.name,
    };
  }

  pollBegin(task: TaskState<OtlpTask>, t: number): void {
    const x = task.x;
    const attributes: Attributes = {
      "taskscope.task.id": task.id,
      "taskscope.task.name": task.name,
      "taskscope.poll.index": task.polls,
    };
    if (x.wokenBy !== undefined) attributes["taskscope.wake.source"] = x.wokenBy;
    if (x.wokenAt !== undefined) attributes["taskscope.poll.scheduled_ns"] = t - x.wokenAt;
    x.wokenAt = undefined;
    x.wokenBy = undefined;
    if (this.options.polls !== "spans") {
      // The event takes its place among the task's events now; its result is filled in at the end.
      const startNs = task.session.clock.unixNs(t);
      this.eventTarget(task).event("poll", startNs, attributes);
      x.poll = { ref: x.ref, parent: x.ref, startNs, details: x.details, attributes };
      return;
    }
    const out = this.out(task.session);
    const parent = this.activeRef(task);
    x.poll = {
      ref: { traceId: parent.traceId, spanId: this.ids.spanId(`${out.key}/${taskKey(task)}/poll=${task.polls}`) },
      parent,
      startNs: task.session.clock.unixNs(t),
      details: x.nextPoll ?? this.details(),
      attributes,
    };
    x.nextPoll = undefined;
  }

  pollEnd(task: TaskState<OtlpTask>, t: number, result: PollResult): void {
    const poll = task.x.poll;
    if (!poll) return;
    task.x.poll = undefined;
    const a = poll.attributes;
    a["taskscope.poll.result"] = result;
    if (task.awaitSite) a["taskscope.await.site"] = task.awaitSite;
    if (task.awaitResource) {
      a["taskscope.await.resource"] = task.awaitResource.name;
      a["taskscope.await.resource_kind"] = task.awaitResource.kind;
    }
    const endNs = task.session.clock.unixNs(t);
    if (this.options.polls === "spans") {
      this.finish({ ref: poll.ref, parent: poll.parent, name: "poll", kind: SpanKind.INTERNAL, startNs: poll.startNs, endNs, attributes: a, details: poll.details }, task.session);
    } else {
      a["taskscope.poll.duration_ns"] = Number(endNs - poll.startNs);
    }
  }

  wake(w: Wake<OtlpTask>): void {
    const x = w.target.x;
    if (x.wokenAt === undefined) {
      x.wokenAt = w.t;
      x.wokenBy = w.kind;
    }
    if (w.kind !== "task" || !w.by) return;
    const attributes: Attributes = {
      "taskscope.link": "woken by",
      "taskscope.task.id": w.by.id,
      "taskscope.task.name": w.by.name,
      "taskscope.wake.unix_ns": w.target.session.clock.unixNs(w.t).toString(),
    };
    const target = this.options.polls === "spans" ? (x.nextPoll ??= this.details()) : x.details;
    target.link(this.wakerRef(w.by), attributes);
  }

  taskEnd(task: TaskState<OtlpTask>): void {
    const x = task.x;
    const s = task.session;
    const endT = task.endT ?? task.lastT;
    this.closeSegment(task, endT);
    // Wakes gathered for a poll that never came still say who woke the task.
    if (x.nextPoll) {
      for (const link of x.nextPoll.links) x.details.link({ traceId: link.context.traceId, spanId: link.context.spanId }, link.attributes ?? {});
      x.details.droppedLinks += x.nextPoll.droppedLinks;
      x.nextPoll = undefined;
    }
    const st = task.stats;
    const a: Attributes = {
      "taskscope.task.id": task.id,
      "taskscope.task.incarnation": task.incarnation,
      "taskscope.task.state": task.end === "done" ? "done" : task.end === "cancelled" ? "cancelled" : task.end === "alive" ? "alive at end of trace" : "end not recorded",
      "taskscope.task.spawn_recorded": task.spawned,
      "taskscope.task.polls": st.polls,
      "taskscope.task.wakes": st.wakes,
      "taskscope.task.self_wakes": st.selfWakes,
      "taskscope.task.busy_ns": st.busyNs,
      "taskscope.task.scheduled_ns": st.scheduledNs,
      "taskscope.task.idle_ns": st.idleNs,
      "taskscope.task.live_wakers": st.liveWakers,
    };
    if (task.parentId !== 0) a["taskscope.task.parent_id"] = task.parentId;
    if (task.parentName !== undefined) a["taskscope.task.parent_name"] = task.parentName;
    if (task.spawnFlow !== 0) {
      a["taskscope.flow.id"] = task.spawnFlow;
      if (x.flowName !== undefined) a["taskscope.flow.name"] = x.flowName;
    }
    if (task.end === "alive" && task.stats.state === "parked") {
      if (task.awaitSite) a["taskscope.await.site"] = task.awaitSite;
      if (task.awaitResource) a["taskscope.await.resource"] = task.awaitResource.name;
    }
    if (task.maxMemory !== undefined) a["taskscope.task.memory.max_bytes"] = task.maxMemory;
    for (const lint of this.lints.takeForTask(s.index, task.id, endT)) this.lintEvent(x.details, lint, s);
    this.finish({ ref: x.ref, parent: x.parent, name: task.name, kind: SpanKind.INTERNAL, startNs: x.startNs, endNs: s.clock.unixNs(endT), attributes: a, details: x.details }, s);
  }

  flowBegin(s: TimelineSession, task: TaskState<OtlpTask> | undefined, flow: number, name: string, t: number): void {
    const out = this.out(s);
    if (out.flows.has(flow)) this.endFlow(s, flow, t, false);
    this.stats.traces++;
    const details = this.details();
    if (task) details.link(task.x.ref, { "taskscope.link": "served by", "taskscope.task.id": task.id, "taskscope.task.name": task.name });
    out.flows.set(flow, {
      id: flow,
      name: name || `flow ${flow}`,
      ref: { traceId: this.flowTraceId(out, flow), spanId: this.ids.spanId(`${out.key}/flow=${flow}`) },
      startNs: s.clock.unixNs(t),
      owner: task ? { seq: task.seq, id: task.id, name: task.name } : undefined,
      details,
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
    this.eventTarget(task, s).event("log", s.clock.unixNs(t), {
      "message": text,
      "log.severity": logLevelName(level),
      "taskscope.log.format": format,
      "taskscope.log.args": [...args],
    });
  }

  mark(s: TimelineSession, task: TaskState<OtlpTask> | undefined, t: number, name: string): void {
    this.eventTarget(task, s).event(`mark: ${name}`, s.clock.unixNs(t), { "taskscope.mark": name });
  }

  counter(): void {
    // Counters are metrics, not spans: the Perfetto export draws them.
  }

  memory(): void {
    // The largest sample becomes a task attribute (TaskState.maxMemory).
  }

  resourceOp(s: TimelineSession, task: TaskState<OtlpTask> | undefined, t: number, res: ResourceInfo, op: string, outcome: string, level: number): void {
    if (outcome === "ok") return; // only waiting is worth an event; the fill is in Perfetto's counters
    this.eventTarget(task, s).event(`${res.kind} ${op} ${outcome}`, s.clock.unixNs(t), {
      "taskscope.resource.name": res.name,
      "taskscope.resource.kind": res.kind,
      "taskscope.resource.op": op,
      "taskscope.resource.outcome": outcome,
      "taskscope.resource.level": level,
      "taskscope.resource.capacity": res.capacity,
    });
  }

  idle(): void {}

  interrupt(): void {}

  sessionEnd(s: TimelineSession): void {
    const out = this.out(s);
    for (const flow of [...out.flows.keys()]) this.endFlow(s, flow, s.lastT, false);
    for (const lint of this.lints.takeForSession(s.index)) this.lintEvent(out.details, lint, s);
    const src = s.source;
    const c = src.counters;
    const a: Attributes = {
      "taskscope.session.index": s.index,
      "taskscope.session.events": src.events,
      "taskscope.session.chunks": src.chunks,
      "taskscope.loss.exact": c !== undefined,
    };
    if (c) {
      const loss = lossAccount(c, src, src.info.earlier);
      a["taskscope.loss.dropped_on_device"] = loss.droppedOnDevice;
      a["taskscope.loss.lost_in_transfer"] = loss.lostInTransfer;
      a["taskscope.loss.pulled_earlier"] = loss.pulledEarlier;
      a["taskscope.loss.chunks_overwritten"] = c.chunksOverwritten;
      a["taskscope.loss.names_dropped"] = c.namesDropped;
    }
    const gapChunks = s.losses.filter((l) => l.kind !== "decode").reduce((n, l) => n + l.chunks, 0);
    const damaged = s.losses.filter((l) => l.kind === "decode").reduce((n, l) => n + l.chunks, 0);
    a["taskscope.loss.missing_chunks"] = gapChunks;
    a["taskscope.loss.damaged_chunks"] = damaged;
    if (s.truncatedAt !== undefined) a["taskscope.trace.truncated_at_byte"] = s.truncatedAt;
    this.finish({
      ref: out.ref, parent: undefined, name: `${s.info.device} session ${s.index}`, kind: SpanKind.INTERNAL,
      startNs: s.clock.unixNs(s.firstT), endNs: s.clock.unixNs(s.lastT), attributes: a, details: out.details,
    }, s);
    this.sessions.delete(s.index);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private out(s: TimelineSession): SessionOut {
    return this.sessions.get(s.index)!;
  }

  private details(): SpanDetails {
    return new SpanDetails(this.options.limits);
  }

  private flowTraceId(out: SessionOut, flow: number): string {
    return flow === 0 ? out.ref.traceId : this.ids.traceId(`${out.key}/flow=${flow}`);
  }

  /** The span a task's polls, logs and children go under now. */
  private activeRef(task: TaskState<OtlpTask>): SpanRef {
    const x = task.x;
    if (x.segment) return x.segment.ref;
    const owned = this.ownedFlow(task);
    return owned ? owned.ref : x.ref;
  }

  /** The flow the task began and still serves, if any. */
  private ownedFlow(task: TaskState<OtlpTask>): FlowSpan | undefined {
    if (task.flow === 0 || task.flow === task.spawnFlow) return undefined;
    const flow = this.out(task.session).flows.get(task.flow);
    return flow?.owner?.seq === task.seq ? flow : undefined;
  }

  /** Where a waker was when it woke: its poll span if polling, else its active span. */
  private wakerRef(by: TaskState<OtlpTask>): SpanRef {
    return this.options.polls === "spans" && by.x.poll ? by.x.poll.ref : this.activeRef(by);
  }

  /** Where a task's events go: its poll span while polling (polls as spans), else its active span;
   *  without a task, the session span. */
  private eventTarget(task: TaskState<OtlpTask> | undefined, s?: TimelineSession): SpanDetails {
    if (!task) return this.out(s!).details;
    const x = task.x;
    if (this.options.polls === "spans" && x.poll) return x.poll.details;
    if (x.segment) return x.segment.details;
    return this.ownedFlow(task)?.details ?? x.details;
  }

  /** Opens or closes the task's segment so it matches the flow it serves now. */
  private reconcile(task: TaskState<OtlpTask>, t: number): void {
    const x = task.x;
    const want = task.flow !== 0 && task.flow !== task.spawnFlow && !this.ownedFlow(task) ? task.flow : 0;
    if (x.segment?.flow === want) return;
    if (x.segment) this.closeSegment(task, t);
    if (want === 0) return;
    const out = this.out(task.session);
    const details = this.details();
    details.link(x.ref, { "taskscope.link": "task", "taskscope.task.id": task.id, "taskscope.task.name": task.name });
    x.segments++;
    x.segment = {
      flow: want,
      ref: { traceId: this.flowTraceId(out, want), spanId: this.ids.spanId(`${out.key}/${taskKey(task)}/segment=${x.segments}`) },
      parent: out.flows.get(want)?.ref,
      startNs: task.session.clock.unixNs(t),
      details,
    };
  }

  private closeSegment(task: TaskState<OtlpTask>, t: number): void {
    const seg = task.x.segment;
    if (!seg) return;
    task.x.segment = undefined;
    const flow = this.out(task.session).flows.get(seg.flow);
    const a: Attributes = { "taskscope.task.id": task.id, "taskscope.flow.id": seg.flow, "taskscope.flow.entered": true };
    if (flow) a["taskscope.flow.name"] = flow.name;
    this.finish({ ref: seg.ref, parent: seg.parent, name: task.name, kind: SpanKind.INTERNAL, startNs: seg.startNs, endNs: task.session.clock.unixNs(t), attributes: a, details: seg.details }, task.session);
  }

  private endFlow(s: TimelineSession, id: number, t: number, ended: boolean): void {
    const out = this.out(s);
    const flow = out.flows.get(id);
    if (!flow) return;
    out.flows.delete(id);
    const a: Attributes = { "taskscope.flow.id": id, "taskscope.flow.name": flow.name, "taskscope.flow.ended": ended };
    if (flow.owner) {
      a["taskscope.task.id"] = flow.owner.id;
      a["taskscope.task.name"] = flow.owner.name;
    }
    this.finish({ ref: flow.ref, parent: undefined, name: flow.name, kind: SpanKind.SERVER, startNs: flow.startNs, endNs: s.clock.unixNs(t), attributes: a, details: flow.details }, s);
  }

  private lintEvent(details: SpanDetails, lint: Lint, s: TimelineSession): void {
    const a: Attributes = {
      "taskscope.lint.kind": lint.kind,
      "taskscope.lint.severity": lint.severity,
      "message": lint.title,
      "taskscope.lint.hint": lint.hint,
      "taskscope.lint.tasks": lint.tasks.map((t) => `${t.name} (${t.id})`),
    };
    if (lint.site !== undefined) a["taskscope.lint.site"] = lint.site;
    if (lint.resource !== undefined) a["taskscope.lint.resource"] = lint.resource;
    if (lint.untilNs !== undefined) a["taskscope.lint.duration_ns"] = lint.untilNs - lint.atNs;
    for (const [k, v] of Object.entries(lint.evidence)) a[`taskscope.lint.evidence.${k}`] = v;
    details.event(`lint: ${lint.kind}`, s.clock.unixNs(lint.atNs), a, true);
    if (lint.severity === "error") details.error(lint.title);
    this.stats.lints++;
  }

  private finish(span: Omit<FinishedSpan, "resource" | "scope">, s: TimelineSession): void {
    const d = span.details;
    if (d) {
      this.stats.droppedEvents += d.droppedEvents;
      this.stats.droppedLinks += d.droppedLinks;
    }
    this.stats.spans++;
    this.emit(readableSpan({ ...span, resource: this.out(s).resource, scope: this.options.scope }));
  }

  private resource(s: TimelineSession): Resource {
    const info = s.info;
    const h = this.options.header;
    return resourceFromAttributes({
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
    });
  }
}

function taskKey(task: TaskState<unknown>): string {
  return `task=${task.id}.${task.incarnation}`;
}
