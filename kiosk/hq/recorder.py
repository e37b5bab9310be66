"""The HQ recording: every event once, per (branch, id), with its rollups; and its CSV export.

`Recorder` writes on its own thread, batched: one transaction every ``batch_ms`` milliseconds or
``batch_events`` events, so the MQTT thread only parses and appends. A batch inserts its events
with ``INSERT … ON CONFLICT DO NOTHING RETURNING`` and adds to the rollups
(`kiosk.hq.rollups`) the contributions of the rows actually inserted, in the same transaction:
several recorders (HQ nodes) writing the same events to one PostgreSQL store and count each
once. A contribution is computed when the event is added, from its parsed body and the
branch's targets then (`targets_of(branch) -> {service: s}`). A batch that fails is written
again row by row, so a row the database refuses costs that row only (counted in `failed`,
logged with its branch and id); the writer thread survives anything. On PostgreSQL the day
partitions are made as needed (`kiosk.hq.partitions`); with ``keep_days`` the writer drops old
events at most hourly. `export_csv()` writes a recording as CSV.
"""
from __future__ import annotations

import csv
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from kiosk.hq import rollups
from kiosk.hq.db import Db, to_pyformat
from kiosk.hq.events_schema import EVENT_COLUMNS, as_db, ensure_schema_on
from kiosk.hq.ingest import Event
from kiosk.hq.partitions import Partitions, prune

log = logging.getLogger(__name__)

# PostgreSQL: a batch is copied into a temporary table (COPY: each row formatted in psycopg's C
# code), then inserted from it with one prepared statement; the table empties at each commit
_PG_STAGING = ("CREATE TEMPORARY TABLE IF NOT EXISTS events_in (id TEXT, branch TEXT, seq BIGINT, type TEXT, "
               "ts TEXT, day TEXT, body TEXT, received TEXT) ON COMMIT DELETE ROWS")
_PG_COPY = f"COPY events_in ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
_PG_FROM_STAGING = (f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) SELECT {', '.join(EVENT_COLUMNS)} FROM events_in "
                    "ON CONFLICT DO NOTHING RETURNING day, branch, id")
CHUNK_ROWS = 500          # events per INSERT statement (8 values each: within both databases' limits)
PRUNE_EVERY_S = 3600.0
_FROM_BODY = object()     # the contribution is computed from the row's body by the writer (`add`)


def no_targets(branch: str) -> dict[str, float]:
    return {}


def _event_row(row: tuple) -> tuple:
    """(id, branch, seq, type, ts, day, body) with the day filled in from ts; ValueError if malformed."""
    if not isinstance(row, tuple) or len(row) != 7:
        raise ValueError(f"an event row has 7 values (id, branch, seq, type, ts, day, body), not {str(row)[:100]}")
    id_, branch, seq, type_, ts, day, body = row
    if day is None:
        day = ts[:10] if isinstance(ts, str) else ""
    return id_, branch, seq, type_, ts, day, body


def _from_body(row: tuple, targets: Any) -> rollups.Contribution | None:
    if row[3] not in rollups.TICKET_TYPES:
        return None
    try:
        doc = json.loads(row[6])
    except (TypeError, ValueError):
        return None
    return rollups.contribution(row[3], row[4], doc if isinstance(doc, dict) else {}, targets)


