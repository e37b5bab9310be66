"""Tickets the customer follows and takes on the phone (through HQ's public pages).

Every ticket gets a follow token: 128 random bits, the key of its page on HQ (`[phone] follow_url`).
HQ learns only its `follow_key` (a SHA-256 prefix) from the branch's follow message; the raw token
reaches HQ only in the reply to the `issue_remote` command that asked for the ticket.

A remote ticket is *parked*: it holds its place in the line (its queue time is when it was taken) but
no counter calls it and it is nobody's "person ahead" until the customer checks in at the kiosk — by
its 6-digit check-in code (touchscreen, console) or its follow URL read by the barcode reader. Not
checked in within `[phone] check_in_min`, it expires (`ticket.expired`).

`RemoteTickets` is a part of `QueueEngine` (its methods are the engine's).
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from kiosk.config.settings import Settings
from kiosk.domain import errors
from kiosk.domain.model import EventType, IssuedTicket, TicketState
from kiosk.engine.transaction import Tx

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
CODE_RE = re.compile(r"^[0-9]{6}$")
APPOINTMENT_RE = re.compile(r"^[0-9]{8}$")
_URL_TOKEN_RE = re.compile(r"/t/([A-Za-z0-9_-]{22})(?:[/?#].*)?$")
REMOTE = "remote"  # tickets.issued_via of a ticket taken on a phone


def new_token() -> str:
    """A follow token: 22 URL-safe characters, 128 random bits."""
    return secrets.token_urlsafe(16)


def follow_key(token: str) -> str:
    """What HQ indexes a ticket by: the first 32 hex digits of the token's SHA-256."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()[:32]


def parse_check_in(text: str) -> tuple[str, str]:
    """('code', CODE), ('appointment', CODE) or ('token', TOKEN) from what the customer typed or the
    barcode reader read: a remote ticket's 6-digit code, an appointment's 8-digit code, a follow
    token, or a follow URL ending in /t/{token}. `UnknownTicket` otherwise."""
    s = (text or "").strip()
    if CODE_RE.match(s):
        return "code", s
    if APPOINTMENT_RE.match(s):
        return "appointment", s
    if TOKEN_RE.match(s):
        return "token", s
    m = _URL_TOKEN_RE.search(s)
    if m and len(s) <= 300:
        return "token", m.group(1)
    raise errors.UnknownTicket("not a check-in code: type the 6 digits of a ticket taken on your phone (8 of an "
                               "appointment), or scan its QR code")


