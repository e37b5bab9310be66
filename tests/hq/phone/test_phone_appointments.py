"""Appointments through a real `kiosk hq serve` (on SQLite and on PostgreSQL), a real mosquitto
and a fake branch whose queue snapshot carries the ``phone.appointments`` and ``phone.forms``
blocks: a booking reaches the branch in the retained ``hq/appointments`` message (read back
with paho, exactly), a cancellation takes it out again, the slots count the seats on the
branch's own dates, and concurrent bookings on two HQ nodes sharing the database never take
more seats than the slot has."""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.hq.db import open_db
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.phone_branch import APPOINTMENTS, FORMS, PhoneBranch

PLENTY = ("--appointments-per-address", "1000")


def _server(broker, db, tmp_path, *extra):
    return Server(broker.url, db, "--phone-quota-dir", str(tmp_path), *extra, logdir=tmp_path)


@pytest.fixture
def branch(broker):
    b = PhoneBranch(broker.port, new_branch("ap"), appointments=APPOINTMENTS, forms=FORMS)
    try:
        yield b.online()
    finally:
        b.close()


def _tomorrow(days: int = 1) -> str:
    return (datetime.now().astimezone().date() + timedelta(days=days)).isoformat()


def _ready(c, branch) -> bool:
    return c.get(f"/api/public/{branch.branch}/slots", params={"service": "A"}).status_code == 200


def retained(port: int, topic: str, timeout: float = 10.0) -> dict | None:
    """The retained message on `topic`, read by a new paho client (None when there is none)."""
    got: list[bytes] = []
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.on_connect = lambda cl, *a: cl.subscribe(topic, 1)
    c.on_subscribe = lambda *a: threading.Timer(1.0, done.set).start()   # a retained message comes at once

    def on_message(cl, userdata, msg):  # noqa: ANN001
        got.append(msg.payload)
        done.set()
    c.on_message = on_message
    c.connect("127.0.0.1", port, 30)
    c.loop_start()
    try:
        assert done.wait(timeout), "no SUBACK from the broker"
    finally:
        c.disconnect()
        c.loop_stop()
    return json.loads(got[0]) if got and got[0] else None


def test_book_publishes_then_cancel_republishes(broker, branch, hq_db_target, tmp_path):
    add_users(hq_db_target)
    hq = _server(broker, hq_db_target, tmp_path, *PLENTY)
    topic = f"kiosk/{branch.branch}/hq/appointments"
    try:
        with hq.client() as c:
            wait_until(lambda: _ready(c, branch), 20, what="HQ to see the branch's appointments")
            wait_until(lambda: retained(broker.port, topic) is not None, 20, what="the publish at start")
            assert retained(broker.port, topic)["days"] == {}
            day = _tomorrow()
            form = {"purpose": "open", "note": "  two cards ", "elderly": True}
            r = c.post(f"/api/public/{branch.branch}/appointments",
                       json={"service": "A", "day": day, "slot": "10:00", "form": form})
            assert r.status_code == 201, r.text
            b = r.json()
            assert set(b) == {"code", "branch", "service", "day", "slot", "check_in_from", "check_in_until"}
            assert len(b["code"]) == 8 and b["code"].isdigit() and "set-cookie" not in r.headers
            assert (b["branch"], b["service"], b["day"], b["slot"]) == (branch.branch, "A", day, "10:00")
            start = datetime.fromisoformat(f"{day}T10:00").astimezone()
            assert datetime.fromisoformat(b["check_in_from"]) == start - timedelta(minutes=15)
            assert datetime.fromisoformat(b["check_in_until"]) == start + timedelta(minutes=10)
            second = c.post(f"/api/public/{branch.branch}/appointments",
                            json={"service": "A", "day": day, "slot": "09:30"}).json()["code"]
            expected = {day: [{"code": second, "service": "A", "slot": "09:30"},
                              {"code": b["code"], "service": "A", "slot": "10:00",
                               "form": {"purpose": "open", "note": "two cards", "elderly": True}}]}
            msg = retained(broker.port, topic)
            assert set(msg) == {"v", "ts", "days"} and msg["v"] == 1 and msg["days"] == expected
            wait_until(lambda: branch.hq_data.get("appointments", {}).get("days") == expected, 10,
                       what="the branch to get the bookings")
            slots = c.get(f"/api/public/{branch.branch}/slots", params={"service": "A"}).json()
            tomorrow = next(d for d in slots["days"] if d["day"] == day)
            free = {s["slot"]: s["free"] for s in tomorrow["slots"]}
            assert (free["09:30"], free["10:00"], free["10:30"]) == (1, 1, 2)

            assert c.delete(f"/api/public/{branch.branch}/appointments/{b['code']}").status_code == 204
            assert retained(broker.port, topic)["days"] == {day: [{"code": second, "service": "A", "slot": "09:30"}]}
            assert c.delete(f"/api/public/{branch.branch}/appointments/{b['code']}").status_code == 404
            for bad in ("1234567", "abcdefgh", "123456789", "00000000"):
                assert c.delete(f"/api/public/{branch.branch}/appointments/{bad}").status_code == 404
            assert c.delete(f"/api/public/{branch.branch}/appointments/{second}").status_code == 204
            assert retained(broker.port, topic)["days"] == {}
    finally:
        hq.stop()


