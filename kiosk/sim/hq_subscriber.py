"""The hall around the kiosk: a real mosquitto and an HQ subscriber; the serial devices behind
real pseudo-terminals are ``drivers.fakes`` (shared with the driver tests)."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any




def wait_until(cond: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02, what: str = "") -> Any:
    """Wait (generously) for ``cond()`` to become truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or cond}")
        time.sleep(interval)



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
