"""A day as its database recorded it: the outbox events in `seq` order with their hall time, each
ticket's life (issued, queued, called, left) and the hall's rules from its configuration.

This is what the promise checks read (kiosk/sim/day/promises.py, priority_promise.py,
customer_promises.py). Hall time is the outbox's `t` column: it never goes back, across kills
and wall-clock jumps, so waits are differences of `t`.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.config.settings import Settings

# events after which a ticket no longer waits (a rollover expires every waiting ticket)
LEAVES_QUEUE = {"ticket.called", "ticket.voided", "ticket.cancelled", "ticket.expired"}
COUNTER_STATES = {"counter.opened": "open", "counter.paused": "paused", "counter.closed": "closed"}


@dataclass(frozen=True)
class Event:
    seq: int
    type: str
    t: float  # hall time
    body: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass(frozen=True)
class Call:
    seq: int
    t: float
    counter: int


@dataclass
class TicketLife:
    """One ticket: from its `ticket.issued` (or the transfer it continues) to its calls."""

    id: int
    number: str
    service: str
    priority: int
    joined_seq: int           # when it joined the queue (issued, or transferred in)
    joined_t: float
    queued_t: float           # the time its wait counts from (a transfer keeps the original's)
    issued: bool              # True: a ticket.issued (False: a transfer's continuation)
    ahead: int | None = None  # the "people ahead" printed on it
    via: str | None = None    # how it was taken, where recorded (tickets.issued_via, e.g. "button")
    calls: list[Call] = field(default_factory=list)

    @property
    def first_call(self) -> Call | None:
        return self.calls[0] if self.calls else None

    @property
    def wait_s(self) -> float | None:
        """Issue → first call (None: never called)."""
        return None if not self.calls else self.calls[0].t - self.joined_t


@dataclass(frozen=True)
class HallRules:
    """What the promises depend on in the configuration."""

    tier_ids: dict[int, str]            # priority rank → tier id
    tier_targets_s: dict[int, float]    # priority rank → target wait
    counter_services: dict[int, tuple[str, ...]]
    vip_first: frozenset[int]           # counters that call priority tickets first
    rating_window_s: float
    expected_service_s: dict[str, float]

    @classmethod
    def from_settings(cls, s: Settings) -> HallRules:
        every = s.policy.priority_at == "all"
        return cls(tier_ids={i + 1: t.id for i, t in enumerate(s.tiers)},
                   tier_targets_s=s.tier_targets_s(),
                   counter_services={c.number: tuple(c.services) for c in s.counters},
                   vip_first=frozenset(c.number for c in s.counters if every or c.vip_first),
                   rating_window_s=s.policy.rating_window_s,
                   expected_service_s={v.prefix: v.expected_service_min * 60 for v in s.services})

    def tier_of(self, priority: int) -> str:
        """The tier id of a priority rank (ranks past the last tier count as the last)."""
        return self.tier_ids[min(priority, len(self.tier_ids))]

    def target_s(self, priority: int) -> float:
        return self.tier_targets_s[min(priority, len(self.tier_targets_s))]

    def vip_first_for(self, service: str) -> frozenset[int]:
        """The priority-first counters that serve `service`."""
        return frozenset(n for n in self.vip_first if service in self.counter_services.get(n, ()))


@dataclass
class DayLog:
    events: list[Event]
    tickets: dict[int, TicketLife]
    rules: HallRules
    via_recorded: bool = False  # the database records how each ticket was issued

    def of_type(self, *types: str) -> list[Event]:
        return [e for e in self.events if e.type in types]

    def counter_intervals(self, counter: int, end_t: float) -> list[tuple[float, float]]:
        """The hall-time intervals in which `counter` was open (closed before its first event)."""
        out: list[tuple[float, float]] = []
        since: float | None = None
        for e in self.events:
            state = COUNTER_STATES.get(e.type)
            if state is None or e.get("counter") != counter:
                continue
            if state == "open" and since is None:
                since = e.t
            elif state != "open" and since is not None:
                out.append((since, e.t))
                since = None
        if since is not None:
            out.append((since, max(since, end_t)))
        return out

    @property
    def end_t(self) -> float:
        return self.events[-1].t if self.events else 0.0


def read_events(db: Path) -> list[Event]:
    """Every outbox event of the database at `db` (read-only), in `seq` order."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute("SELECT seq, type, t, body FROM outbox ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [Event(seq, type_, t, json.loads(body)) for seq, type_, t, body in rows]


def ticket_lives(events: list[Event]) -> dict[int, TicketLife]:
    """Each ticket's life, from the events (a ticket whose `ticket.issued` was pruned is left out)."""
    lives: dict[int, TicketLife] = {}
    for e in events:
        if e.type == "ticket.issued":
            lives[e.get("ticket_id")] = TicketLife(
                e.get("ticket_id"), e.get("ticket"), e.get("service"), int(e.get("priority") or 0),
                e.seq, e.t, e.t, True, e.get("ahead"))
        elif e.type == "ticket.transferred" and e.get("new_ticket_id") is not None:
            parent = lives.get(e.get("ticket_id"))
            lives[e.get("new_ticket_id")] = TicketLife(
                e.get("new_ticket_id"), e.get("ticket"), e.get("to_service"), int(e.get("priority") or 0),
                e.seq, e.t, parent.queued_t if parent else e.t, False)
        elif e.type == "ticket.called":
            life = lives.get(e.get("ticket_id"))
            if life is not None:
                life.calls.append(Call(e.seq, e.t, e.get("counter")))
    return lives


@dataclass(frozen=True)
class Waiting:
    id: int
    service: str
    priority: int
    queued_t: float


def replay_queue(events: list[Event]) -> Iterator[tuple[Event, dict[int, Waiting]]]:
    """Each event with the tickets waiting just before it (the dict is live: copy what you keep)."""
    waiting: dict[int, Waiting] = {}
    queued: dict[int, float] = {}
    for e in events:
        yield e, waiting
        tid = e.get("ticket_id")
        if e.type == "ticket.issued":
            waiting[tid] = Waiting(tid, e.get("service"), int(e.get("priority") or 0), e.t)
            queued[tid] = e.t
        elif e.type == "ticket.transferred" and e.get("new_ticket_id") is not None:
            new = e.get("new_ticket_id")
            queued[new] = queued.get(tid, e.t)
            waiting[new] = Waiting(new, e.get("to_service"), int(e.get("priority") or 0), queued[new])
        elif e.type == "ticket.noshow" and e.get("requeued"):
            waiting[tid] = Waiting(tid, e.get("service"), int(e.get("priority") or 0), e.t)
            queued[tid] = e.t
        elif e.type in LEAVES_QUEUE:
            waiting.pop(tid, None)
        elif e.type == "day.rollover":
            waiting.clear()


def issued_via(db: Path) -> dict[int, str] | None:
    """Ticket id → how it was issued, where the tickets table records it (`issued_via`, schema 3;
    None: a database without that column)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        columns = {r[1] for r in conn.execute("PRAGMA table_info(tickets)")}
        if "issued_via" not in columns:
            return None
        return dict(conn.execute("SELECT id, issued_via FROM tickets WHERE issued_via IS NOT NULL"))
    finally:
        conn.close()


def load_day(db: Path, settings: Settings) -> DayLog:
    events = read_events(Path(db))
    lives = ticket_lives(events)
    via = issued_via(Path(db))
    for tid, how in (via or {}).items():
        if tid in lives:
            lives[tid].via = how
    return DayLog(events, lives, HallRules.from_settings(settings), via_recorded=via is not None)
