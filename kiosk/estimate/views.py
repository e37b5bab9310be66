"""What the engine shows the estimator: the waiting tickets and the counters, at one moment."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class WaitingTicket:
    ticket_id: int
    service: str  # prefix, e.g. "A"
    priority: int  # 0 normal, 1..N priority tier (1 highest)
    queued_at: float  # hall-time seconds (monotonic timeline); order key for FIFO
    reserved_for: int | None = None  # the counter it is reserved for: called there first, nowhere else


@dataclass(frozen=True)
class CounterView:
    number: int
    services: tuple[str, ...]
    vip_first: bool
    state: str  # "open" | "paused" | "closed"
    busy_service: str | None  # service of the ticket at the counter (called/serving)
    busy_since: float | None  # hall time the current ticket was called
    order: str = "fifo"  # its order of normal tickets: "fifo" or "strict" (kiosk.domain.policy)


@dataclass(frozen=True)
class HallView:
    now: float  # hall time, seconds
    hour: int  # local wall-clock hour 0..23 (time-of-day learning)
    waiting: tuple[WaitingTicket, ...]
    counters: tuple[CounterView, ...]
    priority_at: str  # "vip_first" or "all"
    starvation_limit_s: Mapping[str, float]  # per service
    tier_targets_s: Mapping[int, float] = field(default_factory=dict)  # priority tier -> target wait
