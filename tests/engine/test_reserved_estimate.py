"""Reserved tickets in the wait estimate and "people ahead" (docs/queueing.md, "Reserved tickets"):
the estimator's hall marks each reserved ticket with its counter, so the estimate and the count
agree with the engine, which calls it there first and nowhere else."""
from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings as hsettings
from hypothesis import strategies as st

from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.domain.clock import FakeClock
from kiosk.engine.hall_view import read_hall
from kiosk.engine.queue_engine import QueueEngine
from kiosk.estimate import WaitEstimator
from kiosk.storage.store import Store
from tests.engine.test_clerks_at_counters import add_clerks
from tests.kit.settings import CN, settings_with

EXPECTED_S = {"A": 300.0, "B": 600.0, "V": 480.0}


def two_counters(settings):
    """Counter 1 serves A only, counter 2 B only, counter 3 V only."""
    return settings_with(settings, counters=[{"number": 1, "services": ["A"]}, {"number": 2, "services": ["B"]},
                                             {"number": 3, "services": ["V"], "vip_first": True}])


def hall_before_the_fix(engine):
    """What the estimator saw before reservations were counted: every waiting ticket, unmarked."""
    return read_hall(engine.conn, engine.time.now(), engine.clock.wall(), engine.settings, engine._counters,
                     engine._starvation)


def test_a_ticket_reserved_for_another_counter_is_not_ahead_of_a_new_ticket(make_engine, settings, clock):
    engine = make_engine(two_counters(settings))
    for _ in range(3):
        engine.issue("A"); clock.advance(10)
    engine.call_next(1)                                        # A001
    engine.transfer(1, to_counter=2)                           # reserved for counter 2, still an A ticket
    est = WaitEstimator(EXPECTED_S)
    now_ahead = est.forecast_service(engine.hall_view(), "A")
    before = est.forecast_service(hall_before_the_fix(engine), "A")
    assert now_ahead[1] == before[1] - 1 == 2                  # A002, A003; no longer A001
    assert now_ahead[0] < before[0]
    assert engine.outlook()["A"][1] == 2
    new = engine.issue("A")
    assert new.ahead == 2
    assert [engine.call_next(1).ticket for _ in range(3)] == ["A002", "A003", new.ticket]
    assert engine.call_next(2).ticket == "A001"


def test_a_ticket_reserved_for_a_closed_counter_waits_for_it_and_then_goes_first_there(make_engine, settings,
                                                                                       clock):
    engine = make_engine(settings_with(settings, counters=[{"number": 1, "services": ["A"]},
                                                             {"number": 2, "services": ["B", "A", "V"]}]),
                         open_counters=False)
    engine.set_counter(2, "open")
    engine.issue("B"); clock.advance(10)
    engine.issue("A"); clock.advance(10)
    assert engine.call_next(2).ticket == "B001"
    engine.transfer(2, to_counter=1)                           # counter 1 does not serve B, and is closed
    new = engine.issue("A")
    assert new.ahead == 1                                      # A001 only: B001 waits for counter 1
    engine.set_counter(1, "open")
    later = engine.issue("A")                                  # counter 1 calls B001 first, then A tickets
    assert later.ahead == 3
    assert engine.call_next(1).ticket == "B001"


def test_a_reservation_for_a_clerk_signed_in_nowhere_counts_for_nobody(make_engine, settings, clock):
    engine = make_engine(two_counters(settings))
    add_clerks(engine, "E1", "E2")
    engine.sign_in(1, "E1")
    for _ in range(3):
        engine.issue("A"); clock.advance(10)
    engine.call_next(1)
    engine.transfer(1, to_clerk="E2")                          # E2 is signed in nowhere
    assert engine.issue("A").ahead == 2
    assert WaitEstimator(EXPECTED_S).forecast_service(hall_before_the_fix(engine), "A")[1] == 4
    engine.sign_in(2, "E2")                                    # at counter 2 (B only): still not ahead at 1
    assert engine.issue("A").ahead == 3
    engine.sign_in(1, "E2")                                    # at counter 1: called there first
    assert engine.issue("A").ahead == 5
    assert engine.call_next(1).ticket == "A001"


# -- the engine calls what the estimator simulated ----------------------------------------------

BASE = load_settings(DEFAULT_CONFIG)
_SVCS = BASE.model_dump(mode="json")["services"]
for _s in _SVCS:
    _s.update(numbers=[1, 99], on_exhausted="refuse", starvation_limit_min=1440)

counter_cfgs = st.lists(st.builds(lambda services, vip, order: {"services": services, "vip_first": vip, "order": order},
                                  st.lists(st.sampled_from(["A", "B", "V"]), min_size=1, max_size=3, unique=True),
                                  st.booleans(), st.sampled_from(["fifo", "strict"])), min_size=2, max_size=4)
steps = st.lists(st.tuples(st.sampled_from(["A", "B", "V"]), st.integers(0, 3), st.integers(1, 90),
                           st.one_of(st.none(), st.integers(0, 5))), min_size=1, max_size=14)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cfgs=counter_cfgs, steps=steps, data=st.data())
def test_the_engine_calls_in_the_order_the_estimator_simulated(cfgs, steps, data):
    """A random hall; some tickets called and transferred to a counter or a clerk (reserved);
    then one counter works alone. The estimator's simulation of that hall (from the engine's own
    hall view) says each ticket's people ahead; the engine then calls them, and the k-th it
    calls had k ahead; those it never calls (reserved elsewhere, other services) none of the
    called ones counted."""
    counters = [{"number": i + 1, **c} for i, c in enumerate(cfgs + [{"services": ["V", "B", "A"]}])]
    s = settings_with(BASE, services=_SVCS, counters=counters)
    numbers = [c["number"] for c in counters]
    clock = FakeClock(wall=datetime(2026, 11, 23, 9, 0, tzinfo=CN), tz=CN)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "k.db", synchronous="OFF")
        try:
            engine = QueueEngine(store, s, clock)
            add_clerks(engine, "E1", "E2", "E3")
            for c in numbers:
                engine.set_counter(c, "open")
            for n, clerk in zip(numbers, ("E1", "E2")):
                engine.sign_in(n, clerk)
            tiers = [t.id for t in s.tiers]
            for service, tier, dt, move in steps:
                clock.advance(dt)
                engine.issue(service, tier=tiers[tier - 1] if tier else None)
                if move is None:
                    continue
                at = numbers[move % len(numbers)]
                if engine.call_next(at) is None:
                    continue
                to = [n for n in numbers if n != at]
                clerk = ("E1", "E2", "E3")[move - 3] if move >= 3 else None
                if clerk is not None and engine.counter_clerk(at) == clerk:
                    engine.finish(at)                          # a clerk's own customer: served, not moved
                elif clerk is not None:
                    engine.transfer(at, to_clerk=clerk)        # E3 is signed in nowhere
                else:
                    engine.transfer(at, to_counter=to[move % len(to)])
            alone = data.draw(st.sampled_from(numbers))
            for c in numbers:                                  # one counter works, idle; the others close
                if engine.conn.execute("SELECT ticket_id FROM counters WHERE number = ?", (c,)).fetchone()[0]:
                    engine.finish(c)
                if c != alone:
                    engine.set_counter(c, "closed")
            hall = engine.hall_view()
            est = WaitEstimator(EXPECTED_S)
            ahead = {t.ticket_id: est.ahead_of(hall, t.ticket_id) for t in hall.waiting}
            called = []
            while (r := engine.call_next(alone)) is not None:
                called.append(r.ticket_id)
            assert [ahead[tid] for tid in called] == list(range(len(called))), (called, ahead)
        finally:
            store.close()
