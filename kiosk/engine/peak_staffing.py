"""How many more counters bring a peak back under level 1.

Two needs, the larger wins:

* **the line now** — the fewest counters N at which the waiting line no longer holds level 1:
  ``waiting < clear_ratio × level1_per_counter × N`` (the alerts' own clearing rule);
* **the arrivals** — the statistics' Erlang C (`kiosk.engine.stats.counters_needed`): the
  fewest N with P(wait ≤ the hall's target wait) ≥ `stats.TARGET_SHARE`, for the arrival
  rate of the last hour (at least 15 min, at most since the day's first arrival) and the
  service time learned today (a service's mean ``finished − called`` once it has
  `stats.MIN_HOURLY_SAMPLES` customers served, else its ``expected_service_min``), both
  weighted by the services of those arrivals (of the waiting line when nobody arrived).

``open_counters_needed`` = that N − the counters open now (never below 0).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk.config.settings import Settings
from kiosk.engine.stats import MIN_HOURLY_SAMPLES, TARGET_SHARE, counters_needed

WINDOW_S = 3600.0
MIN_WINDOW_S = 900.0


@dataclass(frozen=True)
class Staffing:
    open_counters: int
    closed_counters: int  # configured counters that are not open: the ones that can be opened
    for_line: int
    erlang_c: int
    rate_per_hour: float
    mean_service_s: float
    target_wait_s: float

    @property
    def counters_needed(self) -> int:
        return max(self.for_line, self.erlang_c)

    @property
    def open_counters_needed(self) -> int:
        return max(0, self.counters_needed - self.open_counters)

    @property
    def text(self) -> str:
        k = self.open_counters_needed
        if k == 0:
            return "no more counters needed"
        out = f"open {k} more counter{'s' if k != 1 else ''}"
        if k > self.closed_counters:
            out += f" (only {self.closed_counters} can be opened)"
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"open_counters_needed": self.open_counters_needed, "counters_needed": self.counters_needed,
                "for_line": self.for_line, "erlang_c": self.erlang_c, "rate_per_hour": round(self.rate_per_hour, 2),
                "mean_service_s": round(self.mean_service_s, 1), "target_wait_s": round(self.target_wait_s, 1),
                "target_share": TARGET_SHARE, "closed_counters": self.closed_counters}


def counters_for_line(waiting: int, settings: Settings) -> int:
    """The fewest counters at which `waiting` people no longer hold level 1."""
    a = settings.alerts
    n = 0
    while waiting > 0 and waiting >= a.clear_ratio * a.level1_per_counter * n:
        n += 1
    return n


def learned_service_s(conn: sqlite3.Connection, day: str | None, settings: Settings) -> dict[str, float]:
    """Service → mean seconds at the counter of today's served customers, else the configured one."""
    seen = {r[0]: (r[1], r[2]) for r in conn.execute(
        "SELECT service, count(*), avg(finished_t - called_t) FROM tickets WHERE day = ? AND state = 'done' "
        "AND called_t IS NOT NULL AND finished_t IS NOT NULL GROUP BY service", (day,))}
    out = {}
    for s in settings.services:
        n, mean = seen.get(s.prefix, (0, None))
        out[s.prefix] = float(mean) if n >= MIN_HOURLY_SAMPLES and mean else s.expected_service_min * 60.0
    return out


def peak_staffing(conn: sqlite3.Connection, now: float, settings: Settings, day: str | None,
                  waiting: int, open_counters: int) -> Staffing:
    first = conn.execute("SELECT min(issued_t) FROM tickets WHERE day = ? AND origin_id IS NULL", (day,)).fetchone()[0]
    window = WINDOW_S if first is None else min(WINDOW_S, max(MIN_WINDOW_S, now - first))
    mix = dict(conn.execute("SELECT service, count(*) FROM tickets WHERE day = ? AND origin_id IS NULL "
                            "AND issued_t >= ? GROUP BY service", (day, now - window)).fetchall())
    arrivals = sum(mix.values())
    if not arrivals:
        mix = dict(conn.execute("SELECT service, count(*) FROM tickets WHERE state = 'waiting' "
                                "GROUP BY service").fetchall())
    service_s = learned_service_s(conn, day, settings)
    targets = {s.prefix: s.target_wait_min * 60.0 for s in settings.services}
    weights = {p: n for p, n in mix.items() if p in service_s} or {p: 1 for p in service_s}
    total = sum(weights.values())
    mean_s = sum(service_s[p] * n for p, n in weights.items()) / total
    target_s = sum(targets[p] * n for p, n in weights.items()) / total
    rate = arrivals * 3600.0 / window
    closed = len(settings.counters) - open_counters
    return Staffing(open_counters, max(0, closed), counters_for_line(waiting, settings),
                    counters_needed(rate, mean_s, target_s, TARGET_SHARE), rate, mean_s, target_s)
