"""The database side of HQ's gap repair (`kiosk.hq.gaps`): the two tables and every query.

``hq_seq(branch, contiguous, contiguous_day, updated)``: the watermark — every seq of the
branch up to ``contiguous`` is stored (or is in a gap closed as lost at the branch);
``contiguous_day`` is the day of that event, so that PostgreSQL scans only the day partitions
from the day before it on.

``hq_gaps(branch, first_seq, last_seq, missing, opened, asked_at, asks, state, closed, note)``:
the gaps found, one row each (key: branch, first_seq). ``state`` is ``open`` (HQ asks the
branch to resend it), ``closed`` (its events arrived), ``lost`` (the branch no longer has them:
pruned, or never sent) or ``void`` (beyond what the branch says is its last seq). Times are
UTC epoch seconds. The SQL runs on SQLite and PostgreSQL alike; every node reads the tables,
only the node that repairs writes them.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from kiosk.hq.db import Conn

OPEN, CLOSED, LOST, VOID = "open", "closed", "lost", "void"
SCHEMA = ("CREATE TABLE IF NOT EXISTS hq_seq (branch TEXT PRIMARY KEY, contiguous BIGINT NOT NULL, "
          "contiguous_day TEXT, updated DOUBLE PRECISION);"
          "CREATE TABLE IF NOT EXISTS hq_gaps (branch TEXT NOT NULL, first_seq BIGINT NOT NULL, last_seq BIGINT NOT NULL, "
          "missing BIGINT NOT NULL, opened DOUBLE PRECISION NOT NULL, asked_at DOUBLE PRECISION, "
          "asks INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, closed DOUBLE PRECISION, note TEXT, "
          "PRIMARY KEY (branch, first_seq));"
          "CREATE INDEX IF NOT EXISTS hq_gaps_state ON hq_gaps (state, closed)")
GAP_COLUMNS = ("branch", "first_seq", "last_seq", "missing", "opened", "asked_at", "asks", "state", "closed", "note")


def ensure_schema(conn: Conn) -> None:
    conn.executescript(SCHEMA)


def day_floor(day: Any) -> str | None:
    """The day before `day` (a clock set back a little cannot hide an event), None if not a day."""
    try:
        return (date.fromisoformat(str(day)[:10]) - timedelta(days=1)).isoformat()
    except ValueError:
        return None


def _day_clause(conn: Conn, floor: str | None) -> tuple[str, tuple]:
    """PostgreSQL's partition pruning (SQLite has one table: no clause)."""
    if conn.dialect == "postgres" and floor is not None:
        return " AND day >= ?", (floor,)
    return "", ()


# -- the watermark ------------------------------------------------------------------------------
def watermarks(conn: Conn) -> dict[str, tuple[int, str | None]]:
    return {r[0]: (int(r[1]), r[2]) for r in conn.execute("SELECT branch, contiguous, contiguous_day FROM hq_seq")}


def save_watermarks(conn: Conn, rows: Iterable[tuple[str, int, str | None, float]]) -> None:
    conn.executemany("INSERT INTO hq_seq (branch, contiguous, contiguous_day, updated) VALUES (?, ?, ?, ?) "
                     "ON CONFLICT (branch) DO UPDATE SET contiguous = excluded.contiguous, "
                     "contiguous_day = excluded.contiguous_day, updated = excluded.updated", list(rows))


# -- the recording ------------------------------------------------------------------------------
def stored_after(conn: Conn, branch: str, after: int, floor: str | None, limit: int) -> list[tuple[int, str]]:
    """(seq, day) of the branch's stored events above `after`, in seq order, at most `limit`."""
    clause, extra = _day_clause(conn, floor)
    rows = conn.execute(f"SELECT seq, day FROM events WHERE branch = ? AND seq > ?{clause} ORDER BY seq LIMIT ?",
                        (branch, after, *extra, limit)).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows if r[0] is not None]


