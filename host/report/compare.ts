// Before and after: two analysed traces compared per request kind (latency), await site and
// resource (wait times) and task name (poll time), with a significance test on the
// distributions, plus the concurrency of each request kind and the lints that appeared or went
// away. Pure: models in, a JSON-able comparison out (trace-report --compare renders it).
//
// The test is the two-sample Kolmogorov-Smirnov test on the histograms' buckets (both sides use
// the same bucket boundaries, 0.8 % wide, so the two distribution functions are compared exactly
// at every bucket edge). A change is reported when it is significant (p < 0.01) AND its median
// (or, with fewer than 20 values a side, its mean) moved by at least the threshold (default 10 %):
// a large sample makes tiny shifts significant, a small one makes large shifts noise.

import { Histogram } from "../model/histogram.js";
import type { TraceAnalysis } from "../model/analyze.js";
import type { Lint } from "../model/lint.js";
import { kindConcFigures } from "../model/concurrency.js";

export const COMPARE_SCHEMA = "taskscope.compare/1";
export const DEFAULT_REGRESSION_THRESHOLD = 0.1;
const ALPHA = 0.01;
const FEW = 20;

export interface Distribution {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
}

export interface Change {
  /** "request" (latency), "site" (wait at an await site, on a resource), "resource" (waits on
   *  it, every site), "task" (poll time of a task name). */
  what: "request" | "site" | "resource" | "task";
  name: string;
  base: Distribution;
  new: Distribution;
  /** Relative change of the median (of the mean with few values), new / base - 1. */
  change: number;
  /** Kolmogorov-Smirnov statistic and its p-value (asymptotic). */
  ks: number;
  p: number;
  verdict: "slower" | "faster" | "same";
}

export interface ConcurrencyChange {
  kind: string;
  base: { inFlightMax: number; inFlightMean: number; servedMax: number; servedMean: number } | null;
  new: { inFlightMax: number; inFlightMean: number; servedMax: number; servedMean: number } | null;
}

export interface Comparison {
  schema: typeof COMPARE_SCHEMA;
  base: string;
  new: string;
  threshold: number;
  /** Every compared item present on both sides; slower and faster first. */
  changes: Change[];
  /** Items on one side only. */
  onlyBase: string[];
  onlyNew: string[];
  concurrency: ConcurrencyChange[];
  /** Recorded time of each trace (its sessions' spans summed): one value a side, so not tested,
   *  but the whole run's latency when the trace is one job (a pipeline over a batch of items). */
  duration: { base: number; new: number; change: number };
  lints: { appeared: LintKey[]; gone: LintKey[] };
  regressions: number;
}

export interface LintKey {
  kind: string;
  severity: string;
  title: string;
}

/** Named distributions of one trace, keyed "what\0name". */
function distributions(a: TraceAnalysis): Map<string, Histogram> {
  const m = a.model;
  const out = new Map<string, Histogram>();
  const add = (what: Change["what"], name: string, h: Histogram) => {
    const key = `${what}\u0000${name}`;
    let into = out.get(key);
    if (!into) out.set(key, (into = new Histogram()));
    into.merge(h);
  };
  for (const k of m.flows.kinds) add("request", k.name, k.latency);
  // (A resource waited on at one site only is that site's line already.)
  const sitesOf = new Map<string, number>();
  for (const w of m.concurrency.siteWaits) if (w.resource !== 0) sitesOf.set(`${w.session}/${w.resource}`, (sitesOf.get(`${w.session}/${w.resource}`) ?? 0) + 1);
  for (const w of m.concurrency.siteWaits) {
    const site = m.nameIn(w.session, w.site) ?? `site#${w.site}`;
    const res = w.resource === 0 ? undefined : (m.resource(w.session, w.resource)?.name ?? `resource ${w.resource}`);
    add("site", res ? `'${site}' on ${res}` : `'${site}'`, w.waits);
    if (res && (sitesOf.get(`${w.session}/${w.resource}`) ?? 0) > 1) add("resource", res, w.waits);
  }
  for (const g of m.groups.list) add("task", g.name, g.pollTime);
  for (const t of m.tasks) if (t.end === undefined || t.end === "alive") add("task", t.name, t.pollTime);
  return out;
}

function summary(h: Histogram): Distribution {
  return { count: h.count, mean: h.mean, p50: h.quantile(0.5), p90: h.quantile(0.9), p99: h.quantile(0.99) };
}

