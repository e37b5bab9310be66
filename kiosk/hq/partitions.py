"""The events table's days on PostgreSQL (one partition per day) and retention on both databases.

`Partitions.ensure(conn, days)` makes the partition of each day within [today - keep_days,
today + 2] that does not exist yet (``PAST_DAYS`` back when no retention is set); any other
day — far in the past or the future, or not a date at all — lands in the DEFAULT partition,
so a branch cannot make HQ create tables at will. Several nodes may race to make the same
partition: the loser's error (duplicate table, unique violation) is taken as "made". A day
whose rows already sit in the DEFAULT partition keeps them there. The days made are cached.

`prune(conn, keep_days)` drops the events of days before today - keep_days: whole partitions
on PostgreSQL (and the old rows of the DEFAULT partition), rows on SQLite. The rollups stay
(they are the history the comparison page reads).
"""
from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

log = logging.getLogger(__name__)

AHEAD_DAYS = 2
PAST_DAYS = 400     # the partitioned window when no retention is set
PREFIX = "events_p"


def parse_day(day: Any) -> date | None:
    if not isinstance(day, str) or len(day) != 10:
        return None
    try:
        return date.fromisoformat(day)
    except ValueError:
        return None


def partition_name(d: date) -> str:
    return f"{PREFIX}{d:%Y%m%d}"


def cutoff(keep_days: int, today: date | None = None) -> str:
    """The first day kept."""
    if isinstance(keep_days, bool) or not isinstance(keep_days, int) or keep_days < 0:
        raise ValueError(f"keep_days must be a whole number of days ≥ 0, not {keep_days!r}")
    return ((today or date.today()) - timedelta(days=keep_days)).isoformat()


class Partitions:
    """Day partitions made on demand (PostgreSQL), for one writer connection."""

    def __init__(self, keep_days: int | None = None) -> None:
        self.keep_days = keep_days
        self.made: set[str] = set()        # days with a partition (or left in DEFAULT), as ISO text

    def window(self, today: date | None = None) -> tuple[date, date]:
        today = today or date.today()
        back = self.keep_days if self.keep_days is not None else PAST_DAYS
        return today - timedelta(days=back), today + timedelta(days=AHEAD_DAYS)

    def ensure(self, conn: Any, days: set[str], today: date | None = None) -> None:
        """Partitions for `days` within the window (outside a transaction)."""
        first, last = self.window(today)
        for day in sorted(days - self.made):
            d = parse_day(day)
            if d is None or not first <= d <= last:
                continue
            self._make(conn, d)
            self.made.add(day)

    def _make(self, conn: Any, d: date) -> None:
        import psycopg.errors as pe
        name = partition_name(d)
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF events "
                         f"FOR VALUES FROM ('{d.isoformat()}') TO ('{(d + timedelta(days=1)).isoformat()}')")
        except (pe.DuplicateTable, pe.UniqueViolation):
            pass                                # another node made it first
        except pe.CheckViolation:
            log.info("events of %s are in the default partition already: they stay there", d)


def prune(conn: Any, keep_days: int, today: date | None = None) -> int:
    """Drop the events of days before today - keep_days; the number of days (partitions) or rows dropped."""
    first = cutoff(keep_days, today)
    if conn.dialect != "postgres":
        return conn.execute("DELETE FROM events WHERE day < ?", (first,)).rowcount
    import psycopg.errors as pe
    rows = conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                        "WHERE i.inhparent = 'events'::regclass AND c.relname LIKE ?", (PREFIX + "%",)).fetchall()
    cut = first.replace("-", "")
    dropped = 0
    for (name,) in rows:
        stamp = name[len(PREFIX):]
        if stamp.isdigit() and len(stamp) == 8 and stamp < cut:
            try:
                conn.execute(f"DROP TABLE IF EXISTS {name}")
                dropped += 1
            except pe.UndefinedTable:
                pass                            # another node dropped it
    dropped += conn.execute("DELETE FROM events_default WHERE day < ?", (first,)).rowcount
    return dropped
