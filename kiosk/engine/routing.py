"""Where a waiting ticket goes: transfers (to a service's queue, or reserved for a named counter
or clerk, with a note), releasing a reservation, and the waiting list a counter sees.

A ticket reserved for a counter (or for a clerk: the counter they are signed in at, whenever
that is) is called there next, before the calling rule's order, the first reserved first; no
other counter calls it, by "next" or by number, until it is released. The note, the
pre-acceptance form and the "assisted" flag travel with the ticket.

The wait estimate and "people ahead" see the same: `with_reservations` marks each reserved
ticket of the estimator's hall with the counter it is reserved for (the calling rule then puts
it first there and leaves it to others everywhere else), and leaves out one reserved for a
clerk signed in nowhere (ahead of nobody until they sign in).

`TicketRouting` is a part of `QueueEngine` (its methods are the engine's).
"""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from kiosk.config.settings import Counter, Service, Settings
from kiosk.domain import errors
from kiosk.domain.model import EventType
from kiosk.domain.policy import CallingRule, Candidate
from kiosk.domain.timeline import HallTime
from kiosk.engine.lookups import counter_row, find_ticket, ticket_at, ticket_fields
from kiosk.engine.preacceptance import check_note, form_values
from kiosk.estimate import HallView
from kiosk.storage.clerk_rows import check_clerk_id, clerk_row
from kiosk.storage.store import Store



def reserved_waiting(conn: sqlite3.Connection, counter: int, clerk: str | None) -> list[sqlite3.Row]:
    """The waiting tickets reserved for `counter` or for `clerk`, first reserved first."""
    return conn.execute("SELECT * FROM tickets WHERE state = 'waiting' AND (reserved_counter = ? OR "
                        "(? IS NOT NULL AND reserved_clerk = ?)) ORDER BY id", (counter, clerk, clerk)).fetchall()


def unreserved_waiting(conn: sqlite3.Connection, services: Sequence[str]) -> list[sqlite3.Row]:
    """The waiting tickets of `services` reserved for nobody."""
    return conn.execute("SELECT * FROM tickets WHERE state = 'waiting' AND reserved_counter IS NULL AND "
                        "reserved_clerk IS NULL AND service IN (%s)" % ",".join("?" * len(services)),
                        tuple(services)).fetchall()


def reserved_counters(conn: sqlite3.Connection) -> dict[int, int | None]:
    """Each waiting reserved ticket (by id) → the counter it is called at: the one named, or the
    one its clerk is signed in at (None: the clerk is signed in nowhere)."""
    return {r[0]: r[1] if r[1] is not None else r[2] for r in conn.execute(
        "SELECT t.id, t.reserved_counter, c.number FROM tickets t LEFT JOIN counters c "
        "ON t.reserved_counter IS NULL AND c.clerk = t.reserved_clerk WHERE t.state = 'waiting' "
        "AND (t.reserved_counter IS NOT NULL OR t.reserved_clerk IS NOT NULL)")}


def with_reservations(conn: sqlite3.Connection, hall: HallView) -> HallView:
    """`hall` with its reserved tickets marked with their counter (`WaitingTicket.reserved_for`);
    a ticket reserved for a clerk signed in nowhere is left out (nobody calls it now)."""
    reserved = reserved_counters(conn)
    if not reserved:
        return hall
    waiting = tuple(t if t.ticket_id not in reserved else replace(t, reserved_for=reserved[t.ticket_id])
                    for t in hall.waiting if t.ticket_id not in reserved or reserved[t.ticket_id] is not None)
    return replace(hall, waiting=waiting)


def candidate(r: sqlite3.Row) -> Candidate:
    return Candidate(r["id"], r["service"], r["priority"], r["queued_t"])


def reserved_elsewhere(t: sqlite3.Row, counter: int, clerk: str | None) -> str | None:
    """Why `counter` (with `clerk` signed in) may not call `t`, or None when it may."""
    if t["reserved_counter"] is not None and t["reserved_counter"] != counter:
        return f"ticket {t['number']} is reserved for counter {t['reserved_counter']}: release it first"
    if t["reserved_clerk"] is not None and t["reserved_clerk"] != clerk:
        return f"ticket {t['number']} is reserved for another clerk: release it first"
    return None


