// The waits-for graph between tasks, through resources: a task parked on a full channel waits
// for the tasks that receive from it, one parked on an empty channel for the tasks that send to
// it, one parked on a mutex for its holder. A task stuck for good is one whose every possible
// helper is itself stuck; a deadlock is a strongly connected group of such tasks (every member
// waits, directly or not, on every other), reported whole: two workers draining one channel are
// both in it, not one in the deadlock and the other left over.

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
  const tasks = model.tasks.filter((t) => t.session === session);
  const byIndex = new Map(tasks.map((t) => [t.index, t]));
  for (const t of tasks) {
    if (t.session !== session || t.state !== "parked" || t.blockedRes === 0) continue;
    if (t.lastResource !== t.blockedRes) continue; // blocked once, but parked on something else now
    const r = model.resource(session, t.blockedRes);
    if (!r) continue;
    let op: WaitEdge["op"];
    let to: TaskRecord[];
    if (r.kind === "mutex" && t.blockedOp === RESOURCE_OP.acquire) {
      op = "acquire";
      const holder = r.holder ? byIndex.get(r.holder.index) : undefined;
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

function liveOthers(set: Iterable<TaskRecord>, self: TaskRecord): TaskRecord[] {
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

/** Deadlocks: strongly connected groups (two or more tasks, or one waiting on itself) of the
 *  graph among stuck tasks, each as its members' edges, the longest-blocked first, then in wait
 *  order. Stuck tasks outside every group only wait on one (they are "blocked behind" it). */
export function findDeadlocks(edges: Map<TaskRecord, WaitEdge>): WaitEdge[][] {
  const stuck = stuckTasks(edges);
  const order = [...stuck].sort((a, b) => edges.get(a)!.since - edges.get(b)!.since || a.index - b.index);
  const helpers = (t: TaskRecord) => edges.get(t)!.to.filter((h) => stuck.has(h));
  // Tarjan's algorithm, iterative (a deadlock may involve many tasks).
  const index = new Map<TaskRecord, number>();
  const low = new Map<TaskRecord, number>();
  const onStack = new Set<TaskRecord>();
  const stack: TaskRecord[] = [];
  const groups: TaskRecord[][] = [];
  let next = 0;
  for (const root of order) {
    if (index.has(root)) continue;
    const work: { t: TaskRecord; i: number; next: TaskRecord[] }[] = [];
    const visit = (t: TaskRecord) => {
      index.set(t, next);
      low.set(t, next++);
      stack.push(t);
      onStack.add(t);
      work.push({ t, i: 0, next: helpers(t) });
    };
    visit(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.next.length) {
        const h = top.next[top.i++]!;
        if (!index.has(h)) visit(h);
        else if (onStack.has(h)) low.set(top.t, Math.min(low.get(top.t)!, index.get(h)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.t;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.t)!));
      }
      if (low.get(top.t) === index.get(top.t)) {
        const group: TaskRecord[] = [];
        let m: TaskRecord;
        do {
          m = stack.pop()!;
          onStack.delete(m);
          group.push(m);
        } while (m !== top.t);
        const selfLoop = group.length === 1 && helpers(group[0]!).includes(group[0]!);
        if (group.length > 1 || selfLoop) groups.push(group);
      }
    }
  }
  return groups
    .map((group) => {
      const members = new Set(group);
      // Wait order: from the longest-blocked member, follow the earliest-blocked helper inside
      // the group; members the walk misses follow by blocked time.
      const sorted = [...group].sort((a, b) => edges.get(a)!.since - edges.get(b)!.since || a.index - b.index);
      const walk: TaskRecord[] = [];
      const seen = new Set<TaskRecord>();
      for (let t: TaskRecord | undefined = sorted[0]; t && !seen.has(t); ) {
        seen.add(t);
        walk.push(t);
        t = helpers(t)
          .filter((h) => members.has(h) && !seen.has(h))
          .sort((a, b) => edges.get(a)!.since - edges.get(b)!.since || a.index - b.index)[0];
      }
      for (const t of sorted) if (!seen.has(t)) walk.push(t);
      return walk.map((t) => edges.get(t)!);
    })
    .sort((a, b) => a[0]!.since - b[0]!.since);
}
