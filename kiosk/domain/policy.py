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


def choose_next(services: Sequence[str], vip_first: bool, waiting: Iterable[Candidate], now: float,
                priority_at: str, starvation_limit_s: Mapping[str, float]) -> Candidate | None:
    rank = {s: i for i, s in enumerate(services)}
    eligible = [w for w in waiting if w.service in rank]
    if not eligible:
        return None

    def key(w: Candidate) -> tuple:
        return (w.queued_t, rank[w.service], w.ticket_id)

    if priority_first(vip_first, priority_at):
        starving = [w for w in eligible if not w.priority
                    and now - w.queued_t >= starvation_limit_s.get(w.service, float("inf"))]
        if starving:
            return min(starving, key=key)
        vip = [w for w in eligible if w.priority]
        if vip:
            return min(vip, key=key)
    return min(eligible, key=key)
