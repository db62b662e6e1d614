// Task filters for reports (trace-report --task): a task is kept if any pattern matches its
// name (with * for any run of characters) or, for a pattern of digits, its id.
//
// Matching is linear in the name's length whatever the pattern: a glob of literal pieces joined
// by * matches when the first piece is a prefix, the last a suffix, and the middle pieces occur
// in order between them; taking each middle piece at its leftmost place never loses a match.
// (A regular expression built from the glob backtracks: 25 stars took 29 s.)

export interface TaskFilter {
  patterns: string[];
  /** Each pattern split at its stars (["a", "b"] for "a*b"; one piece means no star). */
  pieces: string[][];
}

export function parseTaskFilter(patterns: readonly string[]): TaskFilter | undefined {
  const kept = patterns.map((p) => p.trim()).filter((p) => p !== "");
  if (kept.length === 0) return undefined;
  return { patterns: kept, pieces: kept.map((p) => p.split("*")) };
}

export function matchesTaskFilter(filter: TaskFilter | undefined, task: { id: number; name: string }): boolean {
  if (!filter) return true;
  for (let i = 0; i < filter.patterns.length; i++) {
    if (matchesPattern(filter, i, task)) return true;
  }
  return false;
}

/** Whether pattern `index` of the filter matches the task. */
export function matchesPattern(filter: TaskFilter, index: number, task: { id: number; name: string }): boolean {
  const p = filter.patterns[index]!;
  if (/^\d+$/.test(p) && Number(p) === task.id) return true;
  return globMatch(filter.pieces[index]!, task.name);
}

/** `pieces` is a glob split at its stars. */
export function globMatch(pieces: readonly string[], text: string): boolean {
  if (pieces.length === 1) return text === pieces[0];
  const first = pieces[0]!;
  const last = pieces[pieces.length - 1]!;
  if (first.length + last.length > text.length || !text.startsWith(first) || !text.endsWith(last)) return false;
  let at = first.length;
  const end = text.length - last.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i]!;
    if (piece === "") continue;
    const found = text.indexOf(piece, at);
    if (found < 0 || found + piece.length > end) return false;
    at = found + piece.length;
  }
  return true;
}
