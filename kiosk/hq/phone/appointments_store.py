"""The bookings in HQ's database (`kiosk.hq.db`, SQLite or PostgreSQL, the same SQL).

``phone_bookings(branch, day, service, slot, seat, code, form, created)``: one row a booking.
Its key (branch, day, service, slot, seat) with ``seat`` 1..capacity is the seat itself, so
two requests — on one node or on several sharing the database — can never hold the same seat:
`book` tries the seats in turn with ``INSERT … ON CONFLICT DO NOTHING`` and the database
decides. ``code`` (8 digits) is unique per branch (``phone_bookings_code``), hence per branch
and day; a code that is already taken makes `book` draw another. ``form`` is the booking's
pre-acceptance values (JSON text), set to NULL by `purge_forms` once its day is over; a
cancelled booking is deleted (its seat is free again).
"""
from __future__ import annotations

import json
import secrets
import sqlite3
import time
from typing import Any

from kiosk.hq.db import Conn

SCHEMA = ("CREATE TABLE IF NOT EXISTS phone_bookings (branch TEXT NOT NULL, day TEXT NOT NULL, "
          "service TEXT NOT NULL, slot TEXT NOT NULL, seat INTEGER NOT NULL, code TEXT NOT NULL, form TEXT, "
          "created DOUBLE PRECISION NOT NULL, PRIMARY KEY (branch, day, service, slot, seat));"
          "CREATE UNIQUE INDEX IF NOT EXISTS phone_bookings_code ON phone_bookings (branch, code)")
CODE_DIGITS = 8
CODE_TRIES = 20
MAX_PER_DAY = 2000   # the most bookings of one branch and day (what the kiosk takes in hq/appointments)


def ensure_schema(conn: Conn) -> None:
    conn.executescript(SCHEMA)


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def _unique_violation(exc: BaseException) -> bool:
    if isinstance(exc, sqlite3.IntegrityError):
        return True
    try:
        import psycopg
    except ModuleNotFoundError:
        return False
    return isinstance(exc, psycopg.errors.UniqueViolation)


def taken(conn: Conn, branch: str, service: str, days: list[str]) -> dict[tuple[str, str], int]:
    """{(day, slot): bookings} of the branch's service on `days`."""
    if not days:
        return {}
    marks = ",".join("?" * len(days))
    rows = conn.execute(f"SELECT day, slot, count(*) FROM phone_bookings WHERE branch = ? AND service = ? "
                        f"AND day IN ({marks}) GROUP BY day, slot", (branch, service, *days)).fetchall()
    return {(r[0], r[1]): int(r[2]) for r in rows}


def book(conn: Conn, branch: str, day: str, service: str, slot: str, capacity: int,
         form: dict[str, Any] | None) -> str | None:
    """A seat of the slot for a new booking: its code, or None when every seat (or the day) is full."""
    form_text = json.dumps(form, ensure_ascii=False, separators=(",", ":")) if form is not None else None
    for _ in range(CODE_TRIES):
        code = new_code()
        try:
            with conn.transaction():   # SQLite: BEGIN IMMEDIATE, the writers queue (no stale snapshot)
                for seat in range(1, capacity + 1):
                    cur = conn.execute(
                        "INSERT INTO phone_bookings (branch, day, service, slot, seat, code, form, created) "
                        "SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM phone_bookings WHERE branch = ? "
                        "AND day = ?) < ? ON CONFLICT (branch, day, service, slot, seat) DO NOTHING",
                        (branch, day, service, slot, seat, code, form_text, time.time(), branch, day, MAX_PER_DAY))
                    if cur.rowcount == 1:
                        return code
            return None
        except Exception as exc:
            if not _unique_violation(exc):
                raise
            continue   # the code is another booking's: draw again
    raise RuntimeError(f"no free booking code for branch {branch} after {CODE_TRIES} tries")


def cancel(conn: Conn, branch: str, code: str, first_day: str) -> bool:
    """Delete the branch's booking `code` of `first_day` or later; whether there was one."""
    return conn.execute("DELETE FROM phone_bookings WHERE branch = ? AND code = ? AND day >= ?",
                        (branch, code, first_day)).rowcount > 0


def bookings(conn: Conn, branch: str, days: list[str]) -> dict[str, list[dict[str, Any]]]:
    """{day: [{"code", "service", "slot", "form"?}]} of the branch on `days` (days without one left out),
    each day's in slot order."""
    if not days:
        return {}
    marks = ",".join("?" * len(days))
    rows = conn.execute(f"SELECT day, code, service, slot, form FROM phone_bookings WHERE branch = ? "
                        f"AND day IN ({marks}) ORDER BY day, slot, service, seat", (branch, *days)).fetchall()
    out: dict[str, list[dict[str, Any]]] = {}
    for day, code, service, slot, form in rows:
        entry: dict[str, Any] = {"code": code, "service": service, "slot": slot}
        if form is not None:
            entry["form"] = json.loads(form)
        out.setdefault(day, []).append(entry)
    return out


def branches_from(conn: Conn, first_day: str) -> set[str]:
    """The branches with a booking on `first_day` or later."""
    return {r[0] for r in conn.execute("SELECT DISTINCT branch FROM phone_bookings WHERE day >= ?", (first_day,))}


def purge_forms(conn: Conn, before: dict[str, str], default_before: str) -> int:
    """NULL the forms of bookings whose day is over: before the branch's own today (`before`, by
    branch) and, for every branch, before `default_before`; how many were purged."""
    n = 0
    for branch, day in before.items():
        n += conn.execute("UPDATE phone_bookings SET form = NULL WHERE branch = ? AND day < ? AND form IS NOT NULL",
                          (branch, day)).rowcount
    n += conn.execute("UPDATE phone_bookings SET form = NULL WHERE day < ? AND form IS NOT NULL",
                      (default_before,)).rowcount
    return n


__all__ = ["CODE_DIGITS", "MAX_PER_DAY", "book", "bookings", "branches_from", "cancel", "ensure_schema",
           "new_code", "purge_forms", "taken"]