class TicketRouting:
    """Transfers, releases and the waiting list of a counter."""

    settings: Settings
    store: Store
    time: HallTime
    _counters: Mapping[int, Counter]
    _rules: Mapping[int, CallingRule]

    def transfer(self, counter: int, service: str | None = None, *, to_counter: int | None = None,
                 to_clerk: str | None = None, note: str | None = "") -> str:
        """Send the counter's customer to the queue of `service` (keeping their place in time), or
        reserve them for `to_counter` or `to_clerk` (in `service`, default their own); `note` goes
        with them. Returns the ticket's number."""
        note = check_note(note)
        svc = self._transfer_target(counter, service, to_counter, to_clerk)
        with self.transaction() as tx:
            t = ticket_at(tx, self._counters, counter)
            here = counter_row(tx, self._counters, counter)["clerk"]
            if to_clerk is not None:
                if clerk_row(tx.conn, to_clerk) is None:
                    raise errors.UnknownClerk(f"no clerk {to_clerk}")
                if to_clerk == here:
                    raise errors.BadField("to_clerk", f"{to_clerk} is the clerk at counter {counter}")
            prefix = svc.prefix if svc is not None else t["service"]
            if to_counter is None and to_clerk is None and prefix == t["service"]:
                raise errors.IllegalState(f"ticket {t['number']} is already in service {prefix}")
            service_s = max(0.0, tx.now - t["called_t"])
            tx.conn.execute("UPDATE tickets SET state = 'transferred', finished_t = ?, finished_wall = ?, "
                            "clerk = coalesce(?, clerk) WHERE id = ?",
                            (tx.now, tx.wall.isoformat(timespec="seconds"), here, t["id"]))
            cur = tx.conn.execute(
                "INSERT INTO tickets (day, number, service, seq, priority, state, origin_id, issued_t, queued_t, "
                "issued_wall, member, printed, note, form, assisted, reserved_counter, reserved_clerk) "
                "VALUES (?, ?, ?, NULL, ?, 'waiting', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (tx.day, t["number"], prefix, t["priority"], t["origin_id"] or t["id"], t["issued_t"],
                 t["queued_t"], t["issued_wall"], t["member"], t["printed"], note or t["note"], t["form"],
                 t["assisted"], to_counter, to_clerk))
            tx.conn.execute("UPDATE counters SET ticket_id = NULL, since_t = ? WHERE number = ?", (tx.now, counter))
            to: dict[str, Any] = {"to_counter": to_counter} if to_counter is not None else {}
            if to_clerk is not None:
                to["to_clerk_ref"] = self.clerk_ref(to_clerk)["clerk_ref"]
            self.emit(tx, EventType.TICKET_TRANSFERRED, **ticket_fields(
                t, counter=counter, to_service=prefix, new_ticket_id=cur.lastrowid,
                service_s=round(service_s, 1), **to, **self.clerk_ref(here)))
            return t["number"]

    def _transfer_target(self, counter: int, service: str | None, to_counter: object,
                         to_clerk: object) -> Service | None:
        """Check where a transfer goes (before anything changes); the service named, if any."""
        if to_counter is not None and to_clerk is not None:
            raise errors.BadField("to_clerk", "a transfer goes to a counter or to a clerk, not both")
        if service is None and to_counter is None and to_clerk is None:
            raise errors.BadField("service", "name a service, a counter or a clerk to transfer to")
        if to_counter is not None:
            if isinstance(to_counter, bool) or not isinstance(to_counter, int):
                raise errors.BadField("to_counter", f"a counter number, not {to_counter!r:.40}")
            if to_counter not in self._counters:
                raise errors.UnknownCounter(f"unknown counter {to_counter} (known: {', '.join(map(str, self._counters))})")
            if to_counter == counter:
                raise errors.BadField("to_counter", f"the ticket is at counter {counter} already")
        if to_clerk is not None:
            check_clerk_id(to_clerk, "to_clerk")
        return self._service(service) if service is not None else None

    def release(self, number: str) -> str:
        """A reserved waiting ticket goes back to the calling rule's order at every counter."""
        with self.transaction() as tx:
            t = find_ticket(tx, number, ("waiting",))
            if t["reserved_counter"] is None and t["reserved_clerk"] is None:
                raise errors.IllegalState(f"ticket {t['number']} is not reserved")
            tx.conn.execute("UPDATE tickets SET reserved_counter = NULL, reserved_clerk = NULL WHERE id = ?", (t["id"],))
            self.emit(tx, EventType.TICKET_RELEASED, **ticket_fields(t))
            return t["number"]

    def waiting_list(self, counter: int) -> list[dict[str, Any]]:
        """The tickets waiting for `counter` in the order it will call them if nobody else comes:
        those reserved for it or its clerk, then its services' by the calling rule."""
        cfg = self._counters.get(counter)
        if cfg is None:
            raise errors.UnknownCounter(f"unknown counter {counter!r} (known: {', '.join(map(str, self._counters))})")
        conn = self.store.conn
        clerk = conn.execute("SELECT clerk FROM counters WHERE number = ?", (counter,)).fetchone()[0]
        now = self.time.now()
        rule = self._rules[counter]
        normal = sorted(unreserved_waiting(conn, cfg.services), key=lambda r: rule.sort_key(candidate(r), now))
        return [self._waiting_entry(r, now) for r in reserved_waiting(conn, counter, clerk) + normal]

    def _waiting_entry(self, r: sqlite3.Row, now: float) -> dict[str, Any]:
        tier = self.settings.tier(r["priority"])
        reserved = "counter" if r["reserved_counter"] is not None else "clerk" if r["reserved_clerk"] else None
        return {"number": r["number"], "service": r["service"], "priority": r["priority"],
                "tier": tier.id if tier else None, "waited_s": round(max(0.0, now - r["queued_t"]), 1),
                "note": r["note"], "form": form_values(r["form"]), "assisted": bool(r["assisted"]),
                "reserved": reserved}
