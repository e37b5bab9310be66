"""Forced diversion: with `alerts.stop_issuing_at_level2`, a level 2 peak stops the services that
have a self-service way (A in the sample hall) from issuing; the others go on; it clears with
the level. Real issue calls on a real engine."""
from __future__ import annotations

import pytest

from kiosk.domain import errors
from kiosk.engine.alerts import AlertMonitor
from kiosk.engine.readmodel import snapshot
from tests.kit.daysim import Hall
from tests.kit.settings import settings_with


def make_hall(tmp_path, divert: bool) -> Hall:
    base = Hall(tmp_path / "base.db")
    settings = settings_with(base.settings, alerts={"stop_issuing_at_level2": divert})
    base.close()
    h = Hall(tmp_path / "kiosk.db", settings)
    h.at("09:00")
    h.open(1)
    return h


@pytest.fixture
def hall(tmp_path):
    h = make_hall(tmp_path, True)
    yield h
    h.close()


def availability(hall: Hall) -> dict[str, str | None]:
    return {s["service"]: s["unavailable"] for s in snapshot(hall.engine)["services"]}


def test_level_2_stops_the_services_with_a_self_service_way(hall):
    for _ in range(3):
        hall.engine.issue("A")
    assert availability(hall)["A"] is None
    hall.engine.issue("A")  # 4 waiting at 1 open counter: level 2 at 3.5
    with pytest.raises(errors.Diverted) as refused:
        hall.engine.issue("A")
    msg = str(refused.value)
    assert "service A (Payments)" in msg and "level 2" in msg
    assert "self-service terminals or in the app" in msg  # where to go instead: A's self_service
    assert isinstance(refused.value, errors.QueueError)
    assert hall.engine.issue("B").ticket == "B001"  # no self-service way: B keeps issuing
    assert availability(hall) == {"A": "diverted", "B": None, "V": None}
    alert = snapshot(hall.engine)["alert"]
    assert alert["level"] == 2 and alert["diverted"] == ["A"]
    assert hall.engine.conn.execute("SELECT count(*) FROM tickets WHERE service = 'A'").fetchone()[0] == 4


def test_diversion_clears_with_the_level_and_its_hold(hall):
    mon = AlertMonitor(hall.engine, hall.settings)
    hall.engine.subscribe(lambda events: mon.evaluate())  # as the running kiosk does
    for _ in range(4):
        hall.engine.issue("A")
    assert mon.state.level == 2
    hall.engine.call_next(1)  # 3 waiting: ≥ 0.8 × 3.5 = 2.8, level 2 holds
    with pytest.raises(errors.Diverted):
        hall.engine.issue("A")
    hall.engine.call_next(1)  # 2 waiting: below the hold, but level 2 was raised under 60 s ago
    with pytest.raises(errors.Diverted):
        hall.engine.issue("A")
    hall.clock.advance(61)
    assert availability(hall)["A"] is None  # every reader sees the step down at once
    mon.evaluate()  # the running kiosk's 5 s timer stores it
    assert mon.state.level == 1
    assert hall.engine.issue("A").ticket == "A005"
    assert mon.state.level == 1 and snapshot(hall.engine)["alert"]["diverted"] == []


def test_without_the_setting_a_peak_stops_nothing(tmp_path):
    hall = make_hall(tmp_path, False)
    try:
        for _ in range(8):
            hall.engine.issue("A")
        alert = snapshot(hall.engine)["alert"]
        assert alert["level"] == 2 and alert["diverted"] == []
        assert availability(hall)["A"] is None
    finally:
        hall.close()
