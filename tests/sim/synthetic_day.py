"""A small day written event by event into a real branch database (the kiosk's schema through
`Store`, events in its outbox with their hall time), laid out like a `kiosk simulate-day --out`
folder (kiosk.toml, data/kiosk.db), for testing the promise checks on days broken on purpose.

The hall: tiers diamond / gold / silver (5 / 8 / 12 min); services A and B (normal), D (diamond)
and V (silver); counter 1 calls priority first and serves D, V, A, B; counter 2 serves A and B.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kiosk.config.settings import Settings, load_settings
from kiosk.sim.day.day_log import DayLog, load_day
from kiosk.storage.store import Store
from tests.kit.settings import CN

HALL = """
[branch]
id = "synthetic-001"
name = { en = "Synthetic hall" }

[policy]
rating_window_s = 30

[[tiers]]
id = "diamond"
name = { en = "Diamond" }
target_wait_min = 5

[[tiers]]
id = "gold"
name = { en = "Gold" }
target_wait_min = 8

[[tiers]]
id = "silver"
name = { en = "Silver" }
target_wait_min = 12

[[services]]
prefix = "A"
name = { en = "Payments" }
expected_service_min = 3

[[services]]
prefix = "B"
name = { en = "General business" }
expected_service_min = 6

[[services]]
prefix = "D"
name = { en = "Diamond service" }
priority = "vip"
tier = "diamond"
expected_service_min = 6

[[services]]
prefix = "V"
name = { en = "VIP service" }
priority = "vip"
tier = "silver"
expected_service_min = 6

[[counters]]
number = 1
services = ["D", "V", "A", "B"]
vip_first = true
order = "strict"

[[counters]]
number = 2
services = ["A", "B"]
order = "strict"
"""
START = datetime(2026, 11, 23, 8, 0, tzinfo=CN)


class SyntheticDay:
    """Minutes after 08:00 set the hall time (`at`); each action is one committed event."""

    def __init__(self, out: Path, config: str = HALL) -> None:
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "kiosk.toml").write_text(config)
        self.settings: Settings = load_settings(self.out / "kiosk.toml")
        self.db = self.out / "data" / "kiosk.db"
        self.store = Store(self.db)
        self.minute = 0.0
        self.seqs: dict[str, int] = {}
        self.tickets: dict[int, dict[str, Any]] = {}
        self.at_counter: dict[int, int | None] = {}

    # -- time and events ----------------------------------------------------------------------
    def at(self, minute: float) -> SyntheticDay:
        assert minute >= self.minute, "hall time never goes back"
        self.minute = minute
        return self

    @property
    def t(self) -> float:
        return 8 * 3600 + self.minute * 60

    def emit(self, type_: str, **body: Any) -> None:
        wall = (START + timedelta(minutes=self.minute)).isoformat(timespec="seconds")
        with self.store.transaction():
            self.store.append_event(type_, wall, self.t, {"branch": "synthetic-001", "day": "2026-11-23", **body})

    def _fields(self, tid: int) -> dict[str, Any]:
        t = self.tickets[tid]
        return {"ticket": t["number"], "ticket_id": tid, "service": t["service"], "priority": t["priority"]}

    # -- tickets --------------------------------------------------------------------------------
    def issue(self, service: str, ahead: int = 0, via: str | None = None) -> int:
        """A ticket taken now, printing `ahead` people ahead (`via` "button": at a take-ticket button)."""
        svc = self.settings.service(service)
        priority = self.settings.default_rank(svc) if svc.priority == "vip" else 0
        self.seqs[service] = self.seqs.get(service, 0) + 1
        number = f"{service}{self.seqs[service]:03d}"
        with self.store.transaction() as conn:
            tid = conn.execute(
                "INSERT INTO tickets (day, number, service, seq, priority, state, issued_t, queued_t, issued_wall, "
                "issued_via) VALUES ('2026-11-23', ?, ?, ?, ?, 'waiting', ?, ?, '', ?)",
                (number, service, self.seqs[service], priority, self.t, self.t, via)).lastrowid
        self.tickets[tid] = {"number": number, "service": service, "priority": priority}
        self.emit("ticket.issued", **self._fields(tid), ahead=ahead, estimate_s=60.0)
        return tid

    def call(self, tid: int, counter: int) -> None:
        self.at_counter[counter] = tid
        self.emit("ticket.called", **self._fields(tid), counter=counter, wait_s=0.0)

    def finish(self, counter: int, service_s: float = 300.0) -> int:
        tid = self.at_counter.pop(counter)
        self.emit("ticket.finished", **self._fields(tid), counter=counter, service_s=service_s)
        return tid

    def serve(self, tid: int, counter: int, minutes: float) -> None:
        """Call `tid` at `counter` now and finish it `minutes` later."""
        self.call(tid, counter)
        self.at(self.minute + minutes).finish(counter, minutes * 60)

    def noshow(self, counter: int, requeued: bool = True) -> None:
        tid = self.at_counter.pop(counter)
        self.emit("ticket.noshow", **self._fields(tid), counter=counter, requeued=requeued, service_s=60.0)

    def rate(self, tid: int, counter: int, via: str = "pad", score: int = 5) -> None:
        self.emit("ticket.rated", **self._fields(tid), counter=counter, score=score, via=via)

    def print_result(self, tid: int, ok: bool) -> None:
        self.emit("ticket.printed" if ok else "ticket.print_failed", **self._fields(tid), reason="" if ok else "paper out")

    def void(self, tid: int) -> None:
        self.emit("ticket.cancelled", **self._fields(tid), reason="voided", voided=True)

    # -- counters and alerts ------------------------------------------------------------------
    def counter(self, state: str, *counters: int) -> SyntheticDay:
        for n in counters:
            self.emit(f"counter.{state}", counter=n)
        return self

    def alert(self, kind: str, raised: bool = True) -> None:
        self.emit("alert.raised" if raised else "alert.cleared", kind=kind, level=1, reason=kind, waiting=0,
                  open_counters=1)

    def log(self) -> DayLog:
        return load_day(self.db, self.settings)
