"""Behaviour of the wait estimator (kiosk/estimate/): fast, deterministic, no engine."""

from __future__ import annotations

import dataclasses
import logging
import math
import random
import time

import pytest

from kiosk.domain.policy import Candidate, choose_next
from kiosk.estimate import CounterView, EstimatorParams, HallView, WaitEstimator, WaitingTicket, humanize_wait
from kiosk.estimate.samples import DurationWindow

SERVICES = {"A": 300.0, "B": 600.0, "V": 480.0}


def counter(number, services=("A", "B"), *, vip_first=False, state="open", busy=None, since=None, order="fifo"):
    return CounterView(number=number, services=tuple(services), vip_first=vip_first, state=state,
                       busy_service=busy, busy_since=since, order=order)


def hall(waiting, counters, *, now=1000.0, priority_at="vip_first", limits=None):
    return HallView(now=now, hour=10, waiting=tuple(waiting), counters=tuple(counters),
                    priority_at=priority_at, starvation_limit_s=limits or {})


def tickets(n, service="A", *, start=1, t0=0.0, step=10.0, priority=0):
    return [WaitingTicket(ticket_id=start + i, service=service, priority=priority, queued_at=t0 + i * step)
            for i in range(n)]


def busy_counters(n, services=("A", "B"), *, since=900.0, service="A", first=1):
    return [counter(first + i, services, busy=service, since=since) for i in range(n)]


def test_more_people_ahead_gives_a_longer_estimate():
    est = WaitEstimator(SERVICES)
    cs = busy_counters(3)
    values = []
    for n in (1, 4, 10, 25):
        w = tickets(n)
        values.append(est.estimate_for(hall(w, cs), w[-1].ticket_id))
    assert values == sorted(values)
    assert values[0] < values[1] < values[2] < values[3]
    # roughly n / counters service times for a long queue
    assert 25 / 3 * 300 * 0.6 < values[-1] < 25 / 3 * 300 * 1.6


def test_a_closed_counter_raises_the_estimate():
    est = WaitEstimator(SERVICES)
    w = tickets(8)
    three = busy_counters(3)
    one_closed = three[:2] + [counter(3, state="closed")]
    assert est.estimate_for(hall(w, one_closed), 8) > 1.2 * est.estimate_for(hall(w, three), 8)


def test_a_paused_counter_counts_less_than_an_open_one():
    est = WaitEstimator(SERVICES)
    w = tickets(8)
    three = busy_counters(3)
    paused = three[:2] + [counter(3, state="paused")]
    closed = three[:2] + [counter(3, state="closed")]
    e_open, e_paused, e_closed = (est.estimate_for(hall(w, cs), 8) for cs in (three, paused, closed))
    assert e_open <= e_paused <= e_closed


def test_vip_ticket_at_a_vip_first_hall_gets_a_short_estimate():
    est = WaitEstimator(SERVICES)
    normal = tickets(20, "B")
    vip = WaitingTicket(ticket_id=99, service="V", priority=1, queued_at=900.0)
    cs = [counter(1, ("V", "B", "A"), vip_first=True, busy="B", since=950.0)] + busy_counters(
        3, ("A", "B"), first=2)
    h = hall(normal + [vip], cs)
    e_vip = est.estimate_for(h, 99)
    e_last_normal = est.estimate_for(h, 20)
    assert e_vip < 600  # only the current customer of counter 1 is in front of it
    assert e_vip < e_last_normal / 4


def test_priority_only_jumps_ahead_at_vip_first_counters():
    est = WaitEstimator(SERVICES)
    normal = tickets(10, "A")
    vip = WaitingTicket(ticket_id=99, service="V", priority=1, queued_at=900.0)
    plain = [counter(1, ("V", "A"), vip_first=False, busy="A", since=950.0)]
    first = [counter(1, ("V", "A"), vip_first=True, busy="A", since=950.0)]
    e_plain = est.estimate_for(hall(normal + [vip], plain), 99)
    e_first = est.estimate_for(hall(normal + [vip], first), 99)
    e_all = est.estimate_for(hall(normal + [vip], plain, priority_at="all"), 99)
    assert e_first < e_plain / 3
    assert e_all == pytest.approx(e_first, rel=0.05)


