"""The hall's usually quiet hours for customers: on the now-serving screen and in the ticket's
footer, from four weeks of tickets in the kiosk's own database."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.domain.clock import FakeClock
from kiosk.storage.store import db_path
from tests.kit.daysim import MONDAY, Hall
from tests.kit.settings import CN
from ui.devtools import harness as h

QUIET = {"zh": "周二至周四 14:00–15:00 人少", "en": "Usually quiet: Tue–Thu 14:00–15:00"}


def four_weeks(data) -> None:
    """Monday–Friday for four weeks: six tickets an hour from 09:00 to 17:00, one at Tue–Thu 14:00."""
    hall = Hall(db_path(data))
    try:
        for day in range(28):
            if day:
                hall.next_day("08:00")
            if day % 7 >= 5:
                continue
            for hour in range(9, 17):
                n = 1 if (day % 7 in (1, 2, 3) and hour == 14) else 6
                for k in range(n):
                    hall.at(f"{hour:02d}:{k * 10:02d}")
                    hall.engine.issue("A" if k % 2 else "B")
    finally:
        hall.close()


@pytest.fixture
def quiet_hall(tmp_path, mk) -> Iterator:
    """start(**quiet_hours) → (a kiosk on the Monday after four weeks of history, its virtual printer)."""
    from kiosk.app.outputs import Outputs
    data = tmp_path / "data"
    data.mkdir()
    four_weeks(data)
    apps = []

    def start(**quiet):
        def edit(d):
            d["quiet_hours"].update(quiet)
        outputs = Outputs(mk(edit=edit), simulate=True)
        clock = FakeClock(wall=(MONDAY + timedelta(days=28)).replace(hour=10, minute=0), tz=CN)
        app = KioskApp(outputs.settings, data, clock=clock, devices=outputs).start()
        apps.append(app)
        return app, outputs.hw.printer
    try:
        yield start
    finally:
        for app in apps:
            app.stop()


def test_the_tv_shows_the_quiet_hours_in_each_language(quiet_hall, open_ui):
    kiosk, _ = quiet_hall()
    ui = open_ui(kiosk, "display")
    screen = ui.screen("display")
    ui.lang = "zh"
    ui.refresh()
    assert screen.quiet_text == QUIET["zh"] and screen.ids.quiet.text == QUIET["zh"]
    ui.toggle_lang()
    h.pump(2)
    assert screen.quiet_text == QUIET["en"]


def test_the_ticket_footer_shows_the_quiet_hours(quiet_hall):
    kiosk, printer = quiet_hall()
    kiosk.issue("A").result()
    h.pump_until(lambda: printer.printed)
    assert printer.printed[0].job.quiet_hours == QUIET


def test_both_can_be_switched_off(quiet_hall, open_ui):
    kiosk, printer = quiet_hall(on_ticket=False, on_screen=False)
    ui = open_ui(kiosk, "display")
    ui.refresh()
    assert ui.screen("display").quiet_text == ""
    kiosk.issue("A").result()
    h.pump_until(lambda: printer.printed)
    assert printer.printed[0].job.quiet_hours is None


def test_a_new_hall_shows_nothing(kiosk, open_ui):
    ui = open_ui(kiosk, "display")
    ui.refresh()
    assert ui.screen("display").quiet_text == ""
    assert kiosk.quiet_hours() == {}
