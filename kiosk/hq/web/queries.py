"""Day figures for the dashboard, read from the rollups the recorder keeps (`kiosk.hq.rollups`).

Every function takes a `kiosk.hq.db.Conn` (SQLite or PostgreSQL). Hours are the kiosk's local
hours (the ``ts`` of an event carries the branch's offset). Waits come from ``ticket.called``,
service times from ``ticket.finished``, satisfaction from ``ticket.rated`` (score ≥ 4), the
service level is the share of calls within the service's target wait (the branch's own when
the call was recorded; 10 min when unknown), the no-show rate is no-shows per call.
`recent_events` reads the events themselves; `ensure_schema` makes or migrates the tables.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from kiosk.hq.db import Conn, open_db
from kiosk.hq.events_schema import ensure_schema
from kiosk.hq.rollups import COUNTS, SUMS, TICKET_TYPES

__all__ = ["branch_day", "compare_day", "compare_days", "days", "ensure_schema", "open_ro", "recent_events"]

TYPES = TICKET_TYPES
RECENT_WINDOWS_DAYS = (7, 90)    # PostgreSQL: the days probed for recent events, before all of them

_SELECT = ", ".join([f"sum({m})" for m in COUNTS + SUMS] + ["max(wait_max)"])
_COLUMNS = COUNTS + SUMS + ("wait_max",)


def open_ro(target: str | Path) -> Conn:
    """A read-only connection to the database at `target` (the caller closes it)."""
    return open_db(target).connect(read_only=True)


def _figures(values: tuple) -> dict[str, Any]:
    r = dict(zip(_COLUMNS, values))
    for k in COUNTS:
        r[k] = int(r[k] or 0)
    for k in SUMS:
        r[k] = float(r[k] or 0)
    wait_max = r["wait_max"]
    called, ratings = r["called"], r["ratings"]
    service_n, score_n = r.pop("service_n"), r.pop("score_n")
    service_sum, score_sum = r.pop("service_sum"), r.pop("score_sum")
    r["wait_max"] = round(float(wait_max), 2) if wait_max is not None else None
    r["wait_sum"] = r["wait_sum"] if wait_max is not None else None
    r["service_mean_s"] = round(service_sum / service_n, 2) if service_n else None
    r["score_mean"] = round(score_sum / score_n, 2) if score_n else None
    r["mean_wait_s"] = round(r["wait_sum"] / called, 1) if called and wait_max is not None else None
    r["service_level"] = round(r["within"] / called, 4) if called else None
    r["satisfaction"] = round(r["satisfied"] / ratings, 4) if ratings else None
    r["noshow_rate"] = round(r["noshows"] / called, 4) if called else None
    return r


def _grouped(conn: Conn, name: str, sql: str, params: tuple) -> list[dict[str, Any]]:
    return [{name: row[0], **_figures(row[1:])} for row in conn.execute(sql, params).fetchall()]


def _counter(c: str) -> int | str:
    return int(c) if c.isdigit() and len(c) < 10 else c


def branch_day(conn: Conn, branch: str, day: str) -> dict[str, Any]:
    """Per hour, per service and per counter figures of one branch's business day, and its total."""
    hours = _grouped(conn, "hour", f"SELECT hour, {_SELECT} FROM rollup_hour WHERE branch = ? AND day = ? AND hour >= 0 "
                                   "GROUP BY hour ORDER BY hour", (branch, day))
    services = _grouped(conn, "service", f"SELECT service, {_SELECT} FROM rollup_day WHERE day = ? AND branch = ? "
                                         "GROUP BY service ORDER BY service", (day, branch))
    counters = _grouped(conn, "counter", f"SELECT counter, {_SELECT} FROM rollup_hour WHERE branch = ? AND day = ? "
                                         "AND counter <> '' GROUP BY counter", (branch, day))
    for s in services:
        s["service"] = s["service"] or None
    for c in counters:
        c["counter"] = _counter(c["counter"])
    counters.sort(key=lambda c: (isinstance(c["counter"], str), c["counter"]))
    total = conn.execute(f"SELECT {_SELECT} FROM rollup_day WHERE day = ? AND branch = ?", (day, branch)).fetchone()
    return {"branch": branch, "day": day, "hours": hours, "services": services, "counters": counters,
            "total": _figures(total)}


def compare_days(conn: Conn, first: str, last: str) -> list[dict[str, Any]]:
    """One row of figures per branch, summed over the business days `first` … `last` (ISO dates)."""
    return _grouped(conn, "branch", f"SELECT branch, {_SELECT} FROM rollup_day WHERE day >= ? AND day <= ? "
                                    "GROUP BY branch ORDER BY branch", (first, last))


def compare_day(conn: Conn, day: str) -> list[dict[str, Any]]:
    """One row of figures per branch for business day `day`."""
    return compare_days(conn, day, day)


def _bodies(rows: list[tuple]) -> list[dict[str, Any]]:
    out = []
    for (body,) in rows:
        try:
            out.append(json.loads(body))
        except (TypeError, ValueError):
            continue
    return out


def recent_events(conn: Conn, branch: str, limit: int = 100) -> list[dict[str, Any]]:
    """The branch's latest `limit` events (by seq, newest first). On PostgreSQL the last days are read
    first (a few partitions, not every one), then more when they hold fewer than `limit`."""
    sql = "SELECT body FROM events WHERE branch = ?"
    if conn.dialect == "postgres":
        for back in RECENT_WINDOWS_DAYS:
            since = (date.today() - timedelta(days=back)).isoformat()
            rows = conn.execute(sql + " AND day >= ? ORDER BY seq DESC LIMIT ?", (branch, since, limit)).fetchall()
            if len(rows) >= limit:
                return _bodies(rows)
    return _bodies(conn.execute(sql + " ORDER BY seq DESC LIMIT ?", (branch, limit)).fetchall())


def days(conn: Conn, limit: int = 60) -> list[str]:
    """The business days with figures, newest first."""
    return [r[0] for r in conn.execute("SELECT DISTINCT day FROM rollup_day ORDER BY day DESC LIMIT ?",
                                       (limit,)).fetchall()]
