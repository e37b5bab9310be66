"""Virtual devices on pseudo-terminals for the HIL dry run (KIOSK_HIL_DRYRUN).

The drivers open the pty's slave through a symlink exactly as they open /dev/kiosk-printer
on a Pi; these peers sit on the master side: they keep every byte and, for the printer,
answer ESC/POS real-time status queries (DLE EOT n) like a healthy printer.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from typing import Optional


class PtyPeer:
    """The far end of a serial cable, reachable at ``link`` (a symlink to the pty slave)."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.received = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.master, self.slave = os.openpty()
        tty.setraw(self.master)
        tty.setraw(self.slave)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(os.ttyname(self.slave), link)
        self._thread = threading.Thread(target=self._run, name=f"pty {link}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.master], [], [], 0.02)
                data = os.read(self.master, 65536) if ready else b""
            except (OSError, ValueError):
                return
            if data:
                with self._lock:
                    self.feed(data)

    def feed(self, data: bytes) -> None:
        self.received += data

    def reply(self, data: bytes) -> None:
        try:
            os.write(self.master, data)
        except OSError:
            pass

    def data(self) -> bytes:
        with self._lock:
            return bytes(self.received)

    def wait_for(self, needle: bytes, timeout_s: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if needle in self.data():
                return True
            time.sleep(0.01)
        return False

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        if os.path.lexists(self.link):
            os.unlink(self.link)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class VirtualEscposPrinter(PtyPeer):
    """Keeps what would be printed and answers ``DLE EOT 1..4`` with ``status`` bytes.

    Skips over the payload of raster images (``GS v 0``) and ``GS ( k`` / ``GS ( L`` blocks
    so image or QR data is never taken for a status query.
    """

    def __init__(self, link: str, status: Optional[tuple[int, int, int, int]] = None) -> None:
        self.status = status or (0x12, 0x12, 0x12, 0x12)  # healthy: fixed bits only
        self.queries = 0
        self.printed = bytearray()
        self._pending = bytearray()
        super().__init__(link)

    def feed(self, data: bytes) -> None:
        self.received += data
        buf = self._pending
        buf += data
        i = 0
        while i < len(buf):
            rest = len(buf) - i
            b = buf[i]
            if b == 0x10 and rest >= 2 and buf[i + 1] == 0x04:
                if rest < 3:
                    break
                n = buf[i + 2]
                if 1 <= n <= 4:
                    self.queries += 1
                    self.reply(bytes([self.status[n - 1]]))
                i += 3
                continue
            if b == 0x1D and rest >= 2 and buf[i + 1] == ord("v"):
                if rest < 8:
                    break
                size = 8 + (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8)
                if rest < size:
                    break
                self.printed += buf[i:i + size]
                i += size
                continue
            if b == 0x1D and rest >= 3 and buf[i + 1] == ord("(") and buf[i + 2] in b"kL":
                if rest < 5:
                    break
                size = 5 + (buf[i + 3] | buf[i + 4] << 8)
                if rest < size:
                    break
                self.printed += buf[i:i + size]
                i += size
                continue
            if b in (0x10, 0x1D) and rest < 3:
                break
            self.printed.append(b)
            i += 1
        del buf[:i]

    def printed_bytes(self) -> bytes:
        with self._lock:
            return bytes(self.printed)