class RemoteTickets:
    """Remote tickets: issue parked, check in, expire."""

    settings: Settings

    def issue_remote(self, service: str, form: dict[str, Any] | None = None) -> dict[str, Any]:
        """A ticket taken on a phone: parked until checked in. The reply HQ passes to the phone:
        {ticket, ticket_id, service, follow_token, check_in_code, ahead, estimate_s, check_in_by}."""
        phone = self.settings.phone
        svc = self._service(service)
        if not phone.takes_remote(svc.prefix):
            raise errors.RemoteOff(f"this branch takes no remote tickets for service {svc.prefix}"
                                   if phone.remote else "this branch takes no remote tickets")
        issued: IssuedTicket = self.issue(svc.prefix, issued_via=REMOTE, remote_cap=phone.remote_daily_cap, form=form)
        row = self.conn.execute("SELECT follow_token, check_in_code, check_in_by_wall FROM tickets WHERE id = ?",
                                (issued.ticket_id,)).fetchone()
        return {"ticket": issued.ticket, "ticket_id": issued.ticket_id, "service": issued.service,
                "follow_token": row[0], "check_in_code": row[1], "ahead": issued.ahead,
                "estimate_s": issued.estimate_s, "check_in_by": row[2]}

    def park(self, tx: Tx, ticket_id: int, service: str, cap: int) -> None:
        """Make the new ticket `ticket_id` a parked remote ticket (inside its issuing transaction)."""
        if cap:
            taken = tx.conn.execute("SELECT count(*) FROM tickets WHERE day = ? AND service = ? AND issued_via = ?",
                                    (tx.day, service, REMOTE)).fetchone()[0]
            if taken > cap:  # this one included
                raise errors.RemoteCapReached(f"service {service} has taken its {cap} remote tickets today; "
                                              "take a ticket at the branch")
        by_t = tx.now + self.settings.phone.check_in_min * 60
        by_wall = (tx.wall + timedelta(minutes=self.settings.phone.check_in_min)).isoformat(timespec="seconds")
        tx.conn.execute("UPDATE tickets SET state = 'parked', check_in_code = ?, check_in_by_t = ?, "
                        "check_in_by_wall = ? WHERE id = ?", (_free_code(tx), by_t, by_wall, ticket_id))

    def check_in(self, text: str) -> dict[str, Any]:
        """Check in a parked remote ticket by its code, token or follow URL: it is called in its place
        from now on; or an appointment by its 8-digit code (`Appointments.check_in_appointment`).
        Returns the ticket (as `ticket()`, with people ahead and the estimate now)."""
        kind, value = parse_check_in(text)
        if kind == "appointment":
            return self.check_in_appointment(value)
        with self.transaction() as tx:
            column = "check_in_code" if kind == "code" else "follow_token"
            t = tx.conn.execute(f"SELECT * FROM tickets WHERE day = ? AND {column} = ? ORDER BY id DESC",
                                (tx.day, value)).fetchone()
            if t is None or (kind == "token" and t["issued_via"] != REMOTE):
                raise errors.UnknownTicket("no remote ticket with this code today" if kind == "code"
                                           else "this QR code is not a remote ticket of today")
            if t["state"] == TicketState.EXPIRED:
                raise errors.TicketExpired(f"ticket {t['number']} expired at {(t['check_in_by_wall'] or '')[11:16]} "
                                          "(not checked in in time): please take a new ticket")
            if t["state"] != TicketState.PARKED:
                raise errors.IllegalState(f"ticket {t['number']} is already checked in ({t['state']})")
            tx.conn.execute("UPDATE tickets SET state = 'waiting', present_t = ? WHERE id = ?", (tx.now, t["id"]))
            estimate, ahead = self._forecast(self.hall_view(tx), t["id"])
            self.emit(tx, EventType.TICKET_CHECKED_IN, ticket=t["number"], ticket_id=t["id"], service=t["service"],
                      priority=t["priority"], ahead=ahead, estimate_s=estimate)
            out = dict(tx.conn.execute("SELECT * FROM tickets WHERE id = ?", (t["id"],)).fetchone())
            out.update(ahead=ahead, estimate_s=estimate)
            return out

    def expire_parked(self, tx: Tx) -> int:
        """Expire the parked tickets whose check-in time is over (inside a transaction)."""
        rows = tx.conn.execute("SELECT * FROM tickets WHERE state = 'parked' AND check_in_by_t <= ?",
                               (tx.now,)).fetchall()
        for t in rows:
            tx.conn.execute("UPDATE tickets SET state = 'expired', finished_t = ?, finished_wall = ? WHERE id = ?",
                            (tx.now, tx.wall.isoformat(timespec="seconds"), t["id"]))
            self.emit(tx, EventType.TICKET_EXPIRED, ticket=t["number"], ticket_id=t["id"], service=t["service"],
                      priority=t["priority"], reason="not checked in")
        return len(rows)


def _free_code(tx: Tx) -> str:
    """A 6-digit check-in code no other ticket of the day has."""
    for _ in range(100):
        code = f"{secrets.randbelow(1_000_000):06d}"
        if tx.conn.execute("SELECT 1 FROM tickets WHERE day = ? AND check_in_code = ?",
                           (tx.day, code)).fetchone() is None:
            return code
    raise errors.IllegalState("no free check-in code today")  # a million codes: never in practice