def test_a_ticket_past_its_starvation_limit_is_not_passed_over_at_a_strict_counter():
    est = WaitEstimator(SERVICES)
    old = WaitingTicket(ticket_id=1, service="A", priority=0, queued_at=0.0)  # waited 2000 s
    later = [WaitingTicket(ticket_id=10 + i, service="B", priority=0, queued_at=1500.0 + i) for i in range(4)]
    cs = [counter(1, ("B", "A"), busy="B", since=1900.0, order="strict")]
    h_no_limit = hall([old] + later, cs, now=2000.0)
    h_limit = hall([old] + later, cs, now=2000.0, limits={"A": 1200.0, "B": 900.0})
    assert est.estimate_for(h_limit, 1) < est.estimate_for(h_no_limit, 1) / 3


def test_no_starvation_limit_lets_a_normal_ticket_overtake_priority_at_a_vip_first_counter():
    est = WaitEstimator(SERVICES)
    old = WaitingTicket(ticket_id=1, service="A", priority=0, queued_at=0.0)  # waited 2000 s
    vips = [WaitingTicket(ticket_id=10 + i, service="V", priority=1, queued_at=1500.0 + i) for i in range(4)]
    cs = [counter(1, ("V", "A"), vip_first=True, busy="V", since=1900.0, order="strict")]
    h_limit = hall([old] + vips, cs, now=2000.0, limits={"A": 1200.0, "V": 900.0})
    assert est.ahead_of(h_limit, 1) == 4
    assert est.ahead_of(h_limit, 10) == 0


def test_starvation_limits_the_hall_does_not_apply_are_unlearned():
    old = WaitingTicket(ticket_id=1, service="A", priority=0, queued_at=0.0)
    later = [WaitingTicket(ticket_id=10 + i, service="B", priority=0, queued_at=1500.0 + i) for i in range(4)]
    cs = [counter(1, ("B", "A"), busy="B", since=1900.0, order="strict")]
    limits = {"A": 1200.0, "B": 3000.0}
    h = hall([old] + later, cs, now=2000.0, limits=limits)
    est = WaitEstimator(SERVICES)
    honoured = est.estimate_for(h, 1)
    # the recorded hall twice calls its preferred service past a ticket of the other beyond its limit
    for k in range(2):
        base = 10_000.0 * (k + 1)
        est.observe({"type": "ticket.issued", "ticket_id": 100 + k, "service": "A", "priority": 0}, base)
        est.observe({"type": "ticket.issued", "ticket_id": 200 + k, "service": "B", "priority": 0}, base + 10)
        est.observe({"type": "ticket.called", "ticket_id": 200 + k, "service": "B", "priority": 0,
                     "counter": 1, "wait_s": 1990.0}, base + 2000)
        est.observe({"type": "ticket.called", "ticket_id": 100 + k, "service": "A", "priority": 0,
                     "counter": 1, "wait_s": 2500.0}, base + 2500)
    unlearned = est.estimate_for(h, 1)
    plain = WaitEstimator(SERVICES).estimate_for(hall([old] + later, cs, now=2000.0), 1)
    assert honoured < plain / 3
    assert unlearned == pytest.approx(plain, rel=0.05)


def test_elapsed_time_at_a_busy_counter_reduces_the_estimate():
    est = WaitEstimator(SERVICES)
    w = tickets(1, "B", t0=1000.0)
    fresh = [counter(1, ("B",), busy="B", since=1000.0)]
    nearly_done = [counter(1, ("B",), busy="B", since=1000.0 - 500.0)]
    assert est.estimate_for(hall(w, nearly_done), 1) < est.estimate_for(hall(w, fresh), 1)


def test_an_idle_counter_means_almost_no_wait():
    est = WaitEstimator(SERVICES)
    w = tickets(1, "A", t0=1000.0)
    assert est.estimate_for(hall(w, [counter(1, ("A",))]), 1) < 30


def test_learning_moves_the_service_time():
    est = WaitEstimator({"A": 180.0})
    assert est.expected_service("A") == pytest.approx(180.0)
    w = tickets(6)
    cs = busy_counters(2, ("A",))
    before = est.estimate_for(hall(w, cs), 6)
    t = 0.0
    for i in range(30):
        t += 600.0
        est.observe({"type": "ticket.called", "ticket_id": 500 + i, "service": "A", "priority": 0,
                     "counter": 1, "wait_s": 10.0}, t - 600.0)
        est.observe({"type": "ticket.finished", "ticket_id": 500 + i, "service": "A", "counter": 1,
                     "service_s": 600.0}, t)
    assert est.expected_service("A") > 500.0
    w = tickets(6, t0=t - 60.0)  # the same line, queued after the learning period
    after = est.estimate_for(hall(w, busy_counters(2, ("A",), since=t - 100.0), now=t), 6)
    assert after > 2 * before


