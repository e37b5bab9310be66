"""How much HQ accepts from one branch message: one frozen set of limits."""
from __future__ import annotations

from dataclasses import dataclass

MAX_SAFE_INTEGER = 2 ** 53   # the largest integer every JSON reader (a browser's too) holds exactly


@dataclass(frozen=True)
class IngestLimits:
    """Limits of one message; a message over any of them is rejected as a whole."""

    max_bytes: int = 256 * 1024
    """payload size, checked before parsing (the sample broker config drops larger packets)"""
    max_depth: int = 12
    """objects and lists nested in one another (a queue snapshot needs 5)"""
    max_list: int = 1000
    """items in one list (a branch has at most 999 counters)"""
    max_keys: int = 256
    """keys in one object"""
    max_string: int = 4096
    """characters in one string"""
    max_future_days: int = 1
    """how far past today (UTC) a business day or a time stamp may lie (time zones reach +14 h)"""

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_depth", "max_list", "max_keys", "max_string"):
            if getattr(self, name) < 1:
                raise ValueError(f"ingest limit {name} must be at least 1, not {getattr(self, name)}")
        if self.max_future_days < 0:
            raise ValueError(f"ingest limit max_future_days must not be negative, not {self.max_future_days}")
