/* The hall pages' shared code: the configuration from <body data-lan>, DOM building (never
   innerHTML), the API with the Bearer token of this tab, the live stream, the sign-in form. */
"use strict";
const LAN = JSON.parse(document.body.dataset.lan);
const T = LAN.text;
const KEY = "lan-session-" + LAN.page;

function el(tag, attrs, ...kids) {
  const n = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") n.textContent = String(v);
    else if (k.startsWith("on")) n.addEventListener(k.slice(2), v);
    else n.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat(Infinity)) if (kid !== null && kid !== undefined && kid !== false)
    n.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  return n;
}
function nm(names) { return names ? (names[LAN.lang] || names.en) : ""; }
function mins(s) {
  if (s === null || s === undefined) return T.none;
  s = Math.max(0, Math.round(s));
  return Math.floor(s / 60) + ":" + String(s % 60).padStart(2, "0");
}
function session() { try { return JSON.parse(sessionStorage.getItem(KEY)); } catch (e) { return null; } }
function setSession(s) { if (s) sessionStorage.setItem(KEY, JSON.stringify(s)); else sessionStorage.removeItem(KEY); }

async function api(method, path, body) {
  const s = session();
  const headers = {"Accept": "application/json"};
  if (s) headers["Authorization"] = "Bearer " + s.token;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let r;
  try {
    r = await fetch(path, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)});
  } catch (e) { return {ok: false, status: 0, data: {message: String(e)}}; }
  let data = {};
  try { data = await r.json(); } catch (e) { data = {}; }
  if (r.status === 401 && path !== "/api/session") { setSession(null); location.reload(); }
  return {ok: r.ok, status: r.status, data};
}

function say(text, bad) {
  const box = document.getElementById("msg");
  if (!box) return;
  box.textContent = text || "";
  box.className = "msg" + (bad ? " bad" : "");
}
function refused(res) { say((res.data && res.data.message) || ("HTTP " + res.status), true); return null; }

/* The hall's state over server-sent events, read with fetch (EventSource cannot send the token). */
function follow(onHall) {
  const live = document.getElementById("live");
  let stopped = false;
  async function run() {
    while (!stopped && session()) {
      try {
        const r = await fetch("/api/stream", {headers: {"Authorization": "Bearer " + session().token}});
        if (r.status === 401) { setSession(null); location.reload(); return; }
        const reader = r.body.getReader();
        const dec = new TextDecoder();
        let buf = "";
        live.className = "live on"; live.title = T.live;
        for (;;) {
          const {value, done} = await reader.read();
          if (done) break;
          buf += dec.decode(value, {stream: true});
          let i;
          while ((i = buf.indexOf("\n\n")) >= 0) {
            const chunk = buf.slice(0, i); buf = buf.slice(i + 2);
            let ev = "message", data = "";
            for (const line of chunk.split("\n")) {
              if (line.startsWith("event: ")) ev = line.slice(7);
              else if (line.startsWith("data: ")) data += line.slice(6);
            }
            if (ev === "hall") onHall(JSON.parse(data));
            else if (ev === "signed_out") { setSession(null); location.reload(); return; }
          }
        }
      } catch (e) { /* reconnect below */ }
      live.className = "live off"; live.title = T.offline;
      await new Promise(ok => setTimeout(ok, 2000));
    }
  }
  run();
  return () => { stopped = true; };
}

function signInForm(withCounter, onDone) {
  const clerk = el("input", {name: "clerk", autocomplete: "username", maxlength: 16});
  const pin = el("input", {name: "pin", type: "password", inputmode: "numeric", maxlength: 12,
                           autocomplete: "current-password"});
  const manager = el("input", {type: "checkbox", name: "manager"});
  const counter = el("select", {name: "counter"},
    withCounter ? null : el("option", {value: "", text: T.floor_role}),
    LAN.counters.map(c => el("option", {value: c.number, text: nm(c.name)})));
  manager.addEventListener("change", () => { clerk.disabled = manager.checked; });
  const form = el("form", {class: "card signin"},
    el("h1", {text: T[LAN.page]}), el("p", {id: "msg", class: "msg", role: "alert"}),
    el("label", {}, T.clerk, clerk), el("label", {}, T.pin, pin), el("label", {}, T.counter, counter),
    el("label", {class: "check"}, manager, T.manager),
    el("button", {type: "submit", class: "primary", text: T.sign_in}));
  form.addEventListener("submit", async ev => {
    ev.preventDefault();
    const body = {pin: pin.value};
    if (manager.checked) body.manager = true; else body.clerk = clerk.value;
    if (counter.value) body.counter = Number(counter.value);
    const res = await api("POST", "/api/session", body);
    if (!res.ok) return refused(res);
    setSession(res.data);
    onDone();
  });
  return form;
}

function topBar(extra) {
  const s = session();
  const out = el("button", {type: "button", class: "quiet", "data-action": "sign-out", text: T.sign_out});
  out.addEventListener("click", async () => { await api("DELETE", "/api/session"); setSession(null); location.reload(); });
  return el("div", {class: "bar"}, el("span", {class: "who", text: s.name + (s.clerk ? " (" + s.clerk + ")" : "")}),
            extra || null, out);
}

function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
