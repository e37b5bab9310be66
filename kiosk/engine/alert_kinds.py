"""The alerts beside the peak level: a counter in long service, a satisfaction below target,
priority arrivals beyond the VIP-first counters.

Each is a :class:`KindAlert` with a key that names what it is about (``long_service:3:A001``,
``satisfaction:hall``, ``satisfaction:diamond``, ``priority_overload:hall``). Every reader computes
the same set from the store (:func:`current_kinds`); the alert monitor raises an alert whose key appears and clears
one whose key goes (``alert.raised`` / ``alert.cleared`` with ``kind``), and after a restart
learns what it had raised from the outbox (:func:`raised_in_outbox`).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.settings import Settings
from kiosk.engine import satisfaction
from kiosk.engine.long_service import long_services
from kiosk.engine.priority_overload import priority_overload

PEAK = "peak"
LONG_SERVICE = "long_service"
SATISFACTION = "satisfaction"
PRIORITY_OVERLOAD = "priority_overload"


@dataclass(frozen=True)
class KindAlert:
    kind: str
    text: str
    fields: dict[str, Any] = field(default_factory=dict)  # what the events carry besides level and reason

    @property
    def key(self) -> str:
        return key_of({"kind": self.kind, **self.fields})


def key_of(body: dict[str, Any]) -> str:
    """The key of an alert event's body (or of a :class:`KindAlert`)."""
    if body.get("kind") == LONG_SERVICE:
        return f"{LONG_SERVICE}:{body.get('counter')}:{body.get('ticket')}"
    return f"{body.get('kind')}:{body.get('scope')}"


def current_kinds(conn: sqlite3.Connection, now: float, settings: Settings, day: str | None) -> dict[str, KindAlert]:
    """Key → alert, for every long service, every satisfaction below target and a priority overload now."""
    out: list[KindAlert] = [
        KindAlert(LONG_SERVICE, ls.text, {"counter": ls.counter, "ticket": ls.ticket, "service": ls.service,
                                          "at_counter_s": ls.at_counter_s, "limit_s": ls.limit_s})
        for ls in long_services(conn, now, settings)]
    out += [KindAlert(SATISFACTION, s.text + " (below)", s.as_dict())
            for s in satisfaction.for_days(conn, day or "", day or "", settings) if s.below]
    overload = priority_overload(conn, now, settings, day)
    if overload is not None:
        out.append(KindAlert(PRIORITY_OVERLOAD, overload.text, overload.as_dict()))
    return {a.key: a for a in out}


def raised_in_outbox(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Key → the body of the last ``alert.raised`` of every kind alert not cleared since."""
    raised: dict[str, dict[str, Any]] = {}
    for type_, body in conn.execute("SELECT type, body FROM outbox WHERE type IN ('alert.raised', 'alert.cleared') "
                                    "ORDER BY seq"):
        ev = json.loads(body)
        if ev.get("kind") in (None, PEAK):
            continue
        if type_ == "alert.raised":
            raised[key_of(ev)] = ev
        else:
            raised.pop(key_of(ev), None)
    return raised
