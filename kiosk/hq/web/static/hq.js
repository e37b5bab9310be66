/* kiosk HQ dashboard: plain JS, no build step, no external assets. */
(function () {
  "use strict";
  var HQ = window.HQ || {};
  var T = HQ.text || {};
  var main = document.getElementById("main");
  var MEASURE = /[?&]measure=1\b/.test(location.search);
  window.hqLog = [];      // [branch, last_seq, epoch ms rendered] when ?measure=1
  window.hqRenders = 0;

  function t(k) { return T[k] || k; }
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function el(html) { var d = document.createElement("div"); d.innerHTML = html; return d.firstElementChild; }
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
    var m = ISO.exec(iso || ""); return m ? m[2] + "-" + m[3] + " " + m[4] + ":" + m[5] : "–";
  }
  function clockUtc(iso) {  // the command log is stamped by the server in UTC: shown in the viewer's time
    var d = parseTs(iso); return d ? d.toTimeString().slice(0, 8) : "–";
  }
  function clock(iso) {  // "08:31:05"
    var m = ISO.exec(iso || ""); return m ? m[4] + ":" + m[5] + ":" + m[6] : "–";
  }
  function ago(iso) {
    var d = parseTs(iso); if (!d) return "";
    var s = (Date.now() - d.getTime()) / 1000;
    return s < 0 ? "" : dur(s) + (HQ.lang === "zh" ? t("ago") : " " + t("ago"));
  }
  function stateOf(r) { return r.online === true ? "online" : r.online === false ? "offline" : "unknown"; }
  function name2(n) { return n && typeof n === "object" ? (n[HQ.lang] || n.en || n.zh || "") : (n || ""); }
  function api(path, opts) {
    return fetch(path, Object.assign({ credentials: "same-origin", headers: { "Accept": "application/json" } }, opts || {}))
      .then(function (r) {
        if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); }
        return r.json().then(function (j) { j.__status = r.status; return j; });
      });
  }
  function setLive(on) {
    var d = document.getElementById("live");
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

  // -- sortable tables ----------------------------------------------------------------------------
  var COLLATOR = new Intl.Collator(undefined, { numeric: true });  // one collator (localeCompare makes one per call)
  function cmp(a, b) {
    if (a == null && b == null) return 0; if (a == null) return 1; if (b == null) return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return COLLATOR.compare(String(a), String(b));
  }
  function sortHeader(cols, sort) {
    return "<thead><tr>" + cols.map(function (c) {
      var s = sort.key === c.key ? (sort.dir > 0 ? "ascending" : "descending") : "none";
      return '<th class="sort' + (c.num ? " num" : "") + '" data-key="' + c.key + '" aria-sort="' + s + '">' + esc(c.label) + "</th>";
    }).join("") + "</tr></thead>";
  }
  function bindSort(table, sort, rerender) {
    table.querySelectorAll("th.sort").forEach(function (th) {
      th.addEventListener("click", function () {
        var k = th.dataset.key;
        if (sort.key === k) sort.dir = -sort.dir; else { sort.key = k; sort.dir = th.classList.contains("num") ? -1 : 1; }
        rerender();
      });
    });
  }

  // -- charts (inline SVG) ------------------------------------------------------------------------
  function barChart(items, opts) {
    // items: [{label, a, b}] — a drawn light (e.g. max), b dark (e.g. mean); values in opts.unit
    var W = 440, H = 190, L = 40, B = 24, Tp = 10, R = 8;
    if (!items.length) return '<p class="dim">' + t("no_data") + "</p>";
    var max = Math.max.apply(null, items.map(function (i) { return Math.max(i.a || 0, i.b || 0); }).concat([opts.target || 0, 1e-9]));
    var nice = niceMax(max), iw = (W - L - R) / items.length, bw = Math.max(2, iw * 0.7);
    var mant = Math.round(nice / Math.pow(10, Math.floor(Math.log10(nice))) * 10) / 10;
    var steps = mant === 1.5 || mant === 3 ? 3 : 4;  // round numbers on the axis
    var y = function (v) { return Tp + (H - Tp - B) * (1 - v / nice); };
    var s = '<svg class="chart" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(opts.title || "") + '">';
    for (var g = 0; g <= steps; g++) {
      var gv = nice * g / steps, gy = y(gv);
      s += '<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + gy + '" y2="' + gy + '"/>';
      s += '<text x="' + (L - 4) + '" y="' + (gy + 4) + '" text-anchor="end">' + esc(opts.fmt(gv)) + "</text>";
    }
    items.forEach(function (it, i) {
      var x = L + i * iw + (iw - bw) / 2;
      if (it.a != null) s += '<rect class="bar" x="' + x + '" y="' + y(it.a) + '" width="' + bw + '" height="' + (H - B - y(it.a)) + '"><title>' + esc(it.label + ": " + opts.fmt(it.a)) + "</title></rect>";
      if (it.b != null) s += '<rect class="bar2" x="' + (x + bw * 0.2) + '" y="' + y(it.b) + '" width="' + (bw * 0.6) + '" height="' + (H - B - y(it.b)) + '"><title>' + esc(it.label + ": " + opts.fmt(it.b)) + "</title></rect>";
      if (items.length <= 16 || i % 2 === 0) s += '<text x="' + (x + bw / 2) + '" y="' + (H - 8) + '" text-anchor="middle">' + esc(it.label) + "</text>";
    });
    if (opts.target) { var ty = y(opts.target); s += '<line class="target" x1="' + L + '" x2="' + (W - R) + '" y1="' + ty + '" y2="' + ty + '"/>'; }
    return s + "</svg>";
  }
  function lineChart(items, opts) {
    var W = 440, H = 190, L = 40, B = 24, Tp = 10, R = 8;
    var pts = items.filter(function (i) { return i.v != null; });
    if (!pts.length) return '<p class="dim">' + t("no_data") + "</p>";
    var iw = (W - L - R) / items.length;
    var y = function (v) { return Tp + (H - Tp - B) * (1 - v); };
    var s = '<svg class="chart" viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="' + esc(opts.title || "") + '">';
    for (var g = 0; g <= 4; g++) {
      var gy = y(g / 4);
      s += '<line class="grid" x1="' + L + '" x2="' + (W - R) + '" y1="' + gy + '" y2="' + gy + '"/>';
      s += '<text x="' + (L - 4) + '" y="' + (gy + 4) + '" text-anchor="end">' + (g * 25) + "%</text>";
    }
    if (opts.target) { var ty = y(opts.target); s += '<line class="target" x1="' + L + '" x2="' + (W - R) + '" y1="' + ty + '" y2="' + ty + '"/>'; }
    var path = "";
    items.forEach(function (it, i) {
      var x = L + i * iw + iw / 2;
      if (items.length <= 16 || i % 2 === 0) s += '<text x="' + x + '" y="' + (H - 8) + '" text-anchor="middle">' + esc(it.label) + "</text>";
      if (it.v == null) return;
      path += (path ? "L" : "M") + x.toFixed(1) + "," + y(it.v).toFixed(1);
      s += '<circle class="dot" cx="' + x + '" cy="' + y(it.v) + '" r="3"><title>' + esc(it.label + ": " + pct(it.v)) + "</title></circle>";
    });
    return s + '<path class="line" d="' + path + '"/></svg>';
  }
  function hbarChart(items, fmt, max) {
    var W = 720, rowH = 20, L = 140, R = 70, H = items.length * rowH + 6;
    if (!items.length) return '<p class="dim">' + t("no_data") + "</p>";
    max = max || Math.max.apply(null, items.map(function (i) { return i.v || 0; }).concat([1e-9]));
    var s = '<svg class="chart hbar" viewBox="0 0 ' + W + " " + H + '" role="img">';
    items.forEach(function (it, i) {
      var yy = 3 + i * rowH, w = (W - L - R) * (it.v || 0) / max;
      s += '<text x="' + (L - 6) + '" y="' + (yy + 13) + '" text-anchor="end">' + esc(it.label) + "</text>";
      s += '<rect class="bar2" x="' + L + '" y="' + (yy + 2) + '" width="' + Math.max(0, w) + '" height="' + (rowH - 5) + '"/>';
      s += '<text x="' + (L + w + 4) + '" y="' + (yy + 13) + '">' + esc(fmt(it.v)) + "</text>";
    });
    return s + "</svg>";
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
    for (var h = lo; h <= hi; h++) out.push(Object.assign({ label: String(h).padStart(2, "0") }, f(by[h] || {})));
    return out;
  }

  // -- device faults (open ones: name -> {kind, reason, since}) ----------------------------------------
  function devKind(k) { var w = t("dev_" + k); return w === "dev_" + k ? k : w; }
  function deviceCell(devs) {
    var names = Object.keys(devs || {});
    if (!names.length) return '<span class="dim">–</span>';
    return '<span class="badge l1 dev" data-devices="' + names.length + '" title="' +
      esc(names.map(function (n) { return n + ": " + devKind(devs[n].kind) + (devs[n].reason ? " (" + devs[n].reason + ")" : ""); }).join("\n")) +
      '">' + esc(names.map(function (n) { return n + " " + devKind(devs[n].kind); }).join(", ")) + "</span>";
  }

  // -- branch list ----------------------------------------------------------------------------------
  function pageList() {
    var rows = new Map(), changed = new Set();
    var st = { q: "", show: "all", alertsFirst: true, sort: { key: "branch", dir: 1 }, totals: {} };
    var COLS = [
      { key: "branch", label: t("branch") }, { key: "state", label: t("state") },
      { key: "since", label: t("since") }, { key: "waiting_total", label: t("waiting"), num: 1 },
      { key: "longest_wait_s", label: t("longest"), num: 1 }, { key: "open_counters", label: t("open_counters"), num: 1 },
      { key: "alert_level", label: t("alert"), num: 1 }, { key: "device_faults", label: t("devices") },
      { key: "events_per_min", label: t("events_min"), num: 1 }];
    main.innerHTML =
      '<div class="summary" id="summary"></div>' +
      '<div class="tools"><input type="search" id="q" placeholder="' + esc(t("filter")) + '" aria-label="' + esc(t("filter")) + '">' +
      '<span class="seg" id="show"><button data-v="all" class="on">' + esc(t("all")) + '</button><button data-v="alerts">' + esc(t("only_alerts")) +
      '</button><button data-v="offline">' + esc(t("only_offline")) + "</button></span>" +
      '<label><input type="checkbox" id="af" checked> ' + esc(t("alerts_first")) + "</label></div>" +
      '<div class="tablewrap"><table class="branches" id="tbl"></table></div><div class="more" id="more"></div>';
    var q = document.getElementById("q");
    q.addEventListener("input", function () { st.q = q.value.trim().toLowerCase(); schedule(); });
    document.querySelectorAll("#show button").forEach(function (b) {
      b.addEventListener("click", function () {
        st.show = b.dataset.v;
        document.querySelectorAll("#show button").forEach(function (x) { x.classList.toggle("on", x === b); });
        schedule();
      });
    });
    document.getElementById("af").addEventListener("change", function (e) { st.alertsFirst = e.target.checked; schedule(); });
    var pending = false;
    function schedule() { if (!pending) { pending = true; requestAnimationFrame(render); } }
    function severity(r) { return r.online === false ? Math.max(r.alert_level || 0, 1.5) : (r.alert_level || 0); }
    function key(r, k) { return k === "state" ? stateOf(r) : k === "since" ? (r.state_seen || r.since || "") : r[k]; }
    var trs = new Map(), headerKey = null;
    var TEXT_CELL = [false, false, false, true, true, true, false, false, true];  // set with textContent (no HTML parsing)
    function cells(r) {
      var sc = stateOf(r), lvl = r.alert_level || 0;
      return [
        '<a href="/branch/' + encodeURIComponent(r.branch) + '">' + esc(r.branch) + "</a>",
        '<span class="badge ' + sc + '">' + esc(t(sc)) + "</span>",
        esc(hhmm(r.state_seen || r.since)) + ' <span class="dim">' + esc(ago(r.state_seen || r.since)) + "</span>",
        String(r.waiting_total), dur(r.longest_wait_s), num(r.open_counters),
        '<span class="badge l' + lvl + '" title="' + esc(r.alert_reason || "") + '">' + esc(t("level" + lvl)) + "</span>",
        deviceCell(r.devices), String(r.events_per_min)];
    }
    var CELL_CLASS = ["bname", "", "", "num", "num", "num", "num", "", "num"];
    function fill(tr, r) {  // only the cells whose text changed are touched
      var html = cells(r);
      for (var i = 0; i < html.length; i++) {
        if (tr._html[i] !== html[i]) {
          tr._html[i] = html[i];
          if (TEXT_CELL[i]) tr.children[i].textContent = html[i]; else tr.children[i].innerHTML = html[i];
        }
      }
      tr._stale = false;
    }
    // rows off the screen are not rebuilt on every push: they are marked stale and filled when
    // they scroll into view (with 1,000 branches, a push touches a few dozen rows, not hundreds)
    var visible = new Set();
    var io = "IntersectionObserver" in window ? new IntersectionObserver(function (entries) {
      var now = Date.now();
      entries.forEach(function (e) {
        var tr = e.target;
        if (!e.isIntersecting) { visible.delete(tr); return; }
        visible.add(tr);
        if (tr._stale) {
          var r = rows.get(tr.dataset.branch);
          if (r) { fill(tr, r); if (MEASURE) window.hqLog.push([r.branch, r.last_seq, now]); }
        }
      });
    }, { rootMargin: "300px 0px" }) : null;
    function newRow() {
      var tr = document.createElement("tr");
      COLS.forEach(function (c, i) {
        var td = document.createElement("td");
        if (CELL_CLASS[i]) td.className = CELL_CLASS[i];
        if (i) td.dataset.label = c.label;
        tr.appendChild(td);
      });
      tr._html = [];
      if (io) io.observe(tr);
      return tr;
    }
    function render() {
      // incremental: only the rows that changed are rebuilt; existing rows are moved only when
      // the order changes (1,000 branches stay cheap to update four times a second)
      pending = false;
      var t0 = performance.now();
      var all = Array.from(rows.values());
      var list = all.filter(function (r) {
        if (st.q && r.branch.toLowerCase().indexOf(st.q) < 0 && String(r.alert_reason || "").toLowerCase().indexOf(st.q) < 0) return false;
        if (st.show === "alerts") return (r.alert_level || 0) > 0;
        if (st.show === "offline") return r.online === false;
        return true;
      });
      var s = st.sort;
      list.sort(function (a, b) {
        if (st.alertsFirst) { var d = severity(b) - severity(a); if (d) return d; }
        return s.dir * cmp(key(a, s.key), key(b, s.key)) || cmp(a.branch, b.branch);
      });
      var LIMIT = 2000, shown = list.slice(0, LIMIT);
      var tbl = document.getElementById("tbl");
      var hk = s.key + s.dir;
      if (hk !== headerKey) {
        headerKey = hk;
        var old = tbl.querySelector("thead");
        if (old) old.remove();
        tbl.insertAdjacentHTML("afterbegin", sortHeader(COLS, st.sort));
        bindSort(tbl, st.sort, function () { headerKey = null; schedule(); });
      }
      var tbody = tbl.querySelector("tbody");
      if (!tbody) { tbody = document.createElement("tbody"); tbl.appendChild(tbody); }
      var filled = [];
      changed.forEach(function (b) {
        var r = rows.get(b); if (!r) return;
        var tr = trs.get(b), fresh = !tr;
        if (fresh) { tr = newRow(); trs.set(b, tr); }
        var sc = stateOf(r), lvl = r.alert_level || 0, cls = sc + " alert" + lvl;
        if (tr.className !== cls) {
          tr.className = cls;
          tr.dataset.branch = r.branch; tr.dataset.state = sc; tr.dataset.alert = String(lvl);
        }
        if (fresh || visible.has(tr) || !io) { fill(tr, r); filled.push(b); } else tr._stale = true;
      });
      var kids = tbody.children, same = kids.length === shown.length;
      for (var j = 0; same && j < shown.length; j++) same = kids[j] === trs.get(shown[j].branch);
      if (!same) {
        var frag = document.createDocumentFragment();
        shown.forEach(function (r) { frag.appendChild(trs.get(r.branch)); });
        tbody.textContent = "";
        tbody.appendChild(frag);
      }
      document.getElementById("more").textContent = t("shown") + " " + shown.length + " " + t("of") + " " + all.length;
      var on = 0, off = 0, a1 = 0, a2 = 0;
      all.forEach(function (r) {
        if (r.online === true) on++; else if (r.online === false) off++;
        if (r.alert_level === 1) a1++; else if (r.alert_level >= 2) a2++;
      });
      document.getElementById("summary").innerHTML =
        '<span class="pill"><b>' + all.length + "</b>" + esc(t("branches")) + "</span>" +
        '<span class="pill"><b>' + on + "</b>" + esc(t("online")) + "</span>" +
        '<span class="pill' + (off ? " bad" : "") + '"><b>' + off + "</b>" + esc(t("offline")) + "</span>" +
        '<span class="pill' + (a2 ? " bad" : "") + '"><b>' + a2 + "</b>" + esc(t("level2")) + "</span>" +
        '<span class="pill' + (a1 ? " warn" : "") + '"><b>' + a1 + "</b>" + esc(t("level1")) + "</span>" +
        '<span class="pill"><b>' + (st.totals.recorded != null ? st.totals.recorded : (st.totals.events || 0)) + "</b>" + esc(t("recorded")) + "</span>";
      if (MEASURE) {  // stamp after the next paint: the row is on the screen, not just in the DOM
        var done = []; filled.forEach(function (b) { var r = rows.get(b); if (r) done.push([b, r.last_seq]); });
        requestAnimationFrame(function () { setTimeout(function () {
          var now = Date.now(); done.forEach(function (d) { window.hqLog.push([d[0], d[1], now]); });
        }, 0); });
      }
      changed.clear();
      window.hqRenders++;
      window.hqRenderMs = (window.hqRenderMs || 0) + (performance.now() - t0);
      document.body.dataset.rows = String(all.length);
    }
    function apply(msg, full) {
      if (full) rows.clear();
      msg.rows.forEach(function (r) { rows.set(r.branch, r); changed.add(r.branch); });
      st.totals = msg.totals || st.totals;
      schedule();
    }
    stream(null, { full: function (m) { apply(m, true); }, rows: function (m) { apply(m, false); } });
    setInterval(function () { rows.forEach(function (r, b) { changed.add(b); }); schedule(); }, 10000); // the "ago" column
  }

  // -- branch page ----------------------------------------------------------------------------------
  function pageBranch() {
    var b = HQ.branch, detail = null, day = null, dayData = null, lastDayFetch = 0, dayTimer = null, log = [];
    var role = HQ.user && HQ.user.role;
    main.innerHTML =
      '<div class="head"><a href="/">← ' + esc(t("back")) + '</a><h1 id="bname">' + esc(b) + '</h1><span id="bstate"></span>' +
      '<span class="dim" id="bsince"></span><label class="dim">' + esc(t("day")) + ' <input type="date" id="day"></label></div>' +
      '<div id="alertbar"></div><div id="devbar"></div>' +
      '<div class="grid">' +
      '<section class="card wide"><h2>' + esc(t("queue_by_service")) + '</h2><div class="tablewrap"><table id="svc"></table></div></section>' +
      '<section class="card"><h2>' + esc(t("counters")) + '</h2><div class="tablewrap"><table id="ctr"></table></div></section>' +
      '<section class="card"><h2>' + esc(t("today")) + '</h2><dl class="kv" id="totals"></dl></section>' +
      '<section class="card"><h2>' + esc(t("waits_by_hour")) + '</h2><div id="chart_wait"></div><div class="legend"><span><i style="background:#8bb8f8"></i>' + esc(t("max_wait")) + '</span><span><i style="background:#1f6feb"></i>' + esc(t("mean_wait")) + "</span></div></section>" +
      '<section class="card"><h2>' + esc(t("sl_by_hour")) + '</h2><div id="chart_sl"></div></section>' +
      '<section class="card wide"><h2>' + esc(t("satisfaction")) + '</h2><div class="tablewrap"><table id="sat"></table></div></section>' +
      '<section class="card cmd tall" id="cmdcard"><h2>' + esc(t("commands")) + '</h2><div id="cmd"></div><h2 style="margin-top:12px">' + esc(t("command_log")) + '</h2><div class="tablewrap"><table id="cmdlog"></table></div></section>' +
      '<section class="card wide"><h2>' + esc(t("event_log")) + '</h2><div class="events tablewrap"><table id="events"></table></div></section>' +
      "</div>";
    var dayInput = document.getElementById("day");
    dayInput.addEventListener("change", function () { day = dayInput.value; loadDay(true); });

    function renderHead() {
      if (!detail) return;
      var r = detail.row, sc = stateOf(r), lvl = r.alert_level || 0;
      document.getElementById("bstate").innerHTML = '<span class="badge ' + sc + '" id="state-badge" data-state="' + sc + '">' + esc(t(sc)) + "</span>";
      document.getElementById("bsince").textContent = t("since") + " " + hhmm(r.state_seen || r.since) + (r.version ? " · " + t("version") + " " + r.version : "");
      document.getElementById("alertbar").innerHTML = lvl > 0 ?
        '<div class="alertbar l' + lvl + '" id="alert" data-level="' + lvl + '">' + esc(t("alert")) + " " + esc(t("level" + lvl)) + (r.alert_reason ? ": " + esc(r.alert_reason) : "") + "</div>" : "";
      var devs = r.devices || {}, dnames = Object.keys(devs);
      document.getElementById("devbar").innerHTML = dnames.length ?
        '<div class="alertbar l1" id="devices" data-devices="' + dnames.length + '">' + esc(t("device_faults")) + ": " +
        dnames.map(function (n) {
          return esc(n) + " " + esc(devKind(devs[n].kind)) + (devs[n].since ? ' <span class="dim">' + esc(t("since")) + " " + esc(hhmm(devs[n].since)) + "</span>" : "") +
            (devs[n].reason ? ' <span class="dim">(' + esc(devs[n].reason) + ")</span>" : "");
        }).join(" · ") + "</div>" : "";
      document.body.dataset.state = sc; document.body.dataset.alert = String(lvl);
      var qd = detail.queue || {};
      if (!day) { day = qd.day || new Date().toISOString().slice(0, 10); dayInput.value = day; loadDay(true); }
      var svcs = qd.services || [];
      document.getElementById("svc").innerHTML = "<thead><tr><th>" + esc(t("service")) + '</th><th class="num">' + esc(t("waiting")) + '</th><th class="num">' + esc(t("longest")) + '</th><th class="num opt">' + esc(t("estimate")) + '</th><th class="num opt">' + esc(t("target")) + '</th><th class="num opt">' + esc(t("served")) + "</th></tr></thead><tbody>" +
        (svcs.length ? svcs.map(function (s) {
          var over = s.target_wait_s && s.longest_wait_s > s.target_wait_s;
          return "<tr><td>" + esc(s.service) + " " + esc(name2(s.name)) + '</td><td class="num">' + s.waiting + '</td><td class="num' + (over ? " err" : "") + '">' + dur(s.longest_wait_s) + '</td><td class="num opt">' + dur(s.estimate_s) + '</td><td class="num opt">' + dur(s.target_wait_s) + '</td><td class="num opt">' + num(s.served_today) + "</td></tr>";
        }).join("") : '<tr><td colspan="6" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
      var ctrs = qd.counters || [];
      document.getElementById("ctr").innerHTML = "<thead><tr><th>" + esc(t("counter")) + "</th><th>" + esc(t("state")) + "</th><th>" + esc(t("ticket")) + '</th><th class="num">' + esc(t("time")) + "</th></tr></thead><tbody>" +
        (ctrs.length ? ctrs.map(function (c) {
          return "<tr><td>" + esc(name2(c.name) || c.counter) + '</td><td><span class="badge ' + (c.state === "open" ? "online" : c.state === "paused" ? "l1" : "offline") + '">' + esc(t(c.state)) + "</span></td><td>" + esc(c.ticket || "–") + '</td><td class="num">' + dur(c.busy_s) + "</td></tr>";
        }).join("") : '<tr><td colspan="4" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
      renderCmd();
    }
    function renderDay() {
      var d = dayData || {}, tot = d.total || {};
      var hours = d.hours || [];
      document.getElementById("totals").innerHTML =
        "<dt>" + esc(t("waiting")) + "</dt><dd>" + num(detail && detail.queue ? detail.queue.waiting : null) + "</dd>" +
        "<dt>" + esc(t("issued")) + "</dt><dd>" + num(tot.issued) + "</dd><dt>" + esc(t("called")) + "</dt><dd>" + num(tot.called) + "</dd>" +
        "<dt>" + esc(t("served")) + "</dt><dd>" + num(tot.served) + "</dd><dt>" + esc(t("mean_wait")) + "</dt><dd>" + dur(tot.mean_wait_s) + "</dd>" +
        "<dt>" + esc(t("max_wait")) + "</dt><dd>" + dur(tot.wait_max) + "</dd><dt>" + esc(t("service_level")) + "</dt><dd>" + pct(tot.service_level) + "</dd>" +
        "<dt>" + esc(t("satisfaction")) + "</dt><dd>" + pct(tot.satisfaction) + (tot.ratings ? ' <span class="dim">(' + tot.ratings + ")</span>" : "") + "</dd>" +
        "<dt>" + esc(t("noshow_rate")) + "</dt><dd>" + pct(tot.noshow_rate) + "</dd>";
      document.getElementById("chart_wait").innerHTML = barChart(hourItems(hours, function (h) {
        return { a: h.wait_max != null ? h.wait_max / 60 : null, b: h.mean_wait_s != null ? h.mean_wait_s / 60 : null };
      }), { fmt: function (v) { return Math.round(v) + "m"; }, title: t("waits_by_hour") });
      document.getElementById("chart_sl").innerHTML = lineChart(hourItems(hours, function (h) { return { v: h.service_level }; }),
        { target: 0.85, title: t("sl_by_hour") });
      var cs = d.counters || [];
      document.getElementById("sat").innerHTML = "<thead><tr><th>" + esc(t("counter")) + '</th><th class="num">' + esc(t("served")) + '</th><th class="num">' + esc(t("ratings")) + '</th><th class="num">' + esc(t("satisfaction")) + '</th><th class="num opt">' + esc(t("mean_score")) + '</th><th class="num opt">' + esc(t("service_time")) + "</th></tr></thead><tbody>" +
        (cs.length ? cs.map(function (c) {
          return "<tr><td>" + esc(c.counter) + '</td><td class="num">' + c.served + '</td><td class="num">' + c.ratings + '</td><td class="num">' + pct(c.satisfaction) + '</td><td class="num opt">' + num(c.score_mean, 2) + '</td><td class="num opt">' + dur(c.service_mean_s) + "</td></tr>";
        }).join("") : '<tr><td colspan="6" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
      renderEvents();
    }
    function renderEvents() {
      var seen = {}, all = [];
      ((detail && detail.recent) || []).concat((dayData && dayData.events) || []).forEach(function (e) {
        if (e && e.id && !seen[e.id]) { seen[e.id] = 1; all.push(e); }
      });
      all.sort(function (a, b) { return (b.seq || 0) - (a.seq || 0); });
      all = all.slice(0, 100);
      document.getElementById("events").innerHTML = "<thead><tr><th>#</th><th>" + esc(t("time")) + "</th><th>" + esc(t("type")) + "</th><th>" + esc(t("details")) + "</th></tr></thead><tbody>" +
        (all.length ? all.map(function (e) {
          var det = ["ticket", "service", "counter", "wait_s", "service_s", "score", "level", "reason", "device", "kind", "text"].filter(function (k) { return e[k] != null && e[k] !== ""; })
            .map(function (k) { return k + "=" + (k.slice(-2) === "_s" ? dur(e[k]) : e[k]); }).join(" ");
          return '<tr data-type="' + esc(e.type) + '"><td class="num">' + esc(e.seq) + "</td><td>" + esc(clock(e.ts)) + "</td><td>" + esc(e.type) + "</td><td>" + esc(det) + "</td></tr>";
        }).join("") : '<tr><td colspan="4" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
    }
    function loadDay(now) {
      if (!day) return;
      var wait = now ? 0 : Math.max(0, 5000 - (Date.now() - lastDayFetch));
      if (dayTimer) { if (!now) return; clearTimeout(dayTimer); }
      dayTimer = setTimeout(function () {
        dayTimer = null; lastDayFetch = Date.now();
        api("/api/branch/" + encodeURIComponent(b) + "/day?day=" + encodeURIComponent(day)).then(function (j) { dayData = j; renderDay(); });
      }, wait);
    }
    var cmdBuilt = false;
    function renderCmd() {
      if (cmdBuilt) return;
      var box = document.getElementById("cmd");
      if (role !== "operator") {
        box.innerHTML = '<p class="notice" id="readonly">' + esc(t("read_only")) + "</p>";
        cmdBuilt = true; loadLog(); return;
      }
      var qd = (detail && detail.queue) || {};
      var ctrs = (qd.counters || []).map(function (c) { return '<option value="' + c.counter + '">' + esc(name2(c.name) || c.counter) + "</option>"; }).join("");
      var svcs = (qd.services || []).map(function (s) { return '<option value="' + esc(s.service) + '">' + esc(s.service + " " + name2(s.name)) + "</option>"; }).join("");
      box.innerHTML =
        '<form data-cmd="ping"><button type="submit" id="cmd-ping">' + esc(t("ping")) + '</button><button type="submit" class="ghost" data-cmd2="stats">' + esc(t("stats")) + "</button></form>" +
        '<form data-cmd="counter"><label>' + esc(t("counter")) + '<select name="counter">' + ctrs + '</select></label><label>' + esc(t("state")) +
        '<select name="state"><option value="open">' + esc(t("open")) + '</option><option value="paused">' + esc(t("paused")) + '</option><option value="closed">' + esc(t("closed")) +
        '</option></select></label><button type="submit" id="cmd-counter">' + esc(t("send")) + "</button></form>" +
        '<form data-cmd="display_message"><label style="flex:1 1 200px">' + esc(t("display_message")) + '<input name="text" maxlength="280" required></label><label>' + esc(t("seconds")) +
        '<input name="seconds" type="number" min="1" max="3600" value="60" style="width:80px"></label><button type="submit">' + esc(t("send")) + "</button></form>" +
        '<form data-cmd="service_hours"><label>' + esc(t("service")) + '<select name="service">' + svcs + '</select></label><label style="flex:1 1 160px">' + esc(t("hours")) +
        '<input name="hours" placeholder="08:30-12:00, 13:30-17:30" required></label><button type="submit">' + esc(t("send")) + "</button></form>" +
        '<div id="cmd-result" aria-live="polite"></div>';
      box.querySelectorAll("form").forEach(function (f) {
        f.addEventListener("submit", function (ev) {
          ev.preventDefault();
          var name = f.dataset.cmd, args = {};
          if (ev.submitter && ev.submitter.dataset.cmd2) name = ev.submitter.dataset.cmd2;
          new FormData(f).forEach(function (v, k) { args[k] = v; });
          if (name === "counter") args.counter = parseInt(args.counter, 10);
          if (name === "display_message") args.seconds = parseInt(args.seconds, 10);
          if (name === "service_hours") args.hours = String(args.hours).split(/[,，\s]+/).filter(Boolean);
          send(name, args);
        });
      });
      cmdBuilt = true; loadLog();
    }
    function send(name, args) {
      var out = document.getElementById("cmd-result");
      out.innerHTML = '<p class="dim">' + esc(t("sending")) + "</p>";
      api("/api/branch/" + encodeURIComponent(b) + "/cmd/" + encodeURIComponent(name),
        { method: "POST", headers: { "Content-Type": "application/json", "Accept": "application/json" }, body: JSON.stringify(args) })
        .then(function (j) {
          var ok = j.status === "ok", cls = ok ? "ok" : "err";
          var head = j.__status === 403 ? t("refused") : j.status === "timeout" ? t("timeout") : (j.status || j.error);
          out.innerHTML = '<p class="' + cls + '" id="cmd-status" data-status="' + esc(j.status || j.error) + '">' + esc(name) + ": " + esc(head) + (j.message ? " — " + esc(j.message) : "") +
            "</p><pre>" + esc(JSON.stringify(j.reply || j, function (k, v) { return k === "__status" ? undefined : v; }, 2)) + "</pre>";
          loadLog();
        });
    }
    function loadLog() {
      api("/api/branch/" + encodeURIComponent(b) + "/commands").then(function (j) {
        var cs = j.commands || [];
        document.getElementById("cmdlog").innerHTML = "<thead><tr><th>" + esc(t("time")) + "</th><th>" + esc(t("sent_by")) + "</th><th>" + esc(t("commands")) + "</th><th>" + esc(t("status")) + "</th></tr></thead><tbody>" +
          (cs.length ? cs.map(function (c) {
            return '<tr><td title="' + esc(c.ts) + '">' + esc(clockUtc(c.ts)) + "</td><td>" + esc(c.user) + '</td><td title="' + esc(JSON.stringify(c.payload)) + '">' + esc(c.command) + '</td><td class="' + (c.status === "ok" ? "ok" : c.status === "sent" ? "" : "err") + '">' + esc(c.status) + "</td></tr>";
          }).join("") : '<tr><td colspan="4" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
      });
    }
    stream(b, {
      full: function () {},
      rows: function (m) { if (detail) m.rows.forEach(function (r) { if (r.branch === b) { detail.row = r; renderHead(); } }); },
      detail: function (d) {
        if (!d) { document.getElementById("bstate").innerHTML = '<span class="badge unknown">' + esc(t("unknown")) + "</span>"; return; }
        detail = d; renderHead(); renderEvents(); loadDay(false);
      }
    });
  }

  // -- comparison -------------------------------------------------------------------------------------
  function pageCompare() {
    var st = { day: null, rows: [], q: "", metric: "mean_wait_s", sort: { key: "mean_wait_s", dir: -1 } };
    var METRICS = { mean_wait_s: { label: t("mean_wait"), fmt: dur }, wait_max: { label: t("max_wait"), fmt: dur },
      service_level: { label: t("service_level"), fmt: pct, max: 1 }, satisfaction: { label: t("satisfaction"), fmt: pct, max: 1 },
      noshow_rate: { label: t("noshow_rate"), fmt: pct } };
    var COLS = [{ key: "branch", label: t("branch") }, { key: "issued", label: t("issued"), num: 1 }, { key: "called", label: t("called"), num: 1 },
      { key: "mean_wait_s", label: t("mean_wait"), num: 1 }, { key: "wait_max", label: t("max_wait"), num: 1 },
      { key: "service_level", label: t("service_level"), num: 1 }, { key: "satisfaction", label: t("satisfaction"), num: 1 },
      { key: "ratings", label: t("ratings"), num: 1 }, { key: "noshow_rate", label: t("noshow_rate"), num: 1 }];
    main.innerHTML = '<div class="head"><h1>' + esc(t("compare")) + '</h1><label class="dim">' + esc(t("day")) + ' <input type="date" id="day" list="days"></label><datalist id="days"></datalist>' +
      '<label class="dim">' + esc(t("metric")) + ' <select id="metric">' + Object.keys(METRICS).map(function (k) { return '<option value="' + k + '">' + esc(METRICS[k].label) + "</option>"; }).join("") + "</select></label>" +
      '<input type="search" id="q" placeholder="' + esc(t("filter")) + '"></div>' +
      '<section class="card"><h2 id="chart_title"></h2><div id="chart"></div></section>' +
      '<div class="tablewrap"><table id="tbl"></table></div>';
    var dayInput = document.getElementById("day");
    dayInput.addEventListener("change", function () { st.day = dayInput.value; load(); });
    document.getElementById("metric").addEventListener("change", function (e) { st.metric = e.target.value; st.sort = { key: st.metric, dir: -1 }; render(); });
    document.getElementById("q").addEventListener("input", function (e) { st.q = e.target.value.trim().toLowerCase(); render(); });
    function load() {
      api("/api/compare?day=" + encodeURIComponent(st.day)).then(function (j) { st.rows = j.rows || []; render(); });
    }
    function render() {
      var list = st.rows.filter(function (r) { return !st.q || r.branch.toLowerCase().indexOf(st.q) >= 0; });
      list.sort(function (a, b) { return st.sort.dir * cmp(a[st.sort.key], b[st.sort.key]) || cmp(a.branch, b.branch); });
      var tbl = document.getElementById("tbl");
      tbl.innerHTML = sortHeader(COLS, st.sort) + "<tbody>" + (list.length ? list.map(function (r) {
        return '<tr data-branch="' + esc(r.branch) + '"><td><a href="/branch/' + encodeURIComponent(r.branch) + '">' + esc(r.branch) + '</a></td><td class="num">' + r.issued + '</td><td class="num">' + r.called +
          '</td><td class="num">' + dur(r.mean_wait_s) + '</td><td class="num">' + dur(r.wait_max) + '</td><td class="num">' + pct(r.service_level) +
          '</td><td class="num">' + pct(r.satisfaction) + '</td><td class="num">' + r.ratings + '</td><td class="num">' + pct(r.noshow_rate) + "</td></tr>";
      }).join("") : '<tr><td colspan="9" class="dim">' + t("no_data") + "</td></tr>") + "</tbody>";
      bindSort(tbl, st.sort, render);
      var m = METRICS[st.metric], top = list.filter(function (r) { return r[st.metric] != null; });
      top.sort(function (a, b) { return -cmp(a[st.metric], b[st.metric]); });
      top = top.slice(0, 25);
      document.getElementById("chart_title").textContent = m.label + " · " + st.day + (list.length > 25 ? " (top 25)" : "");
      document.getElementById("chart").innerHTML = hbarChart(top.map(function (r) { return { label: r.branch, v: r[st.metric] }; }), m.fmt, m.max);
      document.body.dataset.compared = String(list.length);
    }
    api("/api/days").then(function (j) {
      var days = j.days || [];
      document.getElementById("days").innerHTML = days.map(function (d) { return '<option value="' + d + '">'; }).join("");
      var qd = (location.search.match(/[?&]day=(\d{4}-\d\d-\d\d)/) || [])[1];
      st.day = qd || days[0] || new Date().toISOString().slice(0, 10);
      dayInput.value = st.day; load();
    });
  }

  if (HQ.page === "list") pageList();
  else if (HQ.page === "branch") pageBranch();
  else if (HQ.page === "compare") pageCompare();
})();
