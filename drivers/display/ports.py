"""Where display frames go: a serial port shared by every sign on its line, or one in memory.

A port counts its (re)openings in ``generation``: a display that last wrote on an older
generation knows the device may have lost its state and sends init + current screen first.
Ports tell their subscribers when they lose the device, so every sign on a dead RS-485 line
reports the fault, not only the one that happened to write.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Optional

from drivers.base import DeviceTimeout, DeviceUnavailable
from drivers.transport import SerialTransport

log = logging.getLogger(__name__)


class DisplayPort(ABC):
    """Interface (and shared bookkeeping) of a display port."""

    name = "port"

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.generation = 0
        self._subscribers: list[Callable[[str], None]] = []

    def subscribe(self, on_lost: Callable[[str], None]) -> None:
        self._subscribers.append(on_lost)

    def unsubscribe(self, on_lost: Callable[[str], None]) -> None:
        if on_lost in self._subscribers:
            self._subscribers.remove(on_lost)

    def _lost(self, reason: str) -> None:
        for cb in list(self._subscribers):
            try:
                cb(reason)
            except Exception:
                log.exception("%s: subscriber failed", self.name)

    @property
    @abstractmethod
    def is_open(self) -> bool:
        ...

    @abstractmethod
    def ensure_open(self) -> None:
        ...

    @abstractmethod
    def write(self, data: bytes) -> None:
        ...

    @abstractmethod
    def close(self) -> None:
        ...


class SerialDisplayPort(DisplayPort):
    """A real serial port (RS-232 / RS-485 adapter)."""

    def __init__(self, port: str, baudrate: int = 9600, *, bytesize: int = 8, parity: str = "N",
                 stopbits: float = 1, write_timeout_s: float = 2.0) -> None:
        super().__init__()
        self.name = port
        self.transport = SerialTransport(port, baudrate, bytesize=bytesize, parity=parity,
                                         stopbits=stopbits, write_timeout_s=write_timeout_s)

    @property
    def is_open(self) -> bool:
        return self.transport.is_open

    def ensure_open(self) -> None:
        with self.lock:
            if not self.transport.is_open:
                self.transport.open()
                self.generation += 1
                log.info("display port %s open (generation %d)", self.name, self.generation)

    def write(self, data: bytes) -> None:
        with self.lock:
            try:
                self.transport.write(data)
            except DeviceUnavailable as exc:
                self.transport.close()
                lost = str(exc)
            else:
                return
        self._lost(lost)
        raise DeviceUnavailable(lost)

    def close(self) -> None:
        with self.lock:
            self.transport.close()


@dataclass
class PortFaults:
    """Fault switches of an in-memory port."""

    unplugged: bool = False
    no_reply: bool = False  # writes go unanswered (fail as a no-reply timeout)
    slow_s: float = 0.0


class InMemoryPort(DisplayPort):
    """In-memory port with fault switches; ``frames`` keeps every write, ``on_write`` sees it."""

    def __init__(self, name: str = "sim", on_write: Optional[Callable[[bytes], None]] = None,
                 keep: int = 1000) -> None:
        super().__init__()
        self.name = name
        self.switches = PortFaults()
        self.frames: list[bytes] = []
        self.on_write = on_write
        self.keep = keep
        self._open = False

    def set_faults(self, **switches) -> None:
        was_unplugged = self.switches.unplugged
        self.switches = dataclasses.replace(self.switches, **switches)
        if self.switches.unplugged and not was_unplugged:
            with self.lock:
                self._open = False
            self._lost(f"{self.name}: unplugged (simulated)")

    def clear_faults(self) -> None:
        self.switches = PortFaults()

    @property
    def is_open(self) -> bool:
        return self._open

    def ensure_open(self) -> None:
        with self.lock:
            if self.switches.unplugged:
                raise DeviceUnavailable(f"{self.name}: unplugged (simulated)")
            if not self._open:
                self._open = True
                self.generation += 1

    def write(self, data: bytes) -> None:
        sw = self.switches
        if sw.unplugged:
            raise DeviceUnavailable(f"{self.name}: unplugged (simulated)")
        if sw.no_reply:
            raise DeviceTimeout(f"{self.name}: device does not respond (simulated)")
        end = time.monotonic() + sw.slow_s
        while self.switches.slow_s and time.monotonic() < end:
            time.sleep(0.01)
        with self.lock:
            self.frames.append(data)
            del self.frames[:-self.keep]
        if self.on_write is not None:
            self.on_write(data)

    def close(self) -> None:
        with self.lock:
            self._open = False
