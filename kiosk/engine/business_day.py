"""The business day: which day a wall-clock instant belongs to, and starting the next one.

The day is named by the wall clock (local time minus the rollover time) but stored, so a
clock that jumps backwards never rolls the queue back. Starting a new day expires the
tickets still open and frees the counters.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from kiosk.config.settings import Settings
from kiosk.domain.clock import Clock
from kiosk.domain.timeline import wall_is_sane

FIRST_DAY_UNKNOWN = "1970-01-01"


def business_day(wall: datetime, settings: Settings) -> str:
    """The business day of a wall-clock instant: the date of (local time − rollover time)."""
    local = wall.astimezone(settings.day.tz)
    rt = settings.day.rollover_time
    return (local - timedelta(hours=rt.hour, minutes=rt.minute)).date().isoformat()


def current_day(conn: sqlite3.Connection, clock: Clock, settings: Settings) -> str:
    """The stored business day; the first call names it from the clock (when the clock is sane)."""
    row = conn.execute("SELECT day FROM business_day WHERE id = 1").fetchone()
    if row:
        return row[0]
    wall = clock.wall()
    day = business_day(wall, settings) if wall_is_sane(wall) else FIRST_DAY_UNKNOWN
    conn.execute("INSERT INTO business_day (id, day, started_wall) VALUES (1, ?, ?)", (day, wall.isoformat()))
    return day


def due_day(wall: datetime, day: str, settings: Settings, force: bool = False) -> str | None:
    """The day to roll over to at `wall`, or None to stay on `day`.

    An insane clock or a clock that went backwards never rolls over; `force` (the admin's
    manual rollover) always does, to the day after `day` if the clock has not moved on."""
    if not wall_is_sane(wall) and not force:
        return None
    today = business_day(wall, settings)
    if today <= day and not force:
        return None  # the same day, or the clock went backwards: never roll back
    if force and today <= day:
        today = (datetime.fromisoformat(day) + timedelta(days=1)).date().isoformat()
    return today


def start_day(conn: sqlite3.Connection, now: float, wall: datetime, old_day: str, new_day: str) -> int:
    """Expire `old_day`'s open tickets, free every counter and store `new_day`. Returns how many expired."""
    cur = conn.execute(
        "UPDATE tickets SET state = 'expired', finished_t = ?, finished_wall = ? "
        "WHERE day = ? AND state IN ('waiting', 'parked', 'called', 'serving')",
        (now, wall.isoformat(), old_day))
    expired = cur.rowcount
    conn.execute("UPDATE counters SET ticket_id = NULL, since_t = NULL")
    conn.execute("UPDATE business_day SET day = ?, started_wall = ? WHERE id = 1", (new_day, wall.isoformat()))
    return expired
