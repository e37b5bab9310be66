"""A remote ticket end to end, every part real: a phone takes two tickets on HQ's public API (a real
`kiosk hq serve`), HQ sends them through a real mosquitto to a running kiosk, where they are parked;
one checks in at the kiosk's console, the other on its touchscreen (simulated fingers on the
keypad); the counter calls them and each phone's page says which counter. Then the kiosk stops, and
HQ refuses the next remote ticket with the branch offline — the phone's page says so."""
from __future__ import annotations

import io

import pytest

from kiosk.app.console import Console
from kiosk.app.kiosk_app import KioskApp
from kiosk.mqtt.telemetry import Telemetry
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import Server, add_users
from ui.devtools import harness as h

PUBLIC = "https://hq.example.com"


@pytest.fixture
def hq(broker, tmp_path):
    add_users(tmp_path / "hq.db")
    s = Server(broker.url, tmp_path / "hq.db", "--public-url", PUBLIC)
    try:
        yield s
    finally:
        s.stop()


def phone_view(c, follow_url: str) -> dict | None:
    r = c.get(follow_url[len(PUBLIC):], headers={"Accept": "application/json"})
    return r.json() if r.status_code == 200 else None


def test_remote_tickets_checked_in_at_console_and_touchscreen_then_called(broker, hq, tmp_path, mk, open_ui):
    def edit(data):
        data["phone"].update(remote=True, follow_url=PUBLIC + "/t/{token}")
        data["mqtt"] = {"enabled": True, "url": broker.url, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                        "queue_min_interval_s": 0.1}
    settings = mk(edit=edit)
    kiosk = KioskApp(settings, tmp_path / "kiosk", uplink=Telemetry(settings)).start()  # the real clock: HQ checks the day
    branch = kiosk.settings.branch.id
    stopped = False
    try:
        assert kiosk.uplink.wait_for("connected")
        with hq.client() as c:
            wait_until(lambda: any(b["branch"] == branch and b["online"] and b["remote"]
                                   for b in c.get("/api/public/branches").json()["branches"]), 30,
                       what="HQ to list the branch as taking remote tickets")
            first, second = (c.post(f"/api/public/{branch}/tickets", json={"service": "A"}) for _ in range(2))
            assert first.status_code == 201 and second.status_code == 201, (first.text, second.text)
            first, second = first.json(), second.json()
            assert (first["ticket"], second["ticket"]) == ("A001", "A002")
            assert first["follow_url"].startswith(PUBLIC + "/t/")
            assert kiosk.ticket("A001").result(10)["state"] == "parked"
            assert wait_until(lambda: phone_view(c, first["follow_url"]), 20, what="the phone's page")["state"] == "parked"
            kiosk.set_counter(1, "open").result(10)
            assert kiosk.call_next(1).result(10) is None              # parked: nobody calls them

            out = io.StringIO()                                       # the first at the console
            Console(kiosk, io.StringIO(), out, on_quit=lambda: None).handle(f"checkin {first['check_in_code']}")
            assert "checked in A001" in out.getvalue()

            ui = open_ui(kiosk)                                       # the second on the touchscreen
            h.tap(ui.sm.get_screen("customer").ids.check_in_btn)
            screen = ui.sm.get_screen("check_in")
            for digit in second["check_in_code"]:
                h.tap(screen.ids.keypad.keys[digit])
            h.tap(screen.ids.ok_btn)
            h.pump_until(lambda: screen.done)
            assert screen.number == "A002"

            for ticket, info in (("A001", first), ("A002", second)):
                assert kiosk.call_next(1).result(10).ticket == ticket
                view = wait_until(lambda info=info: (v := phone_view(c, info["follow_url"])) and v["state"] == "called"
                                  and v, 20, what=f"{ticket}'s page to say it is called")
                assert view["counter"] == 1 and view["ticket"] == ticket

            kiosk.stop()
            stopped = True
            wait_until(lambda: not any(b["branch"] == branch and b["online"]
                                       for b in c.get("/api/public/branches").json()["branches"]), 30,
                       what="HQ to see the branch offline")
            r = c.post(f"/api/public/{branch}/tickets", json={"service": "A"})
            assert r.status_code == 503 and r.json()["error"] == "branch_offline" and branch in r.json()["message"]
    finally:
        if not stopped:
            kiosk.stop()


def test_appointments_booked_on_hq_checked_in_at_console_and_touchscreen_then_called(broker, hq, tmp_path, mk,
                                                                                    open_ui):
    """Two bookings on HQ's public API for the slot that began minutes ago; HQ sends the day's list
    through mosquitto to the running kiosk; one checks in at the console, one on the touchscreen's
    keypad; both get printed tickets with the appointment's head start and are called."""
    def edit(data):
        data["phone"].update(appointments={"services": ["A"], "slot_min": 5, "capacity": 2,
                                           "hours": ["00:00-23:55"], "days_ahead": 1})
        data["mqtt"] = {"enabled": True, "url": broker.url, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                        "queue_min_interval_s": 0.1}
    settings = mk(edit=edit)
    kiosk = KioskApp(settings, tmp_path / "kiosk", uplink=Telemetry(settings)).start()
    try:
        assert kiosk.uplink.wait_for("connected")
        branch = kiosk.settings.branch.id
        with hq.client() as c:
            def slot_now() -> tuple[str, str] | None:
                r = c.get(f"/api/public/{branch}/slots", params={"service": "A"})
                if r.status_code != 200:
                    return None
                first = r.json()["days"][0]
                return (first["day"], first["slots"][0]["slot"]) if first["slots"] else None
            day, slot = wait_until(slot_now, 30, what="HQ to offer the branch's slots")
            codes = []
            for _ in range(2):
                r = c.post(f"/api/public/{branch}/appointments", json={"service": "A", "day": day, "slot": slot})
                assert r.status_code == 201, r.text
                codes.append(r.json()["code"])
        stored = lambda: dict(kiosk.loop.call(lambda: kiosk.store.conn.execute(  # noqa: E731
            "SELECT code, state FROM appointments").fetchall()))
        wait_until(lambda: stored() == {codes[0]: "booked", codes[1]: "booked"}, 30,
                   what="the bookings at the kiosk")

        out = io.StringIO()
        Console(kiosk, io.StringIO(), out, on_quit=lambda: None).handle(f"checkin {codes[0]}")
        assert "checked in" in out.getvalue(), out.getvalue()

        ui = open_ui(kiosk)
        h.tap(ui.sm.get_screen("customer").ids.check_in_btn)
        screen = ui.sm.get_screen("check_in")
        for digit in codes[1]:
            h.tap(screen.ids.keypad.keys[digit])
        h.tap(screen.ids.ok_btn)
        h.pump_until(lambda: screen.done)
        assert stored() == {codes[0]: "checked_in", codes[1]: "checked_in"}

        kiosk.set_counter(3, "open").result(10)
        called = {kiosk.call_next(3).result(10).ticket for _ in range(2)}
        tickets = {kiosk.loop.call(lambda code=code: kiosk.store.conn.execute(
            "SELECT t.number FROM appointments a JOIN tickets t ON t.id = a.ticket_id WHERE a.code = ?",
            (code,)).fetchone()[0]) for code in codes}
        assert called == tickets
    finally:
        kiosk.stop()
