"""The figures HQ keeps per branch, day, hour, service and counter, summed as events arrive.

An event of a ticket type contributes one `Contribution` (computed in Python from its parsed
body when it is recorded): which hour, service and counter it counts for, and its measures —
issued, called, served, no-shows, ratings, satisfied (score ≥ 4), the wait (sum and max),
whether the call was within the branch's target for its service (the target at ingest time,
600 s when unknown), the service time and the score. `Sums` adds contributions up per key;
`upsert()` adds them to ``rollup_hour`` and ``rollup_day`` (``ON CONFLICT … DO UPDATE SET
x = t.x + excluded.x``, the max for ``wait_max``), keys sorted so that concurrent writers lock
rows in the same order. A text key absent from the event is stored as '' (the primary keys
hold no NULL), an hour that cannot be read as -1.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SATISFIED_MIN = 4
DEFAULT_TARGET_S = 600.0
TICKET_TYPES = ("ticket.issued", "ticket.called", "ticket.finished", "ticket.rated", "ticket.noshow")

COUNTS = ("issued", "called", "served", "noshows", "ratings", "satisfied", "within", "service_n", "score_n")
SUMS = ("wait_sum", "service_sum", "score_sum")
MEASURES = COUNTS + SUMS + ("wait_max",)
WAIT_MAX = len(MEASURES) - 1

HOUR_KEY = ("branch", "day", "hour", "service", "counter")
DAY_KEY = ("day", "branch", "service")

_MEASURE_COLUMNS = ", ".join([f"{m} BIGINT NOT NULL DEFAULT 0" for m in COUNTS] +
                             [f"{m} DOUBLE PRECISION NOT NULL DEFAULT 0" for m in SUMS] + ["wait_max DOUBLE PRECISION"])
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS rollup_hour (branch TEXT NOT NULL, day TEXT NOT NULL, hour INTEGER NOT NULL, "
    f"service TEXT NOT NULL, counter TEXT NOT NULL, {_MEASURE_COLUMNS}, PRIMARY KEY ({', '.join(HOUR_KEY)}));"
    "CREATE TABLE IF NOT EXISTS rollup_day (day TEXT NOT NULL, branch TEXT NOT NULL, service TEXT NOT NULL, "
    f"{_MEASURE_COLUMNS}, PRIMARY KEY ({', '.join(DAY_KEY)}))")
"""Both tables, in SQL that SQLite and PostgreSQL read alike."""


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def target_of(targets: Any, service: str) -> float:
    """The target wait of `service` in `targets` ({service: s}), DEFAULT_TARGET_S when unknown or not a
    finite number of seconds."""
    t = targets.get(service) if isinstance(targets, Mapping) else None
    t = _number(t)
    return t if t is not None and t >= 0 else DEFAULT_TARGET_S


def hour_of(ts: Any) -> int:
    """The local hour of an ISO time (its offset is the branch's), -1 when it has none."""
    if isinstance(ts, str) and len(ts) >= 13 and ts[11:13].isdigit() and ts[10] in "Tt ":
        h = int(ts[11:13])
        return h if h < 24 else -1
    return -1


@dataclass(frozen=True, slots=True)
class Contribution:
    hour: int
    service: str
    counter: str
    measures: tuple
    sparse: tuple = ()     # the (index, value) of the measures other than 0, but wait_max: what a sum adds



def contribution(type_: Any, ts: Any, doc: Mapping[str, Any], targets: Any) -> Contribution | None:
    """What one event adds to the rollups; None for an event that is not a ticket's."""
    if type_ not in TICKET_TYPES:
        return None
    service = doc.get("service")
    service = service if isinstance(service, str) else ""
    counter = doc.get("counter")
    counter = "" if counter is None or isinstance(counter, bool) else str(counter)
    m = [0] * len(COUNTS) + [0.0] * len(SUMS) + [None]
    if type_ == "ticket.issued":
        sparse: tuple = ((0, 1),)
    elif type_ == "ticket.called":
        wait = _number(doc.get("wait_s"))
        if wait is None:
            sparse = ((1, 1),)
        else:
            within = int(wait <= target_of(targets, service))
            sparse = ((1, 1), (9, wait), (6, within))
            m[WAIT_MAX] = wait
    elif type_ == "ticket.finished":
        s = _number(doc.get("service_s"))
        sparse = ((2, 1),) if s is None else ((2, 1), (10, s), (7, 1))
    elif type_ == "ticket.noshow":
        sparse = ((3, 1),)
    else:
        score = _number(doc.get("score"))
        sparse = ((4, 1),) if score is None else ((4, 1), (11, score), (8, 1), (5, int(score >= SATISFIED_MIN)))
    for i, v in sparse:
        m[i] = v
    return Contribution(hour_of(ts), service, counter[:200], tuple(m), sparse)


def _merge(into: list, c: Contribution) -> None:
    for i, v in c.sparse:          # one to three measures an event: not all thirteen
        into[i] += v
    w = c.measures[WAIT_MAX]
    if w is not None and (into[WAIT_MAX] is None or w > into[WAIT_MAX]):
        into[WAIT_MAX] = w


class Sums:
    """Contributions added up per rollup key (one batch's worth)."""

    def __init__(self) -> None:
        self.hour: dict[tuple, list] = {}
        self.day: dict[tuple, list] = {}

    def add(self, branch: str, day: str, c: Contribution) -> None:
        key = (branch, day, c.hour, c.service, c.counter)
        cur = self.hour.get(key)
        if cur is None:
            self.hour[key] = list(c.measures)
        else:
            _merge(cur, c)
        key = (day, branch, c.service)
        cur = self.day.get(key)
        if cur is None:
            self.day[key] = list(c.measures)
        else:
            _merge(cur, c)

    def __bool__(self) -> bool:
        return bool(self.day)


def _upsert_sql(table: str, key: tuple[str, ...], dialect: str) -> str:
    cols = key + MEASURES
    biggest = "greatest" if dialect == "postgres" else "max"
    sets = [f"{m} = t.{m} + excluded.{m}" for m in COUNTS + SUMS]
    sets.append(f"wait_max = {biggest}(coalesce(t.wait_max, excluded.wait_max), coalesce(excluded.wait_max, t.wait_max))")
    return (f"INSERT INTO {table} AS t ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {', '.join(sets)}")


def _pg_staging(table: str) -> str:
    """A temporary twin of `table` that empties at each commit (PostgreSQL)."""
    return f"CREATE TEMPORARY TABLE IF NOT EXISTS {table}_in (LIKE {table}) ON COMMIT DELETE ROWS"


def _pg_upsert_sql(table: str, key: tuple[str, ...]) -> str:
    """As `_upsert_sql`, from the rows copied into the temporary twin, in key order (the order
    concurrent writers lock rows in)."""
    cols = ", ".join(key + MEASURES)
    values = _upsert_sql(table, key, "postgres")
    head, tail = values.split(" VALUES ", 1)
    return f"{head} SELECT {cols} FROM {table}_in ORDER BY {', '.join(key)} {tail.split(') ', 1)[1]}"


def upsert(conn: Any, sums: Sums) -> None:
    """Add `sums` to both rollup tables (inside the caller's transaction). On PostgreSQL the rows
    go in by COPY (formatted in psycopg's C code) into a temporary table, then one prepared upsert."""
    if not sums:
        return
    for table, key, part in (("rollup_hour", HOUR_KEY, sums.hour), ("rollup_day", DAY_KEY, sums.day)):
        rows = [(*k, *part[k]) for k in sorted(part)]
        if conn.dialect == "postgres":
            with conn.raw.cursor() as cur:
                if table not in conn.made:
                    cur.execute(_pg_staging(table))
                    conn.made.add(table)
                with cur.copy(f"COPY {table}_in ({', '.join(key + MEASURES)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                cur.execute(_pg_upsert_sql(table, key), prepare=True)
        else:
            conn.executemany(_upsert_sql(table, key, conn.dialect), rows)
