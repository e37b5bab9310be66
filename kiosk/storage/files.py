"""Durable file helpers for the database and its backups: fsync a file or a directory (so a
rename survives a power cut) and open an existing SQLite file read-only or read-write
without ever creating one."""
from __future__ import annotations

import os
import sqlite3
from pathlib import Path


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
