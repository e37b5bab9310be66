"""Login throttling per user name and per client address, kept in HQ's database.

Failed sign-ins are rows of ``hq_login_failures`` (scope ``name`` or ``address``, the key,
the wall-clock time), so neither a restart nor another node behind the same load balancer
resets them. `MAX_FAILURES` failures for one name within `WINDOW_S` lock that name for
`LOCKOUT_S` after the last one; `MAX_ADDRESS_FAILURES` from one address lock the address the
same way (many names tried from one place). The table stays bounded: rows older than the
window are pruned at every failure, each key keeps only the failures that count, and the
whole table at most `MAX_ROWS` (the oldest go first). Rows are told apart by their own
``id`` (an identity column on PostgreSQL, the rowid's alias on SQLite).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ContextManager

from kiosk.hq.db import POSTGRES, Conn

MAX_FAILURES = 5            # failed logins per name …
MAX_ADDRESS_FAILURES = 20   # … or per address …
WINDOW_S = 300.0            # … within this window lock it …
LOCKOUT_S = 60.0            # … for this long after the last failure
MAX_ROWS = 20_000           # the table never holds more

_ID = {"sqlite": "INTEGER PRIMARY KEY", POSTGRES: "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"}
_TABLE = ("CREATE TABLE IF NOT EXISTS hq_login_failures (id {id}, scope TEXT NOT NULL, key TEXT NOT NULL, "
          "ts DOUBLE PRECISION NOT NULL)")
_INDEXES = ("CREATE INDEX IF NOT EXISTS hq_login_failures_key ON hq_login_failures (scope, key, ts)",
            "CREATE INDEX IF NOT EXISTS hq_login_failures_ts ON hq_login_failures (ts)")


def create_schema(conn: Conn, columns: Callable[[str], set[str]]) -> None:
    """The failures table (inside the caller's transaction); a table of an older SQLite file, whose
    rows had no id of their own, is rebuilt with its rows. `columns(table)` names a table's columns."""
    old = columns("hq_login_failures")
    if old and "id" not in old:
        conn.execute("ALTER TABLE hq_login_failures RENAME TO hq_login_failures_v1")
        for name in ("hq_login_failures_key", "hq_login_failures_ts"):
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    conn.execute(_TABLE.format(id=_ID[conn.dialect]))
    if old and "id" not in old:
        conn.execute("INSERT INTO hq_login_failures (scope, key, ts) SELECT scope, key, ts FROM hq_login_failures_v1 "
                     "ORDER BY ts")
        conn.execute("DROP TABLE hq_login_failures_v1")
    for sql in _INDEXES:
        conn.execute(sql)


@dataclass(frozen=True)
class Lockout:
    """Who is locked (``name`` or ``address``) and for how many more seconds."""

    scope: str
    retry_after_s: float


class LoginThrottle:
    """Counts failures and says who is locked; `connection()` lends a `Conn` (as `Users.connection`)."""

    def __init__(self, connection: Callable[[], ContextManager[Conn]], *,
                 clock: Callable[[], float] = time.time) -> None:
        self.connection = connection
        self.clock = clock

    def _limits(self) -> tuple[tuple[str, int], ...]:
        return (("name", MAX_FAILURES), ("address", MAX_ADDRESS_FAILURES))

    def lockout(self, name: str | None, address: str | None, now: float | None = None) -> Lockout | None:
        """The lock on this name or this address, if either is locked now."""
        now = self.clock() if now is None else now
        worst: Lockout | None = None
        with self.connection() as conn:
            for (scope, limit), key in zip(self._limits(), (name, address)):
                if key is None:
                    continue
                rows = conn.execute("SELECT ts FROM hq_login_failures WHERE scope = ? AND key = ? AND ts > ? "
                                    "ORDER BY ts DESC LIMIT ?", (scope, key, now - WINDOW_S, limit)).fetchall()
                if len(rows) >= limit and now - rows[0][0] < LOCKOUT_S:
                    left = rows[0][0] + LOCKOUT_S - now
                    if worst is None or left > worst.retry_after_s:
                        worst = Lockout(scope, left)
        return worst

    def failed(self, name: str | None, address: str | None) -> None:
        now = self.clock()
        with self.connection() as conn, conn.transaction():
            conn.execute("DELETE FROM hq_login_failures WHERE ts <= ?", (now - WINDOW_S,))
            for (scope, limit), key in zip(self._limits(), (name, address)):
                if key is None:
                    continue
                conn.execute("INSERT INTO hq_login_failures (scope, key, ts) VALUES (?, ?, ?)", (scope, key, now))
                conn.execute("DELETE FROM hq_login_failures WHERE scope = ? AND key = ? AND id NOT IN "
                             "(SELECT id FROM hq_login_failures WHERE scope = ? AND key = ? "
                             "ORDER BY ts DESC, id DESC LIMIT ?)", (scope, key, scope, key, limit))
            excess = conn.execute("SELECT count(*) FROM hq_login_failures").fetchone()[0] - MAX_ROWS
            if excess > 0:
                conn.execute("DELETE FROM hq_login_failures WHERE id IN "
                             "(SELECT id FROM hq_login_failures ORDER BY ts, id LIMIT ?)", (excess,))

    def succeeded(self, name: str) -> None:
        """A right password clears the name's failures (not the address's)."""
        with self.connection() as conn:
            conn.execute("DELETE FROM hq_login_failures WHERE scope = 'name' AND key = ?", (name,))

    def rows(self) -> int:
        with self.connection() as conn:
            return conn.execute("SELECT count(*) FROM hq_login_failures").fetchone()[0]


__all__ = ["LOCKOUT_S", "MAX_ADDRESS_FAILURES", "MAX_FAILURES", "MAX_ROWS", "WINDOW_S", "Lockout", "LoginThrottle",
           "create_schema"]
