"""Day figures from the recorded events (the ``events`` table of `kiosk.hq.recorder.Recorder`).

Hours are the kiosk's local hours (the ``ts`` of an event carries the branch's offset).
Waits come from ``ticket.called`` (``wait_s``), service times from ``ticket.finished``
(``service_s``), satisfaction from ``ticket.rated`` (score ≥ 4 is satisfied, as in
`kiosk.engine.stats`), the service level is the share of calls within the service's target
wait (each branch's own, from its queue snapshots; 10 min when unknown), the no-show rate
is no-shows per call.
"""
from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SATISFIED_MIN = 4
DEFAULT_TARGET_S = 600.0
TYPES = ("ticket.issued", "ticket.called", "ticket.finished", "ticket.rated", "ticket.noshow")


def open_ro(path: str | Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30, isolation_level=None)
    conn.execute("PRAGMA query_only = 1")
    return conn


def ensure_indexes(path: str | Path) -> None:
    """The recorder's table (kiosk.hq.recorder.open_record_db) plus an index for per-day queries (the
    recorder's own indexes are (branch, seq) and (type))."""
    from kiosk.hq.recorder import open_record_db
    db = open_record_db(path)
    try:
        db.conn.execute("CREATE INDEX IF NOT EXISTS hq_events_day_branch ON events (day, branch)")
    finally:
        db.conn.close()


Targets = Mapping[str, Any]
"""Service-level targets in seconds: {branch: {service: s}} (each branch its own, as `Live.targets`),
or {service: s} (the same for every branch)."""


def _targets_param(targets: Targets, branch: str | None = None) -> tuple[str, bool]:
    """The targets (of `branch` only, when given) as one JSON parameter, [[branch, service, s], …] or
    [[service, s], …] for the same targets everywhere — any number in one bound value — and whether
    they are per branch."""
    def ok(t: Any) -> bool:
        return isinstance(t, (int, float)) and math.isfinite(t)
    if any(isinstance(v, Mapping) for v in targets.values()):
        rows = [[b, s, float(t)] for b, services in targets.items() if branch is None or b == branch
                for s, t in (services or {}).items() if ok(t)]
        return json.dumps(rows, ensure_ascii=False), True
    return json.dumps([[s, float(t)] for s, t in targets.items() if ok(t)], ensure_ascii=False), False


def _figures(r: dict[str, Any]) -> dict[str, Any]:
    called = r.get("called") or 0
    ratings = r.get("ratings") or 0
    return {
        **r,
        "mean_wait_s": round(r["wait_sum"] / called, 1) if called and r.get("wait_sum") is not None else None,
        "service_level": round(r["within"] / called, 4) if called else None,
        "satisfaction": round(r["satisfied"] / ratings, 4) if ratings else None,
        "noshow_rate": round(r["noshows"] / called, 4) if called else None,
    }


def _select(group: str, targets: Targets, branch: str | None = None) -> tuple[str, list[Any]]:
    """The figures grouped by `group`; a call is within target when its wait is at most the target of
    its own branch's service (``tg``, joined by branch and service), DEFAULT_TARGET_S when unknown."""
    w = "json_extract(body, '$.wait_s')"
    param, per_branch = _targets_param(targets, branch)
    if per_branch:
        # CAST: the TEXT affinity of events.branch, so the join can use an (automatic) index on both columns
        tg = ("tg(tg_branch, tg_service, tg_s) AS (SELECT CAST(json_extract(value, '$[0]') AS TEXT), "
              "json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?))")
        on = "tg_branch = branch AND tg_service = json_extract(body, '$.service')"
    else:
        tg = "tg(tg_service, tg_s) AS (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))"
        on = "tg_service = json_extract(body, '$.service')"
    sql = (f"WITH {tg} SELECT {group} AS k, "
           "sum(type = 'ticket.issued') AS issued, "
           "sum(type = 'ticket.called') AS called, "
           "sum(type = 'ticket.finished') AS served, "
           "sum(type = 'ticket.noshow') AS noshows, "
           "sum(type = 'ticket.rated') AS ratings, "
           f"sum(type = 'ticket.rated' AND json_extract(body, '$.score') >= {SATISFIED_MIN}) AS satisfied, "
           f"sum(CASE WHEN type = 'ticket.called' THEN {w} END) AS wait_sum, "
           f"max(CASE WHEN type = 'ticket.called' THEN {w} END) AS wait_max, "
           f"sum(type = 'ticket.called' AND {w} <= coalesce(tg_s, {DEFAULT_TARGET_S})) AS within, "
           "avg(CASE WHEN type = 'ticket.finished' THEN json_extract(body, '$.service_s') END) AS service_mean_s, "
           "avg(CASE WHEN type = 'ticket.rated' THEN json_extract(body, '$.score') END) AS score_mean "
           f"FROM events LEFT JOIN tg ON type = 'ticket.called' AND {on}")
    return sql, [param]


