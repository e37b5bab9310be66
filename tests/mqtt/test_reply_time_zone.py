"""HQ command replies carry the hall's local time with its offset, as the events do, also when the
machine's own clock runs in UTC (as a Raspberry Pi's does)."""
from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings

T = "kiosk/demo-001"


@pytest.fixture
def machine_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


def test_replies_carry_the_halls_time_like_the_events(machine_in_utc, broker, collectors, make_kiosk):
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = collectors(broker.port, [f"{T}/reply/#", f"{T}/events"])
    hq.publish(f"{T}/cmd/counter", json.dumps({"counter": 2, "state": "open", "id": "ran"}))
    hq.publish(f"{T}/cmd/counter", json.dumps({"counter": "two", "state": "open", "id": "refused"}))
    replies = wait_until(lambda: len(r := hq.json_on("/reply/counter")) == 2 and r, what="both replies")
    opened = wait_until(lambda: [e for e in hq.json_on("/events") if e["type"] == "counter.opened"],
                        what="the counter.opened event")[0]

    hall = datetime.now(app.settings.day.tz)
    assert hall.utcoffset() != datetime.now().astimezone().utcoffset()  # else this test proves nothing
    assert {r["id"]: r["ok"] for r in replies} == {"ran": True, "refused": False}
    for reply in replies:
        ts = datetime.fromisoformat(reply["ts"])
        assert ts.utcoffset() == hall.utcoffset() == datetime.fromisoformat(opened["ts"]).utcoffset(), reply
        assert abs((ts - hall).total_seconds()) < 60
