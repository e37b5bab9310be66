"""Peak alerts: the pure decision (rules, hysteresis, no flapping) and the monitor on a real engine."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from kiosk.engine import alerts
from kiosk.engine.alerts import AlertMonitor, AlertState, Measurements, ServiceWait, Thresholds, decide
from kiosk.engine.readmodel import snapshot

from tests.kit.daysim import Hall

TH = Thresholds(level1_per_counter=2.5, level2_per_counter=3.5, clear_ratio=0.8, min_hold_s=60.0,
                wait_over_target=True)
CALM = AlertState()


def m(waiting: int, open_: int, *waits: tuple[str, float, float]) -> Measurements:
    return Measurements(waiting, open_, tuple(ServiceWait(*w) for w in waits))


# -- the rules ---------------------------------------------------------------------------------
def test_levels_follow_waiting_per_open_counter():
    assert decide(CALM, m(4, 2), 0, TH) is CALM  # 2.0 per counter
    s1 = decide(CALM, m(5, 2), 0, TH)  # 2.5 per counter
    assert (s1.level, s1.reason, s1.since_t) == (1, alerts.QUEUE_L1, 0)
    s2 = decide(CALM, m(7, 2), 0, TH)  # 3.5 per counter
    assert (s2.level, s2.reason) == (2, alerts.QUEUE_L2)
    assert decide(s1, m(7, 2), 10, TH).level == 2  # raising is immediate, no hold


def test_no_open_counter_with_people_waiting_is_level_2():
    s = decide(CALM, m(1, 0), 0, TH)
    assert (s.level, s.reason) == (2, alerts.NO_COUNTERS)
    assert decide(CALM, m(0, 0), 0, TH) is CALM  # an empty closed hall is calm


def test_longest_wait_over_target_is_level_1():
    at_target = m(1, 4, ("A", 600.0, 600.0))
    assert decide(CALM, at_target, 0, TH) is CALM  # "passes" the target: strictly over
    s = decide(CALM, m(1, 4, ("A", 601.0, 600.0), ("B", 100.0, 600.0)), 0, TH)
    assert (s.level, s.reason, s.over_target) == (1, alerts.OVER_TARGET, ("A",))
    off = Thresholds(wait_over_target=False)
    assert decide(CALM, m(1, 4, ("A", 6000.0, 600.0)), 0, off) is CALM


def test_hysteresis_holds_until_below_clear_ratio_and_min_hold():
    s = decide(CALM, m(5, 2), 100, TH)  # level 1 at 5 (threshold 5, clears below 4)
    assert decide(s, m(4, 2), 500, TH) is s  # 4 >= 0.8 × 5: still level 1
    assert decide(s, m(3, 2), 159, TH) is s  # below, but only 59 s after the raise
    c = decide(s, m(3, 2), 160, TH)
    assert (c.level, c.reason, c.since_t) == (0, alerts.CLEARED, 160)


def test_steps_down_one_level_at_a_time_each_after_the_hold():
    s2 = decide(CALM, m(7, 2), 0, TH)  # level 2 at 7, holds while >= 5.6
    assert decide(s2, m(6, 2), 1000, TH) is s2
    s1 = decide(s2, m(5, 2), 1000, TH)  # below 5.6, still >= 4: level 1
    assert (s1.level, s1.reason, s1.since_t) == (1, alerts.QUEUE_L1, 1000)
    assert decide(s1, m(0, 2), 1059, TH) is s1  # a new hold starts at each change
    assert decide(s1, m(0, 2), 1060, TH).level == 0
    assert decide(s2, m(0, 2), 60, TH).level == 0  # straight to 0 when everything cleared


def test_over_target_clears_below_clear_ratio_of_target():
    s = decide(CALM, m(1, 4, ("A", 700.0, 600.0)), 0, TH)
    assert decide(s, m(1, 4, ("A", 480.0, 600.0)), 100, TH) is s  # 480 = 0.8 × 600
    assert decide(s, m(1, 4, ("A", 479.0, 600.0)), 100, TH).level == 0


def test_reason_line_has_code_and_text():
    s = decide(CALM, m(9, 2), 0, TH)
    assert s.reason_line.startswith("queue_level2: 9 waiting at 2 open counters")
    assert alerts.read_state  # the store form is parsed back by read_state (see the engine tests)


# -- properties: no flapping -------------------------------------------------------------------
step = st.tuples(st.floats(0, 120, allow_nan=False), st.integers(0, 40), st.integers(0, 6),
                 st.floats(0, 2000, allow_nan=False))


def run(steps, th=TH):
    state, now, out = CALM, 0.0, []
    for dt, waiting, open_, longest in steps:
        now += dt
        meas = m(waiting, open_, ("A", longest if waiting else 0.0, 600.0))
        new = decide(state, meas, now, th)
        out.append((state, new, meas, now))
        state = new
    return out


@hsettings(max_examples=200, deadline=None)
@given(st.lists(step, max_size=60))
def test_every_change_obeys_the_rules(steps):
    for prev, new, meas, now in run(steps):
        assert decide(new, meas, now, TH) is new  # idempotent: re-evaluating changes nothing
        if new.level > prev.level:
            assert new.level == alerts.raise_level(meas, TH)[0] and new.since_t == now
        elif new.level < prev.level:
            assert now - prev.since_t >= TH.min_hold_s  # never sooner than the hold
            assert new.level == alerts.hold_level(meas, TH) < prev.level
        else:
            assert new is prev


@hsettings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.floats(0.1, 30), st.floats(0, 1)), min_size=1, max_size=80))
def test_noise_around_a_threshold_does_not_flap(open_, noise):
    """Waiting jitters between the clearing point and just over the level-1 threshold: once
    raised, the alert stays up — at most one transition, however the noise falls."""
    lo = int(-(-TH.clear_ratio * TH.level1_per_counter * open_ // 1))  # ceil(0.8 × 2.5 × N)
    hi = max(lo, int(-(-TH.level1_per_counter * open_ // 1)))  # ceil(2.5 × N): raises level 1
    hi = min(hi, int(-(-TH.level2_per_counter * open_ // 1)) - 1)  # never reaches level 2
    steps = [(dt, lo + round(u * (hi - lo)), open_, 0.0) for dt, u in noise]
    changes = [(p, n) for p, n, _, _ in run(steps) if p is not n]
    assert len(changes) <= 1
    assert all(n.level == 1 for _, n in changes)


@hsettings(max_examples=150, deadline=None)
@given(st.lists(step, min_size=1, max_size=80))
def test_clearings_are_rate_limited_by_the_hold(steps):
    result = run(steps)
    downs = sum(1 for p, n, _, _ in result if n.level < p.level)
    total = result[-1][3]
    assert downs <= total // TH.min_hold_s + 1


# -- the monitor on a real engine --------------------------------------------------------------
@pytest.fixture
def hall(tmp_path):
    h = Hall(tmp_path / "kiosk.db")
    h.at("09:00")
    yield h
    h.close()


def alert_events(hall: Hall) -> list[dict]:
    rows = hall.engine.conn.execute("SELECT body FROM outbox WHERE type LIKE 'alert.%' ORDER BY seq").fetchall()
    return [json.loads(r[0]) for r in rows]


def test_monitor_raises_steps_down_and_clears_with_one_event_per_transition(hall):
    eng = hall.engine
    mon = AlertMonitor(eng, hall.settings)
    eng.subscribe(lambda events: mon.evaluate())  # after every committed event, as the app does
    hall.open(1, 2)
    for _ in range(4):
        eng.issue("A")
    assert alert_events(hall) == [] and mon.state.level == 0
    eng.issue("A")  # 5 waiting at 2 open counters
    [ev] = alert_events(hall)
    assert ev["type"] == "alert.raised"
    assert (ev["level"], ev["previous_level"], ev["waiting"], ev["open_counters"]) == (1, 0, 5, 2)
    assert ev["code"] == "queue_level1" and ev["reason"].startswith("queue_level1: 5 waiting at 2 open counters")
    assert ev["over_target"] == [] and ev["branch"] == "demo-001"
    for _ in range(3):
        mon.evaluate()  # the timer: nothing new
    assert len(alert_events(hall)) == 1
    eng.issue("B")
    eng.issue("B")  # 7 waiting: level 2
    evs = alert_events(hall)
    assert [e["level"] for e in evs] == [1, 2]
    row = eng.conn.execute("SELECT level, reason, since_t FROM alert_state").fetchone()
    assert (row[0], row[1]) == (2, evs[-1]["reason"])
    assert snapshot(eng)["alert"]["level"] == 2
    eng.call_next(1)
    eng.call_next(2)  # 5 waiting: below 5.6, but the hold is not over
    assert len(alert_events(hall)) == 2
    hall.clock.advance(61)
    mon.evaluate()
    evs = alert_events(hall)
    assert [(e["type"], e["level"], e["previous_level"]) for e in evs][-1] == ("alert.raised", 1, 2)
    for _ in range(5):
        eng.call_next(1)  # the queue empties (each call finishes the previous customer)
    hall.clock.advance(30)
    mon.evaluate()
    assert len(alert_events(hall)) == 3  # held 60 s from the step down
    hall.clock.advance(31)
    mon.evaluate()
    evs = alert_events(hall)
    assert [e["type"] for e in evs] == ["alert.raised", "alert.raised", "alert.raised", "alert.cleared"]
    assert evs[-1]["level"] == 0 and evs[-1]["code"] == "cleared"
    assert mon.state.level == 0 and snapshot(eng)["alert"]["level"] == 0


def test_monitor_no_open_counter_and_over_target(hall):
    eng = hall.engine
    mon = AlertMonitor(eng, hall.settings)
    eng.issue("V")
    mon.evaluate()
    [ev] = alert_events(hall)
    assert (ev["level"], ev["code"], ev["waiting"], ev["open_counters"]) == (2, "no_counters", 1, 0)
    hall.open()  # 4 counters, 1 waiting: the queue is short, but V's target is 5 min
    hall.clock.advance(120)
    mon.evaluate()  # 1 waiting at 4 counters, V has waited 2 min: nothing holds any more
    ev = alert_events(hall)[-1]
    assert (len(alert_events(hall)), ev["type"], ev["previous_level"]) == (2, "alert.cleared", 2)
    hall.clock.advance(181)  # V has waited 5 min 1 s
    mon.evaluate()
    ev = alert_events(hall)[-1]
    assert (ev["type"], ev["level"], ev["code"], ev["over_target"]) == ("alert.raised", 1, "wait_over_target", ["V"])
    assert ev["longest_wait_s"] == {"V": 301.0}


def test_monitor_write_is_atomic(hall, monkeypatch):
    eng = hall.engine
    mon = AlertMonitor(eng, hall.settings)
    eng.issue("A")  # nobody open: level 2 is due

    def broken(*a, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(eng, "emit", broken)
    with pytest.raises(RuntimeError):
        mon.evaluate()
    assert eng.conn.execute("SELECT level, reason FROM alert_state").fetchone()[:] == (0, "")
    monkeypatch.undo()
    assert mon.evaluate().level == 2
    assert eng.conn.execute("SELECT level FROM alert_state").fetchone()[0] == 2
    assert mon.state.reason == "no_counters" and mon.state.level == 2