def test_two_nodes_twenty_concurrent_bookings_take_exactly_the_two_seats(broker, branch, hq_db_target, tmp_path):
    add_users(hq_db_target)
    nodes = [_server(broker, hq_db_target, tmp_path / f"n{i}", *PLENTY) for i in range(2)
             if (tmp_path / f"n{i}").mkdir() is None]
    try:
        for n in nodes:
            with n.client() as c:
                wait_until(lambda: _ready(c, branch), 20, what="each node to see the branch")
        day = _tomorrow()
        barrier = threading.Barrier(20)

        def book(i: int) -> int:
            with httpx.Client(base_url=nodes[i % 2].url, timeout=30) as c:
                barrier.wait()
                return c.post(f"/api/public/{branch.branch}/appointments",
                              json={"service": "A", "day": day, "slot": "11:00"}).status_code

        with ThreadPoolExecutor(20) as pool:
            codes = list(pool.map(book, range(20)))
        assert sorted(codes) == [201, 201] + [409] * 18, codes
        db = open_db(hq_db_target)
        with db.connection() as conn:
            rows = conn.execute("SELECT seat FROM phone_bookings WHERE branch = ? AND day = ? AND slot = ?",
                                (branch.branch, day, "11:00")).fetchall()
        db.close()
        assert sorted(r[0] for r in rows) == [1, 2]
        with nodes[0].client() as c:
            r = c.post(f"/api/public/{branch.branch}/appointments", json={"service": "A", "day": day, "slot": "11:00"})
            assert r.status_code == 409 and r.json()["error"] == "slot_full"
            slots = c.get(f"/api/public/{branch.branch}/slots", params={"service": "A"}).json()
        assert {s["slot"]: s["free"] for d in slots["days"] if d["day"] == day for s in d["slots"]}["11:00"] == 0
        wait_until(lambda: len(branch.hq_data.get("appointments", {}).get("days", {}).get(day, [])) == 2, 10,
                   what="the branch to get both bookings, whichever node published last")
    finally:
        for n in nodes:
            n.stop()


def test_slots_are_on_the_branchs_own_clock(broker, tmp_path):
    """A branch 14 h ahead of UTC: its today, its past slots; days_ahead + 1 days."""
    add_users(tmp_path / "hq.db")
    tz = timezone(timedelta(hours=14))
    b = PhoneBranch(broker.port, new_branch("tz"), appointments={**APPOINTMENTS, "days_ahead": 2}, tz=tz).online()
    hq = _server(broker, tmp_path / "hq.db", tmp_path)
    try:
        with hq.client() as c:
            wait_until(lambda: _ready(c, b), 20, what="HQ to see the branch")
            now = datetime.now(tz)
            slots = c.get(f"/api/public/{b.branch}/slots", params={"service": "A"}).json()
            days = [now.date() + timedelta(days=i) for i in range(3)]
            assert slots["service"] == "A" and [d["day"] for d in slots["days"]] == [d.isoformat() for d in days]
            first = [s["slot"] for s in slots["days"][0]["slots"]]
            assert all(datetime.fromisoformat(f"{days[0]}T{s}").replace(tzinfo=tz) > now for s in first)
            assert len(slots["days"][1]["slots"]) == 48 and all(s["free"] == 2 for s in slots["days"][1]["slots"])
            for q, status in (({"service": "B"}, 400), ({}, 400), ({"service": "<x>"}, 400)):
                r = c.get(f"/api/public/{b.branch}/slots", params=q)
                assert (r.status_code, r.json()["field"]) == (status, "service"), q
            assert c.get("/api/public/nobody-here/slots", params={"service": "A"}).status_code == 404
            assert c.get("/api/public/..%2Fetc/slots", params={"service": "A"}).status_code == 404
    finally:
        hq.stop()
        b.close()
