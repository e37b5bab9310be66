"""The found stored XSS, replayed in Chromium, and the Content-Security-Policy seen by Chromium.

A hostile branch puts markup with script into everything of its own that the dashboard shows:
the business day and the counter id of recorded events (written straight into the recording,
as an HQ from before the ingest checks stored them), and every free-text field its retained
queue snapshot may still carry (service and counter names, the alert reason, a device's
reason). An operator opens every page: the markup shows as text, no dialog opens, no script
runs, and no command request leaves the page. And no page causes a CSP violation.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from kiosk.hq.events_schema import ensure_schema
from kiosk.hq.web.auth import Users
from tests.kit.hq_web import USERS, Server, login, new_branch
from tests.kit.mqtt import Collector

BRANCH = new_branch("xss")
# breaks out of an attribute, then two scripts: a dialog, and an HQ command sent as the viewer
PAYLOAD = ('"><img src=x onerror=alert(1)><img src=y onerror=fetch(\'/api/branch/' + BRANCH +
           '/cmd/ping\',{method:\'POST\',headers:{\'Content-Type\':\'application/json\'},body:\'{}\'})>')
TODAY = date.today().isoformat()
OLD_EVENTS_TABLE = ("CREATE TABLE events (id TEXT PRIMARY KEY, branch TEXT NOT NULL, seq INTEGER, type TEXT, ts TEXT, "
                    "day TEXT, body TEXT NOT NULL, received TEXT)")

LISTEN_CSP = """document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"""


def _recorded(seq: int, day: str) -> tuple:
    body = {"v": 1, "id": f"{BRANCH}-{seq}", "seq": seq, "type": "ticket.called", "branch": BRANCH,
            "ts": f"{TODAY}T09:0{seq}:00+08:00", "day": day, "counter": PAYLOAD, "ticket": PAYLOAD,
            "service": "A", "wait_s": 30.0}
    return (body["id"], BRANCH, seq, "ticket.called", body["ts"], day, json.dumps(body), f"{TODAY}T01:00:00+00:00")


@pytest.fixture(scope="module")
def hostile_server(hq_broker, tmp_path_factory) -> Iterator[Server]:
    db = tmp_path_factory.mktemp("xss") / "hq.db"
    users = Users(db)
    for name, (role, password) in USERS.items():
        users.add(name, role, password)
    users.close()
    rec = sqlite3.connect(db)   # the first recorder's table, as it stored them (migrated when opened)
    rec.execute(OLD_EVENTS_TABLE)
    rec.executemany("INSERT INTO events (id, branch, seq, type, ts, day, body, received) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [_recorded(1, PAYLOAD), _recorded(2, TODAY)])
    rec.commit()
    rec.close()
    ensure_schema(db)
    names = {"en": PAYLOAD, "zh": PAYLOAD}
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        pub.client.publish(f"kiosk/{BRANCH}/status", json.dumps(
            {"v": 1, "state": "online", "since": f"{TODAY}T08:00:00+08:00"}), qos=1, retain=True).wait_for_publish(10)
        pub.client.publish(f"kiosk/{BRANCH}/queue", json.dumps({
            "v": 1, "day": TODAY, "waiting": 1, "open_counters": 1, "alert": {"level": 2, "reason": PAYLOAD},
            "services": [{"service": "A", "name": names, "waiting": 1, "longest_wait_s": 5.0}],
            "counters": [{"counter": 1, "name": names, "state": "open"}],
            "devices": {"printer": {"kind": "paper_out", "reason": PAYLOAD, "since": f"{TODAY}T08:30:00+08:00"}}}),
            qos=1, retain=True).wait_for_publish(10)
        server = Server(hq_broker.url, db)
        try:
            yield server
        finally:
            server.stop()
    finally:
        for topic in ("status", "queue"):
            pub.client.publish(f"kiosk/{BRANCH}/{topic}", b"", qos=1, retain=True).wait_for_publish(10)
        pub.close()


class Watched:
    """A page with everything a script could do recorded: dialogs, command requests, console, CSP."""

    def __init__(self, browser: Any) -> None:
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        self.ctx.add_init_script(LISTEN_CSP)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(30_000)
        self.dialogs: list[str] = []
        self.commands: list[str] = []
        self.console: list[str] = []
        self.errors: list[str] = []
        self.violations: list[str] = []
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.on("request", lambda r: self.commands.append(r.url) if "/cmd/" in r.url else None)
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def collect_violations(self) -> None:
        self.violations += self.page.evaluate("() => window.__csp || []")

    def close(self) -> None:
        self.ctx.close()


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    w = Watched(browser)
    try:
        yield w
    finally:
        w.close()


def test_hostile_branch_values_show_as_text_and_run_nothing(watched, hostile_server):
    page, base = watched.page, hostile_server.url
    login(page, base, "op")
    page.wait_for_selector(f"tr[data-branch='{BRANCH}'][data-alert='2']")
    row = f"tr[data-branch='{BRANCH}']"
    assert page.get_attribute(f"{row} .badge.l2", "title") == PAYLOAD
    assert PAYLOAD in page.get_attribute(f"{row} .dev", "title")

    page.goto(f"{base}/branch/{BRANCH}")
    page.wait_for_selector("#alert[data-level='2']")
    assert page.inner_text("#alert").endswith(PAYLOAD)
    assert PAYLOAD in page.inner_text("#devices")
    page.wait_for_selector("#svc tbody tr")
    assert page.inner_text("#svc tbody td") == "A " + PAYLOAD
    assert page.inner_text("#ctr tbody td") == PAYLOAD
    # the operator's command form: the counter's name as the option's text
    assert page.inner_text("form[data-cmd=counter] select[name=counter] option") == PAYLOAD
    page.wait_for_selector("#events tbody tr[data-type='ticket.called']")
    assert f"counter={PAYLOAD}" in page.inner_text("#events")
    page.wait_for_function("(p) => [...document.querySelectorAll('#sat tbody td')].some(td => td.textContent === p)",
                           arg=PAYLOAD)  # the recorded counter id, in the satisfaction table
    watched.collect_violations()

    page.goto(f"{base}/compare?day={TODAY}")
    page.wait_for_selector("#tbl tbody tr")
    days = page.eval_on_selector_all("#days option", "(os) => os.map(o => o.value)")
    assert PAYLOAD in days and TODAY in days  # the recorded day, as an option's value
    page.goto(f"{base}/compare")  # the default day is never the hostile one
    page.wait_for_selector("#tbl tbody tr")
    assert page.input_value("#day") == TODAY

    page.wait_for_timeout(500)  # let any image error handler that could fire, fire
    assert page.evaluate("() => document.querySelectorAll('img').length") == 0
    watched.collect_violations()
    assert watched.dialogs == [] and watched.commands == [] and watched.errors == []
    with hostile_server.client("op") as c:
        assert c.get(f"/api/branch/{BRANCH}/commands").json()["commands"] == []


PAGES = ["/login?lang=en", "/login?lang=zh", "/", "/?lang=zh", f"/branch/{BRANCH}", "/compare"]


def test_csp_header_and_no_violation_on_any_page(watched, hostile_server):
    page, base = watched.page, hostile_server.url
    login(page, base, "op")
    for path in PAGES:
        resp = page.goto(base + path)
        assert "default-src 'self'" in resp.headers["content-security-policy"], path
        page.wait_for_load_state("networkidle") if path.startswith("/login") else page.wait_for_selector(
            "#main > *", state="attached")
        page.wait_for_timeout(300)
        watched.collect_violations()
        if path.startswith("/login"):  # the login page of a signed-in browser: sign in again for the next
            login(page, base, "op")
    assert watched.violations == [], watched.violations
    assert [m for m in watched.console if "Content Security Policy" in m or m.startswith("error")] == []
    assert watched.errors == []


def test_csp_blocks_injected_inline_script(watched, hostile_server):
    """The policy is live: a script element added to the page does not run, and Chromium says why."""
    page = watched.page
    login(page, hostile_server.url, "view")
    ran = page.evaluate("""() => { const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true'; document.body.appendChild(s);
        return window.inlineRan === true; }""")
    assert ran is False
    page.wait_for_function("() => (window.__csp || []).some(v => v.startsWith('script-src'))")
    assert any("Content Security Policy" in m for m in watched.console)
