"""The hall as the estimator sees it (a `HallView` read from the database), and the number of
people ahead of a ticket."""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime

from kiosk.config.settings import Counter, Settings
from kiosk.estimate import CounterView, HallView, WaitingTicket


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
                                 r[3] if r[2] is not None else None, r[4] if r[2] is not None else None))
    return HallView(now=now, hour=wall.astimezone(settings.day.tz).hour, waiting=waiting,
                    counters=tuple(views), priority_at=settings.policy.priority_at,
                    starvation_limit_s=starvation_s)


def people_ahead(conn: sqlite3.Connection, service: str, priority: int, queued_t: float, tid: int) -> int:
    """People of the same service before this ticket (priority tickets only count priority)."""
    sql = ("SELECT count(*) FROM tickets WHERE state = 'waiting' AND service = ? AND id != ? "
           "AND (queued_t < ? OR (queued_t = ? AND id < ?))")
    args: tuple = (service, tid, queued_t, queued_t, tid)
    if priority:
        sql += " AND priority = 1"
    return conn.execute(sql, args).fetchone()[0]
