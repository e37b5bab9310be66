/* The branch page (/b): the branches with their queues, nearest first when the browser gives a
   location, and a remote ticket per service. Every value reaches the page through textContent. */
(function () {
  "use strict";
  var W = JSON.parse(document.body.getAttribute("data-phone"));
  var REFRESH_MS = 30000;
  var branches = [], here = null, located = false;

  function fill(key, vals) {
    return String(W[key]).replace(/\{(\w+)\}/g, function (m, k) { return vals && k in vals ? String(vals[k]) : m; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function clock(iso) { return typeof iso === "string" && iso.length >= 16 ? iso.slice(11, 16) : ""; }
  function named(v, fallback) {
    if (v && typeof v === "object") { return v[W.lang] || v.zh || v.en || fallback; }
    return typeof v === "string" && v ? v : fallback;
  }
  function estimateText(s) {
    if (typeof s !== "number" || !isFinite(s)) { return ""; }
    if (s < 60) { return W.estimate_soon; }
    var m = Math.round(s / 60);
    return m < 60 ? fill("estimate", {m: m}) : fill("estimate_h", {h: Math.floor(m / 60), m: m % 60});
  }
  function km(a, b) {
    var r = Math.PI / 180, dLat = (b.lat - a.lat) * r, dLon = (b.lon - a.lon) * r;
    var h = Math.pow(Math.sin(dLat / 2), 2) +
            Math.cos(a.lat * r) * Math.cos(b.lat * r) * Math.pow(Math.sin(dLon / 2), 2);
    return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
  }
  function hasPlace(b) { return typeof b.lat === "number" && typeof b.lon === "number"; }

  var main = document.getElementById("main");
  main.textContent = "";
  var result = el("section", "card result");
  result.hidden = true;
  var order = el("p", "note order");
  var list = el("div", "branch-list");
  main.append(el("h1", null, W.branches_title), result, order, list);

  function render() {
    var rows = branches.map(function (b) {
      return {b: b, d: here && hasPlace(b) ? km(here, b) : null, name: named(b.name, b.branch)};
    });
    rows.sort(function (x, y) {
      if (x.d !== null && y.d !== null) { return x.d - y.d; }
      if (x.d !== null || y.d !== null) { return x.d === null ? 1 : -1; }
      return x.name.localeCompare(y.name);
    });
    order.textContent = here ? W.near_first : (located ? W.no_location : "");
    list.textContent = "";
    if (!rows.length) { list.append(el("p", "note", W.no_branches)); }
    rows.forEach(function (row) { list.append(branchCard(row)); });
  }

  function branchCard(row) {
    var b = row.b;
    var card = el("section", "card branch " + (b.online ? "online" : "offline"));
    card.setAttribute("data-branch", b.branch);
    var head = el("div", "branch-head");
    head.append(el("h2", null, row.name), el("span", "badge " + (b.online ? "on" : "off"),
                                             b.online ? W.online : W.branch_offline));
    card.append(head);
    var where = named(b.address, "");
    var meta = [];
    if (row.d !== null) { meta.push(fill("km", {d: row.d < 10 ? row.d.toFixed(1) : Math.round(row.d)})); }
    if (where) { meta.push(where); }
    if (meta.length) { card.append(el("p", "address", meta.join(" · "))); }
    if (typeof b.waiting === "number") { card.append(el("p", "waiting", fill("waiting", {n: b.waiting}))); }
    var ul = el("ul", "services");
    (Array.isArray(b.services) ? b.services : []).forEach(function (s) {
      var li = el("li", "service-row");
      var text = el("div", "svc");
      text.append(el("span", "svc-name", named(s.name, s.service)));
      var est = estimateText(s.estimate_s);
      text.append(el("span", "svc-meta", fill("waiting", {n: s.waiting}) + (est ? " · " + est : "")));
      li.append(text);
      if (b.online && b.remote && s.remote) {
        var btn = el("button", "take", W.take);
        btn.type = "button";
        btn.setAttribute("data-service", s.service);
        btn.addEventListener("click", function () { take(b, s, btn); });
        li.append(btn);
      } else {
        li.append(el("span", "no-remote", b.online ? W.no_remote : ""));
      }
      ul.append(li);
    });
    card.append(ul);
    return card;
  }

  function take(b, s, btn) {
    btn.disabled = true;
    btn.textContent = W.taking;
    fetch("/api/public/" + encodeURIComponent(b.branch) + "/tickets", {
      method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({service: s.service})
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.status !== 201) { throw new Error(j.message || j.error || String(r.status)); }
        return j;
      });
    }, function () { throw new Error(W.network_error); }).then(function (t) {
      remember(t);
      showTicket(b, t);
    }).catch(function (err) {
      showError(fill("take_error", {m: err.message}));
    }).then(function () {
      btn.disabled = false;
      btn.textContent = W.take;
    });
  }

  function tokenOf(url) {
    try { return new URL(url, location.href).pathname.split("/")[2] || null; } catch (e) { return null; }
  }
  function remember(t) {
    var token = tokenOf(t.follow_url);
    if (!token) { return; }
    try {
      localStorage.setItem("phone.ticket." + token, JSON.stringify(
        {ticket: t.ticket, check_in_code: t.check_in_code, check_in_by: t.check_in_by}));
    } catch (e) { /* private mode: the follow page then shows no code */ }
  }

  function showTicket(b, t) {
    result.textContent = "";
    result.className = "card result ok";
    result.hidden = false;
    result.append(el("p", "label", named(b.name, b.branch) + " · " + W.your_ticket), el("div", "number", t.ticket));
    if (typeof t.ahead === "number") {
      result.append(el("p", "ahead", fill("ahead_est", {n: t.ahead, e: estimateText(t.estimate_s)})));
    }
    result.append(el("p", "label", W.check_in_code), el("div", "code", t.check_in_code));
    if (t.check_in_by) { result.append(el("p", "by", fill("check_in_by", {t: clock(t.check_in_by)}))); }
    var link = el("a", "primary follow", W.follow_link);
    var u = new URL(t.follow_url, location.href);
    link.href = u.protocol === "https:" || u.protocol === "http:" ? u.href + "?lang=" + W.lang : "#";
    result.append(link);
    result.scrollIntoView({block: "start"});
  }
  function showError(text) {
    result.textContent = "";
    result.className = "card result error";
    result.hidden = false;
    result.setAttribute("role", "alert");
    result.append(el("p", null, text));
    result.scrollIntoView({block: "start"});
  }

  function load() {
    fetch("/api/public/branches", {cache: "no-store"}).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (j) {
      branches = Array.isArray(j.branches) ? j.branches : [];
      render();
    }).catch(function () {
      order.textContent = W.network_error;
    }).then(function () { setTimeout(load, REFRESH_MS); });
  }

  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(function (p) {
      here = {lat: p.coords.latitude, lon: p.coords.longitude};
      located = true;
      render();
    }, function () { located = true; render(); }, {timeout: 8000, maximumAge: 600000});
  } else {
    located = true;
  }
  load();
})();
