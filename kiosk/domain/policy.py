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

    def choose(self, waiting: Iterable[Candidate], now: float) -> Candidate | None:
        """The ticket this counter calls next among `waiting` at hall time `now` (None: nobody
        it serves waits). One pass: the first starving normal ticket, else the first priority
        ticket (at a priority-first counter), else the first ticket; "first" by (queued time,
        preferred service, ticket id)."""
        rank, limit, prio_first = self._rank, self._limit, self.priority_first
        best = best_vip = best_starving = None
        k_best = k_vip = k_starving = None
        for w in waiting:
            r = rank.get(w.service)
            if r is None:
                continue
            k = (w.queued_t, r, w.ticket_id)
            if best is None or k < k_best:
                best, k_best = w, k
            if prio_first:
                if w.priority:
                    if best_vip is None or k < k_vip:
                        best_vip, k_vip = w, k
                elif now - w.queued_t >= limit[w.service] and (best_starving is None or k < k_starving):
                    best_starving, k_starving = w, k
        return best_starving or best_vip or best


def choose_next(services: Sequence[str], vip_first: bool, waiting: Iterable[Candidate], now: float,
                priority_at: str, starvation_limit_s: Mapping[str, float]) -> Candidate | None:
    """`CallingRule(services, vip_first, priority_at, starvation_limit_s).choose(waiting, now)`."""
    return CallingRule(services, vip_first, priority_at, starvation_limit_s).choose(waiting, now)
