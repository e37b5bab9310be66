"""Helpers for the MQTT tests: a real mosquitto on a free loopback port, subscribers that
collect what they see, and kiosks (in-process or in a subprocess) reporting to it."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from paho.mqtt.enums import CallbackAPIVersion

from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings
from kiosk.sim.broker import Broker, free_port  # noqa: F401 - the tests' broker
from kiosk.sim.hq_subscriber import wait_until as _wait_until

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WAIT_S = 30.0



def wait_until(cond: Callable[[], Any], timeout: float = WAIT_S, interval: float = 0.02, what: str = "") -> Any:
    return _wait_until(cond, timeout, interval, what)


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
        wait_until(self.subscribed.is_set, what="the subscription")

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
    base = load_settings(DEFAULT_CONFIG)
    data = base.model_dump(mode="json")
    data["mqtt"] = {"enabled": True, "url": url, "reconnect_min_s": 0.2, "reconnect_max_s": 1.0,
                    "queue_min_interval_s": 0.1, **mqtt_kw}
    data["store"] = {**data.get("store", {}), "synchronous": "NORMAL"}
    return Settings.model_validate(data)


class KioskProcess:
    """`python tests/mqtt/kiosk_proc.py`: a kiosk publisher in its own process."""

    def __init__(self, settings: Settings, data: Path, issue: int = 0) -> None:
        data.mkdir(parents=True, exist_ok=True)
        cfg = data / "settings.json"
        cfg.write_text(json.dumps(settings.model_dump(mode="json")))
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "kiosk_proc.py"), str(cfg), str(data), str(issue)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_line(self, prefix: str, timeout: float = WAIT_S) -> str:
        def found() -> str | None:
            if self.proc.poll() is not None and not any(x.startswith(prefix) for x in self.lines):
                raise AssertionError(f"kiosk process exited {self.proc.returncode}: {self.proc.stderr.read()[-3000:]}")
            return next((x for x in self.lines if x.startswith(prefix)), None)
        return wait_until(found, timeout, what=f"kiosk process line {prefix!r}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(5)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                f.close()

