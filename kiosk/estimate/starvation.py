"""Does the hall really apply the starvation limits it is configured with?

A replayed day, or a hall whose staff call by number, may not apply the limits the engine
is configured with. The calls tell: at a counter with a strict order of services, the calling
rule (:class:`kiosk.domain.policy.CallingRule`) with the limits calls a ticket of a later
service past its limit ahead of the counter's preferred service. A call that the rule without
limits explains but the rule with them does not breaks the limits; a call only the limits
explain keeps them. After two breaks, unless as many calls kept them, the simulation ignores
the limits. (Limits never let a normal ticket overtake a priority ticket, and counters calling
first come first served ignore them: calls there tell nothing.)
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from kiosk.domain.policy import CallingRule, Candidate
from kiosk.estimate.views import CounterView, HallView

GRACE_S = 5.0  # the recorded clock and the limits may disagree by a few seconds


def usable_limits(limits: Mapping[str, float] | None) -> dict[str, float]:
    """The starvation limits that are numbers (a NaN or a non-number is no limit)."""
    return {svc: float(v) for svc, v in (limits or {}).items()
            if isinstance(v, (int, float)) and not math.isnan(v)}


class StarvationEvidence:
    def __init__(self) -> None:
        self.kept = 0  # calls that honoured the limits
        self.broken = 0  # priority calls that passed over a normal ticket past its limit
        self._counters: dict[int, CounterView] = {}  # the hall of the latest estimate
        self._priority_at = "vip_first"
        self._limits: dict[str, float] = {}
        self._tier_targets: dict[int, float] = {}

    def see_hall(self, hall: HallView) -> None:
        self._counters = {c.number: c for c in hall.counters}
        self._priority_at = hall.priority_at
        self._limits = usable_limits(hall.starvation_limit_s)
        self._tier_targets = dict(hall.tier_targets_s)

    def watches(self, counter: int) -> bool:
        """Calls at this counter can tell: it orders its services strictly."""
        c = self._counters.get(counter)
        return c is not None and c.order == "strict"

    def judge_call(self, called: Candidate, counter: int, now: float, waiting: Sequence[Candidate]) -> None:
        """``called`` was called at ``counter`` (a watched one) while ``waiting`` waited."""
        c = self._counters[counter]
        if called.service not in c.services:
            return
        rivals = [called] + [w for w in waiting if w.ticket_id != called.ticket_id]

        def pick(shift_s: float | None) -> Candidate | None:
            limits = {} if shift_s is None else {s: v + shift_s for s, v in self._limits.items()}
            rule = CallingRule(c.services, c.vip_first, self._priority_at, limits, order=c.order,
                               tier_targets_s=self._tier_targets)
            return rule.choose(rivals, now)

        plain = pick(None)
        if plain is not None and plain.ticket_id == called.ticket_id:
            due = pick(GRACE_S)
            if due is not None and due.ticket_id != called.ticket_id:
                self.broken += 1
        else:
            due = pick(-GRACE_S)
            if due is not None and due.ticket_id == called.ticket_id:
                self.kept += 1

    def in_force(self) -> bool:
        return self.broken < 2 or self.kept >= self.broken

    def limits(self, hall: HallView) -> dict[str, float]:
        """The limits the simulation applies: the hall's, unless the calls say otherwise."""
        return usable_limits(hall.starvation_limit_s) if self.in_force() else {}
