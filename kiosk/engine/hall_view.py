"""The hall as the estimator sees it (a `HallView` read from the database), and the number of
people ahead of a ticket when the estimator cannot say."""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from kiosk.config.settings import Counter, Settings
from kiosk.estimate import CounterView, HallView, WaitingTicket
from kiosk.estimate.simulate import static_ahead


def read_hall(conn: sqlite3.Connection, now: float, wall: datetime, settings: Settings,
              counters: Mapping[int, Counter], starvation_s: Mapping[str, float]) -> HallView:
    """Every waiting ticket in queue order and every configured counter with what it holds."""
    waiting = tuple(WaitingTicket(r[0], r[1], r[2], r[3]) for r in conn.execute(
        "SELECT id, service, priority, queued_t FROM tickets WHERE state = 'waiting' ORDER BY queued_t, id"))
    views = []
    for r in conn.execute("SELECT c.number, c.state, c.ticket_id, t.service, t.called_t FROM counters c "
                          "LEFT JOIN tickets t ON t.id = c.ticket_id ORDER BY c.number"):
        cfg = counters.get(r[0])
        if cfg is None:
            continue
        views.append(CounterView(r[0], tuple(cfg.services), cfg.vip_first, r[1],
                                 r[3] if r[2] is not None else None, r[4] if r[2] is not None else None,
                                 order=cfg.order))
    return HallView(now=now, hour=wall.astimezone(settings.day.tz).hour, waiting=waiting,
                    counters=tuple(views), priority_at=settings.policy.priority_at,
                    starvation_limit_s=starvation_s, tier_targets_s=settings.tier_targets_s())


def static_people_ahead(hall: HallView, ticket_id: int) -> int:
    """People ahead by the calling rule as it stands, without the estimator's simulation (the
    fewest over the counters serving the ticket's service): the answer when the estimator fails."""
    target = next((t for t in hall.waiting if t.ticket_id == ticket_id), None)
    return 0 if target is None else static_ahead(hall, target)


def static_people_ahead_of_new(hall: HallView, service: str, priority: int) -> int:
    """The same for a ticket of `service` taken now."""
    new_id = max((t.ticket_id for t in hall.waiting), default=0) + 1
    return static_ahead(hall, WaitingTicket(new_id, service, priority, hall.now))
