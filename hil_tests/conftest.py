"""Hardware-in-the-loop fixtures: devices declared by KIOSK_HIL_* variables (``spec``), a bench
lock (``bench_lock``), and a tester prompt with a time limit (``tester``), put together as a
``rig``. See hil_tests/README.md for wiring and variables.

Every test runs on a *rig*, parametrised twice:

* ``dryrun``: the same drivers against fake devices (printer and displays: the pty fakes of
  ``drivers.fakes``; keys and lamps on gpiozero mock pins; audio to ALSA's null device). Runs
  in CI (default; ``KIOSK_HIL_DRYRUN=0`` turns it off on a bench).
* ``hardware``: the devices named by KIOSK_HIL_* variables; skipped when none are declared.
  Holds an exclusive lock on the bench (``/tmp/kiosk-hil.lock`` or ``KIOSK_HIL_LOCK``) so two
  runs never fight over a serial port or a pin.
"""

from __future__ import annotations

import contextlib
import os
import queue
import time
from datetime import datetime
from pathlib import Path
from typing import Iterator

import pytest

from drivers.fakes import FakeEscposPrinter, FakePtyDevice
from hil_tests.bench_lock import bench_lock
from hil_tests.rig import FAKE_DISPLAYS, Rig
from hil_tests.spec import DEVICE_VARS, HilSpec, HilSpecError, dry_run_spec, parse_env
from hil_tests.tester import Tester

HIL_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HIL_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.hil)


@pytest.fixture(scope="session")
def hil_spec() -> HilSpec:
    try:
        return parse_env()
    except HilSpecError as exc:
        pytest.exit(f"hil_tests: {exc}", returncode=4)


@pytest.fixture(params=["dryrun", "hardware"])
def rig(request, hil_spec, tmp_path) -> Iterator[Rig]:
    kind = request.param
    if kind == "dryrun" and os.environ.get("KIOSK_HIL_DRYRUN", "1") == "0":
        pytest.skip("dry run turned off (KIOSK_HIL_DRYRUN=0)")
    if kind == "hardware" and not hil_spec.declared:
        pytest.skip("no hardware declared (KIOSK_HIL_* unset; see hil_tests/README.md)")

    from kiosk.app.hardware import build_devices
    from kiosk.config.hardware import HardwareConfig
    from kiosk.domain.clock import ScaledClock

    events: queue.Queue = queue.Queue()
    with contextlib.ExitStack() as stack:
        fakes: dict[str, FakePtyDevice] = {}
        pin_factory = None
        if kind == "dryrun":
            spec = dry_run_spec(tmp_path)
            fakes["printer"] = stack.enter_context(contextlib.closing(FakeEscposPrinter(spec.printer["port"])))
            for d in spec.displays:
                fakes[d["name"]] = stack.enter_context(contextlib.closing(FAKE_DISPLAYS[d["driver"]](d["port"])))
            from gpiozero.pins.mock import MockFactory

            pin_factory = MockFactory()
            stack.callback(pin_factory.reset)
            gpio = "mock"
        else:
            spec = hil_spec
            stack.enter_context(bench_lock())
            gpio = "gpiozero"
        config = HardwareConfig(**spec.hardware_options(gpio))
        # dry run: hall time runs 20x faster, so the 1 s guards of the rating pad and
        # take-ticket buttons pass between two simulated presses without sleeping
        clock = ScaledClock(20.0, time.time(), datetime.now().astimezone()).monotonic if kind == "dryrun" else None
        hw = build_devices(config, sink=events.put, base_dir=str(tmp_path), pin_factory=pin_factory,
                           repeat_guard_s=0.0, clock=clock)
        stack.callback(hw.close)
        tester = Tester(interactive=False if kind == "dryrun" else None, timeout_s=spec.key_timeout_s)
        stack.callback(tester.close)
        yield Rig(kind, spec, hw, tester, events, fakes, pin_factory)


def pytest_report_header(config):
    try:
        spec = parse_env()
    except HilSpecError as exc:
        return f"hil: bad variables: {exc}"
    declared = [v for v in DEVICE_VARS if os.environ.get(v)]
    dry = os.environ.get("KIOSK_HIL_DRYRUN", "1") != "0"
    return (f"hil: hardware {'declared: ' + ', '.join(declared) if spec.declared else 'not declared'}; "
            f"dry run {'on' if dry else 'off'}")

