"""Which HQ node repairs gaps: on PostgreSQL the one holding an advisory lock, on SQLite the one.

The lock is held by a connection of its own: if the node dies (or its connection breaks) the
server releases it and another node's next `Leadership.held()` takes it over.
"""
from __future__ import annotations

import logging

from kiosk.hq.db import Conn, Db

log = logging.getLogger(__name__)

GAP_LOCK = 0x6B67617073  # "kgaps": the advisory lock id of gap repair


class Leadership:
    def __init__(self, db: Db) -> None:
        self.db = db
        self._conn: Conn | None = None
        self._held = db.dialect == "sqlite"

    def held(self) -> bool:
        """True while this node is the one that asks (tries to take the lock when it is not)."""
        if self.db.dialect == "sqlite":
            return True
        try:
            if self._conn is None:
                self._conn = self.db.connect()
                self._held = False
            if self._held:
                self._conn.execute("SELECT 1").fetchone()   # the lock lives as long as this connection
            else:
                self._held = bool(self._conn.execute("SELECT pg_try_advisory_lock(?)", (GAP_LOCK,)).fetchone()[0])
                if self._held:
                    log.info("this node now repairs the branches' gaps (advisory lock %#x)", GAP_LOCK)
        except Exception as exc:  # noqa: BLE001 — a broken connection: the lock is gone with it
            log.warning("gap repair lock: %s", exc)
            self.release()
        return self._held

    def release(self) -> None:
        self._held = self.db.dialect == "sqlite"
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # noqa: BLE001
                pass
            self._conn = None
