"""The devices of a `[hardware]` section, built by `drivers.factory` (the one place where the
validated configuration meets the drivers)."""
from __future__ import annotations

from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from drivers.factory import Hardware, build_hardware

from kiosk.config.hardware import HardwareConfig


def build_devices(config: HardwareConfig, *, listener: Callable[[str, str, str], None] | None = None,
                  sink: Callable[[Any], None] | None = None, repeat_guard_s: float = 2.0, base_dir: str = ".",
                  pin_factory: Any = None, clock: Callable[[], float] | None = None,
                  tz: tzinfo | None = None) -> Hardware:
    """Every device, started; ``close()`` it at shutdown. ``clock`` (monotonic seconds) times the
    debounce and repeat guard; default: the system's. ``tz``: the hall's time zone
    (``settings.day.tz``), in which the devices stamp the time (the virtual printer's file names)."""
    return build_hardware(config.driver_options(), listener=listener, sink=sink, repeat_guard_s=repeat_guard_s,
                          base_dir=base_dir, pin_factory=pin_factory, clock=clock, tz=tz)
