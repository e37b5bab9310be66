"""The hall's usually quiet hours: weeks of tickets through the real engine on a SQLite file, and
the phrase a customer reads on the ticket and the TV."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from kiosk.config.settings import Settings, load_settings
from kiosk.engine.quiet_hours import QuietHours, QuietWindow, find_quiet_window, phrase, quietest_window
from tests.kit.daysim import MONDAY, Hall

TUE_THU_14 = {(1, 14), (2, 14), (3, 14)}


def weeks_of_tickets(hall: Hall, weeks: int, tickets: dict[tuple[int, int], int], *, per_hour: int = 6,
                     hours: range = range(9, 17), opening: int = 0) -> None:
    """`weeks` weeks of Monday–Friday from the hall's clock (a Monday): `per_hour` tickets in every
    hour of `hours`, `tickets[(weekday, hour)]` in the cells named there; `opening` more tickets
    between 08:30 and 09:00 (a hall that opens at half past eight)."""
    for day in range(weeks * 7):
        if day:
            hall.next_day("08:00")
        if day % 7 >= 5:
            continue
        for k in range(opening):
            hall.at(f"08:{30 + k * 30 // opening:02d}")
            hall.engine.issue("A")
        for h in hours:
            n = tickets.get((day % 7, h), per_hour)
            for k in range(n):
                hall.at(f"{h:02d}:{k * 60 // n:02d}")
                hall.engine.issue("B" if k % 3 else "A")


def monday_after(hall: Hall) -> datetime:
    """10:00 on the Monday after the hall's last day."""
    wall = hall.wall()
    return (wall + timedelta(days=7 - wall.weekday())).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.fixture(scope="module")
def six_weeks(tmp_path_factory):
    """Two busy weeks at Tue–Thu 14:00 (30 tickets an hour), then four weeks in which Tue–Thu
    14:00 sees one ticket an hour and every other open hour six."""
    hall = Hall(tmp_path_factory.mktemp("quiet") / "kiosk.db")
    weeks_of_tickets(hall, 2, {cell: 30 for cell in TUE_THU_14})
    hall.next_day("08:00")
    while hall.wall().weekday() != 0:
        hall.next_day("08:00")
    weeks_of_tickets(hall, 4, {cell: 1 for cell in TUE_THU_14})
    yield hall
    hall.close()


def test_the_last_four_weeks_name_tue_to_thu_at_two(six_weeks):
    """The phrases of the issue: contiguous weekdays merged, the quietest hour; the busy weeks
    before the last four do not count."""
    hall = six_weeks
    quiet = QuietHours(hall.settings)
    assert quiet.phrases(hall.engine.conn, monday_after(hall)) == {
        "zh": "周二至周四 14:00–15:00 人少", "en": "Usually quiet: Tue–Thu 14:00–15:00"}


def test_more_weeks_take_in_the_busy_ones(six_weeks):
    """With six weeks the old peak at Tue–Thu 14:00 counts again: that hour is not quiet any more."""
    hall = six_weeks
    six = hall.settings.model_copy(update={"quiet_hours": hall.settings.quiet_hours.model_copy(update={"weeks": 6})})
    assert find_quiet_window(hall.engine.conn, six, monday_after(hall).date()) is None


def test_computed_once_per_business_day(six_weeks):
    hall = six_weeks
    quiet = QuietHours(hall.settings)
    monday = monday_after(hall)
    first = quiet.phrases(hall.engine.conn, monday)
    for minutes in (1, 60, 300):                # every ticket and every screen refresh of the day
        assert quiet.phrases(hall.engine.conn, monday + timedelta(minutes=minutes)) == first
    assert quiet.computed == 1
    quiet.phrases(hall.engine.conn, monday + timedelta(days=1))
    assert quiet.computed == 2


def test_one_week_is_not_enough(tmp_path):
    hall = Hall(tmp_path / "kiosk.db")
    weeks_of_tickets(hall, 1, {cell: 1 for cell in TUE_THU_14})
    try:
        assert QuietHours(hall.settings).phrases(hall.engine.conn, monday_after(hall)) == {}
    finally:
        hall.close()


