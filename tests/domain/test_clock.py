"""Clocks: the fake clock for tests and the scaled clock for accelerated simulations."""
from __future__ import annotations

import time
from datetime import datetime

import pytest

from kiosk.domain.clock import FakeClock, ScaledClock
from tests.kit.settings import CN


def test_fake_clock_moves_only_forward_and_reboots():
    c = FakeClock(wall=datetime(2026, 1, 1, 9, tzinfo=CN), tz=CN)
    m0 = c.monotonic()
    c.advance(10)
    assert c.monotonic() - m0 == 10 and c.wall().minute == 0 and c.wall().second == 10
    with pytest.raises(ValueError):
        c.advance(-1)
    boot = c.boot_id()
    c.reboot()
    assert c.boot_id() != boot and c.monotonic() < m0


def test_scaled_clock_agrees_across_instances_and_jumps_alone():
    spec = f"120,{time.time()},2026-11-23T09:00:00+08:00"
    a, b = ScaledClock.from_spec(spec), ScaledClock.from_spec(spec)
    assert abs((a.wall() - b.wall()).total_seconds()) < 5       # same spec, same time (120× real)
    w0, m0 = a.wall(), a.monotonic()
    time.sleep(0.05)
    assert a.monotonic() - m0 >= 0.05 * 120 * 0.9
    assert (a.wall() - w0).total_seconds() >= 0.05 * 120 * 0.9
    a.jump(-3600)
    assert (b.wall() - a.wall()).total_seconds() > 3500
    assert ScaledClock.from_spec(a.spec()).speed == 120


def test_scaled_clock_spec_errors_name_the_variable():
    with pytest.raises(ValueError, match="KIOSK_SIM_CLOCK"):
        ScaledClock.from_spec("fast")
    with pytest.raises(ValueError, match="positive"):
        ScaledClock(0, 0.0, datetime(2026, 1, 1, tzinfo=CN))
