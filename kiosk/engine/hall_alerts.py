"""The hall's alerts as every reader sees them: ``kiosk status``, the touchscreen's snapshot
and HQ (which reads the snapshot) get this one dict, computed from the store alone.

* the peak level and its reason: :func:`kiosk.engine.alerts.current_state`;
* at level 1 or 2, the counters to open to get back under level 1
  (:mod:`kiosk.engine.peak_staffing`, the statistics' Erlang C);
* the counters in long service and the satisfaction shares below target
  (:mod:`kiosk.engine.alert_kinds`);
* the services diverted to self-service at a level 2 peak (:func:`kiosk.engine.issuing.diverts`).
"""
from __future__ import annotations

import sqlite3
from typing import Any

from kiosk.config.settings import Settings
from kiosk.engine.alert_kinds import LONG_SERVICE, PRIORITY_OVERLOAD, SATISFACTION, current_kinds
from kiosk.engine.alerts import NONE, current_state, over_target, stored_day
from kiosk.engine.issuing import DIVERTED_AT_LEVEL, diverts
from kiosk.engine.peak_staffing import peak_staffing


def hall_alert(conn: sqlite3.Connection, now: float, settings: Settings) -> dict[str, Any]:
    """The ``alert`` of the snapshot: ``level`` and ``reason`` (as ``alert_state`` keeps them),
    ``code``, ``text``, ``reasons`` (one line per alert, the peak first), the counters to open,
    ``long_service``, ``satisfaction`` (below target only), ``priority_overload`` and ``diverted``
    (service prefixes)."""
    state, m = current_state(conn, now, settings)
    day = stored_day(conn)
    kinds = current_kinds(conn, now, settings, day)
    out: dict[str, Any] = {
        "level": state.level,
        "reason": state.reason_line,
        "code": state.reason if state.reason != NONE else "",
        "text": state.text,
        "over_target": list(over_target(m)),
    }
    reasons = [state.reason_line] if state.level > 0 else []
    if state.level > 0:
        staffing = peak_staffing(conn, now, settings, day, m.waiting, m.open_counters)
        out.update(open_counters_needed=staffing.open_counters_needed, counters_needed=staffing.counters_needed,
                   staffing={**staffing.as_dict(), "text": staffing.text})
    else:
        out.update(open_counters_needed=0, counters_needed=None, staffing=None)
    out["long_service"] = [a.fields for a in kinds.values() if a.kind == LONG_SERVICE]
    out["satisfaction"] = [a.fields for a in kinds.values() if a.kind == SATISFACTION]
    out["priority_overload"] = [a.fields for a in kinds.values() if a.kind == PRIORITY_OVERLOAD]
    out["reasons"] = reasons + [f"{a.kind}: {a.text}" for a in kinds.values()]
    out["diverted"] = [s.prefix for s in settings.services
                       if state.level >= DIVERTED_AT_LEVEL and diverts(settings, s)]
    return out
