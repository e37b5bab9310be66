"""Clocks: a monotonic clock for durations and a wall clock for display and day boundaries.

Both are injectable so tests and replay run on simulated time.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Protocol

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def wall(self) -> datetime: ...
    def boot_id(self) -> str: ...


class SystemClock:
    """The machine's clocks. `wall()` is timezone-aware in `tz` (local time by default)."""

    def __init__(self, tz: tzinfo | None = None) -> None:
        self.tz = tz
        self._boot = _read_boot_id()

    def monotonic(self) -> float:
        return time.monotonic()

    def wall(self) -> datetime:
        return datetime.now(self.tz).astimezone(self.tz) if self.tz else datetime.now().astimezone()

    def boot_id(self) -> str:
        return self._boot


class FakeClock:
    """A clock that moves only when told to: `advance(s)` moves both clocks, `set_wall()` jumps
    the wall clock alone (NTP), `reboot()` starts a new boot with a fresh monotonic origin."""

    def __init__(self, wall: datetime | None = None, tz: tzinfo | None = None) -> None:
        self.tz = tz or timezone(timedelta(hours=8))
        self._wall = wall or datetime(2026, 11, 23, 9, 0, tzinfo=self.tz)
        self._mono = 1000.0
        self._boot = "fake-boot-1"
        self._lock = threading.Lock()

    def monotonic(self) -> float:
        with self._lock:
            return self._mono

    def wall(self) -> datetime:
        with self._lock:
            return self._wall

    def boot_id(self) -> str:
        return self._boot

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward; use set_wall() for a wall-clock jump")
        with self._lock:
            self._mono += seconds
            self._wall += timedelta(seconds=seconds)

    def set_wall(self, wall: datetime) -> None:
        with self._lock:
            self._wall = wall

    def reboot(self, wall: datetime | None = None) -> None:
        with self._lock:
            self._mono = 5.0
            n = int(self._boot.rsplit("-", 1)[1]) + 1
            self._boot = f"fake-boot-{n}"
            if wall is not None:
                self._wall = wall


def _read_boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip()
    except OSError:
        return f"pid-{time.time_ns()}"


class ScaledClock:
    """Accelerated time for simulated days and soaks (`KIOSK_SIM_CLOCK=speed,real_epoch,sim_iso`).

    Every process given the same spec agrees on the time: monotonic time is the machine's
    monotonic clock × `speed`, wall time runs from `sim_origin` at `speed` × real time since
    `real_origin`. `jump(s)` moves this process's wall clock alone (an NTP correction).
    """

    def __init__(self, speed: float, real_origin: float, sim_origin: datetime) -> None:
        if speed <= 0:
            raise ValueError("the speed of a scaled clock must be positive")
        self.speed, self.real_origin, self.sim_origin = speed, real_origin, sim_origin
        self.jumped_s = 0.0
        self._boot = _read_boot_id()

    @classmethod
    def from_spec(cls, spec: str) -> ScaledClock:
        try:
            speed, real, sim = spec.split(",", 2)
            return cls(float(speed), float(real), datetime.fromisoformat(sim))
        except ValueError as exc:
            raise ValueError(f"KIOSK_SIM_CLOCK must be 'speed,real_epoch,sim_iso_time', not {spec!r}") from exc

    def spec(self) -> str:
        return f"{self.speed},{self.real_origin},{self.sim_origin.isoformat()}"

    def monotonic(self) -> float:
        return time.monotonic() * self.speed

    def wall(self) -> datetime:
        return self.sim_origin + timedelta(seconds=(time.time() - self.real_origin) * self.speed + self.jumped_s)

    def boot_id(self) -> str:
        return self._boot

    def jump(self, seconds: float) -> None:
        self.jumped_s += seconds
