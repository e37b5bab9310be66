/* The comparison of branches for one business day (/compare?day=YYYY-MM-DD) or summed over
   several (/compare?from=YYYY-MM-DD&to=YYYY-MM-DD: the second date input; at most 366 days). */
(function () {
  "use strict";
  var HQ = window.HQ, U = HQ.ui, h = U.h, t = U.t, put = U.put, dur = U.dur, pct = U.pct, num = U.num;
  if (HQ.page !== "compare") return;
  var DATE = /^\d{4}-\d\d-\d\d$/;
  var st = { day: null, to: "", rows: [], error: "", q: "", metric: "mean_wait_s", sort: { key: "mean_wait_s", dir: -1 } };
  var METRICS = { mean_wait_s: { label: t("mean_wait"), fmt: dur }, wait_max: { label: t("max_wait"), fmt: dur },
    service_level: { label: t("service_level"), fmt: pct, max: 1 }, satisfaction: { label: t("satisfaction"), fmt: pct, max: 1 },
    noshow_rate: { label: t("noshow_rate"), fmt: pct } };
  var COLS = [{ key: "branch", label: t("branch") }, { key: "issued", label: t("issued"), num: 1 }, { key: "called", label: t("called"), num: 1 },
    { key: "mean_wait_s", label: t("mean_wait"), num: 1 }, { key: "wait_max", label: t("max_wait"), num: 1 },
    { key: "service_level", label: t("service_level"), num: 1 }, { key: "satisfaction", label: t("satisfaction"), num: 1 },
    { key: "ratings", label: t("ratings"), num: 1 }, { key: "noshow_rate", label: t("noshow_rate"), num: 1 }];
  var dayInput = h("input", { type: "date", id: "day", list: "days" });
  var toInput = h("input", { type: "date", id: "to", list: "days" });
  var metric = h("select", { id: "metric" }, Object.keys(METRICS).map(function (k) { return h("option", { value: k }, METRICS[k].label); }));
  var q = h("input", { type: "search", id: "q", placeholder: t("filter") });
  put(U.main, [h("div", { "class": "head" }, [h("h1", null, t("compare")), h("label", { "class": "dim" }, [t("day") + " ", dayInput, " – ", toInput]),
    h("datalist", { id: "days" }), h("label", { "class": "dim" }, [t("metric") + " ", metric]), q]),
    h("section", { "class": "card" }, [h("h2", { id: "chart_title" }), h("div", { id: "chart" })]),
    h("div", { "class": "tablewrap" }, h("table", { id: "tbl" }))]);
  function chosen() {  // the two dates in order; an empty or equal second one means one day
    if (!DATE.test(dayInput.value)) dayInput.value = new Date().toISOString().slice(0, 10);
    var a = dayInput.value, b = toInput.value;
    if (DATE.test(a) && DATE.test(b) && b < a) { dayInput.value = b; toInput.value = a; a = dayInput.value; b = toInput.value; }
    st.day = a; st.to = DATE.test(b) && b !== a ? b : "";
    toInput.min = a; load();
  }
  dayInput.addEventListener("change", chosen);
  toInput.addEventListener("change", chosen);
  metric.addEventListener("change", function () { st.metric = metric.value; st.sort = { key: st.metric, dir: -1 }; render(); });
  q.addEventListener("input", function () { st.q = q.value.trim().toLowerCase(); render(); });
  function load() {
    var url = st.to ? "/api/compare?from=" + encodeURIComponent(st.day) + "&to=" + encodeURIComponent(st.to)
      : "/api/compare?day=" + encodeURIComponent(st.day);
    U.api(url).then(function (j) {
      st.rows = j.rows || []; st.error = j.__status === 200 ? "" : String(j.message || j.error || j.__status); render();
    });
  }
  function render() {
    var list = st.rows.filter(function (r) { return !st.q || r.branch.toLowerCase().indexOf(st.q) >= 0; });
    list.sort(function (a, b) { return st.sort.dir * U.cmp(a[st.sort.key], b[st.sort.key]) || U.cmp(a.branch, b.branch); });
    function td(v) { return h("td", { "class": "num" }, v); }
    put("tbl", [U.sortHeader(COLS, st.sort, render), h("tbody", null, list.length ? list.map(function (r) {
      return h("tr", { "data-branch": r.branch }, [h("td", null, h("a", { href: "/branch/" + encodeURIComponent(r.branch) }, r.branch)),
        td(num(r.issued)), td(num(r.called)), td(dur(r.mean_wait_s)), td(dur(r.wait_max)), td(pct(r.service_level)),
        td(pct(r.satisfaction)), td(num(r.ratings)), td(pct(r.noshow_rate))]);
    }) : U.noData(9))]);
    var m = METRICS[st.metric], top = list.filter(function (r) { return r[st.metric] != null; });
    top.sort(function (a, b) { return -U.cmp(a[st.metric], b[st.metric]); });
    top = top.slice(0, 25);
    document.getElementById("chart_title").textContent = m.label + " · " + st.day + (st.to ? " – " + st.to : "") +
      (list.length > 25 ? " (top 25)" : "") + (st.error ? " · " + st.error : "");
    put("chart", U.hbarChart(top.map(function (r) { return { label: r.branch, v: r[st.metric] }; }), m.fmt, m.max));
    document.body.dataset.range = st.day + (st.to ? ".." + st.to : "");
    document.body.dataset.compared = String(list.length);
  }
  U.api("/api/days").then(function (j) {
    var days = j.days || [];
    put("days", days.map(function (d) { return h("option", { value: String(d) }); }));
    function param(name) { return (location.search.match(new RegExp("[?&]" + name + "=(\\d{4}-\\d\\d-\\d\\d)(&|$)")) || [])[1]; }
    dayInput.value = param("from") || param("day") || days.filter(function (d) { return DATE.test(d); })[0] ||
      new Date().toISOString().slice(0, 10);
    toInput.value = param("from") ? param("to") || "" : "";
    chosen();
  });
})();
