"""An exclusive lock on the bench, so two runs never fight over a serial port or a pin."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path
from typing import Iterator, Optional


@contextlib.contextmanager
def bench_lock(path: Optional[str] = None, timeout_s: Optional[float] = None) -> Iterator[Path]:
    """Exclusive ``flock`` on the bench; waits up to ``timeout_s`` (KIOSK_HIL_LOCK_TIMEOUT)."""
    lock_path = Path(path or os.environ.get("KIOSK_HIL_LOCK", "/tmp/kiosk-hil.lock"))
    timeout_s = float(os.environ.get("KIOSK_HIL_LOCK_TIMEOUT", "600")) if timeout_s is None else timeout_s
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
                    raise TimeoutError(f"HIL bench {lock_path} is busy ({holder or 'unknown holder'})")
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%H:%M:%S')}\n".encode(), 0)
        yield lock_path
    finally:
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