def test_no_tickets_no_phrase(tmp_path):
    hall = Hall(tmp_path / "kiosk.db")
    try:
        assert QuietHours(hall.settings).phrases(hall.engine.conn, MONDAY + timedelta(days=28)) == {}
    finally:
        hall.close()


def test_a_hall_as_busy_at_every_hour_is_never_usually_quiet(tmp_path):
    hall = Hall(tmp_path / "kiosk.db")
    weeks_of_tickets(hall, 2, {})
    try:
        assert QuietHours(hall.settings).phrases(hall.engine.conn, monday_after(hall)) == {}
    finally:
        hall.close()


def test_the_half_hour_after_opening_is_not_taken_for_a_quiet_hour(tmp_path):
    """Open all day by the configuration, the hall takes tickets from 08:30: three tickets in the
    hour 08:00–09:00 look quieter than four, but that hour was only half open."""
    hall = Hall(tmp_path / "kiosk.db")
    weeks_of_tickets(hall, 2, {cell: 4 for cell in TUE_THU_14}, opening=3)
    try:
        assert QuietHours(hall.settings).phrases(hall.engine.conn, monday_after(hall))["en"] == \
            "Usually quiet: Tue–Thu 14:00–15:00"
    finally:
        hall.close()


def test_configured_hours_bound_the_window(tmp_path):
    """Services open 09:00–12:00 only: the quiet afternoon of the tickets is not an open hour."""
    data = load_settings().model_dump(mode="json")
    for svc in data["services"]:
        svc["hours"] = ["09:00-12:00"]
    settings = Settings.model_validate(data)
    hall = Hall(tmp_path / "kiosk.db")
    weeks_of_tickets(hall, 2, {**{cell: 1 for cell in TUE_THU_14}, **{(d, 10): 3 for d in range(5)}})
    try:
        assert QuietHours(settings).phrases(hall.engine.conn, monday_after(hall))["zh"] == "周一至周五 10:00–11:00 人少"
    finally:
        hall.close()


# -- the window and the phrase, by hand ------------------------------------------------------------
def grid(value: float, days=range(5), hours=range(9, 17)) -> dict[tuple[int, int], float]:
    return {(d, h): value for d in days for h in hours}


def test_contiguous_days_and_hours_are_merged():
    cells = {**grid(20.0, days=range(7)), **{(d, h): 3.0 for d in (5, 6) for h in range(12, 16)}}
    cells[(6, 13)] = 2.5
    w = quietest_window(cells)
    assert (w.first_day, w.last_day, w.start_hour, w.end_hour) == (5, 6, 12, 16)
    assert phrase(w, "zh") == "周六至周日 12:00–16:00 人少"
    assert phrase(w, "en") == "Usually quiet: Sat–Sun 12:00–16:00"


def test_days_apart_are_not_merged():
    """Tuesday and Thursday are quiet at two, Wednesday is not: one day is named, the quietest."""
    cells = grid(10.0)
    cells.update({(1, 14): 2.0, (3, 14): 1.5})
    w = quietest_window(cells)
    assert (w.first_day, w.last_day, w.start_hour, w.end_hour) == (3, 3, 14, 15)
    assert phrase(w, "zh") == "周四 14:00–15:00 人少" and phrase(w, "en") == "Usually quiet: Thu 14:00–15:00"


def test_a_slightly_quieter_hour_is_not_quiet():
    cells = grid(10.0)
    cells[(2, 11)] = 8.0          # 80 % of the hall's mean: not idle
    assert quietest_window(cells) is None


def test_phrase_of_a_window_ending_at_midnight():
    w = QuietWindow(0, 4, 22, 24, 1.0, 8.0)
    assert phrase(w, "en") == "Usually quiet: Mon–Fri 22:00–24:00"


def test_the_clock_of_the_phrase_is_the_halls(six_weeks):
    """A wall clock in another zone names the same business day: the hall's."""
    hall = six_weeks
    monday = monday_after(hall)
    utc = monday.astimezone(timezone.utc)
    assert QuietHours(hall.settings).phrases(hall.engine.conn, utc) == \
        QuietHours(hall.settings).phrases(hall.engine.conn, monday)
