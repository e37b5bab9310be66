"""Migration 3: tickets learn how they were issued (`issued_via`) and rated (`rated_via`); the
tickets of an older database keep every value and read as issued and rated "by other means"."""
from __future__ import annotations

import sqlite3

from kiosk.storage.migrations import MIGRATIONS, _split_sql
from kiosk.storage.store import Store


def test_a_version_2_database_gains_the_columns_keeping_its_tickets(tmp_path):
    path = tmp_path / "kiosk.db"
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        for statement in _split_sql(script):
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute("INSERT INTO tickets (day, number, service, seq, state, issued_t, queued_t, issued_wall, counter, "
                 "finished_t, rating) VALUES ('2026-11-23', 'A001', 'A', 1, 'done', 1.0, 1.0, "
                 "'2026-11-23T09:00:00+08:00', 3, 300.0, 5)")
    conn.commit()
    conn.close()

    store = Store(path)
    try:
        assert store.schema_version >= 3
        columns = {r[1] for r in store.conn.execute("PRAGMA table_info(tickets)")}
        assert {"issued_via", "rated_via"} <= columns
        row = store.conn.execute("SELECT * FROM tickets").fetchone()
        assert (row["number"], row["state"], row["rating"], row["finished_t"]) == ("A001", "done", 5, 300.0)
        assert row["issued_via"] is None and row["rated_via"] is None
    finally:
        store.close()
