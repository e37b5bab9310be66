"""The promise checks of the simulated day (kiosk/sim/day/checks.py `promise_checks`), each shown
failing on a small day broken on purpose and passing on the same day done right. The days are
written event by event into real branch databases (tests/sim/synthetic_day.py): counter 1 calls
priority first (D diamond 5 min, V silver 12 min), counter 2 serves A and B only."""
from __future__ import annotations

import pytest

from kiosk.sim.day.checks import Checks, promise_checks
from kiosk.sim.day.customer_promises import button_ticket_ids
from kiosk.sim.day.priority_promise import PRIORITY_OVERLOAD, late_priority
from tests.sim.synthetic_day import SyntheticDay

WAITS = "priority tickets wait less"
NORMAL_FIRST = "at a VIP-first counter no normal ticket"
TARGET = "no priority ticket waits past its tier's target"
AHEAD = "people ahead"
RATINGS = "every rating rates its own customer"
BUTTON = "no ticket taken at a take-ticket button"


def check(day: SyntheticDay, name: str, **kw) -> dict:
    c = Checks()
    promise_checks(c, day.log(), **kw)
    found = [i for i in c.items if i["check"].startswith(name)]
    assert len(found) == 1, [i["check"] for i in c.items]
    return found[0]


@pytest.fixture
def day(tmp_path):
    d = SyntheticDay(tmp_path / "day")
    d.counter("opened", 1, 2)
    yield d
    d.store.close()


# -- priority tickets wait less than normal ones ------------------------------------------------
def test_priority_tickets_waiting_less_than_normal_ones_pass(day):
    a, d = day.issue("A"), day.at(1).issue("D")
    day.at(2).call(d, 1)
    day.at(10).call(a, 2)
    assert check(day, WAITS)["ok"]


def test_a_tier_waiting_longer_than_normal_tickets_fails_the_day(day):
    a, d = day.issue("A"), day.at(1).issue("D")
    day.at(2).call(a, 2)
    day.at(30).call(d, 1)
    item = check(day, WAITS)
    assert not item["ok"]
    assert set(item["detail"]["slower"]) == {"priority", "diamond"}   # silver and gold had no ticket


# -- at a VIP-first counter, priority before normal -------------------------------------------
def test_a_vip_first_counter_calling_a_normal_ticket_over_a_waiting_priority_one_fails(day):
    d, a = day.issue("D"), day.issue("A")
    day.at(1).call(a, 1)
    day.at(2).call(d, 1)
    item = check(day, NORMAL_FIRST)
    assert not item["ok"]
    assert item["detail"]["first"][0]["called"] == "A001" and item["detail"]["first"][0]["longest"] == "D001"


def test_a_normal_ticket_called_at_another_counter_while_a_priority_one_waits_passes(day):
    d, a = day.issue("D"), day.issue("A")
    day.at(1).call(a, 2)
    day.at(2).call(d, 1)
    assert check(day, NORMAL_FIRST)["ok"]


# -- no priority ticket past its tier's target ---------------------------------------------------
def test_a_priority_ticket_held_past_its_target_by_a_normal_call_fails(day):
    d, a = day.issue("D"), day.issue("A")
    day.at(1).serve(a, 1, 6)          # counter 1 takes a normal customer while D001 waits
    day.call(d, 1)                    # D001 called at 7 min: target 5
    item = check(day, TARGET)
    assert not item["ok"]
    assert item["detail"]["broken"][0]["ticket"] == "D001"
    assert item["detail"]["broken"][0]["verdict"] == "passed_over"
    assert "A001" in item["detail"]["broken"][0]["detail"]


def test_a_priority_ticket_passed_over_by_a_higher_tier_due_later_fails(day):
    v = day.issue("V")                # silver: due at 12 min
    d = day.at(10).issue("D")         # diamond: due at 15 min
    b = day.issue("B")
    day.at(10.5).serve(d, 1, 6)       # counter 1 takes the diamond, due later, at 10.5 min
    day.call(v, 1)                    # V001 called at 16.5 min: past its 12 min
    day.at(17).call(b, 2)
    late = {x.ticket: x.verdict for x in late_priority(day.log())}
    assert late == {"V001": "passed_over"}
    assert not check(day, TARGET)["ok"]


