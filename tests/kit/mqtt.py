"""The MQTT tests' equipment: subscribers that keep what they see, and kiosk settings that
report to a test broker (the broker itself: `kiosk.sim.broker.Broker`)."""
from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings
from kiosk.sim.waiting import wait_until


class Collector:
    """A subscriber that keeps every message (topic, payload, retain, properties)."""

    def __init__(self, port: int, topics: list[str], *, client_id: str = "", v5: bool = True,
                 tls: dict[str, str] | None = None) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311)
        self.client.max_inflight_messages_set(0)
        self.topics = topics
        self.subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        wait_until(self.subscribed.is_set, 30, what="the subscription")

    def _on_connect(self, client, userdata, flags, rc, props) -> None:  # noqa: ANN001
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        with self.lock:
            self.messages.append(msg)

    def on(self, suffix: str) -> list[mqtt.MQTTMessage]:
        with self.lock:
            return [m for m in self.messages if m.topic.endswith(suffix)]

    def json_on(self, suffix: str) -> list[dict[str, Any]]:
        return [json.loads(m.payload) for m in self.on(suffix)]

    def publish(self, topic: str, payload: bytes | str, **kw: Any) -> None:
        self.client.publish(topic, payload, qos=1, **kw)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def mqtt_settings(url: str, **mqtt_kw: Any) -> Settings:
    """The sample hall reporting to `url`, reconnecting fast, the queue snapshot at most every 0.1 s."""
    data = load_settings(DEFAULT_CONFIG).model_dump(mode="json")
    data["mqtt"] = {"enabled": True, "url": url, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                    "queue_min_interval_s": 0.1, **mqtt_kw}
    data["store"] = {**data.get("store", {}), "synchronous": "NORMAL"}
    return Settings.model_validate(data)
