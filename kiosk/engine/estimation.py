"""The engine's side of wait estimation: the estimator it expects, the default one, and the
feed that shows the estimator every committed event exactly once, in outbox order."""
from __future__ import annotations

import json
import logging
import sqlite3
from typing import Protocol

from kiosk.config.settings import Settings
from kiosk.estimate import HallView, WaitEstimator
from kiosk.storage.store import OutboxEvent, Store

log = logging.getLogger(__name__)

WARM_START_EVENTS = 3000


class Estimator(Protocol):
    def observe(self, event: dict, now: float) -> None: ...
    def forecast_for(self, hall: HallView, ticket_id: int, *, record: bool = True) -> tuple[float, int]: ...
    def forecast_service(self, hall: HallView, service: str, priority: int = 0) -> tuple[float, int]: ...


def default_estimator(settings: Settings) -> Estimator:
    return WaitEstimator({s.prefix: s.expected_service_min * 60 for s in settings.services})


class EstimatorFeed:
    """Feeds outbox events to an estimator once each (by `seq`), including what other processes
    committed to the same file. A failing estimator is logged and never stops the queue."""

    def __init__(self, estimator: Estimator) -> None:
        self.estimator = estimator
        self._observed_seq = 0

    def observe(self, ev: OutboxEvent) -> None:
        if ev.seq <= self._observed_seq:
            return
        self._observed_seq = ev.seq
        try:
            self.estimator.observe(ev.as_message(), ev.body.get("t", 0.0))
        except Exception:  # noqa: BLE001 — a learning glitch must never stop the queue
            log.exception("estimator failed to observe %s", ev.type)

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Feed the estimator what other processes committed since we last looked."""
        rows = conn.execute("SELECT seq, id, type, ts, t, body FROM outbox WHERE seq > ? ORDER BY seq",
                            (self._observed_seq,)).fetchall()
        for r in rows:
            self._observe_row(r)

    def warm_start(self, store: Store) -> None:
        """Learn from the latest `WARM_START_EVENTS` events, then skip everything up to the last one."""
        rows = store.conn.execute(
            "SELECT * FROM (SELECT seq, id, type, ts, t, body FROM outbox ORDER BY seq DESC LIMIT ?) ORDER BY seq",
            (WARM_START_EVENTS,)).fetchall()
        for r in rows:
            self._observe_row(r)
        self._observed_seq = max(self._observed_seq, store.last_seq())

    def _observe_row(self, r: sqlite3.Row) -> None:
        body = json.loads(r["body"])
        body["t"] = r["t"]
        self.observe(OutboxEvent(r["seq"], r["id"], r["type"], r["ts"], body))
