"""Waiting for a condition in the simulated world and the tests: one poll loop with a deadline."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(cond: Callable[[], T], timeout: float = 60.0, interval: float = 0.02, what: str = "") -> T:
    """Wait (generously) for ``cond()`` to become truthy and return it; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or cond}")
        time.sleep(interval)
