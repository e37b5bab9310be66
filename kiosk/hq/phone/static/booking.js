/* Appointments (预约) on the branch page: a day and a free slot of a service
   (GET /api/public/{branch}/slots), its pre-acceptance form when it has one, the booking
   (POST …/appointments) with its 8-digit code and check-in window, kept on the phone
   (localStorage "phone.appointments") so a return visit lists "your appointments", each with a
   cancel (DELETE …/appointments/{code}). The same panel asks a remote ticket's form first.
   PhoneKit.booking: nodes (the two sections to place), book(branch, service), askForm(…). */
(function () {
  "use strict";
  var K = window.PhoneKit, W = K.W, el = K.el, fill = K.fill;
  var STORE = "phone.appointments", KEEP_MAX = 20;

  var mine = el("section", "card mine");
  var panel = el("section", "card panel");
  mine.hidden = panel.hidden = true;
  var shownCode = null;   // the booking the panel shows (not listed twice)

  function api(b) { return "/api/public/" + encodeURIComponent(b.branch); }

  /* ---------- kept on the phone ---------- */
  function kept() {
    var list;
    try { list = JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { list = []; }
    var today = K.localDay(-1);   // the branch's day may lag the phone's by a time zone
    return (Array.isArray(list) ? list : []).filter(function (a) {
      return a && typeof a.code === "string" && typeof a.day === "string" && a.day >= today;
    });
  }
  function keep(list) {
    try { localStorage.setItem(STORE, JSON.stringify(list.slice(-KEEP_MAX))); } catch (e) { /* private mode */ }
  }
  function forget(a) {
    keep(kept().filter(function (x) { return !(x.code === a.code && x.branch === a.branch); }));
  }

  function whenText(a) { return K.dayText(a.day) + " " + a.slot; }
  function windowText(a) {
    var from = K.clock(a.check_in_from), until = K.clock(a.check_in_until);
    return from && until ? fill("check_in_window", {a: from, b: until}) : "";
  }
  function whoText(a) { return K.named(a.branch_name, a.branch) + " · " + K.named(a.service_name, a.service); }

  /* A cancel button that asks once more before it cancels (a stray touch cancels nothing). */
  function cancelButton(a, status, done) {
    var armed = false;
    var btn = K.button("cancel-appt", W.cancel_appointment);
    btn.addEventListener("click", function () {
      if (!armed) {
        armed = true;
        btn.textContent = W.cancel_sure;
        btn.classList.add("armed");
        return;
      }
      btn.disabled = true;
      btn.textContent = W.cancelling;
      K.send("DELETE", "/api/public/" + encodeURIComponent(a.branch) + "/appointments/" + encodeURIComponent(a.code),
             undefined, [200, 204, 404]).then(function () {
        forget(a);
        done();
      }, function (err) {
        armed = false;
        btn.disabled = false;
        btn.classList.remove("armed");
        btn.textContent = W.cancel_appointment;
        status.className = "status error";
        status.textContent = fill("cancel_error", {m: err.message});
      });
    });
    return btn;
  }

  function renderMine(note) {
    var list = kept().filter(function (a) { return a.code !== shownCode; });
    mine.textContent = "";
    mine.hidden = !list.length && !note;
    if (mine.hidden) { return; }
    mine.append(el("h2", null, W.your_appointments));
    if (note) { mine.append(el("p", "status ok", note)); }
    var ul = el("ul", "appt-list");
    list.forEach(function (a) {
      var li = el("li", "appt");
      li.setAttribute("data-code", a.code);
      var status = el("p", "status");
      li.append(el("div", "appt-code small", a.code), el("p", "appt-who", whoText(a)),
                el("p", "appt-when", whenText(a)));
      var win = windowText(a);
      if (win) { li.append(el("p", "appt-window", win)); }
      li.append(cancelButton(a, status, function () { renderMine(W.cancelled_ok); }), status);
      ul.append(li);
    });
    mine.append(ul);
  }

  /* ---------- the panel ---------- */
  function openPanel(title, sub) {
    panel.textContent = "";
    panel.className = "card panel";
    panel.hidden = false;
    shownCode = null;
    var head = el("div", "panel-head");
    head.append(el("h2", null, title), K.button("close", W.close, closePanel));
    panel.append(head);
    if (sub) { panel.append(el("p", "note", sub)); }
    panel.scrollIntoView({block: "start"});
    return panel;
  }
  function closePanel() {
    panel.hidden = true;
    panel.textContent = "";
    shownCode = null;
    renderMine();
  }
  function statusLine() { return el("p", "status", ""); }
  function say(status, cls, text) {
    status.className = "status " + cls;
    status.textContent = text;
    if (cls === "error") { status.setAttribute("role", "alert"); }
  }

  /* ---------- booking ---------- */
  function book(b, s, fields) {
    var serviceName = K.named(s.name, s.service);
    openPanel(fill("book_title", {s: serviceName}), K.named(b.name, b.branch));
    var days = el("div", "days");
    var slots = el("div", "slots");
    var status = statusLine();
    var form = fields && fields.length ? K.form(fields) : null;
    var confirm = K.button("primary confirm", W.book_confirm);
    var chosen = {day: null, slot: null}, data = [];
    panel.append(el("p", "label", W.pick_day), days, el("p", "label", W.pick_slot), slots);
    if (form) { panel.append(form.node); }
    panel.append(status, confirm);
    /* an answer given: the complaint about it goes */
    panel.addEventListener("change", function () { if (/error/.test(status.className)) { say(status, "", ""); } });

    function freeOf(d) {
      return (d.slots || []).reduce(function (n, x) { return n + Math.max(0, x.free | 0); }, 0);
    }
    function showDays() {
      days.textContent = "";
      data.forEach(function (d) {
        var free = freeOf(d);
        var btn = K.button("day" + (d.day === chosen.day ? " chosen" : "") + (free ? "" : " full"), null, function () {
          chosen = {day: d.day, slot: null};
          showDays();
          showSlots();
        });
        btn.setAttribute("data-day", d.day);
        btn.setAttribute("aria-pressed", String(d.day === chosen.day));
        btn.append(el("span", "d", K.dayText(d.day, data[0].day)),   /* the slots list starts at the branch's today */
                   el("span", "f", free ? fill("slot_free", {n: free}) : W.slot_full));
        days.append(btn);
      });
    }
    function showSlots() {
      slots.textContent = "";
      var d = data.filter(function (x) { return x.day === chosen.day; })[0];
      var list = d && Array.isArray(d.slots) ? d.slots : [];
      if (!list.length) { slots.append(el("p", "note", W.no_slots)); }
      list.forEach(function (x) {
        var free = Math.max(0, x.free | 0);
        var btn = K.button("slot" + (x.slot === chosen.slot ? " chosen" : "") + (free ? "" : " full"), null, function () {
          chosen.slot = x.slot;
          showSlots();
          say(status, "", "");
        });
        btn.disabled = !free;
        btn.setAttribute("data-slot", x.slot);
        btn.setAttribute("aria-pressed", String(x.slot === chosen.slot));
        btn.append(el("span", "t", x.slot), el("span", "f", free ? fill("slot_free", {n: free}) : W.slot_full));
        slots.append(btn);
      });
    }
    function load() {
      say(status, "", W.loading);
      return K.send("GET", api(b) + "/slots?service=" + encodeURIComponent(s.service)).then(function (j) {
        data = (Array.isArray(j.days) ? j.days : []).filter(function (d) { return d && typeof d.day === "string"; });
        var still = data.filter(function (d) { return d.day === chosen.day; })[0];
        if (!still) {
          var first = data.filter(function (d) { return freeOf(d) > 0; })[0] || data[0];
          chosen = {day: first ? first.day : null, slot: null};
        } else if (chosen.slot && !(still.slots || []).some(function (x) { return x.slot === chosen.slot && x.free > 0; })) {
          chosen.slot = null;
        }
        showDays();
        showSlots();
        if (!data.length) { say(status, "", W.no_slots); } else if (status.textContent === W.loading) { say(status, "", ""); }
      }, function (err) { say(status, "error", fill("slots_error", {m: err.message})); });
    }
    confirm.addEventListener("click", function () {
      if (!chosen.day || !chosen.slot) { say(status, "error", W.pick_slot_first); return; }
      var body = {service: s.service, day: chosen.day, slot: chosen.slot};
      try {
        if (form) { body.form = form.read(); }
      } catch (e) { say(status, "error", e.message); return; }
      confirm.disabled = true;
      confirm.textContent = W.booking;
      say(status, "", "");
      K.send("POST", api(b) + "/appointments", body, [201]).then(function (a) {
        var entry = {branch: b.branch, branch_name: b.name, service: s.service, service_name: s.name,
                     code: String(a.code), day: a.day || body.day, slot: a.slot || body.slot,
                     check_in_from: a.check_in_from, check_in_until: a.check_in_until};
        keep(kept().concat([entry]));
        showBooked(entry);
      }, function (err) {
        confirm.disabled = false;
        confirm.textContent = W.book_confirm;
        say(status, "error", fill("book_error", {m: err.message}));
        if (err.status === 409) { load().then(function () { say(status, "error", fill("book_error", {m: err.message})); }); }
      });
    });
    load();
  }

  function showBooked(a) {
    openPanel(W.booked, whoText(a));
    panel.className = "card panel booked";
    shownCode = a.code;
    var status = statusLine();
    panel.append(el("p", "label", W.appointment_code), el("div", "appt-code", a.code),
                 el("p", "appt-when", whenText(a)));
    var win = windowText(a);
    if (win) { panel.append(el("p", "appt-window", win)); }
    panel.append(el("p", "note", W.check_in_hint), cancelButton(a, status, function () {
      closePanel();
      renderMine(W.cancelled_ok);
    }), status);
    renderMine();
  }

  /* ---------- a remote ticket's form, asked before the ticket is taken ---------- */
  function askForm(b, s, fields, submit) {
    var serviceName = K.named(s.name, s.service);
    openPanel(fill("take_title", {s: serviceName}), K.named(b.name, b.branch));
    var form = K.form(fields);
    var status = statusLine();
    var go = K.button("primary confirm", W.take);
    panel.append(form.node, status, go);
    go.addEventListener("click", function () {
      var values;
      try { values = form.read(); } catch (e) { say(status, "error", e.message); return; }
      go.disabled = true;
      go.textContent = W.taking;
      say(status, "", "");
      submit(values).then(function () { closePanel(); }, function (err) {
        go.disabled = false;
        go.textContent = W.take;
        say(status, "error", fill("take_error", {m: err.message}));
      });
    });
  }

  renderMine();
  K.booking = {nodes: [mine, panel], book: book, askForm: askForm, closePanel: closePanel};
})();
