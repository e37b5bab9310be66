"""Call displays: what to show (pure board model), how to encode it (codecs), and the
device that sends frames on its own worker, reopens its port with backoff and resends.

Behaviour: the latest calls are listed newest first (ticket -> counter), a new call blinks
for ``blink_s`` seconds, ``show_idle()`` shows the idle message. Every method returns at once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import logging
from dataclasses import dataclass
from typing import Optional

from drivers.display import alpha_protocol as alpha
from drivers.display import epson_protocol as epson
from drivers.base import (DeviceError, DeviceState, DeviceTimeout, DeviceUnavailable, FaultKind,
                   FaultListener, FaultTracker)
from drivers.display.ports import DisplayPort
from drivers.jobs import CallInfo, pick
from drivers.worker import DeviceWorker

log = logging.getLogger(__name__)


# -- what to show (pure) -----------------------------------------------------------------
@dataclass(frozen=True)
class DisplayContent:
    lines: tuple[str, ...]
    blink_line: Optional[int] = None  # index of the line that blinks (the new call)
    idle: bool = False


def format_call(call: CallInfo, width: int, language: str = "en") -> str:
    """``"A023  > Counter 3"`` when it fits (ASCII counter name), else ``"A023 > 3"``."""
    name = pick(call.counter_name, language) if call.counter_name else ""
    if not name or not name.isascii():
        name = f"Counter {call.counter}"
    for text in (f"{call.ticket} > {name}", f"{call.ticket} > {call.counter}"):
        if len(text) <= width:
            return text
    return f"{call.ticket}>{call.counter}"[:width]


class CallBoard:
    """The latest calls, newest first, one per line (a recalled ticket moves back to the top)."""

    def __init__(self, rows: int = 2, width: int = 20, language: str = "en",
                 idle_message: str = "Welcome") -> None:
        self.rows, self.width, self.language = rows, width, language
        self.idle_message = idle_message
        self.calls: list[CallInfo] = []

    def push(self, call: CallInfo) -> DisplayContent:
        self.calls = [call] + [c for c in self.calls if c.ticket != call.ticket]
        del self.calls[self.rows:]
        return self.content(blink=True)

    def content(self, blink: bool = False) -> DisplayContent:
        if not self.calls:
            return self.idle()
        lines = [format_call(c, self.width, self.language) for c in self.calls]
        lines += [""] * (self.rows - len(lines))
        return DisplayContent(tuple(lines), 0 if blink else None)

    def idle(self, message: Optional[str] = None) -> DisplayContent:
        text = self.idle_message if message is None else message
        lines = [text[i:i + self.width].center(self.width).rstrip()
                 for i in range(0, max(1, len(text)), self.width)][: self.rows]
        lines += [""] * (self.rows - len(lines))
        return DisplayContent(tuple(lines), None, idle=True)

    def clear(self) -> None:
        self.calls = []


# -- how to encode it --------------------------------------------------------------------
class DisplayCodec(ABC):
    rows = 2
    width = 20

    def init(self) -> bytes:
        return b""

    @abstractmethod
    def frame(self, content: DisplayContent) -> bytes:
        ...


class AlphaCodec(DisplayCodec):
    """Alpha M-Protocol sign at ``address``; a blinking line uses the ``flash`` mode."""

    def __init__(self, address: int = 0, *, type_code: str = "Z", label: str = "A",
                 colour: str = "amber", rows: int = 2, width: int = 16) -> None:
        alpha.address_code(address)
        if colour not in alpha.COLOURS:
            raise ValueError(f"unknown sign colour {colour!r}")
        self.address, self.type_code, self.label, self.colour = address, type_code, label, colour
        self.rows, self.width = rows, width

    def frame(self, content: DisplayContent) -> bytes:
        if self.rows == 1:
            positions = ["fill"]
        else:
            positions = (["top", "bottom"] + ["fill"] * 8)[: len(content.lines)]
        lines = [alpha.AlphaLine(text or " ", pos, "flash" if i == content.blink_line else "hold",
                                 self.colour)
                 for i, (text, pos) in enumerate(zip(content.lines, positions))]
        return alpha.write_text(lines, label=self.label, type_code=self.type_code,
                                address=self.address)


class EpsonCodec(DisplayCodec):
    """Epson customer display (2x20); the whole screen blinks on a new call."""

    def __init__(self, *, width: int = 20, rows: int = 2, brightness: int = 4,
                 blink_interval: int = 10, select_display: bool = False) -> None:
        epson.brightness(brightness)
        self.width, self.rows = width, rows
        self.level, self.blink_interval, self.select_display = brightness, blink_interval, select_display

    def init(self) -> bytes:
        return epson.init_sequence(self.level, self.select_display)

    def frame(self, content: DisplayContent) -> bytes:
        interval = self.blink_interval if content.blink_line is not None else 0
        return epson.screen(content.lines, self.width, interval)


# -- the device --------------------------------------------------------------------------
class CallDisplay:
    """A call display on a port (real serial or in memory): see the module docstring.

    :param backoff_s: (first, max) delay between reopen attempts after the port is lost.
    """

    def __init__(self, name: str, port: DisplayPort, codec: DisplayCodec, *,
                 listener: Optional[FaultListener] = None, language: str = "en",
                 idle_message: str = "Welcome", blink_s: float = 5.0,
                 write_timeout_s: float = 3.0, backoff_s: tuple[float, float] = (0.5, 30.0)) -> None:
        self.name = name
        self.port = port
        self.codec = codec
        self.board = CallBoard(codec.rows, codec.width, language, idle_message)
        self.blink_s = blink_s
        self.backoff = backoff_s
        self.faults = FaultTracker(name, listener)
        self.current = self.board.idle()
        self._generation = -1
        self._delay = backoff_s[0]
        self._retry = None
        self._unblink = None
        self._closed = False
        self.worker = DeviceWorker(name, default_timeout_s=write_timeout_s,
                                   on_timeout=lambda r: self.faults.fault(FaultKind.TIMEOUT, r))
        port.subscribe(self._on_port_lost)

    def start(self) -> "CallDisplay":
        """Open the port and show the idle screen (in the background)."""
        self.worker.submit(self._show, self.current, name="start")
        return self

    # -- interface ------------------------------------------------------------------------
    def show_call(self, call: CallInfo):
        """Put ``call`` at the top, blinking for ``blink_s``. Returns a Future (True if sent)."""
        return self.worker.submit(self._call, call, name=f"call {call.ticket}")

    def show_idle(self, message: Optional[str] = None):
        """Forget the calls and show the idle message (or ``message``)."""
        return self.worker.submit(self._idle, message, name="idle")

    @property
    def state(self) -> DeviceState:
        if self._closed:
            return DeviceState.CLOSED
        return DeviceState.FAULT if self.faults.active else DeviceState.READY

    @property
    def fault(self) -> Optional[FaultKind]:
        return self.faults.kind

    def wait_idle(self, timeout_s: float = 5.0) -> bool:
        return self.worker.wait_idle(timeout_s)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.port.unsubscribe(self._on_port_lost)
        self.worker.close()

    # -- worker thread --------------------------------------------------------------------
    def _call(self, call: CallInfo) -> bool:
        content = self.board.push(call)
        if self._unblink is not None:
            self._unblink.cancel()
        if self.blink_s > 0:
            self._unblink = self.worker.call_later(self.blink_s, self._stop_blink, name="unblink")
        else:
            content = self.board.content(blink=False)
        return self._show(content)

    def _stop_blink(self) -> bool:
        self._unblink = None
        return self._show(self.board.content(blink=False))

    def _idle(self, message: Optional[str]) -> bool:
        self.board.clear()
        if self._unblink is not None:
            self._unblink.cancel()
            self._unblink = None
        return self._show(self.board.idle(message))

    def _show(self, content: DisplayContent) -> bool:
        self.current = content
        if self._retry is not None:  # port down: the retry will send the current state
            return False
        try:
            self._send(self.codec.frame(content))
        except (DeviceUnavailable, DeviceTimeout) as exc:
            self._port_failed(exc)
            return False
        return True

    def _send(self, frame: bytes) -> None:
        port = self.port
        port.ensure_open()
        with port.lock:
            if self._generation != port.generation:  # (re)opened: device state is unknown
                port.write(self.codec.init())
                self._generation = port.generation
            port.write(frame)
        self.faults.clear()

    def _port_failed(self, exc: Exception) -> None:
        kind = FaultKind.NO_REPLY if isinstance(exc, DeviceTimeout) else FaultKind.UNPLUGGED
        self.faults.fault(kind, str(exc))
        self._generation = -1
        if self._retry is None and not self._closed:
            self._retry = self.worker.call_later(self._delay, self._reconnect, name="reconnect")

    def _on_port_lost(self, reason: str) -> None:  # any thread
        if not self._closed:
            self.worker.submit(self._port_failed, DeviceUnavailable(reason), name="port lost")

    def _reconnect(self) -> None:
        self._retry = None
        try:
            self._send(self.codec.frame(self.current))
        except (DeviceUnavailable, DeviceTimeout) as exc:
            self._delay = min(self._delay * 2, self.backoff[1])
            self._port_failed(exc)
            return
        except DeviceError:
            log.exception("%s: reconnect failed", self.name)
            return
        log.info("%s: display back, state resent", self.name)
        self._delay = self.backoff[0]
