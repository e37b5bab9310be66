"""`HourlyStats`: ``{branch}/stats/hourly``, the summary of each wall-clock hour once it closes.

A summary computed while offline waits in memory (at most MAX_PENDING_STATS hours) and is
published on the next connection. Runs on the telemetry thread, on its own `Store`.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from kiosk.engine.business_day import business_day
from kiosk.engine.stats import hourly_summary
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.topics import dumps, iso_ts
from kiosk.storage.store import Store

log = logging.getLogger(__name__)

MAX_PENDING_STATS = 48


class HourlyStats:
    """Watches the kiosk's wall clock; summarises each hour that closes and publishes it."""

    def __init__(self, app: KioskPort, link: BrokerLink, topic: str, *, enabled: bool) -> None:
        self.app = app
        self.link = link
        self.topic = topic
        self.enabled = enabled
        self.hour_key: tuple[date, int] | None = None  # the (local date, hour) seen last
        self.pending: list[dict[str, Any]] = []

    def tick(self, store: Store) -> None:
        """Summarise the previous hour when the wall clock has entered a new one."""
        if not self.enabled:
            return
        wall = self.app.clock.wall().astimezone(self.app.settings.day.tz)
        key = (wall.date(), wall.hour)
        prev, self.hour_key = self.hour_key, key
        if prev is None or key <= prev:
            if prev is not None and key < prev:
                self.hour_key = prev  # the wall clock went back: wait until it passes again
            return
        self._close_hour(store, prev)

    def _close_hour(self, store: Store, key: tuple[date, int]) -> None:
        settings = self.app.settings
        day_date, hour = key
        start = datetime(day_date.year, day_date.month, day_date.day, hour, tzinfo=settings.day.tz)
        day = business_day(start, settings)
        try:
            summary = hourly_summary(store.conn, day, hour, settings=settings)
        except Exception:  # noqa: BLE001 — a failing summary must not stop the telemetry
            log.exception("hourly_summary(%s, %d) failed", day, hour)
            return
        payload = {"v": 1, "ts": iso_ts(self.app.clock.wall()), "branch": settings.branch.id, "day": day,
                   "hour": hour, **(summary or {})}
        self.pending.append(payload)
        del self.pending[:-MAX_PENDING_STATS]

    def publish(self) -> None:
        """Publish the summaries waiting (connected)."""
        while self.pending:
            self.link.publish(self.topic, dumps(self.pending.pop(0)))