/** Two-sample Kolmogorov-Smirnov over bucketed values: the statistic and its asymptotic p. */
export function ksTest(a: Histogram, b: Histogram): { d: number; p: number } {
  const n = a.count;
  const m = b.count;
  if (n === 0 || m === 0) return { d: 0, p: 1 };
  const xa = a.bucketed();
  const xb = b.bucketed();
  let i = 0;
  let j = 0;
  let ca = 0;
  let cb = 0;
  let d = 0;
  while (i < xa.length || j < xb.length) {
    const ka = i < xa.length ? xa[i]![0] : Infinity;
    const kb = j < xb.length ? xb[j]![0] : Infinity;
    const k = Math.min(ka, kb);
    if (ka === k) ca += xa[i++]![1];
    if (kb === k) cb += xb[j++]![1];
    d = Math.max(d, Math.abs(ca / n - cb / m));
  }
  const en = Math.sqrt((n * m) / (n + m));
  return { d, p: ksProbability((en + 0.12 + 0.11 / en) * d) };
}

/** Q_KS(lambda) = 2 sum (-1)^(k-1) exp(-2 k^2 lambda^2) (Numerical Recipes' form). */
function ksProbability(lambda: number): number {
  if (lambda < 0.2) return 1;
  let sum = 0;
  let sign = 1;
  for (let k = 1; k <= 100; k++) {
    const term = sign * Math.exp(-2 * k * k * lambda * lambda);
    sum += term;
    if (Math.abs(term) < 1e-10) break;
    sign = -sign;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}

function lintKey(l: Lint): string {
  return `${l.kind}\u0000${l.session}\u0000${l.tasks.map((t) => t.name).join(",")}\u0000${l.site ?? ""}\u0000${l.resource ?? ""}`;
}

export function compareAnalyses(base: TraceAnalysis, next: TraceAnalysis, threshold = DEFAULT_REGRESSION_THRESHOLD): Comparison {
  const a = distributions(base);
  const b = distributions(next);
  const changes: Change[] = [];
  const label = (key: string) => key.replace("\u0000", " ");
  for (const [key, ha] of a) {
    const hb = b.get(key);
    if (!hb || ha.count === 0 || hb.count === 0) continue;
    const [what, name] = key.split("\u0000") as [Change["what"], string];
    const few = ha.count < FEW || hb.count < FEW;
    const from = few ? ha.mean : ha.quantile(0.5);
    const to = few ? hb.mean : hb.quantile(0.5);
    const change = from > 0 ? to / from - 1 : to > 0 ? Infinity : 0;
    const { d, p } = ksTest(ha, hb);
    const verdict = p < ALPHA && Math.abs(change) >= threshold ? (change > 0 ? "slower" : "faster") : "same";
    changes.push({ what, name, base: summary(ha), new: summary(hb), change, ks: d, p, verdict });
  }
  const rank = { slower: 0, faster: 1, same: 2 };
  changes.sort((x, y) => rank[x.verdict] - rank[y.verdict] || Math.abs(y.change) - Math.abs(x.change));

  const conc = (an: TraceAnalysis) => {
    const out = new Map<string, ConcurrencyChange["base"]>();
    for (const k of an.model.flows.kinds) {
      if (!k.conc) continue;
      const end = an.model.span(k.session)?.lastT ?? 0;
      const f = kindConcFigures(k.conc, end);
      out.set(k.name, { inFlightMax: f.inFlight.max, inFlightMean: f.inFlight.mean, servedMax: f.served.max, servedMean: f.served.mean });
    }
    return out;
  };
  const ca = conc(base);
  const cb = conc(next);
  const kinds = [...new Set([...ca.keys(), ...cb.keys()])];

  const recorded = (an: TraceAnalysis) => an.model.sessions.reduce((ns, s) => ns + (s.lastT - s.firstT), 0);
  const [da, db] = [recorded(base), recorded(next)];

  const la = new Map(base.lints.map((l) => [lintKey(l), l]));
  const lb = new Map(next.lints.map((l) => [lintKey(l), l]));
  const brief = (l: Lint): LintKey => ({ kind: l.kind, severity: l.severity, title: l.title });

  return {
    schema: COMPARE_SCHEMA,
    base: base.path,
    new: next.path,
    threshold,
    changes,
    onlyBase: [...a.keys()].filter((k) => !b.has(k)).map(label),
    onlyNew: [...b.keys()].filter((k) => !a.has(k)).map(label),
    concurrency: kinds.map((kind) => ({ kind, base: ca.get(kind) ?? null, new: cb.get(kind) ?? null })),
    duration: { base: da, new: db, change: da > 0 ? db / da - 1 : 0 },
    lints: {
      appeared: [...lb].filter(([k]) => !la.has(k)).map(([, l]) => brief(l)),
      gone: [...la].filter(([k]) => !lb.has(k)).map(([, l]) => brief(l)),
    },
    regressions: changes.filter((c) => c.verdict === "slower").length,
  };
}
