"""THE calling rule (`kiosk.domain.policy`): its one-pass order against the rule as written in
docs/queueing.md, and the promises it makes, property-tested over random queues and days."""
from __future__ import annotations

import heapq

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.policy import CallingRule, Candidate, choose_next, priority_first

SERVICES = ("A", "B", "V")
INF = float("inf")


def rule_as_written(services, vip_first, waiting, now, priority_at, limits, order, targets):
    """docs/queueing.md, literally, as successive filters."""
    rank = {s: i for i, s in enumerate(services)}
    eligible = [w for w in waiting if w.service in rank]
    if not eligible:
        return None

    def oldest(group):
        return min(group, key=lambda w: (w.queued_t, rank[w.service], w.ticket_id))

    if priority_first(vip_first, priority_at):
        vip = [w for w in eligible if w.priority > 0]
        if vip:
            timed = [w for w in vip if w.priority in targets]
            if timed:
                return min(timed, key=lambda w: (w.queued_t + targets[w.priority], w.priority, rank[w.service],
                                                 w.ticket_id))
            top = min(w.priority for w in vip)
            return oldest([w for w in vip if w.priority == top])
    if order == "fifo":
        return oldest(eligible)
    late = [w for w in eligible if now - w.queued_t >= limits.get(w.service, INF)]
    if late:
        return min(late, key=lambda w: (w.queued_t + limits[w.service], rank[w.service], w.ticket_id))
    first = min(rank[w.service] for w in eligible)
    return oldest([w for w in eligible if rank[w.service] == first])


candidates = st.lists(st.builds(Candidate, ticket_id=st.integers(1, 60), service=st.sampled_from(SERVICES),
                                priority=st.integers(0, 3), queued_t=st.integers(0, 100).map(float)),
                      max_size=12, unique_by=lambda c: c.ticket_id)
limit_maps = st.dictionaries(st.sampled_from(SERVICES), st.integers(0, 150).map(float))
target_maps = st.dictionaries(st.integers(1, 3), st.integers(0, 150).map(float))
service_lists = st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True)


@settings(max_examples=600, deadline=None)
@given(waiting=candidates, services=service_lists, vip_first=st.booleans(),
       priority_at=st.sampled_from(["vip_first", "all"]), now=st.integers(0, 200).map(float),
       limits=limit_maps, order=st.sampled_from(["fifo", "strict"]), targets=target_maps)
def test_the_rule_calls_what_it_says(waiting, services, vip_first, priority_at, now, limits, order, targets):
    rule = CallingRule(services, vip_first, priority_at, limits, order=order, tier_targets_s=targets)
    expected = rule_as_written(services, vip_first, waiting, now, priority_at, limits, order, targets)
    assert rule.choose(waiting, now) == expected
    assert choose_next(services, vip_first, waiting, now, priority_at, limits, order=order,
                       tier_targets_s=targets) == expected
    at = rule.choose_index(waiting, now)
    assert (None if at is None else waiting[at]) == expected


@settings(max_examples=400, deadline=None)
@given(waiting=candidates, services=service_lists, now=st.integers(0, 200).map(float), limits=limit_maps,
       order=st.sampled_from(["fifo", "strict"]), targets=target_maps)
def test_at_a_vip_first_counter_a_waiting_priority_ticket_is_always_called_before_normal_tickets(
        waiting, services, now, limits, order, targets):
    rule = CallingRule(services, True, "vip_first", limits, order=order, tier_targets_s=targets)
    pick = rule.choose(waiting, now)
    if any(w.priority > 0 and w.service in services for w in waiting):
        assert pick.priority > 0


@settings(max_examples=400, deadline=None)
@given(waiting=candidates, services=service_lists, now=st.integers(0, 200).map(float), targets=target_maps)
def test_a_lower_tier_is_never_held_back_by_a_higher_tier_due_later(waiting, services, now, targets):
    rule = CallingRule(services, True, "vip_first", {}, tier_targets_s=targets)
    pick = rule.choose(waiting, now)
    for w in waiting:
        if w.service in services and w.priority > 0 and w.priority in targets and pick.priority in targets:
            assert pick.queued_t + targets[pick.priority] <= w.queued_t + targets[w.priority]