COLS = ("k", "issued", "called", "served", "noshows", "ratings", "satisfied", "wait_sum", "wait_max", "within",
        "service_mean_s", "score_mean")


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    out = []
    for row in conn.execute(sql, params):
        r = dict(zip(COLS, row))
        for k in ("issued", "called", "served", "noshows", "ratings", "satisfied", "within"):
            r[k] = r[k] or 0
        for k in ("wait_max", "service_mean_s", "score_mean"):
            if r[k] is not None:
                r[k] = round(r[k], 2)
        out.append(_figures(r))
    return out


def branch_day(conn: sqlite3.Connection, branch: str, day: str, targets: Targets) -> dict[str, Any]:
    """Per hour, per service and per counter figures of one branch's business day."""
    types = ",".join("?" * len(TYPES))
    sel, params = _select("CAST(substr(ts, 12, 2) AS INTEGER)", targets, branch)
    where = f" WHERE day = ? AND branch = ? AND type IN ({types})"
    hours = _rows(conn, sel + where + " GROUP BY k ORDER BY k", params + [day, branch, *TYPES])
    sel_s, params = _select("json_extract(body, '$.service')", targets, branch)
    services = _rows(conn, sel_s + where + " GROUP BY k ORDER BY k", params + [day, branch, *TYPES])
    sel_c, params = _select("json_extract(body, '$.counter')", targets, branch)
    counters = _rows(conn, sel_c + where + " AND json_extract(body, '$.counter') IS NOT NULL GROUP BY k ORDER BY k",
                     params + [day, branch, *TYPES])
    sel_t, params = _select("'day'", targets, branch)
    total = _rows(conn, sel_t + where, params + [day, branch, *TYPES])
    for h in hours:
        h["hour"] = h.pop("k")
    for s in services:
        s["service"] = s.pop("k")
    for c in counters:
        c["counter"] = c.pop("k")
    return {"branch": branch, "day": day, "hours": hours, "services": services, "counters": counters,
            "total": total[0] if total else None}


def compare_day(conn: sqlite3.Connection, day: str, targets: Targets) -> list[dict[str, Any]]:
    """One row of figures per branch for business day `day`, each against its own branch's targets."""
    types = ",".join("?" * len(TYPES))
    sel, params = _select("branch", targets)
    rows = _rows(conn, sel + f" WHERE day = ? AND type IN ({types}) GROUP BY k ORDER BY k", params + [day, *TYPES])
    for r in rows:
        r["branch"] = r.pop("k")
    return rows


def recent_events(conn: sqlite3.Connection, branch: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT body FROM events WHERE branch = ? ORDER BY seq DESC LIMIT ?", (branch, limit))
    out = []
    for (body,) in rows:
        try:
            out.append(json.loads(body))
        except ValueError:
            continue
    return out


def days(conn: sqlite3.Connection, limit: int = 60) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT day FROM events WHERE day IS NOT NULL ORDER BY day DESC "
                                       "LIMIT ?", (limit,))]
