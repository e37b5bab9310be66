"""Clerks at counters: one counter at a time; every call, start, finish, no-show, transfer and
rating is recorded with the clerk signed in at that counter; HQ sees only `clerk_ref`; a pause
names a configured reason."""
from __future__ import annotations

import functools
import json

import pytest

from kiosk.access.pin import hash_pin
from kiosk.domain import errors
from tests.kit.settings import settings_with


@functools.cache
def _hash() -> str:
    return hash_pin("1234")


def add_clerks(engine, *ids: str) -> None:
    with engine.store.transaction() as conn:
        for cid in ids:
            conn.execute("INSERT INTO clerks (id, name, pin_hash, added) VALUES (?, ?, ?, '2026-11-23')",
                         (cid, f"name of {cid}", _hash()))


def events(engine, type_=None):
    out = [ev.as_message() for ev in engine.store.events_after(0, 100000)]
    return [e for e in out if type_ is None or e["type"] == type_]


def test_a_clerk_is_at_one_counter_at_a_time(engine):
    add_clerks(engine, "E1", "E2")
    assert engine.sign_in(1, "E1") == {"counter": 1, "clerk": "E1", "name": "name of E1", "moved_from": None,
                                       "replaced": None}
    moved = engine.sign_in(3, "E1")                         # signing in elsewhere moves them
    assert moved["moved_from"] == 1
    assert (engine.counter_clerk(1), engine.counter_clerk(3)) == (None, "E1")
    assert engine.sign_in(3, "E2")["replaced"] == "E1"      # a counter has one clerk: E1 is signed out
    assert [engine.counter_clerk(c) for c in (1, 2, 3, 4)] == [None, None, "E2", None]
    rows = engine.conn.execute("SELECT clerk, count(*) FROM counters WHERE clerk IS NOT NULL GROUP BY clerk")
    assert all(n == 1 for _, n in rows)
    assert engine.sign_out(3) == "E2" and engine.counter_clerk(3) is None and engine.sign_out(3) is None
    with pytest.raises(errors.UnknownClerk):
        engine.sign_in(1, "GHOST")
    with pytest.raises(errors.UnknownCounter):
        engine.sign_in(99, "E1")
    with pytest.raises(errors.BadField, match="clerk"):
        engine.sign_in(1, "not an id!")


def test_every_step_is_attributed_to_the_clerk_at_that_counter(engine, clock):
    add_clerks(engine, "E1", "E2")
    engine.sign_in(3, "E1")
    engine.sign_in(4, "E2")
    for _ in range(4):
        engine.issue("A")
    engine.call_next(3)                                     # A001 by E1
    engine.call_next(4)                                     # A002 by E2
    clock.advance(60)
    engine.start(3)
    engine.finish(3)
    engine.noshow(4)                                        # A002 requeued
    engine.call_next(3)                                     # A003 by E1
    engine.sign_in(3, "E2")                                 # E2 takes counter 3 over mid-service
    engine.finish(3)                                        # …and finishes A003
    engine.rate("A001", 5)
    engine.rate("A003", 2)
    clerk = {r["number"]: r["clerk"] for r in engine.conn.execute("SELECT number, clerk FROM tickets")}
    assert clerk["A001"] == "E1" and clerk["A003"] == "E2" and clerk["A004"] is None
    ref = {cid: engine.clerk_ref(cid)["clerk_ref"] for cid in ("E1", "E2")}
    by_type = {}
    for e in events(engine):
        by_type.setdefault(e["type"], []).append((e.get("ticket"), e.get("clerk_ref")))
    assert by_type["ticket.called"][:3] == [("A001", ref["E1"]), ("A002", ref["E2"]), ("A003", ref["E1"])]
    assert by_type["ticket.started"] == [("A001", ref["E1"])]
    assert by_type["ticket.finished"] == [("A001", ref["E1"]), ("A003", ref["E2"])]
    assert by_type["ticket.noshow"] == [("A002", ref["E2"])]
    assert by_type["ticket.rated"] == [("A001", ref["E1"]), ("A003", ref["E2"])]
    assert engine.clerk_day("E1")["served"] == 1 and engine.clerk_day("E2")["served"] == 1


def test_no_clerk_id_ever_leaves_in_an_event(engine):
    add_clerks(engine, "E1042", "E7")
    engine.sign_in(3, "E1042")
    engine.sign_in(4, "E7")
    for _ in range(3):
        engine.issue("A")
    engine.call_next(3)
    engine.start(3)
    engine.transfer(3, to_clerk="E7", note="wants a card")
    engine.call_next(4)
    engine.finish(4)
    engine.rate("A001", 4)
    engine.sign_in(4, "E1042")
    engine.set_counter(4, "paused", "lunch")
    engine.sign_out(4)
    bodies = [ev.body for ev in engine.store.events_after(0, 100000)]
    refs = {e["clerk_ref"] for e in bodies if "clerk_ref" in e}
    assert len(refs) == 2 and all(len(r) == 12 and int(r, 16) >= 0 for r in refs)
    assert {e["type"] for e in bodies if "clerk_ref" in e} >= {
        "clerk.signed_in", "clerk.signed_out", "ticket.called", "ticket.started", "ticket.transferred",
        "ticket.finished", "ticket.rated", "counter.paused"}
    text = json.dumps(bodies, ensure_ascii=False)
    assert "E1042" not in text and '"E7"' not in text and "wants a card" not in text
    assert not any(k in ("clerk", "clerk_id", "to_clerk") for e in bodies for k in e)


def test_the_pseudonym_is_per_kiosk(make_engine, tmp_path):
    a = make_engine(path=tmp_path / "a.db")
    b = make_engine(path=tmp_path / "b.db")
    assert a.clerk_ref("E1") == a.clerk_ref("E1") != b.clerk_ref("E1")


@pytest.fixture
def strict_pauses(make_engine, settings):
    return make_engine(settings_with(settings, policy={**settings.policy.model_dump(), "pause_reason_required": True}))


def test_a_pause_needs_a_configured_reason(strict_pauses):
    engine = strict_pauses
    with pytest.raises(errors.BadField) as no_reason:
        engine.set_counter(2, "paused")
    assert no_reason.value.field == "reason" and "lunch, training, back_office" in str(no_reason.value)
    for bad in ("nap", "", 3, "LUNCH"):
        with pytest.raises(errors.BadField, match="reason"):
            engine.set_counter(2, "paused", bad)
    with pytest.raises(errors.BadField, match="only a pause has a reason"):
        engine.set_counter(2, "closed", "lunch")
    assert engine.conn.execute("SELECT state FROM counters WHERE number = 2").fetchone()[0] == "open"
    assert engine.set_counter(2, "paused", "training") == "paused"
    assert engine.set_counter(2, "paused", "lunch") == "paused"          # a new reason is a new pause event
    assert engine.set_counter(2, "open") == "open"
    paused = [e.get("reason") for e in events(engine, "counter.paused")]
    assert paused == ["training", "lunch"]
    assert engine.conn.execute("SELECT pause_reason FROM counters WHERE number = 2").fetchone()[0] is None


def test_without_reasons_configured_a_pause_takes_none(make_engine, settings):
    engine = make_engine(settings_with(settings, pause_reasons=[]))
    assert engine.set_counter(2, "paused") == "paused"
    with pytest.raises(errors.BadField, match="none configured"):
        engine.set_counter(3, "paused", "lunch")
