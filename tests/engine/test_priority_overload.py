"""Priority overload: the promise "no priority ticket waits past its tier's target while a VIP-first
counter is open" has one exception — priority arrivals alone beyond those counters' capacity —
and then an alert must say so. A real engine on a SQLite file, the fake clock, and the alert
monitor that emits the events the simulated day judges (kiosk/sim/day/priority_promise.py).

The sample hall: counters 1 and 2 are VIP-first, 3 and 4 are not; V is the vip service, 8 min
expected at the counter, so one VIP-first counter serves 7.5 priority tickets an hour."""
from __future__ import annotations

import json

import pytest

from kiosk.engine.alert_kinds import PRIORITY_OVERLOAD, current_kinds
from kiosk.engine.alerts import AlertMonitor
from kiosk.engine.readmodel import snapshot
from kiosk.sim.day import priority_promise
from tests.kit.settings import settings_with


def overload_events(engine) -> list[dict]:
    rows = engine.conn.execute("SELECT type, body FROM outbox WHERE type LIKE 'alert.%' ORDER BY seq").fetchall()
    return [{"type": t, **json.loads(b)} for t, b in rows if json.loads(b).get("kind") == PRIORITY_OVERLOAD]


def vip_every_2_min(engine, clock, n: int) -> None:
    for _ in range(n):
        engine.issue("V")
        clock.advance(120)


@pytest.fixture
def hall(make_engine):
    engine = make_engine(open_counters=False)
    engine.set_counter(1, "open")  # one VIP-first counter
    engine.set_counter(3, "open")
    return engine


def test_the_simulated_day_judges_the_kind_the_engine_raises():
    assert PRIORITY_OVERLOAD == priority_promise.PRIORITY_OVERLOAD == "priority_overload"


def test_raised_when_priority_arrivals_exceed_the_vip_counters_capacity(hall, clock):
    mon = AlertMonitor(hall, hall.settings)
    vip_every_2_min(hall, clock, 7)  # 7 in the hour: one counter serves 7.5
    mon.evaluate()
    assert overload_events(hall) == []
    assert not any(r.startswith(PRIORITY_OVERLOAD) for r in snapshot(hall)["alert"]["reasons"])
    hall.issue("V")  # the 8th
    mon.evaluate()
    [ev] = overload_events(hall)
    assert (ev["type"], ev["kind"], ev["arrivals_last_hour"], ev["capacity"]) == \
        ("alert.raised", "priority_overload", 8, 7.5)
    assert ev["vip_counters_open"] == 1 and ev["mean_service_s"] == 480.0
    assert ev["text"] == "VIP arrivals exceed the VIP counters: 8 in the last hour, capacity 7.5 — open another VIP counter"
    assert ev["reason"] == f"priority_overload: {ev['text']}"
    assert ev["text_zh"].startswith("贵宾到达超出贵宾窗口能力：近一小时8位")
    assert f"priority_overload: {ev['text']}" in snapshot(hall)["alert"]["reasons"]  # every reader sees it
    mon.evaluate()
    assert len(overload_events(hall)) == 1  # raised once


def test_not_raised_while_the_counters_keep_up_with_the_arrivals_measured_today(hall, clock):
    mon = AlertMonitor(hall, hall.settings)
    for _ in range(3):  # VIP customers served in 2 min: one counter serves 30 an hour
        t = hall.issue("V")
        hall.call_ticket(1, t.ticket)
        clock.advance(120)
        hall.finish(1)
    vip_every_2_min(hall, clock, 12)  # 15 in the hour: over the configured 7.5, under the measured 30
    mon.evaluate()
    assert overload_events(hall) == []
    assert PRIORITY_OVERLOAD + ":hall" not in current_kinds(hall.conn, hall.time.now(), hall.settings,
                                                             hall.current_day())


def test_cleared_when_the_arrivals_pass_after_a_hold(hall, clock):
    mon = AlertMonitor(hall, hall.settings)
    vip_every_2_min(hall, clock, 8)  # 09:00 … 09:14, the clock at 09:16
    mon.evaluate()
    assert [e["type"] for e in overload_events(hall)] == ["alert.raised"]
    clock.advance(2640 + 30)  # 10:00:30: the 09:00 arrival left the hour 30 s ago, inside the 60 s hold
    mon.evaluate()
    assert [e["type"] for e in overload_events(hall)] == ["alert.raised"]
    clock.advance(60)  # 10:01:30
    mon.evaluate()
    cleared = overload_events(hall)[-1]
    assert (cleared["type"], cleared["kind"], cleared["scope"]) == ("alert.cleared", "priority_overload", "hall")
    assert not any(r.startswith(PRIORITY_OVERLOAD) for r in snapshot(hall)["alert"]["reasons"])


def test_cleared_when_another_vip_counter_opens(hall, clock):
    mon = AlertMonitor(hall, hall.settings)
    vip_every_2_min(hall, clock, 9)
    mon.evaluate()
    hall.set_counter(2, "open")  # two VIP-first counters: 15 an hour
    mon.evaluate()
    assert [e["type"] for e in overload_events(hall)] == ["alert.raised", "alert.cleared"]


def test_raised_when_priority_tickets_wait_and_no_vip_first_counter_is_open(make_engine, clock):
    engine = make_engine(open_counters=False)
    mon = AlertMonitor(engine, engine.settings)
    engine.issue("V")
    mon.evaluate()
    assert overload_events(engine) == []  # no counter open at all: the peak level says so (no_counters)
    engine.set_counter(3, "open")  # counters 3 and 4 are not VIP-first
    engine.set_counter(4, "open")
    mon.evaluate()
    [ev] = overload_events(engine)
    assert (ev["type"], ev["vip_counters_open"], ev["priority_waiting"]) == ("alert.raised", 0, 1)
    assert ev["text"] == "1 VIP waiting and no VIP counter open — open a VIP counter"
    engine.set_counter(1, "open")
    mon.evaluate()
    assert [e["type"] for e in overload_events(engine)] == ["alert.raised", "alert.cleared"]


def test_with_priority_at_all_every_open_counter_counts(make_engine, settings, clock):
    engine = make_engine(settings_with(settings, policy={**settings.policy.model_dump(mode="json"),
                                                         "priority_at": "all"}), open_counters=False)
    engine.set_counter(3, "open")
    engine.set_counter(4, "open")  # two counters that call priority first: 15 an hour
    mon = AlertMonitor(engine, engine.settings)
    vip_every_2_min(engine, clock, 15)
    mon.evaluate()
    assert overload_events(engine) == []
    engine.issue("V")
    mon.evaluate()
    [ev] = overload_events(engine)
    assert (ev["arrivals_last_hour"], ev["capacity"], ev["vip_counters_open"]) == (16, 15.0, 2)
