/* One branch (/branch/ID): alert, devices, queue, counters, the day's figures, events, HQ commands. */
(function () {
  "use strict";
  var HQ = window.HQ, U = HQ.ui, h = U.h, t = U.t, put = U.put, dur = U.dur, pct = U.pct, num = U.num;
  if (HQ.page !== "branch") return;
  var b = HQ.branch, detail = null, day = null, dayData = null, lastDayFetch = 0, dayTimer = null;
  var role = HQ.user && HQ.user.role;
  function card(cls, title, body, id) { return h("section", { "class": "card" + (cls ? " " + cls : ""), id: id || null }, [h("h2", null, title), body]); }
  function table(id) { return h("div", { "class": "tablewrap" }, h("table", { id: id })); }
  var dayInput = h("input", { type: "date", id: "day" });
  put(U.main, [
    h("div", { "class": "head" }, [h("a", { href: "/" }, "← " + t("back")), h("h1", { id: "bname" }, b), h("span", { id: "bstate" }),
      h("span", { "class": "dim", id: "bsince" }), h("label", { "class": "dim" }, [t("day") + " ", dayInput])]),
    h("div", { id: "alertbar" }), h("div", { id: "devbar" }), h("div", { id: "gapbar" }),
    h("div", { "class": "grid" }, [
      card("wide", t("queue_by_service"), table("svc")),
      card("", t("counters"), table("ctr")),
      card("", t("today"), h("dl", { "class": "kv", id: "totals" })),
      card("", t("waits_by_hour"), [h("div", { id: "chart_wait" }), h("div", { "class": "legend" }, [
        h("span", null, [h("i", { "class": "key-max" }), t("max_wait")]), h("span", null, [h("i", { "class": "key-mean" }), t("mean_wait")])])]),
      card("", t("sl_by_hour"), h("div", { id: "chart_sl" })),
      card("wide", t("satisfaction"), table("sat")),
      card("cmd tall", t("commands"), [h("div", { id: "cmd" }), h("h2", { "class": "gap-top" }, t("command_log")), table("cmdlog")], "cmdcard"),
      card("wide", t("event_log"), h("div", { "class": "events tablewrap" }, h("table", { id: "events" })))])]);
  dayInput.addEventListener("change", function () { day = dayInput.value; loadDay(true); });

  function renderHead() {
    if (!detail) return;
    var r = detail.row, sc = U.stateOf(r), lvl = U.level(r.alert_level);
    put("bstate", h("span", { "class": "badge " + sc, id: "state-badge", "data-state": sc }, t(sc)));
    $("bsince").textContent = t("since") + " " + U.hhmm(r.state_seen || r.since) + (r.version ? " · " + t("version") + " " + r.version : "");
    put("alertbar", lvl > 0 ? h("div", { "class": "alertbar l" + lvl, id: "alert", "data-level": lvl },
      t("alert") + " " + t("level" + lvl) + (r.alert_reason ? ": " + r.alert_reason : "")) : null);
    var devs = r.devices || {}, dnames = Object.keys(devs);
    put("devbar", dnames.length ? h("div", { "class": "alertbar l1", id: "devices", "data-devices": dnames.length }, [
      t("device_faults") + ": ",
      dnames.map(function (n, i) {
        return [i ? " · " : "", n + " " + U.devKind(devs[n].kind),
          devs[n].since ? [" ", h("span", { "class": "dim" }, t("since") + " " + U.hhmm(devs[n].since))] : null,
          devs[n].reason ? [" ", h("span", { "class": "dim" }, "(" + devs[n].reason + ")")] : null];
      })]) : null);
    renderGaps(r);
    document.body.dataset.state = sc; document.body.dataset.alert = String(lvl);
    var qd = detail.queue || {};
    if (!day) { day = /^\d{4}-\d\d-\d\d$/.test(qd.day) ? qd.day : new Date().toISOString().slice(0, 10); dayInput.value = day; loadDay(true); }
    var svcs = qd.services || [];
    put("svc", [U.thead([[t("service")], [t("waiting"), "num"], [t("longest"), "num"], [t("estimate"), "num opt"], [t("target"), "num opt"], [t("served"), "num opt"]]),
      h("tbody", null, svcs.length ? svcs.map(function (s) {
        var over = s.target_wait_s && s.longest_wait_s > s.target_wait_s;
        return h("tr", null, [h("td", null, s.service + " " + U.name2(s.name)), h("td", { "class": "num" }, num(s.waiting)),
          h("td", { "class": "num" + (over ? " err" : "") }, dur(s.longest_wait_s)), h("td", { "class": "num opt" }, dur(s.estimate_s)),
          h("td", { "class": "num opt" }, dur(s.target_wait_s)), h("td", { "class": "num opt" }, num(s.served_today))]);
      }) : U.noData(6))]);
    var ctrs = qd.counters || [];
    put("ctr", [U.thead([[t("counter")], [t("state")], [t("ticket")], [t("time"), "num"]]),
      h("tbody", null, ctrs.length ? ctrs.map(function (c) {
        var cls = c.state === "open" ? "online" : c.state === "paused" ? "l1" : "offline";
        return h("tr", null, [h("td", null, U.name2(c.name) || String(c.counter)), h("td", null, h("span", { "class": "badge " + cls }, t(String(c.state)))),
          h("td", null, c.ticket || "–"), h("td", { "class": "num" }, dur(c.busy_s))]);
      }) : U.noData(4))]);
    renderCmd();
  }
  function renderGaps(r) {  // the gaps in HQ's recording of this branch: open ones, and those lost at the branch
    var list = (detail && detail.gaps) || [];
    if (!list.length && !r.gaps && !r.gaps_lost) { put("gapbar", null); return; }
    put("gapbar", h("div", { "class": "alertbar " + (r.gaps ? "l2" : "l1"), id: "gaps", "data-gaps": String(r.gaps || 0),
      "data-missing": String(r.missing || 0) }, [
      t("gaps") + ": " + U.gapText(r),
      h("ul", { "class": "gaplist" }, list.map(function (g) {
        return h("li", { "data-state": String(g.state), "data-first": String(g.first_seq) }, [
          "#" + g.first_seq + (g.last_seq !== g.first_seq ? "–" + g.last_seq : "") + " · " + t("gap_" + g.state) +
            " · " + t("gap_missing").replace("{n}", String(g.missing)),
          g.asks ? [" ", h("span", { "class": "dim" }, t("gap_asked").replace("{n}", String(g.asks)) + " " + U.clockUtc(g.asked_at))] : null,
          g.note ? [" ", h("span", { "class": "dim" }, "(" + g.note + ")")] : null]);
      }))]));
  }
  function $(id) { return document.getElementById(id); }
  function renderDay() {
    var d = dayData || {}, tot = d.total || {};
    var hours = d.hours || [];
    function kv(k, v) { return [h("dt", null, t(k)), h("dd", null, v)]; }
    put("totals", [kv("waiting", num(detail && detail.queue ? detail.queue.waiting : null)), kv("issued", num(tot.issued)),
      kv("called", num(tot.called)), kv("served", num(tot.served)), kv("mean_wait", dur(tot.mean_wait_s)),
      kv("max_wait", dur(tot.wait_max)), kv("service_level", pct(tot.service_level)),
      kv("satisfaction", [pct(tot.satisfaction), tot.ratings ? [" ", h("span", { "class": "dim" }, "(" + tot.ratings + ")")] : null]),
      kv("noshow_rate", pct(tot.noshow_rate))]);
    put("chart_wait", U.barChart(U.hourItems(hours, function (x) {
      return { a: x.wait_max != null ? x.wait_max / 60 : null, b: x.mean_wait_s != null ? x.mean_wait_s / 60 : null };
    }), { fmt: function (v) { return Math.round(v) + "m"; }, title: t("waits_by_hour") }));
    put("chart_sl", U.lineChart(U.hourItems(hours, function (x) { return { v: x.service_level }; }), { target: 0.85, title: t("sl_by_hour") }));
    var cs = d.counters || [];
    put("sat", [U.thead([[t("counter")], [t("served"), "num"], [t("ratings"), "num"], [t("satisfaction"), "num"], [t("mean_score"), "num opt"], [t("service_time"), "num opt"]]),
      h("tbody", null, cs.length ? cs.map(function (c) {
        return h("tr", null, [h("td", null, String(c.counter)), h("td", { "class": "num" }, num(c.served)), h("td", { "class": "num" }, num(c.ratings)),
          h("td", { "class": "num" }, pct(c.satisfaction)), h("td", { "class": "num opt" }, num(c.score_mean, 2)), h("td", { "class": "num opt" }, dur(c.service_mean_s))]);
      }) : U.noData(6))]);
    renderEvents();
  }
  var DETAIL_KEYS = ["ticket", "service", "counter", "wait_s", "service_s", "score", "level", "reason", "device", "kind", "text"];
  function renderEvents() {
    var seen = {}, all = [];
    ((detail && detail.recent) || []).concat((dayData && dayData.events) || []).forEach(function (e) {
      if (e && e.id && !seen[e.id]) { seen[e.id] = 1; all.push(e); }
    });
    all.sort(function (x, y) { return (y.seq || 0) - (x.seq || 0); });
    all = all.slice(0, 100);
    put("events", [U.thead([["#"], [t("time")], [t("type")], [t("details")]]),
      h("tbody", null, all.length ? all.map(function (e) {
        var det = DETAIL_KEYS.filter(function (k) { return e[k] != null && e[k] !== ""; })
          .map(function (k) { return k + "=" + (k.slice(-2) === "_s" ? dur(e[k]) : (typeof e[k] === "object" ? JSON.stringify(e[k]) : e[k])); }).join(" ");
        return h("tr", { "data-type": String(e.type) }, [h("td", { "class": "num" }, String(e.seq)), h("td", null, U.clock(e.ts)),
          h("td", null, String(e.type)), h("td", null, det)]);
      }) : U.noData(4))]);
  }
  function loadDay(now) {
    if (!day) return;
    var wait = now ? 0 : Math.max(0, 5000 - (Date.now() - lastDayFetch));
    if (dayTimer) { if (!now) return; clearTimeout(dayTimer); }
    dayTimer = setTimeout(function () {
      dayTimer = null; lastDayFetch = Date.now();
      U.api("/api/branch/" + encodeURIComponent(b) + "/day?day=" + encodeURIComponent(day)).then(function (j) { dayData = j; renderDay(); });
    }, wait);
  }
  var cmdBuilt = false;
  function field(label, control, cls) { return h("label", { "class": cls || null }, [label, control]); }
  function option(value, label) { return h("option", { value: value }, label); }
  function renderCmd() {
    if (cmdBuilt) return;
    var box = $("cmd");
    if (role !== "operator") {
      put(box, h("p", { "class": "notice", id: "readonly" }, t("read_only")));
      cmdBuilt = true; loadLog(); return;
    }
    var qd = (detail && detail.queue) || {};
    var ctrs = (qd.counters || []).map(function (c) { return option(String(c.counter), U.name2(c.name) || String(c.counter)); });
    var svcs = (qd.services || []).map(function (s) { return option(String(s.service), s.service + " " + U.name2(s.name)); });
    var forms = [
      h("form", { "data-cmd": "ping" }, [h("button", { type: "submit", id: "cmd-ping" }, t("ping")),
        h("button", { type: "submit", "class": "ghost", "data-cmd2": "stats" }, t("stats"))]),
      h("form", { "data-cmd": "counter" }, [field(t("counter"), h("select", { name: "counter" }, ctrs)),
        field(t("state"), h("select", { name: "state" }, [option("open", t("open")), option("paused", t("paused")), option("closed", t("closed"))])),
        h("button", { type: "submit", id: "cmd-counter" }, t("send"))]),
      h("form", { "data-cmd": "display_message" }, [field(t("display_message"), h("input", { name: "text", maxlength: 280, required: true }), "grow-wide"),
        field(t("seconds"), h("input", { name: "seconds", type: "number", min: 1, max: 3600, value: 60, "class": "narrow" })),
        h("button", { type: "submit" }, t("send"))]),
      h("form", { "data-cmd": "service_hours" }, [field(t("service"), h("select", { name: "service" }, svcs)),
        field(t("hours"), h("input", { name: "hours", placeholder: "08:30-12:00, 13:30-17:30", required: true }), "grow"),
        h("button", { type: "submit" }, t("send"))])];
    put(box, [forms, h("div", { id: "cmd-result", "aria-live": "polite" })]);
    forms.forEach(function (f) {
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
    var out = $("cmd-result");
    put(out, h("p", { "class": "dim" }, t("sending")));
    U.api("/api/branch/" + encodeURIComponent(b) + "/cmd/" + encodeURIComponent(name),
      { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) })
      .then(function (j) {
        var ok = j.status === "ok";
        var head = j.__status === 403 ? t("refused") : j.status === "timeout" ? t("timeout") : (j.status || j.error);
        put(out, [h("p", { "class": ok ? "ok" : "err", id: "cmd-status", "data-status": String(j.status || j.error) },
          name + ": " + head + (j.message ? " — " + j.message : "")),
          h("pre", null, JSON.stringify(j.reply || j, function (k, v) { return k === "__status" ? undefined : v; }, 2))]);
        loadLog();
      });
  }
  function loadLog() {
    U.api("/api/branch/" + encodeURIComponent(b) + "/commands").then(function (j) {
      var cs = j.commands || [];
      put("cmdlog", [U.thead([[t("time")], [t("sent_by")], [t("commands")], [t("status")]]),
        h("tbody", null, cs.length ? cs.map(function (c) {
          return h("tr", null, [h("td", { title: String(c.ts) }, U.clockUtc(c.ts)), h("td", null, String(c.user)),
            h("td", { title: JSON.stringify(c.payload) }, String(c.command)),
            h("td", { "class": c.status === "ok" ? "ok" : c.status === "sent" ? null : "err" }, String(c.status))]);
        }) : U.noData(4))]);
    });
  }
  U.stream(b, {
    full: function () {},
    rows: function (m) { if (detail) m.rows.forEach(function (r) { if (r.branch === b) { detail.row = r; renderHead(); } }); },
    detail: function (d) {
      if (!d) { put("bstate", h("span", { "class": "badge unknown" }, t("unknown"))); return; }
      detail = d; renderHead(); renderEvents(); loadDay(false);
    }
  });
})();
