"""Transfers to a named counter or clerk: the ticket is called there next, before the calling
rule's order, and nowhere else unless released; the note and the pre-acceptance form travel
with it and show in the waiting list, which is the order the counter will call."""
from __future__ import annotations

import pytest

from kiosk.domain import errors
from tests.engine.test_clerks_at_counters import add_clerks


@pytest.fixture
def hall(engine, clock):
    """A001 at counter 3 (being served), A002…A004 and B001 waiting."""
    engine.issue("A", form=None)
    engine.issue("B", form={"document": "passport", "business": "open an account"}, assisted=True)
    for _ in range(3):
        engine.issue("A")
    clock.advance(30)
    engine.call_next(3)
    return engine


def called(engine, counter):
    r = engine.call_next(counter)
    return r.ticket if r else None


def test_a_ticket_transferred_to_a_counter_is_called_there_next_and_nowhere_else(hall, clock):
    engine = hall
    assert engine.transfer(3, "B", to_counter=1, note="needs a new card") == "A001"
    assert [w["number"] for w in engine.waiting_list(1)][0] == "A001"
    assert "A001" not in [w["number"] for w in engine.waiting_list(2)]
    for c in (2, 4, 3, 2):                                   # every other counter passes it by
        assert called(engine, c) != "A001"
    with pytest.raises(errors.IllegalState, match="reserved for counter 1"):
        engine.call_ticket(2, "A001")
    clock.advance(5)
    r = engine.call_next(1)
    assert (r.ticket, r.service) == ("A001", "B")            # before V, B, A waiting longer by the rule
    assert engine.ticket("A001")["note"] == "needs a new card"


def test_a_ticket_transferred_to_a_clerk_follows_the_clerk(hall):
    engine = hall
    add_clerks(engine, "E1", "E2")
    engine.sign_in(4, "E1")
    engine.transfer(3, to_clerk="E2")                        # E2 is not signed in anywhere yet
    assert all("A001" not in [w["number"] for w in engine.waiting_list(c)] for c in (1, 2, 3, 4))
    assert all(called(engine, c) != "A001" for c in (1, 2, 4))
    engine.sign_in(2, "E2")
    assert engine.waiting_list(2)[0] | {"waited_s": None} == {
        "number": "A001", "service": "A", "priority": 0, "tier": None, "waited_s": None, "note": None,
        "form": None, "assisted": False, "reserved": "clerk"}
    assert called(engine, 2) == "A001"


def test_a_released_ticket_goes_back_to_the_normal_order(hall):
    engine = hall
    engine.transfer(3, to_counter=1)
    with pytest.raises(errors.IllegalState):
        engine.call_ticket(4, "A001")
    assert engine.release("A001") == "A001"
    with pytest.raises(errors.IllegalState, match="not reserved"):
        engine.release("A001")
    assert engine.call_ticket(4, "A001").ticket == "A001"


def test_the_form_and_note_travel_with_the_ticket(engine):
    engine.issue("B", form={"document": "id_card", "documents_checked": True, "note": "hard of hearing"},
                 assisted=True)
    engine.call_next(4)
    engine.transfer(4, "A", note="pay the fee first")
    [w] = engine.waiting_list(3)
    assert (w["number"], w["service"], w["note"], w["assisted"], w["reserved"]) == (
        "B001", "A", "pay the fee first", True, None)
    assert w["form"] == {"document": "id_card", "documents_checked": True, "note": "hard of hearing"}
    engine.call_next(3)
    engine.transfer(3, to_counter=4)                         # no new note: the last one stays
    assert engine.waiting_list(4)[0]["note"] == "pay the fee first"


def test_the_waiting_list_is_the_order_the_counter_calls(engine, clock):
    for svc in ("A", "B", "A", "V", "B", "A"):
        engine.issue(svc)
        clock.advance(40)
    engine.issue("A", tier="diamond")
    for counter in (1, 3, 4):
        order = [w["number"] for w in engine.waiting_list(counter)]
        assert len(order) == len(set(order))
        first = engine.call_next(counter)
        assert first is not None and first.ticket == order[0]
    listed = [w["number"] for w in engine.waiting_list(2)]
    got = []
    while (r := engine.call_next(2)) is not None:
        got.append(r.ticket)
    assert got == listed


@pytest.mark.parametrize("kwargs, field", [
    ({}, "service"), ({"to_counter": 1, "to_clerk": "E1"}, "to_clerk"), ({"to_counter": 3}, "to_counter"),
    ({"to_counter": "1"}, "to_counter"), ({"to_clerk": "bad id"}, "to_clerk"),
    ({"service": "B", "note": "x" * 201}, "note"), ({"service": "B", "note": "a\x07b"}, "note"),
])
def test_a_bad_transfer_changes_nothing(hall, kwargs, field):
    engine = hall
    before = engine.conn.execute("SELECT count(*), max(seq) FROM outbox").fetchone()[:]
    with pytest.raises(errors.BadField) as exc:
        engine.transfer(3, **kwargs)
    assert exc.value.field == field
    assert engine.conn.execute("SELECT count(*), max(seq) FROM outbox").fetchone()[:] == before
    assert engine.ticket("A001")["state"] == "called"


def test_unknown_destinations_are_refused(hall):
    with pytest.raises(errors.UnknownCounter):
        hall.transfer(3, to_counter=42)
    with pytest.raises(errors.UnknownClerk):
        hall.transfer(3, to_clerk="GHOST")
    with pytest.raises(errors.IllegalState, match="already in service A"):
        hall.transfer(3, "A")


def test_a_print_verdict_after_a_transfer_reaches_the_ticket_it_became(engine, clock):
    """Called and transferred before the printer answered (a busy printer, a fast clerk): the verdict
    is the customer's ticket's, wherever it is now — no ticket is left 'print pending' for ever."""
    t = engine.issue("A")
    engine.call_next(3)
    engine.transfer(3, "B")
    engine.record_print(t.ticket_id, ok=True)
    rows = engine.conn.execute("SELECT state, printed FROM tickets WHERE id = ? OR origin_id = ?",
                               (t.ticket_id, t.ticket_id)).fetchall()
    assert sorted((r[0], r[1]) for r in rows) == [("transferred", "ok"), ("waiting", "ok")]
