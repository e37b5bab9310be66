/* kiosk HQ dashboard: plain JS, no build step, no external assets.
   Every value is put into the page as DOM nodes and text (h(), svg(), put()): no HTML is built
   from strings, so nothing a branch publishes is ever parsed as markup. */
(function () {
  "use strict";
  var HQ = JSON.parse(document.body.dataset.hq || "{}");
  window.HQ = HQ;
  var T = HQ.text || {};
  var main = document.getElementById("main");
  var MEASURE = /[?&]measure=1\b/.test(location.search);
  window.hqLog = [];      // [branch, last_seq, epoch ms rendered] when ?measure=1
  window.hqRenders = 0;

  function t(k) { return Object.prototype.hasOwnProperty.call(T, k) ? T[k] : String(k); }

  // -- DOM building -----------------------------------------------------------------------------
  var SVG_NS = "http://www.w3.org/2000/svg";
  function attrs(e, a) {
    Object.keys(a || {}).forEach(function (k) {
      var v = a[k];
      if (v == null || v === false) return;
      if (/^on/i.test(k)) throw new Error("no inline handlers: " + k);
      e.setAttribute(k, v === true ? "" : String(v));
    });
  }
  function add(e, kids) {
    if (kids == null || kids === false) return e;
    if (!Array.isArray(kids)) kids = [kids];
    kids.forEach(function (k) {
      if (Array.isArray(k)) add(e, k);
      else if (k != null && k !== false) e.appendChild(typeof k === "object" ? k : document.createTextNode(String(k)));
    });
    return e;
  }
  function h(tag, a, kids) { var e = document.createElement(tag); attrs(e, a); return add(e, kids); }
  function svg(tag, a, kids) { var e = document.createElementNS(SVG_NS, tag); attrs(e, a); return add(e, kids); }
  function put(target, kids) {
    var e = typeof target === "string" ? document.getElementById(target) : target;
    e.textContent = "";
    return add(e, kids);
  }
  function $(id) { return document.getElementById(id); }

  function dur(s) {
    if (s == null || isNaN(s)) return "–";
    s = Math.max(0, Math.round(s));
    if (s < 60) return s + "s";
    if (s < 3600) return Math.floor(s / 60) + "m" + String(s % 60).padStart(2, "0") + "s";
    return Math.floor(s / 3600) + "h" + String(Math.floor(s % 3600 / 60)).padStart(2, "0") + "m";
  }
  function pct(x) { return x == null ? "–" : (Math.round(x * 1000) / 10) + "%"; }
  function num(x, d) { return x == null ? "–" : (d ? Number(x).toFixed(d) : String(x)); }
  function parseTs(iso) { var d = iso ? new Date(iso) : null; return d && !isNaN(d) ? d : null; }
  // times are shown as the hall's own wall-clock time (the offset in the kiosk's ISO stamp),
  // not converted to the viewer's time zone
  var ISO = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)/;
  function hhmm(iso) {  // "11-23 08:31"
    var m = ISO.exec(typeof iso === "string" ? iso : ""); return m ? m[2] + "-" + m[3] + " " + m[4] + ":" + m[5] : "–";
  }
  function clockUtc(iso) {  // the command log is stamped by the server in UTC: shown in the viewer's time
    var d = parseTs(iso); return d ? d.toTimeString().slice(0, 8) : "–";
  }
  function clock(iso) {  // "08:31:05"
    var m = ISO.exec(typeof iso === "string" ? iso : ""); return m ? m[4] + ":" + m[5] + ":" + m[6] : "–";
  }
  function ago(iso) {
    var d = parseTs(iso); if (!d) return "";
    var s = (Date.now() - d.getTime()) / 1000;
    return s < 0 ? "" : dur(s) + (HQ.lang === "zh" ? t("ago") : " " + t("ago"));
  }
  function stateOf(r) { return r.online === true ? "online" : r.online === false ? "offline" : "unknown"; }
  function name2(n) { return n && typeof n === "object" ? String(n[HQ.lang] || n.en || n.zh || "") : (n == null ? "" : String(n)); }
  function level(x) { var n = Number(x); return n === 1 || n === 2 ? n : 0; }  // a class name from a number only
  function api(path, opts) {
    var o = Object.assign({ credentials: "same-origin" }, opts || {});
    o.headers = Object.assign({ "Accept": "application/json", "X-CSRF-Token": HQ.csrf || "" }, (opts || {}).headers || {});
    return fetch(path, o).then(function (r) {
      if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
      return r.json().then(function (j) { j.__status = r.status; return j; });
    });
  }
  function setLive(on) {
    var d = $("live");
    if (d) { d.className = "live " + (on ? "on" : "off"); d.title = on ? t("connected") : t("disconnected"); }
    document.body.dataset.live = on ? "1" : "0";
  }
  function stream(branch, handlers) {
    var es = new EventSource("/api/stream" + (branch ? "?branch=" + encodeURIComponent(branch) : ""));
    es.onopen = function () { setLive(true); };
    es.onerror = function () {
      setLive(false);
      if (es.readyState === 2) { api("/api/me").then(function () { setTimeout(function () { stream(branch, handlers); }, 2000); }); }
    };
    es.addEventListener("logout", function () { es.close(); location.href = "/login"; });
    Object.keys(handlers).forEach(function (k) {
      es.addEventListener(k, function (ev) { handlers[k](JSON.parse(ev.data)); });
    });
    return es;
  }
  function noData(cols) { return h("tr", null, h("td", { colspan: cols, "class": "dim" }, t("no_data"))); }
  function thead(cells) {  // cells: [label, class]
    return h("thead", null, h("tr", null, cells.map(function (c) { return h("th", { "class": c[1] || null }, c[0]); })));
  }

  // -- sortable tables ----------------------------------------------------------------------------
  var COLLATOR = new Intl.Collator(undefined, { numeric: true });  // one collator (localeCompare makes one per call)
  function cmp(a, b) {
    if (a == null && b == null) return 0; if (a == null) return 1; if (b == null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return COLLATOR.compare(String(a), String(b));
  }
  function sortHeader(cols, sort, rerender) {
    return h("thead", null, h("tr", null, cols.map(function (c) {
      var th = h("th", { "class": "sort" + (c.num ? " num" : ""), "data-key": c.key,
        "aria-sort": sort.key === c.key ? (sort.dir > 0 ? "ascending" : "descending") : "none" }, c.label);
      th.addEventListener("click", function () {
        if (sort.key === c.key) sort.dir = -sort.dir; else { sort.key = c.key; sort.dir = c.num ? -1 : 1; }
        rerender();
      });
      return th;
    })));
  }

  // -- charts (inline SVG) ------------------------------------------------------------------------
  function grid(L, W, R, gy) { return svg("line", { "class": "grid", x1: L, x2: W - R, y1: gy, y2: gy }); }
  function barChart(items, opts) {
    // items: [{label, a, b}] — a drawn light (e.g. max), b dark (e.g. mean); values in opts.unit
    var W = 440, H = 190, L = 40, B = 24, Tp = 10, R = 8;
    if (!items.length) return h("p", { "class": "dim" }, t("no_data"));
    var max = Math.max.apply(null, items.map(function (i) { return Math.max(i.a || 0, i.b || 0); }).concat([opts.target || 0, 1e-9]));
    var nice = niceMax(max), iw = (W - L - R) / items.length, bw = Math.max(2, iw * 0.7);
    var mant = Math.round(nice / Math.pow(10, Math.floor(Math.log10(nice))) * 10) / 10;
    var steps = mant === 1.5 || mant === 3 ? 3 : 4;  // round numbers on the axis
    var y = function (v) { return Tp + (H - Tp - B) * (1 - v / nice); };
    var s = svg("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opts.title || "" });
    for (var g = 0; g <= steps; g++) {
      var gv = nice * g / steps, gy = y(gv);
      add(s, [grid(L, W, R, gy), svg("text", { x: L - 4, y: gy + 4, "text-anchor": "end" }, opts.fmt(gv))]);
    }
    items.forEach(function (it, i) {
      var x = L + i * iw + (iw - bw) / 2;
      if (it.a != null) add(s, svg("rect", { "class": "bar", x: x, y: y(it.a), width: bw, height: H - B - y(it.a) }, svg("title", null, it.label + ": " + opts.fmt(it.a))));
      if (it.b != null) add(s, svg("rect", { "class": "bar2", x: x + bw * 0.2, y: y(it.b), width: bw * 0.6, height: H - B - y(it.b) }, svg("title", null, it.label + ": " + opts.fmt(it.b))));
      if (items.length <= 16 || i % 2 === 0) add(s, svg("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle" }, it.label));
    });
    if (opts.target) { var ty = y(opts.target); add(s, svg("line", { "class": "target", x1: L, x2: W - R, y1: ty, y2: ty })); }
    return s;
  }
  function lineChart(items, opts) {
    var W = 440, H = 190, L = 40, B = 24, Tp = 10, R = 8;
    var pts = items.filter(function (i) { return i.v != null; });
    if (!pts.length) return h("p", { "class": "dim" }, t("no_data"));
    var iw = (W - L - R) / items.length;
    var y = function (v) { return Tp + (H - Tp - B) * (1 - v); };
    var s = svg("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": opts.title || "" });
    for (var g = 0; g <= 4; g++) {
      var gy = y(g / 4);
      add(s, [grid(L, W, R, gy), svg("text", { x: L - 4, y: gy + 4, "text-anchor": "end" }, (g * 25) + "%")]);
    }
    if (opts.target) { var ty = y(opts.target); add(s, svg("line", { "class": "target", x1: L, x2: W - R, y1: ty, y2: ty })); }
    var path = "", dots = [];
    items.forEach(function (it, i) {
      var x = L + i * iw + iw / 2;
      if (items.length <= 16 || i % 2 === 0) add(s, svg("text", { x: x, y: H - 8, "text-anchor": "middle" }, it.label));
      if (it.v == null) return;
      path += (path ? "L" : "M") + x.toFixed(1) + "," + y(it.v).toFixed(1);
      dots.push(svg("circle", { "class": "dot", cx: x, cy: y(it.v), r: 3 }, svg("title", null, it.label + ": " + pct(it.v))));
    });
    return add(s, [dots, svg("path", { "class": "line", d: path })]);
  }
  function hbarChart(items, fmt, max) {
    var W = 720, rowH = 20, L = 140, R = 70, H = items.length * rowH + 6;
    if (!items.length) return h("p", { "class": "dim" }, t("no_data"));
    max = max || Math.max.apply(null, items.map(function (i) { return i.v || 0; }).concat([1e-9]));
    var s = svg("svg", { "class": "chart hbar", viewBox: "0 0 " + W + " " + H, role: "img" });
    items.forEach(function (it, i) {
      var yy = 3 + i * rowH, w = (W - L - R) * (it.v || 0) / max;
      add(s, [svg("text", { x: L - 6, y: yy + 13, "text-anchor": "end" }, it.label),
        svg("rect", { "class": "bar2", x: L, y: yy + 2, width: Math.max(0, w), height: rowH - 5 }),
        svg("text", { x: L + w + 4, y: yy + 13 }, fmt(it.v))]);
    });
    return s;
  }
  function niceMax(v) {
    var p = Math.pow(10, Math.floor(Math.log10(v))), m = v / p;
    return (m <= 1 ? 1 : m <= 1.5 ? 1.5 : m <= 2 ? 2 : m <= 3 ? 3 : m <= 5 ? 5 : 10) * p;
  }
  function hourItems(hours, f) {
    if (!hours.length) return [];
    var lo = Math.min.apply(null, hours.map(function (h) { return h.hour; }));
    var hi = Math.max.apply(null, hours.map(function (h) { return h.hour; }));
    var by = {}; hours.forEach(function (h) { by[h.hour] = h; });
    var out = [];
    for (var hr = lo; hr <= hi; hr++) out.push(Object.assign({ label: String(hr).padStart(2, "0") }, f(by[hr] || {})));
    return out;
  }

  // -- device faults (open ones: name -> {kind, reason, since}) ----------------------------------------
  function devKind(k) { var w = t("dev_" + k); return w === "dev_" + k ? String(k) : w; }
  function deviceText(devs) {
    var names = Object.keys(devs || {});
    return {
      n: names.length,
      short: names.map(function (n) { return n + " " + devKind(devs[n].kind); }).join(", "),
      long: names.map(function (n) { return n + ": " + devKind(devs[n].kind) + (devs[n].reason ? " (" + devs[n].reason + ")" : ""); }).join("\n")
    };
  }

  // -- gaps in HQ's recording (row: gaps open, missing seqs, gaps_lost seqs lost at the branch) ------------
  function gapText(r) {
    var out = [];
    if (r.gaps) out.push(t("gaps_open").replace("{n}", String(r.gaps)).replace("{m}", String(r.missing)));
    if (r.gaps_lost) out.push(t("gaps_lost").replace("{n}", String(r.gaps_lost)));
    return out.join(" · ");
  }
  function gapBadge(r) {
    if (!r.gaps && !r.gaps_lost) return h("span", { "class": "dim" }, "–");
    return h("span", { "class": "badge gap " + (r.gaps ? "l2" : "l1"), "data-gaps": String(r.gaps || 0),
      "data-missing": String(r.missing || 0), title: gapText(r) }, String(r.gaps ? r.missing : r.gaps_lost));
  }

  HQ.ui = { h: h, svg: svg, gapText: gapText, gapBadge: gapBadge, put: put, t: t, dur: dur, pct: pct, num: num, hhmm: hhmm, clock: clock, clockUtc: clockUtc,
    ago: ago, stateOf: stateOf, name2: name2, level: level, api: api, stream: stream, noData: noData, thead: thead,
    cmp: cmp, sortHeader: sortHeader, barChart: barChart, lineChart: lineChart, hbarChart: hbarChart,
    hourItems: hourItems, devKind: devKind, deviceText: deviceText, main: main, MEASURE: MEASURE };
})();
