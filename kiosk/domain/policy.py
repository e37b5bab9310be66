"""Which waiting ticket a counter calls next: THE calling rule (docs/queueing.md).

One rule serves the engine (who is called), the estimator (when a ticket will be called) and
"people ahead" (how many are called before it). A ticket's `priority` is 0 for a normal ticket
and 1..N for a priority ticket of tier N (1 = the highest tier).

At a priority-first counter (`vip_first`, or every counter with `priority_at = "all"`):
1. priority tickets, the one due first: due = queued time + its tier's target wait (tickets
   that arrive together go highest tier first; a lower tier is never held past its own target
   by a higher tier due later); a tier without a target comes after those with one, by tier
   then time;
2. then the normal tickets, in the counter's own order (below). A normal ticket never
   overtakes a waiting priority ticket there, however long it has waited.
At any other counter every ticket is ordered as a normal ticket of its service.
A ticket reserved for a counter (transferred to it, or to the clerk signed in there) comes
before all of these at that counter, the first reserved first, and is not called anywhere else.

The counter's own order of normal tickets (`order`):
- "fifo": the longest waiting across its services (its preferred service breaks ties);
- "strict": its services in the order listed, the longest waiting within a service; a ticket
  past its service's starvation limit comes before the others (the earliest deadline first).
Ties go to the counter's preferred service, then to the ticket issued first.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

ORDERS = ("fifo", "strict")


@dataclass(frozen=True)
class Candidate:
    ticket_id: int
    service: str
    priority: int  # 0 normal, 1..N priority tier (1 highest)
    queued_t: float
    reserved_for: int | None = None  # the counter it is reserved for (called there first, nowhere else)


def priority_first(vip_first: bool, priority_at: str) -> bool:
    return vip_first or priority_at == "all"


class CallingRule:
    """The rule of one counter, with what does not change between calls worked out once (the
    engine asks it once per call; the estimator's simulation thousands of times per estimate).

    ``tier_targets_s``: priority tier → its target wait (a tier without one never ages);
    ``starvation_limit_s``: service → the wait after which a normal ticket of a strict counter's
    later service comes first; ``counter``: the counter's number, which tells the tickets reserved
    for it (first, in the order reserved) from those reserved for another (never called here)."""

    __slots__ = ("counter", "services", "priority_first", "order", "starvation_limit_s", "tier_targets_s",
                 "_rank", "_limit", "_strict")

    def __init__(self, services: Sequence[str], vip_first: bool, priority_at: str,
                 starvation_limit_s: Mapping[str, float], *, order: str = "fifo",
                 tier_targets_s: Mapping[int, float] | None = None, counter: int | None = None) -> None:
        if order not in ORDERS:
            raise ValueError(f"unknown counter order {order!r} (known: {', '.join(ORDERS)})")
        self.counter = counter
        self.services = tuple(services)
        self.priority_first = priority_first(vip_first, priority_at)
        self.order = order
        self.starvation_limit_s = starvation_limit_s
        self.tier_targets_s = dict(tier_targets_s or {})
        self._rank = {s: i for i, s in enumerate(self.services)}
        inf = float("inf")
        self._limit = {s: starvation_limit_s.get(s, inf) for s in self.services}
        self._strict = order == "strict"

    def sort_key(self, w: Candidate, now: float) -> tuple[float, ...] | None:
        """The rule as an order: the waiting ticket with the smallest key is called first (None: a
        ticket of a service this counter does not serve, or reserved for another counter). A ticket
        reserved for this counter comes first, whatever its service, in the order reserved (by id).
        Within one service and one tier the key grows with the time the ticket was queued (each
        such line is in calling order)."""
        if w.reserved_for is not None:
            return (-1, w.ticket_id) if w.reserved_for == self.counter else None
        r = self._rank.get(w.service)
        if r is None:
            return None
        q = w.queued_t
        if self.priority_first and w.priority > 0:
            target = self.tier_targets_s.get(w.priority)
            if target is not None:
                return (0, q + target, w.priority, r, w.ticket_id)
            return (1, w.priority, q, r, w.ticket_id)
        if self._strict:
            limit = self._limit[w.service]
            if now - q >= limit:
                return (2, q + limit, r, w.ticket_id)
            return (3, r, q, w.ticket_id)
        return (3, q, r, w.ticket_id)

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

    def count_before(self, waiting: Iterable[Candidate], target: Candidate, now: float) -> int | None:
        """How many of `waiting` this counter would call before `target` if nothing changed
        (None: it does not serve `target`, or `target` is reserved for another counter)."""
        tk = self.sort_key(target, now)
        if tk is None:
            return None
        n = 0
        for w in waiting:
            if w.ticket_id != target.ticket_id:
                k = self.sort_key(w, now)
                if k is not None and k < tk:
                    n += 1
        return n


def choose_next(services: Sequence[str], vip_first: bool, waiting: Iterable[Candidate], now: float,
                priority_at: str, starvation_limit_s: Mapping[str, float], *, order: str = "fifo",
                tier_targets_s: Mapping[int, float] | None = None, counter: int | None = None) -> Candidate | None:
    """`CallingRule(...).choose(waiting, now)` for a single question."""
    return CallingRule(services, vip_first, priority_at, starvation_limit_s, order=order,
                       tier_targets_s=tier_targets_s, counter=counter).choose(waiting, now)
