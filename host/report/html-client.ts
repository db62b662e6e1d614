// The HTML report's own stylesheet and script, inlined into the page (no network). The script
// reads the JSON in <script id="report-data"> and draws the timeline on a canvas. Plain ES2017
// with no dependencies; written without template literals so it can live in this string.
// State the tests read: #timeline has data-view-start / data-view-end (ns from the session's
// first event) and data-selected-lint; lane labels are .lane elements (.hl when highlighted).

export const CLIENT_CSS = String.raw`
:root { --fg: #1d2330; --muted: #5c6475; --line: #d9dde5; --err: #c62828; --warn: #b26a00; --info: #2f6db5; }
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; padding: 0 20px 40px; }
h1 { font-size: 18px; margin: 16px 0 4px; word-break: break-all; }
h2 { font-size: 16px; margin: 22px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.meta, .note, .help, .legend { color: var(--muted); font-size: 13px; }
.note { margin: 4px 0 8px; }
#lints { padding-left: 28px; margin: 0; }
.lint { margin: 0 0 8px; padding: 6px 8px; border-left: 4px solid var(--line); cursor: pointer; border-radius: 3px; }
.lint:hover, .lint:focus { background: #f4f6fa; outline: none; }
.lint.selected { background: #fff7dd; }
.lint.sev-error { border-left-color: var(--err); }
.lint.sev-warning { border-left-color: var(--warn); }
.lint.sev-info { border-left-color: var(--info); }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11px; margin-right: 6px; }
.sev-error .sev { color: var(--err); } .sev-warning .sev { color: var(--warn); } .sev-info .sev { color: var(--info); }
.lint .when, .lint .hint { color: var(--muted); font-size: 13px; }
.lint details { font-size: 12px; color: var(--muted); }
.lint details table td { padding: 0 8px 0 0; }
.controls { display: flex; gap: 12px; align-items: center; margin-bottom: 4px; flex-wrap: wrap; }
#range { font-variant-numeric: tabular-nums; color: var(--muted); font-size: 13px; }
#timeline { border: 1px solid var(--line); }
#axis-row, #lanes-wrap { display: flex; }
#lanes-wrap { max-height: 70vh; overflow-y: auto; overflow-x: hidden; }
.gutter, #labels { width: 220px; flex: none; }
#labels { border-right: 1px solid var(--line); }
.lane { height: 18px; line-height: 18px; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-right: 4px; cursor: pointer; }
.lane:nth-child(even) { background: #fafbfd; }
.lane.hl { background: #ffe9a8; font-weight: 600; }
.lane .st { color: var(--muted); font-size: 11px; }
canvas { display: block; }
#axis, #lanes { flex: 1 1 auto; min-width: 0; cursor: grab; }
#tooltip { position: fixed; pointer-events: none; background: #1d2330; color: #fff; font-size: 12px; padding: 4px 7px; border-radius: 3px; max-width: 420px; z-index: 10; }
.legend { margin-top: 6px; }
.sw { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 12px; vertical-align: middle; }
.sw.poll { background: #2f6db5; } .sw.long { background: #c62828; } .sw.runnable { background: #f0b429; }
.sw.parked { background: #c3c8d2; } .sw.wake { background: #2e9e5b; } .sw.agg { background: repeating-linear-gradient(45deg, #eef0f4, #eef0f4 3px, #fff 3px, #fff 6px); }
table { border-collapse: collapse; font-size: 12.5px; font-variant-numeric: tabular-nums; }
th, td { padding: 2px 8px; text-align: right; border-bottom: 1px solid #eef0f4; white-space: nowrap; }
th { position: sticky; top: 0; background: #fff; cursor: pointer; }
td.l, th.l { text-align: left; }
#tasks tbody tr { cursor: pointer; }
#tasks tbody tr:hover { background: #f4f6fa; }
`;

