// One bench figure: a value beside a baseline measured in the same run, their ratio, and the
// target it is held to. Every bench section returns a list of these; run.ts prints them.

export interface Figure {
  id: string;
  what: string;
  value: number;
  unit: string;
  baseline?: { what: string; value: number };
  /** value / baseline value */
  ratio?: number;
  /** Held to this value, or (`on: "ratio"`) to this ratio to the baseline. */
  target?: { op: "<=" | ">="; value: number; on?: "ratio" };
  met?: boolean;
}

export function figure(f: Omit<Figure, "ratio" | "met">): Figure {
  const ratio = f.baseline ? f.value / f.baseline.value : undefined;
  let met: boolean | undefined;
  if (f.target) {
    const x = f.target.on === "ratio" ? ratio : f.value;
    met = x !== undefined && Number.isFinite(x) && (f.target.op === "<=" ? x <= f.target.value : x >= f.target.value);
  }
  return { ...f, ...(ratio === undefined ? {} : { ratio }), ...(met === undefined ? {} : { met }) };
}

export function formatValue(x: number, unit: string): string {
  if (unit === "events/s") return `${(x / 1e6).toFixed(2)} M/s`;
  if (unit === "%") return `${x.toFixed(1)} %`;
  if (unit === "x") return `${x.toFixed(2)}x`;
  if (unit === "s") return `${x.toFixed(2)} s`;
  if (unit === "MiB") return `${x.toFixed(0)} MiB`;
  return `${x.toFixed(2)} ${unit}`;
}

export function formatTarget(f: Figure): string {
  if (!f.target) return "";
  return f.target.on === "ratio" ? `ratio ${f.target.op} ${f.target.value}x` : `${f.target.op} ${formatValue(f.target.value, f.unit)}`;
}

/** Seconds of the fastest of `runs` calls. */
export async function bestOf(runs: number, fn: () => unknown): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    best = Math.min(best, performance.now() - start);
  }
  return best / 1000;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
