"""Who a rating-pad press rates: the customer standing at the pad (docs/statistics.md, "Ratings").

The clerk presses "next" (or "finish", then "next") while the customer who was just served is
still at the pad: their press within `policy.rating_window_s` rates their own service, never the
ticket just called. A press with nobody to rate is refused (the pad ignores it)."""
from __future__ import annotations

import pytest

from kiosk.domain import errors
from tests.kit.settings import settings_with


def rated(engine):
    """(ticket, score, via) of every ticket.rated event, in order."""
    return [(e["ticket"], e["score"], e["via"]) for e in
            (ev.as_message() for ev in engine.store.events_after(0, 100000)) if e["type"] == "ticket.rated"]


def rating_of(engine, number):
    return engine.ticket(number)["rating"]


@pytest.fixture
def two_waiting(engine, clock):
    engine.issue("A"); engine.issue("A")
    engine.call_next(3)                                   # A001 at counter 3
    clock.advance(240)                                    # served for four minutes
    return engine


def test_a_press_after_finish_then_next_rates_the_customer_who_finished(two_waiting, clock):
    engine = two_waiting
    engine.finish(3)
    clock.advance(2)
    engine.call_next(3)                                   # A002 called while A001 is still at the pad
    clock.advance(3)
    assert engine.rate_at_counter(3, 5) == "A001"
    assert rating_of(engine, "A001") == 5 and rating_of(engine, "A002") is None
    assert rated(engine) == [("A001", 5, "pad")]


def test_next_alone_finishes_and_the_press_still_rates_the_finished_customer(two_waiting, clock):
    engine = two_waiting
    engine.call_next(3)                                   # finishes A001 and calls A002 in one press
    clock.advance(12)
    assert engine.rate_at_counter(3, 1) == "A001"
    assert rating_of(engine, "A002") is None


def test_a_second_press_by_the_customer_who_rated_is_not_a_rating_of_the_next(two_waiting, clock):
    engine = two_waiting
    engine.call_next(3)
    clock.advance(2)
    engine.rate_at_counter(3, 3)                          # A001 presses "neutral"…
    clock.advance(4)
    before = engine.store.last_seq()
    with pytest.raises(errors.IllegalState, match=r"A001 .* already been rated at this pad.*A002"):
        engine.rate_at_counter(3, 5)                      # …then "satisfied": still A001, ignored
    assert rating_of(engine, "A002") is None and engine.store.last_seq() == before


def test_once_the_next_customer_has_started_the_pad_is_theirs(two_waiting, clock):
    engine = two_waiting
    engine.call_next(3)
    clock.advance(8)
    engine.start(3)                                       # A002 has reached the counter: A001 has left
    clock.advance(10)
    assert engine.rate_at_counter(3, 5) == "A002"
    assert rating_of(engine, "A001") is None


def test_after_the_window_the_press_rates_the_customer_at_the_counter(two_waiting, clock, settings):
    engine = two_waiting
    engine.call_next(3)
    clock.advance(settings.policy.rating_window_s + 1)
    assert engine.rate_at_counter(3, 4) == "A002"
    assert rating_of(engine, "A001") is None


def test_a_customer_rated_by_number_leaves_the_pad_to_the_next(two_waiting):
    engine = two_waiting
    engine.call_next(3)
    engine.rate("A001", 5)                                # given at the console / HQ, not at the pad
    assert engine.rate_at_counter(3, 1) == "A002"
    assert rated(engine) == [("A001", 5, "number"), ("A002", 1, "pad")]
    assert engine.ticket("A001")["rated_via"] == "number" and engine.ticket("A002")["rated_via"] == "pad"


def test_a_press_within_the_window_with_nobody_called_rates_the_finished_customer(two_waiting, clock):
    engine = two_waiting
    engine.finish(3)
    clock.advance(25)
    assert engine.rate_at_counter(3, 5) == "A001"


def test_a_late_press_rates_nobody_and_changes_nothing(two_waiting, clock, settings):
    engine = two_waiting
    engine.finish(3)
    clock.advance(settings.policy.rating_window_s + 5)
    before = engine.store.last_seq()
    with pytest.raises(errors.NothingCalled, match=r"counter 3: nobody to rate.*last 30 s.*rating_window_s"):
        engine.rate_at_counter(3, 5)
    assert rating_of(engine, "A001") is None and engine.store.last_seq() == before


def test_the_window_is_the_hall_setting(make_engine, settings, clock):
    engine = make_engine(settings_with(settings, policy={**settings.policy.model_dump(), "rating_window_s": 5}))
    engine.issue("A")
    engine.call_next(3)
    engine.finish(3)
    clock.advance(6)
    with pytest.raises(errors.NothingCalled, match="last 5 s"):
        engine.rate_at_counter(3, 5)


def test_a_finish_at_another_counter_is_not_rated_here(engine, clock):
    engine.issue("A"); engine.issue("B")
    engine.call_next(4)                                   # B001 at counter 4
    engine.finish(4)
    clock.advance(3)
    with pytest.raises(errors.NothingCalled):
        engine.rate_at_counter(3, 5)
    assert engine.rate_at_counter(4, 5) == "B001"
