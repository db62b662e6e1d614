// trace-report --compare --html: the comparison (compare.ts) as one self-contained page, in the
// single-trace report's style (its stylesheet, html-client.ts), with nothing loaded from the
// network. Rendered here, on the host: the page needs no script to show it. It lists what got
// slower or faster (each with its distributions drawn side by side: p50 to p99 on one scale per
// row), everything else compared, the items on one side only, the concurrency per request kind,
// the recorded time, and the lints that appeared or went away. The comparison itself is embedded
// as JSON (<script id="compare-data">) for tools.
//
// State the tests read: body[data-ready], #verdict[data-regressions], rows tr.change with
// data-verdict, data-what and data-name; #only-base li and #only-new li; #lints-gone li and
// #lints-new li.

import type { Change, Comparison, Distribution } from "./compare.js";
import { pct } from "./compare-text.js";
import { CLIENT_CSS } from "./html-client.js";
import { esc, pageHead, scriptJson } from "./html-report.js";
import { formatDuration } from "./units.js";

const WHAT: Record<Change["what"], string> = { request: "request", site: "wait at", resource: "waits on", task: "polls of" };

const CSS = String.raw`
.verdict { font-size: 15px; margin: 8px 0; }
.verdict.bad { color: var(--err); font-weight: 600; }
.change.slower td.v { color: var(--err); font-weight: 600; }
.change.faster td.v { color: #2e7d32; font-weight: 600; }
td.name { max-width: 520px; overflow: hidden; text-overflow: ellipsis; }
svg.dist { display: block; }
svg.dist .base { stroke: #8d97aa; } svg.dist .new { stroke: #2f6db5; } svg.dist .slower { stroke: var(--err); }
svg.dist line { stroke-width: 4; } svg.dist circle.base { fill: #8d97aa; stroke: none; } svg.dist circle.new { fill: #2f6db5; stroke: none; }
svg.dist circle.slower { fill: var(--err); stroke: none; }
ul.items { margin: 4px 0; padding-left: 22px; font-size: 13px; }
.lint-gone { color: #2e7d32; } .lint-new { color: var(--err); }
`;

export function renderCompareHtml(c: Comparison): string {
  const json = scriptJson(c);
  const moved = c.changes.filter((x) => x.verdict !== "same");
  const same = c.changes.filter((x) => x.verdict === "same");
  const title = `taskscope comparison: ${c.base} → ${c.new}`;
  const verdict =
    (moved.length === 0 ? `no significant change (${c.changes.length} distributions compared)` : `${moved.length} significant change(s) of ${c.changes.length} compared`) +
    ` · ${c.regressions > 0 ? `${c.regressions} regression(s)` : "no regression"}`;
  const conc = c.concurrency.filter((k) => k.base || k.new);
  return `${pageHead(title, CLIENT_CSS + CSS)}
<body data-ready="1">
<header>
<h1>${esc(title)}</h1>
<div class="meta">base ${esc(c.base)} · new ${esc(c.new)} · a change is significant at p&lt;0.01 (Kolmogorov-Smirnov) and at least ${Math.round(c.threshold * 100)}% on the median (the mean with fewer than 20 values a side)</div>
<div id="verdict" class="verdict${c.regressions > 0 ? " bad" : ""}" data-regressions="${c.regressions}">${esc(verdict)}</div>
<div id="duration" class="meta">recorded ${esc(formatDuration(c.duration.base))} → ${esc(formatDuration(c.duration.new))} (${esc(pct(c.duration.change))}; one value a side, not tested)</div>
</header>
<section id="changes-section"><h2>What changed</h2>
${moved.length === 0 ? `<p class="note" id="no-change">No significant change.</p>` : changeTable("changes", moved)}
</section>
<section id="sides-section"><h2>On one side only</h2>
${sideList("only-base", "only in base (went away)", c.onlyBase)}
${sideList("only-new", "only in new (appeared)", c.onlyNew)}
</section>
<section id="concurrency-section"><h2>Requests at once</h2>
${conc.length === 0 ? `<p class="note">No requests in either trace.</p>` : concurrencyTable(conc)}
</section>
<section id="lints-section"><h2>Lints</h2>
${lintList("lints-gone", "lint-gone", "went away", c.lints.gone)}
${lintList("lints-new", "lint-new", "appeared", c.lints.appeared)}
</section>
<section id="same-section"><h2>Unchanged</h2>
${same.length === 0 ? `<p class="note">Nothing else was compared.</p>` : `<details><summary>${same.length} distribution(s) compared with no significant change</summary>${changeTable("same", same)}</details>`}
</section>
<script id="compare-data" type="application/json">${json}</script>
</body>
</html>
`;
}

