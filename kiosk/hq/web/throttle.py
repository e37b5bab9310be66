"""Login throttling per user name and per client address, kept in the database.

Failed sign-ins are rows of ``hq_login_failures`` (scope ``name`` or ``address``, the key,
the wall-clock time), so a restart does not reset them. `MAX_FAILURES` failures for one name
within `WINDOW_S` lock that name for `LOCKOUT_S` after the last one; `MAX_ADDRESS_FAILURES`
from one address lock the address the same way (many names tried from one place). The
table stays bounded: rows older than the window are pruned at every failure, each key keeps
only the failures that count, and the whole table at most `MAX_ROWS` (the oldest go first).
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_FAILURES = 5            # failed logins per name …
MAX_ADDRESS_FAILURES = 20   # … or per address …
WINDOW_S = 300.0            # … within this window lock it …
LOCKOUT_S = 60.0            # … for this long after the last failure
MAX_ROWS = 20_000           # the table never holds more

SCHEMA = """
CREATE TABLE IF NOT EXISTS hq_login_failures (scope TEXT NOT NULL, key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX IF NOT EXISTS hq_login_failures_key ON hq_login_failures (scope, key, ts);
CREATE INDEX IF NOT EXISTS hq_login_failures_ts ON hq_login_failures (ts);
"""


@dataclass(frozen=True)
class Lockout:
    """Who is locked (``name`` or ``address``) and for how many more seconds."""

    scope: str
    retry_after_s: float


class LoginThrottle:
    def __init__(self, conn: sqlite3.Connection, lock: threading.Lock, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.conn = conn
        self.lock = lock
        self.clock = clock
        conn.executescript(SCHEMA)

    def _limits(self) -> tuple[tuple[str, int], ...]:
        return (("name", MAX_FAILURES), ("address", MAX_ADDRESS_FAILURES))

    def lockout(self, name: str | None, address: str | None, now: float | None = None) -> Lockout | None:
        """The lock on this name or this address, if either is locked now."""
        now = self.clock() if now is None else now
        worst: Lockout | None = None
        with self.lock:
            for (scope, limit), key in zip(self._limits(), (name, address)):
                if key is None:
                    continue
                rows = self.conn.execute("SELECT ts FROM hq_login_failures WHERE scope = ? AND key = ? AND ts > ? "
                                         "ORDER BY ts DESC LIMIT ?", (scope, key, now - WINDOW_S, limit)).fetchall()
                if len(rows) >= limit and now - rows[0][0] < LOCKOUT_S:
                    left = rows[0][0] + LOCKOUT_S - now
                    if worst is None or left > worst.retry_after_s:
                        worst = Lockout(scope, left)
        return worst

    def failed(self, name: str, address: str | None) -> None:
        now = self.clock()
        with self.lock:
            self.conn.execute("DELETE FROM hq_login_failures WHERE ts <= ?", (now - WINDOW_S,))
            for (scope, limit), key in zip(self._limits(), (name, address)):
                if key is None:
                    continue
                self.conn.execute("INSERT INTO hq_login_failures (scope, key, ts) VALUES (?, ?, ?)", (scope, key, now))
                self.conn.execute("DELETE FROM hq_login_failures WHERE scope = ? AND key = ? AND rowid NOT IN "
                                  "(SELECT rowid FROM hq_login_failures WHERE scope = ? AND key = ? "
                                  "ORDER BY ts DESC LIMIT ?)", (scope, key, scope, key, limit))
            excess = self.conn.execute("SELECT count(*) FROM hq_login_failures").fetchone()[0] - MAX_ROWS
            if excess > 0:
                self.conn.execute("DELETE FROM hq_login_failures WHERE rowid IN "
                                  "(SELECT rowid FROM hq_login_failures ORDER BY ts LIMIT ?)", (excess,))

    def succeeded(self, name: str) -> None:
        """A right password clears the name's failures (not the address's)."""
        with self.lock:
            self.conn.execute("DELETE FROM hq_login_failures WHERE scope = 'name' AND key = ?", (name,))

    def rows(self) -> int:
        with self.lock:
            return self.conn.execute("SELECT count(*) FROM hq_login_failures").fetchone()[0]
