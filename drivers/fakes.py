"""Fake devices at the far end of a serial cable, behind real pseudo-terminals.

The kiosk's real drivers open a stable symlink to a pty slave; ``unplug()`` closes the pty and
removes the link, ``replug()`` makes a new pty behind the same link. The printer parses
ESC/POS and answers ``DLE EOT`` status queries from a state switch (paper out, cover open,
silent); the VFD interprets the Epson customer-display commands into a screen buffer; the
Alpha sign counts M-Protocol frames. Used by the driver tests, the hardware-in-the-loop dry
run and the simulated day (``kiosk simulate-day``): test and simulation equipment, never
loaded by the kiosk itself.
"""
from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path

from drivers.printer.status import PrinterState, encode_status


class PtyDevice:
    """The far end of a serial cable: a pty whose slave path (a stable symlink) the driver opens.

    ``unplug()`` closes the pty and removes the link (writes fail, opens fail); ``replug()``
    makes a new pty behind the same link. Subclasses parse what arrives in ``feed``.
    ``received`` keeps the bytes received (the last ``keep_bytes`` when set: long simulations).
    """

    def __init__(self, link_path: str | Path, keep_bytes: int | None = None) -> None:
        self.link = str(link_path)
        self.keep_bytes = keep_bytes
        self.received = bytearray()
        self.total_bytes = 0
        self.plugged = False
        self.unplugs = 0
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._stop = False
        self.master: int | None = None
        self.slave: int | None = None
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name=f"fake-{Path(self.link).name}", daemon=True)
        self._thread.start()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self.master, self.slave = master, slave
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(slave), self.link)
        self.plugged = True

    def unplug(self) -> None:
        # the reader must be out of select(): a pending select keeps the pty alive
        with self._io_lock, self._lock:
            if os.path.lexists(self.link):
                os.unlink(self.link)
            for fd in (self.master, self.slave):
                if fd is not None:
                    os.close(fd)
            self.master = self.slave = None
            self.plugged = False
            self.unplugs += 1

    def replug(self) -> None:
        with self._io_lock, self._lock:
            self._open_pty()

    def _run(self) -> None:
        while not self._stop:
            with self._io_lock:
                fd = self.master
                data = b""
                if fd is not None:
                    try:
                        ready, _, _ = select.select([fd], [], [], 0.02)
                        data = os.read(fd, 65536) if ready else b""
                    except (OSError, ValueError):
                        data = b""
            if fd is None:
                time.sleep(0.01)
            elif data:
                with self._lock:
                    self.total_bytes += len(data)
                    self.feed(data)

    def keep(self, data: bytes | bytearray) -> None:
        self.received += data
        if self.keep_bytes is not None and len(self.received) > self.keep_bytes:
            del self.received[:-self.keep_bytes]

    def feed(self, data: bytes) -> None:
        self.keep(data)

    def take(self) -> bytes:
        """Everything received so far, and forget it."""
        with self._lock:
            out = bytes(self.received)
            self.received.clear()
            return out

    def reply(self, data: bytes) -> None:
        if self.master is not None:
            try:
                os.write(self.master, data)
            except OSError:
                pass

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        if self.plugged:
            self.unplug()


class FakeEscposPrinter(PtyDevice):
    """Parses ESC/POS: answers ``DLE EOT n`` from ``state``, keeps everything else, counts
    cuts (one per ticket).

    Raster images (``GS v 0``) and ``GS ( k`` / ``GS ( L`` blocks are taken by their length
    so their payload is never mistaken for a status query. ``answer=False``: stays silent.
    """

    def __init__(self, link_path: str | Path, keep_bytes: int | None = None) -> None:
        self.state = PrinterState.OK
        self.answer = True
        self.queries = 0
        self.cuts = 0
        self._pending = bytearray()
        super().__init__(link_path, keep_bytes)

    def set_state(self, state: PrinterState) -> None:
        self.state = state

    def feed(self, data: bytes) -> None:
        buf = self._pending
        buf += data
        i = 0
        while i < len(buf):
            b = buf[i]
            if b == 0x10:
                if len(buf) - i < 3:
                    break
                if buf[i + 1] == 0x04:
                    self.queries += 1
                    n = buf[i + 2]
                    if self.answer and 1 <= n <= 4:
                        self.reply(bytes([encode_status(self.state)[n - 1]]))
                    i += 3
                    continue
            if b == 0x1D:
                if len(buf) - i < 3:
                    break
                if buf[i + 1] == ord("v"):
                    if len(buf) - i < 8:
                        break
                    n = 8 + (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8)
                    if len(buf) - i < n:
                        break
                    self.keep(buf[i:i + n])
                    i += n
                    continue
                if buf[i + 1] == ord("(") and buf[i + 2] in b"kL":
                    if len(buf) - i < 5:
                        break
                    n = 5 + (buf[i + 3] | buf[i + 4] << 8)
                    if len(buf) - i < n:
                        break
                    self.keep(buf[i:i + n])
                    i += n
                    continue
                if buf[i + 1] == ord("V"):
                    self.cuts += 1
            self.keep(buf[i:i + 1])
            i += 1
        del buf[:i]


