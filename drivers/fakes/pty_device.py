"""The far end of a serial cable: a pseudo-terminal whose slave the driver opens through a link."""
from __future__ import annotations

import os
import select
import threading
import time
import tty
from pathlib import Path


class FakePtyDevice:
    """A pty whose slave path (a stable symlink at ``link_path``) the driver opens.

    ``unplug()`` closes the pty and removes the link (writes fail, opens fail); ``replug()``
    makes a new pty behind the same link. Subclasses parse what arrives in ``feed``.
    ``received`` keeps the bytes received (the last ``keep_bytes`` when set: long simulations;
    ``keep_bytes=0`` drains and keeps nothing, counting ``total_bytes`` only: benchmarks).
    """

    def __init__(self, link_path: str | Path, keep_bytes: int | None = None) -> None:
        self.link = str(link_path)
        self.keep_bytes = keep_bytes
        self.received = bytearray()
        self.total_bytes = 0
        self.plugged = False
        self.unplugs = 0
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
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
                with self._arrived:
                    self.total_bytes += len(data)
                    self.feed(data)
                    self._arrived.notify_all()

    def keep(self, data: bytes | bytearray) -> None:
        self.received += data
        if self.keep_bytes is not None and len(self.received) > self.keep_bytes:
            del self.received[:len(self.received) - self.keep_bytes]

    def feed(self, data: bytes) -> None:
        self.keep(data)

    def take(self) -> bytes:
        """Everything received so far, and forget it."""
        with self._lock:
            out = bytes(self.received)
            self.received.clear()
            return out

    def received_bytes(self) -> bytes:
        """Everything received so far (kept)."""
        with self._lock:
            return bytes(self.received)

    def wait_for(self, needle: bytes, timeout_s: float = 10.0) -> bool:
        """Wait until ``needle`` is among the bytes received; False when it has not come in time."""
        with self._arrived:
            return self._arrived.wait_for(lambda: needle in self.received, timeout_s)

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