def test_a_priority_ticket_called_within_its_target_passes(day):
    d, a = day.issue("D"), day.issue("A")
    day.at(1).call(a, 2)
    day.at(4).call(d, 1)
    item = check(day, TARGET)
    assert item["ok"] and item["detail"]["late"] == 0


def test_a_priority_ticket_late_behind_a_customer_called_before_it_is_reported_not_failed(day):
    b = day.issue("B")
    day.call(b, 1)                    # counter 1 serves B001 from before D001 came
    d = day.at(0.5).issue("D")
    day.at(7).finish(1, 420)
    day.call(d, 1)                    # 6.5 min: no call could have taken it sooner
    item = check(day, TARGET)
    assert item["ok"]
    assert item["detail"]["by_verdict"] == {"behind_service": 1}


def test_a_priority_ticket_late_with_no_vip_first_counter_open_passes(tmp_path):
    day = SyntheticDay(tmp_path / "day")
    day.counter("opened", 2)
    d = day.issue("D")
    day.at(10).counter("opened", 1)
    day.call(d, 1)
    item = check(day, TARGET)
    assert item["ok"] and item["detail"]["by_verdict"] == {"no_vip_counter": 1}


def _overloaded(day: SyntheticDay, alert_at: float | None) -> None:
    """Ten diamond tickets in ten minutes at one VIP-first counter that takes ten minutes each."""
    tickets = []
    for k in range(10):
        if alert_at is not None and k - 1 < alert_at <= k:
            day.at(alert_at).alert(PRIORITY_OVERLOAD)
        tickets.append(day.at(k).issue("D"))
    for k, tid in enumerate(tickets):
        day.at(max(day.minute, 10 * k)).serve(tid, 1, 10)


def test_priority_overload_without_an_alert_saying_so_fails(day):
    _overloaded(day, alert_at=None)
    item = check(day, TARGET)
    assert not item["ok"]
    assert set(item["detail"]["by_verdict"]) == {"overload_unalerted"}


def test_priority_overload_with_the_alert_up_passes(day):
    _overloaded(day, alert_at=5.5)    # raised once D001 is past its target, before it is called
    item = check(day, TARGET)
    assert item["ok"]
    assert set(item["detail"]["by_verdict"]) == {"overload_alerted"}


def test_an_overload_alert_raised_only_after_the_ticket_was_called_does_not_count(day):
    tickets = [day.at(k).issue("D") for k in range(10)]
    for k, tid in enumerate(tickets):
        day.at(max(day.minute, 10 * k)).serve(tid, 1, 10)
    day.alert(PRIORITY_OVERLOAD)
    assert not check(day, TARGET)["ok"]


# -- people ahead ---------------------------------------------------------------------------------
def test_people_ahead_that_came_true_pass(day):
    a = day.issue("A", ahead=0)
    b = day.at(1).issue("B", ahead=1)
    day.at(2).call(a, 2)
    day.at(3).call(b, 2)
    item = check(day, AHEAD)
    assert item["ok"] and item["detail"]["share"] == 1.0


def test_people_ahead_printed_too_low_fails_below_the_threshold(day):
    a = day.issue("A", ahead=0)
    b = day.at(1).issue("B", ahead=0)     # A001 waits and is called first: "0 ahead" is wrong
    c = day.at(1.5).issue("A", ahead=0)   # two are ahead of it
    day.at(2).call(a, 2)
    day.at(3).call(b, 2)
    day.at(4).call(c, 2)
    item = check(day, AHEAD)
    assert not item["ok"] and item["detail"]["share"] == 0.3333
    assert check(day, AHEAD, ahead_min_share=0.33)["ok"]