export const CLIENT_JS = String.raw`
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var report = data.report;
  var LANE_H = 18;
  var MIN_SPAN = 1000;
  var st = { tl: null, v0: 0, v1: 1, hl: {}, lint: -1, mark: null };
  var timelineEl = document.getElementById("timeline");
  var labels = document.getElementById("labels");
  var lanesCanvas = document.getElementById("lanes");
  var axisCanvas = document.getElementById("axis");
  var wrap = document.getElementById("lanes-wrap");
  var tip = document.getElementById("tooltip");

  function trim(x) { var d = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2; return String(Number(x.toFixed(d))); }
  function fmt(ns) {
    if (ns === null || ns === undefined || !isFinite(ns)) return "-";
    var a = Math.abs(ns);
    if (a < 1e3) return Math.round(ns) + "ns";
    if (a < 1e6) return trim(ns / 1e3) + "\u00b5s";
    if (a < 1e9) return trim(ns / 1e6) + "ms";
    return trim(ns / 1e9) + "s";
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function timelineOf(session) {
    for (var i = 0; i < data.timelines.length; i++) if (data.timelines[i].session === session) return data.timelines[i];
    return null;
  }
  function sessionStart(session) {
    for (var i = 0; i < data.sessions.length; i++) if (data.sessions[i].index === session) return data.sessions[i].firstNs;
    return 0;
  }

  // ---- lints ----
  function renderLints() {
    var ol = document.getElementById("lints");
    if (report.lints.length === 0) {
      ol.replaceWith(el("p", "note", "No lints: nothing in this trace crossed a threshold."));
      return;
    }
    report.lints.forEach(function (l, i) {
      var li = el("li", "lint sev-" + l.severity);
      li.setAttribute("data-lint", String(i));
      li.tabIndex = 0;
      var head = el("div");
      head.appendChild(el("span", "sev", l.severity));
      head.appendChild(el("span", "title", l.title));
      li.appendChild(head);
      var f = sessionStart(l.session);
      var when = "at " + fmt(l.atNs - f) + (l.untilNs !== undefined && l.untilNs > l.atNs ? " to " + fmt(l.untilNs - f) + " (" + fmt(l.untilNs - l.atNs) + ")" : "");
      li.appendChild(el("div", "when", when + (l.site ? " \u00b7 site '" + l.site + "'" : "") + (l.resource ? " \u00b7 resource '" + l.resource + "'" : "")));
      li.appendChild(el("div", "hint", "hint: " + l.hint));
      var det = el("details");
      det.appendChild(el("summary", "", "evidence"));
      var tb = el("table");
      Object.keys(l.evidence).forEach(function (k) {
        var tr = el("tr");
        var v = l.evidence[k];
        tr.appendChild(el("td", "l", k));
        tr.appendChild(el("td", "l", typeof v === "number" && /Ns$/.test(k) ? fmt(v) : String(v)));
        tb.appendChild(tr);
      });
      det.appendChild(tb);
      det.addEventListener("click", function (e) { e.stopPropagation(); });
      li.appendChild(det);
      li.addEventListener("click", function () { goToLint(i); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter") goToLint(i); });
      ol.appendChild(li);
    });
  }

  function windowAt(tl, t) {
    for (var i = 0; i < tl.windows.length; i++) if (t >= tl.windows[i].fromNs && t <= tl.windows[i].toNs) return tl.windows[i];
    return null;
  }

  function goToLint(i) {
    var l = report.lints[i];
    var tl = timelineOf(l.session);
    if (!tl) return;
    if (st.tl !== tl) selectSession(tl);
    var a = l.atNs - tl.startNs;
    var b = (l.untilNs !== undefined ? l.untilNs : l.atNs) - tl.startNs;
    var span = Math.max(b - a, tl.durationNs / 2000, 20000);
    var v0 = a - span * 0.3;
    var v1 = b + span * 0.3;
    var w = windowAt(tl, a);
    if (w && v1 - v0 > w.toNs - w.fromNs) {
      // Longer than the detail drawn around it: show its start, in detail.
      v0 = Math.max(w.fromNs, a - (w.toNs - w.fromNs) * 0.1);
      v1 = Math.min(w.toNs, v0 + (w.toNs - w.fromNs));
    }
    st.lint = i;
    st.mark = [a, b];
    st.hl = {};
    var first = null;
    l.tasks.forEach(function (t) {
      for (var k = 0; k < tl.lanes.length; k++) {
        if (tl.lanes[k].task === t.index) { st.hl[k] = true; if (first === null) first = k; }
      }
    });
    var items = document.querySelectorAll(".lint");
    for (var k = 0; k < items.length; k++) items[k].classList.toggle("selected", k === i);
    timelineEl.setAttribute("data-selected-lint", String(i));
    markLanes();
    setView(v0, v1);
    document.getElementById("timeline-section").scrollIntoView({ block: "start" });
    if (first !== null) scrollToLane(first);
  }

  function scrollToLane(k) {
    var top = k * LANE_H;
    if (top < wrap.scrollTop || top > wrap.scrollTop + wrap.clientHeight - LANE_H) wrap.scrollTop = Math.max(0, top - wrap.clientHeight / 3);
  }

  function markLanes() {
    var rows = labels.children;
    for (var k = 0; k < rows.length; k++) rows[k].classList.toggle("hl", !!st.hl[k]);
  }

  // ---- view ----
  function setView(v0, v1) {
    var tl = st.tl;
    var dur = Math.max(tl.durationNs, MIN_SPAN);
    var span = Math.max(MIN_SPAN, Math.min(dur, v1 - v0));
    if (v0 < 0) v0 = 0;
    if (v0 + span > dur) v0 = Math.max(0, dur - span);
    st.v0 = v0;
    st.v1 = v0 + span;
    timelineEl.setAttribute("data-view-start", String(Math.round(st.v0)));
    timelineEl.setAttribute("data-view-end", String(Math.round(st.v1)));
    document.getElementById("range").textContent = fmt(st.v0) + " \u2013 " + fmt(st.v1) + " (" + fmt(st.v1 - st.v0) + " shown)";
    draw();
  }

  function selectSession(tl) {
    st.tl = tl;
    st.hl = {};
    st.mark = null;
    labels.textContent = "";
    tl.lanes.forEach(function (lane, k) {
      var d = el("div", "lane");
      d.setAttribute("data-lane", String(k));
      d.setAttribute("data-task", String(lane.task));
      d.style.paddingLeft = (4 + Math.min(lane.depth, 8) * 10) + "px";
      d.appendChild(document.createTextNode(lane.task >= 0 ? lane.name + " (" + lane.id + ") " : lane.name + " "));
      if (lane.state) d.appendChild(el("span", "st", lane.state));
      d.title = lane.name + (lane.parentName ? ", spawned by " + lane.parentName : "");
      labels.appendChild(d);
    });
    var note = [];
    var slices = tl.slices.lane.length;
    if (tl.windows.length === 1 && tl.windows[0].fromNs <= 0 && tl.windows[0].toNs >= tl.durationNs && !tl.windows[0].truncated) {
      note.push("Every poll is drawn (" + tl.totalPolls.toLocaleString("en-US") + " polls).");
    } else {
      note.push("This trace has " + tl.totalPolls.toLocaleString("en-US") + " polls, more than the " + tl.maxSlices.toLocaleString("en-US") +
        "-slice budget of this page: detail is drawn in " + tl.windows.length + " window(s) around the lints (dashed edges); elsewhere each lane shows only its busy time.");
      if (tl.dropped.slices > 0) note.push(tl.dropped.slices.toLocaleString("en-US") + " slices did not fit and their windows were cut short.");
    }
    if (tl.otherTasks > 0) note.push(tl.otherTasks.toLocaleString("en-US") + " tasks share the 'other tasks' lane (at most " + tl.maxLanes + " lanes; tasks named by lints come first).");
    document.getElementById("timeline-note").textContent = note.join(" ") + " " + slices.toLocaleString("en-US") + " slices drawn.";
    resize();
    setView(0, tl.durationNs);
  }

  function resize() {
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(200, wrap.clientWidth - labels.offsetWidth);
    var h = Math.max(LANE_H, st.tl.lanes.length * LANE_H);
    lanesCanvas.width = Math.round(w * dpr);
    lanesCanvas.height = Math.round(h * dpr);
    lanesCanvas.style.width = w + "px";
    lanesCanvas.style.height = h + "px";
    axisCanvas.width = Math.round(w * dpr);
    axisCanvas.height = Math.round(28 * dpr);
    axisCanvas.style.width = w + "px";
    axisCanvas.style.height = "28px";
  }

  // ---- drawing ----
  function xOf(t, w) { return ((t - st.v0) / (st.v1 - st.v0)) * w; }

  function draw() {
    var tl = st.tl;
    if (!tl) return;
    var dpr = window.devicePixelRatio || 1;
    var ctx = lanesCanvas.getContext("2d");
    var w = lanesCanvas.width / dpr;
    var h = lanesCanvas.height / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    var n = tl.lanes.length;
    for (var k = 0; k < n; k++) {
      ctx.fillStyle = st.hl[k] ? "#fff1c4" : k % 2 ? "#fafbfd" : "#ffffff";
      ctx.fillRect(0, k * LANE_H, w, LANE_H);
    }
    // Outside the detail windows: hatched background and the per-bin busy time.
    var outside = [];
    var cursor = st.v0;
    var ws = tl.windows.slice().sort(function (a, b) { return a.fromNs - b.fromNs; });
    ws.forEach(function (win) {
      if (win.fromNs > cursor) outside.push([cursor, Math.min(win.fromNs, st.v1)]);
      cursor = Math.max(cursor, win.toNs);
    });
    if (cursor < st.v1) outside.push([cursor, st.v1]);
    outside.forEach(function (r) {
      if (r[1] <= r[0]) return;
      var x0 = Math.max(0, xOf(r[0], w));
      var x1 = Math.min(w, xOf(r[1], w));
      ctx.fillStyle = "rgba(220,224,232,0.45)";
      ctx.fillRect(x0, 0, x1 - x0, h);
      var bn = tl.density.binNs;
      var b0 = Math.max(0, Math.floor(r[0] / bn));
      var b1 = Math.min(tl.density.busy.length ? tl.density.busy[0].length - 1 : -1, Math.floor(r[1] / bn));
      for (var k2 = 0; k2 < n; k2++) {
        var row = tl.density.busy[k2];
        for (var b = b0; b <= b1; b++) {
          var v = row[b];
          if (!v) continue;
          var bx0 = Math.max(x0, xOf(b * bn, w));
          var bx1 = Math.min(x1, xOf((b + 1) * bn, w));
          ctx.fillStyle = "rgba(47,109,181," + Math.min(1, 0.25 + (v / bn) * 3) + ")";
          ctx.fillRect(bx0, k2 * LANE_H + 4, Math.max(1, bx1 - bx0), LANE_H - 8);
        }
      }
    });
    // Detail slices.
    var s = tl.slices;
    for (var i = 0; i < s.lane.length; i++) {
      var t0 = s.t0[i];
      var t1 = s.t1[i];
      if (t1 < st.v0 || t0 > st.v1) continue;
      var xa = Math.max(-1, xOf(t0, w));
      var xb = Math.min(w + 1, xOf(t1, w));
      var y = s.lane[i] * LANE_H;
      var kind = s.kind[i];
      if (kind === 2) { ctx.fillStyle = "#c3c8d2"; ctx.fillRect(xa, y + 8, Math.max(1, xb - xa), 2); }
      else if (kind === 3) { ctx.fillStyle = "#f0b429"; ctx.fillRect(xa, y + 7, Math.max(1, xb - xa), 4); }
      else { ctx.fillStyle = kind === 1 ? "#c62828" : "#2f6db5"; ctx.fillRect(xa, y + 3, Math.max(1, xb - xa), LANE_H - 6); }
    }
    // Wake arrows, when few enough are in view to read.
    var wk = tl.wakes;
    var visible = 0;
    for (var j = 0; j < wk.t.length; j++) if (wk.t[j] >= st.v0 && wk.t[j] <= st.v1) visible++;
    if (visible <= 800) {
      ctx.strokeStyle = "#2e9e5b";
      ctx.fillStyle = "#2e9e5b";
      ctx.lineWidth = 1;
      for (var j2 = 0; j2 < wk.t.length; j2++) {
        var tw = wk.t[j2];
        if (tw < st.v0 || tw > st.v1) continue;
        var x = xOf(tw, w);
        var yTo = wk.to[j2] * LANE_H + LANE_H / 2;
        var from = wk.from[j2];
        var yFrom = from >= 0 ? from * LANE_H + LANE_H / 2 : yTo - LANE_H / 2;
        if (from !== wk.to[j2]) {
          ctx.beginPath(); ctx.moveTo(x, yFrom); ctx.lineTo(x, yTo); ctx.stroke();
        }
        var dir = yTo >= yFrom ? -1 : 1;
        ctx.beginPath(); ctx.moveTo(x, yTo); ctx.lineTo(x - 3, yTo + dir * 5); ctx.lineTo(x + 3, yTo + dir * 5); ctx.closePath(); ctx.fill();
      }
    }
    // Detail window edges and the selected lint.
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = "#8a93a6";
    ws.forEach(function (win) {
      [win.fromNs, win.toNs].forEach(function (t) {
        if (t <= 0 || t >= tl.durationNs || t < st.v0 || t > st.v1) return;
        var xe = xOf(t, w); ctx.beginPath(); ctx.moveTo(xe, 0); ctx.lineTo(xe, h); ctx.stroke();
      });
    });
    ctx.setLineDash([]);
    if (st.mark) {
      var ma = xOf(st.mark[0], w);
      var mb = Math.max(ma + 2, xOf(st.mark[1], w));
      ctx.fillStyle = "rgba(198,40,40,0.10)";
      ctx.fillRect(ma, 0, mb - ma, h);
      ctx.strokeStyle = "#c62828";
      ctx.beginPath(); ctx.moveTo(ma, 0); ctx.lineTo(ma, h); ctx.stroke();
    }
    drawAxis();
  }

  function drawAxis() {
    var dpr = window.devicePixelRatio || 1;
    var ctx = axisCanvas.getContext("2d");
    var w = axisCanvas.width / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, 28);
    var span = st.v1 - st.v0;
    var step = Math.pow(10, Math.floor(Math.log10(span / 6)));
    if (span / step > 12) step *= 5; else if (span / step > 6) step *= 2;
    ctx.fillStyle = "#5c6475";
    ctx.strokeStyle = "#c3c8d2";
    ctx.font = "11px system-ui, sans-serif";
    for (var t = Math.ceil(st.v0 / step) * step; t <= st.v1; t += step) {
      var x = xOf(t, w);
      ctx.beginPath(); ctx.moveTo(x, 18); ctx.lineTo(x, 28); ctx.stroke();
      ctx.fillText(fmt(t), x + 2, 14);
    }
  }

  // ---- interaction ----
  var drag = null;
  lanesCanvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = lanesCanvas.getBoundingClientRect();
    var t = st.v0 + ((e.clientX - r.left) / r.width) * (st.v1 - st.v0);
    var f = e.deltaY > 0 ? 1.25 : 0.8;
    setView(t - (t - st.v0) * f, t + (st.v1 - t) * f);
  }, { passive: false });
  lanesCanvas.addEventListener("mousedown", function (e) { drag = { x: e.clientX, v0: st.v0, v1: st.v1 }; lanesCanvas.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", function () { drag = null; lanesCanvas.style.cursor = ""; });
  window.addEventListener("mousemove", function (e) {
    if (drag) {
      var r = lanesCanvas.getBoundingClientRect();
      var dt = ((e.clientX - drag.x) / r.width) * (drag.v1 - drag.v0);
      setView(drag.v0 - dt, drag.v1 - dt);
    }
  });
  lanesCanvas.addEventListener("mousemove", function (e) {
    if (drag) { tip.hidden = true; return; }
    var r = lanesCanvas.getBoundingClientRect();
    var t = st.v0 + ((e.clientX - r.left) / r.width) * (st.v1 - st.v0);
    var k = Math.floor((e.clientY - r.top) / LANE_H);
    var text = describe(k, t, (st.v1 - st.v0) / r.width * 3);
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = (e.clientX + 12) + "px";
    tip.style.top = (e.clientY + 12) + "px";
  });
  lanesCanvas.addEventListener("mouseleave", function () { tip.hidden = true; });

  function describe(k, t, slack) {
    var tl = st.tl;
    var lane = tl.lanes[k];
    if (!lane) return "";
    var s = tl.slices;
    var best = -1;
    var rank = { 0: 3, 1: 4, 3: 2, 2: 1 };
    for (var i = 0; i < s.lane.length; i++) {
      if (s.lane[i] !== k || s.t0[i] - slack > t || s.t1[i] + slack < t) continue;
      if (best < 0 || rank[s.kind[i]] > rank[s.kind[best]]) best = i;
    }
    var who = lane.name + (lane.task >= 0 ? " (" + lane.id + ")" : "");
    if (best < 0) return who + " at " + fmt(t);
    var d = fmt(s.t1[best] - s.t0[best]);
    var kind = s.kind[best];
    if (kind === 0) return who + ": poll of " + d + " at " + fmt(s.t0[best]);
    if (kind === 1) return who + ": LONG poll of " + d + " at " + fmt(s.t0[best]);
    if (kind === 3) return who + ": runnable for " + d + ", waiting for the executor";
    var site = tl.sites[s.site[best]];
    return who + ": parked " + d + (site ? " at '" + site + "'" : "");
  }

  document.getElementById("fit").addEventListener("click", function () { setView(0, st.tl.durationNs); });
  window.addEventListener("resize", function () { resize(); draw(); });

  // ---- flows and tasks ----
  function renderFlows() {
    var box = document.getElementById("flows");
    if (report.flows.length === 0) { box.appendChild(el("p", "note", "No request flows in this trace.")); return; }
    var t = el("table");
    var head = el("tr");
    ["request", "count", "p50", "p90", "p99", "max", "unfinished"].forEach(function (h, i) { head.appendChild(el("th", i === 0 ? "l" : "", h)); });
    t.appendChild(head);
    report.flows.forEach(function (f) {
      var tr = el("tr");
      [f.kind, f.finished.toLocaleString("en-US"), fmt(f.latencyNs.p50), fmt(f.latencyNs.p90), fmt(f.latencyNs.p99), fmt(f.latencyNs.max), String(f.unfinished)].forEach(function (c, i) { tr.appendChild(el("td", i === 0 ? "l" : "", c)); });
      t.appendChild(tr);
    });
    box.appendChild(t);
    report.slowRequests.forEach(function (s) {
      if (!s.significant) return;
      var p = el("p", "", "Slow '" + s.kind + "' (" + s.slowCount + " at or above p" + s.percentile + " = " + fmt(s.thresholdNs) + ", median " + fmt(s.medianNs) + "): " +
        s.causes.map(function (c) { return "+" + fmt(c.extraNs) + " " + c.cause + (c.blocker ? " (held by " + c.blocker.name + ")" : ""); }).join("; ") +
        (s.clustered ? "; clustered in time." : "; spread over the trace."));
      box.appendChild(p);
    });
  }

  function renderTasks() {
    var t = document.getElementById("tasks");
    var cols = [
      ["task", function (x) { return x.name; }, "l"], ["id", function (x) { return x.id; }], ["parent", function (x) { return x.parentName || "-"; }, "l"],
      ["state", function (x) { return x.state; }, "l"], ["total", function (x) { return x.totalNs; }, "", fmt], ["busy", function (x) { return x.busyNs; }, "", fmt],
      ["sched", function (x) { return x.scheduledNs; }, "", fmt], ["idle", function (x) { return x.idleNs; }, "", fmt], ["polls", function (x) { return x.polls; }],
      ["wakes", function (x) { return x.wakes; }], ["self", function (x) { return x.selfWakes; }], ["max poll", function (x) { return x.pollNs.max; }, "", fmt],
      ["wake\u2192poll p90", function (x) { return x.wakeToPollNs.p90; }, "", fmt], ["awaiting", function (x) { return x.awaitSite || ""; }, "l"]
    ];
    var rows = data.tasks.slice();
    function fill() {
      t.textContent = "";
      var thead = el("thead");
      var hr = el("tr");
      cols.forEach(function (c, i) {
        var th = el("th", c[2] || "", c[0]);
        th.addEventListener("click", function () {
          rows.sort(function (a, b) { var x = c[1](a), y = c[1](b); return typeof x === "number" ? y - x : String(x).localeCompare(String(y)); });
          fill();
        });
        hr.appendChild(th);
        void i;
      });
      thead.appendChild(hr);
      t.appendChild(thead);
      var tb = el("tbody");
      rows.forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-task", String(x.index));
        cols.forEach(function (c) { var v = c[1](x); tr.appendChild(el("td", c[2] || "", c[3] ? c[3](v) : typeof v === "number" ? v.toLocaleString("en-US") : v)); });
        tr.addEventListener("click", function () { goToTask(x); });
        tb.appendChild(tr);
      });
      t.appendChild(tb);
    }
    fill();
    if (data.tasksOmitted > 0) document.getElementById("tasks-note").textContent = "The first " + data.tasks.length + " tasks are listed; " + data.tasksOmitted.toLocaleString("en-US") + " more are in trace-report --json.";
  }

  function goToTask(x) {
    var tl = timelineOf(x.session);
    if (!tl) return;
    if (st.tl !== tl) selectSession(tl);
    st.hl = {};
    for (var k = 0; k < tl.lanes.length; k++) if (tl.lanes[k].task === x.index) { st.hl[k] = true; scrollToLane(k); }
    markLanes();
    var a = (x.spawnedNs !== null ? x.spawnedNs : tl.startNs) - tl.startNs;
    var b = (x.endedNs !== null ? x.endedNs : tl.startNs + tl.durationNs) - tl.startNs;
    setView(a - (b - a) * 0.05, b + (b - a) * 0.05);
    document.getElementById("timeline-section").scrollIntoView({ block: "start" });
  }

  labels.addEventListener("click", function (e) {
    var d = e.target.closest ? e.target.closest(".lane") : null;
    if (!d) return;
    var k = Number(d.getAttribute("data-lane"));
    st.hl = {};
    st.hl[k] = true;
    markLanes();
    draw();
  });

  renderLints();
  renderFlows();
  renderTasks();
  if (data.timelines.length > 1) {
    var pick = document.getElementById("session");
    data.timelines.forEach(function (tl) { var o = el("option", "", "session " + tl.session); o.value = String(tl.session); pick.appendChild(o); });
    pick.addEventListener("change", function () { selectSession(timelineOf(Number(pick.value))); });
    document.getElementById("session-pick").hidden = false;
  }
  if (data.timelines.length > 0) selectSession(data.timelines[0]);
  else document.getElementById("timeline-note").textContent = "No events to draw.";
  document.body.setAttribute("data-ready", "1");
})();
`;
