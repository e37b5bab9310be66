"""The domain events the estimator learns from, read and checked where they come in.

:func:`read_event` turns the engine's event dict (``type`` plus the fields of
docs/architecture.md) into an :class:`Observed` event, or into a :class:`Rejected` reason
when a field it learns from has the wrong type or value. A missing field (or ``None``)
is simply absent; an event kind the estimator does not learn from is read as its kind only.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiosk.domain.model import EventType

# kinds the engine of an earlier version sent: the ticket left the line
MAX_TIER = 9  # the configuration allows up to 9 priority tiers
TICKET_CANCELLED = "ticket.cancelled"
TICKET_EXPIRED = "ticket.expired"

LEARNT_FROM = frozenset({
    EventType.TICKET_ISSUED, EventType.TICKET_CALLED, EventType.TICKET_RECALLED, EventType.TICKET_STARTED,
    EventType.TICKET_FINISHED, EventType.TICKET_NOSHOW, EventType.TICKET_TRANSFERRED, TICKET_CANCELLED,
    TICKET_EXPIRED, EventType.DAY_ROLLOVER, EventType.COUNTER_OPENED, EventType.COUNTER_PAUSED,
    EventType.COUNTER_CLOSED,
})


@dataclass(frozen=True)
class Observed:
    kind: str  # the event's ``type``
    ticket_id: int | None = None
    service: str | None = None
    priority: int = 0  # 0 normal, 1..N priority tier (1 highest)
    counter: int | None = None  # ``3`` and ``"C3"`` are counter 3
    hour: int | None = None  # local hour 0..23, when the event carries one
    wait_s: float | None = None  # ticket.called: queued -> called
    service_s: float | None = None  # ticket.finished: called -> finished
    requeued: bool = False  # ticket.noshow: the ticket went back in its line
    new_ticket_id: int | None = None  # ticket.transferred: the ticket in the new line
    to_service: str | None = None  # ticket.transferred: the new line


@dataclass(frozen=True)
class Rejected:
    reason: str  # what is wrong, without the offending value (a stable key for counting)
    value: object = None  # the offending value, for the log


def read_event(raw: object) -> Observed | Rejected:
    if not isinstance(raw, Mapping):
        return Rejected("the event is not a mapping", type(raw).__name__)
    kind = raw.get("type")
    if not isinstance(kind, str):
        return Rejected("the event has no type", kind)
    if kind not in LEARNT_FROM:
        return Observed(kind)
    values: dict[str, object] = {}
    for name, rule in _FIELDS.items():
        value = raw.get(name)
        if value is None:
            continue
        checked = rule.read(value)
        if checked is None:
            return Rejected(f"{kind}: {name} {rule.expected}", value)
        values[name] = checked
    return Observed(kind, **values)


def _ticket_id(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _priority(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int) and 0 <= value <= MAX_TIER:
        return value
    return None


def _counter(value: object) -> int | None:
    """Counter numbers as ints ("C3", "3" and 3 are counter 3)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        digits = "".join(ch for ch in value if ch.isdigit())
        return int(digits) if digits else None
    return None


def _hour(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 23 else None


def _seconds(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


@dataclass(frozen=True)
class _Field:
    read: Callable[[object], object]  # the checked value, or None when it is malformed
    expected: str  # what a malformed value is not


_INTEGER = _Field(_ticket_id, "is not an integer")
_TEXT = _Field(_text, "is not a non-empty string")
_SECONDS = _Field(_seconds, "is not a finite number of seconds >= 0")
_FIELDS = {
    "ticket_id": _INTEGER, "service": _TEXT, "priority": _Field(_priority, f"is not a priority tier 0..{MAX_TIER}"),
    "counter": _Field(_counter, "names no counter number"), "hour": _Field(_hour, "is not an hour 0..23"),
    "wait_s": _SECONDS, "service_s": _SECONDS, "requeued": _Field(_flag, "is not true/false"),
    "new_ticket_id": _INTEGER, "to_service": _TEXT,
}
