// Human-readable figures for reports: durations from ns, counts with separators, percentages.

export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns)) return "-";
  const abs = Math.abs(ns);
  if (abs < 1e3) return `${Math.round(ns)}ns`;
  if (abs < 1e6) return `${trim(ns / 1e3)}µs`;
  if (abs < 1e9) return `${trim(ns / 1e6)}ms`;
  return `${trim(ns / 1e9)}s`;
}

/** Three significant digits, no trailing zeros: 1.5, 12.3, 123. */
function trim(x: number): string {
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2;
  return String(Number(x.toFixed(digits)));
}

export function formatCount(n: number): string {
  return n.toLocaleString("en-US");
}

export function formatPercent(part: number, whole: number): string {
  if (whole <= 0) return "-";
  return `${((100 * part) / whole).toFixed(1)}%`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
