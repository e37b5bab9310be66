"""What the customers' phones see of the queue: the branch's follow message (design in
docs/phone.md), published retained on ``{prefix}/{branch}/follow`` and indexed by HQ.

Each ticket of the day that is waiting, parked, at a counter, or left the queue in the last
`RECENT_S`, keyed by its follow key (never the token), with its state, counter, people ahead and
live estimate; the latest calls. The people ahead and estimates come from the estimator (the
calling rule's own simulation, as at issue) but are recomputed at most every `refresh_s`: a call
changes a ticket's state at once, the figures follow within seconds, and the core thread never
runs a simulation per ticket on every event. A parked ticket is estimated as if it checked in now.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Any

from kiosk.engine.remote_tickets import follow_key
from kiosk.estimate import HallView
from kiosk.estimate.views import WaitingTicket

RECENT_S = 1800.0
MAX_TICKETS = 1000
MAX_BYTES = 200_000  # under the brokers' 256 KiB packet cap (firmware_config/mosquitto), which drops a client
LATEST_CALLS = 5
ACTIVE = ("waiting", "parked", "called", "serving")


class FollowView:
    """The follow message of an engine (`read(engine)`, on the core thread)."""

    def __init__(self, refresh_s: float = 5.0) -> None:
        self.refresh_s = refresh_s
        self._figures: dict[int, tuple[int, float]] = {}   # ticket id -> (ahead, estimate_s)
        self._at = -math.inf

    def read(self, engine: Any) -> dict[str, Any]:
        conn = engine.conn
        now = engine.time.now()
        day = conn.execute("SELECT day FROM business_day WHERE id = 1").fetchone()[0]  # a read, no transaction
        rows = conn.execute(
            "SELECT id, number, service, priority, state, queued_t, counter, follow_token, issued_wall, called_wall, "
            "finished_wall, ahead, estimate_s FROM tickets WHERE day = ? AND follow_token IS NOT NULL AND "
            "(state IN ('waiting', 'parked', 'called', 'serving') OR finished_t >= ?) ORDER BY id DESC LIMIT ?",
            (day, now - RECENT_S, MAX_TICKETS)).fetchall()
        if now - self._at >= self.refresh_s:
            self._figures = self._forecasts(engine, rows)
            self._at = now
        tickets = []
        for r in reversed(rows):
            open_ = r["state"] in ("waiting", "parked")
            ahead, est = self._figures.get(r["id"], (r["ahead"], r["estimate_s"])) if open_ else (None, None)
            tickets.append({
                "key": follow_key(r["follow_token"]), "ticket": r["number"], "service": r["service"],
                "state": r["state"], "ahead": ahead, "estimate_s": est,
                "counter": r["counter"] if r["state"] not in ("waiting", "parked") else None,
                "since": r["finished_wall"] or r["called_wall"] or r["issued_wall"]})
        calls = [{"ticket": c[0], "counter": c[1], "ts": c[2]} for c in conn.execute(
            "SELECT number, counter, called_wall FROM tickets WHERE day = ? AND called_wall IS NOT NULL "
            "AND counter IS NOT NULL ORDER BY called_t DESC, id DESC LIMIT ?", (day, LATEST_CALLS))]
        return {"v": 1, "ts": engine.clock.wall().isoformat(timespec="seconds"), "branch": engine.settings.branch.id,
                "day": day, "tickets": tickets, "calls": calls}

    @staticmethod
    def fit(view: dict[str, Any], encode: Any, limit: int = MAX_BYTES) -> str:
        """`view` encoded within `limit` bytes: the tickets that left the queue go first, then the
        newest open ones (their phones show "expired" until the queue shortens)."""
        text = encode(view)
        if len(text.encode()) <= limit:
            return text
        tickets = [t for t in view["tickets"] if t["state"] in ACTIVE]
        while True:
            text = encode({**view, "tickets": tickets})
            if len(text.encode()) <= limit or not tickets:
                return text
            tickets = tickets[: len(tickets) * 3 // 4]

    def refresh_now(self) -> None:
        """The next read recomputes the figures (after a check-in, say)."""
        self._at = -math.inf

    @staticmethod
    def _forecasts(engine: Any, rows: list[Any]) -> dict[int, tuple[int, float]]:
        hall: HallView = engine.hall_view()
        out: dict[int, tuple[int, float]] = {}
        for r in rows:
            if r["state"] == "waiting":
                view = hall
            elif r["state"] == "parked":   # as if it checked in now: back in its place in the line
                me = WaitingTicket(r["id"], r["service"], r["priority"], r["queued_t"])
                view = dataclasses.replace(hall, waiting=tuple(sorted(
                    (*hall.waiting, me), key=lambda t: (t.queued_at, t.ticket_id))))
            else:
                continue
            est, ahead = engine.quiet_forecast(view, r["id"])
            out[r["id"]] = (ahead, est)
        return out
