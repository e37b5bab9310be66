"""kiosk.hq.db: the same SQL with ``?`` on SQLite and on a real PostgreSQL."""
from __future__ import annotations

import pytest

from kiosk.hq.db import POSTGRES, SQLITE, open_db, shown, to_pyformat


def test_placeholders_become_pyformat_outside_quotes():
    assert to_pyformat("SELECT a FROM t WHERE b = ? AND c LIKE '%?%' AND d = ?") == \
        "SELECT a FROM t WHERE b = %s AND c LIKE '%%?%%' AND d = %s"
    assert to_pyformat("SELECT 5 % 2") == "SELECT 5 %% 2"


def test_a_url_is_shown_without_its_password():
    assert shown("postgresql://hq:s3cret@db.example:5432/hq") == "postgresql://hq:***@db.example:5432/hq"
    assert "s3cret" not in str(open_db("postgresql://hq:s3cret@db.example/hq"))
    assert shown("/var/lib/kiosk-hq/hq.db") == "/var/lib/kiosk-hq/hq.db"


def test_no_target_is_refused():
    with pytest.raises(ValueError, match="postgresql://"):
        open_db("")


def test_the_same_sql_runs_on_both(hq_db_target):
    db = open_db(hq_db_target)
    assert db.dialect == (POSTGRES if hq_db_target.startswith("postgresql://") else SQLITE)
    try:
        with db.connection() as c:
            c.executescript("CREATE TABLE IF NOT EXISTS t (id TEXT PRIMARY KEY, n INTEGER); "
                            "CREATE INDEX IF NOT EXISTS t_n ON t (n)")
            c.executemany("INSERT INTO t (id, n) VALUES (?, ?) ON CONFLICT DO NOTHING", [("a", 1), ("b", 2), ("a", 3)])
            assert c.execute("SELECT id, n FROM t WHERE n < ? AND id LIKE '%' ORDER BY id", (5,)).fetchall() == \
                [("a", 1), ("b", 2)]
            new = c.execute("INSERT INTO t (id, n) VALUES (?, ?), (?, ?) ON CONFLICT DO NOTHING RETURNING id",
                            ("a", 9, "c", 3)).fetchall()
            assert new == [("c",)]
    finally:
        db.close()


def test_a_transaction_is_all_or_nothing(hq_db_target):
    db = open_db(hq_db_target)
    try:
        with db.connection() as c:
            c.execute("CREATE TABLE t (id TEXT PRIMARY KEY)")
            with pytest.raises(Exception):  # noqa: B017 — each driver's own IntegrityError
                with c.transaction():
                    c.execute("INSERT INTO t (id) VALUES (?)", ("x",))
                    c.execute("INSERT INTO t (id) VALUES (?)", ("x",))
            assert c.execute("SELECT count(*) FROM t").fetchone()[0] == 0
            with c.transaction():
                c.execute("INSERT INTO t (id) VALUES (?)", ("y",))
            assert c.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    finally:
        db.close()


def test_a_read_only_connection_cannot_write(hq_db_target):
    db = open_db(hq_db_target)
    try:
        with db.connection() as c:
            c.execute("CREATE TABLE t (id TEXT)")
        ro = db.connect(read_only=True)
        try:
            with pytest.raises(Exception, match="(?i)read-only|readonly"):
                ro.execute("INSERT INTO t (id) VALUES (?)", ("x",))
        finally:
            ro.close()
    finally:
        db.close()