@settings(max_examples=400, deadline=None)
@given(waiting=candidates, services=service_lists, vip_first=st.booleans(), now=st.integers(0, 200).map(float),
       limits=limit_maps, order=st.sampled_from(["fifo", "strict"]), targets=target_maps)
def test_each_line_of_one_service_and_one_tier_is_called_in_the_order_it_queued(
        waiting, services, vip_first, now, limits, order, targets):
    """What the estimator's simulation relies on: the rule's choice among the heads of the lines
    (service, tier) is its choice among every waiting ticket."""
    rule = CallingRule(services, vip_first, "vip_first", limits, order=order, tier_targets_s=targets)
    heads = {}
    for w in sorted(waiting, key=lambda w: (w.queued_t, w.ticket_id)):
        heads.setdefault((w.service, w.priority), w)
    assert rule.choose(list(heads.values()), now) == rule.choose(waiting, now)


def test_a_starving_normal_ticket_never_overtakes_priority_at_a_vip_first_counter():
    rule = CallingRule(("A", "V"), True, "vip_first", {"A": 600.0})
    vip = Candidate(2, "V", 1, 500.0)
    starving = Candidate(1, "A", 0, 100.0)
    assert rule.choose([vip, starving], now=700.0) == vip
    assert rule.choose([vip, starving], now=100_000.0) == vip
    assert rule.sort_key(Candidate(3, "B", 0, 1.0), 700.0) is None  # a service it does not serve


def test_a_strict_counter_calls_its_first_service_first_until_the_other_passes_its_limit():
    rule = CallingRule(("B", "A"), False, "vip_first", {"A": 1200.0}, order="strict")
    a001, b001 = Candidate(1, "A", 0, 0.0), Candidate(2, "B", 0, 60.0)
    assert rule.choose([a001, b001], now=120.0) == b001
    assert rule.choose([a001, b001], now=1200.0) == a001
    fifo = CallingRule(("B", "A"), False, "vip_first", {"A": 1200.0}, order="fifo")
    assert fifo.choose([a001, b001], now=120.0) == a001


def test_tiers_are_called_highest_first_then_by_time():
    targets = {1: 300.0, 2: 480.0, 3: 720.0}
    rule = CallingRule(("V",), True, "vip_first", {}, tier_targets_s=targets)
    silver, gold, diamond = Candidate(1, "V", 3, 0.0), Candidate(2, "V", 2, 10.0), Candidate(3, "V", 1, 20.0)
    assert rule.choose([silver, gold, diamond], now=100.0) == diamond
    assert rule.choose([silver, gold], now=100.0) == gold
    # a silver ticket due at 12:00 goes before a diamond due later (issued at 07:01, due 12:01) ...
    assert rule.choose([silver, Candidate(4, "V", 1, 421.0)], now=500.0) == silver
    # ... and after one due sooner (issued at 06:59, due 11:59)
    assert rule.choose([silver, Candidate(5, "V", 1, 419.0)], now=500.0) == Candidate(5, "V", 1, 419.0)


def test_people_ahead_by_the_rule_counts_other_services_the_counter_prefers():
    rule = CallingRule(("A", "B"), False, "vip_first", {}, order="fifo")
    b1, b2, a_new = Candidate(1, "B", 0, 0.0), Candidate(2, "B", 0, 5.0), Candidate(3, "A", 0, 10.0)
    assert rule.count_before([b1, b2], a_new, now=10.0) == 2
    assert CallingRule(("A", "B"), False, "vip_first", {}, order="strict").count_before([b1, b2], a_new, 10.0) == 0
    assert CallingRule(("C",), False, "vip_first", {}).count_before([b1], a_new, 10.0) is None


# -- a day at one VIP-first counter: the promise, not the mechanics ------------------------------