function changeTable(id: string, changes: Change[]): string {
  const head = `<tr><th class="l">verdict</th><th class="l">what</th><th class="l">name</th><th>median (mean)</th><th>change</th><th>p99</th><th>n</th><th>KS</th><th>p</th><th class="l">p50–p99, base (grey) and new</th></tr>`;
  const rows = changes.map((c) => {
    const few = c.base.count < 20 || c.new.count < 20;
    const from = few ? c.base.mean : c.base.p50;
    const to = few ? c.new.mean : c.new.p50;
    const p = c.p < 0.001 ? "<0.001" : c.p.toFixed(3);
    return (
      `<tr class="change ${c.verdict}" data-verdict="${c.verdict}" data-what="${c.what}" data-name="${esc(c.name)}">` +
      `<td class="l v">${c.verdict === "slower" ? "SLOWER" : c.verdict}</td><td class="l">${WHAT[c.what]}</td><td class="l name" title="${esc(c.name)}">${esc(c.name)}</td>` +
      `<td>${few ? "mean " : ""}${esc(formatDuration(from))} → ${esc(formatDuration(to))}</td><td>${esc(pct(c.change))}</td>` +
      `<td>${esc(formatDuration(c.base.p99))} → ${esc(formatDuration(c.new.p99))}</td><td>${c.base.count} → ${c.new.count}</td>` +
      `<td>${c.ks.toFixed(2)}</td><td>${p}</td><td class="l">${distSvg(c.base, c.new, c.verdict === "slower")}</td></tr>`
    );
  });
  return `<table id="${id}"><thead>${head}</thead><tbody>${rows.join("")}</tbody></table>`;
}

/** Base and new, each a bar from p50 to p99 with a dot at p50, on one scale (0 to the larger p99). */
function distSvg(a: Distribution, b: Distribution, slower: boolean): string {
  const W = 180;
  const max = Math.max(a.p99, b.p99, 1);
  const x = (v: number) => (4 + (v / max) * (W - 8)).toFixed(1);
  const bar = (d: Distribution, y: number, cls: string) =>
    `<line class="${cls}" x1="${x(d.p50)}" x2="${x(d.p99)}" y1="${y}" y2="${y}"/><circle class="${cls}" cx="${x(d.p50)}" cy="${y}" r="3.5"/>`;
  return `<svg class="dist" width="${W}" height="20" viewBox="0 0 ${W} 20">${bar(a, 6, "base")}${bar(b, 14, slower ? "slower" : "new")}</svg>`;
}

function sideList(id: string, label: string, items: string[]): string {
  if (items.length === 0) return `<p class="note" id="${id}">${esc(label)}: none</p>`;
  return `<div>${esc(label)}:</div><ul class="items" id="${id}">${items.map((x) => `<li>${esc(x)}</li>`).join("")}</ul>`;
}

function concurrencyTable(kinds: Comparison["concurrency"]): string {
  const fig = (f: Comparison["concurrency"][number]["base"], key: "servedMax" | "inFlightMax", mean: "servedMean" | "inFlightMean") =>
    f ? `${f[key]} / ${f[mean].toFixed(1)}` : "-";
  const rows = kinds.map(
    (k) =>
      `<tr data-kind="${esc(k.kind)}"><td class="l">${esc(k.kind)}</td><td>${fig(k.base, "servedMax", "servedMean")} → ${fig(k.new, "servedMax", "servedMean")}</td>` +
      `<td>${fig(k.base, "inFlightMax", "inFlightMean")} → ${fig(k.new, "inFlightMax", "inFlightMean")}</td></tr>`,
  );
  return `<table id="concurrency"><thead><tr><th class="l">request kind</th><th>worked on at once (max / mean)</th><th>in flight (max / mean)</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function lintList(id: string, cls: string, label: string, lints: Comparison["lints"]["gone"]): string {
  if (lints.length === 0) return `<p class="note" id="${id}">${esc(label)}: none</p>`;
  return `<div>${esc(label)}:</div><ul class="items ${cls}" id="${id}">${lints.map((l) => `<li data-kind="${esc(l.kind)}"><span class="sev">${esc(l.severity)}</span>${esc(l.title)}</li>`).join("")}</ul>`;
}
