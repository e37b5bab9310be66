"""Appointments (预约) and the pre-acceptance form on the customer's phone, in Chromium with
mobile emulation (360 px, touch), against a real `kiosk hq serve` and a real mosquitto. The test
is the branch: its retained queue snapshot carries the ``phone`` block the kiosk builds
(`kiosk.engine.readmodel.phone_block` of real `PhoneConfig` and `Service` models, so the
``appointments`` rules and the ``forms`` are the kiosk's own), and it answers ``issue_remote``.

Checked: a slot is booked with the service's form → the 8-digit code, the day, the slot and the
check-in window are shown, and the retained ``hq/appointments`` message HQ keeps for the branch
carries the booking and the form; a return visit lists "your appointments", and cancelling one
removes it from that message; a full slot is disabled, and a slot filled while the phone looked
at it is refused in the server's words; a remote ticket of a service with a form asks the form
first and the ``issue_remote`` command the branch receives carries it. No page scrolls sideways,
logs a console error or breaks the Content-Security-Policy.

With ``KIOSK_PHONE_SCREENSHOTS=DIR`` the pages are saved there (``phone-booking-*.png``,
``phone-booked-*.png``; the published ones are in docs/screenshots/).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from kiosk.config.phone import PhoneConfig
from kiosk.config.settings import Names, Service
from kiosk.engine.readmodel import phone_block
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from tests.hq.phone.test_phone_browser import CST, FakeBranch, Phone, _now, phone  # noqa: F401 — phone is a fixture
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.mqtt import Collector

FORM = [{"id": "purpose", "type": "choice", "label": {"zh": "办理事项", "en": "What for"}, "required": True,
         "choices": [{"id": "open", "name": {"zh": "开户", "en": "Open an account"}},
                     {"id": "card", "name": {"zh": "补办银行卡", "en": "Replace a card"}}]},
        {"id": "account", "type": "text", "label": {"zh": "账号后四位", "en": "Last 4 digits of the account"},
         "max_length": 4},
        {"id": "help", "type": "yesno", "label": {"zh": "需要工作人员协助", "en": "I need a hand"}}]
WINDOW = {"zh": "请在 10:15 至 10:40 之间到网点自助机签到", "en": "Check in at the kiosk between 10:15 and 10:40"}


def _phone_block() -> dict[str, Any]:
    """What a kiosk with appointments for A (one seat a slot) and a form for A sends."""
    services = [Service(prefix="A", name=Names(zh="个人业务", en="Personal"), form=FORM),
                Service(prefix="B", name=Names(zh="对公业务", en="Business"))]
    phone = PhoneConfig(remote=True, remote_services=["A"], lat=31.2397, lon=121.4998,
                        address={"zh": "上海市浦东新区世纪大道100号", "en": "100 Century Avenue, Pudong"},
                        appointments={"services": ["A"], "slot_min": 30, "capacity": 1,
                                      "hours": ["09:00-12:00", "13:30-17:00"], "days_ahead": 3,
                                      "early_min": 15, "late_min": 10})
    settings = SimpleNamespace(phone=phone, services=services,
                               branch=SimpleNamespace(name=Names(zh="浦东陆家嘴营业厅", en="Pudong Lujiazui")))
    # the kiosk adds its usually quiet hours (`KioskApp._snapshot`, `QuietHours` phrases)
    return {**phone_block(settings), "quiet": QUIET}


QUIET = {"zh": "周二至周四 14:00–15:00 人少", "en": "Usually quiet: Tue–Thu 14:00–15:00"}


class BookingBranch(FakeBranch):
    """`FakeBranch` whose snapshot takes appointments and has a form, and which keeps the
    ``issue_remote`` commands it received."""

    def __init__(self, port: int, branch: str) -> None:
        self.commands: list[dict[str, Any]] = []
        super().__init__(port, branch)
        self._retain("queue", {
            "v": 1, "ts": _now(), "day": _now()[:10], "waiting": 4, "open_counters": 2,
            "services": [{"service": "A", "name": {"zh": "个人业务", "en": "Personal"}, "waiting": 3,
                          "longest_wait_s": 300.0, "estimate_s": 720.0},
                         {"service": "B", "name": {"zh": "对公业务", "en": "Business"}, "waiting": 1,
                          "longest_wait_s": 60.0, "estimate_s": 240.0}],
            "counters": [{"counter": 3, "name": {"zh": "3号", "en": "3"}, "state": "open"}],
            "phone": _phone_block()})

    def _command(self, client: Any, userdata: Any, msg: Any) -> None:
        self.commands.append(json.loads(msg.payload))
        super()._command(client, userdata, msg)


@pytest.fixture(scope="module")
def booking_hq(tmp_path_factory) -> Iterator[tuple[Server, BookingBranch, Collector]]:
    work = tmp_path_factory.mktemp("booking-hq")
    broker = Broker(work / "broker").start()
    try:
        add_users(work / "hq.db")
        branch = BookingBranch(broker.port, new_branch("book"))
        watch = Collector(broker.port, [f"kiosk/{branch.branch}/hq/appointments"])
        try:
            # every phone here is 127.0.0.1: room for this module's bookings (the limit has its own test)
            server = Server(broker.url, work / "hq.db", "--appointments-per-address", "10")
            try:
                yield server, branch, watch
            finally:
                server.stop()
        finally:
            watch.close()
            branch.close()
    finally:
        broker.stop()


def _tomorrow(plus: int = 1) -> str:
    return (datetime.now(CST) + timedelta(days=plus)).date().isoformat()


def _booked(watch: Collector, day: str) -> list[dict[str, Any]]:
    """The bookings of `day` in the latest ``hq/appointments`` message."""
    docs = watch.json_on("hq/appointments")
    return docs[-1].get("days", {}).get(day, []) if docs else []


def _open_booking(p: Phone, server: Server, branch: BookingBranch, lang: str) -> Any:
    page = p.page
    page.goto(f"{server.url}/b?lang={lang}")
    card = page.locator(f"[data-branch='{branch.branch}']")
    card.locator("button.book[data-service=A]").tap()
    page.wait_for_selector(".panel button.slot")
    return page


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_book_a_slot_with_the_form_then_cancel_it(booking_hq, phone, lang):
    server, branch, watch = booking_hq
    day = _tomorrow(1)   # HQ sends the branch its today and tomorrow (zh cancels its booking before en books)
    p = phone(lang)
    page = _open_booking(p, server, branch, lang)
    assert page.text_content(f"[data-branch='{branch.branch}'] .quiet") == QUIET[lang]   # when to come
    # the first day is the branch's today, whatever the phone's own date (the test's browser runs in UTC)
    assert page.locator(".panel button.day").first.text_content().startswith("今天" if lang == "zh" else "Today")
    assert page.locator(".panel .preform h3").count() == 1   # the form is shown
    page.locator(f".panel button.day[data-day='{day}']").tap()
    slot = page.locator(".panel button.slot[data-slot='10:30']")
    assert slot.is_enabled() and re.fullmatch(r"10:30\s*(余 1|1 free)", slot.text_content())
    slot.tap()
    assert "chosen" in slot.get_attribute("class")

    page.locator(".panel button.confirm").tap()   # the required choice is missing: refused on the phone
    assert "办理事项" in page.text_content(".panel .status") or "What for" in page.text_content(".panel .status")
    page.locator(".field[data-field=purpose] label.choice", has_text="开户" if lang == "zh" else "Open").tap()
    page.fill("input[name=f_account]", "0421")
    page.locator(".field[data-field=help] label.choice", has_text="是" if lang == "zh" else "Yes").tap()
    p.check_fits()
    p.shot(f"booking-{lang}")

    page.locator(".panel button.confirm").tap()
    page.wait_for_selector(".panel.booked")
    code = page.text_content(".panel .appt-code")
    assert re.fullmatch(r"[0-9]{8}", code), code
    assert "10:30" in page.text_content(".panel .appt-when")
    assert page.text_content(".panel .appt-window") == WINDOW[lang]
    p.check_fits()
    p.shot(f"booked-{lang}")

    wait_until(lambda: any(a["code"] == code for a in _booked(watch, day)), 15,
               what="the booking in the retained hq/appointments message")
    mine = next(a for a in _booked(watch, day) if a["code"] == code)
    assert mine["service"] == "A" and mine["slot"] == "10:30"
    assert mine["form"] == {"purpose": "open", "account": "0421", "help": True}

    page.reload()   # a return visit: the phone kept it
    row = page.locator(f".mine li.appt[data-code='{code}']")
    row.wait_for()
    assert "10:30" in row.locator(".appt-when").text_content()
    row.locator("button.cancel-appt").tap()   # the first touch asks again
    assert page.locator(f".mine li.appt[data-code='{code}']").count() == 1
    row.locator("button.cancel-appt").tap()
    page.wait_for_selector(".mine .status.ok")
    assert page.locator(f".mine li.appt[data-code='{code}']").count() == 0
    wait_until(lambda: not any(a["code"] == code for a in _booked(watch, day)), 15,
               what="the cancelled booking gone from hq/appointments")
    assert page.evaluate("localStorage.getItem('phone.appointments')").find(code) < 0
    p.check_clean()


def test_a_full_slot_is_disabled_and_a_slot_filled_meanwhile_is_refused(booking_hq, phone):
    server, branch, _ = booking_hq
    day = _tomorrow(3)
    p = phone("en")
    page = _open_booking(p, server, branch, "en")
    page.locator(f".panel button.day[data-day='{day}']").tap()
    page.locator(".panel button.slot[data-slot='14:00']").tap()
    page.locator(".field[data-field=purpose] label.choice", has_text="Replace").tap()
    with server.client() as c:   # someone else takes the only seat meanwhile
        r = c.post(f"/api/public/{branch.branch}/appointments",
                   json={"service": "A", "day": day, "slot": "14:00", "form": {"purpose": "card"}})
        assert r.status_code == 201, r.text
    page.locator(".panel button.confirm").tap()
    # (the page's CSP forbids wait_for_function's eval: poll from here)
    # (counts never wait, unlike is_disabled() while the slots are drawn again)
    wait_until(lambda: page.locator(".panel .status.error").count() >= 1
               and page.locator(".panel button.slot[data-slot='14:00'][disabled]").count() == 1, 15,
               what="the refusal shown and the slot disabled")
    said = page.text_content(".panel .status")
    assert said.startswith("Could not book: ") and "14:00" in said, said   # the server's words
    full = page.locator(".panel button.slot[data-slot='14:00']")
    assert full.is_disabled() and "full" in full.text_content()

    page.reload()
    page.locator(f"[data-branch='{branch.branch}'] button.book[data-service=A]").tap()
    page.locator(f".panel button.day[data-day='{day}']").tap()
    assert page.locator(".panel button.slot[data-slot='14:00']").is_disabled()
    # Chromium logs the refused request itself (the 409 the test provoked); nothing else may be logged
    p.problems[:] = [m for m in p.problems if "status of 409 (Conflict)" not in m]
    p.check_clean()


def test_a_remote_ticket_asks_the_form_first_and_the_branch_gets_it(booking_hq, phone):
    server, branch, _ = booking_hq
    p = phone("zh")
    page = p.page
    page.goto(f"{server.url}/b?lang=zh")
    page.locator(f"[data-branch='{branch.branch}'] button.take[data-service=A]").tap()
    page.wait_for_selector(".panel .preform")
    assert not branch.commands, "the ticket was taken before the form was filled"
    page.locator(".field[data-field=purpose] label.choice", has_text="补办银行卡").tap()
    page.fill("input[name=f_account]", "7788")
    page.locator(".panel button.confirm").tap()
    page.wait_for_selector(".result.ok")
    assert page.text_content(".result .number") == f"A{branch.issued:03d}"
    assert page.locator(".panel").is_hidden()
    args = branch.commands[-1]
    assert args["service"] == "A" and args["form"] == {"purpose": "card", "account": "7788"}
    p.check_fits()
    p.check_clean()