def run_day(arrivals, durations, rule):
    """One counter, non-preemptive: it calls by `rule` whenever it is free. Returns each
    ticket's wait."""
    waiting, waits, t, i = [], {}, 0.0, 0
    arrivals = sorted(arrivals, key=lambda c: c.queued_t)
    while i < len(arrivals) or waiting:
        while i < len(arrivals) and arrivals[i].queued_t <= t:
            waiting.append(arrivals[i])
            i += 1
        if not waiting:
            t = arrivals[i].queued_t
            continue
        pick = rule.choose(waiting, t)
        waiting.remove(pick)
        waits[pick.ticket_id] = t - pick.queued_t
        t += durations[pick.ticket_id]
    return waits


@settings(max_examples=150, deadline=None)
@given(normal=st.lists(st.integers(0, 3600), min_size=5, max_size=60),
       gaps=st.lists(st.integers(480, 1500), min_size=1, max_size=6),
       durations=st.lists(st.integers(60, 480), min_size=70, max_size=70),
       tiers=st.lists(st.integers(1, 3), min_size=6, max_size=6), order=st.sampled_from(["fifo", "strict"]))
def test_overloaded_day_priority_tickets_wait_at_most_one_service_when_their_arrivals_fit(
        normal, gaps, durations, tiers, order):
    """However many normal tickets wait, however long (past their starvation limits), a priority
    ticket at a VIP-first counter waits only for the customer at the counter, when priority
    arrivals are at least one service time apart (their load fits the counter)."""
    tickets = [Candidate(i + 1, "A", 0, float(t)) for i, t in enumerate(normal)]
    t = 0.0
    for k, gap in enumerate(gaps):
        t += gap
        tickets.append(Candidate(1000 + k, "V", tiers[k], t))
    dur = {c.ticket_id: float(durations[i % len(durations)]) for i, c in enumerate(tickets)}
    rule = CallingRule(("V", "A"), True, "vip_first", {"A": 600.0}, order=order,
                       tier_targets_s={1: 300.0, 2: 480.0, 3: 720.0})
    waits = run_day(tickets, dur, rule)
    longest_service = max(dur.values())
    for c in tickets:
        if c.priority:
            assert waits[c.ticket_id] <= longest_service, (c, waits[c.ticket_id])


def test_the_found_case_four_starving_a_tickets_and_a_vip():
    """Issue 13: four A tickets past their limit, then a VIP, one VIP-first counter: the VIP first."""
    rule = CallingRule(("V", "A"), True, "vip_first", {"A": 1200.0}, order="strict", tier_targets_s={1: 300.0})
    a = [Candidate(i + 1, "A", 0, float(i)) for i in range(4)]
    vip = Candidate(9, "V", 1, 2000.0)
    assert rule.choose(a + [vip], now=2001.0) == vip


def test_the_heap_order_of_the_keys_is_the_calling_order():
    rule = CallingRule(("V", "A", "B"), True, "vip_first", {"A": 50.0, "B": 50.0}, order="strict",
                       tier_targets_s={1: 30.0})
    waiting = [Candidate(1, "A", 0, 0.0), Candidate(2, "B", 0, 10.0), Candidate(3, "V", 1, 20.0),
               Candidate(4, "A", 0, 40.0)]
    heap = [(rule.sort_key(w, 45.0), w.ticket_id) for w in waiting]
    heapq.heapify(heap)
    assert [heapq.heappop(heap)[1] for _ in range(4)] == [3, 1, 4, 2]


def test_priority_tickets_queued_together_go_to_the_counters_preferred_service():
    rule = CallingRule(("V", "B", "A"), True, "vip_first", {}, order="strict")
    a, b = Candidate(1, "A", 3, 0.0), Candidate(2, "B", 3, 0.0)
    assert rule.choose([a, b], 0.0) == b
    assert rule_as_written(("V", "B", "A"), True, [a, b], 0.0, "vip_first", {}, "strict", {}) == b
