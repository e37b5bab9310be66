"""The priority promises of a day (docs/queueing.md), judged from its events:

1. At a priority-first (VIP-first) counter, a waiting priority ticket it serves is always called
   before a normal ticket: :func:`normal_calls_over_priority`.
2. No priority ticket waits past its tier's target while a VIP-first counter that serves it is
   open, unless priority arrivals alone exceed those counters' capacity — and then an alert
   (``alert.raised`` of kind :data:`PRIORITY_OVERLOAD`) says so: :func:`late_priority`.

A priority ticket late past its target falls in one of these classes:

* ``no_vip_counter``: no VIP-first counter serving it was open after its target passed;
* ``passed_over`` (broken): while it waited, a VIP-first counter serving it called a normal
  ticket, or a priority ticket due later than it (due = queued + its tier's target);
* ``overload_alerted`` / ``overload_unalerted`` (broken): the priority tickets issued in the
  hour up to its due time outnumber what those counters could serve in that hour (their open
  time ÷ the day's mean priority service time); the alert must be up during its wait;
* ``behind_service``: none of the above — every call at those counters while it waited went to
  a priority ticket due before it, or none was made (customers called before it arrived were
  still being served: service is not interrupted). Reported, not a broken promise of the rule.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kiosk.sim.day.day_log import DayLog, Event, TicketLife, replay_queue

PRIORITY_OVERLOAD = "priority_overload"   # the alert kind that says priority demand exceeds the VIP-first counters
WINDOW_S = 3600.0                          # the arrivals measured against capacity: the hour up to the due time
BROKEN = ("passed_over", "overload_unalerted")


@dataclass(frozen=True)
class Late:
    ticket: str
    tier: str
    wait_min: float
    target_min: float
    verdict: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"ticket": self.ticket, "tier": self.tier, "wait_min": self.wait_min, "target_min": self.target_min,
                "verdict": self.verdict, **({"detail": self.detail} if self.detail else {})}


def normal_calls_over_priority(log: DayLog) -> list[dict[str, Any]]:
    """Every call of a normal ticket at a VIP-first counter while a priority ticket it serves waited."""
    out = []
    for e, waiting in replay_queue(log.events):
        if e.type != "ticket.called" or e.get("counter") not in log.rules.vip_first:
            continue
        if int(e.get("priority") or 0) > 0:
            continue
        serves = log.rules.counter_services.get(e.get("counter"), ())
        held = [w for w in waiting.values() if w.priority > 0 and w.service in serves]
        if held:
            oldest = min(held, key=lambda w: w.queued_t)
            out.append({"counter": e.get("counter"), "called": e.get("ticket"), "priority_waiting": len(held),
                        "longest_waiting_min": round((e.t - oldest.queued_t) / 60, 1),
                        "longest": log.tickets[oldest.id].number if oldest.id in log.tickets else oldest.id})
    return out


def _due(log: DayLog, priority: int, queued_t: float) -> float:
    return queued_t + log.rules.target_s(priority) if priority > 0 else float("inf")


def _open_overlap(intervals: list[tuple[float, float]], lo: float, hi: float) -> float:
    return sum(max(0.0, min(b, hi) - max(a, lo)) for a, b in intervals)


def _mean_priority_service_s(log: DayLog) -> float:
    """The day's mean service time of priority tickets (else the configured expectation)."""
    measured = [e.get("service_s") for e in log.of_type("ticket.finished")
                if int(e.get("priority") or 0) > 0 and e.get("service_s") is not None]
    if measured:
        return max(1.0, sum(measured) / len(measured))
    expected = list(log.rules.expected_service_s.values()) or [300.0]
    return sum(expected) / len(expected)


def _alert_spans(log: DayLog, kind: str) -> list[tuple[float, float]]:
    """When an alert of `kind` was up (raised → the next clear of the same kind, or the day's end)."""
    spans, since = [], None
    for e in log.of_type("alert.raised", "alert.cleared"):
        if e.get("kind") != kind:
            continue
        if e.type == "alert.raised" and since is None:
            since = e.t
        elif e.type == "alert.cleared" and since is not None:
            spans.append((since, e.t))
            since = None
    if since is not None:
        spans.append((since, log.end_t))
    return spans


class _Calls:
    """Every call at a VIP-first counter, with the called ticket's due time."""

    def __init__(self, log: DayLog) -> None:
        self.calls: list[tuple[Event, float]] = []
        for e, waiting in replay_queue(log.events):
            if e.type == "ticket.called" and e.get("counter") in log.rules.vip_first:
                w = waiting.get(e.get("ticket_id"))
                self.calls.append((e, _due(log, int(e.get("priority") or 0), w.queued_t if w else e.t)))

    def between(self, counters: frozenset[int], lo_seq: int, hi_seq: int) -> list[tuple[Event, float]]:
        return [(e, due) for e, due in self.calls if lo_seq < e.seq < hi_seq and e.get("counter") in counters]


def late_priority(log: DayLog) -> list[Late]:
    """Every priority ticket called past its tier's target, with its verdict (see the module)."""
    calls = _Calls(log)
    spans = _alert_spans(log, PRIORITY_OVERLOAD)
    service_s = _mean_priority_service_s(log)
    priority = [t for t in log.tickets.values() if t.issued and t.priority > 0]
    out = []
    for t in priority:
        target = log.rules.target_s(t.priority)
        if t.first_call is None or t.wait_s <= target:
            continue
        out.append(Late(t.number, log.rules.tier_of(t.priority), round(t.wait_s / 60, 1), round(target / 60, 1),
                        *_verdict(log, t, target, calls, spans, service_s, priority)))
    return out


def _verdict(log: DayLog, t: TicketLife, target: float, calls: _Calls, spans: list[tuple[float, float]],
             service_s: float, priority: list[TicketLife]) -> tuple[str, str]:
    counters = log.rules.vip_first_for(t.service)
    due, called = t.joined_t + target, t.first_call
    intervals = {n: log.counter_intervals(n, log.end_t) for n in counters}
    if not any(_open_overlap(iv, due, called.t) > 0 for iv in intervals.values()):
        return "no_vip_counter", "no VIP-first counter serving it was open after its target"
    wrong = [(e, d) for e, d in calls.between(counters, t.joined_seq, called.seq) if d > due]
    if wrong:
        e, d = wrong[0]
        what = "a normal ticket" if d == float("inf") else "a priority ticket due later"
        return "passed_over", f"counter {e.get('counter')} called {e.get('ticket')} ({what}) while it waited"
    lo = due - WINDOW_S
    arrivals = sum(1 for p in priority if lo <= p.joined_t <= due and counters & log.rules.vip_first_for(p.service))
    capacity = sum(_open_overlap(iv, lo, due) for iv in intervals.values()) / service_s
    if arrivals > capacity:
        alerted = any(a < called.t and b > t.joined_t for a, b in spans)
        return ("overload_alerted" if alerted else "overload_unalerted",
                f"{arrivals} priority arrivals in the hour before its due time, capacity {capacity:.1f}")
    return "behind_service", "its VIP-first counters were serving customers called before it or due before it"


def priority_figures(log: DayLog) -> dict[str, Any]:
    """The priority promises of the day: calls that broke them and every late priority ticket."""
    late = late_priority(log)
    verdicts: dict[str, int] = {}
    for item in late:
        verdicts[item.verdict] = verdicts.get(item.verdict, 0) + 1
    return {"normal_calls_over_priority": normal_calls_over_priority(log),
            "late": [x.as_dict() for x in late], "late_by_verdict": verdicts,
            "broken": [x.as_dict() for x in late if x.verdict in BROKEN]}
