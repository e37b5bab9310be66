"""A branch's appointment rules as HQ reads them from its latest queue snapshot: the
``phone.appointments`` block (`Rules`: the services, slot length, seats per slot, opening
hours, days ahead, the check-in window) and the branch's own clock (the UTC offset of the
snapshot's ``ts``, so that "today" and "a past slot" are the branch's, not the server's).

A block that is missing, or wrong in any field, means the branch takes no appointments
(`rules_of` → None): HQ never books against rules it cannot read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

SERVICE = re.compile(r"[A-Z]")   # a kiosk's service prefix (`kiosk.mqtt.protocol`, `kiosk.mqtt.hq_data`)
HOURS = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])-([01][0-9]|2[0-4]):([0-5][0-9])")
MAX_DAYS_AHEAD = 60
MAX_CAPACITY = 100


@dataclass(frozen=True)
class Rules:
    """One branch's appointment rules (checked)."""

    services: tuple[str, ...]
    slot_min: int
    capacity: int
    hours: tuple[tuple[int, int], ...]   # (first minute, end minute) of the day, in order
    days_ahead: int
    early_min: int
    late_min: int
    tz: tzinfo

    def slots(self) -> list[str]:
        """The slot starts of a day ("HH:MM"): each range from its start, every `slot_min`, while a whole
        slot fits before the range's end."""
        out = []
        for first, end in self.hours:
            m = first
            while m + self.slot_min <= end:
                out.append(f"{m // 60:02d}:{m % 60:02d}")
                m += self.slot_min
        return out

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self, now: datetime | None = None) -> date:
        return (now or self.now()).astimezone(self.tz).date()

    def days(self, now: datetime | None = None) -> list[date]:
        """The bookable days: the branch's today .. today + `days_ahead`."""
        today = self.today(now)
        return [today + timedelta(days=i) for i in range(self.days_ahead + 1)]

    def start(self, day: date, slot: str) -> datetime:
        """When the slot begins, on the branch's clock."""
        return datetime.combine(day, time.fromisoformat(slot), self.tz)


def _int(v: Any, lo: int, hi: int) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi else None


def _hours(v: Any) -> tuple[tuple[int, int], ...] | None:
    if not isinstance(v, list) or not 1 <= len(v) <= 12:
        return None
    out = []
    for h in v:
        m = HOURS.fullmatch(h) if isinstance(h, str) else None
        if m is None:
            return None
        first, end = int(m[1]) * 60 + int(m[2]), int(m[3]) * 60 + int(m[4])
        if end > 24 * 60 or end <= first or (out and first < out[-1][1]):
            return None
        out.append((first, end))
    return tuple(out)


def branch_tz(queue_doc: dict[str, Any]) -> tzinfo:
    """The branch's UTC offset, from its snapshot's ``ts`` (UTC when it carries none)."""
    ts = queue_doc.get("ts")
    try:
        tz = datetime.fromisoformat(ts).tzinfo if isinstance(ts, str) and len(ts) <= 40 else None
    except ValueError:
        tz = None
    if tz is None:
        return timezone.utc
    offset = tz.utcoffset(None)
    return timezone(offset) if offset is not None else timezone.utc


def rules_of(queue_doc: dict[str, Any] | None) -> Rules | None:
    """The branch's appointment rules, or None when it takes no appointments (no block, no service,
    or a field HQ cannot read)."""
    phone = queue_doc.get("phone") if isinstance(queue_doc, dict) else None
    a = phone.get("appointments") if isinstance(phone, dict) else None
    if not isinstance(a, dict):
        return None
    services = a.get("services")
    if not isinstance(services, list) or not services or len(services) > 64 \
            or not all(isinstance(s, str) and SERVICE.fullmatch(s) for s in services):
        return None
    slot_min, capacity = _int(a.get("slot_min"), 5, 24 * 60), _int(a.get("capacity"), 1, MAX_CAPACITY)
    days_ahead = _int(a.get("days_ahead"), 0, MAX_DAYS_AHEAD)
    early, late = _int(a.get("early_min"), 0, 24 * 60), _int(a.get("late_min"), 0, 24 * 60)
    hours = _hours(a.get("hours"))
    if None in (slot_min, capacity, days_ahead, early, late, hours):
        return None
    return Rules(tuple(dict.fromkeys(services)), slot_min, capacity, hours, days_ahead, early, late,  # type: ignore[arg-type]
                 branch_tz(queue_doc))


__all__ = ["MAX_CAPACITY", "MAX_DAYS_AHEAD", "Rules", "branch_tz", "rules_of"]