def test_people_ahead_counts_a_requeued_no_show_and_leaves_out_tickets_a_later_priority_one_overtook(day):
    a = day.issue("A", ahead=0)
    day.at(0.5).call(a, 2)
    day.at(1).noshow(2)                   # A001 waits again
    b = day.at(1.5).issue("B", ahead=1)   # A001 is ahead of it
    c = day.at(1.6).issue("A", ahead=2)
    d = day.at(1.7).issue("D", ahead=0)   # a priority ticket after C and called before it: C is not judged;
    #                                       A001 and B001 are called before it, but at counter 2, which
    #                                       does not serve D: nobody ahead of it at its counters
    day.at(2).call(a, 2)
    day.at(3).call(b, 2)
    day.at(3.5).call(d, 1)
    day.at(4).call(c, 2)
    item = check(day, AHEAD)
    assert item["detail"] == {"judged": 3, "exact": 3, "share": 1.0, "excluded_later_priority": 1}


# -- ratings --------------------------------------------------------------------------------------
def test_ratings_of_the_customer_at_the_pad_pass(day):
    a, b = day.issue("A"), day.issue("B")
    day.at(1).serve(a, 2, 2)
    day.at(3.25).rate(a, 2)               # 15 s after A001 finished
    day.at(3.3).call(b, 2)
    day.at(3.4).finish(2)
    day.at(20).rate(b, 2, via="number")   # by its number, later: it was served there
    item = check(day, RATINGS)
    assert item["ok"] and item["detail"]["ratings"] == 2


def test_a_finished_customers_press_after_the_next_call_rates_them_not_the_next_one(day):
    a, b = day.issue("A"), day.issue("B")
    day.at(1).serve(a, 2, 2)
    day.at(3.1).call(b, 2)
    day.at(3.2).rate(a, 2)                # right: A001 finished 12 s ago and had not rated
    assert check(day, RATINGS)["ok"]


def test_a_rating_given_to_the_ticket_called_after_an_unrated_finish_fails(day):
    a, b = day.issue("A"), day.issue("B")
    day.at(1).serve(a, 2, 2)
    day.at(3.1).call(b, 2)
    day.at(3.2).rate(b, 2)                # the bug: the pad rated B001, called 6 s before
    item = check(day, RATINGS)
    assert not item["ok"]
    assert item["detail"]["first"][0]["ticket"] == "B001" and "A001" in item["detail"]["first"][0]["why"]


def test_a_pad_rating_of_a_customer_gone_past_the_window_fails_and_of_the_one_at_the_counter_passes(day):
    a, b = day.issue("A"), day.issue("B")
    day.at(1).serve(a, 2, 2)
    day.at(3.1).call(b, 2)
    day.at(4).rate(b, 2)                  # A001's window (30 s) is over: B001 stands at the pad
    assert check(day, RATINGS)["ok"]
    day.at(4.1).rate(a, 2)                # A001 left 66 s ago
    item = check(day, RATINGS)
    assert not item["ok"] and item["detail"]["first"][0]["ticket"] == "A001"


# -- take-ticket button tickets nobody holds ----------------------------------------------------
def test_a_button_ticket_whose_print_failed_called_at_a_counter_fails(day):
    t = day.issue("A", via="button")
    day.print_result(t, ok=False)
    day.at(5).call(t, 2)
    item = check(day, BUTTON)
    assert not item["ok"] and item["detail"]["called_unprinted"] == ["A001"]


def test_a_button_ticket_whose_print_failed_voided_passes_and_a_screen_ticket_may_be_called(day):
    t = day.issue("A", via="button")
    day.print_result(t, ok=False)
    day.void(t)
    s = day.issue("A")                    # touchscreen: the number is on the screen
    day.print_result(s, ok=False)
    r = day.issue("A", via="button")      # failed, then printed on a reprint: someone holds it
    day.print_result(r, ok=False)
    day.print_result(r, ok=True)
    day.at(5).call(s, 2)
    day.at(6).call(r, 2)
    item = check(day, BUTTON)
    assert item["ok"]
    assert item["detail"] == {"button_tickets": 2, "print_failed": 2, "called_unprinted": []}


def test_button_tickets_are_the_unacknowledged_ones_in_a_database_that_does_not_record_it(day):
    day.issue("A", via="button")
    day.issue("A")
    log = day.log()
    log.via_recorded = False              # a database from before `tickets.issued_via`
    assert button_ticket_ids(log, ["A002"]) == {1}