class Recorder:
    """Batched, idempotent event store with rollups (see the module's docstring)."""

    def __init__(self, db: Db | str | Path, *, batch_ms: float = 200, batch_events: int = 5000,
                 keep_days: int | None = None) -> None:
        self.db, self._own_db = as_db(db)
        self.conn = self.db.connect()
        ensure_schema_on(self.conn)
        self.targets_of: Callable[[str], Any] = no_targets
        self.keep_days = keep_days
        self.partitions = Partitions(keep_days) if self.db.dialect == "postgres" else None
        self.batch_s = batch_ms / 1000.0
        self.batch_events = batch_events
        self._pending: deque[tuple] = deque()  # append (MQTT thread) / popleft (writer): thread-safe
        self._cond = threading.Condition()
        self._stop = False
        self._pruned_at = float("-inf")
        self.received = 0
        self.inserted = 0
        self.written_batches = 0
        self.failed = 0            # rows that could not be stored (each logged)
        self._flushed = 0
        self._thread = threading.Thread(target=self._run, name="hq-recorder", daemon=True)
        self._thread.start()

    @property
    def path(self) -> Path | None:
        return self.db.path

    def add_event(self, branch: str, ev: Event, payload: bytes) -> None:
        """Queue a checked event of `branch` (its contribution to the rollups computed now)."""
        try:
            contrib = rollups.contribution(ev.type, ev.ts, ev.doc, self.targets_of(branch))
        except Exception:  # noqa: BLE001 — a broken targets_of must not lose the event
            log.exception("the rollup of event %s of branch %s", ev.id, branch)
            contrib = rollups.contribution(ev.type, ev.ts, ev.doc, {})
        body = payload.decode("utf-8", "replace")
        self._queue(((ev.id, branch, ev.seq, ev.type, ev.ts, ev.day or ev.ts[:10], body), contrib))

    def add(self, row: tuple) -> None:
        """Queue one event row (id, branch, seq, type, ts, day, body), for tools: its rollup contribution
        is read from the body (JSON) by the writer."""
        self._queue((row, _FROM_BODY))

    def _queue(self, item: tuple) -> None:
        self._pending.append(item)
        self.received += 1
        if len(self._pending) == self.batch_events:
            with self._cond:
                self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                if len(self._pending) < self.batch_events and not self._stop:
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
            self._maybe_prune()
            with self._cond:
                self._flushed += len(batch)
                self._cond.notify_all()
                if stop and not self._pending:
                    return

    def _prepare(self, batch: list[tuple]) -> list[tuple]:
        """(row, contribution) for every well-formed item; a malformed one is counted and logged."""
        out = []
        for row, contrib in batch:
            try:
                row = _event_row(row)
                if contrib is _FROM_BODY:
                    contrib = _from_body(row, self.targets_of(row[1]))
            except Exception as exc:  # noqa: BLE001
                self.failed += 1
                log.error("could not record the event row %s: %s", str(row)[:200], exc)
                continue
            out.append((row, contrib))
        return out

    def _write(self, batch: list[tuple]) -> None:
        """The batch in one transaction; if that fails, row by row."""
        items = self._prepare(batch)
        if not items:
            return
        received = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        items.sort(key=lambda it: (str(it[0][5]), str(it[0][1]), str(it[0][0])))   # one lock order for every node
        if self.partitions is not None:
            try:
                self.partitions.ensure(self.conn, {r[5] for r, _ in items if isinstance(r[5], str)})
            except Exception:  # noqa: BLE001 — without its partition a day goes to the default one
                log.exception("making the day partitions of a batch")
        try:
            self.inserted += self._insert(items, received)
        except Exception as exc:  # noqa: BLE001 — a database error, or a value the database cannot bind
            log.warning("recording a batch of %d events failed (%s): writing them one by one", len(items), exc)
            self._write_rows(items, received)
            return
        self.written_batches += 1

    def _insert(self, items: list[tuple], received: str) -> int:
        """Insert `items` and add the inserted rows' contributions to the rollups, in one transaction."""
        conn = self.conn
        contribs = {}
        for row, contrib in items:
            if contrib is not None:
                contribs.setdefault((str(row[5]), str(row[1]), str(row[0])), contrib)
        inserted = 0
        sums = rollups.Sums()
        with conn.transaction():
            for done in self._insert_events(items, received):
                inserted += len(done)
                for key in done:
                    c = contribs.get((str(key[0]), str(key[1]), str(key[2])))
                    if c is not None:
                        sums.add(key[1], key[0], c)
            rollups.upsert(conn, sums)
        return inserted

    def _insert_events(self, items: list[tuple], received: str) -> Iterable[list[tuple]]:
        """Insert the events, in chunks; each chunk's inserted rows as (day, branch, id).
        PostgreSQL gets the whole batch by COPY into a temporary table and one prepared INSERT from
        it: a multi-row INSERT text of thousands of placeholders was parsed again by psycopg for
        every batch (a tenth of a node's CPU under py-spy), and array parameters were dumped in
        Python (a third of the writer's CPU)."""
        conn = self.conn
        if conn.dialect == "postgres":
            with conn.raw.cursor() as cur:
                if "events" not in conn.made:
                    cur.execute(_PG_STAGING)
                    conn.made.add("events")
                with cur.copy(_PG_COPY) as copy:       # rows formatted by psycopg's C code
                    for row, _ in items:
                        copy.write_row((*row, received))
                yield cur.execute(_PG_FROM_STAGING, prepare=True).fetchall()
            return
        for i in range(0, len(items), CHUNK_ROWS):
            chunk = items[i:i + CHUNK_ROWS]
            params = [v for row, _ in chunk for v in (*row, received)]
            values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
            yield conn.execute(f"INSERT INTO events ({', '.join(EVENT_COLUMNS)}) VALUES {values} "
                               "ON CONFLICT DO NOTHING RETURNING day, branch, id", params).fetchall()

    def _write_rows(self, items: list[tuple], received: str) -> None:
        for item in items:
            try:
                self.inserted += self._insert([item], received)
            except Exception as exc:  # noqa: BLE001
                self.failed += 1
                row = item[0]
                log.error("could not record the event of branch %s, id %s: %s", str(row[1])[:80], str(row[0])[:80], exc)
        self.written_batches += 1

    def _maybe_prune(self) -> None:
        if self.keep_days is None or time.monotonic() - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = time.monotonic()
        try:
            n = prune(self.conn, self.keep_days)
            if n:
                log.info("dropped the events older than %d days (%d)", self.keep_days, n)
        except Exception:  # noqa: BLE001
            log.exception("dropping the events older than %d days", self.keep_days)

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
        if self._own_db:
            self.db.close()

    @property
    def duplicates(self) -> int:
        return self.received - self.inserted


