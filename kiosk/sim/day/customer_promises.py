"""Two promises to the customer at the counter and at the machine, judged from a day's events:

* a rating rates the customer it belongs to (:func:`misattributed_ratings`): a pad press rates
  the ticket at that counter, or one that finished there within `policy.rating_window_s` — and
  never a ticket called after a customer who finished there within the window and has not
  rated yet (unless that ticket was started: then its customer stands at the pad). A rating by
  ticket number (``via`` ``"number"``) rates a ticket that was served at that counter;
* a ticket taken at a take-ticket button (no screen to show the number) whose print failed is
  never called: nobody holds it (:func:`unprinted_button_calls`).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kiosk.sim.day.day_log import DayLog

BUTTON_VIA = {"button"}   # tickets.issued_via of a ticket taken at a take-ticket button


@dataclass
class _Finished:
    ticket_id: int
    t: float
    rated: bool = False


@dataclass
class _CounterNow:
    """Who is at one counter, and who left it lately (by finishing)."""

    here: int | None = None
    started: bool = False
    finished: list[_Finished] = field(default_factory=list)


def misattributed_ratings(log: DayLog) -> list[dict[str, Any]]:
    """Every rating that rates someone else than the customer it belongs to (see the module)."""
    window = log.rules.rating_window_s
    counters: dict[int, _CounterNow] = {}
    served_at: dict[int, set[int]] = {}
    numbers = {t.id: t.number for t in log.tickets.values()}
    bad = []
    for e in log.events:
        tid, n = e.get("ticket_id"), e.get("counter")
        now = counters.setdefault(n, _CounterNow()) if n is not None else None
        if e.type == "ticket.called":
            now.here, now.started = tid, False
            served_at.setdefault(tid, set()).add(n)
        elif e.type == "ticket.started":
            now.started = True
        elif e.type in ("ticket.finished", "ticket.noshow", "ticket.transferred"):
            if now.here == tid:
                now.here = None
            if e.type == "ticket.finished":
                now.finished = [f for f in now.finished if e.t - f.t <= window] + [_Finished(tid, e.t)]
        elif e.type == "day.rollover":
            for c in counters.values():
                c.here = None
        elif e.type == "ticket.rated":
            why = _rating_problem(e.get("via"), tid, n, e.t, now, served_at.get(tid, set()), window, numbers)
            if why:
                bad.append({"ticket": e.get("ticket"), "counter": n, "via": e.get("via"), "why": why})
            for f in (now.finished if now else []):
                f.rated |= f.ticket_id == tid
    return bad


def _rating_problem(via: str | None, tid: int, counter: int | None, t: float, now: _CounterNow | None,
                    served: set[int], window: float, numbers: dict[int, str]) -> str:
    if via == "number":
        return "" if counter in served else f"never served at counter {counter}"
    if now is None:
        return "a pad rating without a counter"
    recent = [f for f in now.finished if t - f.t <= window]
    if not (now.here == tid or any(f.ticket_id == tid for f in recent)):
        return f"not at counter {counter} nor finished there in the last {window:g} s"
    waiting_to_rate = [f for f in recent if not f.rated and f.ticket_id != tid]
    if now.here == tid and waiting_to_rate and not now.started:
        return (f"called after {numbers.get(waiting_to_rate[-1].ticket_id, '?')}, who finished there "
                f"{t - waiting_to_rate[-1].t:.0f} s before and had not rated")
    return ""


def button_ticket_ids(log: DayLog, acknowledged: Iterable[str] | None = None) -> set[int]:
    """The tickets taken at a take-ticket button: as the database records it (`issued_via`); in a
    database that does not, the issued tickets whose number the console (standing in for the
    touchscreen) did not acknowledge."""
    issued = [t for t in log.tickets.values() if t.issued]
    if log.via_recorded or acknowledged is None:
        return {t.id for t in issued if t.via in BUTTON_VIA}
    shown = set(acknowledged)
    return {t.id for t in issued if t.number not in shown}


def unprinted_button_calls(log: DayLog, button_ids: set[int]) -> dict[str, Any]:
    """Button tickets whose last print before their first call had failed, and were called anyway."""
    failed: dict[int, bool] = {}
    called_unprinted, print_failed = [], set()
    for e in log.events:
        tid = e.get("ticket_id")
        if tid not in button_ids:
            continue
        if e.type == "ticket.print_failed":
            failed[tid] = True
            print_failed.add(tid)
        elif e.type == "ticket.printed":
            failed[tid] = False
        elif e.type == "ticket.called" and failed.get(tid) and e.seq == log.tickets[tid].first_call.seq:
            called_unprinted.append(log.tickets[tid].number)
    return {"button_tickets": len(button_ids), "print_failed": len(print_failed),
            "called_unprinted": called_unprinted}
