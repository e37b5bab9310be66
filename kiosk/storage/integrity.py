"""Is a database file sound, and how far does its outbox go (best effort on a damaged file)?

Nothing here depends on the store's schema except ``outbox(seq INTEGER PRIMARY KEY, …)``,
used to estimate what a restore lost.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

from kiosk.storage.files import connect_ro, connect_rw_existing

SQLITE_MAGIC = b"SQLite format 3\x00"


def _header_problems(db_path: Path) -> list[str]:
    """What the 100-byte header alone shows: empty, not SQLite, a bad page size, truncated."""
    size = db_path.stat().st_size
    if size == 0:
        return ["empty file (0 bytes)"]
    with open(db_path, "rb") as f:
        header = f.read(100)
    if len(header) < 100 or header[:16] != SQLITE_MAGIC:
        return ["not an SQLite database (bad header)"]
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return [f"bad page size {page_size} in header"]
    change_counter = int.from_bytes(header[24:28], "big")
    page_count = int.from_bytes(header[28:32], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    if page_count and valid_for == change_counter and size < page_count * page_size:
        return [
            f"file truncated: header says {page_count} pages of {page_size} bytes, "
            f"file has {size} bytes"
        ]
    return []


def check_integrity(db_path: Path | str, *, full: bool = False) -> list[str]:
    """Problems found in the database ([] when it is sound or does not exist yet).

    A file that is not a database, is truncated or fails ``PRAGMA quick_check``
    (``integrity_check`` with ``full=True``) is corrupt. Opening replays a pending WAL,
    as the store would.
    """
    db_path = Path(db_path)
    if not db_path.exists():
        return []
    try:
        problems = _header_problems(db_path)
    except OSError as exc:
        return [f"unreadable: {exc}"]
    if problems:
        return problems
    pragma = "integrity_check" if full else "quick_check"
    try:
        con = connect_rw_existing(db_path) if os.access(db_path, os.W_OK) else connect_ro(db_path)
    except sqlite3.Error as exc:
        return [f"cannot open: {exc}"]
    try:
        rows = [str(r[0]) for r in con.execute(f"PRAGMA {pragma}").fetchall()]
    except sqlite3.Error as exc:
        return [f"{pragma} failed: {exc}"]
    finally:
        con.close()
    return [] if rows == ["ok"] else rows


def last_outbox_seq(db_path: Path | str) -> int | None:
    """Highest ``outbox.seq`` that can still be read (best effort on a damaged file).

    Works on a copy in a temporary directory, so a damaged file (and its WAL) is never
    modified by the read. None when no outbox row can be read.
    """
    db_path = Path(db_path)
    if not db_path.is_file():
        return None
    with tempfile.TemporaryDirectory(prefix="kiosk-seq-") as tmpd:
        copy = Path(tmpd) / "copy.db"
        try:
            shutil.copyfile(db_path, copy)
            wal = Path(f"{db_path}-wal")
            if wal.is_file():
                shutil.copyfile(wal, Path(f"{copy}-wal"))
        except OSError:
            return None
        return _read_max_seq(copy)


def _read_max_seq(path: Path) -> int | None:
    best: int | None = None
    try:
        con = connect_rw_existing(path)
    except sqlite3.Error:
        return None
    try:
        # the right-most path of the rowid b-tree: cheap and often intact
        with contextlib.suppress(sqlite3.Error):
            row = con.execute("SELECT max(seq) FROM outbox").fetchone()
            if row and row[0] is not None:
                best = int(row[0])
        # walk the table in both directions until the damage; keep the highest seen
        for order in ("DESC", "ASC"):
            try:
                for (seq,) in con.execute(f"SELECT seq FROM outbox ORDER BY seq {order}"):
                    if seq is not None and (best is None or seq > best):
                        best = int(seq)
                    if order == "DESC":
                        break
            except sqlite3.Error:
                continue
    finally:
        con.close()
    return best


def backup_outbox_seq(path: Path) -> int | None:
    """Highest ``outbox.seq`` of a backup; None when it has none or cannot be read."""
    # backups are journal_mode=DELETE files: immutable read-only needs no -shm and writes nothing
    try:
        con = connect_ro(path, immutable=True)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT max(seq) FROM outbox").fetchone()
        return None if row is None or row[0] is None else int(row[0])
    except sqlite3.Error:
        return None
    finally:
        con.close()
