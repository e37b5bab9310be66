/* /caller: the counter caller of one clerk at one counter. */
"use strict";
(function () {
  const main = document.getElementById("main");
  if (!session()) { main.append(signInForm(true, () => location.reload())); return; }
  const s = session();
  const view = el("div", {class: "grid"});
  let at = s.counter;
  main.append(topBar(el("span", {class: "where", id: "where"})), el("p", {id: "msg", class: "msg", role: "alert"}), view);

  async function act(path, body) {
    const b = Object.assign({}, body || {});
    if (s.role === "manager" && at) b.at = at;
    const res = await api("POST", "/api/counter/" + path, b);
    if (!res.ok) return refused(res);
    say(res.data.ticket ? (path + " " + res.data.ticket) : (res.data.state || T.nobody_waits));
    refresh();
  }
  const btn = (action, label, fn, cls) => el("button", {type: "button", "data-action": action,
                                                        class: cls || "", text: label, onclick: fn});

  function current(c) {
    const t = c.ticket;
    if (!t) return el("section", {class: "card current"}, el("h2", {text: T.current}),
                      el("p", {class: "big none", id: "ticket", text: T.none}), el("p", {text: T.nobody}));
    const form = t.form ? Object.entries(t.form) : [];
    const svc = LAN.services.find(x => x.prefix === t.service);
    const label = id => { const f = svc && svc.form.find(x => x.id === id); return f ? nm(f.label) : id; };
    const val = (id, v) => {
      const f = svc && svc.form.find(x => x.id === id);
      const c = f && f.choices.find(x => x.id === v);
      return v === true ? T.yes : v === false ? T.no : c ? nm(c.name) : v;
    };
    return el("section", {class: "card current"}, el("h2", {text: T.current}),
      el("p", {class: "big", id: "ticket", text: t.number}),
      el("p", {class: "sub", text: nm(svc && svc.name) + " · " + (T["t_" + t.state] || t.state) + (t.assisted ? " · " + T.assisted : "")}),
      t.note ? el("p", {class: "note", id: "note", text: T.note + ": " + t.note}) : null,
      form.length ? el("dl", {class: "form", id: "form"}, form.map(([k, v]) => [el("dt", {text: label(k)}),
                                                                                el("dd", {text: val(k, v)})])) : null);
  }

  let built = null;
  function actions() {
    const number = el("input", {name: "number", placeholder: "A001", maxlength: 5, size: 6});
    const kind = el("select", {name: "to"}, ["service", "counter", "clerk"].map(k => el("option", {value: k, text: T["to_" + k]})));
    const target = el("input", {name: "target", maxlength: 16, size: 8});
    const note = el("input", {name: "note", maxlength: 200, placeholder: T.note});
    const reason = el("select", {name: "reason"}, LAN.pause_reasons.map(r => el("option", {value: r.id, text: nm(r.name)})));
    return el("section", {class: "card actions"},
      el("div", {class: "row"}, btn("call", T.call_next, () => act("call"), "primary"),
         btn("recall", T.recall, () => act("recall")), btn("noshow", T.noshow, () => act("noshow")),
         btn("start", T.start, () => act("start")), btn("finish", T.finish, () => act("finish"), "primary")),
      el("div", {class: "row"}, number, btn("call-number", T.call_number,
         () => act("call", {ticket: number.value.trim().toUpperCase()}))),
      el("div", {class: "row"}, kind, target, note, btn("transfer", T.transfer, () => {
        const b = {note: note.value};
        b[kind.value] = kind.value === "counter" ? Number(target.value) : target.value.trim();
        act("transfer", b);
      })),
      el("div", {class: "row"}, LAN.pause_reasons.length ? reason : null,
         btn("pause", T.pause, () => act("pause", LAN.pause_reasons.length ? {reason: reason.value} : {})),
         btn("open", T.open, () => act("open"))));
  }

  function waiting(list) {
    if (!list.length) return el("section", {class: "card"}, el("h2", {text: T.waiting}), el("p", {text: T.nobody_waits}));
    return el("section", {class: "card"}, el("h2", {text: T.waiting + " (" + list.length + ")"}),
      el("ol", {class: "waiting", id: "waiting"}, list.map(w => el("li", {},
        el("b", {text: w.number}), " ", el("span", {text: T.waited + " " + mins(w.waited_s)}),
        w.reserved ? el("span", {class: "tag reserved", text: T["reserved_" + w.reserved] || w.reserved}) : null,
        w.priority ? el("span", {class: "tag", text: T.priority}) : null,
        w.assisted ? el("span", {class: "tag", text: T.assisted}) : null,
        w.note ? el("span", {class: "note", text: w.note}) : null))));
  }

  function today(d) {
    if (!d) return null;
    const pct = x => x === null || x === undefined ? T.none : Math.round(x * 100) + "%";
    const st = d.service_time || {}, lim = d.counter_limit || {}, sat = d.satisfaction || {};
    const rows = [[T.served, d.served], [T.mean_time, mins(st.mean_s)], [T.p90_time, mins(st.p90_s)],
                  [T.within_target, pct(lim.share)], [T.ratings, sat.ratings], [T.satisfaction, pct(sat.share)],
                  [T.noshows, d.noshows]];
    return el("section", {class: "card"}, el("h2", {text: T.today}),
              el("dl", {class: "figures", id: "today"}, rows.map(([k, v]) => [el("dt", {text: k}), el("dd", {text: v ?? T.none})])));
  }

  /* One read at a time: a read asked for while another runs is made after it (two reads in
     flight could answer out of order and leave the page showing the older state). */
  let reading = null, again = false;
  function refresh() {
    if (reading) { again = true; return reading; }
    reading = (async () => {
      do { again = false; await read(); } while (again);
    })().finally(() => { reading = null; });
    return reading;
  }

  async function read() {
    const res = await api("GET", "/api/counter" + (s.role === "manager" && at ? "?at=" + at : ""));
    if (!res.ok) return refused(res);
    const c = res.data;
    at = c.counter;
    const where = document.getElementById("where");
    const why = c.pause_reason ? LAN.pause_reasons.find(r => r.id === c.pause_reason) : null;
    where.textContent = nm(c.name) + " · " + (T["state_" + c.state] || c.state) +
      (c.pause_reason ? " · " + (why ? nm(why.name) : c.pause_reason) : "");
    where.className = "where " + c.state;
    if (!built) { built = actions(); }
    clear(view).append(current(c), built, waiting(c.waiting || []), today(c.today) || "");
  }
  let pending = null;
  follow(() => { clearTimeout(pending); pending = setTimeout(refresh, 100); });
  refresh();
})();
