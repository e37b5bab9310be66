"""`StatePublisher`: the branch's retained state on MQTT.

``status`` says online when a connection is set up, offline on a graceful stop (and in the
Last Will); ``queue`` carries the snapshot on change (at most every
``queue_min_interval_s``) and every ``queue_period_s``; ``alerts`` carries the current peak
alert, republished when an alert event is committed. Runs on the telemetry thread; only
`on_event()` is called from the core thread.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from kiosk import __version__
from kiosk.config.mqtt import MqttConfig
from kiosk.domain.model import EventType
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.topics import Topics, dumps, iso_ts
from kiosk.storage.store import Store

log = logging.getLogger(__name__)

ALERT_EVENTS = (EventType.ALERT_RAISED, EventType.ALERT_CLEARED)


def alert_of(ev: dict[str, Any]) -> dict[str, Any]:
    """The ``alerts`` payload fields of an ``alert.raised``/``alert.cleared`` event."""
    out = {"level": int(ev.get("level") or 0), "reason": ev.get("reason", ""), "waiting": ev.get("waiting"),
           "open_counters": ev.get("open_counters"), "since": ev.get("ts")}
    for extra in ("code", "text"):  # kiosk.engine.alerts adds a reason code and a display text
        if ev.get(extra) is not None:
            out[extra] = ev[extra]
    return out


class StatePublisher:
    """Publishes ``status``, ``queue`` and ``alerts`` (retained, QoS 1) for one branch."""

    def __init__(self, app: KioskPort, link: BrokerLink, topics: Topics, cfg: MqttConfig, started: str) -> None:
        self.app = app
        self.link = link
        self.topics = topics
        self.cfg = cfg
        self.started = started  # the kiosk's start: the ``since`` of the Last Will
        self._queue_dirty = True
        self._last_queue = -1e9
        self._alert: dict[str, Any] | None = None
        self._alert_dirty = True

    def on_event(self, ev: dict[str, Any]) -> None:
        """A committed event (core thread): the queue changed; an alert event is the new alert."""
        self._queue_dirty = True
        if ev.get("type") in ALERT_EVENTS:
            self._alert = alert_of(ev)
            self._alert_dirty = True

    # -- status -------------------------------------------------------------------------------------
    def status(self, state: str, since: str) -> str:
        return dumps({"v": 1, "ts": iso_ts(self.app.clock.wall()), "state": state, "version": __version__,
                      "since": since, "branch": self.topics.branch})

    def last_will(self) -> tuple[str, str]:
        """(topic, payload) the broker publishes if the kiosk goes away without a word."""
        return self.topics.status, self.status("offline", self.started)

    def announce(self) -> None:
        """A new connection: say online, and publish the queue and the alert again."""
        self.link.publish(self.topics.status, self.status("online", iso_ts(self.app.clock.wall())), retain=True)
        self._queue_dirty = True
        self._alert_dirty = True
        self._last_queue = -1e9

    def say_offline(self) -> int:
        """Say offline (graceful stop); the mid to wait for."""
        return self.link.publish(self.topics.status, self.status("offline", iso_ts(self.app.clock.wall())),
                                 retain=True, await_ack=True).mid

    # -- queue and alerts -----------------------------------------------------------------------------
    def publish_queue(self, now: float) -> None:
        due = now - self._last_queue >= self.cfg.queue_period_s
        if not due and not (self._queue_dirty and now - self._last_queue >= self.cfg.queue_min_interval_s):
            return
        self._queue_dirty = False
        self._last_queue = now
        try:
            snap = self.app.snapshot(timeout=10)
        except Exception as exc:  # noqa: BLE001 — the next period tries again
            log.warning("queue snapshot failed: %s", exc)
            return
        self.link.publish(self.topics.queue, dumps(snap), retain=True)

    def publish_alert(self, store: Store) -> None:
        if not self._alert_dirty:
            return
        self._alert_dirty = False
        alert = dict(self._current_alert(store))
        if alert.get("waiting") is None or alert.get("open_counters") is None:
            try:
                snap = self.app.snapshot(timeout=10)
                alert["waiting"], alert["open_counters"] = snap["waiting"], snap["open_counters"]
            except Exception:  # noqa: BLE001 — published without the counts
                pass
        payload = {"v": 1, "ts": iso_ts(self.app.clock.wall()), "branch": self.topics.branch, **alert}
        self.link.publish(self.topics.alerts, dumps(payload), retain=True)

    def _current_alert(self, store: Store) -> dict[str, Any]:
        """The last alert event seen, else the last one in the outbox, else the stored alert state."""
        if self._alert is not None:
            return self._alert
        conn = store.conn
        row = conn.execute("SELECT body FROM outbox WHERE type IN ('alert.raised', 'alert.cleared') "
                           "ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            return alert_of(json.loads(row[0]))
        st = conn.execute("SELECT level, reason FROM alert_state WHERE id = 1").fetchone()
        return {"level": st[0] if st else 0, "reason": st[1] if st else "", "waiting": None,
                "open_counters": None, "since": None}
