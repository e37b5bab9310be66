"""The SQLite store: durable transactions and the outbox (the schema: `migrations`).

One file per branch in the data directory. WAL journal, ``synchronous=FULL`` by default:
what is committed survives a power cut. Every mutation of the queue is one
``BEGIN IMMEDIATE`` transaction, which also takes SQLite's write lock before anything is
read, so two processes sharing the file (the CLI next to a running kiosk) are serialised.
"""
from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from kiosk.domain.errors import StoreError
from kiosk.storage.migrations import SCHEMA_VERSION, apply_migrations

DB_FILENAME = "kiosk.db"
BUSY_TIMEOUT_S = 30.0



@dataclass(frozen=True)
class OutboxEvent:
    seq: int
    id: str
    type: str
    ts: str
    body: dict[str, Any]

    def as_message(self) -> dict[str, Any]:
        """The event as published: the body with `seq` filled in."""
        return {**self.body, "seq": self.seq}


class Store:
    """A connection to the branch database. Use from one thread (the command loop);
    other threads and processes open their own `Store` on the same file."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", readonly: bool = False) -> None:
        self.path = Path(path)
        if synchronous not in ("FULL", "NORMAL", "OFF", "EXTRA"):
            raise StoreError(f"store.synchronous must be FULL, NORMAL, OFF or EXTRA, not {synchronous!r}")
        try:
            if readonly:
                conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                       timeout=BUSY_TIMEOUT_S, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_S,
                                       check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            if not readonly:
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {synchronous}")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        self.conn = conn
        # no sqlite-utils plugins on the branch database: nothing installed beside the kiosk may change
        # its connection (and no scan of every installed package's entry points at start)
        self.db = sqlite_utils.Database(conn, execute_plugins=False)
        self._tx_lock = threading.RLock()
        if not readonly:
            self.migrate()

    # -- schema ---------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def migrate(self) -> None:
        """Bring the schema up to `SCHEMA_VERSION`, one transaction per step."""
        with self.transaction():
            version = self.schema_version
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this kiosk "
                    f"({SCHEMA_VERSION}): upgrade the kiosk software")
            apply_migrations(self.conn, version)

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """`BEGIN IMMEDIATE` … `COMMIT`; rolls back on any exception. Not re-entrant."""
        with self._tx_lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")

    # -- outbox ---------------------------------------------------------------------------
    def append_event(self, type_: str, ts: str, t: float, body: dict[str, Any]) -> OutboxEvent:
        """Append a domain event inside the caller's transaction; returns it with its `seq`."""
        if not self.conn.in_transaction:
            raise StoreError("append_event must run inside a transaction")
        event_id = str(uuid.uuid4())
        full = {"v": 1, "id": event_id, "type": type_, "ts": ts, **body}
        cur = self.conn.execute(
            "INSERT INTO outbox (id, type, ts, t, body) VALUES (?, ?, ?, ?, ?)",
            (event_id, type_, ts, t, json.dumps(full, ensure_ascii=False, separators=(",", ":"))))
        return OutboxEvent(cur.lastrowid, event_id, type_, ts, full)

    def events_after(self, seq: int, limit: int = 1000, *, undelivered_only: bool = False) -> list[OutboxEvent]:
        sql = "SELECT seq, id, type, ts, body FROM outbox WHERE seq > ?"
        if undelivered_only:
            sql += " AND delivered_at IS NULL"
        rows = self.conn.execute(sql + " ORDER BY seq LIMIT ?", (seq, limit)).fetchall()
        return [OutboxEvent(r["seq"], r["id"], r["type"], r["ts"], json.loads(r["body"])) for r in rows]

    def last_seq(self) -> int:
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
        return row[0] if row else 0

    def mark_delivered(self, seqs: Sequence[int], ts: str) -> None:
        if not seqs:
            return
        with self.transaction():
            self.conn.executemany("UPDATE outbox SET delivered_at = ? WHERE seq = ? AND delivered_at IS NULL",
                                  [(ts, s) for s in seqs])

    def mark_undelivered(self, first: int, last: int) -> dict[str, int | None]:
        """Publish the kept events `first`..`last` again (HQ's ``resend``): mark them undelivered.
        {"resent": kept events in the range, "first_kept": the oldest kept seq (None: none kept),
        "last_seq": the highest seq ever given}."""
        with self.transaction():
            self.conn.execute("UPDATE outbox SET delivered_at = NULL WHERE seq BETWEEN ? AND ? "
                              "AND delivered_at IS NOT NULL", (first, last))
            resent = self.conn.execute("SELECT count(*) FROM outbox WHERE seq BETWEEN ? AND ?",
                                       (first, last)).fetchone()[0]
            first_kept = self.conn.execute("SELECT min(seq) FROM outbox").fetchone()[0]
            return {"resent": resent, "first_kept": first_kept, "last_seq": self.last_seq()}

    def undelivered_upto(self, seq: int, limit: int) -> list[int]:
        """The first `limit` undelivered seqs that are ≤ `seq` (the drain looks for a resend behind it)."""
        rows = self.conn.execute("SELECT seq FROM outbox WHERE delivered_at IS NULL AND seq <= ? ORDER BY seq LIMIT ?",
                                 (seq, limit)).fetchall()
        return [r[0] for r in rows]

    def undelivered_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM outbox WHERE delivered_at IS NULL").fetchone()[0]

    def prune_delivered(self, before_t: float) -> int:
        """Delete delivered events recorded before hall time `before_t`. Undelivered ones stay."""
        with self.transaction():
            cur = self.conn.execute("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND t < ?", (before_t,))
            return cur.rowcount

    def close(self) -> None:
        self.conn.close()


def db_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / DB_FILENAME
