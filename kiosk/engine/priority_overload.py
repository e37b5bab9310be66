"""Priority overload: the VIP arrivals alone exceed what the open VIP-first counters can serve.

The calling rule promises that no priority ticket waits past its tier's target while a VIP-first
counter is open (docs/queueing.md) — unless the priority arrivals alone are more than those
counters can serve; then this alert says so. The hall is overloaded when

* the priority tickets issued in the last hour (``tickets.priority > 0``) outnumber the
  capacity of the open VIP-first counters for an hour (every open counter when
  ``policy.priority_at = "all"``): ``open × 3600 / mean priority service time`` — the mean
  ``finished − called`` of today's served priority tickets, else the mean
  ``expected_service_min`` of the vip services; or
* priority tickets wait and no VIP-first counter is open, though another counter is (with no
  counter open at all the peak level already says so: ``no_counters``).

Its hold needs no stored state: the arrivals are counted over every hour that ended in the
last ``alerts.min_hold_s``, so the alert stays up at least that long after the arrivals last
exceeded the capacity (as a peak level is held), and every reader computes the same answer.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk.config.settings import Settings

WINDOW_S = 3600.0  # the arrivals measured against an hour of capacity


@dataclass(frozen=True)
class PriorityOverload:
    arrivals_last_hour: int   # the most in any hour that ended in the hold window
    capacity: float           # priority tickets the open VIP-first counters can serve in an hour
    vip_counters_open: int
    priority_waiting: int
    counters_open: int        # any counter, VIP-first or not
    mean_service_s: float

    @property
    def no_vip_counter(self) -> bool:
        return self.vip_counters_open == 0 and self.priority_waiting > 0 and self.counters_open > 0

    @property
    def overloaded(self) -> bool:
        return self.no_vip_counter or (self.vip_counters_open > 0 and self.arrivals_last_hour > self.capacity)

    @property
    def text(self) -> str:
        if self.no_vip_counter:
            return f"{self.priority_waiting} VIP waiting and no VIP counter open — open a VIP counter"
        return (f"VIP arrivals exceed the VIP counters: {self.arrivals_last_hour} in the last hour, "
                f"capacity {round(self.capacity, 1):g} — open another VIP counter")

    @property
    def text_zh(self) -> str:
        if self.no_vip_counter:
            return f"{self.priority_waiting}位贵宾等候，贵宾窗口未开 — 请开贵宾窗口"
        return (f"贵宾到达超出贵宾窗口能力：近一小时{self.arrivals_last_hour}位，能力{round(self.capacity, 1):g}位 — "
                f"请再开一个贵宾窗口")

    def as_dict(self) -> dict[str, Any]:
        return {"scope": "hall", "arrivals_last_hour": self.arrivals_last_hour, "capacity": round(self.capacity, 1),
                "vip_counters_open": self.vip_counters_open, "priority_waiting": self.priority_waiting,
                "mean_service_s": round(self.mean_service_s, 1), "text_zh": self.text_zh}


def vip_first_counters(settings: Settings) -> list[int]:
    """The counters that call priority tickets first (all of them when ``policy.priority_at = "all"``)."""
    every = settings.policy.priority_at == "all"
    return [c.number for c in settings.counters if every or c.vip_first]


def mean_priority_service_s(conn: sqlite3.Connection, day: str | None, settings: Settings) -> float:
    """Today's mean time at the counter of served priority tickets, else the vip services' expectation."""
    measured = conn.execute("SELECT avg(finished_t - called_t) FROM tickets WHERE day = ? AND priority > 0 "
                            "AND state = 'done' AND called_t IS NOT NULL AND finished_t IS NOT NULL",
                            (day or "",)).fetchone()[0]
    if measured is not None:
        return max(1.0, float(measured))
    expected = [s.expected_service_min * 60.0 for s in settings.services if s.priority == "vip"] \
        or [s.expected_service_min * 60.0 for s in settings.services]
    return sum(expected) / len(expected)


def most_arrivals(issued: list[float], now: float, hold_s: float) -> int:
    """The most of the sorted issue times `issued` in an hour ending anywhere in ``[now - hold_s, now]``."""
    ends = [now - hold_s] + [t for t in issued if now - hold_s < t <= now] + [now]
    return max(sum(1 for t in issued if end - WINDOW_S <= t <= end) for end in ends)


def measure(conn: sqlite3.Connection, now: float, settings: Settings, day: str | None) -> PriorityOverload:
    """The priority demand against the open VIP-first counters now."""
    known = {c.number for c in settings.counters}
    open_all = [r[0] for r in conn.execute("SELECT number FROM counters WHERE state = 'open'") if r[0] in known]
    vip = set(vip_first_counters(settings))
    open_ = sum(1 for n in open_all if n in vip)
    waiting = conn.execute("SELECT count(*) FROM tickets WHERE state = 'waiting' AND priority > 0").fetchone()[0]
    hold_s = settings.alerts.min_hold_s
    issued = [r[0] for r in conn.execute(
        "SELECT issued_t FROM tickets WHERE priority > 0 AND origin_id IS NULL AND issued_t >= ? AND issued_t <= ? "
        "ORDER BY issued_t", (now - hold_s - WINDOW_S, now))]
    service_s = mean_priority_service_s(conn, day, settings)
    return PriorityOverload(most_arrivals(issued, now, hold_s), open_ * WINDOW_S / service_s, open_,
                            int(waiting), len(open_all), service_s)


def priority_overload(conn: sqlite3.Connection, now: float, settings: Settings,
                      day: str | None) -> PriorityOverload | None:
    """The overload now, or None when the open VIP-first counters keep up with the priority arrivals."""
    m = measure(conn, now, settings, day)
    return m if m.overloaded else None
