"""Call displays in memory: the real codec writes into an :class:`~drivers.display.ports.InMemoryPort`
whose fault switches (``unplugged``, ``no_reply``, ``slow_s``) exercise the same reconnect/resend
path as a serial display. The common base of :class:`~drivers.display.mock.MockDisplay` (tests)
and :class:`~drivers.display.virtual.VirtualDisplay` (laptop demo).
"""

from __future__ import annotations

import threading
from typing import Optional

from drivers.display.call_display import CallDisplay, DisplayCodec, DisplayContent, EpsonCodec
from drivers.display.ports import InMemoryPort


class InMemoryDisplay(CallDisplay):
    """A call display on an in-memory port; ``shown`` lists every screen sent."""

    def __init__(self, name: str, codec: Optional[DisplayCodec] = None, **kwargs) -> None:
        kwargs.setdefault("backoff_s", (0.05, 1.0))
        self.in_memory_port = InMemoryPort(name, on_write=self._on_write)
        self.shown: list[DisplayContent] = []
        self._shown_lock = threading.Lock()
        super().__init__(name, self.in_memory_port, codec or EpsonCodec(), **kwargs)

    def set_faults(self, **switches) -> None:
        """e.g. ``set_faults(unplugged=True)``; see :class:`~drivers.display.ports.PortFaults`."""
        self.in_memory_port.set_faults(**switches)

    def clear_faults(self) -> None:
        self.in_memory_port.clear_faults()

    @property
    def frames(self) -> list[bytes]:
        return list(self.in_memory_port.frames)

    def _on_write(self, data: bytes) -> None:
        pass

    def _send(self, frame: bytes) -> None:
        super()._send(frame)
        with self._shown_lock:
            self.shown.append(self.current)
