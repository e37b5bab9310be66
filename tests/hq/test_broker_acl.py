"""The sample broker ACL (firmware_config/mosquitto/acl) on a real mosquitto: HQ's recorder account
reads every branch and cannot command one; the operator account can; a branch commands nobody and
writes only its own topics."""
from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from tests.kit.settings import REPO

ACL = REPO / "firmware_config" / "mosquitto" / "acl"
PASSWORDS = {"hq-monitor": "monitor-secret", "hq-operator": "operator-secret", "demo-001": "branch-secret",
             "demo-002": "other-secret"}


class Account:
    """An MQTT 5 client logged in as `name`; keeps what it receives and the PUBACK reason codes."""

    def __init__(self, broker: Broker, name: str, subscribe: list[str]) -> None:
        self.received: list[tuple[str, bytes]] = []
        self.acks: dict[int, int] = {}
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"acl-{name}", protocol=mqtt.MQTTv5)
        self.client.username_pw_set(name, PASSWORDS[name])
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in subscribe]) if subscribe \
            else self.subscribed.set()
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", broker.port, 30)
        self.client.loop_start()
        wait_until(self.subscribed.is_set, 30, what=f"{name} connected")

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        with self.lock:
            self.received.append((msg.topic, msg.payload))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        with self.lock:
            self.acks[mid] = reason_code.value

    def publish(self, topic: str, payload: dict) -> int:
        """Publish at QoS 1; the broker's PUBACK reason code (0 accepted, 135 not authorized)."""
        mid = self.client.publish(topic, json.dumps(payload), qos=1).mid
        wait_until(lambda: mid in self.acks, 10, what=f"the PUBACK of {topic}")
        return self.acks[mid]

    def topics(self) -> list[str]:
        with self.lock:
            return [t for t, _ in self.received]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def acl_broker(tmp_path) -> Iterator[Broker]:
    pwfile = tmp_path / "passwd"
    pwfile.touch()
    for name, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(pwfile), name, password], check=True, capture_output=True)
    b = Broker(tmp_path / "aclbroker", extra=f"password_file {pwfile}\nacl_file {ACL}")
    try:
        yield b.start()
    finally:
        b.stop()


def test_the_recorder_account_reads_but_cannot_command_a_branch(acl_broker):
    branch = Account(acl_broker, "demo-001", ["kiosk/demo-001/cmd/#"])
    monitor = Account(acl_broker, "hq-monitor", ["kiosk/#"])
    operator = Account(acl_broker, "hq-operator", [])
    try:
        assert branch.publish("kiosk/demo-001/status", {"v": 1, "state": "online"}) == 0
        wait_until(lambda: "kiosk/demo-001/status" in monitor.topics(), 10, what="the recorder reading a branch")

        assert monitor.publish("kiosk/demo-001/cmd/ping", {"id": "from-the-recorder"}) == 135  # not authorized
        assert operator.publish("kiosk/demo-001/cmd/ping", {"id": "from-the-operator"}) == 0
        wait_until(lambda: branch.received, 10, what="the operator's command at the branch")
        # the operator's command arrived, the recorder's never did (QoS 1 from one broker: in order)
        assert [json.loads(p)["id"] for _, p in branch.received] == ["from-the-operator"]

        # a branch commands no branch, and writes nothing of another's
        assert branch.publish("kiosk/demo-002/cmd/ping", {"id": "from-a-branch"}) == 135
        assert branch.publish("kiosk/demo-001/cmd/ping", {"id": "to-itself"}) == 135
        assert branch.publish("kiosk/demo-002/status", {"v": 1, "state": "offline"}) == 135
        assert branch.publish("kiosk/demo-001/reply/ping", {"id": "from-the-operator", "ok": True}) == 0
        wait_until(lambda: "kiosk/demo-001/reply/ping" in monitor.topics(), 10, what="the branch's own reply")
        assert "kiosk/demo-002/status" not in monitor.topics()
        assert [json.loads(p)["id"] for _, p in branch.received] == ["from-the-operator"]
        # the phones' follow message: its own, not another's (without this line HQ would get none)
        assert branch.publish("kiosk/demo-001/follow", {"v": 1, "tickets": []}) == 0
        wait_until(lambda: "kiosk/demo-001/follow" in monitor.topics(), 10, what="the branch's follow message")
        assert branch.publish("kiosk/demo-002/follow", {"v": 1, "tickets": []}) == 135
        # what HQ keeps for a branch (kiosk/<id>/hq/…): the operator account writes it, not the recorder
        assert operator.publish("kiosk/demo-001/hq/appointments", {"id": "list"}) == 0
        assert monitor.publish("kiosk/demo-001/hq/appointments", {"id": "forged"}) == 135
        assert branch.publish("kiosk/demo-001/hq/appointments", {"id": "self"}) == 135
    finally:
        for a in (branch, monitor, operator):
            a.close()
