"""GPIO through gpiozero's MockFactory: our debounce, repeat guard, sink; lamps and lights."""

import pytest

from drivers.gpio.inputs import (CounterKeypad, Debouncer, InputHub, RatingPad, TakeTicketButton)
from drivers.gpio.outputs import ChimeBuzzer, CounterLamps, StackLight
from kiosk.domain.clock import FakeClock


def bounce(pin, clock, edges=100, within_s=0.05):
    """``edges`` alternating edges (press first) spread over ``within_s``; ends pressed."""
    step = within_s / edges
    for i in range(edges):
        pin.drive_low() if i % 2 == 0 else pin.drive_high()
        clock.advance(step)
    pin.drive_low()


def release(pin, clock, hold_s=0.2):
    clock.advance(hold_s)
    pin.drive_high()
    clock.advance(hold_s)


def test_debouncer_pure():
    d = Debouncer(0.05)
    t = 0.0
    presses = 0
    for i in range(100):
        presses += d.edge(i % 2 == 0, t)
        t += 0.0005
    assert presses == 1
    d.edge(False, t)
    assert d.edge(True, t + 0.049) is False  # released too shortly
    d.edge(False, t + 0.05)
    assert d.edge(True, t + 0.2) is True


def test_hundred_edges_in_50ms_are_one_press(mock_factory):
    clock, events = FakeClock(), []
    pad = CounterKeypad(3, {"recall": 5}, events.append, pin_factory=mock_factory, clock=clock.monotonic)
    pin = mock_factory.pin(5)
    try:
        bounce(pin, clock)
        release(pin, clock)
        assert [(e.source, e.action, e.counter) for e in events] == [("keypad", "recall", 3)]
        bounce(pin, clock)
        release(pin, clock)
        assert len(events) == 2
    finally:
        pad.close()


def test_repeat_guard_on_next_only(mock_factory):
    clock, events = FakeClock(), []
    pad = CounterKeypad(2, {"next": 6, "recall": 13}, events.append, repeat_guard_s=2.0,
                        pin_factory=mock_factory, clock=clock.monotonic)
    nxt, rec = mock_factory.pin(6), mock_factory.pin(13)
    try:
        for pin in (nxt, nxt, rec, rec):  # each press 0.4 s apart
            bounce(pin, clock, edges=10)
            release(pin, clock)
        assert [e.action for e in events] == ["next", "recall", "recall"]
        clock.advance(2.0)
        bounce(nxt, clock, edges=10)
        release(nxt, clock)
        assert [e.action for e in events] == ["next", "recall", "recall", "next"]
        assert events[0].at < events[-1].at
    finally:
        pad.close()


def test_take_ticket_and_rating(mock_factory):
    clock, events = FakeClock(), []
    take = TakeTicketButton(17, "A", events.append, pin_factory=mock_factory, clock=clock.monotonic)
    rate = RatingPad(1, {"satisfied": 22, "neutral": 23, "dissatisfied": 24}, events.append,
                     pin_factory=mock_factory, clock=clock.monotonic)
    try:
        bounce(mock_factory.pin(17), clock, edges=20)
        release(mock_factory.pin(17), clock, 1.0)
        bounce(mock_factory.pin(24), clock, edges=20)
        release(mock_factory.pin(24), clock)
        assert [(e.source, e.service, e.action, e.score) for e in events] == [
            ("take_ticket", "A", "take", None), ("rating", None, "dissatisfied", 1)]
    finally:
        take.close()
        rate.close()


def test_a_failing_sink_does_not_break_the_button(mock_factory):
    clock = FakeClock()
    calls = []

    def sink(event):
        calls.append(event)
        raise RuntimeError("core is down")

    pad = CounterKeypad(1, {"pause": 4}, sink, pin_factory=mock_factory, clock=clock.monotonic)
    try:
        for _ in range(2):
            bounce(mock_factory.pin(4), clock, edges=4)
            release(mock_factory.pin(4), clock)
        assert len(calls) == 2
    finally:
        pad.close()


def test_hub_virtual_keys_use_the_same_guard():
    events = []
    hub = InputHub(events.append)
    assert hub.press_key(4, "next") is True
    assert hub.press_key(4, "next") is False
    hub.take_ticket("B")
    hub.rate(4, "satisfied")
    assert [(e.source, e.action) for e in events] == [("keypad", "next"), ("take_ticket", "take"),
                                                      ("rating", "satisfied")]
    hub.close()


def test_unknown_key_refused(mock_factory):
    with pytest.raises(ValueError):
        CounterKeypad(1, {"nxt": 5}, None, pin_factory=mock_factory)


def test_lamps_buzzer_stack_light(mock_factory, waiter):
    lamps = CounterLamps({1: 20, 2: 21}, pin_factory=mock_factory)
    buzzer = ChimeBuzzer(26, pin_factory=mock_factory, on_s=0.01, off_s=0.01)
    light = StackLight(green=5, amber=6, red=12, pin_factory=mock_factory)
    try:
        lamps.set(1, True)
        assert mock_factory.pin(20).state and not mock_factory.pin(21).state
        lamps.blink(2, times=2, on_s=0.01, off_s=0.01)
        pin21 = mock_factory.pin(21)
        waiter(lambda: sum(1 for s in pin21.states if s.state) >= 3 and pin21.state)  # 2 blinks, then on
        buzzer.chime()
        waiter(lambda: sum(1 for s in mock_factory.pin(26).states if s.state) >= 2)
        assert light.lit() == {"green": True, "amber": False, "red": False}
        light.set_level(1)
        assert light.lit() == {"green": False, "amber": True, "red": False}
        light.set_level(2)
        waiter(lambda: any(s.state for s in mock_factory.pin(12).states))
        assert not mock_factory.pin(5).state and not mock_factory.pin(6).state
    finally:
        lamps.close()
        buzzer.close()
        light.close()
