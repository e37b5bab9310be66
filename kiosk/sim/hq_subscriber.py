"""HQ's side of the simulated world: a subscriber that keeps every event a branch publishes."""
from __future__ import annotations

import json
import threading
from typing import Any

from kiosk.sim.waiting import wait_until


class HqSubscriber:
    """HQ's side: a paho subscriber with a persistent session (QoS 1) on ``{prefix}/{branch}/events``.

    Keeps every message as received (duplicates included) in arrival order.
    """

    def __init__(self, port: int, branch: str, *, prefix: str = "kiosk", client_id: str = "simday-hq") -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.topic = f"{prefix}/{branch}/events"
        self.events: list[dict[str, Any]] = []
        self.raw = 0
        self.bad = 0
        self.connects = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(0)
        self.client.reconnect_delay_set(0.1, 1.0)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        wait_until(self._subscribed.is_set, 30, what="the HQ subscription")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connects += 1
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            with self._lock:
                self.bad += 1
            return
        with self._lock:
            self.raw += 1
            self.events.append(doc)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def unique_seqs(self) -> set[int]:
        with self._lock:
            return {e.get("seq") for e in self.events}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
