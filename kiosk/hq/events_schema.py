"""The events side of HQ's database: the ``events`` table and the rollups, made or migrated.

``events(id, branch, seq, type, ts, day, body, received)``: an event is unique per (branch, id),
so a branch cannot take another's event ids; ``day`` is the event's business day, else the
date part of its ``ts`` (never NULL). On PostgreSQL the table is partitioned by range of day
(primary key (day, branch, id), a DEFAULT partition; the day partitions are made by
`kiosk.hq.partitions`); on SQLite the primary key is (branch, id). Index (branch, seq) on both.

`ensure_schema(db)` makes what is missing. An SQLite file of the first recorder (primary key
id only) is rebuilt in place, in one transaction; whenever the rollup tables are new and events
are stored already, the rollups are filled from them (the default target, 600 s, for `within`).
On PostgreSQL two nodes starting together take turns (an advisory lock).
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from kiosk.hq import rollups
from kiosk.hq.db import Conn, Db, open_db

log = logging.getLogger(__name__)

EVENT_COLUMNS = ("id", "branch", "seq", "type", "ts", "day", "body", "received")
_SQLITE_EVENTS = ("CREATE TABLE IF NOT EXISTS {name} (id TEXT NOT NULL, branch TEXT NOT NULL, seq INTEGER, type TEXT, "
                  "ts TEXT, day TEXT NOT NULL, body TEXT NOT NULL, received TEXT, PRIMARY KEY (branch, id))")
_SQLITE_INDEXES = ("CREATE INDEX IF NOT EXISTS events_branch_seq ON events (branch, seq);"
                   "CREATE INDEX IF NOT EXISTS events_day ON events (day)")
_POSTGRES = ('CREATE TABLE IF NOT EXISTS events (id TEXT NOT NULL, branch TEXT NOT NULL, seq BIGINT, type TEXT, ts TEXT, '
             'day TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL, received TEXT, PRIMARY KEY (day, branch, id)) '
             "PARTITION BY RANGE (day);"
             "CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;"
             "CREATE INDEX IF NOT EXISTS events_branch_seq ON events (branch, seq)")
_SCHEMA_LOCK = 0x6B696F736B      # the advisory lock id of schema changes ("kiosk")


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _tables(conn: Conn) -> set[str]:
    if conn.dialect == "postgres":
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {r[0] for r in conn.execute(sql).fetchall()}


def _old_sqlite_events(conn: Conn) -> bool:
    """True for the first recorder's table (primary key id only)."""
    pk = [r[1] for r in sorted(conn.execute("PRAGMA table_info(events)").fetchall(), key=lambda r: r[5]) if r[5]]
    return pk == ["id"]


def _migrate_sqlite_events(conn: Conn) -> None:
    """Rebuild the first recorder's events table with the (branch, id) key (inside a transaction)."""
    conn.execute(_SQLITE_EVENTS.format(name="events_rebuilt"))
    conn.execute("INSERT INTO events_rebuilt (id, branch, seq, type, ts, day, body, received) "
                 "SELECT id, branch, seq, type, ts, coalesce(day, substr(ts, 1, 10), ''), body, received FROM events")
    conn.execute("DROP TABLE events")
    conn.execute("ALTER TABLE events_rebuilt RENAME TO events")


def backfill(conn: Conn) -> int:
    """Fill the rollups from the stored events (inside a transaction); the events counted."""
    sums = rollups.Sums()
    marks = ",".join("?" * len(rollups.TICKET_TYPES))
    n = 0
    for branch, type_, ts, day, body in conn.execute(
            f"SELECT branch, type, ts, day, body FROM events WHERE type IN ({marks})", rollups.TICKET_TYPES):
        try:
            doc = json.loads(body)
        except (TypeError, ValueError):
            continue
        c = rollups.contribution(type_, ts, doc if isinstance(doc, dict) else {}, {})
        if c is not None:
            sums.add(branch, day, c)
            n += 1
    rollups.upsert(conn, sums)
    return n


def ensure_schema_on(conn: Conn) -> None:
    """Make (or migrate) the events table and the rollups through `conn`."""
    with conn.transaction():
        if conn.dialect == "postgres":
            conn.execute("SELECT pg_advisory_xact_lock(?)", (_SCHEMA_LOCK,))
        before = _tables(conn)
        if conn.dialect == "postgres":
            script = _POSTGRES
        else:
            if "events" in before and _old_sqlite_events(conn):
                log.info("migrating the events table to the (branch, id) key")
                _migrate_sqlite_events(conn)
            script = _SQLITE_EVENTS.format(name="events") + ";" + _SQLITE_INDEXES
        for stmt in _statements(script) + _statements(rollups.SCHEMA):
            conn.execute(stmt)
        if "events" in before and not {"rollup_hour", "rollup_day"} <= before:
            log.info("filled the rollups from %d stored events", backfill(conn))


def ensure_schema(db: Db | str | Path) -> None:
    """Make (or migrate) everything the events side needs in `db`."""
    d, own = as_db(db)
    try:
        conn = d.connect()
        try:
            ensure_schema_on(conn)
        finally:
            conn.close()
    finally:
        if own:
            d.close()


def as_db(db: Db | str | Path) -> tuple[Db, bool]:
    """`db` as a `Db`, and whether the caller opened it (and closes it)."""
    return (db, False) if isinstance(db, Db) else (open_db(db), True)