def test_noshows_are_learned_and_shorten_the_estimate():
    plain, noshows = WaitEstimator(SERVICES), WaitEstimator(SERVICES)
    t = 0.0
    for i in range(60):
        tid = 1000 + i
        for est in (plain, noshows):
            est.observe({"type": "ticket.called", "ticket_id": tid, "service": "B", "counter": 1,
                         "wait_s": 5.0}, t)
        plain.observe({"type": "ticket.finished", "ticket_id": tid, "service": "B", "counter": 1,
                       "service_s": 600.0}, t + 600.0)
        if i % 2:
            noshows.observe({"type": "ticket.noshow", "ticket_id": tid, "service": "B", "counter": 1,
                             "requeued": False}, t + 60.0)
        else:
            noshows.observe({"type": "ticket.finished", "ticket_id": tid, "service": "B", "counter": 1,
                             "service_s": 600.0}, t + 600.0)
        t += 600.0
    w = tickets(10, "B", t0=t - 100.0)
    h = hall(w, busy_counters(2, ("B",), service="B", since=t - 100.0), now=t)
    assert noshows.estimate_for(h, 10) < 0.8 * plain.estimate_for(h, 10)


def test_a_ticket_the_hall_keeps_passing_over_is_not_counted_ahead():
    est = WaitEstimator(SERVICES)
    stuck = WaitingTicket(ticket_id=1, service="A", priority=0, queued_at=0.0)  # e.g. requeued, never called
    w = tickets(4, "A", start=10, t0=1000.0)
    cs = busy_counters(1, ("A",), since=1900.0)
    with_stuck = est.estimate_for(hall([stuck] + w, cs, now=2000.0), 13)
    est.observe({"type": "ticket.issued", "ticket_id": 1, "service": "A", "priority": 0}, 0.0)
    for i in range(3):  # three later A tickets are called before it
        est.observe({"type": "ticket.issued", "ticket_id": 100 + i, "service": "A", "priority": 0}, 100.0 + i)
        est.observe({"type": "ticket.called", "ticket_id": 100 + i, "service": "A", "priority": 0,
                     "counter": 1, "wait_s": 50.0}, 150.0 + i)
    without = est.estimate_for(hall([stuck] + w, cs, now=2000.0), 13)
    assert without < with_stuck
    assert without == pytest.approx(WaitEstimator(SERVICES).estimate_for(hall(w, cs, now=2000.0), 13), rel=0.05)


def test_estimate_service_for_the_screen():
    est = WaitEstimator(SERVICES)
    cs = busy_counters(2)
    short = est.estimate_service(hall(tickets(2), cs), "A")
    long = est.estimate_service(hall(tickets(12), cs), "A")
    assert 0 <= short < long
    # a new ticket waits at least as long as the last one already waiting
    assert long >= est.estimate_for(hall(tickets(12), cs), 12) - 1e-6


def test_estimates_are_deterministic():
    w = tickets(7) + tickets(5, "B", start=20)
    cs = busy_counters(3)
    a = WaitEstimator(SERVICES).estimate_for(hall(w, cs), 24)
    b = WaitEstimator(SERVICES).estimate_for(hall(w, cs), 24)
    assert a == b


