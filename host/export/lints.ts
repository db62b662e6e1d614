// Lints (host/model/lint.ts) placed on what the exporters emit: each lint goes to the task
// incarnations it names that are alive at lint.atNs, and what no task takes (a lint about the
// session, about a task never seen, or timed outside every incarnation of the tasks it names)
// goes to the session. Nothing is dropped, and each lint is counted once however many tasks it
// names.

import type { Lint } from "../model/lint.js";

export class LintIndex {
  /** session -> task id -> lints naming it not yet due, by atNs. */
  private readonly byTask = new Map<number, Map<number, Lint[]>>();
  /** session -> every lint, by atNs (for timelines that walk time, like Perfetto's). */
  private readonly ordered = new Map<number, Lint[]>();
  /** Lints some task took: the session gets only those no task took. */
  private readonly taken = new Set<Lint>();

  constructor(lints: readonly Lint[]) {
    const byTime = [...lints].sort((p, q) => p.atNs - q.atNs);
    for (const lint of byTime) {
      push(this.ordered, lint.session, lint);
      if (lint.tasks.length === 0) continue; // the session's
      let tasks = this.byTask.get(lint.session);
      if (!tasks) this.byTask.set(lint.session, (tasks = new Map()));
      for (const id of new Set(lint.tasks.map((t) => t.id))) {
        const list = tasks.get(id);
        if (list) list.push(lint);
        else tasks.set(id, [lint]);
      }
    }
  }

  get empty(): boolean {
    return this.ordered.size === 0;
  }

  /** Lints placed so far (each once). */
  get placed(): number {
    return this.taken.size;
  }

  /** Takes the lints for the incarnation of task `id` alive from `fromNs` to `untilNs` (its
   *  start and end): those timed within. Lints for this id timed before `fromNs` were between
   *  incarnations: they stay for the session. */
  takeForTask(session: number, id: number, fromNs: number, untilNs: number): Lint[] {
    const list = this.byTask.get(session)?.get(id);
    if (!list || list.length === 0) return [];
    let n = 0;
    while (n < list.length && list[n]!.atNs <= untilNs) n++;
    if (n === 0) return [];
    const due = list.splice(0, n);
    const out: Lint[] = [];
    for (const lint of due) {
      if (lint.atNs >= fromNs) {
        out.push(lint);
        this.taken.add(lint);
      }
    }
    return out;
  }

  /** What is left for the session once its tasks have ended: session lints, and task lints no
   *  incarnation took. Each lint once, by time. */
  takeForSession(session: number): Lint[] {
    const left = new Set<Lint>();
    for (const lint of this.ordered.get(session) ?? []) if (!this.taken.has(lint)) left.add(lint);
    this.byTask.delete(session);
    for (const lint of left) this.taken.add(lint);
    return [...left];
  }

  /** All lints of a session in time order. */
  inOrder(session: number): readonly Lint[] {
    return this.ordered.get(session) ?? [];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
