/* The branch page (/b): the branches with their queues, nearest first when the browser gives a
   location, a remote ticket per service (its pre-acceptance form first, when it has one) and
   appointments (booking.js). Every value reaches the page through textContent. */
(function () {
  "use strict";
  var K = window.PhoneKit, W = K.W, fill = K.fill, el = K.el, clock = K.clock, named = K.named;
  var estimateText = K.estimateText;
  var REFRESH_MS = 30000;
  var branches = [], here = null, located = false;

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
  main.append(el("h1", null, W.branches_title), result);
  K.booking.nodes.forEach(function (n) { main.append(n); });
  main.append(order, list);

  /* The service's pre-acceptance form (the branch's `phone.forms`), or null. */
  function formOf(b, s) {
    var f = b.forms && typeof b.forms === "object" ? b.forms[s.service] : s.form;
    return Array.isArray(f) && f.length ? f : null;
  }
  /* Whether the service takes appointments (the branch's `phone.appointments.services`). */
  function books(b, s) {
    var a = b.appointments;
    var list = Array.isArray(a) ? a : (a && Array.isArray(a.services) ? a.services : null);
    return list ? list.indexOf(s.service) >= 0 : s.appointments === true;
  }

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
    var quiet = named(b.quiet, "");   /* the kiosk's own phrase: "周二至周四 14:00–15:00 人少" */
    if (quiet) { card.append(el("p", "quiet", quiet)); }
    var ul = el("ul", "services");
    (Array.isArray(b.services) ? b.services : []).forEach(function (s) {
      var li = el("li", "service-row");
      var text = el("div", "svc");
      text.append(el("span", "svc-name", named(s.name, s.service)));
      var est = estimateText(s.estimate_s);
      text.append(el("span", "svc-meta", fill("waiting", {n: s.waiting}) + (est ? " · " + est : "")));
      li.append(text);
      var actions = el("div", "actions");
      if (b.online && b.remote && s.remote) {
        var btn = K.button("take", W.take, function () { take(b, s, btn); });
        btn.setAttribute("data-service", s.service);
        actions.append(btn);
      }
      if (books(b, s)) {
        var bk = K.button("book", W.book, function () { K.booking.book(b, s, formOf(b, s)); });
        bk.setAttribute("data-service", s.service);
        actions.append(bk);
      }
      if (!actions.childNodes.length) { actions.append(el("span", "no-remote", b.online ? W.no_remote : "")); }
      li.append(actions);
      ul.append(li);
    });
    card.append(ul);
    return card;
  }

  function take(b, s, btn) {
    var fields = formOf(b, s);
    if (fields) {
      K.booking.askForm(b, s, fields, function (values) { return issue(b, s, values); });
      return;
    }
    K.booking.closePanel();
    btn.disabled = true;
    btn.textContent = W.taking;
    issue(b, s, null).catch(function (err) {
      showError(fill("take_error", {m: err.message}));
    }).then(function () {
      btn.disabled = false;
      btn.textContent = W.take;
    });
  }
  /* Take the ticket (with the form's values, when there is a form); its number is shown. */
  function issue(b, s, form) {
    var body = {service: s.service};
    if (form) { body.form = form; }
    return K.send("POST", "/api/public/" + encodeURIComponent(b.branch) + "/tickets", body, [201]).then(function (t) {
      remember(t);
      showTicket(b, t);
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
