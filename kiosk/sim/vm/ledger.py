"""What the host was told (every acknowledged issue, call and finish) against what the guest's
database holds after a power cut: lost, duplicated, called twice, the outbox continuous,
`kiosk check-db` clean."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kiosk.domain.model import TicketState

CALLED_OR_LATER = {TicketState.CALLED, TicketState.SERVING, TicketState.DONE, TicketState.NOSHOW,
                   TicketState.TRANSFERRED}


@dataclass
class Findings:
    """The problems one boot's state shows (all zero / empty when the cut lost nothing)."""

    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    double_calls: list[str] = field(default_factory=list)
    outbox: list[str] = field(default_factory=list)
    check_db: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicates or self.double_calls or self.outbox or self.check_db)

    def describe(self) -> str:
        return "; ".join(f"{k}: {', '.join(v[:5])}" for k, v in vars(self).items() if v) or "clean"


class Ledger:
    """Every operation the guest acknowledged, across all boots."""

    def __init__(self) -> None:
        self.issued: dict[int, tuple[str, str]] = {}        # ticket id → (day, number)
        self.by_number: dict[tuple[str, str], int] = {}      # (day, number) → ticket id
        self.called: dict[int, str] = {}                     # ticket id → number
        self.finished: dict[int, str] = {}
        self.acked: Counter[str] = Counter()
        self.acked_twice: list[str] = []                     # the same number or call acknowledged twice

    def acknowledge(self, line: dict[str, Any]) -> None:
        kind = line.get("ack")
        if kind is None:
            return
        self.acked[kind] += 1
        tid, number = int(line["id"]), str(line["ticket"])
        if kind == "issued":
            key = (str(line["day"]), number)
            if key in self.by_number and self.by_number[key] != tid:
                self.acked_twice.append(f"{number} on {key[0]} issued as ticket {self.by_number[key]} and {tid}")
            self.by_number[key] = tid
            self.issued[tid] = key
        elif kind == "called":
            if tid in self.called:
                self.acked_twice.append(f"{number} (ticket {tid}) called twice")
            self.called[tid] = number
        elif kind == "finished":
            self.finished[tid] = number

    @property
    def total(self) -> int:
        return sum(self.acked.values())

    def check(self, state: dict[str, Any]) -> Findings:
        f = Findings()
        tickets = {int(r[0]): (str(r[2]), str(r[1]), str(r[3])) for r in state["tickets"]}
        for tid, (day, number) in self.issued.items():
            if tickets.get(tid, (None, None))[:2] != (day, number):
                f.lost.append(f"issued {number} (ticket {tid}, {day})")
        for tid, number in self.called.items():
            if tickets.get(tid, ("", "", "missing"))[2] not in CALLED_OR_LATER:
                f.lost.append(f"call of {number} (ticket {tid}: {tickets.get(tid, ('', '', 'missing'))[2]})")
        for tid, number in self.finished.items():
            if tickets.get(tid, ("", "", "missing"))[2] != TicketState.DONE:
                f.lost.append(f"finish of {number} (ticket {tid})")
        numbers = Counter((day, number) for day, number, _ in tickets.values())
        f.duplicates = [f"{n} on {d} ×{c}" for (d, n), c in numbers.items() if c > 1]
        f.duplicates += [x for x in self.acked_twice if "issued" in x]
        f.double_calls = [f"ticket {t} called {c} times" for t, c in state["called_twice"]]
        held = Counter(t for _, t in state["held"])
        f.double_calls += [f"ticket {t} held by {c} counters" for t, c in held.items() if c > 1]
        f.double_calls += [x for x in self.acked_twice if "called twice" in x]
        count, first, last = state["outbox"]
        if count and (first != 1 or last != count):
            f.outbox.append(f"outbox seq {first}..{last} holds {count} events")
        if state["issued_events"] != len(tickets):
            f.outbox.append(f"{state['issued_events']} ticket.issued events for {len(tickets)} tickets")
        db = state["check_db"]
        if db.get("rc") != 0 or not db.get("ok"):
            f.check_db = [str(p) for p in db.get("problems") or ["kiosk check-db failed"]]
        return f
