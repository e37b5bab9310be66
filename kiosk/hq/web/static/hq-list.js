/* The branch list (/): updated in place, only changed cells touched, off-screen rows filled when seen. */
(function () {
  "use strict";
  var HQ = window.HQ, U = HQ.ui, h = U.h, t = U.t, put = U.put;
  if (HQ.page !== "list") return;
  var rows = new Map(), changed = new Set();
  var st = { q: "", show: "all", alertsFirst: true, sort: { key: "branch", dir: 1 }, totals: {} };
  var COLS = [
    { key: "branch", label: t("branch") }, { key: "state", label: t("state") },
    { key: "since", label: t("since") }, { key: "waiting_total", label: t("waiting"), num: 1 },
    { key: "longest_wait_s", label: t("longest"), num: 1 }, { key: "open_counters", label: t("open_counters"), num: 1 },
    { key: "alert_level", label: t("alert"), num: 1 }, { key: "device_faults", label: t("devices") },
    { key: "events_per_min", label: t("events_min"), num: 1 }, { key: "missing", label: t("gaps"), num: 1 }];
  var q = h("input", { type: "search", id: "q", placeholder: t("filter"), "aria-label": t("filter") });
  var segs = [["all", "all"], ["alerts", "only_alerts"], ["offline", "only_offline"]].map(function (s) {
    return h("button", { "data-v": s[0], "class": s[0] === "all" ? "on" : null }, t(s[1]));
  });
  var af = h("input", { type: "checkbox", id: "af", checked: true });
  put(U.main, [h("div", { "class": "summary", id: "summary" }),
    h("div", { "class": "tools" }, [q, h("span", { "class": "seg", id: "show" }, segs), h("label", null, [af, " " + t("alerts_first")])]),
    h("div", { "class": "tablewrap" }, h("table", { "class": "branches", id: "tbl" })), h("div", { "class": "more", id: "more" })]);
  q.addEventListener("input", function () { st.q = q.value.trim().toLowerCase(); schedule(); });
  segs.forEach(function (b) {
    b.addEventListener("click", function () {
      st.show = b.dataset.v;
      segs.forEach(function (x) { x.classList.toggle("on", x === b); });
      schedule();
    });
  });
  af.addEventListener("change", function () { st.alertsFirst = af.checked; schedule(); });
  var pending = false;
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(render); } }
  function severity(r) { return r.online === false ? Math.max(r.alert_level || 0, 1.5) : (r.alert_level || 0); }
  function key(r, k) { return k === "state" ? U.stateOf(r) : k === "since" ? (r.state_seen || r.since || "") : r[k]; }
  var trs = new Map(), headerKey = null;
  // each cell: [signature, build] — the cell is rebuilt only when its signature changes
  function cells(r) {
    var sc = U.stateOf(r), lvl = U.level(r.alert_level), seen = r.state_seen || r.since, dv = U.deviceText(r.devices);
    var when = U.hhmm(seen), since = U.ago(seen);
    return [
      [r.branch, function () { return h("a", { href: "/branch/" + encodeURIComponent(r.branch) }, r.branch); }],
      [sc, function () { return h("span", { "class": "badge " + sc }, t(sc)); }],
      [when + "|" + since, function () { return [when + " ", h("span", { "class": "dim" }, since)]; }],
      [String(r.waiting_total), null], [U.dur(r.longest_wait_s), null], [U.num(r.open_counters), null],
      [lvl + "|" + (r.alert_reason || ""), function () {
        return h("span", { "class": "badge l" + lvl, title: String(r.alert_reason || "") }, t("level" + lvl));
      }],
      [dv.long, function () {
        return dv.n ? h("span", { "class": "badge l1 dev", "data-devices": dv.n, title: dv.long }, dv.short) : h("span", { "class": "dim" }, "–");
      }],
      [String(r.events_per_min), null],
      [(r.gaps || 0) + "|" + (r.missing || 0) + "|" + (r.gaps_lost || 0), function () { return U.gapBadge(r); }]];
  }
  var CELL_CLASS = ["bname", "", "", "num", "num", "num", "num", "", "num", "num"];
  function fill(tr, r) {  // only the cells whose content changed are touched
    var cs = cells(r);
    for (var i = 0; i < cs.length; i++) {
      if (tr._sig[i] !== cs[i][0]) {
        tr._sig[i] = cs[i][0];
        if (cs[i][1]) put(tr.children[i], cs[i][1]()); else tr.children[i].textContent = cs[i][0];
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
        if (r) { fill(tr, r); if (U.MEASURE) window.hqLog.push([r.branch, r.last_seq, now]); }
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
    tr._sig = [];
    if (io) io.observe(tr);
    return tr;
  }
  function pill(n, word, cls) { return h("span", { "class": "pill" + (cls ? " " + cls : "") }, [h("b", null, String(n)), t(word)]); }
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
      return s.dir * U.cmp(key(a, s.key), key(b, s.key)) || U.cmp(a.branch, b.branch);
    });
    var LIMIT = 2000, shown = list.slice(0, LIMIT);
    var tbl = document.getElementById("tbl");
    var hk = s.key + s.dir;
    if (hk !== headerKey) {
      headerKey = hk;
      var old = tbl.querySelector("thead");
      if (old) old.remove();
      tbl.insertBefore(U.sortHeader(COLS, st.sort, function () { headerKey = null; schedule(); }), tbl.firstChild);
    }
    var tbody = tbl.querySelector("tbody");
    if (!tbody) { tbody = document.createElement("tbody"); tbl.appendChild(tbody); }
    var filled = [];
    changed.forEach(function (b) {
      var r = rows.get(b); if (!r) return;
      var tr = trs.get(b), fresh = !tr;
      if (fresh) { tr = newRow(); trs.set(b, tr); }
      var sc = U.stateOf(r), lvl = U.level(r.alert_level), cls = sc + " alert" + lvl;
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
    var rec = st.totals.recorded != null ? st.totals.recorded : (st.totals.events || 0);
    put("summary", [pill(all.length, "branches"), pill(on, "online"), pill(off, "offline", off ? "bad" : ""),
      pill(a2, "level2", a2 ? "bad" : ""), pill(a1, "level1", a1 ? "warn" : ""), pill(rec, "recorded")]);
    if (U.MEASURE) {  // stamp after the next paint: the row is on the screen, not just in the DOM
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
  U.stream(null, { full: function (m) { apply(m, true); }, rows: function (m) { apply(m, false); } });
  setInterval(function () { rows.forEach(function (r, b) { changed.add(b); }); schedule(); }, 10000); // the "ago" column
})();
