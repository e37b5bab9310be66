"""A fake Epson-command customer display (VFD) on a pty: a screen buffer."""
from __future__ import annotations

from pathlib import Path

from drivers.fakes.pty_device import FakePtyDevice


class FakeVfd(FakePtyDevice):
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
