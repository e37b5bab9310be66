"""Appointments' hostile bodies (each a 400 naming the field, nothing booked), the address's
quota (3 a day, 429), the forms purged once their day is over (SQLite and PostgreSQL), and a
remote ticket's pre-acceptance form checked at HQ before the branch is asked."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kiosk.hq.db import open_db
from kiosk.hq.phone import appointments_store as store
from kiosk.hq.phone.appointments_form import BadForm, check_form, form_fields
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.phone_branch import APPOINTMENTS, FORMS, PhoneBranch


@pytest.fixture
def branch(broker):
    b = PhoneBranch(broker.port, new_branch("ab"), appointments=APPOINTMENTS, forms=FORMS)
    try:
        yield b.online()
    finally:
        b.close()


@pytest.fixture
def hq(broker, tmp_path):
    add_users(tmp_path / "hq.db")
    s = Server(broker.url, tmp_path / "hq.db")
    try:
        yield s
    finally:
        s.stop()


def _day(days: int) -> str:
    return (datetime.now().astimezone().date() + timedelta(days=days)).isoformat()


def _seen(c, branch) -> bool:
    return c.get(f"/api/public/{branch.branch}/slots", params={"service": "A"}).status_code == 200


def test_hostile_bodies_name_the_field_and_book_nothing(hq, branch):
    url = f"/api/public/{branch.branch}/appointments"
    ok = {"service": "A", "day": _day(1), "slot": "10:00"}
    cases = [
        ({**ok, "name": "Li"}, "name"), ({**ok, "phone": "+86"}, "phone"), ({"day": ok["day"], "slot": "10:00"}, "service"),
        ({**ok, "service": "B"}, "service"), ({**ok, "service": 1}, "service"), ({**ok, "service": "<b>"}, "service"),
        ({**ok, "day": "tomorrow"}, "day"), ({**ok, "day": "2026-02-30"}, "day"), ({**ok, "day": None}, "day"),
        ({**ok, "day": _day(-1)}, "day"), ({**ok, "day": _day(8)}, "day"), ({**ok, "day": "２０２６-01-01"}, "day"),
        ({**ok, "slot": "10:15"}, "slot"), ({**ok, "slot": "1000"}, "slot"), ({**ok, "slot": 10}, "slot"),
        ({**ok, "slot": "25:00"}, "slot"), ({**ok, "day": _day(0), "slot": "00:00"}, "slot"),
        ({**ok, "form": []}, "form"), ({**ok, "form": {"purpose": "open", "x": 1}}, "form.x"),
        ({**ok, "form": {"note": "hi"}}, "form.purpose"), ({**ok, "form": {"purpose": "steal"}}, "form.purpose"),
        ({**ok, "form": {"purpose": "open", "note": "x" * 21}}, "form.note"),
        ({**ok, "form": {"purpose": "open", "note": "a\x07b"}}, "form.note"),
        ({**ok, "form": {"purpose": "open", "elderly": "yes"}}, "form.elderly"),
        ({**ok, "form": {"purpose": 3}}, "form.purpose"),
        ([], "body"), ("A", "body"), (0, "body"),
    ]
    with hq.client() as c:
        wait_until(lambda: _seen(c, branch), 20, what="HQ to see the branch")
        for body, field in cases:
            r = c.post(url, json=body)
            assert r.status_code == 400 and r.json()["field"] == field and r.json()["message"], (body, r.text)
        r = c.post(url, content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"] == "bad_json"
        assert c.post(url, content=b"service=A", headers={"content-type": "text/plain"}).status_code == 415
        assert c.post("/api/public/no-such-branch/appointments", json=ok).status_code == 404
        slots = c.get(f"/api/public/{branch.branch}/slots", params={"service": "A"}).json()
        assert all(s["free"] == 2 for d in slots["days"] for s in d["slots"])   # nothing was booked
        for _ in range(3):
            assert c.post(url, json=ok if _ else {**ok, "slot": "10:30"}).status_code == 201
        r = c.post(url, json={**ok, "slot": "11:00"})
        assert r.status_code == 429 and r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) > 3600
        r = c.post(url, json={**ok, "slot": "abc"})
        assert r.status_code == 400   # a bad body is still told what is wrong


def test_a_branch_without_appointments_is_404(broker, hq):
    b = PhoneBranch(broker.port, new_branch("na")).online()
    try:
        with hq.client() as c:
            wait_until(lambda: any(x["branch"] == b.branch for x in c.get("/api/public/branches").json()["branches"]),
                       20, what="HQ to see the branch")
            r = c.post(f"/api/public/{b.branch}/appointments", json={"service": "A", "day": _day(1), "slot": "10:00"})
            assert r.status_code == 404 and r.json()["error"] == "no_appointments"
            assert c.get(f"/api/public/{b.branch}/slots", params={"service": "A"}).status_code == 404
    finally:
        b.close()


def test_forms_are_purged_once_their_day_is_over(hq_db_target):
    db = open_db(hq_db_target)
    try:
        with db.connection() as conn:
            store.ensure_schema(conn)
            store.ensure_schema(conn)   # twice: it is made once
            for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
                assert store.book(conn, "b1", day, "A", "10:00", 2, {"purpose": "open"}) is not None
            assert store.book(conn, "b2", "2026-03-01", "A", "10:00", 2, {"purpose": "close"}) is not None
            # b1's today is 2026-03-03 (its own clock); b2 has no snapshot: the safe bound for it
            assert store.purge_forms(conn, {"b1": "2026-03-03"}, "2026-02-28") == 2
            rows = conn.execute("SELECT branch, day, form FROM phone_bookings ORDER BY branch, day").fetchall()
            assert [tuple(r) for r in rows] == [("b1", "2026-03-01", None), ("b1", "2026-03-02", None),
                                                ("b1", "2026-03-03", '{"purpose":"open"}'),
                                                ("b2", "2026-03-01", '{"purpose":"close"}')]
            assert store.purge_forms(conn, {}, "2026-03-02") == 1
            assert store.bookings(conn, "b2", ["2026-03-01"])["2026-03-01"][0].keys() == {"code", "service", "slot"}
    finally:
        db.close()


def test_remote_ticket_form_is_checked_then_passed_to_the_branch(hq, branch):
    url = f"/api/public/{branch.branch}/tickets"
    with hq.client() as c:
        wait_until(lambda: _seen(c, branch), 20, what="HQ to see the branch")
        for form, field in (({"purpose": "x"}, "form.purpose"), ({"zzz": 1, "purpose": "open"}, "form.zzz"),
                            ("open", "form"), ({}, "form.purpose")):
            r = c.post(url, json={"service": "A", "form": form})
            assert (r.status_code, r.json()["error"], r.json()["field"]) == (400, "bad_form", field), r.text
        r = c.post(url, json={"service": "B", "form": {"purpose": "open"}})
        assert (r.status_code, r.json()["field"]) == (400, "form")   # service B has no form
        assert branch.commands == []   # none of them reached the branch
        r = c.post(url, json={"service": "A", "form": {"purpose": "close", "note": " back door "}})
        assert r.status_code == 201, r.text
        sent = branch.commands[-1]
        assert {k: v for k, v in sent.items() if k != "id"} == {"service": "A",
                                                                 "form": {"purpose": "close", "note": "back door"}}


def test_the_kiosks_own_form_dump_is_read_too():
    """A real kiosk's snapshot carries `FormField.model_dump` (type, choices, max_length)."""
    from kiosk.config.settings import FormField
    field = FormField(id="purpose", type="choice", label={"zh": "业务", "en": "Purpose"}, required=True,
                      choices=[{"id": "open", "name": {"zh": "开户", "en": "Open"}}])
    fields = form_fields({"phone": {"forms": {"A": [field.model_dump(mode="json")]}}}, "A")
    assert check_form(fields, "A", {"purpose": "open"}) == {"purpose": "open"}
    with pytest.raises(BadForm) as e:
        check_form(fields, "A", {"purpose": "shut"})
    assert e.value.field == "form.purpose"
