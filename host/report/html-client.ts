// The HTML report's own stylesheet and script, inlined into the page (no network). The script
// reads the JSON in <script id="report-data"> and draws the timeline on canvases. Plain ES2017
// with no dependencies; written without template literals so it can live in this string.
//
// The timeline is a list of rows: pinned rows first (the tasks of the selected lint, or of the
// task picked in the table), then every lane in spawn-tree order, a shared lane ("worker x72")
// followed by its tasks' sub-lanes when it is expanded. Only the rows in view are drawn: the
// lanes canvas is as tall as its scroll box and follows the scroll, so a page with thousands of
// rows costs what is on screen.
//
// State the tests read: #timeline has data-view-start / data-view-end (ns from the session's
// first event), data-selected-lint, data-pinned (task indices, in order) and data-rows; rows are
// .lane elements (data-lane, data-sub, data-task, data-label; .hl highlighted, .pinned, .shared, .sub,
// .expanded); a deadlock lint holds an svg.cycle.

export const CLIENT_CSS = String.raw`
:root { --fg: #1d2330; --muted: #5c6475; --line: #d9dde5; --err: #c62828; --warn: #b26a00; --info: #2f6db5; --dead: #8e24aa; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
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
svg.cycle { display: block; margin: 6px 0 2px; max-width: 100%; }
svg.cycle .task rect { fill: #eef3fb; stroke: #2f6db5; }
svg.cycle .res rect { fill: #f6ecf8; stroke: var(--dead); }
svg.cycle text { font: 12px system-ui, sans-serif; fill: #1d2330; }
svg.cycle .edge { stroke: var(--dead); stroke-width: 1.6; fill: none; }
svg.cycle .elabel { font-size: 11px; fill: var(--dead); }
.controls { display: flex; gap: 12px; align-items: center; margin-bottom: 4px; flex-wrap: wrap; }
#range { font-variant-numeric: tabular-nums; color: var(--muted); font-size: 13px; }
#pin-bar { background: #fff7dd; border: 1px solid #f0d98a; border-radius: 3px; padding: 3px 8px; font-size: 13px; margin-bottom: 4px; }
#pin-bar button { margin-left: 8px; }
#timeline { border: 1px solid var(--line); }
#axis-row, #inflight-row, #lanes-inner { display: flex; }
#inflight-row { border-bottom: 1px solid var(--line); }
#lanes-wrap { max-height: 70vh; overflow-y: auto; overflow-x: hidden; }
.gutter, #labels, #inflight-labels { width: 240px; flex: none; }
#labels, #inflight-labels { border-right: 1px solid var(--line); }
.iflabel { height: 30px; line-height: 30px; font-size: 12px; padding: 0 4px; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; color: #00695c; }
.lane { height: 18px; line-height: 18px; font-size: 12px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; padding-right: 4px; cursor: pointer; }
.lane:nth-child(even) { background: #fafbfd; }
.lane.shared { font-weight: 600; }
.lane.shared .tog { display: inline-block; width: 12px; color: var(--muted); }
.lane.sub { color: #38404f; }
.lane.pinned { background: #fff3cf; }
.lane.pin-last { border-bottom: 2px solid #e0b64a; }
.lane.hl { background: #ffe9a8; font-weight: 600; }
.lane .st { color: var(--muted); font-size: 11px; font-weight: 400; }
canvas { display: block; }
#canvas-col { flex: 1 1 auto; min-width: 0; position: relative; }
#lanes { position: sticky; top: 0; }
#axis, #lanes, #inflight { cursor: grab; }
#axis, #inflight { flex: 1 1 auto; min-width: 0; }
#tooltip { position: fixed; pointer-events: none; background: #1d2330; color: #fff; font-size: 12px; padding: 4px 7px; border-radius: 3px; max-width: 420px; z-index: 10; }
.legend { margin-top: 6px; }
.sw { display: inline-block; width: 14px; height: 10px; margin: 0 4px 0 12px; vertical-align: middle; }
.sw.poll { background: #2f6db5; } .sw.long { background: #c62828; } .sw.runnable { background: #f0b429; }
.sw.parked { background: #c5ccd8; border-top: 1px solid #8d97aa; border-bottom: 1px solid #8d97aa; } .sw.wake { background: #2e9e5b; }
.sw.stuck { background: repeating-linear-gradient(45deg, #e6c7ec, #e6c7ec 3px, #8e24aa 3px, #8e24aa 4px); }
.sw.dead { background: var(--dead); height: 3px; } .sw.inflight { background: #4db6ac; }
.sw.agg { background: repeating-linear-gradient(45deg, #eef0f4, #eef0f4 3px, #fff 3px, #fff 6px); }
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
  var TRACK_H = 30;
  var MIN_SPAN = 1000;
  var C = { poll: "#2f6db5", long: "#c62828", runnable: "#f0b429", parked: "#c5ccd8", parkedEdge: "#8d97aa", wake: "#2e9e5b",
    dead: "#8e24aa", stuckBg: "#e6c7ec", inflight: "#4db6ac", inflightLine: "#00796b" };
  // Per session: rows and the lanes' sub-lanes. st.pinned holds row references { lane, sub }.
  var st = { tl: null, v0: 0, v1: 1, hl: {}, lint: -1, mark: null, pinned: [], pinNote: "", expanded: {}, rows: [], rowOfLane: [], rowOfSub: [], subsOf: [] };
  var timelineEl = document.getElementById("timeline");
  var labels = document.getElementById("labels");
  var lanesCanvas = document.getElementById("lanes");
  var axisCanvas = document.getElementById("axis");
  var inflightCanvas = document.getElementById("inflight");
  var wrap = document.getElementById("lanes-wrap");
  var col = document.getElementById("canvas-col");
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
  function count(n) { return n.toLocaleString("en-US"); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function ordinal(n) {
    var t = n % 100;
    return n + (t >= 11 && t <= 13 ? "th" : n % 10 === 1 ? "st" : n % 10 === 2 ? "nd" : n % 10 === 3 ? "rd" : "th");
  }
  // As timeline.ts taskLabel: ids are reused, so the incarnation tells two tasks apart.
  function taskLabel(t) { return t.name + " (" + t.id + (t.incarnation > 1 ? ", " + ordinal(t.incarnation) : "") + ")"; }
  function timelineOf(session) {
    for (var i = 0; i < data.timelines.length; i++) if (data.timelines[i].session === session) return data.timelines[i];
    return null;
  }
  function sessionStart(session) {
    for (var i = 0; i < data.sessions.length; i++) if (data.sessions[i].index === session) return data.sessions[i].firstNs;
    return 0;
  }
  /** The deadlock cycle a lint reports (matched by its members), or null. */
  function cycleOf(l) {
    var tl = timelineOf(l.session);
    if (!tl || l.kind !== "deadlock") return null;
    for (var i = 0; i < tl.cycles.length; i++) {
      var c = tl.cycles[i];
      for (var j = 0; j < c.members.length; j++) for (var k = 0; k < l.tasks.length; k++) if (c.members[j].task === l.tasks[k].index) return c;
    }
    return null;
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
      var cycle = cycleOf(l);
      if (cycle) li.appendChild(cycleDiagram(cycle, i));
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

  // A deadlock as a ring: each member, then the resource it is blocked on, then the member that
  // alone could free it; arrows say who waits on what.
  function cycleDiagram(c, lintIndex) {
    // The SVG namespace, taken from an <svg> the HTML parser made (the page holds no URL at all).
    var holder = el("div");
    holder.innerHTML = "<svg></svg>";
    var NS = holder.firstChild.namespaceURI;
    function s(tag, attrs, text) {
      var e = document.createElementNS(NS, tag);
      for (var k in attrs) e.setAttribute(k, String(attrs[k]));
      if (text !== undefined) e.textContent = text;
      return e;
    }
    var nodes = [];
    var resNode = {};
    var taskNode = {};
    c.members.forEach(function (m) {
      taskNode[m.task] = nodes.length;
      nodes.push({ kind: "task", text: m.label, sub: "at '" + m.site + "'" });
      if (resNode[m.resource] === undefined) {
        resNode[m.resource] = nodes.length;
        var fill = m.resourceKind === "channel" && m.capacity > 0 ? ", " + m.level + "/" + m.capacity + (m.level >= m.capacity ? " full" : m.level === 0 ? " empty" : "") : "";
        nodes.push({ kind: "res", text: m.resource, sub: m.resourceKind + fill });
      }
    });
    var n = nodes.length;
    // Boxes as wide as their longest line (about 6.4 px a character at 12 px).
    var BW = 120;
    nodes.forEach(function (nd) { BW = Math.max(BW, Math.min(260, 6.4 * Math.max(nd.text.length, nd.sub.length) + 16)); });
    var BH = 34;
    var W = Math.max(2 * BW + 200, Math.min(900, (BW + 40) * Math.ceil(n / 2) + 120));
    var H = n <= 2 ? 90 : n <= 4 ? 210 : 280;
    var cx = W / 2, cy = H / 2, rx = W / 2 - BW / 2 - 6, ry = H / 2 - BH / 2 - 4;
    nodes.forEach(function (nd, i) {
      var a = -Math.PI + (2 * Math.PI * i) / n;
      nd.x = cx + rx * Math.cos(a);
      nd.y = cy + ry * Math.sin(a);
    });
    var svg = s("svg", { "class": "cycle", width: W, height: H, viewBox: "0 0 " + W + " " + H, role: "img" });
    svg.setAttribute("aria-label", "deadlock cycle");
    var id = "arrow-" + lintIndex;
    var defs = s("defs", {});
    var marker = s("marker", { id: id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.appendChild(s("path", { d: "M0,0 L10,5 L0,10 z", fill: "#8e24aa" }));
    defs.appendChild(marker);
    svg.appendChild(defs);
    function edge(a, b, text) {
      var A = nodes[a], B = nodes[b];
      var dx = B.x - A.x, dy = B.y - A.y;
      var len = Math.sqrt(dx * dx + dy * dy) || 1;
      // Leave each box where the line crosses its border.
      function cut(dxn, dyn) { var tx = Math.abs(dxn) > 1e-9 ? (BW / 2 + 4) / Math.abs(dxn) : 1e9; var ty = Math.abs(dyn) > 1e-9 ? (BH / 2 + 4) / Math.abs(dyn) : 1e9; return Math.min(tx, ty); }
      var ux = dx / len, uy = dy / len;
      var ca = cut(ux, uy);
      var x1 = A.x + ux * ca, y1 = A.y + uy * ca, x2 = B.x - ux * ca, y2 = B.y - uy * ca;
      // Bend each edge a little so a pair of opposite edges does not overlap.
      var mx = (x1 + x2) / 2 - uy * 14, my = (y1 + y2) / 2 + ux * 14;
      svg.appendChild(s("path", { "class": "edge", d: "M" + x1 + "," + y1 + " Q" + mx + "," + my + " " + x2 + "," + y2, "marker-end": "url(#" + id + ")" }));
      svg.appendChild(s("text", { "class": "elabel", x: mx, y: my - 3, "text-anchor": "middle" }, text));
    }
    c.members.forEach(function (m) {
      var verb = m.op === "send" ? "waits to send" : m.op === "recv" ? "waits to receive" : "waits to lock";
      edge(taskNode[m.task], resNode[m.resource], verb);
      var back = m.op === "send" ? "only drained by" : m.op === "recv" ? "only filled by" : "held by";
      m.to.forEach(function (t) { if (taskNode[t] !== undefined) edge(resNode[m.resource], taskNode[t], back); });
    });
    nodes.forEach(function (nd) {
      var g = s("g", { "class": nd.kind });
      g.appendChild(s("rect", { x: nd.x - BW / 2, y: nd.y - BH / 2, width: BW, height: BH, rx: nd.kind === "task" ? 8 : 2 }));
      g.appendChild(s("text", { x: nd.x, y: nd.y - 3, "text-anchor": "middle", "font-weight": "600" }, nd.text));
      g.appendChild(s("text", { x: nd.x, y: nd.y + 11, "text-anchor": "middle", "font-size": "10.5" }, nd.sub));
      svg.appendChild(g);
    });
    return svg;
  }

  function windowAt(tl, t) {
    for (var i = 0; i < tl.windows.length; i++) if (t >= tl.windows[i].fromNs && t <= tl.windows[i].toNs) return tl.windows[i];
    return null;
  }

  /** The row reference of a task: its own lane, else its sub-lane, else null. */
  function refOfTask(tl, index) {
    for (var k = 0; k < tl.lanes.length; k++) if (tl.lanes[k].task === index) return { lane: k, sub: -1 };
    for (var s = 0; s < tl.subLanes.length; s++) if (tl.subLanes[s].task === index) return { lane: tl.subLanes[s].lane, sub: s };
    return null;
  }

  /** Pins the tasks (indices, in order) at the top of the timeline and highlights them. */
  function pinTasks(tl, indices, note) {
    st.pinned = [];
    st.hl = {};
    var seen = {};
    indices.forEach(function (x) {
      if (seen[x]) return;
      seen[x] = true;
      var ref = refOfTask(tl, x);
      if (!ref) return;
      st.pinned.push(ref);
      st.hl[x] = true;
    });
    st.pinNote = note;
    layout();
    wrap.scrollTop = 0;
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
    var tasks = l.tasks.map(function (t) { return t.index; });
    var cycle = cycleOf(l);
    if (cycle) {
      cycle.members.forEach(function (m) { tasks.push(m.task); });
      cycle.behind.forEach(function (m) { tasks.push(m.task); });
    }
    var items = document.querySelectorAll(".lint");
    for (var k = 0; k < items.length; k++) items[k].classList.toggle("selected", k === i);
    timelineEl.setAttribute("data-selected-lint", String(i));
    pinTasks(tl, tasks, "the tasks the selected lint names");
    setView(v0, v1);
    document.getElementById("timeline-section").scrollIntoView({ block: "start" });
  }

  // ---- rows ----
  function layout() {
    var tl = st.tl;
    var rows = [];
    var rowOfLane = [];
    var rowOfSub = [];
    for (var k = 0; k < tl.lanes.length; k++) rowOfLane.push(-1);
    for (var s = 0; s < tl.subLanes.length; s++) rowOfSub.push(-1);
    st.pinned.forEach(function (ref) {
      if (ref.sub >= 0) rowOfSub[ref.sub] = rows.length; else rowOfLane[ref.lane] = rows.length;
      rows.push({ lane: ref.lane, sub: ref.sub, pinned: true });
    });
    for (var k2 = 0; k2 < tl.lanes.length; k2++) {
      if (rowOfLane[k2] < 0) { rowOfLane[k2] = rows.length; rows.push({ lane: k2, sub: -1, pinned: false }); }
      if (!st.expanded[k2]) continue;
      var subs = st.subsOf[k2] || [];
      for (var j = 0; j < subs.length; j++) {
        if (rowOfSub[subs[j]] >= 0) continue;
        rowOfSub[subs[j]] = rows.length;
        rows.push({ lane: k2, sub: subs[j], pinned: false });
      }
    }
    st.rows = rows;
    st.rowOfLane = rowOfLane;
    st.rowOfSub = rowOfSub;
    renderLabels();
    timelineEl.setAttribute("data-rows", String(rows.length));
    timelineEl.setAttribute("data-pinned", st.pinned.map(function (r) { return String(r.sub >= 0 ? tl.subLanes[r.sub].task : tl.lanes[r.lane].task); }).join(","));
    var bar = document.getElementById("pin-bar");
    bar.hidden = st.pinned.length === 0;
    document.getElementById("pin-text").textContent = st.pinned.length === 0 ? "" :
      "Pinned at the top: " + st.pinned.length + " task" + (st.pinned.length > 1 ? "s" : "") + ", " + st.pinNote + ".";
    resize();
    draw();
  }

  /** A shared lane's own row, where its tasks' slices overlap (no names written on them). */
  function sharedRow(i) { var r = st.rows[i]; return r.sub < 0 && st.tl.lanes[r.lane].task < 0; }

  function rowTask(r) { return r.sub >= 0 ? st.tl.subLanes[r.sub].task : st.tl.lanes[r.lane].task; }

  function renderLabels() {
    var tl = st.tl;
    labels.textContent = "";
    var lastPinned = -1;
    st.rows.forEach(function (r, i) { if (r.pinned) lastPinned = i; });
    st.rows.forEach(function (r, i) {
      var lane = tl.lanes[r.lane];
      var d = el("div", "lane");
      d.setAttribute("data-lane", String(r.lane));
      d.setAttribute("data-sub", String(r.sub));
      d.setAttribute("data-task", String(rowTask(r)));
      if (r.pinned) d.classList.add("pinned");
      if (i === lastPinned) d.classList.add("pin-last");
      if (st.hl[rowTask(r)] !== undefined && rowTask(r) >= 0) d.classList.add("hl");
      if (r.sub >= 0) {
        var sl = tl.subLanes[r.sub];
        d.classList.add("sub");
        d.style.paddingLeft = (r.pinned ? 4 : 18 + Math.min(lane.depth, 8) * 10) + "px";
        d.setAttribute("data-label", sl.label);
        d.appendChild(document.createTextNode(sl.label + " "));
        d.appendChild(el("span", "st", r.pinned ? "in " + lane.label : fmt(sl.toNs - sl.fromNs)));
        d.title = sl.label + ", one of " + lane.label + "; lived " + fmt(sl.fromNs) + " \u2013 " + fmt(sl.toNs);
      } else if (lane.task < 0) {
        var subs = st.subsOf[r.lane] || [];
        d.classList.add("shared");
        if (st.expanded[r.lane]) d.classList.add("expanded");
        d.style.paddingLeft = (4 + (r.pinned ? 0 : Math.min(lane.depth, 8) * 10)) + "px";
        d.appendChild(el("span", "tog", subs.length === 0 ? "" : st.expanded[r.lane] ? "\u25be" : "\u25b8"));
        d.setAttribute("data-label", lane.label);
        d.appendChild(document.createTextNode(lane.label + " "));
        d.title = lane.label + ": " + lane.shared + " look-alike tasks drawn in one row" +
          (subs.length > 0 ? "; click to " + (st.expanded[r.lane] ? "fold them" : "list " + (subs.length < lane.shared ? subs.length + " of them (those drawn in detail or named by lints)" : "each")) : "");
      } else {
        d.style.paddingLeft = (4 + (r.pinned ? 0 : Math.min(lane.depth, 8) * 10)) + "px";
        d.setAttribute("data-label", lane.label);
        d.appendChild(document.createTextNode(lane.label + " "));
        if (lane.state) d.appendChild(el("span", "st", lane.state));
        d.title = lane.label + (lane.parentName ? ", spawned by " + lane.parentName : "");
      }
      labels.appendChild(d);
    });
  }

  function toggle(k) {
    if (!(st.subsOf[k] || []).length) return;
    st.expanded[k] = !st.expanded[k];
    layout();
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
    st.pinned = [];
    st.expanded = {};
    st.subsOf = tl.lanes.map(function () { return []; });
    tl.subLanes.forEach(function (s, i) { st.subsOf[s.lane].push(i); });
    var note = [];
    var slices = tl.slices.lane.length;
    if (tl.windows.length === 1 && tl.windows[0].fromNs <= 0 && tl.windows[0].toNs >= tl.durationNs && !tl.windows[0].truncated) {
      note.push("Every poll is drawn (" + count(tl.totalPolls) + " polls).");
    } else {
      note.push("This trace has " + count(tl.totalPolls) + " polls, more than the " + count(tl.maxSlices) +
        "-slice budget of this page: detail is drawn in " + tl.windows.length + " window(s) " + (report.lints.some(function (l) { return l.session === tl.session; }) ? "around the lints" : "at the start") +
        " (dashed edges); elsewhere each lane shows only its busy time.");
      if (tl.dropped.slices > 0) note.push(count(tl.dropped.slices) + " slices did not fit and their windows were cut short.");
    }
    var shared = tl.lanes.filter(function (l) { return l.task < 0; });
    if (shared.length > 0) {
      var folded = shared.reduce(function (n, l) { return n + l.shared; }, 0);
      note.push(count(folded) + " look-alike tasks share " + shared.length + " lane(s) (\u25b8: click to list each task).");
    }
    if (tl.otherTasks > 0) note.push(count(tl.otherTasks) + " tasks share the 'other tasks' lane (at most " + tl.maxLanes + " lanes; tasks named by lints come first).");
    document.getElementById("timeline-note").textContent = note.join(" ") + " " + count(slices) + " slices drawn.";
    renderInflightLabels();
    layout();
    setView(0, tl.durationNs);
  }

  function resize() {
    var dpr = window.devicePixelRatio || 1;
    var w = Math.max(200, col.clientWidth);
    var total = Math.max(LANE_H, st.rows.length * LANE_H);
    col.style.height = total + "px";
    // The canvas covers what the scroll box shows, not every row.
    var h = Math.max(LANE_H, Math.min(total, wrap.clientHeight || total));
    if (lanesCanvas.width !== Math.round(w * dpr) || lanesCanvas.height !== Math.round(h * dpr)) {
      lanesCanvas.width = Math.round(w * dpr);
      lanesCanvas.height = Math.round(h * dpr);
      lanesCanvas.style.width = w + "px";
      lanesCanvas.style.height = h + "px";
    }
    axisCanvas.width = Math.round(w * dpr);
    axisCanvas.height = Math.round(28 * dpr);
    axisCanvas.style.width = w + "px";
    axisCanvas.style.height = "28px";
    var th = st.tl.inflight.length * TRACK_H;
    document.getElementById("inflight-row").hidden = th === 0;
    inflightCanvas.width = Math.round(w * dpr);
    inflightCanvas.height = Math.round(Math.max(1, th) * dpr);
    inflightCanvas.style.width = w + "px";
    inflightCanvas.style.height = th + "px";
  }

  // ---- drawing ----
  function xOf(t, w) { return ((t - st.v0) / (st.v1 - st.v0)) * w; }

  /** Row of a slice or wake end: its sub-lane's row when listed, else its lane's. */
  function rowOf(lane, sub) { return sub >= 0 && st.rowOfSub[sub] >= 0 ? st.rowOfSub[sub] : st.rowOfLane[lane]; }

  /** [from, to] ranges of the view outside every detail window. */
  function outsideRanges(tl) {
    var out = [];
    var cursor = st.v0;
    var ws = tl.windows.slice().sort(function (a, b) { return a.fromNs - b.fromNs; });
    ws.forEach(function (win) {
      if (win.fromNs > cursor) out.push([cursor, Math.min(win.fromNs, st.v1)]);
      cursor = Math.max(cursor, win.toNs);
    });
    if (cursor < st.v1) out.push([cursor, st.v1]);
    return out.filter(function (r) { return r[1] > r[0]; });
  }

  function hatch(ctx, x, y, w, h, bg, fg) {
    ctx.fillStyle = bg;
    ctx.fillRect(x, y, w, h);
    ctx.save();
    ctx.beginPath(); ctx.rect(x, y, w, h); ctx.clip();
    ctx.strokeStyle = fg;
    ctx.lineWidth = 1.2;
    ctx.beginPath();
    for (var sx = x - h - ((x % 6) + 6) % 6; sx < x + w; sx += 6) { ctx.moveTo(sx, y + h); ctx.lineTo(sx + h, y); }
    ctx.stroke();
    ctx.restore();
  }

  function draw() {
    var tl = st.tl;
    if (!tl) return;
    var dpr = window.devicePixelRatio || 1;
    var ctx = lanesCanvas.getContext("2d");
    var w = lanesCanvas.width / dpr;
    var h = lanesCanvas.height / dpr;
    var top = wrap.scrollTop;
    var r0 = Math.floor(top / LANE_H);
    var r1 = Math.min(st.rows.length - 1, Math.ceil((top + h) / LANE_H));
    function yOf(row) { return row * LANE_H - top; }
    function inView(row) { return row >= r0 && row <= r1; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    for (var r = r0; r <= r1; r++) {
      var row = st.rows[r];
      ctx.fillStyle = st.hl[rowTask(row)] !== undefined && rowTask(row) >= 0 ? "#fff1c4" : row.pinned ? "#fff8e1" : r % 2 ? "#fafbfd" : "#ffffff";
      ctx.fillRect(0, yOf(r), w, LANE_H);
    }
    // The selected lint's time, behind everything drawn (its start is a line on top).
    if (st.mark) {
      var m0 = xOf(st.mark[0], w);
      ctx.fillStyle = "rgba(198,40,40,0.08)";
      ctx.fillRect(m0, 0, Math.max(m0 + 2, xOf(st.mark[1], w)) - m0, h);
    }
    var pinnedRows = st.pinned.length;
    if (pinnedRows > 0 && inView(pinnedRows - 1)) { ctx.fillStyle = "#e0b64a"; ctx.fillRect(0, yOf(pinnedRows) - 1, w, 2); }
    // Sub-lanes: each task's life as a thin line, so it shows outside the detail windows too.
    ctx.fillStyle = "#d5dae3";
    for (var r2 = r0; r2 <= r1; r2++) {
      var rw = st.rows[r2];
      if (rw.sub < 0) continue;
      var sl = tl.subLanes[rw.sub];
      if (sl.toNs < st.v0 || sl.fromNs > st.v1) continue;
      var la = Math.max(0, xOf(sl.fromNs, w));
      ctx.fillRect(la, yOf(r2) + LANE_H / 2, Math.max(1, Math.min(w, xOf(sl.toNs, w)) - la), 1);
    }
    // Outside the detail windows: hatched background and the per-bin busy time.
    outsideRanges(tl).forEach(function (rg) {
      var x0 = Math.max(0, xOf(rg[0], w));
      var x1 = Math.min(w, xOf(rg[1], w));
      ctx.fillStyle = "rgba(220,224,232,0.45)";
      ctx.fillRect(x0, 0, x1 - x0, h);
      var bn = tl.density.binNs;
      var b0 = Math.max(0, Math.floor(rg[0] / bn));
      var b1 = Math.min(tl.density.busy.length ? tl.density.busy[0].length - 1 : -1, Math.floor(rg[1] / bn));
      for (var k2 = 0; k2 < tl.lanes.length; k2++) {
        var rowK = st.rowOfLane[k2];
        if (!inView(rowK)) continue;
        var bins = tl.density.busy[k2];
        for (var b = b0; b <= b1; b++) {
          var v = bins[b];
          if (!v) continue;
          var bx0 = Math.max(x0, xOf(b * bn, w));
          var bx1 = Math.min(x1, xOf((b + 1) * bn, w));
          ctx.fillStyle = "rgba(47,109,181," + Math.min(1, 0.25 + (v / bn) * 3) + ")";
          ctx.fillRect(bx0, yOf(rowK) + 4, Math.max(1, bx1 - bx0), LANE_H - 8);
        }
      }
    });
    // Detail slices: parked and stuck first (the site's name on them when there is room), then
    // runnable, then polls on top.
    var s = tl.slices;
    var labelsToDraw = [];
    for (var pass = 0; pass < 2; pass++) {
      for (var i = 0; i < s.lane.length; i++) {
        var kind = s.kind[i];
        var back = kind === 2 || kind === 4;
        if ((pass === 0) !== back) continue;
        var t0 = s.t0[i];
        var t1 = s.t1[i];
        if (t1 < st.v0 || t0 > st.v1) continue;
        var rs = rowOf(s.lane[i], s.sub[i]);
        if (!inView(rs)) continue;
        var xa = Math.max(-1, xOf(t0, w));
        var xb = Math.min(w + 1, xOf(t1, w));
        var y = yOf(rs);
        var wd = Math.max(1, xb - xa);
        if (kind === 2) {
          ctx.fillStyle = C.parked; ctx.fillRect(xa, y + 5, wd, 8);
          ctx.fillStyle = C.parkedEdge; ctx.fillRect(xa, y + 5, wd, 1); ctx.fillRect(xa, y + 12, wd, 1);
          if (wd > 60 && tl.sites[s.site[i]] && !sharedRow(rs)) labelsToDraw.push([xa, xb, y, tl.sites[s.site[i]], "#3d4556"]);
        } else if (kind === 4) {
          hatch(ctx, xa, y + 3, wd, LANE_H - 6, C.stuckBg, C.dead);
          if (wd > 60 && !sharedRow(rs)) labelsToDraw.push([xa, xb, y, "stuck" + (tl.sites[s.site[i]] ? " at '" + tl.sites[s.site[i]] + "'" : ""), "#4a148c"]);
        } else if (kind === 3) { ctx.fillStyle = C.runnable; ctx.fillRect(xa, y + 7, wd, 4); }
        else { ctx.fillStyle = kind === 1 ? C.long : C.poll; ctx.fillRect(xa, y + 3, wd, LANE_H - 6); }
      }
    }
    ctx.font = "10.5px system-ui, sans-serif";
    labelsToDraw.forEach(function (lb) {
      var xa2 = Math.max(lb[0], 0) + 3;
      var room = Math.min(lb[1], w) - xa2 - 3;
      if (room < 30) return;
      ctx.save();
      ctx.beginPath(); ctx.rect(xa2, lb[2], room, LANE_H); ctx.clip();
      ctx.fillStyle = "rgba(255,255,255,0.75)";
      var tw = Math.min(room, ctx.measureText(lb[3]).width + 4);
      ctx.fillRect(xa2 - 2, lb[2] + 4, tw, 10);
      ctx.fillStyle = lb[4];
      ctx.fillText(lb[3], xa2, lb[2] + 13);
      ctx.restore();
    });
    drawWakes(ctx, tl, w, yOf, inView);
    drawCycles(ctx, tl, w, yOf);
    // Detail window edges and the selected lint.
    ctx.setLineDash([4, 3]);
    ctx.strokeStyle = "#8a93a6";
    ctx.lineWidth = 1;
    tl.windows.forEach(function (win) {
      [win.fromNs, win.toNs].forEach(function (t) {
        if (t <= 0 || t >= tl.durationNs || t < st.v0 || t > st.v1) return;
        var xe = xOf(t, w); ctx.beginPath(); ctx.moveTo(xe, 0); ctx.lineTo(xe, h); ctx.stroke();
      });
    });
    ctx.setLineDash([]);
    if (st.mark) {
      var ma = xOf(st.mark[0], w);
      ctx.strokeStyle = "#c62828";
      ctx.beginPath(); ctx.moveTo(ma, 0); ctx.lineTo(ma, h); ctx.stroke();
    }
    drawAxis();
    drawInflight();
  }

  function arrowHead(ctx, x, y, dir, size) {
    ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x - size * 0.6, y + dir * size); ctx.lineTo(x + size * 0.6, y + dir * size); ctx.closePath(); ctx.fill();
  }

  // Wake arrows, when few enough are in view to read.
  function drawWakes(ctx, tl, w, yOf, inView) {
    var wk = tl.wakes;
    var visible = 0;
    for (var j = 0; j < wk.t.length; j++) if (wk.t[j] >= st.v0 && wk.t[j] <= st.v1) visible++;
    if (visible > 800) return;
    ctx.strokeStyle = C.wake;
    ctx.fillStyle = C.wake;
    ctx.lineWidth = 1;
    for (var j2 = 0; j2 < wk.t.length; j2++) {
      var tw = wk.t[j2];
      if (tw < st.v0 || tw > st.v1) continue;
      var to = rowOf(wk.to[j2], wk.toSub[j2]);
      var from = wk.from[j2] >= 0 ? rowOf(wk.from[j2], wk.fromSub[j2]) : -1;
      if (!inView(to) && !inView(from)) continue;
      var x = xOf(tw, w);
      var yTo = yOf(to) + LANE_H / 2;
      var yFrom = from >= 0 ? yOf(from) + LANE_H / 2 : yTo - LANE_H / 2;
      if (from !== to) { ctx.beginPath(); ctx.moveTo(x, yFrom); ctx.lineTo(x, yTo); ctx.stroke(); }
      arrowHead(ctx, x, yTo, yTo >= yFrom ? -1 : 1, 5);
    }
  }

  // Deadlocks: from where the last member blocked to the end, an arrow from each member's row
  // to the row of each member that alone could free it, labelled with the resource between them
  // (dashed from a task blocked behind the cycle).
  function drawCycles(ctx, tl, w, yOf) {
    tl.cycles.forEach(function (c) {
      var since = 0;
      c.members.forEach(function (m) { since = Math.max(since, m.sinceNs); });
      var a = Math.max(st.v0, since);
      var b = Math.min(st.v1, tl.durationNs);
      if (b <= a) return;
      var xa = xOf(a, w), xb = xOf(b, w);
      var edges = [];
      c.members.forEach(function (m) { m.to.forEach(function (t) { edges.push([m, t, false]); }); });
      c.behind.forEach(function (m) { m.to.forEach(function (t) { edges.push([m, t, true]); }); });
      ctx.lineWidth = 2;
      ctx.font = "600 11px system-ui, sans-serif";
      edges.forEach(function (e, i) {
        var fromRef = refOfTask(tl, e[0].task), toRef = refOfTask(tl, e[1]);
        if (!fromRef || !toRef) return;
        var rf = rowOf(fromRef.lane, fromRef.sub), rt = rowOf(toRef.lane, toRef.sub);
        var x = xa + ((i + 1) / (edges.length + 1)) * (xb - xa);
        var y0 = yOf(rf) + LANE_H / 2, y1 = yOf(rt) + LANE_H / 2;
        var dir = y1 >= y0 ? 1 : -1;
        ctx.strokeStyle = C.dead;
        ctx.fillStyle = C.dead;
        ctx.beginPath(); ctx.arc(x, y0, 3, 0, 2 * Math.PI); ctx.fill();
        if (e[2]) ctx.setLineDash([4, 3]); // blocked behind the cycle, not in it
        ctx.beginPath(); ctx.moveTo(x, y0); ctx.lineTo(x, y1 - dir * 6); ctx.stroke();
        ctx.setLineDash([]);
        arrowHead(ctx, x, y1, -dir, 7);
        var text = e[0].resource + (e[0].capacity > 0 && e[0].resourceKind === "channel" ? " " + e[0].level + "/" + e[0].capacity : "") + " (" + e[0].op + ")";
        var tw = ctx.measureText(text).width + 8;
        var ym = (y0 + y1) / 2;
        var lx = Math.min(w - tw - 2, x + 5);
        ctx.fillStyle = "rgba(255,255,255,0.92)";
        ctx.fillRect(lx, ym - 8, tw, 15);
        ctx.strokeStyle = C.dead;
        ctx.lineWidth = 1;
        ctx.strokeRect(lx, ym - 8, tw, 15);
        ctx.lineWidth = 2;
        ctx.fillStyle = C.dead;
        ctx.fillText(text, lx + 4, ym + 3);
      });
      ctx.lineWidth = 1;
    });
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

  // ---- requests in flight, per kind ----
  function renderInflightLabels() {
    var box = document.getElementById("inflight-labels");
    box.textContent = "";
    st.tl.inflight.forEach(function (k) {
      var d = el("div", "iflabel", k.kind + " in flight ");
      d.appendChild(el("span", "st", "(at most " + k.max + ")"));
      d.title = "requests '" + k.kind + "' running at once (FLOW_BEGIN to FLOW_END)";
      box.appendChild(d);
    });
  }

  function drawInflight() {
    var tl = st.tl;
    if (tl.inflight.length === 0) return;
    var dpr = window.devicePixelRatio || 1;
    var ctx = inflightCanvas.getContext("2d");
    var w = inflightCanvas.width / dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, tl.inflight.length * TRACK_H);
    var outside = outsideRanges(tl);
    var bn = tl.density.binNs;
    tl.inflight.forEach(function (k, i) {
      var base = (i + 1) * TRACK_H - 2;
      var scale = (TRACK_H - 6) / Math.max(1, k.max);
      ctx.fillStyle = i % 2 ? "#fafbfd" : "#ffffff";
      ctx.fillRect(0, i * TRACK_H, w, TRACK_H);
      ctx.fillStyle = C.inflight;
      function bars(from, to) {
        var b0 = Math.max(0, Math.floor(from / bn)), b1 = Math.min(k.binMax.length - 1, Math.floor(to / bn));
        for (var b = b0; b <= b1; b++) {
          var v = k.binMax[b];
          if (!v) continue;
          var x0 = Math.max(xOf(from, w), xOf(b * bn, w)), x1 = Math.min(xOf(to, w), xOf((b + 1) * bn, w));
          ctx.fillRect(x0, base - v * scale, Math.max(1, x1 - x0), v * scale);
        }
      }
      outside.forEach(function (rg) { bars(rg[0], rg[1]); });
      // Inside the detail windows: exact steps, as far as they are complete.
      var p = k.points;
      tl.windows.forEach(function (win) {
        var a = Math.max(win.fromNs, st.v0), b = Math.min(win.toNs, st.v1);
        var exactTo = Math.min(b, k.exactToNs);
        if (b > Math.max(a, exactTo)) bars(Math.max(a, exactTo), b);
        b = exactTo;
        if (b <= a) return;
        var any = false;
        for (var j = 0; j < p.t.length; j++) {
          if (p.t[j] < win.fromNs) continue;
          if (p.t[j] > win.toNs) break;
          any = true;
          var next = j + 1 < p.t.length && p.t[j + 1] <= win.toNs ? p.t[j + 1] : win.toNs;
          var level = p.n[j];
          var sa = Math.max(a, p.t[j]), sb = Math.min(b, next);
          if (sb > sa && level > 0) { var x0 = xOf(sa, w); ctx.fillRect(x0, base - level * scale, Math.max(1, xOf(sb, w) - x0), level * scale); }
        }
        if (!any) bars(a, b); // no request began or ended inside: the level is the bins'
      });
    });
  }

  // ---- interaction ----
  var drag = null;
  function zoom(e, canvas) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    var t = st.v0 + ((e.clientX - r.left) / r.width) * (st.v1 - st.v0);
    var f = e.deltaY > 0 ? 1.25 : 0.8;
    setView(t - (t - st.v0) * f, t + (st.v1 - t) * f);
  }
  [lanesCanvas, axisCanvas, inflightCanvas].forEach(function (c) {
    c.addEventListener("wheel", function (e) { zoom(e, c); }, { passive: false });
    c.addEventListener("mousedown", function (e) { drag = { x: e.clientX, w: c.getBoundingClientRect().width, v0: st.v0, v1: st.v1 }; c.style.cursor = "grabbing"; });
  });
  window.addEventListener("mouseup", function () { drag = null; lanesCanvas.style.cursor = ""; axisCanvas.style.cursor = ""; inflightCanvas.style.cursor = ""; });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var dt = ((e.clientX - drag.x) / drag.w) * (drag.v1 - drag.v0);
    setView(drag.v0 - dt, drag.v1 - dt);
  });
  var pending = false;
  wrap.addEventListener("scroll", function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; draw(); });
  });
  lanesCanvas.addEventListener("mousemove", function (e) {
    if (drag) { tip.hidden = true; return; }
    var r = lanesCanvas.getBoundingClientRect();
    var t = st.v0 + ((e.clientX - r.left) / r.width) * (st.v1 - st.v0);
    var row = Math.floor((e.clientY - r.top + wrap.scrollTop) / LANE_H);
    showTip(e, describe(row, t, ((st.v1 - st.v0) / r.width) * 3));
  });
  inflightCanvas.addEventListener("mousemove", function (e) {
    if (drag) { tip.hidden = true; return; }
    var r = inflightCanvas.getBoundingClientRect();
    var t = st.v0 + ((e.clientX - r.left) / r.width) * (st.v1 - st.v0);
    var k = st.tl.inflight[Math.floor((e.clientY - r.top) / TRACK_H)];
    showTip(e, k ? inflightAt(k, t) : "");
  });
  lanesCanvas.addEventListener("mouseleave", function () { tip.hidden = true; });
  inflightCanvas.addEventListener("mouseleave", function () { tip.hidden = true; });

  function showTip(e, text) {
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    tip.style.left = (e.clientX + 12) + "px";
    tip.style.top = (e.clientY + 12) + "px";
  }

  function inflightAt(k, t) {
    var tl = st.tl;
    var win = windowAt(tl, t);
    if (win && t <= k.exactToNs) {
      var n = 0;
      for (var j = 0; j < k.points.t.length && k.points.t[j] <= t; j++) if (k.points.t[j] >= win.fromNs) n = k.points.n[j];
      return k.kind + ": " + n + " in flight at " + fmt(t);
    }
    var b = Math.min(k.binMax.length - 1, Math.max(0, Math.floor(t / tl.density.binNs)));
    return k.kind + ": at most " + k.binMax[b] + " in flight around " + fmt(t);
  }

  function describe(rowIndex, t, slack) {
    var tl = st.tl;
    var row = st.rows[rowIndex];
    if (!row) return "";
    var lane = tl.lanes[row.lane];
    var s = tl.slices;
    var best = -1;
    var rank = { 0: 3, 1: 4, 3: 2, 2: 1, 4: 1 };
    for (var i = 0; i < s.lane.length; i++) {
      if (rowOf(s.lane[i], s.sub[i]) !== rowIndex || s.t0[i] - slack > t || s.t1[i] + slack < t) continue;
      if (best < 0 || rank[s.kind[i]] > rank[s.kind[best]]) best = i;
    }
    var who = row.sub >= 0 ? tl.subLanes[row.sub].label : lane.label;
    if (best < 0) return who + " at " + fmt(t);
    if (row.sub < 0 && lane.task < 0 && s.sub[best] >= 0) who = tl.subLanes[s.sub[best]].label + " (" + lane.label + ")";
    var d = fmt(s.t1[best] - s.t0[best]);
    var kind = s.kind[best];
    if (kind === 0) return who + ": poll of " + d + " at " + fmt(s.t0[best]);
    if (kind === 1) return who + ": LONG poll of " + d + " at " + fmt(s.t0[best]);
    if (kind === 3) return who + ": runnable for " + d + ", waiting for the executor";
    var site = tl.sites[s.site[best]];
    if (kind === 4) return who + ": stuck for good from " + fmt(s.t0[best]) + (site ? " at '" + site + "'" : "") + " (" + d + " to the end)";
    return who + ": parked " + d + (site ? " at '" + site + "'" : "");
  }

  document.getElementById("fit").addEventListener("click", function () { setView(0, st.tl.durationNs); });
  document.getElementById("unpin").addEventListener("click", function () { st.pinned = []; st.hl = {}; layout(); });
  window.addEventListener("resize", function () { resize(); draw(); });

  labels.addEventListener("click", function (e) {
    var d = e.target.closest ? e.target.closest(".lane") : null;
    if (!d) return;
    var k = Number(d.getAttribute("data-lane"));
    var sub = Number(d.getAttribute("data-sub"));
    if (sub < 0 && st.tl.lanes[k].task < 0) { toggle(k); return; }
    st.hl = {};
    st.hl[Number(d.getAttribute("data-task"))] = true;
    renderLabels();
    draw();
  });

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
      [f.kind, count(f.finished), fmt(f.latencyNs.p50), fmt(f.latencyNs.p90), fmt(f.latencyNs.p99), fmt(f.latencyNs.max), String(f.unfinished)].forEach(function (c, i) { tr.appendChild(el("td", i === 0 ? "l" : "", c)); });
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
      ["task", function (x) { return taskLabel(x); }, "l"], ["parent", function (x) { return x.parentName || "-"; }, "l"],
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
      cols.forEach(function (c) {
        var th = el("th", c[2] || "", c[0]);
        th.addEventListener("click", function () {
          rows.sort(function (a, b) { var x = c[1](a), y = c[1](b); return typeof x === "number" ? y - x : String(x).localeCompare(String(y)); });
          fill();
        });
        hr.appendChild(th);
      });
      thead.appendChild(hr);
      t.appendChild(thead);
      var tb = el("tbody");
      rows.forEach(function (x) {
        var tr = el("tr");
        tr.setAttribute("data-task", String(x.index));
        cols.forEach(function (c) { var v = c[1](x); tr.appendChild(el("td", c[2] || "", c[3] ? c[3](v) : typeof v === "number" ? count(v) : v)); });
        tr.addEventListener("click", function () { goToTask(x); });
        tb.appendChild(tr);
      });
      t.appendChild(tb);
    }
    fill();
    if (data.tasksOmitted > 0) document.getElementById("tasks-note").textContent = "The first " + data.tasks.length + " tasks are listed; " + count(data.tasksOmitted) + " more are in trace-report --json.";
  }

  function goToTask(x) {
    var tl = timelineOf(x.session);
    if (!tl) return;
    if (st.tl !== tl) selectSession(tl);
    pinTasks(tl, [x.index], "picked in the task table");
    var a = (x.spawnedNs !== null ? x.spawnedNs : tl.startNs) - tl.startNs;
    var b = (x.endedNs !== null ? x.endedNs : tl.startNs + tl.durationNs) - tl.startNs;
    setView(a - (b - a) * 0.05, b + (b - a) * 0.05);
    document.getElementById("timeline-section").scrollIntoView({ block: "start" });
  }

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
