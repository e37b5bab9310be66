"""Fixtures for the driver tests: gpiozero MockFactory, fake devices behind real ptys, waits."""

from __future__ import annotations

import functools
import os
import threading

import pytest

from drivers.fakes import FakeEscposPrinter, FakePtyDevice, FakeVfd
from kiosk.sim.waiting import wait_until


class FaultLog:
    """A fault listener that records ``(device, kind, reason)`` calls."""

    def __init__(self):
        self.calls: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, device, kind, reason):
        with self._lock:
            self.calls.append((device, kind, reason))

    def kinds(self, device=None):
        with self._lock:
            return [k for d, k, _ in self.calls if device is None or d == device]

    def has(self, kind, device=None):
        return kind in self.kinds(device)


@pytest.fixture
def faults():
    return FaultLog()


@pytest.fixture
def waiter():
    """``waiter(cond)``: wait (generously, 10 s) for ``cond()`` to become truthy; never a timed assertion."""
    return functools.partial(wait_until, timeout=10.0, interval=0.005)


@pytest.fixture
def fake_printer(tmp_path):
    dev = FakeEscposPrinter(str(tmp_path / "printer-tty"))
    try:
        yield dev
    finally:
        dev.close()


@pytest.fixture
def pty_device(tmp_path):
    devices = []

    def make(name="display-tty"):
        dev = FakePtyDevice(str(tmp_path / name))
        devices.append(dev)
        return dev

    try:
        yield make
    finally:
        for dev in devices:
            dev.close()


@pytest.fixture
def mock_factory():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    saved = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


GOLDEN_DIR = os.path.join(os.path.dirname(__file__), "golden")


@pytest.fixture
def golden():
    """``golden(name, data)``: compare with tests/drivers/golden/<name>; KIOSK_REGEN_GOLDEN=1 rewrites."""

    def check(name: str, data: bytes):
        path = os.path.join(GOLDEN_DIR, name)
        if os.environ.get("KIOSK_REGEN_GOLDEN") == "1" or not os.path.exists(path):
            if os.environ.get("KIOSK_REGEN_GOLDEN") != "1":
                pytest.fail(f"golden file {name} missing (run with KIOSK_REGEN_GOLDEN=1, then review)")
            with open(path, "wb") as fh:
                fh.write(data)
        with open(path, "rb") as fh:
            expected = fh.read()
        assert data == expected, f"bytes differ from golden {name}"

    return check


@pytest.fixture
def ticket_job():
    import datetime as dt

    from drivers.jobs import TicketPrintJob

    return TicketPrintJob(
        number="A023",
        service_names={"zh": "缴费", "en": "Payments"},
        branch_name={"zh": "示范营业厅", "en": "Demo Service Hall"},
        ahead=5,
        estimate_s=900,
        issued_at=dt.datetime(2026, 11, 23, 9, 31),
        languages=("zh", "en"),
        ticket_id=17,
        service="A",
        branch_id="demo-001",
        footer={"zh": "谢谢光临", "en": "Thank you for your visit"},
    )


@pytest.fixture
def fake_vfd(tmp_path):
    dev = FakeVfd(str(tmp_path / "vfd-tty"), strict=True)
    try:
        yield dev
    finally:
        dev.close()
