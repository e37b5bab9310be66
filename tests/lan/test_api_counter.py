"""The counter API against a real kiosk: sign in, call, start, finish, call by number, recall,
no-show, transfer with a note to a counter and to a clerk, pause with a reason, open, the
counter's view; a clerk acts only at their own counter; the manager anywhere."""
from __future__ import annotations

import logging

from tests.lan.conftest import Hall


def test_a_clerk_calls_serves_and_finishes_at_their_counter(hall: Hall, caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.lan")
    issued = hall.app.issue("A").result(10).ticket
    token = hall.open_counter("c01", 3)
    with hall.client(token) as c:
        r = c.post("/api/counter/call")
        assert r.status_code == 200, r.text
        assert r.json()["ticket"] == issued and r.json()["counter"] == 3
        view = c.get("/api/counter").json()
        assert view["clerk"] == "c01" and view["ticket"]["number"] == issued and view["state"] == "open"
        assert c.post("/api/counter/start").json()["ticket"] == issued
        assert c.post("/api/counter/finish").json()["ticket"] == issued
        view = c.get("/api/counter").json()
        assert view["ticket"] is None and view["today"]["served"] == 1
        assert c.post("/api/counter/call").json() == {"ticket": None, "counter": 3}
    assert hall.app.ticket(issued).result(10)["clerk"] == "c01"
    said = [r.getMessage() for r in caplog.records]
    assert any("clerk Wang Fang at counter 3: call" in m and issued in m for m in said), said
    assert any("clerk Wang Fang at counter 3: finish" in m for m in said), said


def test_call_by_number_recall_noshow(hall: Hall) -> None:
    first = hall.app.issue("A").result(10).ticket
    second = hall.app.issue("A").result(10).ticket
    token = hall.open_counter("c01", 3)
    with hall.client(token) as c:
        assert c.post("/api/counter/call", json={"ticket": second}).json()["ticket"] == second
        assert c.post("/api/counter/recall").json()["ticket"] == second
        r = c.post("/api/counter/noshow").json()
        assert r["ticket"] == second and r["counter"] == 3
        assert c.post("/api/counter/call").json()["ticket"] == first


def test_transfer_to_a_clerk_with_a_note_reaches_them_first(hall: Hall) -> None:
    hall.app.issue("A").result(10)
    moved = hall.app.issue("B").result(10).ticket
    t1, t2 = hall.open_counter("c01", 3), hall.open_counter("c02", 4)
    with hall.client(t1) as c1, hall.client(t2) as c2:
        assert c1.post("/api/counter/call", json={"ticket": moved}).status_code == 200
        r = c1.post("/api/counter/transfer", json={"clerk": "c02", "note": "needs the loan desk"})
        assert r.status_code == 200, r.text
        waiting = c2.get("/api/counter").json()["waiting"]
        assert waiting[0]["number"] == moved and waiting[0]["note"] == "needs the loan desk"
        call = c2.post("/api/counter/call").json()
        assert call["ticket"] == moved
        assert c2.get("/api/counter").json()["ticket"]["note"] == "needs the loan desk"


def test_transfer_to_a_counter_and_to_a_service(hall: Hall) -> None:
    a = hall.app.issue("A").result(10).ticket
    t1 = hall.open_counter("c01", 3)
    with hall.client(t1) as c:
        c.post("/api/counter/call")
        r = c.post("/api/counter/transfer", json={"counter": 1, "note": "VIP desk"})
        assert r.status_code == 200, r.text
        assert r.json()["ticket"] == a
    with hall.client(hall.sign_in(None, 1)) as m:
        m.post("/api/counter/open")
        assert m.get("/api/counter").json()["waiting"][0]["number"] == a
        assert m.post("/api/counter/call").json()["ticket"] == a
        r = m.post("/api/counter/transfer", json={"service": "B"})
        assert r.status_code == 200, r.text


def test_pause_with_a_reason_and_open_again(hall: Hall) -> None:
    token = hall.sign_in("c01", 2)
    with hall.client(token) as c:
        r = c.post("/api/counter/pause", json={"reason": "lunch"})
        assert r.status_code == 200 and r.json()["state"] == "paused", r.text
        assert c.get("/api/counter").json()["state"] == "paused"
        r = c.post("/api/counter/pause", json={"reason": "nap"})
        assert r.status_code == 400 and r.json()["field"] == "reason", r.text
        r = c.post("/api/counter/pause")
        assert r.status_code == 400 and r.json()["field"] == "reason", r.text
        assert c.post("/api/counter/open").json()["state"] == "open"


def test_a_clerk_acts_only_at_their_own_counter(hall: Hall, caplog) -> None:
    caplog.set_level(logging.INFO, logger="kiosk.lan")
    hall.app.issue("A").result(10)
    token = hall.open_counter("c01", 3)
    before = hall.app.snapshot()
    with hall.client(token) as c:
        for path in ("call", "recall", "noshow", "start", "finish", "open", "close", "pause", "transfer"):
            r = c.post(f"/api/counter/{path}", json={"at": 4})
            assert r.status_code == 403, (path, r.text)
            assert r.json()["field"] == "at"
        assert c.get("/api/counter?at=4").status_code == 403
    after = hall.app.snapshot()
    assert after["counters"] == before["counters"] and after["waiting"] == before["waiting"]
    assert any("refused" in r.getMessage() and "counter 4" in r.getMessage() for r in caplog.records)


def test_the_manager_acts_at_any_counter(hall: Hall) -> None:
    ticket = hall.app.issue("B").result(10).ticket
    token = hall.sign_in(None)
    with hall.client(token) as c:
        r = c.post("/api/counter/call")
        assert r.status_code == 400 and r.json()["field"] == "at"
        assert c.post("/api/counter/open", json={"at": 4}).json()["state"] == "open"
        assert c.post("/api/counter/call", json={"at": 4}).json() == {
            "ticket": ticket, "counter": 4, "service": "B", "wait_s": 0.0}
        assert c.get("/api/counter?at=4").json()["ticket"]["number"] == ticket
        assert c.post("/api/counter/finish", json={"at": 4}).json()["ticket"] == ticket
        assert c.post("/api/counter/close", json={"at": 4}).json()["state"] == "closed"


def test_a_clerk_signing_in_elsewhere_ends_the_earlier_token(hall: Hall) -> None:
    old = hall.sign_in("c01", 3)
    new = hall.sign_in("c01", 4)
    with hall.client(old) as c:
        assert c.get("/api/counter").status_code == 401
    with hall.client(new) as c:
        assert c.get("/api/counter").json()["clerk"] == "c01"
    assert hall.app.counter_clerk(3).result(10) is None
    other = hall.open_counter("c02", 4)   # takes counter 4: c01's token there ends
    with hall.client(new) as c:
        assert c.get("/api/counter").status_code == 401
    with hall.client(other) as c:
        assert c.get("/api/counter").json()["clerk"] == "c02"


def test_sign_out_revokes_the_token_and_signs_the_clerk_out(hall: Hall) -> None:
    token = hall.sign_in("c01", 3)
    assert hall.app.counter_clerk(3).result(10) == "c01"
    with hall.client(token) as c:
        assert c.delete("/api/session").json() == {"ok": True}
        assert c.get("/api/counter").status_code == 401
        assert c.post("/api/counter/call").status_code == 401
    assert hall.app.counter_clerk(3).result(10) is None
