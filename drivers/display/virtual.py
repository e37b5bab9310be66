"""Simulated call displays: :class:`VirtualDisplay` logs what a real one would show (laptop
demo), :class:`MockDisplay` records it (tests). Both speak the real codec into a
:class:`~drivers.display.ports.SimulatedPort` whose fault switches (``unplugged``,
``no_reply``, ``slow_s``) exercise the same reconnect/resend path as a serial display.
"""

from __future__ import annotations

import logging
import threading
from typing import Optional

from drivers.display.call_display import CallDisplay, DisplayCodec, DisplayContent, EpsonCodec
from drivers.display.ports import SimulatedPort

log = logging.getLogger(__name__)


class _SimulatedDisplay(CallDisplay):
    def __init__(self, name: str, codec: Optional[DisplayCodec] = None, **kwargs) -> None:
        kwargs.setdefault("backoff_s", (0.05, 1.0))
        self.sim_port = SimulatedPort(name, on_write=self._on_write)
        self.shown: list[DisplayContent] = []
        self._shown_lock = threading.Lock()
        super().__init__(name, self.sim_port, codec or EpsonCodec(), **kwargs)

    def set_faults(self, **switches) -> None:
        """e.g. ``set_faults(unplugged=True)``; see :class:`~drivers.display.ports.PortFaults`."""
        self.sim_port.set_faults(**switches)

    def clear_faults(self) -> None:
        self.sim_port.clear_faults()

    @property
    def frames(self) -> list[bytes]:
        return list(self.sim_port.frames)

    def _on_write(self, data: bytes) -> None:
        pass

    def _send(self, frame: bytes) -> None:
        super()._send(frame)
        with self._shown_lock:
            self.shown.append(self.current)


class MockDisplay(_SimulatedDisplay):
    """Test double: ``shown`` lists every screen sent, ``frames`` every byte frame."""

    @property
    def lines(self) -> tuple[str, ...]:
        with self._shown_lock:
            return self.shown[-1].lines if self.shown else ()


class VirtualDisplay(_SimulatedDisplay):
    """Laptop demo: each screen goes to the log (``drivers.display.virtual`` logger, INFO)."""

    def _send(self, frame: bytes) -> None:
        super()._send(frame)
        c = self.current
        blink = " (blinking)" if c.blink_line is not None else ""
        log.info("display %s: %s%s", self.name, " | ".join(c.lines), blink)
        log.debug("display %s frame: %s", self.name, frame.hex(" "))
