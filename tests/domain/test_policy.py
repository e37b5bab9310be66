"""THE calling rule (`kiosk.domain.policy`): its one-pass order against the rule as written."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.policy import CallingRule, Candidate, choose_next, priority_first

SERVICES = ("A", "B", "V")


def rule_as_written(services, vip_first, waiting, now, priority_at, limits):
    """The module docstring, literally: starving normal tickets, then priority tickets (at a
    priority-first counter), then everyone; the longest waiting, then the preferred service,
    then the ticket issued first."""
    rank = {s: i for i, s in enumerate(services)}
    eligible = [w for w in waiting if w.service in rank]
    if not eligible:
        return None

    def key(w):
        return (w.queued_t, rank[w.service], w.ticket_id)
    if priority_first(vip_first, priority_at):
        starving = [w for w in eligible if not w.priority
                    and now - w.queued_t >= limits.get(w.service, float("inf"))]
        if starving:
            return min(starving, key=key)
        vip = [w for w in eligible if w.priority]
        if vip:
            return min(vip, key=key)
    return min(eligible, key=key)


candidates = st.lists(st.builds(Candidate, ticket_id=st.integers(1, 60), service=st.sampled_from(SERVICES),
                                priority=st.integers(0, 1), queued_t=st.integers(0, 100).map(float)),
                      max_size=12, unique_by=lambda c: c.ticket_id)


@settings(max_examples=400, deadline=None)
@given(waiting=candidates, services=st.lists(st.sampled_from(SERVICES), min_size=1, max_size=3, unique=True),
       vip_first=st.booleans(), priority_at=st.sampled_from(["vip_first", "all"]), now=st.integers(0, 200).map(float),
       limits=st.dictionaries(st.sampled_from(SERVICES), st.integers(0, 150).map(float)))
def test_the_rule_calls_what_it_says(waiting, services, vip_first, priority_at, now, limits):
    rule = CallingRule(services, vip_first, priority_at, limits)
    expected = rule_as_written(services, vip_first, waiting, now, priority_at, limits)
    assert rule.choose(waiting, now) == expected
    assert choose_next(services, vip_first, waiting, now, priority_at, limits) == expected
    at = rule.choose_index(waiting, now)
    assert (None if at is None else waiting[at]) == expected


def test_a_starving_normal_ticket_goes_before_priority_at_a_vip_first_counter():
    rule = CallingRule(("A", "V"), True, "vip_first", {"A": 600.0})
    vip = Candidate(2, "V", 1, 500.0)
    starving = Candidate(1, "A", 0, 100.0)
    assert rule.choose([vip, starving], now=700.0) == starving
    assert rule.choose([vip, starving], now=650.0) == vip          # 550 s waited: not yet starving
    assert rule.sort_key(Candidate(3, "B", 0, 1.0), 700.0) is None  # a service it does not serve
