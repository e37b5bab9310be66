"""One shared timer thread for deadlines that must fire even while a device's worker is stuck
(e.g. "this ticket was not printed within 30 s"). Started on first use, never at import."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from typing import Callable, Optional

log = logging.getLogger(__name__)


class Deadline:
    __slots__ = ("fn", "cancelled")

    def __init__(self, fn: Callable[[], None]) -> None:
        self.fn = fn
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Deadlines:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Deadline]] = []
        self._seq = itertools.count()
        self._thread: Optional[threading.Thread] = None

    def call_after(self, delay_s: float, fn: Callable[[], None]) -> Deadline:
        d = Deadline(fn)
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + delay_s, next(self._seq), d))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="deadlines", daemon=True)
                self._thread.start()
            self._cond.notify()
        return d

    def _run(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    left = self._heap[0][0] - time.monotonic()
                    if left <= 0:
                        d = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(left)
            if not d.cancelled:
                try:
                    d.fn()
                except Exception:
                    log.exception("deadline callback failed")


_shared: Optional[Deadlines] = None
_lock = threading.Lock()


def shared() -> Deadlines:
    global _shared
    with _lock:
        if _shared is None:
            _shared = Deadlines()
        return _shared
