"""The HQ recording: every event in SQLite, idempotent by event id, and its CSV export.

`Recorder` stores events with ``INSERT OR IGNORE`` on the primary key, batched: one
transaction every ``batch_ms`` milliseconds or ``batch_events`` events, on its own thread, so
the MQTT thread only parses and appends. A batch that fails is written again row by row, so
a row SQLite refuses costs that row only (counted in `failed`, logged with its branch and id),
never the other branches' events around it; the writer thread survives anything a batch
raises. `export_csv()` writes a recording as CSV.
"""
from __future__ import annotations

import csv
import json
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

import sqlite_utils

log = logging.getLogger(__name__)

EVENT_COLUMNS = ("id", "branch", "seq", "type", "ts", "day", "body", "received")


def open_record_db(path: str | Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    db = sqlite_utils.Database(conn, execute_plugins=False)   # see kiosk/storage/store.py
    db["events"].create({"id": str, "branch": str, "seq": int, "type": str, "ts": str, "day": str, "body": str,
                         "received": str}, pk="id", not_null={"id", "branch", "body"}, if_not_exists=True)
    db["events"].create_index(["branch", "seq"], if_not_exists=True)
    db["events"].create_index(["type"], if_not_exists=True)
    return db


class Recorder:
    """Batched, idempotent event store (``INSERT OR IGNORE`` on the event id)."""

    def __init__(self, path: str | Path, *, batch_ms: float = 200, batch_events: int = 5000) -> None:
        self.path = Path(path)
        self.db = open_record_db(self.path)
        self.conn: sqlite3.Connection = self.db.conn
        self.batch_s = batch_ms / 1000.0
        self.batch_events = batch_events
        self._pending: deque[tuple] = deque()  # append (MQTT thread) / popleft (writer): thread-safe
        self._cond = threading.Condition()
        self._stop = False
        self.received = 0
        self.inserted = 0
        self.written_batches = 0
        self.failed = 0            # rows that could not be stored (each logged)
        self._flushed = 0
        self._thread = threading.Thread(target=self._run, name="hq-recorder", daemon=True)
        self._thread.start()

    def add(self, row: tuple) -> None:
        """Queue one event row (id, branch, seq, type, ts, day, body). Called from one thread."""
        self._pending.append(row)
        self.received += 1
        if len(self._pending) == self.batch_events:
            with self._cond:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._pending and not self._stop:
                    self._cond.wait(self.batch_s)
                elif len(self._pending) < self.batch_events and not self._stop:
                    self._cond.wait(self.batch_s)
                stop = self._stop
            pending = self._pending
            batch = [pending.popleft() for _ in range(len(pending))]
            if batch:
                try:
                    self._write(batch)
                except Exception:  # noqa: BLE001 — the writer thread must outlive any batch
                    log.exception("recording a batch of %d events failed", len(batch))
                    self.failed += len(batch)
            with self._cond:
                self._flushed += len(batch)
                self._cond.notify_all()
                if stop and not self._pending:
                    return

    _INSERT = ("INSERT OR IGNORE INTO events (id, branch, seq, type, ts, day, body, received) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)")

    def _write(self, batch: list[tuple]) -> None:
        """The batch in one transaction; if that fails, row by row."""
        received = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        conn = self.conn
        before = conn.total_changes
        try:
            conn.execute("BEGIN")
            conn.executemany(self._INSERT, [(*r, received) for r in batch])
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 — sqlite3.Error, or a value SQLite cannot bind
            self._rollback()
            log.warning("recording a batch of %d events failed (%s): writing them one by one", len(batch), exc)
            self._write_rows(batch, received)
            return
        self.inserted += conn.total_changes - before
        self.written_batches += 1

    def _write_rows(self, batch: list[tuple], received: str) -> None:
        conn = self.conn
        for row in batch:
            before = conn.total_changes
            try:
                conn.execute(self._INSERT, (*row, received))
            except Exception as exc:  # noqa: BLE001
                self._rollback()
                self.failed += 1
                what = f"branch {row[1]!r}, id {row[0]!r}" if isinstance(row, tuple) and len(row) > 1 else repr(row)
                log.error("could not record the event of %s: %s", str(what)[:200], exc)
                continue
            self.inserted += conn.total_changes - before
        self.written_batches += 1

    def _rollback(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rolling back a failed batch")

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every event added so far is written."""
        deadline = time.monotonic() + timeout
        with self._cond:
            target = self.received
            self._cond.notify()
            while self._flushed < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(30)
        self.conn.close()

    @property
    def duplicates(self) -> int:
        return self.received - self.inserted


def record_events(path: str | Path, events: Iterable[dict[str, Any]]) -> int:
    """Store already-parsed events (idempotent); returns how many were new. For tools and tests."""
    rec = Recorder(path)
    try:
        for ev in events:
            rec.add((ev["id"], ev.get("branch", ""), ev.get("seq"), ev.get("type"), ev.get("ts"), ev.get("day"),
                     json.dumps(ev, ensure_ascii=False, separators=(",", ":"))))
        rec.flush()
        return rec.inserted
    finally:
        rec.close()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula (it starts with = + - @, a tab or a carriage
    return: OWASP "CSV injection") gets a leading single quote and is shown as text; other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(db_path: str | Path, out: str | Path | TextIO, *, branch: str | None = None) -> int:
    """Write the recorded events as CSV (ordered by branch, seq), every text cell neutralised
    (`csv_cell`); returns the number of rows."""
    if not Path(db_path).exists():
        raise FileNotFoundError(f"no recording at {db_path}")
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"
        params: tuple = ()
        if branch:
            sql += " WHERE branch = ?"
            params = (branch,)
        sql += " ORDER BY branch, seq, id"
        rows = conn.execute(sql, params)
        own = not hasattr(out, "write")
        f = open(out, "w", newline="", encoding="utf-8") if own else out  # noqa: SIM115
        try:
            w = csv.writer(f)
            w.writerow(EVENT_COLUMNS)
            n = 0
            for r in rows:
                w.writerow([csv_cell(v) for v in r])
                n += 1
        finally:
            if own:
                f.close()
        return n
    finally:
        conn.close()
