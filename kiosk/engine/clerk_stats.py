"""The figures of each clerk (工号), from the tickets they served (``tickets.clerk``: the clerk
signed in at the counter when the ticket was called, started, finished, marked a no-show or
transferred — the last of these).

Per clerk: ``served`` (finished), ``noshows`` and ``transfers`` (tickets that ended so in their
hands), ``service_time`` (time at the counter, call → finish, of those served: n, mean, p90 —
the statistics' definition, docs/statistics.md), ``counter_limit`` (served within their
service's ``counter_limit_min``), ``satisfaction`` (ratings of the tickets they served, 4–5 of
5 satisfied), ``pre_acceptance`` (time at the counter with and without a pre-acceptance form),
``counter_time_s`` (call → end of everything they handled).
"""
from __future__ import annotations

import sqlite3
import statistics
from collections import defaultdict
from typing import Any

from kiosk.config.settings import Settings
from kiosk.engine.satisfaction import SATISFIED_MIN
from kiosk.engine.stats_targets import within_limit


def clerk_figures(conn: sqlite3.Connection, day_from: str, day_to: str, settings: Settings | None,
                  clerk: str | None = None) -> list[dict[str, Any]]:
    """One entry per clerk who handled a ticket in the business days `day_from`…`day_to`
    (only `clerk` when given), by clerk id."""
    sql = ("SELECT clerk, service, state, called_t, finished_t, rating, form FROM tickets "
           "WHERE clerk IS NOT NULL AND day BETWEEN ? AND ?")
    args: list[Any] = [day_from, day_to]
    if clerk is not None:
        sql += " AND clerk = ?"
        args.append(clerk)
    by_clerk: dict[str, list[sqlite3.Row]] = defaultdict(list)
    for r in conn.execute(sql + " ORDER BY id", args):
        by_clerk[r["clerk"]].append(r)
    names = {r[0]: r[1] for r in conn.execute("SELECT id, name FROM clerks")}
    limits = {s.prefix: s.counter_limit_min * 60.0 for s in settings.services} if settings is not None else {}
    return [{"clerk": cid, "name": names.get(cid), **figures(rows, limits)} for cid, rows in sorted(by_clerk.items())]


def figures(rows: list[sqlite3.Row], limits_s: dict[str, float]) -> dict[str, Any]:
    """The figures of one clerk's ticket rows."""
    served = [(r["service"], _at_counter(r), r["form"] is not None) for r in rows
              if r["state"] == "done" and r["called_t"] is not None and r["finished_t"] is not None]
    times = [s for _, s, _ in served]
    ratings = [r["rating"] for r in rows if r["rating"] is not None]
    satisfied = sum(1 for x in ratings if x >= SATISFIED_MIN)
    busy = sum(_at_counter(r) for r in rows if r["state"] in ("done", "noshow", "transferred")
               and r["called_t"] is not None and r["finished_t"] is not None)
    return {
        "served": len(served),
        "noshows": sum(r["state"] == "noshow" for r in rows),
        "transfers": sum(r["state"] == "transferred" for r in rows),
        "service_time": _dist(times),
        "counter_limit": within_limit(((svc, None, s) for svc, s, _ in served), limits_s),
        "satisfaction": {"ratings": len(ratings), "satisfied": satisfied,
                         "share": round(satisfied / len(ratings), 4) if ratings else None,
                         "mean": round(sum(ratings) / len(ratings), 2) if ratings else None},
        "pre_acceptance": {"with": _dist([s for _, s, f in served if f]),
                           "without": _dist([s for _, s, f in served if not f])},
        "counter_time_s": round(busy, 1),
    }


def empty_figures(limits_s: dict[str, float] | None = None) -> dict[str, Any]:
    """The figures of a clerk who handled nobody."""
    return figures([], limits_s or {})


def _at_counter(r: sqlite3.Row) -> float:
    return max(0.0, r["finished_t"] - r["called_t"])


def _dist(values: list[float]) -> dict[str, Any]:
    """n, mean and p90 (linear interpolation between closest ranks, as the statistics' percentile)."""
    if not values:
        return {"n": 0, "mean_s": None, "p90_s": None}
    p90 = values[0] if len(values) == 1 else statistics.quantiles(values, n=10, method="inclusive")[8]
    return {"n": len(values), "mean_s": round(sum(values) / len(values), 1), "p90_s": round(p90, 1)}
