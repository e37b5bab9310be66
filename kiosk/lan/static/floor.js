/* /floor: the floor guide's tablet — the hall at a glance, and a ticket issued for a customer. */
"use strict";
(function () {
  const main = document.getElementById("main");
  if (!session()) { main.append(signInForm(false, () => location.reload())); return; }
  const hallBox = el("section", {class: "card hall", id: "hall"}, el("h2", {text: T.hall}));
  const result = el("section", {class: "card result", id: "result", hidden: true});
  main.append(topBar(), el("p", {id: "msg", class: "msg", role: "alert"}),
              el("div", {class: "grid"}, hallBox, issueForm(), result));

  function showHall(h) {
    const alert = h.alert || {};
    const level = alert.level || 0;
    const suggest = alert.open_counters_needed ? T.open_more.replace("{n}", alert.open_counters_needed) : null;
    const services = el("table", {class: "services"},
      el("thead", {}, el("tr", {}, [T.service, T.waiting, T.longest, T.estimate].map(x => el("th", {text: x})))),
      el("tbody", {}, (h.services || []).map(s => el("tr", {class: s.longest_wait_s > s.target_wait_s ? "late" : ""},
        el("td", {text: s.service + " " + nm(s.name) + (s.unavailable ? " (" + T.unavailable + ")" : "")}),
        el("td", {class: "n", "data-service": s.service, text: s.waiting}),
        el("td", {class: "n", text: mins(s.longest_wait_s)}), el("td", {class: "n", text: mins(s.estimate_s)})))));
    const counters = el("ul", {class: "counters"}, (h.counters || []).map(c =>
      el("li", {class: c.state}, el("b", {text: nm(c.name)}), " ",
         el("span", {text: (T["state_" + c.state] || c.state) + (c.ticket ? " · " + c.ticket : "")}))));
    const faults = Object.entries(h.devices || {});
    clear(hallBox).append(...[el("h2", {text: T.hall + " · " + T.waiting + " " + (h.waiting ?? 0)}),
      el("div", {class: "alert level" + level, id: "alert"},
         el("b", {text: level ? T.alert + " " + level : T.no_alert}), level ? " " + (alert.text || alert.reason || "") : "",
         suggest ? el("div", {class: "suggest", text: T.suggest + ": " + suggest}) : null),
      services, el("h3", {text: T.counters}), counters,
      faults.length ? el("p", {class: "faults", text: T.devices + ": " + faults.map(([n, f]) => n + " " + (f.reason || f.kind)).join(", ")}) : null].filter(Boolean));
  }

  function issueForm() {
    const service = el("select", {name: "service"}, LAN.services.map(s => el("option", {value: s.prefix, text: s.prefix + " " + nm(s.name)})));
    const tier = el("select", {name: "tier"}, el("option", {value: "", text: T.normal}),
                    LAN.tiers.map(t => el("option", {value: t.id, text: nm(t.name)})));
    const assisted = el("input", {type: "checkbox", name: "assisted"});
    const printed = el("input", {type: "radio", name: "out", value: "print", checked: true});
    const qr = el("input", {type: "radio", name: "out", value: "qr"});
    const fields = el("fieldset", {class: "form", id: "form-fields"});
    let inputs = [];
    function showFields() {
      const svc = LAN.services.find(s => s.prefix === service.value);
      inputs = [];
      clear(fields);
      if (!svc || !svc.form.length) { fields.hidden = true; return; }
      fields.hidden = false;
      fields.append(el("legend", {text: T.form}));
      for (const f of svc.form) {
        let input;
        if (f.type === "choice") input = el("select", {name: "f-" + f.id}, el("option", {value: "", text: T.none}),
                                            f.choices.map(c => el("option", {value: c.id, text: nm(c.name)})));
        else if (f.type === "yesno") input = el("input", {type: "checkbox", name: "f-" + f.id});
        else input = el("input", {name: "f-" + f.id, maxlength: f.max_length});
        inputs.push([f, input]);
        fields.append(el("label", {class: f.type === "yesno" ? "check" : ""}, f.type === "yesno" ? input : null,
                         nm(f.label) + (f.required ? " *" : ""), f.type === "yesno" ? null : input));
      }
    }
    service.addEventListener("change", showFields);
    showFields();
    const form = el("form", {class: "card issue", id: "issue"}, el("h2", {text: T.issue}),
      el("label", {}, T.service, service), el("label", {}, T.tier, tier),
      el("label", {class: "check"}, assisted, T.assisted), fields,
      el("div", {class: "row"}, el("label", {class: "check"}, printed, T.print), el("label", {class: "check"}, qr, T.qr)),
      el("button", {type: "submit", class: "primary", "data-action": "issue", text: T.issue}));
    form.addEventListener("submit", async ev => {
      ev.preventDefault();
      const body = {service: service.value, print: printed.checked};
      if (tier.value) body.tier = tier.value;
      if (assisted.checked) body.assisted = true;
      const values = {};
      for (const [f, input] of inputs) {
        if (f.type === "yesno") values[f.id] = input.checked;
        else if (input.value.trim()) values[f.id] = input.value.trim();
      }
      if (inputs.length) body.form = values;
      const res = await api("POST", "/api/tickets", body);
      if (!res.ok) return refused(res);
      say("");
      const t = res.data;
      clear(result).append(el("h2", {text: T.issued}), el("p", {class: "big", id: "issued", text: t.ticket}),
        el("p", {class: "sub", text: t.ahead + " " + T.ahead + " · " + T.estimate + " " + mins(t.estimate_s)}),
        t.qr ? el("img", {src: t.qr, alt: t.ticket, class: "qr", id: "qr"}) : null);
      result.hidden = false;
    });
    return form;
  }

  follow(showHall);
  api("GET", "/api/hall").then(res => res.ok ? showHall(res.data) : refused(res));
})();
