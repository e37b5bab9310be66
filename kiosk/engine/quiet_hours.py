"""The hall's usually quiet hours, for customers ("周二至周四 14:00–15:00 人少").

The measure is the statistics' busy/idle profile (`stats.busy_idle_profile`): the mean number
of tickets issued per weekday and local clock hour over the last `quiet_hours.weeks` weeks of
business days before today, each weekday averaged over its own open days (days with tickets).

A cell (weekday × hour) counts when
* its weekday had at least `MIN_DAYS_PER_WEEKDAY` open days in those weeks;
* the services' configured `hours` cover the whole clock hour, and tickets were issued in it;
* it is not a weekday's first or last hour with tickets while the configured hours would
  also cover the hour before (after): the hall then opened (closed) within it, and a half
  hour of tickets would look quiet.

The quietest cell must be clearly quiet: at most `IDLE_FACTOR` × the mean of the counted cells
(the statistics' "idle"). The window is the largest block of contiguous weekdays × contiguous
hours that holds the quietest cell and only cells within `QUIET_MARGIN` × that mean of it
(and idle). Without `MIN_TICKETS` tickets in the counted cells, or without a clearly quiet
hour, there is nothing to say: no phrase. `QuietHours` computes it once per business day.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kiosk.config.settings import Settings
from kiosk.engine.business_day import business_day
from kiosk.engine.stats import ARRIVAL, IDLE_FACTOR, Fact, busy_idle_profile

MIN_DAYS_PER_WEEKDAY = 2    # a weekday with fewer open days in the window is left out
MIN_TICKETS = 100           # fewer tickets in the counted cells: not enough to say anything
QUIET_MARGIN = 0.15         # cells within this × the hall's mean of the quietest one join its window

WEEKDAY_NAMES = {"zh": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
                 "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}


@dataclass(frozen=True)
class QuietWindow:
    """Weekdays `first_day`…`last_day` (0 = Monday) from `start_hour`:00 to `end_hour`:00."""

    first_day: int
    last_day: int
    start_hour: int
    end_hour: int
    mean_per_hour: float      # tickets per hour in the window
    hall_mean: float          # tickets per hour over every counted cell


def open_hours(settings: Settings) -> set[int]:
    """The clock hours that some service's configured hours cover from :00 to :59."""
    return {h for h in range(24) for s in settings.services
            if s.is_open_at(time(h, 0)) and s.is_open_at(time(h, 59, 59))}


def counted_cells(profile: dict, configured: set[int]) -> dict[tuple[int, int], float]:
    """(weekday, hour) → mean tickets per hour, for the cells that count (see the module)."""
    days = [profile["open_days"][name] for name in profile["weekdays"]]
    cells: dict[tuple[int, int], float] = {}
    for wd, row in enumerate(profile["mean_arrivals"]):
        if days[wd] < MIN_DAYS_PER_WEEKDAY:
            continue
        with_tickets = [h for h, v in zip(profile["hours"], row) if v]
        if not with_tickets:
            continue
        first, last = with_tickets[0], with_tickets[-1]
        for h, v in zip(profile["hours"], row):
            if not v or h not in configured:
                continue
            if (h == first and h - 1 in configured) or (h == last and h + 1 in configured):
                continue
            cells[(wd, h)] = v
    return cells


def quietest_window(cells: dict[tuple[int, int], float]) -> QuietWindow | None:
    """The window of the module's rule, or None when no hour is clearly quiet."""
    if len(cells) < 2:
        return None
    mean = sum(cells.values()) / len(cells)
    (wd0, h0), low = min(cells.items(), key=lambda kv: (kv[1], kv[0]))
    if low > IDLE_FACTOR * mean:
        return None
    limit = min(IDLE_FACTOR * mean, low + QUIET_MARGIN * mean)
    quiet = {c for c, v in cells.items() if v <= limit}
    best: tuple | None = None
    for d1 in range(wd0, -1, -1):
        for d2 in range(wd0, 7):
            days = range(d1, d2 + 1)
            if not all((wd, h0) in quiet for wd in days):
                break
            start, end = _hour_run(quiet, days, h0)
            block = [cells[(wd, h)] for wd in days for h in range(start, end)]
            key = (-len(block), sum(block) / len(block), d1, start)
            if best is None or key < best[0]:
                best = (key, QuietWindow(d1, d2, start, end, round(key[1], 2), round(mean, 2)))
    return best[1] if best else None


def _hour_run(quiet: set[tuple[int, int]], days: range, hour: int) -> tuple[int, int]:
    """The longest run of hours around `hour` that is quiet on every day of `days` (end exclusive)."""
    start, end = hour, hour + 1
    while all((wd, start - 1) in quiet for wd in days):
        start -= 1
    while all((wd, end) in quiet for wd in days):
        end += 1
    return start, end


def phrase(window: QuietWindow, lang: str) -> str:
    """"周二至周四 14:00–15:00 人少" / "Usually quiet: Tue–Thu 14:00–15:00"."""
    names = WEEKDAY_NAMES.get(lang, WEEKDAY_NAMES["en"])
    hours = f"{window.start_hour:02d}:00–{window.end_hour:02d}:00"
    if lang == "zh":
        days = names[window.first_day] + (f"至{names[window.last_day]}" if window.last_day > window.first_day else "")
        return f"{days} {hours} 人少"
    days = names[window.first_day] + (f"–{names[window.last_day]}" if window.last_day > window.first_day else "")
    return f"Usually quiet: {days} {hours}"


def arrivals(conn: sqlite3.Connection, settings: Settings, first: date, last: date) -> list[Fact]:
    """The tickets customers took on business days `first`…`last` (transfer copies are not arrivals)."""
    tz = settings.day.tz
    rows = conn.execute("SELECT day, issued_wall, service FROM tickets WHERE day BETWEEN ? AND ? "
                        "AND origin_id IS NULL", (first.isoformat(), last.isoformat())).fetchall()
    return [Fact(ARRIVAL, day, datetime.fromisoformat(wall).astimezone(tz), service, None)
            for day, wall, service in rows]


def find_quiet_window(conn: sqlite3.Connection, settings: Settings, today: date) -> QuietWindow | None:
    """The usually quiet window from the `quiet_hours.weeks` weeks before business day `today`."""
    facts = arrivals(conn, settings, today - timedelta(weeks=settings.quiet_hours.weeks), today - timedelta(days=1))
    profile = busy_idle_profile(facts, sorted({f.day for f in facts}))
    cells = counted_cells(profile, open_hours(settings))
    tickets = sum(1 for f in facts if (date.fromisoformat(f.day).weekday(), f.when.hour) in cells)
    if tickets < MIN_TICKETS:
        return None
    return quietest_window(cells)


def phrases(window: QuietWindow | None, languages: Sequence[str]) -> dict[str, str]:
    """One phrase per language; empty without a window."""
    return {lang: phrase(window, lang) for lang in languages} if window is not None else {}


class QuietHours:
    """The phrases of the hall's usually quiet hours, computed once per business day."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._day: str | None = None
        self._phrases: dict[str, str] = {}
        self.computed = 0           # how many times the window was computed (tests, logs)

    def phrases(self, conn: sqlite3.Connection, wall: datetime) -> dict[str, str]:
        """Language → phrase ({} without enough history), for the business day of `wall`."""
        day = business_day(wall, self.settings)
        if day != self._day:
            window = find_quiet_window(conn, self.settings, date.fromisoformat(day))
            self._phrases = phrases(window, self.settings.languages.available)
            self._day = day
            self.computed += 1
        return dict(self._phrases)
