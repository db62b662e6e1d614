// trace-report --compare as text: what got slower or faster (significant changes only), the
// concurrency of each request kind, and the lints that appeared or went away.

import { formatDuration } from "./units.js";
import type { Change, Comparison } from "./compare.js";

const WHAT: Record<Change["what"], string> = { request: "request", site: "wait at", resource: "waits on", task: "polls of" };

export function pct(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? "+" : ""}${Math.round(x * 100)}%` : "new";
}

function changeLine(c: Change): string {
  const few = c.base.count < 20 || c.new.count < 20;
  const stat = few ? "mean" : "p50";
  const from = few ? c.base.mean : c.base.p50;
  const to = few ? c.new.mean : c.new.p50;
  const p = c.p < 0.001 ? "p<0.001" : `p=${c.p.toFixed(3)}`;
  return `  ${c.verdict === "slower" ? "SLOWER" : "faster"} ${WHAT[c.what]} ${c.what === "request" ? `'${c.name}'` : c.name}: ${stat} ${formatDuration(from)} -> ${formatDuration(to)} (${pct(c.change)}), p99 ${formatDuration(c.base.p99)} -> ${formatDuration(c.new.p99)}, n ${c.base.count} -> ${c.new.count} (KS ${c.ks.toFixed(2)}, ${p})`;
}

export function compareText(c: Comparison): string {
  const out: string[] = [`compare ${c.base} -> ${c.new} (a change is significant at p<0.01 and at least ${Math.round(c.threshold * 100)}% on the median):`];
  out.push(`  recorded ${formatDuration(c.duration.base)} -> ${formatDuration(c.duration.new)} (${pct(c.duration.change)}; one value a side, not tested)`);
  const moved = c.changes.filter((x) => x.verdict !== "same");
  if (moved.length === 0) out.push(`  no significant change (${c.changes.length} distributions compared)`);
  else out.push(...moved.map(changeLine), `  (${c.changes.length - moved.length} more compared, unchanged)`);
  if (c.onlyBase.length > 0) out.push(`  only in base: ${c.onlyBase.slice(0, 8).join(", ")}${c.onlyBase.length > 8 ? ", ..." : ""}`);
  if (c.onlyNew.length > 0) out.push(`  only in new: ${c.onlyNew.slice(0, 8).join(", ")}${c.onlyNew.length > 8 ? ", ..." : ""}`);
  const conc = c.concurrency.filter((k) => k.base && k.new && (k.base.servedMax !== k.new.servedMax || Math.abs(k.base.servedMean - k.new.servedMean) >= 0.5));
  if (conc.length > 0) {
    out.push("concurrency (requests being worked on at once, max/mean):");
    for (const k of conc) out.push(`  '${k.kind}': ${k.base!.servedMax}/${k.base!.servedMean.toFixed(1)} -> ${k.new!.servedMax}/${k.new!.servedMean.toFixed(1)} (in flight ${k.base!.inFlightMax}/${k.base!.inFlightMean.toFixed(1)} -> ${k.new!.inFlightMax}/${k.new!.inFlightMean.toFixed(1)})`);
  }
  if (c.lints.appeared.length > 0 || c.lints.gone.length > 0) {
    out.push("lints:");
    for (const l of c.lints.gone) out.push(`  gone: ${l.severity} ${l.title}`);
    for (const l of c.lints.appeared) out.push(`  new: ${l.severity} ${l.title}`);
  }
  out.push(c.regressions > 0 ? `${c.regressions} regression(s)` : "no regression");
  return out.join("\n") + "\n";
}
