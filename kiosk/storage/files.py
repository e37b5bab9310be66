"""Durable file helpers: fsync a file or a directory (so a rename survives a power cut), write
any file the kiosk keeps atomically (`atomic_writer`, `write_atomic`), and open an existing
SQLite file read-only or read-write without ever creating one."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


def fsync_dir(path: Path) -> None:
    """Make the directory's entries (a rename, a new or removed file) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Make the file's content durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def connect_ro(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    """Open a database read-only (``immutable``: also no -shm, no locks, nothing written)."""
    uri = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)


def connect_rw_existing(path: Path) -> sqlite3.Connection:
    """Open a database read-write; mode=rw never creates a missing file (a typo must not
    produce an empty database)."""
    uri = path.resolve().as_uri() + "?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb", **open_kwargs: Any) -> Iterator[IO[Any]]:
    """Write ``path`` so that a power cut leaves either the old file or the whole new one:
    a temporary file beside it, fsync, rename over it, fsync of the directory. On an error
    the temporary file is removed and ``path`` is untouched."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_writer writes a whole file: mode 'w' or 'wb', not {mode!r}")
    target = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        os.fchmod(fd, _mode_for(target))
        with os.fdopen(fd, mode, **open_kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync_dir(target.parent)


def _mode_for(target: Path) -> int:
    """The replaced file's permissions, or what a plain open() would give (mkstemp gives 0600)."""
    try:
        return target.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def write_atomic(path: str | os.PathLike, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write the whole of ``data`` to ``path`` atomically and durably (see `atomic_writer`)."""
    if isinstance(data, str):
        with atomic_writer(path, "w", encoding=encoding) as fh:
            fh.write(data)
    else:
        with atomic_writer(path, "wb") as fh:
            fh.write(data)
    return Path(path)


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would race other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
