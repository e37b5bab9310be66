"""Sign-in throttling per key (a user or clerk id) and per client address, in a small SQLite file.

Failed sign-ins are rows of ``failures`` (scope ``id`` or ``address``, the key, the wall-clock
time), so a restart does not reset them. `max_id_failures` failures for one id within
`window_s` lock that id for `lockout_s` after the last one; `max_address_failures` from one
address lock the address the same way (many ids tried from one place). The file stays
bounded: rows older than the window are pruned at every failure, each key keeps only the
failures that count, and the whole table at most `max_rows` (the oldest go first). A lock that
would end further ahead than `lockout_s` (the clock went back) ends `lockout_s` from now.
Each call is a few milliseconds of SQLite: an async caller runs it off its event loop.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ID, ADDRESS = "id", "address"
_SCHEMA = ("CREATE TABLE IF NOT EXISTS failures (id INTEGER PRIMARY KEY, scope TEXT NOT NULL, key TEXT NOT NULL, "
           "ts REAL NOT NULL)",
           "CREATE INDEX IF NOT EXISTS failures_key ON failures (scope, key, ts)",
           "CREATE INDEX IF NOT EXISTS failures_ts ON failures (ts)")


@dataclass(frozen=True)
class Lockout:
    """Who is locked (`ID` or `ADDRESS`) and for how many more seconds."""

    scope: str
    retry_after_s: float


class SignInThrottle:
    """Counts failed sign-ins in `path` (created 0600 on first use) and says who is locked."""

    def __init__(self, path: str | Path, *, max_id_failures: int = 5, max_address_failures: int = 20,
                 window_s: float = 300.0, lockout_s: float = 60.0, max_rows: int = 20_000,
                 clock: Callable[[], float] = time.time) -> None:
        if min(max_id_failures, max_address_failures, max_rows) < 1 or not (0 < lockout_s <= window_s):
            raise ValueError("sign-in throttle: limits must be >= 1 and 0 < lockout_s <= window_s")
        self.path = Path(path)
        self.limits = {ID: max_id_failures, ADDRESS: max_address_failures}
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.max_rows = max_rows
        self.clock = clock
        self._lock = threading.Lock()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.touch(mode=0o600, exist_ok=True)
        self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        for sql in _SCHEMA:
            self._conn.execute(sql)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _keys(self, id_: str | None, address: str | None) -> list[tuple[str, str]]:
        return [(scope, key) for scope, key in ((ID, id_), (ADDRESS, address)) if key is not None]

    def lockout(self, id_: str | None, address: str | None) -> Lockout | None:
        """The lock on this id or this address, if either is locked now (the longer one)."""
        now = self.clock()
        worst: Lockout | None = None
        with self._lock:
            for scope, key in self._keys(id_, address):
                limit = self.limits[scope]
                rows = self._conn.execute("SELECT ts FROM failures WHERE scope = ? AND key = ? AND ts > ? "
                                          "ORDER BY ts DESC LIMIT ?", (scope, key, now - self.window_s, limit)).fetchall()
                if len(rows) < limit:
                    continue
                left = min(rows[0][0] + self.lockout_s - now, self.lockout_s)
                if left > 0 and (worst is None or left > worst.retry_after_s):
                    worst = Lockout(scope, left)
        return worst

    def failed(self, id_: str | None, address: str | None) -> None:
        now = self.clock()
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM failures WHERE ts <= ?", (now - self.window_s,))
                for scope, key in self._keys(id_, address):
                    self._conn.execute("INSERT INTO failures (scope, key, ts) VALUES (?, ?, ?)", (scope, key, now))
                    self._conn.execute("DELETE FROM failures WHERE scope = ? AND key = ? AND id NOT IN "
                                       "(SELECT id FROM failures WHERE scope = ? AND key = ? "
                                       "ORDER BY ts DESC, id DESC LIMIT ?)", (scope, key, scope, key, self.limits[scope]))
                excess = self._conn.execute("SELECT count(*) FROM failures").fetchone()[0] - self.max_rows
                if excess > 0:
                    self._conn.execute("DELETE FROM failures WHERE id IN "
                                       "(SELECT id FROM failures ORDER BY ts, id LIMIT ?)", (excess,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def succeeded(self, id_: str) -> None:
        """A right PIN clears the id's failures (not the address's)."""
        with self._lock:
            self._conn.execute("DELETE FROM failures WHERE scope = ? AND key = ?", (ID, id_))

    def rows(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM failures").fetchone()[0]


__all__ = ["ADDRESS", "ID", "Lockout", "SignInThrottle"]