# -- the gaps -----------------------------------------------------------------------------------
def gaps(conn: Conn, *, states: tuple[str, ...], closed_since: float = 0.0,
         branch: str | None = None) -> list[dict[str, Any]]:
    """Gaps in `states` (those closed before `closed_since` left out), oldest first."""
    marks = ",".join("?" * len(states))
    sql = (f"SELECT {', '.join(GAP_COLUMNS)} FROM hq_gaps WHERE state IN ({marks}) "
           "AND (closed IS NULL OR closed >= ?)")
    params: tuple = (*states, closed_since)
    if branch is not None:
        sql += " AND branch = ?"
        params += (branch,)
    rows = conn.execute(sql + " ORDER BY branch, first_seq", params).fetchall()
    return [dict(zip(GAP_COLUMNS, r)) for r in rows]


def open_gap(conn: Conn, branch: str, first: int, last: int, missing: int, now: float) -> None:
    """A new open gap (an old row with the same start, closed, is replaced)."""
    conn.execute("INSERT INTO hq_gaps (branch, first_seq, last_seq, missing, opened, asks, state) "
                 "VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT (branch, first_seq) DO UPDATE SET "
                 "last_seq = excluded.last_seq, missing = excluded.missing, opened = excluded.opened, asked_at = NULL, "
                 "asks = 0, state = excluded.state, closed = NULL, note = NULL",
                 (branch, first, last, missing, now, OPEN))


def reshape_gap(conn: Conn, branch: str, old_first: int, first: int, last: int, missing: int) -> None:
    """Part of an open gap arrived: what is still missing."""
    if first != old_first:
        conn.execute("DELETE FROM hq_gaps WHERE branch = ? AND first_seq = ? AND state <> ?", (branch, first, OPEN))
    conn.execute("UPDATE hq_gaps SET first_seq = ?, last_seq = ?, missing = ? WHERE branch = ? AND first_seq = ?",
                 (first, last, missing, branch, old_first))


def close_gap(conn: Conn, branch: str, first: int, state: str, now: float, note: str | None = None) -> None:
    conn.execute("UPDATE hq_gaps SET state = ?, closed = ?, note = coalesce(?, note) "
                 "WHERE branch = ? AND first_seq = ? AND state = ?", (state, now, note, branch, first, OPEN))


def split_off(conn: Conn, branch: str, first: int, last: int, state: str, now: float, note: str) -> None:
    """The start `first`..`last` of an open gap is closed as `state`; the open rest starts at last + 1."""
    row = conn.execute("SELECT last_seq, missing, opened, asked_at, asks FROM hq_gaps WHERE branch = ? AND first_seq = ?",
                       (branch, first)).fetchone()
    if row is None:
        return
    g_last, missing, opened, asked_at, asks = row
    conn.execute("DELETE FROM hq_gaps WHERE branch = ? AND first_seq = ? AND state <> ?", (branch, last + 1, OPEN))
    conn.execute("INSERT INTO hq_gaps (branch, first_seq, last_seq, missing, opened, asked_at, asks, state) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (branch, first_seq) DO NOTHING",
                 (branch, last + 1, g_last, max(0, int(missing) - (last - first + 1)), opened, asked_at, asks, OPEN))
    conn.execute("UPDATE hq_gaps SET last_seq = ?, missing = ?, state = ?, closed = ?, note = ? "
                 "WHERE branch = ? AND first_seq = ?", (last, last - first + 1, state, now, note, branch, first))


def note_gap(conn: Conn, branch: str, first: int, note: str) -> None:
    conn.execute("UPDATE hq_gaps SET note = ? WHERE branch = ? AND first_seq = ?", (note[:300], branch, first))


def asked(conn: Conn, branch: str, first: int, now: float) -> None:
    conn.execute("UPDATE hq_gaps SET asked_at = ?, asks = asks + 1 WHERE branch = ? AND first_seq = ?",
                 (now, branch, first))


def forget_closed(conn: Conn, before: float) -> int:
    """Delete the gaps closed before `before` (the lost ones are kept longer by the caller's choice)."""
    return conn.execute("DELETE FROM hq_gaps WHERE state <> ? AND closed < ?", (OPEN, before)).rowcount
