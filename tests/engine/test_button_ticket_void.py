"""A take-ticket button's ticket whose print fails is voided: nobody holds it, so no counter may
call it. A touchscreen ticket whose print fails stays (the screen shows its number and a QR)."""
from __future__ import annotations

from kiosk.domain.model import TicketState
from kiosk.engine.readmodel import snapshot


def events(engine, type_):
    return [e for e in (ev.as_message() for ev in engine.store.events_after(0, 100000)) if e["type"] == type_]


def button_ticket(engine, service="A"):
    """A ticket as the take-ticket button issues it (`issued_via` 'button')."""
    return engine.issue(service, issued_via="button")


def test_a_button_ticket_not_printed_is_voided_and_never_called(engine):
    t = button_ticket(engine)
    engine.record_print(t.ticket_id, False, "paper out", "paper_out")
    row = engine.ticket(t.ticket)
    assert row["state"] == TicketState.CANCELLED and row["printed"] == "failed"
    failed, cancelled = events(engine, "ticket.print_failed"), events(engine, "ticket.cancelled")
    assert failed[0]["kind"] == "paper_out"
    assert len(cancelled) == 1 and cancelled[0]["ticket"] == t.ticket and cancelled[0]["voided"] is True
    assert "take-ticket button" in cancelled[0]["reason"] and "paper_out" in cancelled[0]["reason"]
    assert failed[0]["seq"] < cancelled[0]["seq"]
    assert engine.call_next(3) is None                    # no counter calls a ticket nobody holds
    assert snapshot(engine)["waiting"] == 0               # nor counts it as waiting


def test_a_touchscreen_ticket_not_printed_stays_in_the_queue(engine):
    t = engine.issue("A")
    engine.record_print(t.ticket_id, False, "paper out", "paper_out")
    assert engine.ticket(t.ticket)["state"] == TicketState.WAITING
    assert events(engine, "ticket.cancelled") == []
    assert engine.call_next(3).ticket == t.ticket


def test_a_button_ticket_printed_stays(engine):
    t = button_ticket(engine)
    engine.record_print(t.ticket_id, True)
    assert engine.ticket(t.ticket)["state"] == TicketState.WAITING
    assert engine.call_next(3).ticket == t.ticket


def test_a_button_ticket_already_called_is_left_to_the_clerk(engine):
    t = button_ticket(engine)
    engine.call_next(3)                                   # called before the printer answered
    engine.record_print(t.ticket_id, False, "print timed out", "timeout")
    assert engine.ticket(t.ticket)["state"] == TicketState.CALLED
    assert events(engine, "ticket.cancelled") == []
