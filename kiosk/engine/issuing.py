"""What issuing a ticket needs: whether a service takes tickets now (its opening hours as
overridden by the admin, its daily cap, forced diversion at a level 2 peak), and the next
free number of its range."""
from __future__ import annotations

import sqlite3
from datetime import datetime, tzinfo

from kiosk.config.settings import Service, Settings
from kiosk.domain import errors
from kiosk.domain.timeline import wall_is_sane
from kiosk.engine.alerts import current_state
from kiosk.engine.transaction import Tx

DIVERTED_AT_LEVEL = 2


def override_hours(conn: sqlite3.Connection, prefix: str) -> list[str] | None:
    """The opening hours the admin set for a service, or None when it keeps its configured ones."""
    row = conn.execute("SELECT hours FROM service_override WHERE prefix = ?", (prefix,)).fetchone()
    return row[0].split(",") if row else None


def why_unavailable(conn: sqlite3.Connection, svc: Service, wall: datetime, day: str, tz: tzinfo, *,
                    settings: Settings | None = None, now: float | None = None) -> str | None:
    """None when the service takes tickets at `wall`, else why not: 'hours', 'daily_cap' or
    (given the settings and hall time `now`) 'diverted'.

    An insane wall clock cannot close a service by its hours."""
    if wall_is_sane(wall):
        hours = override_hours(conn, svc.prefix)
        if not svc.is_open_at(wall.astimezone(tz).time(), hours):
            return "hours"
    if svc.daily_cap:
        issued = conn.execute("SELECT count(*) FROM tickets WHERE day = ? AND service = ? AND seq IS NOT NULL",
                              (day, svc.prefix)).fetchone()[0]
        if issued >= svc.daily_cap:
            return "daily_cap"
    if settings is not None and now is not None and diverts(settings, svc) \
            and current_state(conn, now, settings)[0].level >= DIVERTED_AT_LEVEL:
        return "diverted"
    return None


def diverts(settings: Settings, svc: Service) -> bool:
    """Whether `svc` stops issuing at a level 2 peak: the hall says so and it has a self-service way."""
    return settings.alerts.stop_issuing_at_level2 and svc.self_service is not None


def next_number(tx: Tx, svc: Service) -> tuple[str, int]:
    """Take the service's next number of the day: (printed number, sequence).

    Past the end of its range the service refuses or wraps around, skipping numbers still in
    the queue; `RangeExhausted` when it refuses, or when every number is still in the queue."""
    row = tx.conn.execute("SELECT next_seq FROM service_day WHERE prefix = ? AND day = ?",
                          (svc.prefix, tx.day)).fetchone()
    seq = row[0] if row else 1
    lo, hi = svc.numbers
    span = hi - lo + 1
    if seq > span and svc.on_exhausted == "refuse":
        raise errors.RangeExhausted(
            f"service {svc.prefix} has used all its numbers today ({svc.prefix}{lo:0{svc.digits}d}–"
            f"{svc.prefix}{hi:0{svc.digits}d}) and is set to refuse more")
    active = {r[0] for r in tx.conn.execute(
        "SELECT number FROM tickets WHERE day = ? AND service = ? AND state IN ('waiting', 'called', 'serving')",
        (tx.day, svc.prefix))} if seq > span else set()
    for _ in range(span):
        number = f"{svc.prefix}{lo + (seq - 1) % span:0{svc.digits}d}"
        if number not in active:
            break
        seq += 1
    else:
        raise errors.RangeExhausted(f"every number of service {svc.prefix} is still in the queue")
    tx.conn.execute("INSERT INTO service_day (prefix, day, next_seq) VALUES (?, ?, ?) "
                    "ON CONFLICT (prefix, day) DO UPDATE SET next_seq = excluded.next_seq",
                    (svc.prefix, tx.day, seq + 1))
    return number, seq


PRINTED_HERE = (None, "button", "appointment")
"""`tickets.issued_via` of the tickets handed out at this kiosk's printer: its touchscreen, console and
the hall web app's "print" (None), a take-ticket button, an appointment checked in here. Others are handed out where they were taken:
'qr' (shown as a QR code on a floor tablet), 'device:NAME' (a satellite ticket machine prints it),
'remote' (taken on the customer's phone through HQ)."""


def printed_here(issued_via: str | None) -> bool:
    return issued_via in PRINTED_HERE


def handed_out_where(issued_via: str | None) -> str:
    """The print verdict's reason of a ticket handed out elsewhere."""
    if issued_via == "qr":
        return "handed out as a QR code on a floor tablet"
    if issued_via == "remote":
        return "taken on the customer's phone (checked in at the kiosk by its code)"
    if issued_via and issued_via.startswith("device:"):
        return f"handed out by the satellite ticket machine {issued_via.removeprefix('device:')}"
    return f"handed out elsewhere ({issued_via})"
