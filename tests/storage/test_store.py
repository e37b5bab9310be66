"""The store's schema: a database written by an older kiosk is upgraded in place, keeping its
data; one written by a newer kiosk is refused with a message that says what to do."""
from __future__ import annotations

import sqlite3

import pytest

from kiosk.storage.migrations import MIGRATIONS, SCHEMA_VERSION, _split_sql
from kiosk.storage.store import Store, StoreError


def _database_at(path, version: int) -> None:
    conn = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        for statement in _split_sql(script):
            conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO outbox (id, type, ts, t, body) VALUES ('e1', 'ticket.issued', "
                 "'2026-11-23T09:00:00+08:00', 1.0, '{\"ticket\": \"A001\"}')")
    conn.commit()
    conn.close()


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_older_database_is_upgraded_keeping_its_events(tmp_path, version):
    path = tmp_path / "kiosk.db"
    _database_at(path, version)
    store = Store(path)
    try:
        assert store.schema_version == SCHEMA_VERSION
        assert [e.body["ticket"] for e in store.events_after(0)] == ["A001"]
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "device_fault" in tables
    finally:
        store.close()
    again = Store(path)                       # opening it again changes nothing
    try:
        assert again.schema_version == SCHEMA_VERSION and again.last_seq() == 1
    finally:
        again.close()


def test_database_of_a_newer_kiosk_is_refused(tmp_path):
    path = tmp_path / "kiosk.db"
    _database_at(path, SCHEMA_VERSION)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match=rf"schema version {SCHEMA_VERSION + 1}, newer than this kiosk.*upgrade"):
        Store(path)
    conn = sqlite3.connect(path)              # and nothing was touched
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert conn.execute("SELECT count(*) FROM outbox").fetchone()[0] == 1
    conn.close()
