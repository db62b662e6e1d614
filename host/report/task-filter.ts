// Task filters for reports (trace-report --task): a task is kept if any pattern matches its
// name (with * for any run of characters) or, for a pattern of digits, its id.

export interface TaskFilter {
  patterns: string[];
  regexes: RegExp[];
}

export function parseTaskFilter(patterns: readonly string[]): TaskFilter | undefined {
  const kept = patterns.map((p) => p.trim()).filter((p) => p !== "");
  if (kept.length === 0) return undefined;
  const regexes = kept.map((p) => new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`));
  return { patterns: kept, regexes };
}

export function matchesTaskFilter(filter: TaskFilter | undefined, task: { id: number; name: string }): boolean {
  if (!filter) return true;
  for (let i = 0; i < filter.patterns.length; i++) {
    const p = filter.patterns[i]!;
    if (/^\d+$/.test(p) && Number(p) === task.id) return true;
    if (filter.regexes[i]!.test(task.name)) return true;
  }
  return false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}
