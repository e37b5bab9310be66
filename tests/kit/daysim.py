"""Drive a real QueueEngine on a temp SQLite file with a FakeClock through simulated days.

Used by tests/engine/test_stats.py, tests/engine/test_alerts.py and tests/tools/test_report.py. Two ways in:

* `Hall` — a scripted hall: move the clock to an exact time (`at("09:05")`), then call the
  engine (`hall.engine.issue("A")`, …). For hand-computed expectations.
* `simulate_days(hall, days, seed)` — a seeded random hall: Poisson arrivals by hour of day,
  counters calling, serving, no-shows, transfers and ratings. Deterministic for a seed.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from kiosk.estimate import WaitingTicket
from kiosk.estimate.simulate import static_ahead
from kiosk.domain.clock import FakeClock
from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store
from tests.kit.settings import CN

MONDAY = datetime(2026, 11, 23, 8, 30, tzinfo=CN)  # 2026-11-23 is a Monday


class QuickEstimator:
    """A constant estimator: the statistics do not depend on estimates, and this keeps the
    simulated days fast. (The engine still runs every command through SQLite.)"""

    def observe(self, event: dict, now: float) -> None:
        pass

    def estimate_for(self, hall, ticket_id: int) -> float:
        return 0.0

    def estimate_service(self, hall, service: str, priority: int = 0) -> float:
        return 0.0

    def forecast_for(self, hall, ticket_id: int, *, record: bool = True) -> tuple[float, int]:
        target = next(t for t in hall.waiting if t.ticket_id == ticket_id)
        return 0.0, static_ahead(hall, target)

    def forecast_service(self, hall, service: str, priority: int = 0) -> tuple[float, int]:
        return 0.0, static_ahead(hall, WaitingTicket(max((t.ticket_id for t in hall.waiting), default=0) + 1,
                                                     service, priority, hall.now))


class Hall:
    def __init__(self, path: Path, settings: Settings | None = None, start: datetime = MONDAY,
                 estimator=None) -> None:
        self.settings = settings or load_settings(DEFAULT_CONFIG)
        self.clock = FakeClock(wall=start, tz=CN)
        self.path = Path(path)
        self.store = Store(self.path, synchronous="OFF")
        self.engine = QueueEngine(self.store, self.settings, self.clock,
                                  estimator if estimator is not None else QuickEstimator())

    def wall(self) -> datetime:
        return self.clock.wall()

    def at(self, hhmm: str, *, day_offset: int = 0) -> None:
        """Move the clock forward to HH:MM[:SS] of today's calendar date (+ day_offset)."""
        parts = [int(x) for x in hhmm.split(":")]
        h, m, s = (parts + [0, 0])[:3]
        now = self.clock.wall()
        target = (now + timedelta(days=day_offset)).replace(hour=h, minute=m, second=s, microsecond=0)
        delta = (target - now).total_seconds()
        if delta < 0:
            raise ValueError(f"{target} is before the clock ({now})")
        self.clock.advance(delta)

    def next_day(self, hhmm: str = "08:30") -> None:
        self.at(hhmm, day_offset=1)

    def open(self, *counters: int) -> None:
        for c in counters or [c.number for c in self.settings.counters]:
            self.engine.set_counter(c, "open")

    def close_counters(self) -> None:
        for c in self.settings.counters:
            row = self.engine.conn.execute("SELECT ticket_id FROM counters WHERE number = ?", (c.number,)).fetchone()
            if row and row[0] is not None:
                self.engine.finish(c.number)
            self.engine.set_counter(c.number, "closed")

    def close(self) -> None:
        self.store.close()


@dataclass
class DayPlan:
    """One simulated day: arrival rate per hour of day, service mix, behaviours."""

    rates: dict[int, float]  # hour → arrivals per hour
    counters: tuple[int, ...] = (1, 2, 3, 4)
    hours: dict[int, tuple[int, int]] = field(default_factory=dict)  # counter → (open hour, last hour) if not all day
    mix: dict[str, float] = field(default_factory=lambda: {"A": 0.6, "B": 0.3, "V": 0.1})
    service_s: dict[str, float] = field(default_factory=lambda: {"A": 180.0, "B": 420.0, "V": 360.0})
    noshow_p: float = 0.05
    transfer_p: float = 0.04
    rating_p: float = 0.5
    close_at: int = 17


WEEKDAY_RATES = {9: 24, 10: 46, 11: 40, 12: 18, 13: 20, 14: 34, 15: 44, 16: 26}
WEEKEND_RATES = {9: 8, 10: 14, 11: 16, 12: 10, 13: 10, 14: 12, 15: 10, 16: 6}


def default_plan(weekday: int) -> DayPlan:
    if weekday >= 5:
        return DayPlan(WEEKEND_RATES, counters=(1, 2))
    # counter 4 works 10:00–16:00 only; on Mondays counter 3 takes a long lunch
    hours = {4: (10, 16)}
    if weekday == 0:  # Monday: the busiest day, and counter 3 leaves at noon
        hours[3] = (9, 12)
        return DayPlan({h: r * 1.2 for h, r in WEEKDAY_RATES.items()}, hours=hours)
    return DayPlan(WEEKDAY_RATES, hours=hours)


