"""A rig: the devices under test (built by the real factory), the tester, the events of the
inputs and, on the dry run, the fakes at the far ends of the cables."""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Optional

from drivers.fakes import FakeAlphaSign, FakePtyDevice, FakeVfd
from hil_tests.spec import HilSpec
from hil_tests.tester import Tester

if TYPE_CHECKING:
    from gpiozero.pins.mock import MockFactory

    from drivers.factory import Hardware

# the fake at the far end of each display's cable (dry run), by driver
FAKE_DISPLAYS: dict[str, type[FakePtyDevice]] = {"epson-vfd-serial": FakeVfd, "alpha-serial": FakeAlphaSign}


@dataclass
class Rig:
    """Devices under test, built by the real factory from a :class:`HilSpec`."""

    kind: str  # "dryrun" or "hardware"
    spec: HilSpec
    hw: Hardware
    tester: Tester
    events: queue.Queue
    fakes: dict[str, FakePtyDevice] = field(default_factory=dict)  # the far ends of the cables (dry run)
    pin_factory: Optional[MockFactory] = None  # the mock pins of the dry run

    @property
    def dry_run(self) -> bool:
        return self.kind == "dryrun"

    def simulate(self, button: str) -> Optional[Callable[[], None]]:
        """A press of ``button`` (``counter1.next``) on a mock pin; None on real hardware."""
        if not self.dry_run:
            return None
        pin = self.hw.inputs.pins()[button]

        def press() -> None:
            pin.drive_low()  # keys are wired to GND with the pull-up on
            time.sleep(0.08)  # longer than the 50 ms debounce settle time
            pin.drive_high()
            time.sleep(0.08)

        return press
