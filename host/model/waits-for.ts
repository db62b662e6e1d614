// The waits-for graph between tasks, through resources: a task parked on a full channel waits
// for the tasks that receive from it, one parked on an empty channel for the tasks that send to
// it, one parked on a mutex for its holder. A task stuck for good is one whose every possible
// helper is itself stuck; a deadlock is a cycle among such tasks.

import type { TraceModel } from "./trace-model.js";
import type { ResourceRecord } from "./resources.js";
import { isLive, type TaskRecord } from "./tasks.js";
import { RESOURCE_OP } from "../format/spec.js";

export interface WaitEdge {
  from: TaskRecord;
  resource: ResourceRecord;
  /** The await site it is parked at (name id in its session). */
  site: number;
  /** What it is trying to do: "send" (channel full), "recv" (channel empty), "acquire" (mutex held). */
  op: "send" | "recv" | "acquire";
  /** The tasks that could let it go on (live, not itself). */
  to: TaskRecord[];
  /** Blocked since (ns). */
  since: number;
}

/** One edge per live task of `session` that is parked, blocked on a channel or mutex. */
export function waitsForGraph(model: TraceModel, session: number): Map<TaskRecord, WaitEdge> {
  const edges = new Map<TaskRecord, WaitEdge>();
  for (const t of model.tasks) {
    if (t.session !== session || t.state !== "parked" || t.blockedRes === 0) continue;
    if (t.lastResource !== t.blockedRes) continue; // blocked once, but parked on something else now
    const r = model.resource(session, t.blockedRes);
    if (!r) continue;
    let op: WaitEdge["op"];
    let to: TaskRecord[];
    if (r.kind === "mutex" && t.blockedOp === RESOURCE_OP.acquire) {
      op = "acquire";
      const holder = r.holder >= 0 ? model.tasks[r.holder] : undefined;
      to = holder && isLive(holder) && holder !== t ? [holder] : [];
    } else if (r.kind === "channel" && t.blockedOp === RESOURCE_OP.send) {
      op = "send";
      to = liveOthers(r.receivers, t);
    } else if (r.kind === "channel" && t.blockedOp === RESOURCE_OP.recv) {
      op = "recv";
      to = liveOthers(r.senders, t);
    } else {
      continue;
    }
    edges.set(t, { from: t, resource: r, site: t.lastSite, op, to, since: t.blockedSince });
  }
  return edges;
}

function liveOthers(set: Set<TaskRecord>, self: TaskRecord): TaskRecord[] {
  const out: TaskRecord[] = [];
  for (const t of set) if (t !== self && isLive(t)) out.push(t);
  return out.sort((a, b) => a.index - b.index);
}

/** Tasks that can never go on: each waits only for tasks in the set (greatest fixpoint). A task
 *  with no possible helper at all is stuck too (nobody drains / fills / releases). */
export function stuckTasks(edges: Map<TaskRecord, WaitEdge>): Set<TaskRecord> {
  const stuck = new Set(edges.keys());
  for (let changed = true; changed; ) {
    changed = false;
    for (const t of stuck) {
      if (edges.get(t)!.to.some((h) => !stuck.has(h))) {
        stuck.delete(t);
        changed = true;
      }
    }
  }
  return stuck;
}

/** Cycles among stuck tasks, each as its edges in wait order, starting with the task that has
 *  been blocked longest. A task appears in at most one cycle. */
export function findDeadlocks(edges: Map<TaskRecord, WaitEdge>): WaitEdge[][] {
  const stuck = stuckTasks(edges);
  const order = [...stuck].sort((a, b) => edges.get(a)!.since - edges.get(b)!.since || a.index - b.index);
  const used = new Set<TaskRecord>();
  const cycles: WaitEdge[][] = [];
  for (const start of order) {
    if (used.has(start)) continue;
    // Walk to the earliest-blocked stuck helper until a task repeats.
    const path: TaskRecord[] = [];
    const at = new Map<TaskRecord, number>();
    let t: TaskRecord | undefined = start;
    while (t && !at.has(t) && !used.has(t)) {
      at.set(t, path.length);
      path.push(t);
      const next: TaskRecord[] = edges.get(t)!.to.filter((h) => stuck.has(h));
      next.sort((a, b) => edges.get(a)!.since - edges.get(b)!.since || a.index - b.index);
      t = next[0];
    }
    if (!t || used.has(t)) continue;
    const cycle = path.slice(at.get(t)!);
    for (const c of cycle) used.add(c);
    // Start the cycle at its longest-blocked member.
    let first = 0;
    for (let i = 1; i < cycle.length; i++) if (edges.get(cycle[i]!)!.since < edges.get(cycle[first]!)!.since) first = i;
    const rotated = [...cycle.slice(first), ...cycle.slice(0, first)];
    cycles.push(rotated.map((c) => edges.get(c)!));
  }
  return cycles;
}
