"""The hall's alerts as every reader sees them, from the store alone: the level without a running
kiosk (and its hold from the stored state), the counters to open (the statistics' Erlang C),
long service, satisfaction below target, and HQ reading the same level off the snapshot."""
from __future__ import annotations

import json

import pytest

from kiosk.engine import stats
from kiosk.engine.alerts import AlertMonitor
from kiosk.engine.peak_staffing import peak_staffing
from kiosk.engine.readmodel import snapshot
from kiosk.hq.state import MonitorState
from kiosk.mqtt.topics import dumps
from tests.kit.daysim import Hall
from tests.kit.settings import settings_with


@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path / "kiosk.db")
    h.at("09:00")
    yield h
    h.close()


def hall_with(tmp_path, **changes) -> Hall:
    base = Hall(tmp_path / "settings.db")
    settings = settings_with(base.settings, **changes)
    base.close()
    h = Hall(tmp_path / "kiosk.db", settings)
    h.at("09:00")
    return h


def alert_events(hall: Hall) -> list[dict]:
    rows = hall.engine.conn.execute("SELECT body FROM outbox WHERE type LIKE 'alert.%' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def issue(hall: Hall, service: str, n: int) -> None:
    for _ in range(n):
        hall.engine.issue(service)


# -- the level without a running kiosk ---------------------------------------------------------
def test_the_snapshot_has_the_level_of_the_queue_with_no_monitor_running(hall):
    hall.open(1, 2)
    issue(hall, "A", 6)  # 3 per open counter: level 1 at 2.5
    alert = snapshot(hall.engine)["alert"]
    assert (alert["level"], alert["code"]) == (1, "queue_level1")
    assert alert["reason"].startswith("queue_level1: 6 waiting at 2 open counters")
    assert alert["reasons"][0] == alert["reason"]
    issue(hall, "A", 4)  # 10 waiting at 2: 5 per counter, level 2 at 3.5
    alert = snapshot(hall.engine)["alert"]
    assert (alert["level"], alert["code"]) == (2, "queue_level2")
    # nothing was written: the level is the queue's, not the memory of a process
    assert hall.engine.conn.execute("SELECT level FROM alert_state").fetchone()[0] == 0
    assert alert_events(hall) == []


def test_the_stored_state_holds_the_level_for_every_reader(hall):
    hall.open(1, 2)
    mon = AlertMonitor(hall.engine, hall.settings)
    issue(hall, "A", 7)
    mon.evaluate()  # level 2 stored
    hall.engine.call_next(1)
    hall.engine.call_next(2)  # 5 waiting: below level 2's 0.8 × 3.5 × 2 = 5.6, still ≥ level 1's 4
    assert snapshot(hall.engine)["alert"]["level"] == 2  # the hold: at most one change per min_hold_s
    hall.clock.advance(61)
    assert snapshot(hall.engine)["alert"]["level"] == 1  # steps down for every reader, monitor or not
    mon.evaluate()
    assert snapshot(hall.engine)["alert"]["level"] == 1 and mon.state.level == 1


def test_hq_reads_the_same_level_off_the_snapshot(hall):
    hall.open(1, 2)
    issue(hall, "B", 10)
    snap = snapshot(hall.engine)
    hq = MonitorState("kiosk")
    hq.ingest(f"kiosk/{snap['branch']}/queue", dumps(snap).encode(), now=1.0)
    [row] = hq.snapshot(now=1.0)
    assert row["alert_level"] == snap["alert"]["level"] == 2
    assert row["alert_reason"] == snap["alert"]["reason"]


# -- counters to open --------------------------------------------------------------------------
def test_a_peak_names_the_counters_to_open(hall):
    hall.open(1, 2)
    issue(hall, "A", 10)  # 10 arrivals in the first 15 min: 40 per hour, A's 3 min expected
    alert = snapshot(hall.engine)["alert"]
    erlang = stats.counters_needed(40.0, 180.0, 600.0, stats.TARGET_SHARE)
    # the line: fewest N with 10 < 0.8 × 2.5 × N → 6; the arrivals: Erlang C
    assert alert["staffing"]["for_line"] == 6 and alert["staffing"]["erlang_c"] == erlang < 6
    assert (alert["counters_needed"], alert["open_counters_needed"]) == (6, 4)
    assert alert["staffing"]["closed_counters"] == 2  # the hall has only 4 counters
    mon = AlertMonitor(hall.engine, hall.settings)
    mon.evaluate()
    [ev] = alert_events(hall)
    assert (ev["kind"], ev["level"], ev["open_counters_needed"], ev["counters_needed"]) == ("peak", 2, 4, 6)


def test_erlang_c_uses_the_last_hour_and_the_service_times_learned_today(hall):
    hall.open(1, 2, 3, 4)
    for i in range(60):  # one B a minute for an hour, each 2 min at a counter
        hall.engine.issue("B")
        hall.engine.call_next(1 + i % 2)
        hall.clock.advance(60)
    st = peak_staffing(hall.engine.conn, hall.engine.time.now(), hall.settings, hall.engine.current_day(), 0, 4)
    assert st.rate_per_hour == pytest.approx(60.0)
    assert st.mean_service_s == pytest.approx(120.0)  # learned, not B's configured 8 min
    assert st.erlang_c == stats.counters_needed(60.0, 120.0, 600.0, stats.TARGET_SHARE)
    assert st.open_counters_needed == 0


# -- long service ------------------------------------------------------------------------------
def test_long_service_raises_for_the_counter_and_clears_when_it_finishes(hall):
    hall.open(3)
    mon = AlertMonitor(hall.engine, hall.settings)
    hall.engine.issue("A")
    hall.engine.call_next(3)
    hall.clock.advance(600)  # exactly A's counter_limit_min: not over it
    mon.evaluate()
    assert snapshot(hall.engine)["alert"]["long_service"] == [] and alert_events(hall) == []
    hall.clock.advance(1)
    [ls] = snapshot(hall.engine)["alert"]["long_service"]
    assert (ls["counter"], ls["ticket"], ls["service"], ls["limit_s"]) == (3, "A001", "A", 600.0)
    mon.evaluate()
    [raised] = alert_events(hall)
    assert (raised["type"], raised["kind"], raised["counter"], raised["ticket"]) == \
        ("alert.raised", "long_service", 3, "A001")
    assert raised["reason"].startswith("long_service: counter 3 has served A001 for 10 min")
    assert raised["level"] == 0 and raised["waiting"] == 0 and raised["open_counters"] == 1
    mon.evaluate()
    assert len(alert_events(hall)) == 1  # raised once
    hall.engine.finish(3)
    mon.evaluate()
    cleared = alert_events(hall)[-1]
    assert (cleared["type"], cleared["kind"], cleared["counter"], cleared["ticket"]) == \
        ("alert.cleared", "long_service", 3, "A001")
    assert snapshot(hall.engine)["alert"]["long_service"] == []


def test_a_restarted_monitor_remembers_what_it_raised(hall):
    hall.open(3)
    hall.engine.issue("A")
    hall.engine.call_next(3)
    hall.clock.advance(700)
    AlertMonitor(hall.engine, hall.settings).evaluate()
    again = AlertMonitor(hall.engine, hall.settings)  # the kiosk restarted
    again.evaluate()
    assert [e["type"] for e in alert_events(hall)] == ["alert.raised"]
    hall.engine.finish(3)
    again.evaluate()
    assert [e["type"] for e in alert_events(hall)] == ["alert.raised", "alert.cleared"]


def test_long_service_off_raises_nothing(tmp_path):
    hall = hall_with(tmp_path, alerts={"long_service": False})
    try:
        hall.open(3)
        hall.engine.issue("A")
        hall.engine.call_next(3)
        hall.clock.advance(3600)
        AlertMonitor(hall.engine, hall.settings).evaluate()
        assert snapshot(hall.engine)["alert"]["long_service"] == [] and alert_events(hall) == []
    finally:
        hall.close()


# -- satisfaction ------------------------------------------------------------------------------
def serve_and_rate(hall: Hall, scores: list[int], service: str = "A", *, tier: str | None = None) -> None:
    for score in scores:
        t = hall.engine.issue(service, tier=tier)
        hall.engine.call_ticket(3 if service != "V" else 1, t.ticket)
        hall.clock.advance(60)
        hall.engine.finish(3 if service != "V" else 1)
        hall.engine.rate(t.ticket, score)


def test_satisfaction_below_target_is_an_alert_once_there_are_enough_ratings(hall):
    hall.open(1, 3)
    mon = AlertMonitor(hall.engine, hall.settings)
    serve_and_rate(hall, [5, 5, 5, 5, 5, 5, 2, 2, 2])  # 67 % of 9: below 80 %, but fewer than 10 ratings
    mon.evaluate()
    assert snapshot(hall.engine)["alert"]["satisfaction"] == [] and alert_events(hall) == []
    serve_and_rate(hall, [4])  # 70 % of 10
    [sat] = snapshot(hall.engine)["alert"]["satisfaction"]
    assert (sat["scope"], sat["ratings"], sat["share"], sat["target"]) == ("hall", 10, 0.7, 0.8)
    mon.evaluate()
    [ev] = alert_events(hall)
    assert (ev["type"], ev["kind"], ev["scope"], ev["share"]) == ("alert.raised", "satisfaction", "hall", 0.7)
    serve_and_rate(hall, [5, 5, 5, 5])  # 10 of 14 = 71 %: still below
    mon.evaluate()
    assert len(alert_events(hall)) == 1
    serve_and_rate(hall, [5, 5, 5, 5, 5, 5])  # 16 of 20 = 80 %: on target
    mon.evaluate()
    ev = alert_events(hall)[-1]
    assert (ev["type"], ev["kind"], ev["scope"]) == ("alert.cleared", "satisfaction", "hall")


def test_each_priority_tier_is_judged_against_its_own_target(tmp_path):
    base = Hall(tmp_path / "base.db")
    tiers = [t.model_dump(mode="json") for t in base.settings.tiers]
    base.close()
    tiers[0]["satisfaction_target"] = 0.95  # diamond expects more than the hall's 80 %
    hall = hall_with(tmp_path, tiers=tiers, alerts={"satisfaction_min_ratings": 3})
    try:
        hall.open(1, 3)
        serve_and_rate(hall, [5, 5, 5, 5, 5, 5, 5, 5, 5, 5])
        serve_and_rate(hall, [5, 5, 5, 5, 5, 5, 5, 5, 5, 3], "V", tier="diamond")  # 90 % < 95 %
        serve_and_rate(hall, [5, 4, 3], "V", tier="silver")  # 67 % < 80 % (the hall's, silver has none)
        sats = {s["scope"]: s for s in snapshot(hall.engine)["alert"]["satisfaction"]}
        assert sats.keys() == {"diamond", "silver"}  # the hall: 21 of 23, 91 %
        assert (sats["diamond"]["share"], sats["diamond"]["target"]) == (0.9, 0.95)
        assert (sats["silver"]["ratings"], sats["silver"]["target"]) == (3, 0.8)
    finally:
        hall.close()