def simulate_day(hall: Hall, plan: DayPlan, rng: random.Random) -> None:
    """From 09:00 to plan.close_at (then the counters finish the queue and close)."""
    hall.at("09:00")
    hall.open(*[c for c in plan.counters if plan.hours.get(c, (9, 99))[0] <= 9])
    start = hall.wall()
    t0 = 0.0
    end = (plan.close_at - 9) * 3600.0
    events: list[tuple[float, int, str, object]] = []  # (t, order, kind, payload)
    order = 0
    t = t0
    while True:  # Poisson arrivals with a piecewise-constant rate
        rate = plan.rates.get(9 + int(t // 3600), 0.0)
        if rate <= 0:
            t = (int(t // 3600) + 1) * 3600.0
            if t >= end:
                break
            continue
        t += rng.expovariate(rate / 3600.0)
        if t >= end:
            break
        svc = rng.choices(list(plan.mix), weights=list(plan.mix.values()))[0]
        order += 1
        heapq.heappush(events, (t, order, "arrive", svc))
    for c in plan.counters:  # every counter looks for work once a minute when idle
        order += 1
        heapq.heappush(events, (30.0, order, "free", c))
    while events:
        t, _, kind, payload = heapq.heappop(events)
        now = hall.wall()
        target = start + timedelta(seconds=t)
        if target > now:
            hall.clock.advance((target - now).total_seconds())
        eng = hall.engine
        if kind == "arrive":
            eng.issue(str(payload))
            continue
        c = int(payload)  # type: ignore[arg-type]
        held = eng.conn.execute("SELECT c.ticket_id, t.service, t.state, c.state FROM counters c "
                                "LEFT JOIN tickets t ON t.id = c.ticket_id WHERE c.number = ?", (c,)).fetchone()
        if kind == "noshow":
            eng.noshow(c)
        elif kind == "transfer":
            svc = "B" if held[1] != "B" else "A"
            eng.transfer(c, svc)
        elif kind == "free" and held[0] is not None:
            number = eng.finish(c)
            if rng.random() < plan.rating_p:
                eng.rate(number, rng.choices([5, 4, 3, 1], weights=[6, 2, 1, 1])[0])
        if t >= end + 3 * 3600:
            continue
        first, last = plan.hours.get(c, (9, 99))
        hour = 9 + int(t // 3600)
        if hour < first or hour > last:  # off duty: pause now, come back at the opening hour
            if held[3] == "open":
                eng.set_counter(c, "paused")
            if hour < first:
                order += 1
                heapq.heappush(events, ((first - 9) * 3600.0, order, "free", c))
            continue
        if held[3] != "open":
            eng.set_counter(c, "open")
        waiting = eng.conn.execute("SELECT count(*) FROM tickets WHERE state = 'waiting'").fetchone()[0]
        if t >= end and waiting == 0:
            continue
        res = eng.call_next(c) if waiting else None
        order += 1
        if res is None:
            heapq.heappush(events, (t + 60.0, order, "free", c))
            continue
        x = rng.random()
        again = eng.conn.execute("SELECT noshows FROM tickets WHERE id = ?", (res.ticket_id,)).fetchone()[0]
        if x < plan.noshow_p or (again and x < 0.6):
            heapq.heappush(events, (t + 90.0, order, "noshow", c))
        elif x < plan.noshow_p + plan.transfer_p and res.service != "V":
            eng.start(c)
            heapq.heappush(events, (t + 120.0, order, "transfer", c))
        else:
            eng.start(c)
            mean = plan.service_s.get(res.service, 300.0)
            heapq.heappush(events, (t + max(30.0, rng.gammavariate(4.0, mean / 4.0)), order, "free", c))
    hall.close_counters()


def simulate_days(hall: Hall, days: int, seed: int = 1, plans=default_plan) -> None:
    """`days` consecutive days from the hall's current date (weekday-dependent plans)."""
    rng = random.Random(seed)
    for i in range(days):
        if i:
            hall.next_day()
        simulate_day(hall, plans(hall.wall().weekday()), rng)


_WEEKS: dict[int, Path] = {}


def simulated_week(tmp_path_factory, seed: int = 5) -> Path:
    """The database of 7 simulated days from Monday 2026-11-23, built once per test session and
    shared by the test modules: open it with `Hall(path)` and only read it."""
    if seed not in _WEEKS or not _WEEKS[seed].exists():
        path = tmp_path_factory.mktemp(f"week{seed}") / "kiosk.db"
        hall = Hall(path)
        try:
            simulate_days(hall, 7, seed=seed)
        finally:
            hall.close()
        _WEEKS[seed] = path
    return _WEEKS[seed]

