"""Hall time: one monotonic timeline per branch that survives restarts and clock jumps.

Durations (waits, service times) are differences of hall time. Within a boot, hall time is
the monotonic clock plus a stored offset, so every process on the machine agrees. After a
reboot the offset is chosen so that hall time continues from the last recorded instant,
plus the wall-clock gap when the wall clock is trustworthy on both sides (a Pi without a
real-time clock boots in 1970 until NTP answers): time never runs backwards, and a power
cut never makes a wait negative.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime

from kiosk.domain.clock import Clock

SANE_YEAR = 2024


def wall_is_sane(wall: datetime) -> bool:
    return wall.year >= SANE_YEAR


class HallTime:
    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.clock = clock
        self._conn = conn
        self._offset: float | None = None
        self._boot: str | None = None

    def now(self) -> float:
        """Hall time in seconds. Must be called inside a write transaction the first time
        after a (re)boot, which `anchor()` does."""
        if self._offset is None or self._boot != self.clock.boot_id():
            self.anchor()
        return self.clock.monotonic() + self._offset  # type: ignore[operator]

    def anchor(self) -> None:
        """Load or create the offset for this boot (inside the caller's transaction, or its own)."""
        own_tx = not self._conn.in_transaction
        if own_tx:
            self._conn.execute("BEGIN IMMEDIATE")
        try:
            boot = self.clock.boot_id()
            mono = self.clock.monotonic()
            wall = self.clock.wall()
            row = self._conn.execute("SELECT boot_id, offset, last_t, last_wall FROM hall_clock WHERE id = 1").fetchone()
            if row is None:
                offset = -mono
                self._conn.execute("INSERT INTO hall_clock (id, boot_id, offset, last_t, last_wall) VALUES (1, ?, ?, ?, ?)",
                                   (boot, offset, 0.0, wall.isoformat() if wall_is_sane(wall) else None))
            elif row[0] == boot:
                offset = row[1]
            else:
                gap = 0.0
                if row[3] and wall_is_sane(wall):
                    gap = max(0.0, (wall - datetime.fromisoformat(row[3])).total_seconds())
                offset = row[2] + gap - mono
                self._conn.execute("UPDATE hall_clock SET boot_id = ?, offset = ? WHERE id = 1", (boot, offset))
            if own_tx:
                self._conn.execute("COMMIT")
        except BaseException:
            if own_tx and self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise
        self._offset, self._boot = offset, boot

    def record(self, t: float) -> None:
        """Remember the latest instant used (inside the caller's transaction)."""
        wall = self.clock.wall()
        self._conn.execute("UPDATE hall_clock SET last_t = max(last_t, ?), last_wall = coalesce(?, last_wall) WHERE id = 1",
                           (t, wall.isoformat() if wall_is_sane(wall) else None))
