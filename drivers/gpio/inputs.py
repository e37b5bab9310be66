"""Buttons on GPIO (gpiozero): counter keypads, take-ticket buttons, rating pads.

Debounce is ours (gpiozero's ``bounce_time`` is not implemented by ``MockPin`` and so could
not be tested): a press counts on its first edge, and a further press only after the line has
been released and stable for ``settle_s`` (50 ms) — 100 edges of contact bounce within 50 ms
are one press, and the press is seen with no added latency.

On top of that a repeat guard ignores a second press of a guarded key (``next`` on a counter
keypad) within ``repeat_guard_s`` of the first. Every accepted press becomes an
:class:`~drivers.jobs.InputEvent` handed to ``sink`` — on a Pi that runs on gpiozero's
thread, so the sink must only enqueue (the core passes its command-queue submit).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Mapping, Optional, Sequence

from drivers.base import DeviceConfigError
from drivers.jobs import InputEvent

log = logging.getLogger(__name__)

Sink = Callable[[InputEvent], None]
KEYPAD_ACTIONS = ("next", "recall", "noshow", "transfer", "pause")
RATING_SCORES = {"satisfied": 5, "neutral": 3, "dissatisfied": 1}


class Debouncer:
    """Pure edge logic; ``edge(active, now)`` returns True when the edge is a new press."""

    def __init__(self, settle_s: float = 0.05, initially_active: bool = False) -> None:
        self.settle_s = settle_s
        self._active = initially_active
        self._released_at = float("-inf")
        self.edges = 0
        self.presses = 0

    def edge(self, active: bool, now: float) -> bool:
        self.edges += 1
        if not active:
            self._active = False
            self._released_at = now
            return False
        press = not self._active and now - self._released_at >= self.settle_s
        self._active = True
        if press:
            self.presses += 1
        return press


class RepeatGuard:
    """Refuses a key again within ``window_s`` of its last accepted press."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._last: dict[object, float] = {}

    def allow(self, key: object, now: float) -> bool:
        last = self._last.get(key)
        if last is not None and now - last < self.window_s:
            return False
        self._last[key] = now
        return True


class DebouncedButton:
    """One GPIO input with our debounce; ``on_press(t)`` gets the monotonic time of the edge."""

    def __init__(self, pin, on_press: Callable[[float], None], *, settle_s: float = 0.05,
                 pull_up: bool = True, pin_factory=None, clock: Callable[[], float] = time.monotonic,
                 name: str = "") -> None:
        from gpiozero import DigitalInputDevice

        self.name = name or f"GPIO{pin}"
        self.on_press = on_press
        self.clock = clock
        self.device = DigitalInputDevice(pin, pull_up=pull_up, bounce_time=None,
                                         pin_factory=pin_factory)
        self.debouncer = Debouncer(settle_s, initially_active=bool(self.device.value))
        self._lock = threading.Lock()
        self.device.when_activated = self._activated
        self.device.when_deactivated = self._deactivated

    @property
    def pin(self):
        return self.device.pin

    def _activated(self) -> None:
        now = self.clock()
        with self._lock:
            press = self.debouncer.edge(True, now)
        if press:
            try:
                self.on_press(now)
            except Exception:
                log.exception("%s: press handler failed", self.name)

    def _deactivated(self) -> None:
        with self._lock:
            self.debouncer.edge(False, self.clock())

    def close(self) -> None:
        self.device.close()


class _Inputs:
    """Shared plumbing: a sink (replaceable), buttons, close."""

    def __init__(self, sink: Optional[Sink], settle_s: float, pin_factory, clock) -> None:
        self.sink = sink
        self.settle_s = settle_s
        self.pin_factory = pin_factory
        self.clock = clock
        self.buttons: dict[str, DebouncedButton] = {}

    def _button(self, key: str, pin, handler) -> None:
        self.buttons[key] = DebouncedButton(pin, handler, settle_s=self.settle_s,
                                            pin_factory=self.pin_factory, clock=self.clock, name=key)

    def _emit(self, event: InputEvent) -> None:
        sink = self.sink
        if sink is None:
            log.info("input %s (no sink yet)", event)
            return
        try:
            sink(event)
        except Exception:
            log.exception("input sink failed for %s", event)

    def close(self) -> None:
        for b in self.buttons.values():
            b.close()
        self.buttons.clear()


