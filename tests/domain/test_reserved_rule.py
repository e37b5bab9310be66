"""Reserved tickets in THE calling rule (docs/queueing.md, "Reserved tickets"): a ticket reserved
for a counter is called there first, the first reserved first, whatever its service or tier, and
no other counter sees it; the rule's order and its count of people ahead say the same."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.policy import CallingRule, Candidate
from tests.domain.test_policy import SERVICES, limit_maps, rule_as_written, service_lists, target_maps

COUNTERS = (1, 2, 3)

reserved_candidates = st.lists(
    st.builds(Candidate, ticket_id=st.integers(1, 60), service=st.sampled_from(SERVICES),
              priority=st.integers(0, 3), queued_t=st.integers(0, 100).map(float),
              reserved_for=st.one_of(st.none(), st.none(), st.sampled_from(COUNTERS))),
    max_size=12, unique_by=lambda c: c.ticket_id)


def reserved_as_written(counter, services, vip_first, waiting, now, priority_at, limits, order, targets):
    """The section as written: the first reserved for this counter; else the rule over the
    tickets reserved for nobody."""
    mine = [w for w in waiting if w.reserved_for == counter]
    if mine:
        return min(mine, key=lambda w: w.ticket_id)
    free = [w for w in waiting if w.reserved_for is None]
    return rule_as_written(services, vip_first, free, now, priority_at, limits, order, targets)


@settings(max_examples=600, deadline=None)
@given(waiting=reserved_candidates, counter=st.sampled_from(COUNTERS), services=service_lists,
       vip_first=st.booleans(), priority_at=st.sampled_from(["vip_first", "all"]),
       now=st.integers(0, 200).map(float), limits=limit_maps, order=st.sampled_from(["fifo", "strict"]),
       targets=target_maps)
def test_a_reserved_ticket_goes_first_at_its_counter_and_nowhere_else(
        waiting, counter, services, vip_first, priority_at, now, limits, order, targets):
    rule = CallingRule(services, vip_first, priority_at, limits, order=order, tier_targets_s=targets,
                       counter=counter)
    expected = reserved_as_written(counter, services, vip_first, waiting, now, priority_at, limits, order, targets)
    assert rule.choose(waiting, now) == expected
    for w in waiting:   # people ahead by the rule: what it calls first, one by one
        if rule.sort_key(w, now) is None:
            assert w.reserved_for not in (None, counter) or w.service not in services
            continue
        rest, n = list(waiting), 0
        while (pick := rule.choose(rest, now)) is not None and pick is not w:
            rest.remove(pick)
            n += 1
        assert rule.count_before(waiting, w, now) == n


@settings(max_examples=400, deadline=None)
@given(waiting=reserved_candidates, counter=st.sampled_from(COUNTERS), services=service_lists,
       vip_first=st.booleans(), now=st.integers(0, 200).map(float), limits=limit_maps,
       order=st.sampled_from(["fifo", "strict"]), targets=target_maps)
def test_the_heads_of_the_lines_still_decide_with_reserved_lines(
        waiting, counter, services, vip_first, now, limits, order, targets):
    """The estimator's lines: (service, tier, reserved for), a reserved line in the order reserved."""
    rule = CallingRule(services, vip_first, "vip_first", limits, order=order, tier_targets_s=targets,
                       counter=counter)
    heads = {}
    for w in sorted(waiting, key=lambda w: (0.0, w.ticket_id) if w.reserved_for else (w.queued_t, w.ticket_id)):
        heads.setdefault((w.service, w.priority, w.reserved_for), w)
    assert rule.choose(list(heads.values()), now) == rule.choose(waiting, now)


def test_the_reserved_ticket_of_another_service_and_tier_comes_first():
    rule = CallingRule(("V", "A"), True, "vip_first", {"A": 60.0}, order="strict", tier_targets_s={1: 30.0},
                       counter=2)
    vip, starving = Candidate(1, "V", 1, 0.0), Candidate(2, "A", 0, 0.0)
    b_here, b_there = Candidate(9, "B", 0, 90.0, reserved_for=2), Candidate(3, "B", 0, 50.0, reserved_for=1)
    a_here = Candidate(7, "A", 0, 95.0, reserved_for=2)
    waiting = [vip, starving, b_there, a_here, b_here]
    assert rule.choose(waiting, 100.0) == a_here                # reserved first, the first reserved first
    assert rule.count_before(waiting, b_here, 100.0) == 1
    assert rule.count_before(waiting, vip, 100.0) == 2          # behind both reserved here, not b_there
    assert rule.sort_key(b_there, 100.0) is None and rule.count_before(waiting, b_there, 100.0) is None
    # a rule that knows no counter (as before reservations) sees no reserved ticket
    assert CallingRule(("V", "A", "B"), True, "vip_first", {}).choose([b_here, starving], 100.0) == starving
