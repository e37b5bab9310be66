"""The seeds' targets in the statistics (docs/statistics.md, "Targets").

* **time at the counter** (临柜): the share of the customers served (``done``) whose time at
  the counter (call → finish, the ``service_time`` of the statistics) is within their
  service's ``counter_limit_min`` — per service, per counter and in total;
* **satisfaction against its target**: the hall's ``alerts.satisfaction_target`` (for the
  totals, services and counters) and the share of each priority tier with the tier's own target.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from kiosk.config.settings import Settings
from kiosk.engine import satisfaction

Served = tuple[str, int | None, float]  # (service, counter, seconds at the counter) of a customer served


def within_limit(served: Iterable[Served], limits_s: dict[str, float]) -> dict[str, Any]:
    """``served``, ``within`` (time at the counter ≤ the service's limit) and ``share``."""
    times = [(service, s) for service, _, s in served]
    within = sum(1 for service, s in times if service in limits_s and s <= limits_s[service] + 1e-9)
    return {"served": len(times), "within": within, "share": round(within / len(times), 4) if times else None}


def add_targets(out: dict[str, Any], served: list[Served], conn: sqlite3.Connection,
                settings: Settings | None) -> None:
    """Add the targets to `stats.compute`'s result (its ``totals``, ``services`` and ``counters``
    as built so far; `served`: its customers served): ``counter_limit`` to each, and
    ``satisfaction_target`` (the hall's) and ``tiers`` at the top."""
    if settings is None:
        return
    limits = {s.prefix: s.counter_limit_min * 60.0 for s in settings.services}
    out["satisfaction_target"] = settings.alerts.satisfaction_target
    out["totals"]["counter_limit"] = within_limit(served, limits)
    for s in out["services"]:
        s["counter_limit"] = {"limit_s": limits.get(s["service"]),
                              **within_limit((x for x in served if x[0] == s["service"]), limits)}
    for c in out["counters"]:
        c["counter_limit"] = within_limit((x for x in served if x[1] == c["counter"]), limits)
    tiers = satisfaction.for_days(conn, out["from"], out["to"], settings)[1:]
    out["tiers"] = [{"tier": t.id, "rank": rank, "name": t.name.model_dump(), "satisfaction": s.as_dict()}
                    for rank, (t, s) in enumerate(zip(settings.tiers, tiers), start=1)]