class CounterKeypad(_Inputs):
    """Keys of one counter: ``pins`` maps next/recall/noshow/transfer/pause to GPIO pins."""

    def __init__(self, counter: int, pins: Mapping[str, object], sink: Optional[Sink] = None, *,
                 repeat_guard_s: float = 2.0, guarded: Sequence[str] = ("next",),
                 settle_s: float = 0.05, pin_factory=None, clock=time.monotonic) -> None:
        super().__init__(sink, settle_s, pin_factory, clock)
        self.counter = counter
        self.guard = RepeatGuard(repeat_guard_s)
        self.guarded = set(guarded)
        for action, pin in pins.items():
            if action not in KEYPAD_ACTIONS:
                raise DeviceConfigError(f"counter {counter}: unknown keypad key {action!r}")
            if pin is None:
                continue
            self._button(f"counter{counter}.{action}", pin, lambda t, a=action: self.press(a, t))

    def press(self, action: str, at: Optional[float] = None) -> bool:
        """A debounced press (also the entry point for virtual keys). True if passed on."""
        at = self.clock() if at is None else at
        if action in self.guarded and not self.guard.allow(action, at):
            log.info("counter %s: repeated %r ignored (repeat guard)", self.counter, action)
            return False
        self._emit(InputEvent("keypad", action, counter=self.counter, at=at))
        return True


class TakeTicketButton(_Inputs):
    """A dispenser button that issues a ticket for ``service`` (with its own repeat guard)."""

    def __init__(self, pin, service: str, sink: Optional[Sink] = None, *, repeat_guard_s: float = 1.0,
                 settle_s: float = 0.05, pin_factory=None, clock=time.monotonic) -> None:
        super().__init__(sink, settle_s, pin_factory, clock)
        self.service = service
        self.guard = RepeatGuard(repeat_guard_s)
        self._button(f"take_ticket.{service}", pin, self.press)

    def press(self, at: Optional[float] = None) -> bool:
        at = self.clock() if at is None else at
        if not self.guard.allow("take", at):
            return False
        self._emit(InputEvent("take_ticket", "take", service=self.service, at=at))
        return True


class RatingPad(_Inputs):
    """Three keys at a counter: satisfied (5) / neutral (3) / dissatisfied (1)."""

    def __init__(self, counter: int, pins: Mapping[str, object], sink: Optional[Sink] = None, *,
                 repeat_guard_s: float = 1.0, settle_s: float = 0.05, pin_factory=None,
                 clock=time.monotonic) -> None:
        super().__init__(sink, settle_s, pin_factory, clock)
        self.counter = counter
        self.guard = RepeatGuard(repeat_guard_s)
        for key, pin in pins.items():
            if key not in RATING_SCORES:
                raise DeviceConfigError(f"counter {counter}: unknown rating key {key!r}")
            if pin is not None:
                self._button(f"rating{counter}.{key}", pin, lambda t, k=key: self.press(k, t))

    def press(self, key: str, at: Optional[float] = None) -> bool:
        at = self.clock() if at is None else at
        if not self.guard.allow("rate", at):  # one rating per guard window, whichever key
            return False
        self._emit(InputEvent("rating", key, counter=self.counter, score=RATING_SCORES[key], at=at))
        return True


class InputHub:
    """All input devices of the hall; ``set_sink(fn)`` routes every press to the core.

    ``press_key(counter, action)``, ``take_ticket(service)`` and ``rate(counter, key)`` stand
    in for the physical buttons (laptop demo, console): they go through the same guards.
    """

    def __init__(self, sink: Optional[Sink] = None) -> None:
        self.keypads: dict[int, CounterKeypad] = {}
        self.take_buttons: dict[str, TakeTicketButton] = {}
        self.rating_pads: dict[int, RatingPad] = {}
        self.sink = sink
        self.clock = time.monotonic
        self.repeat_guard_s = 2.0

    def _all(self):
        return [*self.keypads.values(), *self.take_buttons.values(), *self.rating_pads.values()]

    def set_sink(self, sink: Optional[Sink]) -> None:
        self.sink = sink
        for dev in self._all():
            dev.sink = sink

    def _sink(self, event: InputEvent) -> None:
        if self.sink is not None:
            self.sink(event)

    def press_key(self, counter: int, action: str) -> bool:
        pad = self.keypads.get(counter)
        if pad is None:  # virtual key for a counter without a keypad
            pad = self.keypads[counter] = CounterKeypad(counter, {}, self.sink, clock=self.clock,
                                                        repeat_guard_s=self.repeat_guard_s)
        return pad.press(action)

    def take_ticket(self, service: str) -> bool:
        button = self.take_buttons.get(service)
        if button is None:
            event = InputEvent("take_ticket", "take", service=service, at=self.clock())
            self._sink(event)
            return True
        return button.press()

    def rate(self, counter: int, key: str) -> bool:
        pad = self.rating_pads.get(counter)
        if pad is None:
            pad = self.rating_pads[counter] = RatingPad(counter, {}, self.sink, clock=self.clock)
        return pad.press(key)

    def pins(self) -> dict[str, object]:
        """Every button's gpiozero pin by name (``counter3.next`` ...), for tests and demos."""
        return {name: b.pin for dev in self._all() for name, b in dev.buttons.items()}

    def close(self) -> None:
        for dev in self._all():
            dev.close()
