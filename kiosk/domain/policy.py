"""Which waiting ticket a counter calls next (a pure function of the queue).

A counter that serves priority first (`vip_first`, or every counter when
`priority_at = "all"`) calls the longest-waiting priority ticket among its services;
otherwise, and when no priority ticket waits, the longest-waiting ticket among its services.
Anti-starvation: a normal ticket that has waited past its service's limit is not passed over
by priority tickets any more. Ties go to the counter's preferred service, then the ticket
issued first.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    service: str
    priority: int
    queued_t: float


def priority_first(vip_first: bool, priority_at: str) -> bool:
    return vip_first or priority_at == "all"


class CallingRule:
    """The rule of one counter, with what does not change between calls worked out once (the
    engine asks it once per call; the estimator's simulation thousands of times per estimate)."""

    __slots__ = ("services", "priority_first", "starvation_limit_s", "_rank", "_limit")

    def __init__(self, services: Sequence[str], vip_first: bool, priority_at: str,
                 starvation_limit_s: Mapping[str, float]) -> None:
        self.services = tuple(services)
        self.priority_first = priority_first(vip_first, priority_at)
        self.starvation_limit_s = starvation_limit_s
        self._rank = {s: i for i, s in enumerate(self.services)}
        inf = float("inf")
        self._limit = {s: starvation_limit_s.get(s, inf) for s in self.services}

    def sort_key(self, w: Candidate, now: float) -> tuple[int, float, int, int] | None:
        """The rule as an order: the waiting ticket with the smallest key is called first (None: a
        ticket of a service this counter does not serve). At a priority-first counter a normal
        ticket past its starvation limit comes first, then priority tickets, then the others;
        within each, the longest waiting, then the preferred service, then the ticket issued first."""
        r = self._rank.get(w.service)
        if r is None:
            return None
        if not self.priority_first:
            tier = 0
        elif w.priority:
            tier = 1
        else:
            tier = 0 if now - w.queued_t >= self._limit[w.service] else 2
        return (tier, w.queued_t, r, w.ticket_id)

    def choose_index(self, waiting: Sequence[Candidate], now: float) -> int | None:
        """Where in `waiting` the ticket this counter calls next stands (None: nobody it serves)."""
        best = best_key = None
        for at, w in enumerate(waiting):
            k = self.sort_key(w, now)
            if k is not None and (best_key is None or k < best_key):
                best, best_key = at, k
        return best

    def choose(self, waiting: Iterable[Candidate], now: float) -> Candidate | None:
        """The ticket this counter calls next among `waiting` at hall time `now` (None: nobody
        it serves waits)."""
        waiting = waiting if isinstance(waiting, Sequence) else list(waiting)
        at = self.choose_index(waiting, now)
        return None if at is None else waiting[at]


def choose_next(services: Sequence[str], vip_first: bool, waiting: Iterable[Candidate], now: float,
                priority_at: str, starvation_limit_s: Mapping[str, float]) -> Candidate | None:
    """`CallingRule(services, vip_first, priority_at, starvation_limit_s).choose(waiting, now)`."""
    return CallingRule(services, vip_first, priority_at, starvation_limit_s).choose(waiting, now)
