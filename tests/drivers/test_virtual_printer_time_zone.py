"""The virtual printer names its PNG tickets with the hall's local time, also when the machine's
clock runs in UTC (as a Raspberry Pi's does): the zone comes from the configuration, handed down
by the composition root (drivers import nothing of the kiosk)."""
from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from drivers.factory import build_hardware
from drivers.printer.virtual import VirtualPrinter
from kiosk.app.kiosk_app import KioskApp
from kiosk.app.outputs import Outputs
from kiosk.sim.waiting import wait_until

CHATHAM = ZoneInfo("Pacific/Chatham")  # +12:45 / +13:45: no machine's zone by chance


@pytest.fixture
def machine_in_utc(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        yield
    finally:
        monkeypatch.undo()
        time.tzset()


def stamped(path: str) -> datetime:
    """The time in a ticket's file name ``YYYYmmdd-HHMMSS-<seq>-<number>.png`` (naive)."""
    return datetime.strptime("-".join(os.path.basename(path).split("-")[:2]), "%Y%m%d-%H%M%S")


def assert_local_time_of(zone, path: str) -> None:
    now = datetime.now(zone).replace(tzinfo=None)
    assert abs((stamped(path) - now).total_seconds()) < 60, f"{path} is not {zone}'s time ({now:%H:%M:%S})"


def test_the_printer_stamps_in_the_zone_it_is_given(machine_in_utc, tmp_path, ticket_job):
    printer = VirtualPrinter("printer", out_dir=str(tmp_path), tz=CHATHAM).start()
    try:
        assert_local_time_of(CHATHAM, printer.print_ticket(ticket_job).result(20).png_path)
    finally:
        printer.close()


def test_build_hardware_hands_the_zone_to_the_virtual_printer(machine_in_utc, tmp_path, ticket_job):
    hw = build_hardware({}, base_dir=str(tmp_path), tz=CHATHAM)
    try:
        assert_local_time_of(CHATHAM, hw.printer.print_ticket(ticket_job).result(20).png_path)
    finally:
        hw.close()
    hw = build_hardware({}, base_dir=str(tmp_path))  # no zone given: the machine's (UTC here)
    try:
        assert_local_time_of(timezone.utc, hw.printer.print_ticket(ticket_job).result(20).png_path)
    finally:
        hw.close()


def test_kiosk_run_simulate_names_tickets_in_the_halls_time(machine_in_utc, tmp_path, settings):
    """The app's virtual devices (`kiosk run --simulate`): a ticket issued in the Shanghai hall of
    a machine in UTC is named with Shanghai's time, 8 hours ahead of the machine's."""
    hall = settings.day.tz
    assert datetime.now(hall).utcoffset() == timedelta(hours=8)
    outputs = Outputs(settings, simulate=True)
    app = KioskApp(settings, tmp_path / "data", devices=outputs).start()
    try:
        app.issue("A").result(20)
        printed = wait_until(lambda: outputs.hw.printer.printed, 20, what="the printed ticket")
        path = printed[0].png_path
        assert os.path.dirname(path) == str(tmp_path / "data" / "tickets")
        assert_local_time_of(hall, path)
    finally:
        app.stop()
