"""Optional online calibration of the estimates from the waits that came true (off by default).

A shrunk per-service median log-ratio of realized to raw estimates. Only tickets issued
before the oldest ticket still waiting count: their waits are all known, so the long
ones are not missing from the sample (no censoring). It made the generated days worse,
so ``EstimatorParams.calibrate`` is off; the first estimates are still remembered so it
can be switched on for a study.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from kiosk.estimate.params import EstimatorParams
from kiosk.estimate.views import HallView

FIRST_KEPT = 5000  # first estimates remembered (tickets that never get called)


@dataclass(frozen=True)
class FirstEstimate:
    at: float  # hall time of the ticket's first estimate
    raw: float  # the simulated wait, before calibration
    service: str


@dataclass(frozen=True)
class Realized:
    issued_at: float
    raw: float  # the first raw estimate
    actual: float  # first estimate -> called
    service: str


class Calibration:
    def __init__(self, params: EstimatorParams) -> None:
        self.params = params
        self.first: dict[int, FirstEstimate] = {}
        self.realized: deque[Realized] = deque(maxlen=params.calibration_window)

    def estimated(self, ticket_id: int, now: float, raw: float, service: str) -> None:
        """Remember a ticket's first estimate."""
        if ticket_id not in self.first:
            self.first[ticket_id] = FirstEstimate(now, raw, service)
            if len(self.first) > FIRST_KEPT:
                for k in list(self.first)[: len(self.first) - FIRST_KEPT // 2]:
                    del self.first[k]

    def called(self, ticket_id: int, issued_at: float | None, now: float) -> None:
        first = self.first.pop(ticket_id, None)
        if first is not None and issued_at is not None:
            self.realized.append(Realized(issued_at, first.raw, now - first.at, first.service))

    def forget(self, ticket_id: int) -> None:
        self.first.pop(ticket_id, None)

    def new_day(self) -> None:
        self.first.clear()

    def apply(self, hall: HallView, raw: float, service: str) -> float:
        if not self.params.calibrate or not self.realized:
            return raw
        oldest = min((t.queued_at for t in hall.waiting), default=hall.now)
        logs = sorted(math.log((r.actual + 60.0) / (r.raw + 60.0)) for r in self.realized
                      if r.issued_at < oldest and r.service == service and r.raw > 60.0)
        n = len(logs)
        if n < self.params.calibration_min_n:
            return raw
        med = logs[n // 2] if n % 2 else 0.5 * (logs[n // 2 - 1] + logs[n // 2])
        w = n / (n + self.params.calibration_shrink)
        f = math.exp(min(max(w * med, -0.3), 0.3))
        return (raw + 60.0) * f - 60.0
