"""A fake Alpha M-Protocol LED sign on a pty: counts the frames."""
from __future__ import annotations

from pathlib import Path

from drivers.fakes.pty_device import FakePtyDevice


class FakeAlphaSign(FakePtyDevice):
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
