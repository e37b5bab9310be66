/* The follow page (/t/{token}): one ticket, live by SSE with a polling fallback, and the
   "tell me when my turn is near" alerts. Every value reaches the page through textContent. */
(function () {
  "use strict";
  var K = window.PhoneKit, W = K.W, fill = K.fill, el = K.el, clock = K.clock, estimateText = K.estimateText;
  var token = decodeURIComponent(location.pathname.split("/")[2] || "");
  var base = "/t/" + encodeURIComponent(token);
  var POLL_MS = 5000, SSE_RETRY_MS = 60000;
  var es = null, pollTimer = null, sseRetry = null, finished = false, wasUp = false, lastState = null;

  function saved(kind) {
    try { return JSON.parse(localStorage.getItem("phone." + kind + "." + token) || "null"); } catch (e) { return null; }
  }
  function save(kind, value) {
    try { localStorage.setItem("phone." + kind + "." + token, JSON.stringify(value)); } catch (e) { /* private mode */ }
  }

  function aheadText(n) {
    if (n === 0) { return W.ahead_0; }
    if (n === 1 && W.ahead_1) { return W.ahead_1; }
    return fill("ahead_n", {n: n});
  }

  /* ---------- the page's skeleton ---------- */
  var main = document.getElementById("main");
  var live = document.getElementById("live");
  main.textContent = "";
  var card = el("section", "card ticket");
  var number = el("div", "number");
  var service = el("div", "service");
  var banner = el("div", "banner");
  var bannerSub = el("div", "banner-sub");
  var line1 = el("div", "ahead");
  var line2 = el("div", "estimate");
  var parked = el("div", "parked");
  card.append(number, service, banner, bannerSub, line1, line2, parked);
  var callsBox = el("section", "card calls");
  var callsList = el("ol", "call-list");
  callsBox.append(el("h2", null, W.latest_calls), callsList);
  var updated = el("p", "note updated");
  var alertsBox = buildAlerts();
  main.append(card, callsBox, alertsBox, updated);

  function setLive(on) {
    live.textContent = on ? W.live : W.offline;
    live.className = on ? "live on" : "live off";
  }

  function showParked(view) {
    parked.textContent = "";
    if (view.state !== "parked") { parked.hidden = true; return; }
    parked.hidden = false;
    parked.append(el("p", "parked-head", W.parked));
    var mine = saved("ticket");
    if (mine && mine.check_in_code) {
      parked.append(el("div", "label", W.parked_code), el("div", "code", mine.check_in_code));
      if (mine.check_in_by) { parked.append(el("p", "by", fill("parked_by", {t: clock(mine.check_in_by)}))); }
    }
    parked.append(el("p", "note", W.parked_scan));
  }

  function showCalls(view) {
    callsList.textContent = "";
    var calls = Array.isArray(view.calls) ? view.calls : [];
    if (!calls.length) { callsList.append(el("li", "none", W.no_calls)); }
    calls.forEach(function (c) {
      var li = el("li", c.ticket === view.ticket ? "mine" : null);
      li.append(el("span", "t", c.ticket), el("span", "c", fill("call_row", {c: c.counter})),
                el("span", "at", clock(c.ts)));
      callsList.append(li);
    });
  }

  function show(view) {
    if (!view) { finish(W.expired); return; }
    number.textContent = view.ticket;
    service.textContent = fill("service", {s: view.service});
    var st = view.state;
    card.className = "card ticket state-" + st;
    banner.textContent = ""; bannerSub.textContent = ""; line1.textContent = ""; line2.textContent = "";
    if (st === "waiting" || st === "parked") {
      if (typeof view.ahead === "number") { line1.textContent = aheadText(view.ahead); }
      line2.textContent = estimateText(view.estimate_s);
    } else if (st === "called") {
      banner.textContent = fill("called", {c: view.counter});
      bannerSub.textContent = W.called_sub;
    } else if (st === "serving") {
      banner.textContent = fill("serving", {c: view.counter});
    } else {
      banner.textContent = W[st] || W.expired;
    }
    showParked(view);
    showCalls(view);
    alertsBox.hidden = st !== "waiting" && st !== "parked";   // nothing left to be told
    updated.textContent = view.updated ? fill("updated", {t: clock(view.updated)}) : "";
    document.title = (st === "called" ? banner.textContent : view.ticket) + " · " + W.follow_title;
    if (st === "called" && lastState !== null && lastState !== "called" && navigator.vibrate) {
      navigator.vibrate([300, 150, 300]);
    }
    lastState = st;
    if (["done", "noshow", "expired", "cancelled"].indexOf(st) >= 0) { stop(); }
  }

  function finish(text) {
    card.className = "card ticket state-expired";
    banner.textContent = text; bannerSub.textContent = ""; line1.textContent = ""; line2.textContent = "";
    parked.hidden = true;
    alertsBox.hidden = true;
    stop();
  }
  function stop() {
    finished = true;
    if (es) { es.close(); es = null; }
    clearTimeout(pollTimer); clearTimeout(sseRetry);
  }

  /* ---------- live: SSE, else polling ---------- */
  function up() {
    setLive(true);
    if (!wasUp) { wasUp = true; resendAlerts(); }
  }
  function down() { setLive(false); wasUp = false; }

  function connect() {
    if (finished) { return; }
    if (!window.EventSource) { poll(); return; }
    clearTimeout(pollTimer);
    es = new EventSource(base + "/events");
    es.addEventListener("ticket", function (e) {
      var view;
      try { view = JSON.parse(e.data); } catch (x) { return; }
      up();
      show(view);
    });
    es.addEventListener("expired", function () { finish(W.expired); });
    es.onerror = function () {
      if (es) { es.close(); es = null; }
      down();
      poll();
      sseRetry = setTimeout(connect, SSE_RETRY_MS);
    };
  }

  function poll() {
    if (finished) { return; }
    clearTimeout(pollTimer);
    fetch(base, {headers: {Accept: "application/json"}, cache: "no-store"}).then(function (r) {
      if (r.status === 404) { finish(W.not_found); return null; }
      if (!r.ok) { throw new Error(String(r.status)); }
      return r.json();
    }).then(function (view) {
      if (view) { up(); show(view); }
    }).catch(function () { down(); }).then(function () {
      if (!finished && !es) { pollTimer = setTimeout(poll, POLL_MS); }
    });
  }

  /* ---------- "tell me when my turn is near" ---------- */
  var form, status;
  function field(label, input, check) {
    var row = el("label", "row");
    if (check) { row.append(check); }
    row.append(el("span", "what", label));
    if (input) { row.append(input); }
    return row;
  }
  function numberInput(name, value, max) {
    var i = el("input");
    i.type = "number"; i.name = name; i.min = "0"; i.max = String(max); i.value = String(value);
    i.inputMode = "numeric";
    return i;
  }
  function checkbox(name, on) {
    var c = el("input");
    c.type = "checkbox"; c.name = name; c.checked = on;
    return c;
  }
  function buildAlerts() {
    var box = el("section", "card alerts");
    box.append(el("h2", null, W.alerts_title));
    form = el("form");
    form.noValidate = true;
    var prev = saved("alerts") || {};
    var aheadOn = checkbox("ahead_on", prev.ahead !== null && prev.ahead !== undefined);
    var minOn = checkbox("minutes_on", prev.minutes !== null && prev.minutes !== undefined);
    var callOn = checkbox("on_call", prev.on_call !== false);
    var phone = el("input");
    phone.type = "tel"; phone.name = "phone"; phone.autocomplete = "tel"; phone.maxLength = 20;
    phone.placeholder = "+86…"; phone.value = prev.phone || "";
    var push = checkbox("push", !!prev.push);
    form.append(field(W.alert_ahead, numberInput("ahead", prev.ahead || 3, 99), aheadOn),
                field(W.alert_minutes, numberInput("minutes", prev.minutes || 10, 240), minOn),
                field(W.alert_on_call, null, callOn));
    var phoneRow = el("label", "row col");
    phoneRow.append(el("span", "what", W.alert_phone), phone, el("small", "note", W.alert_phone_note));
    form.append(phoneRow);
    if ("serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
      form.append(field(W.alert_push, null, push));
    } else {
      form.append(el("p", "note", W.push_unsupported));
    }
    var btn = el("button", "primary", W.alert_save);
    btn.type = "submit";
    status = el("p", "status");
    status.setAttribute("role", "status");
    form.append(btn, status);
    form.addEventListener("submit", function (e) { e.preventDefault(); submitAlerts(); });
    box.append(form);
    return box;
  }

  function b64ToBytes(s) {
    var pad = "=".repeat((4 - s.length % 4) % 4);
    var raw = atob((s + pad).replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }
  function pushSubscription() {
    return Notification.requestPermission().then(function (p) {
      if (p !== "granted") { throw new Error(W.push_denied); }
      return navigator.serviceWorker.register("/t/sw.js", {scope: "/t/"});
    }).then(function () { return navigator.serviceWorker.ready; }).then(function (reg) {
      return reg.pushManager.getSubscription().then(function (sub) {
        if (sub) { return sub; }
        return fetch("/api/public/push-key", {cache: "no-store"}).then(function (r) {
          return r.json().then(function (j) {
            if (!r.ok) { throw new Error(j.message || j.error || String(r.status)); }
            return j.key || j.public_key || j.vapid_public_key;
          });
        }).then(function (key) {
          return reg.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: b64ToBytes(key)});
        });
      });
    }).then(function (sub) { return sub.toJSON(); });
  }

  function submitAlerts() {
    var f = form.elements;
    var req = {
      ahead: f.ahead_on.checked ? parseInt(f.ahead.value, 10) : null,
      minutes: f.minutes_on.checked ? parseInt(f.minutes.value, 10) : null,
      on_call: f.on_call.checked, push: null, phone: f.phone.value.trim() || null
    };
    if (req.ahead !== null && isNaN(req.ahead)) { req.ahead = null; }
    if (req.minutes !== null && isNaN(req.minutes)) { req.minutes = null; }
    var wantPush = f.push && f.push.checked;
    if ((req.ahead === null && req.minutes === null && !req.on_call) || (!wantPush && !req.phone)) {
      status.className = "status error"; status.textContent = W.alert_nothing; return;
    }
    status.className = "status"; status.textContent = W.alert_saving;
    (wantPush ? pushSubscription() : Promise.resolve(null)).then(function (sub) {
      req.push = sub;
      return sendAlerts(req);
    }).then(function () {
      save("alerts", req);
      status.className = "status ok"; status.textContent = W.alert_saved;
    }).catch(function (err) {
      status.className = "status error";
      status.textContent = fill("alert_error", {m: err && err.message ? err.message : W.network_error});
    });
  }

  function sendAlerts(req) {
    return fetch(base + "/alerts", {method: "POST", headers: {"Content-Type": "application/json"},
                                     body: JSON.stringify(req)}).then(function (r) {
      if (r.ok) { return null; }
      return r.text().then(function (body) {
        var j = {};
        try { j = JSON.parse(body); } catch (e) { j = {message: body.slice(0, 200)}; }
        throw new Error(j.message || j.error || String(r.status));
      });
    }, function () { throw new Error(W.network_error); });
  }

  function resendAlerts() {
    var req = saved("alerts");
    if (req) { sendAlerts(req).catch(function () { /* shown again when the customer saves */ }); }
  }

  setLive(false);
  connect();
})();