def test_estimates_are_never_negative_or_nan():
    rng = random.Random(7)
    est = WaitEstimator(SERVICES)
    for k in range(80):
        now = rng.uniform(0, 30000)
        svcs = ["A", "B", "V"]
        waiting = [WaitingTicket(ticket_id=i, service=rng.choice(svcs), priority=rng.random() < 0.2,
                                 queued_at=now - rng.uniform(0, 4000)) for i in range(rng.randint(1, 40))]
        counters = []
        for n in range(rng.randint(0, 6)):
            busy = rng.choice([None, "A", "B", "V"])
            counters.append(counter(n + 1, tuple(rng.sample(svcs, rng.randint(1, 3))),
                                    vip_first=rng.random() < 0.4,
                                    state=rng.choice(["open", "open", "paused", "closed"]),
                                    busy=busy, since=None if busy is None else now - rng.uniform(0, 3000)))
        h = hall(waiting, counters, now=now, priority_at=rng.choice(["vip_first", "all"]),
                 limits={"A": 1200.0} if k % 2 else {})
        for t in waiting[:5]:
            v = est.estimate_for(h, t.ticket_id)
            assert math.isfinite(v) and v >= 0
        for s in svcs:
            v = est.estimate_service(h, s, priority=k % 2)
            assert math.isfinite(v) and v >= 0
        # the estimator learns from whatever the day throws at it without breaking
        est.observe({"type": "ticket.finished", "service": rng.choice(svcs), "counter": 1,
                     "service_s": rng.choice([0.0, 5.0, 900.0, float("nan"), None])}, now)
        est.observe({"type": "ticket.noshow", "service": "A", "counter": 2}, now)
        est.observe({"type": "counter.closed", "counter": rng.randint(1, 6)}, now)
        est.observe({"type": "counter.opened", "counter": rng.randint(1, 6)}, now + 1)
    assert est.estimate_for(hall(tickets(1), []), 999) == 0.0  # not waiting: 0


def test_no_counter_serves_the_service():
    est = WaitEstimator(SERVICES)
    w = tickets(3, "B")
    v = est.estimate_for(hall(w, [counter(1, ("A",))]), 3)
    assert math.isfinite(v) and v > 0


def test_an_estimate_is_cheap():
    est = WaitEstimator(SERVICES)
    w = tickets(30) + tickets(25, "B", start=100) + tickets(5, "V", start=200, priority=1)
    cs = [counter(1, ("V", "B", "A"), vip_first=True, busy="V", since=800.0)] + busy_counters(6, first=2)
    h = hall(w, cs)
    t0 = time.process_time()
    for t in w[::6]:
        est.estimate_for(h, t.ticket_id)
    per = (time.process_time() - t0) / len(w[::6])
    assert per < 0.05  # typically ~1 ms


def finished(service="A", service_s=600.0, counter=1, ticket_id=500):
    return {"type": "ticket.finished", "ticket_id": ticket_id, "service": service, "counter": counter,
            "service_s": service_s}


@pytest.mark.parametrize("event, now, reason", [
    (finished(service_s="600"), 10.0, "ticket.finished: service_s is not a finite number of seconds >= 0"),
    (finished(service_s=-5.0), 10.0, "ticket.finished: service_s is not a finite number of seconds >= 0"),
    (finished(ticket_id=[500]), 10.0, "ticket.finished: ticket_id is not an integer"),
    (finished(counter="back office"), 10.0, "ticket.finished: counter names no counter number"),
    ({"type": "ticket.issued", "ticket_id": 7, "service": "A", "priority": "vip"}, 10.0,
     "ticket.issued: priority is not a priority tier 0..9"),
    ({"service": "A"}, 10.0, "the event has no type"),
    (finished(), "soon", "the event time is not a finite number"),
    (finished(), float("nan"), "the event time is not a finite number"),
])
def test_a_malformed_event_is_rejected_with_its_reason_and_teaches_nothing(event, now, reason, caplog):
    est = WaitEstimator({"A": 180.0})
    with caplog.at_level(logging.WARNING, logger="kiosk.estimate.estimator"):
        est.observe(event, now)
        est.observe(event, now)
    assert est.rejected == {reason: 2}
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # once per reason, then quietly
    assert reason in caplog.records[0].getMessage()
    assert est.expected_service("A") == pytest.approx(180.0)
    est.observe(finished(service_s=600.0), 20.0)  # a well-formed event still teaches
    assert est.expected_service("A") > 180.0


def test_an_event_kind_the_estimator_does_not_learn_from_is_not_a_malformed_event():
    est = WaitEstimator(SERVICES)
    est.observe({"type": "ticket.printed", "ticket_id": "not checked", "counter": None}, 5.0)
    assert not est.rejected


def test_a_bug_while_learning_raises(monkeypatch):
    est = WaitEstimator(SERVICES)

    def broken(self, seconds):
        raise KeyError("a bug in learning")

    monkeypatch.setattr(DurationWindow, "add", broken)
    with pytest.raises(KeyError, match="a bug in learning"):
        est.observe(finished(), 10.0)


