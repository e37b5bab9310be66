"""The person at the bench: asked to press keys and to confirm what a machine cannot see."""

from __future__ import annotations

import os
import queue
import select
import time
from typing import Any, Callable, Optional

import pytest


class Tester:
    """Talks to the person at the bench through /dev/tty (pytest's capture is bypassed).

    Without a terminal (CI, or KIOSK_HIL_INTERACTIVE=0) nothing is asked: ``confirm``
    returns None and key presses must be simulated.
    """

    def __init__(self, interactive: Optional[bool] = None, timeout_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self._tty = None
        if interactive is None:
            interactive = os.environ.get("KIOSK_HIL_INTERACTIVE", "1") != "0"
        if interactive:
            try:
                self._tty = open("/dev/tty", "r+", buffering=1, encoding="utf-8")
            except OSError:
                self._tty = None

    @property
    def interactive(self) -> bool:
        return self._tty is not None

    def say(self, text: str) -> None:
        if self._tty is not None:
            self._tty.write(f"\n[HIL] {text}\n")
            self._tty.flush()

    def confirm(self, question: str, timeout_s: Optional[float] = None) -> Optional[bool]:
        """Ask a yes/no question; None when nobody can answer (or no answer in time)."""
        if self._tty is None:
            return None
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        self._tty.write(f"\n[HIL] {question} [y/n, {timeout_s:.0f} s] ")
        self._tty.flush()
        ready, _, _ = select.select([self._tty], [], [], timeout_s)
        if not ready:
            self._tty.write("(no answer)\n")
            return None
        return self._tty.readline().strip().lower().startswith("y")

    def wait_press(self, what: str, events: "queue.Queue", match: Callable[[Any], bool],
                   simulate: Optional[Callable[[], None]] = None,
                   timeout_s: Optional[float] = None) -> Any:
        """Ask for a key press and wait for the matching event; fail after the time limit.

        ``simulate`` presses the key for the tester (dry run). Other events that arrive
        meanwhile are reported and ignored (a wrong key is not the right key).
        """
        timeout_s = self.timeout_s if timeout_s is None else timeout_s
        if simulate is not None:
            simulate()
        else:
            self.say(f"press {what} (within {timeout_s:.0f} s)")
        deadline = time.monotonic() + timeout_s
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no press of {what} within {timeout_s:.0f} s (other events: {seen})")
            try:
                event = events.get(timeout=left)
            except queue.Empty:
                continue
            if match(event):
                return event
            seen.append(event)
            self.say(f"got {event}, still waiting for {what}")

    def close(self) -> None:
        if self._tty is not None:
            self._tty.close()
            self._tty = None
