"""`FollowPublisher`: the customers' phones' view of the queue, retained on ``{branch}/follow``.

On every committed event it is due again: published at most every ``follow_min_interval_s``
(a call reaches the phones within that plus HQ's push) and at least every ``follow_period_s``.
The message (`kiosk.engine.follow_view`) carries follow keys, never tokens. Runs on the
telemetry thread; only `on_event()` is called from the core thread.
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.config.mqtt import MqttConfig
from kiosk.engine.follow_view import FollowView
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.topics import Topics, dumps

log = logging.getLogger(__name__)


class FollowPublisher:
    def __init__(self, app: KioskPort, link: BrokerLink, topics: Topics, cfg: MqttConfig) -> None:
        self.app = app
        self.link = link
        self.topic = topics.follow
        self.cfg = cfg
        self._dirty = True
        self._last = -1e9
        self.published = 0

    def on_event(self, ev: dict[str, Any]) -> None:
        self._dirty = True

    def announce(self) -> None:
        """A new connection: publish again at once."""
        self._dirty = True
        self._last = -1e9

    def publish(self, now: float) -> None:
        due = now - self._last >= self.cfg.follow_period_s
        if not due and not (self._dirty and now - self._last >= self.cfg.follow_min_interval_s):
            return
        self._dirty = False
        self._last = now
        try:
            view = self.app.follow_view().result(10)
        except Exception as exc:  # noqa: BLE001 — the next change or period tries again
            log.warning("follow view failed: %s", exc)
            return
        self.link.publish(self.topic, FollowView.fit(view, dumps), retain=True)
        self.published += 1
