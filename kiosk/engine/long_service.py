"""Long service (临柜): a counter that has been with its customer longer than the service's
``counter_limit_min``, counted from the call (``called`` or ``serving``) as the statistics'
service time is."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk.config.settings import Settings


@dataclass(frozen=True)
class LongService:
    counter: int
    ticket: str
    service: str
    at_counter_s: float
    limit_s: float

    @property
    def text(self) -> str:
        return (f"counter {self.counter} has served {self.ticket} for {self.at_counter_s / 60:.0f} min, "
                f"over the {self.limit_s / 60:g} min limit of service {self.service}")


def long_services(conn: sqlite3.Connection, now: float, settings: Settings) -> tuple[LongService, ...]:
    """The counters serving past their customer's service limit now (none when
    ``alerts.long_service`` is off), by counter number."""
    if not settings.alerts.long_service:
        return ()
    out = []
    for number, ticket, service, called_t in conn.execute(
            "SELECT c.number, t.number, t.service, t.called_t FROM counters c JOIN tickets t ON t.id = c.ticket_id "
            "WHERE t.state IN ('called', 'serving') AND t.called_t IS NOT NULL ORDER BY c.number"):
        svc = settings.service(service)
        if svc is None or settings.counter(number) is None:
            continue
        limit_s = svc.counter_limit_min * 60.0
        at_counter = max(0.0, now - called_t)
        if at_counter > limit_s:
            out.append(LongService(number, ticket, service, round(at_counter, 1), limit_s))
    return tuple(out)
