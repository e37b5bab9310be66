"""One durable command: a ``BEGIN IMMEDIATE`` transaction with hall time, wall time and the
business day, the outbox events it emits, and what happens to them once committed.

`Transactions.open()` rolls the business day over when it is due, then yields a `Tx`;
`emit(tx, …)` appends an outbox event inside it. After the commit the events go to the
estimator feed, then to every listener, in the committing thread. When another connection
committed since our last look (``PRAGMA data_version``), the feed catches up first and the
cached business day is read again.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kiosk.config.settings import Settings
from kiosk.domain.clock import Clock
from kiosk.domain.model import EventType
from kiosk.domain.timeline import HallTime
from kiosk.engine.business_day import current_day, due_day, start_day
from kiosk.engine.estimation import EstimatorFeed
from kiosk.storage.store import OutboxEvent, Store

Listener = Callable[[list[OutboxEvent]], None]


@dataclass
class Tx:
    """What one command sees: the connection, hall time, wall time and the business day."""

    conn: sqlite3.Connection
    now: float
    wall: datetime
    day: str
    events: list[OutboxEvent] = field(default_factory=list)


class Transactions:
    """Opens the engine's transactions and delivers their events after each commit."""

    def __init__(self, store: Store, clock: Clock, time: HallTime, settings: Settings,
                 feed: EstimatorFeed) -> None:
        self.store = store
        self.clock = clock
        self.time = time
        self.settings = settings
        self.feed = feed
        self._data_version: int | None = None   # PRAGMA data_version at our last commit
        self._day: str | None = None            # the business day as of our last commit
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """`listener(events)` runs after each commit, in the committing thread."""
        self._listeners.append(listener)

    @contextmanager
    def open(self) -> Iterator[Tx]:
        """One durable command: hall time, the business day, rollover check, events after commit."""
        with self.store.transaction() as conn:
            now = self.time.now()
            wall = self.clock.wall()
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            if version != self._data_version:   # another connection committed since we last looked
                self.feed.catch_up(self.store.conn)
                self._day = None
            tx = Tx(conn, now, wall, self._day or current_day(conn, self.clock, self.settings))
            self.roll_over(tx)
            yield tx
            self.time.record(now)
        self._data_version, self._day = version, tx.day
        for ev in tx.events:
            self.feed.observe(ev)
        if tx.events:
            for listener in list(self._listeners):
                listener(tx.events)

    def emit(self, tx: Tx, type_: EventType | str, **body: Any) -> OutboxEvent:
        """Append an outbox event (with the branch and the business day) inside `tx`."""
        body = {"branch": self.settings.branch.id, "day": tx.day, **body}
        ev = self.store.append_event(str(type_), tx.wall.isoformat(timespec="seconds"), tx.now, body)
        ev.body["t"] = tx.now
        tx.events.append(ev)
        return ev

    def roll_over(self, tx: Tx, force: bool = False) -> None:
        """Start the next business day inside `tx` when it is due (always when `force`)."""
        today = due_day(tx.wall, tx.day, self.settings, force)
        if today is None:
            return
        expired = start_day(tx.conn, tx.now, tx.wall, tx.day, today)
        from_day, tx.day = tx.day, today
        self.emit(tx, EventType.DAY_ROLLOVER, from_day=from_day, to_day=today, expired=expired)
