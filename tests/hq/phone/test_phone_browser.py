"""The customer's phone pages in Chromium with mobile emulation (360 px, touch), against a real
`kiosk hq serve` and a real mosquitto. The test is the branch: it publishes the retained
status, queue snapshot (with its ``phone`` block) and follow message itself, and answers the
``issue_remote`` command as a kiosk would.

Checked: the follow page shows the ticket, then turns to "go to counter 3" live when the branch
calls it (zh and en, no reload); it keeps working by polling the JSON when the event stream is
blocked; the branch page lists the branch and takes a remote ticket whose follow page shows the
check-in code; the "tell me when my turn is near" form is accepted, or refused in the
server's words; the kiosk's refusal is shown in the server's words; no page scrolls sideways at
360 px, and none logs a console error or a Content-Security-Policy violation.

With ``KIOSK_PHONE_SCREENSHOTS=DIR`` the pages are also saved there (``phone-*.png``; the
published ones are in docs/screenshots/).
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from kiosk.mqtt import protocol
from kiosk.sim.broker import Broker
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.mqtt import Collector

CST = timezone(timedelta(hours=8))
WIDTH, HEIGHT = 360, 740
SHOTS = os.environ.get("KIOSK_PHONE_SCREENSHOTS")
WEBHOOK = "http://127.0.0.1:9/sms"   # nothing is sent to it here: no alert's condition comes true
LISTEN_CSP = """document.addEventListener('securitypolicyviolation', (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective + ' ' + e.blockedURI); });"""
CALLED = {"zh": "请到3号窗口", "en": "Please go to counter 3"}
AHEAD = {"zh": "你前面还有 3 人", "en": "3 people ahead of you"}
ESTIMATE = {"zh": "预计约 12 分钟", "en": "about 12 min"}


def _now(minutes: float = 0) -> str:
    return (datetime.now(CST) + timedelta(minutes=minutes)).isoformat(timespec="seconds")


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:32]


class FakeBranch:
    """A branch as HQ sees it over MQTT: retained status, queue and follow messages, and
    answers to ``issue_remote`` (a parked ticket, or the refusal set in `refuse`)."""

    def __init__(self, port: int, branch: str) -> None:
        self.branch = branch
        self.base = f"kiosk/{branch}"
        self.tickets: dict[str, dict[str, Any]] = {}   # key -> follow entry
        self.calls: list[dict[str, Any]] = []
        self.refuse: tuple[str, str] | None = None
        self.issued = 11
        self.mqtt = Collector(port, [f"{self.base}/cmd/issue_remote"])
        self.mqtt.client.on_message = self._command
        self._retain("status", {"v": 1, "state": "online", "since": _now(-120)})
        self._retain("queue", {
            "v": 1, "day": _now()[:10], "waiting": 4, "open_counters": 2,
            "services": [{"service": "A", "name": {"zh": "个人业务", "en": "Personal"}, "waiting": 3,
                          "longest_wait_s": 300.0, "estimate_s": 720.0},
                         {"service": "B", "name": {"zh": "对公业务", "en": "Business"}, "waiting": 1,
                          "longest_wait_s": 60.0, "estimate_s": 240.0}],
            "counters": [{"counter": 3, "name": {"zh": "3号", "en": "3"}, "state": "open"}],
            "phone": {"remote": True, "services": ["A"], "name": {"zh": "浦东陆家嘴营业厅", "en": "Pudong Lujiazui"},
                      "address": {"zh": "上海市浦东新区世纪大道100号", "en": "100 Century Avenue, Pudong"},
                      "lat": 31.2397, "lon": 121.4998, "check_in_min": 60}})

    def _retain(self, kind: str, doc: dict[str, Any] | None, *, wait: bool = True) -> None:
        payload = b"" if doc is None else json.dumps(doc, ensure_ascii=False).encode()
        info = self.mqtt.client.publish(f"{self.base}/{kind}", payload, qos=1, retain=True)
        if wait:   # never on paho's own thread (in `_command`): it would wait for itself
            info.wait_for_publish(10)

    def publish_follow(self, *, wait: bool = True) -> None:
        self._retain("follow", {"v": 1, "ts": _now(), "branch": self.branch, "day": _now()[:10],
                                "tickets": list(self.tickets.values()), "calls": self.calls[:5]}, wait=wait)

    def waiting(self, token: str, ticket: str, ahead: int, estimate_s: float, state: str = "waiting") -> None:
        self.tickets[_key(token)] = {"key": _key(token), "ticket": ticket, "service": ticket[0], "state": state,
                                     "ahead": ahead, "estimate_s": estimate_s, "counter": None, "since": _now(-5)}
        self.publish_follow()

    def call(self, token: str, counter: int) -> None:
        t = self.tickets[_key(token)]
        t.update(state="called", ahead=None, estimate_s=None, counter=counter)
        self.calls.insert(0, {"ticket": t["ticket"], "counter": counter, "ts": _now()})
        self.publish_follow()

    def _command(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        args = json.loads(msg.payload)
        if self.refuse is not None:
            reply = protocol.reply_error("issue_remote", args.get("id"), *self.refuse)
        else:
            self.issued += 1
            token, ticket = secrets.token_urlsafe(16), f"{args['service']}{self.issued:03d}"
            self.tickets[_key(token)] = {"key": _key(token), "ticket": ticket, "service": args["service"],
                                         "state": "parked", "ahead": 3, "estimate_s": 420.0, "counter": None,
                                         "since": _now()}
            self.publish_follow(wait=False)
            reply = protocol.reply_ok("issue_remote", args.get("id"), {
                "ticket": ticket, "ticket_id": self.issued, "service": args["service"], "follow_token": token,
                "check_in_code": "483920", "ahead": 3, "estimate_s": 420.0, "check_in_by": _now(60)})
        client.publish(f"{self.base}/reply/issue_remote", protocol.encode(reply), qos=1)

    def close(self) -> None:
        for kind in ("follow", "queue", "status"):
            self._retain(kind, None)
        self.mqtt.close()


@pytest.fixture(scope="module")
def phone_hq(tmp_path_factory) -> Iterator[tuple[Server, FakeBranch]]:
    work = tmp_path_factory.mktemp("phone-hq")
    broker = Broker(work / "broker").start()
    try:
        add_users(work / "hq.db")
        branch = FakeBranch(broker.port, new_branch("phone"))
        try:
            server = Server(broker.url, work / "hq.db", "--notify-webhook", WEBHOOK)
            try:
                yield server, branch
            finally:
                server.stop()
        finally:
            branch.close()
    finally:
        broker.stop()


class Phone:
    """A 360 px touch phone in Chromium, recording console errors, page errors and CSP violations."""

    def __init__(self, browser: Any, lang: str) -> None:
        self.ctx = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, is_mobile=True, has_touch=True,
                                       device_scale_factor=2, locale="zh-CN" if lang == "zh" else "en-US")
        self.ctx.add_init_script(LISTEN_CSP)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(20_000)
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

    def check_clean(self) -> None:
        violations = self.page.evaluate("window.__csp || []")
        assert not violations, f"Content-Security-Policy violations: {violations}"
        assert not self.problems, f"console errors: {self.problems}"

    def check_fits(self) -> None:
        width = self.page.evaluate("Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)")
        assert width <= WIDTH, f"the page is {width} px wide on a {WIDTH} px phone"

    def shot(self, name: str) -> None:
        if SHOTS:
            self.page.screenshot(path=str(Path(SHOTS) / f"phone-{name}.png"), full_page=True)


@pytest.fixture
def phone(browser) -> Iterator[Callable[[str], Phone]]:
    made: list[Phone] = []

    def make(lang: str) -> Phone:
        made.append(Phone(browser, lang))
        return made[-1]
    try:
        yield make
    finally:
        for p in made:
            p.ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_follow_page_turns_to_go_to_counter_live(phone_hq, phone, lang):
    server, branch = phone_hq
    token = secrets.token_urlsafe(16)
    branch.waiting(token, "A0" + ("31" if lang == "zh" else "32"), ahead=3, estimate_s=720.0)
    p = phone(lang)
    p.page.goto(f"{server.url}/t/{token}?lang={lang}")
    page = p.page
    page.wait_for_selector(".live.on")
    page.wait_for_function("document.querySelector('.ahead') && document.querySelector('.ahead').textContent"
                           f" === {json.dumps(AHEAD[lang])}")
    assert page.text_content(".number") == branch.tickets[_key(token)]["ticket"]
    assert page.text_content(".estimate") == ESTIMATE[lang]
    assert page.locator(".banner").is_hidden()
    p.check_fits()
    p.shot(f"follow-waiting-{lang}")
    page.evaluate("window.__same_page = true")

    branch.call(token, 3)
    page.wait_for_selector(".state-called")
    assert page.text_content(".banner") == CALLED[lang]
    assert page.evaluate("window.__same_page") is True, "the page reloaded instead of updating live"
    assert page.locator(".ahead").is_hidden()
    mine = page.locator(".call-list li.mine")
    assert mine.count() == 1 and branch.tickets[_key(token)]["ticket"] in mine.text_content()
    p.check_fits()
    p.shot(f"follow-called-{lang}")
    p.check_clean()


def test_follow_page_polls_the_json_when_the_event_stream_is_blocked(phone_hq, phone):
    server, branch = phone_hq
    token = secrets.token_urlsafe(16)
    branch.waiting(token, "A041", ahead=3, estimate_s=720.0)
    p = phone("en")
    blocked: list[str] = []
    p.ctx.route("**/t/*/events", lambda route: (blocked.append(route.request.url), route.abort()))
    polled: list[str] = []
    p.page.on("response", lambda r: polled.append(r.headers.get("content-type", ""))
              if r.url.endswith(f"/t/{token}") and r.request.resource_type == "fetch" else None)
    p.page.goto(f"{server.url}/t/{token}")
    p.page.wait_for_selector(".live.on")
    assert p.page.text_content(".ahead") == AHEAD["en"]
    assert blocked and polled and all(c.startswith("application/json") for c in polled)

    branch.call(token, 3)
    p.page.wait_for_selector(".state-called", timeout=15_000)   # the next poll, ≤ 5 s later
    assert p.page.text_content(".banner") == CALLED["en"]
    assert len(polled) >= 2


def test_expired_ticket_says_so(phone_hq, phone):
    server, branch = phone_hq
    token = secrets.token_urlsafe(16)
    branch.waiting(token, "A051", ahead=1, estimate_s=30.0)
    p = phone("en")
    p.page.goto(f"{server.url}/t/{token}")
    p.page.wait_for_selector(".live.on")
    assert p.page.text_content(".ahead") == "1 person ahead of you"
    assert p.page.text_content(".estimate") == "any moment now"
    del branch.tickets[_key(token)]
    branch.publish_follow()
    p.page.wait_for_selector(".state-expired")
    assert p.page.text_content(".banner") == "This ticket has expired"
    p.check_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_branch_page_takes_a_remote_ticket_and_its_page_shows_the_check_in_code(phone_hq, phone, lang):
    server, branch = phone_hq
    branch.refuse = None
    p = phone(lang)
    page = p.page
    page.goto(f"{server.url}/b?lang={lang}")
    card = page.locator(f"[data-branch='{branch.branch}']")
    card.wait_for()
    assert ("浦东陆家嘴营业厅" if lang == "zh" else "Pudong Lujiazui") in card.locator("h2").text_content()
    assert card.locator("button.take").count() == 1   # service A takes remote tickets, B does not
    card.locator("button.take[data-service=A]").tap()
    page.wait_for_selector(".result:not([hidden])")
    assert page.get_attribute(".result", "class") == "card result ok", page.text_content(".result")
    issued = f"A{branch.issued:03d}"
    assert page.text_content(".result .number") == issued
    assert page.text_content(".result .code") == "483920"
    p.check_fits()
    p.shot(f"branches-{lang}")

    page.click(".result a.follow")
    page.wait_for_selector(".state-parked")
    assert page.text_content(".ticket .number") == issued
    assert page.text_content(".parked .code") == "483920"   # kept by the phone from the remote-ticket answer
    p.check_fits()
    p.shot(f"follow-parked-{lang}")
    p.check_clean()


def test_branch_page_shows_the_kiosks_refusal_in_its_words(phone_hq, phone):
    server, branch = phone_hq
    branch.refuse = ("service_closed", "service A is closed for today")
    try:
        p = phone("en")
        p.page.goto(f"{server.url}/b?lang=en")
        p.page.locator(f"[data-branch='{branch.branch}'] button.take").tap()
        p.page.wait_for_selector(".result.error")
        assert p.page.text_content(".result") == "Could not take a ticket: service A is closed for today"
    finally:
        branch.refuse = None


def test_alerts_form_is_saved_or_refused_in_the_servers_words(phone_hq, phone):
    server, branch = phone_hq
    token = secrets.token_urlsafe(16)
    branch.waiting(token, "B061", ahead=6, estimate_s=1500.0)
    p = phone("en")
    page = p.page
    sent: list[dict[str, Any]] = []
    page.on("request", lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/alerts") else None)
    page.goto(f"{server.url}/t/{token}")
    page.wait_for_selector(".live.on")
    page.fill("input[name=phone]", "not a number")
    page.check("input[name=ahead_on]")
    page.click(".alerts button[type=submit]")
    page.wait_for_selector(".alerts .status.error")
    refused = page.text_content(".alerts .status")
    assert refused.startswith("Could not set alerts: ") and len(refused) > len("Could not set alerts: ") + 3

    page.fill("input[name=phone]", "+8613800138000")
    page.fill("input[name=ahead]", "2")
    page.click(".alerts button[type=submit]")
    page.wait_for_selector(".alerts .status.ok")
    assert page.text_content(".alerts .status") == "Alerts set"
    assert sent[-1] == {"ahead": 2, "minutes": None, "on_call": True, "push": None, "phone": "+8613800138000"}

    with page.expect_request(lambda r: r.url.endswith(f"/t/{token}/alerts")) as again:
        page.reload()   # a new connection re-sends the saved request
    assert json.loads(again.value.post_data)["phone"] == "+8613800138000"
    page.wait_for_selector(".live.on")
    assert page.is_checked("input[name=ahead_on]") and page.input_value("input[name=ahead]") == "2"
