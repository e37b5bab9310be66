"""SD-card safety for the kiosk database: daily online backups and their rotation.

Only the standard library ``sqlite3``. The rest of the safety net lives beside this module:
`kiosk.storage.integrity` (is a database file sound, how far its outbox goes) and
`kiosk.storage.restore` (put the best backup in place of a corrupt database).

Wiring:

* daily (``kiosk backup``, run by ``kiosk-backup.timer``)::

      backup_now(data / "kiosk.db", data / "backups", keep=7)

* at start, **before** the store opens the database::

      report = restore_if_corrupt(data / "kiosk.db", data / "backups")
      if report is not None:
          log.error(report.summary())
          # once the store is open: append an event (device.fault, device="storage")
          # with report.as_dict() so the loss reaches the outbox and HQ.

* ``kiosk check-db``: ``check_integrity(path, full=True)`` → list of problems ([] = ok).

Backups are written to a temporary file in the backup directory, checked, fsync'd and
renamed into place, so a power cut leaves either the old set or the new one. File names
carry the UTC time: ``kiosk-20261123-031500Z.db``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from kiosk.storage.files import connect_rw_existing, fsync_dir, fsync_file

BACKUP_PREFIX = "kiosk-"
BACKUP_SUFFIX = ".db"
_NAME_RE = re.compile(r"^kiosk-(\d{8})-(\d{6})Z(?:-(\d+))?\.db$")
TS_FMT = "%Y%m%d-%H%M%S"


class BackupError(OSError):
    """A backup could not be made (source unreadable or the copy failed its check)."""


class _WallClock(Protocol):
    def wall(self) -> datetime: ...


ClockLike = _WallClock | Callable[[], datetime] | None


def utc_now(clock: ClockLike) -> datetime:
    """The clock's wall time in UTC (the system's when None; a naive time is taken as UTC)."""
    if clock is None:
        value = datetime.now(UTC)
    elif hasattr(clock, "wall"):
        value = clock.wall()  # kiosk.domain.clock.SystemClock / FakeClock
    else:
        value = clock()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass(frozen=True)
class BackupFile:
    path: Path
    time: datetime  # from the file name (UTC)


def list_backups(backup_dir: Path | str) -> list[BackupFile]:
    """Backups in ``backup_dir``, newest first (by the time in the file name)."""
    backup_dir = Path(backup_dir)
    found: list[tuple[datetime, int, Path]] = []
    if not backup_dir.is_dir():
        return []
    for entry in backup_dir.iterdir():
        m = _NAME_RE.match(entry.name)
        if not m or not entry.is_file():
            continue
        ts = datetime.strptime(f"{m.group(1)}-{m.group(2)}", TS_FMT).replace(tzinfo=UTC)
        found.append((ts, int(m.group(3) or 0), entry))
    found.sort(key=lambda t: (t[0], t[1], t[2].name), reverse=True)
    return [BackupFile(p, ts) for ts, _, p in found]


def backup_now(
    db_path: Path | str,
    backup_dir: Path | str,
    keep: int = 7,
    clock: ClockLike = None,
) -> Path:
    """Copy the live database with SQLite's online backup API; keep the newest ``keep``.

    Safe while the kiosk writes (WAL: the copy is one consistent snapshot and writers are
    not blocked). The copy is checked (``quick_check``) before it replaces anything, so a
    corrupt source never rotates good backups away. Returns the new backup's path.
    """
    if keep < 1:
        raise ValueError("keep must be >= 1")
    db_path = Path(db_path)
    backup_dir = Path(backup_dir)
    if not db_path.is_file():
        raise BackupError(f"no database to back up at {db_path}")
    backup_dir.mkdir(parents=True, exist_ok=True)
    stamp = utc_now(clock).strftime(TS_FMT)
    target = backup_dir / f"{BACKUP_PREFIX}{stamp}Z{BACKUP_SUFFIX}"

    fd, tmp_name = tempfile.mkstemp(prefix=".kiosk-backup-", suffix=".tmp", dir=backup_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            src = connect_rw_existing(db_path)
        except sqlite3.Error as exc:
            raise BackupError(f"cannot open {db_path}: {exc}") from exc
        try:
            dst = sqlite3.connect(tmp, isolation_level=None)
            try:
                src.backup(dst)  # pages=-1: one step, one consistent read snapshot
                # the copy is a self-contained file: no -wal next to it
                dst.execute("PRAGMA journal_mode=DELETE").fetchall()
                problems = [r[0] for r in dst.execute("PRAGMA quick_check").fetchall()]
            finally:
                dst.close()
        except sqlite3.Error as exc:
            raise BackupError(f"backup of {db_path} failed: {exc}") from exc
        finally:
            src.close()
        if problems != ["ok"]:
            raise BackupError(f"backup of {db_path} is not sound: {'; '.join(problems[:5])}")
        fsync_file(tmp)
        os.replace(tmp, target)
        fsync_dir(backup_dir)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _rotate(backup_dir, keep, just_written=target)
    return target


def _rotate(backup_dir: Path, keep: int, just_written: Path) -> list[Path]:
    """Delete all but the newest ``keep`` backups; never the one just written.

    (A Pi has no real-time clock: before NTP syncs, a new backup may carry an older
    time than the ones already there. It still survives this rotation.)
    """
    backups = [b.path for b in list_backups(backup_dir)]
    survivors = [just_written] + [p for p in backups if p != just_written][: keep - 1]
    removed = []
    for p in backups:
        if p not in survivors:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
            removed.append(p)
    # leftovers of a backup interrupted by a power cut
    for leftover in backup_dir.glob(".kiosk-backup-*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
    if removed:
        fsync_dir(backup_dir)
    return removed
