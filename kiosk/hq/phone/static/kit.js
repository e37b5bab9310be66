/* What the branch page's scripts share (window.PhoneKit): the words of the page's language, text
   filling, elements built with textContent only, names by language, times and the JSON calls that
   turn a refusal into the server's own words. */
(function () {
  "use strict";
  var W = JSON.parse(document.body.getAttribute("data-phone"));

  function fill(key, vals) {
    return String(W[key]).replace(/\{(\w+)\}/g, function (m, k) { return vals && k in vals ? String(vals[k]) : m; });
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function button(cls, text, onTap) {
    var b = el("button", cls, text);
    b.type = "button";
    if (onTap) { b.addEventListener("click", onTap); }
    return b;
  }
  /* "10:15" of an ISO time, or an "HH:MM" as it is. */
  function clock(v) {
    if (typeof v !== "string") { return ""; }
    if (/^\d\d:\d\d$/.test(v)) { return v; }
    return v.length >= 16 && v.charAt(10) === "T" ? v.slice(11, 16) : "";
  }
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
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* The phone's own date, "YYYY-MM-DD" (`plus` days on). */
  function localDay(plus) {
    var d = new Date();
    d.setDate(d.getDate() + (plus || 0));
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate());
  }
  /* "YYYY-MM-DD" one day after `day`. */
  function nextDay(day) {
    var m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(String(day));
    if (!m) { return ""; }
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3] + 1));
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate());
  }
  /* "12月6日 周日" / "Sun 6 Dec"; "今天" / "Today" first when it is `today` (the branch's, when the
     page knows it: a phone in another time zone has another date) or the day after. */
  function dayText(day, today) {
    var m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(String(day));
    if (!m) { return String(day); }
    var d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
    var text = fill("day_format", {m: +m[2], d: +m[3], w: W.weekdays.split(",")[d.getUTCDay()],
                                   mon: W.months.split(",")[+m[2] - 1]});
    var t0 = today || localDay(0);
    if (day === t0) { return W.today + " " + text; }
    if (day === nextDay(t0)) { return W.tomorrow + " " + text; }
    return text;
  }
  /* A JSON call: resolves with the answer's JSON (or {} for none) when its status is `ok`, else
     rejects with an Error carrying the server's words (its "message", else its "error" code said
     in the page's words when the page knows it) and the status. */
  function send(method, url, body, ok) {
    var init = {method: method, headers: {"Accept": "application/json"}, cache: "no-store"};
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        if ((ok || [200]).indexOf(r.status) < 0) {
          var code = j && typeof j.error === "string" ? j.error : "";
          var words = j && typeof j.message === "string" && j.message ? j.message
            : (code && W["error_" + code]) || code || fill("http_error", {n: r.status});
          var err = new Error(words);
          err.status = r.status;
          err.code = code;
          throw err;
        }
        return j || {};
      });
    }, function () { throw new Error(W.network_error); });
  }

  window.PhoneKit = {W: W, fill: fill, el: el, button: button, clock: clock, named: named,
                     estimateText: estimateText, localDay: localDay, dayText: dayText, send: send};
})();
