"""A fake ESC/POS ticket printer on a pty: keeps what would be printed, answers status queries."""
from __future__ import annotations

from pathlib import Path

from drivers.fakes.pty_device import FakePtyDevice
from drivers.printer.status import PrinterState, encode_status


class FakeEscposPrinter(FakePtyDevice):
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
