// Lints (host/model/lint.ts) placed on what the exporters emit: each lint goes to the task
// incarnations it names (the one alive at lint.atNs, or the next one after it), and what no task
// takes (a lint about the session, about a task never seen, or timed after the task's end) goes
// to the session. Nothing is dropped.

import type { Lint } from "../model/lint.js";

export class LintIndex {
  /** session -> task id -> lints naming it, by atNs. */
  private readonly byTask = new Map<number, Map<number, Lint[]>>();
  /** session -> lints not (or no longer) waiting for a task, by atNs. */
  private readonly bySession = new Map<number, Lint[]>();
  /** session -> every lint, by atNs (for timelines that walk time, like Perfetto's). */
  private readonly ordered = new Map<number, Lint[]>();
  /** Lints some task took: the session gets only those no task took. */
  private readonly taken = new Set<Lint>();

  constructor(lints: readonly Lint[]) {
    const byTime = [...lints].sort((p, q) => p.atNs - q.atNs);
    for (const lint of byTime) {
      push(this.ordered, lint.session, lint);
      if (lint.tasks.length === 0) {
        push(this.bySession, lint.session, lint);
        continue;
      }
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

  /** Takes the lints for task `id` of `session` timed up to `untilNs` (the task's end). */
  takeForTask(session: number, id: number, untilNs: number): Lint[] {
    const list = this.byTask.get(session)?.get(id);
    if (!list || list.length === 0) return [];
    let n = 0;
    while (n < list.length && list[n]!.atNs <= untilNs) n++;
    if (n === 0) return [];
    const due = list.splice(0, n);
    for (const lint of due) this.taken.add(lint);
    return due;
  }

  /** What is left for the session once its tasks have ended: session lints, and task lints no
   *  incarnation took. Each lint once. */
  takeForSession(session: number): Lint[] {
    const left = new Set<Lint>(this.bySession.get(session) ?? []);
    for (const list of this.byTask.get(session)?.values() ?? []) {
      for (const lint of list) if (!this.taken.has(lint)) left.add(lint);
    }
    this.bySession.delete(session);
    this.byTask.delete(session);
    return [...left].sort((p, q) => p.atNs - q.atNs);
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