class FakeVfd(PtyDevice):
    """A 2x20 Epson-command customer display: a screen buffer, the blink and brightness.

    An unexpected byte is counted in ``bad_bytes``, or raises with ``strict`` (tests)."""

    def __init__(self, link_path: str | Path, rows: int = 2, cols: int = 20, *, strict: bool = False,
                 keep_bytes: int | None = None) -> None:
        self.rows, self.cols = rows, cols
        self.strict = strict
        self.screen = [[" "] * cols for _ in range(rows)]
        self.cursor = [0, 0]
        self.blink = 0
        self.brightness = 4
        self.resets = 0
        self.clears = 0
        self.bad_bytes = 0
        self._pending = bytearray()
        super().__init__(link_path, keep_bytes)

    def lines(self) -> list[str]:
        with self._lock:
            return ["".join(r) for r in self.screen]

    def replug(self) -> None:
        """A new device: garbage on the screen until it is initialised, nothing received yet."""
        with self._lock:
            self.screen = [["#"] * self.cols for _ in range(self.rows)]
            self._pending.clear()
        super().replug()

    def feed(self, data: bytes) -> None:
        self.keep(data)
        buf = self._pending
        buf += data
        i = 0
        while i < len(buf):
            b = buf[i]
            need = {0x1B: 2, 0x1F: 2}.get(b, 1)
            if len(buf) - i < need:
                break
            if b == 0x1B and buf[i + 1] == ord("@"):
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
                self.cursor, self.blink = [0, 0], 0
                self.resets += 1
                i += 2
            elif b == 0x1B and buf[i + 1] == ord("="):
                if len(buf) - i < 3:
                    break
                i += 3
            elif b == 0x1F and buf[i + 1] == 0x01:
                i += 2
            elif b == 0x1F and buf[i + 1] in b"$EX":
                n = 4 if buf[i + 1] == ord("$") else 3
                if len(buf) - i < n:
                    break
                if buf[i + 1] == ord("$"):
                    self.cursor = [buf[i + 3] - 1, buf[i + 2] - 1]
                elif buf[i + 1] == ord("E"):
                    self.blink = buf[i + 2]
                else:
                    self.brightness = buf[i + 2]
                i += n
            elif b == 0x0C:
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
                self.cursor = [0, 0]
                self.clears += 1
                i += 1
            elif 0x20 <= b < 0x7F:
                row, col = self.cursor
                if 0 <= row < self.rows and 0 <= col < self.cols:
                    self.screen[row][col] = chr(b)
                self.cursor[1] = col + 1
                i += 1
            else:
                if self.strict:
                    raise AssertionError(f"fake VFD: unexpected byte {b:#04x} in {bytes(buf[i:i + 8])!r}")
                self.bad_bytes += 1
                i += 1
        del buf[:i]


class FakeAlphaSign(PtyDevice):
    """An Alpha M-Protocol LED sign: counts the frames (SOH … EOT) and keeps the last one."""

    def __init__(self, link_path: str | Path, keep_bytes: int | None = None) -> None:
        self.frames = 0
        self.last_frame = b""
        self._frame = bytearray()
        super().__init__(link_path, keep_bytes)

    def feed(self, data: bytes) -> None:
        self.keep(data)
        for b in data:
            self._frame.append(b)
            if b == 0x04:  # EOT ends a transmission
                self.frames += 1
                self.last_frame = bytes(self._frame)
                self._frame.clear()
        del self._frame[:-4096]