def record_events(db: Db | str | Path, events: Iterable[dict[str, Any]],
                  targets_of: Callable[[str], Any] = no_targets) -> int:
    """Store already-parsed events (idempotent); returns how many were new. For tools and tests."""
    rec = Recorder(db)
    rec.targets_of = targets_of
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


def export_csv(db: Db | str | Path, out: str | Path | TextIO, *, branch: str | None = None) -> int:
    """Write the recorded events as CSV (ordered by branch, seq), every text cell neutralised
    (`csv_cell`); returns the number of rows. An SQLite file that does not exist is FileNotFoundError."""
    d, own_db = as_db(db)
    if d.path is not None and not d.path.exists():
        raise FileNotFoundError(f"no recording at {d.path}")
    sql = f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"
    params: tuple = ()
    if branch:
        sql += " WHERE branch = ?"
        params = (branch,)
    sql += " ORDER BY branch, seq, id"
    conn = d.connect(read_only=True)
    try:
        own = not hasattr(out, "write")
        f = open(out, "w", newline="", encoding="utf-8") if own else out  # noqa: SIM115
        try:
            w = csv.writer(f)
            w.writerow(EVENT_COLUMNS)
            if conn.dialect == "postgres":
                with conn.transaction(), conn.raw.cursor(name="hq_export") as cur:   # streamed, not all in memory
                    cur.itersize = 5000
                    cur.execute(to_pyformat(sql), params or None)
                    return _write_rows(w, cur)
            return _write_rows(w, conn.execute(sql, params))
        finally:
            if own:
                f.close()
    finally:
        conn.close()
        if own_db:
            d.close()


def _write_rows(w: Any, rows: Iterable[tuple]) -> int:
    n = 0
    for r in rows:
        w.writerow([csv_cell(v) for v in r])
        n += 1
    return n
