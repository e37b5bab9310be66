"""Satisfaction against its target, for the hall and for each priority tier.

The share is that of the statistics (`kiosk.engine.stats`: ratings 4 and 5 of 5 are satisfied). The hall's target is
``alerts.satisfaction_target``; a tier's is its ``satisfaction_target``, else the hall's. A
ticket of priority rank N (1 = the first tier listed) counts for tier N and for the hall; a
normal ticket for the hall only. A share is *below* its target once it has at least
``alerts.satisfaction_min_ratings`` ratings.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kiosk.config.settings import Settings

SATISFIED_MIN = 4  # ratings 4 and 5 (of 5) are "satisfied"
HALL = "hall"


@dataclass(frozen=True)
class Satisfaction:
    scope: str  # HALL or a tier id
    ratings: int
    satisfied: int
    target: float
    min_ratings: int

    @property
    def share(self) -> float | None:
        return round(self.satisfied / self.ratings, 4) if self.ratings else None

    @property
    def below(self) -> bool:
        """Under its target, with enough ratings to say so."""
        share = self.share
        return self.ratings >= self.min_ratings and share is not None and share < self.target

    @property
    def text(self) -> str:
        who = "the hall" if self.scope == HALL else f"tier {self.scope}"
        share = "-" if self.share is None else f"{100 * self.share:.0f}%"
        return (f"satisfaction of {who} {share} of {self.ratings} rating{'s' if self.ratings != 1 else ''} "
                f"today, target {100 * self.target:.0f}%")

    def as_dict(self) -> dict[str, Any]:
        return {"scope": self.scope, "ratings": self.ratings, "satisfied": self.satisfied, "share": self.share,
                "target": self.target, "met": None if self.share is None else self.share >= self.target}


def tier_target(settings: Settings, rank: int) -> float:
    """The satisfaction target of priority rank `rank` (0: the hall's)."""
    tier = settings.tier(rank)
    if tier is None or tier.satisfaction_target is None:
        return settings.alerts.satisfaction_target
    return tier.satisfaction_target


def tally(ratings: Iterable[tuple[int, int]], settings: Settings) -> list[Satisfaction]:
    """(priority rank, score) pairs → the hall first, then every tier in the configured order."""
    scopes = [HALL] + [t.id for t in settings.tiers]
    counts = {s: [0, 0] for s in scopes}
    for rank, score in ratings:
        good = int(score >= SATISFIED_MIN)
        scope_ids = [HALL]
        tier = settings.tier(int(rank or 0))
        if tier is not None:
            scope_ids.append(tier.id)
        for s in scope_ids:
            counts[s][0] += 1
            counts[s][1] += good
    min_n = settings.alerts.satisfaction_min_ratings
    return [Satisfaction(s, counts[s][0], counts[s][1], tier_target(settings, i), min_n)
            for i, s in enumerate(scopes)]


def for_days(conn: sqlite3.Connection, day_from: str, day_to: str, settings: Settings) -> list[Satisfaction]:
    """The ratings of tickets of the business days `day_from`…`day_to` (inclusive)."""
    rows = conn.execute("SELECT priority, rating FROM tickets WHERE day BETWEEN ? AND ? AND rating IS NOT NULL",
                        (day_from, day_to)).fetchall()
    return tally(((r[0], r[1]) for r in rows), settings)
