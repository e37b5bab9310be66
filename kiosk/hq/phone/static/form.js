/* A service's pre-acceptance form (预受理) on the phone: the fields as the branch configures them
   (`[[services.form]]`: id, type text | choice | yesno, label {zh, en}, choices [{id, name}],
   required, max_length), built with textContent only. PhoneKit.form(fields) gives the box and
   read(), which returns the values ({id: text | choice id | true/false}, empty ones left out) or
   throws an Error naming the first required field left empty (and focuses it). */
(function () {
  "use strict";
  var K = window.PhoneKit, W = K.W, el = K.el;
  var RADIOS_UP_TO = 4;   // more choices than this: a drop-down list

  function kindOf(f) { return f.type || f.kind || "text"; }
  function choicesOf(f) {
    var list = Array.isArray(f.choices) ? f.choices : (Array.isArray(f.options) ? f.options : []);
    return list.map(function (c) {
      return c && typeof c === "object" ? {id: String(c.id), name: K.named(c.name || c.label, String(c.id))}
                                        : {id: String(c), name: String(c)};
    });
  }

  function radios(name, options) {
    var box = el("div", "choices");
    box.setAttribute("role", "radiogroup");
    options.forEach(function (o) {
      var lab = el("label", "choice");
      var input = el("input");
      input.type = "radio";
      input.name = name;
      input.value = o.id;
      lab.append(input, el("span", null, o.name));
      box.append(lab);
    });
    return box;
  }

  function field(f, n) {
    var kind = kindOf(f), id = String(f.id), name = "f_" + id, label = K.named(f.label, id);
    var row = el("div", "field");
    row.setAttribute("data-field", id);
    row.setAttribute("data-kind", kind);
    var head = el("label", "field-label", label);
    if (f.required) { head.append(el("span", "req", W.required)); }
    row.append(head);
    var control, read;
    if (kind === "choice" || kind === "yesno") {
      var options = kind === "yesno" ? [{id: "yes", name: W.yes}, {id: "no", name: W.no}] : choicesOf(f);
      if (kind === "choice" && options.length > RADIOS_UP_TO) {
        control = el("select");
        control.name = name;
        control.id = "field-" + n;
        head.htmlFor = control.id;
        var none = el("option", null, W.choose);
        none.value = "";
        control.append(none);
        options.forEach(function (o) {
          var opt = el("option", null, o.name);
          opt.value = o.id;
          control.append(opt);
        });
        read = function () { return control.value || null; };
      } else {
        control = radios(name, options);
        read = function () {
          var on = control.querySelector("input:checked");
          if (!on) { return null; }
          return kind === "yesno" ? on.value === "yes" : on.value;
        };
      }
    } else {
      var max = typeof f.max_length === "number" ? f.max_length : (typeof f.max_len === "number" ? f.max_len : 200);
      control = el(max > 120 ? "textarea" : "input");
      if (control.tagName === "TEXTAREA") { control.rows = 2; } else { control.type = "text"; }
      if (kind === "number") { control.inputMode = "decimal"; }
      control.name = name;
      control.maxLength = max;
      control.autocomplete = "off";
      control.id = "field-" + n;
      head.htmlFor = control.id;
      read = function () { return control.value.trim() || null; };
    }
    row.append(control);
    return {f: f, row: row, read: read, label: label,
            focus: function () { (control.querySelector ? control.querySelector("input") || control : control).focus(); }};
  }

  K.form = function (fields) {
    var box = el("div", "preform");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", W.form_title);
    box.append(el("h3", null, W.form_title), el("p", "note", W.form_note));
    var made = (Array.isArray(fields) ? fields : []).filter(function (f) { return f && f.id; }).map(field);
    made.forEach(function (m) { box.append(m.row); });
    return {
      node: box,
      read: function () {
        var values = {};
        for (var i = 0; i < made.length; i++) {
          var v = made[i].read();
          if (v === null) {
            if (made[i].f.required) {
              made[i].row.classList.add("missing");
              made[i].focus();
              throw new Error(K.fill("form_required", {f: made[i].label}));
            }
            continue;
          }
          made[i].row.classList.remove("missing");
          values[String(made[i].f.id)] = v;
        }
        return values;
      }
    };
  };
})();