def test_the_tunables_are_one_frozen_record():
    params = dataclasses.replace(EstimatorParams(), mc_runs=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.mc_runs = 3
    with pytest.raises(ValueError, match="noshow_wait_edges_s"):
        EstimatorParams(noshow_wait_edges_s=(600.0, 300.0))
    w = tickets(5)
    cs = busy_counters(2)
    one_pass = WaitEstimator(SERVICES, params=params)
    assert one_pass.estimate_for(hall(w, cs), 5) != WaitEstimator(SERVICES).estimate_for(hall(w, cs), 5)


@pytest.mark.parametrize("counter_view, waiting, limits", [
    # a VIP-first counter: the normal ticket past its limit goes first, even before an older VIP
    (counter(1, ("V", "A"), vip_first=True, busy="V", since=1900.0),
     [WaitingTicket(1, "V", 1, 50.0), WaitingTicket(2, "A", 0, 100.0), WaitingTicket(3, "V", 1, 1500.0)],
     {"A": 1200.0}),
    # a plain counter, a priority and a normal ticket taken at the same moment: the first issued goes first
    (counter(1, ("A",), busy="A", since=900.0),
     [WaitingTicket(1, "A", 0, 500.0), WaitingTicket(2, "A", 1, 500.0)], {}),
])
def test_the_simulation_calls_what_the_calling_rule_calls(counter_view, waiting, limits):
    h = hall(waiting, [counter_view], now=2000.0, limits=limits)
    rule = choose_next(counter_view.services, counter_view.vip_first,
                       [Candidate(t.ticket_id, t.service, t.priority, t.queued_at) for t in waiting],
                       h.now, h.priority_at, limits)
    est = WaitEstimator(SERVICES)
    estimates = {t.ticket_id: est.estimate_for(h, t.ticket_id) for t in waiting}
    assert min(estimates, key=estimates.get) == rule.ticket_id
    assert all(estimates[rule.ticket_id] < v for k, v in estimates.items() if k != rule.ticket_id)


def test_a_preferred_call_past_a_younger_starving_ticket_tells_the_limit_is_not_applied():
    # at a strict counter the calling rule calls a ticket past its limit before the counter's
    # preferred service; a hall that calls the preferred service anyway does not apply it
    old = WaitingTicket(ticket_id=1, service="A", priority=0, queued_at=0.0)
    later = [WaitingTicket(ticket_id=10 + i, service="B", priority=0, queued_at=1500.0 + i) for i in range(4)]
    cs = [counter(1, ("B", "A"), busy="B", since=1900.0, order="strict")]
    h = hall([old] + later, cs, now=2000.0, limits={"A": 1200.0, "B": 3000.0})
    est = WaitEstimator(SERVICES)
    honoured = est.estimate_for(h, 1)
    for k in range(2):
        base = 10_000.0 * (k + 1)
        est.observe({"type": "ticket.issued", "ticket_id": 200 + k, "service": "B", "priority": 0}, base)
        est.observe({"type": "ticket.issued", "ticket_id": 100 + k, "service": "A", "priority": 0}, base + 10)
        est.observe({"type": "ticket.called", "ticket_id": 200 + k, "service": "B", "priority": 0,
                     "counter": 1, "wait_s": 2000.0}, base + 2000)
    plain = WaitEstimator(SERVICES).estimate_for(hall([old] + later, cs, now=2000.0), 1)
    assert honoured < plain / 3
    assert est.estimate_for(h, 1) == pytest.approx(plain, rel=0.05)


@pytest.mark.parametrize(
    "seconds, en, zh",
    [
        (0, "no wait", "无需等待"),
        (20, "no wait", "无需等待"),
        (45, "less than 1 min", "不到1分钟"),
        (60, "about 1 min", "约1分钟"),
        (150, "about 3 min", "约3分钟"),
        (299, "about 5 min", "约5分钟"),
        (420, "about 5 min", "约5分钟"),
        (600, "about 10 min", "约10分钟"),
        (1000, "about 15 min", "约15分钟"),
        (3600, "about 1 h", "约1小时"),
        (4200, "about 1 h 10 min", "约1小时10分钟"),
        (-5, "no wait", "无需等待"),
        (float("nan"), "no wait", "无需等待"),
    ],
)
def test_humanize_wait(seconds, en, zh):
    assert humanize_wait(seconds, "en") == en
    assert humanize_wait(seconds, "zh") == zh
    assert humanize_wait(seconds, "zh-CN") == zh
