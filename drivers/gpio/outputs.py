"""Outputs on GPIO (gpiozero): "now serving" lamps per counter, chime buzzer, alert stack light.

GPIO writes are fast and local, so these run in the caller's thread; blinking and beeping
use gpiozero's own background threads. ``close()`` releases the pins.
"""

from __future__ import annotations

import logging
import threading
from typing import Mapping

log = logging.getLogger(__name__)


class CounterLamps:
    """One lamp per counter: on while serving, blinking when a ticket was just called."""

    def __init__(self, pins: Mapping[int, object], *, pin_factory=None) -> None:
        from gpiozero import LED

        self.leds = {int(c): LED(pin, pin_factory=pin_factory) for c, pin in pins.items()}
        self._generation: dict[int, int] = {}
        self._closed = False

    def set(self, counter: int, on: bool) -> None:
        led = self.leds.get(counter)
        if led is not None:
            log.debug("lamp %s %s", counter, "on" if on else "off")
            self._generation[counter] = self._generation.get(counter, 0) + 1
            led.on() if on else led.off()

    def blink(self, counter: int, times: int = 6, on_s: float = 0.25, off_s: float = 0.25,
              then_on: bool = True) -> None:
        """Blink ``times`` (a new call at this counter), then stay on if ``then_on``."""
        led = self.leds.get(counter)
        if led is None:
            return
        generation = self._generation[counter] = self._generation.get(counter, 0) + 1
        if not then_on:
            led.blink(on_s, off_s, n=times, background=True)
            return

        def run() -> None:
            try:
                led.blink(on_s, off_s, n=times, background=False)  # returns early if stopped
                if self._generation.get(counter) == generation and not self._closed:
                    led.on()
            except Exception:  # closed under our feet
                log.debug("lamp %s: blink ended", counter, exc_info=True)

        threading.Thread(target=run, name=f"lamp-{counter}", daemon=True).start()

    def is_lit(self, counter: int) -> bool:
        led = self.leds.get(counter)
        return bool(led and led.is_lit)

    def close(self) -> None:
        self._closed = True
        for led in self.leds.values():
            led.close()


class ChimeBuzzer:
    """A buzzer giving the call chime (two short beeps by default)."""

    def __init__(self, pin, *, pin_factory=None, beeps: int = 2, on_s: float = 0.15,
                 off_s: float = 0.1) -> None:
        from gpiozero import Buzzer

        self.buzzer = Buzzer(pin, pin_factory=pin_factory)
        self.beeps, self.on_s, self.off_s = beeps, on_s, off_s
        self.chimes = 0

    def chime(self) -> None:
        self.chimes += 1
        self.buzzer.beep(self.on_s, self.off_s, n=self.beeps, background=True)

    def close(self) -> None:
        self.buzzer.close()


class StackLight:
    """Green / amber / red tower light for the alert level (0, 1, 2); red blinks at level 2."""

    def __init__(self, green=None, amber=None, red=None, *, pin_factory=None) -> None:
        from gpiozero import LED

        self.lights = {name: LED(pin, pin_factory=pin_factory)
                       for name, pin in (("green", green), ("amber", amber), ("red", red))
                       if pin is not None}
        self.level = -1
        self.set_level(0)

    def set_level(self, level: int) -> None:
        level = max(0, min(2, int(level)))
        if level == self.level:
            return
        log.info("stack light: level %d", level)
        self.level = level
        wanted = {0: "green", 1: "amber", 2: "red"}[level]
        for name, led in self.lights.items():
            if name != wanted:
                led.off()
        led = self.lights.get(wanted)
        if led is not None:
            led.blink(0.5, 0.5, background=True) if level == 2 else led.on()

    def lit(self) -> dict[str, bool]:
        return {name: bool(led.is_lit) for name, led in self.lights.items()}

    def close(self) -> None:
        for led in self.lights.values():
            led.close()

