"""`Telemetry`: the MQTT side of a running kiosk (reporting to HQ, taking HQ's commands).

One thread (``kiosk-mqtt``) runs every part, each the one owner of its concern:

* `BrokerLink` (`kiosk.mqtt.connection`): connect/reconnect with back-off, MQTT 5 with a
  3.1.1 fallback, TLS, the Last Will, the state for the admin screen;
* `OutboxDrain` (`kiosk.mqtt.outbox_drain`): events in ``seq`` order at QoS 1, delivered on
  PUBACK, at most ``max_inflight`` in flight;
* `CommandChannel` (`kiosk.mqtt.command_channel`): HQ commands validated, run, answered;
* `StatePublisher` and `HourlyStats`: retained status/queue/alerts, ``stats/hourly``.

The thread drives the paho client with ``client.loop()`` (every paho callback runs on it)
and has its own `Store` on the branch database. The core thread only nudges it (a listener
sets flags); HQ commands run on the core thread through the kiosk's typed methods and
their replies come back through a queue. Topics: `kiosk.mqtt.topics.Topics`.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from kiosk.config.settings import Settings
from kiosk.mqtt.client import parse_url
from kiosk.mqtt.command_channel import CommandChannel
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.hourly_stats import HourlyStats
from kiosk.mqtt.outbox_drain import OutboxDrain
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.protocol import Limits
from kiosk.mqtt.follow_publisher import FollowPublisher
from kiosk.mqtt.hq_data_channel import HqDataChannel
from kiosk.mqtt.state_publisher import StatePublisher
from kiosk.mqtt.topics import Topics, iso_ts
from kiosk.storage.store import Store, db_path

log = logging.getLogger(__name__)

STOP_FLUSH_S = 3.0


class Telemetry:
    """The MQTT side of a running kiosk. `state` is for the admin screen. A configuration that
    must not start (e.g. a password file readable by others) raises `TelemetryError` here."""

    # the parts that work with the running kiosk, made by start(app)
    app: KioskPort
    publisher: StatePublisher
    hourly: HourlyStats
    commands: CommandChannel

    def __init__(self, settings: Settings, url_override: str | None = None) -> None:
        self.cfg = settings.mqtt
        self.enabled = bool(self.cfg.enabled or url_override)
        self.topics = Topics(self.cfg.topic_prefix, settings.branch.id)
        self.limits = Limits.from_settings(settings, self.cfg.max_command_bytes)
        self.link = BrokerLink(self.cfg, parse_url(url_override or self.cfg.url),
                               self.cfg.client_id or f"kiosk-{settings.branch.id}", enabled=self.enabled)
        self.outbox = OutboxDrain(self.link, self.topics.events, self.cfg.max_inflight)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe: Callable[[], None] | None = None

    # -- public ---------------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """{"state": "disabled"|"connecting"|"connected"|"disconnected", "since", "error",
        "backlog" (undelivered events, None until known), "broker", "protocol"}."""
        link = self.link.state
        return {"state": link["state"], "since": link["since"], "error": link["error"],
                "backlog": self.outbox.backlog, "broker": link["broker"], "protocol": link["protocol"]}

    def start(self, app: KioskPort) -> None:
        self.app = app
        started = iso_ts(app.clock.wall())
        self.link.start(app.clock, started)
        self.publisher = StatePublisher(app, self.link, self.topics, self.cfg, started)
        self.follow = FollowPublisher(app, self.link, self.topics, self.cfg)
        self.hq_data = HqDataChannel(app, self.link, self.topics)
        self.hourly = HourlyStats(app, self.link, self.topics.stats_hourly, enabled=self.cfg.stats_hourly)
        self.commands = CommandChannel(app, self.link, self.topics, self.limits, enabled=self.cfg.commands_enabled)
        if not self.enabled:
            log.info("MQTT disabled: running offline, the outbox keeps every event")
            return
        self._unsubscribe = app.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="kiosk-mqtt", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.stop()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._unsubscribe is not None:
            try:
                self._unsubscribe()
            except Exception:  # noqa: BLE001 — the core may be gone already
                pass
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_for(self, state: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.link.state["state"] == state:
                return True
            time.sleep(0.02)
        return False

    # -- core thread: a committed event ---------------------------------------------------------------
    def _on_event(self, ev: dict[str, Any]) -> None:
        self.outbox.nudge()
        self.publisher.on_event(ev)
        self.follow.on_event(ev)

    # -- telemetry thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            store = Store(db_path(self.app.data_dir), synchronous="NORMAL")
        except Exception as exc:  # noqa: BLE001
            log.exception("telemetry cannot open the store")
            self.link.give_up(f"store: {exc}")
            return
        try:
            self.outbox.backlog = store.undelivered_count()
            while not self._stop.is_set():
                try:
                    self._step(store)
                except Exception as exc:  # noqa: BLE001 — keep reporting whatever happens
                    log.exception("telemetry step failed")
                    self._drop(f"{type(exc).__name__}: {exc}")
            self._shutdown(store)
        finally:
            store.close()

    def _step(self, store: Store) -> None:
        now = time.monotonic()
        self.hourly.tick(store)
        self.outbox.count_backlog(store, now)
        if self.link.client is None:
            if self.link.due(now):
                self._connect()
            else:
                self.link.idle(self._wake, now)
            return
        trouble = self.link.pump()
        if trouble is not None or self.outbox.lost:
            self._drop(self.outbox.lost_reason or trouble or None)
            return
        self.outbox.flush_acks(store)
        self.commands.send_replies()
        self.outbox.drain(store, now)
        self.publisher.publish_alert(store)
        self.publisher.publish_queue(now)
        self.follow.publish(now)
        self.hourly.publish()

    def _connect(self) -> None:
        if not self.link.connect(self.publisher.last_will(), self.outbox.on_puback, self._on_message, self._stop):
            return
        if not self.outbox.refusals:  # a broker that refuses our events (ACL) is retried with back-off
            self.link.reset_backoff()
        self.outbox.restart()
        self.publisher.announce()
        self.follow.announce()
        self.commands.subscribe()
        self.hq_data.subscribe()
        self.link.mark_connected()

    def _on_message(self, msg) -> None:  # noqa: ANN001 — a paho message, on the telemetry thread
        if not self.hq_data.on_message(msg):
            self.commands.on_message(msg)

    def _drop(self, err: str | None) -> None:
        self.link.drop(self.outbox.connection_lost(err))

    def _shutdown(self, store: Store) -> None:
        """Graceful stop: mark what was acknowledged, say offline, wait (a little) for the
        broker's PUBACKs, then DISCONNECT so that the Last Will is not published."""
        if self.link.client is None:
            return
        try:
            self.outbox.flush_acks(store)
            offline = self.publisher.say_offline()
            deadline = time.monotonic() + STOP_FLUSH_S
            while time.monotonic() < deadline and not (self.link.lost or self.outbox.lost):
                self.link.pump(0.05)
                self.outbox.flush_acks(store)
                if self.link.acknowledged(offline) and not self.outbox.inflight:
                    break
            self.outbox.flush_acks(store)
            self.link.disconnect()
        except Exception:  # noqa: BLE001
            log.exception("MQTT shutdown")
        self.link.closed()


__all__ = ["Telemetry"]
