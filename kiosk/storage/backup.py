"""SD-card safety for the kiosk database: online backups, integrity check, restore.

Only the standard library ``sqlite3``; nothing here depends on the store's schema except
``outbox(seq INTEGER PRIMARY KEY, …)``, used to estimate what a restore lost.

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
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "BackupError",
    "RestoreReport",
    "backup_now",
    "check_integrity",
    "list_backups",
    "last_outbox_seq",
    "restore_if_corrupt",
]

SQLITE_MAGIC = b"SQLite format 3\x00"
BACKUP_PREFIX = "kiosk-"
BACKUP_SUFFIX = ".db"
_NAME_RE = re.compile(r"^kiosk-(\d{8})-(\d{6})Z(?:-(\d+))?\.db$")
_TS_FMT = "%Y%m%d-%H%M%S"


class BackupError(OSError):
    """A backup could not be made (source unreadable or the copy failed its check)."""


class _WallClock(Protocol):
    def wall(self) -> datetime: ...


ClockLike = _WallClock | Callable[[], datetime] | None


def _now(clock: ClockLike) -> datetime:
    if clock is None:
        value = datetime.now(UTC)
    elif hasattr(clock, "wall"):
        value = clock.wall()  # kiosk.domain.clock.SystemClock / FakeClock
    else:
        value = clock()
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# --------------------------------------------------------------------------- files


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _connect_ro(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    uri = path.resolve().as_uri() + "?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)


def _connect_rw_existing(path: Path) -> sqlite3.Connection:
    # mode=rw never creates a missing file (a typo must not produce an empty database)
    uri = path.resolve().as_uri() + "?mode=rw"
    return sqlite3.connect(uri, uri=True, timeout=5.0, isolation_level=None)


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
        ts = datetime.strptime(f"{m.group(1)}-{m.group(2)}", _TS_FMT).replace(tzinfo=UTC)
        found.append((ts, int(m.group(3) or 0), entry))
    found.sort(key=lambda t: (t[0], t[1], t[2].name), reverse=True)
    return [BackupFile(p, ts) for ts, _, p in found]


# --------------------------------------------------------------------------- backup


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
    stamp = _now(clock).strftime(_TS_FMT)
    target = backup_dir / f"{BACKUP_PREFIX}{stamp}Z{BACKUP_SUFFIX}"

    fd, tmp_name = tempfile.mkstemp(prefix=".kiosk-backup-", suffix=".tmp", dir=backup_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        try:
            src = _connect_rw_existing(db_path)
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
        _fsync_file(tmp)
        os.replace(tmp, target)
        _fsync_dir(backup_dir)
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
        _fsync_dir(backup_dir)
    return removed


# --------------------------------------------------------------------------- checks


def _header_problems(db_path: Path) -> list[str]:
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
        con = _connect_rw_existing(db_path) if os.access(db_path, os.W_OK) else _connect_ro(db_path)
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
        con = _connect_rw_existing(path)
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


# --------------------------------------------------------------------------- restore


@dataclass(frozen=True)
class RestoreReport:
    """What a restore did and an estimate of what it lost (for log, event and HQ)."""

    db_path: Path
    problems: tuple[str, ...]
    corrupt_path: Path | None  # where the damaged file was kept
    backup_used: Path | None  # None: no good backup, started with an empty database
    backup_time: datetime | None  # the backup's time (UTC, from its name)
    backup_age_s: float | None  # now - backup_time (None if the clock is before it)
    backup_last_seq: int | None  # highest outbox seq in the backup
    corrupt_last_seq: int | None  # highest outbox seq still readable in the damaged file
    restored_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    rejected_backups: tuple[str, ...] = ()  # backups skipped because they are damaged too
    # the restored outbox numbers new events after this seq (no reuse of numbers HQ may
    # have seen); None when not needed or not possible (unknown loss, no AUTOINCREMENT)
    seq_advanced_to: int | None = None

    @property
    def started_fresh(self) -> bool:
        return self.backup_used is None

    @property
    def lost_events_estimate(self) -> int | None:
        """Outbox events committed after the backup (a lower bound), when both are known."""
        if self.corrupt_last_seq is None:
            return None
        base = self.backup_last_seq or 0
        return max(0, self.corrupt_last_seq - base)

    def summary(self) -> str:
        what = "; ".join(self.problems[:3])
        if self.backup_used is None:
            head = f"database {self.db_path} was corrupt ({what}); no good backup, started empty"
        else:
            age = "unknown age" if self.backup_age_s is None else _age_text(self.backup_age_s)
            head = (
                f"database {self.db_path} was corrupt ({what}); restored backup "
                f"{self.backup_used.name} ({age})"
            )
        lost = self.lost_events_estimate
        if lost is not None:
            head += (
                f"; events after seq {self.backup_last_seq or 0} lost "
                f"(damaged file readable up to seq {self.corrupt_last_seq}, ~{lost} events)"
            )
        if self.seq_advanced_to is not None:
            head += f"; new events numbered after seq {self.seq_advanced_to}"
        if self.corrupt_path is not None:
            head += f"; damaged file kept as {self.corrupt_path.name}"
        return head

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields for a ``device.fault`` event (device="storage") / HQ message."""
        return {
            "device": "storage",
            "kind": "database_restored" if self.backup_used else "database_reset",
            "reason": self.summary(),
            "problems": list(self.problems),
            "corrupt_path": str(self.corrupt_path) if self.corrupt_path else None,
            "backup": self.backup_used.name if self.backup_used else None,
            "backup_time": self.backup_time.isoformat() if self.backup_time else None,
            "backup_age_s": self.backup_age_s,
            "backup_last_seq": self.backup_last_seq,
            "corrupt_last_seq": self.corrupt_last_seq,
            "lost_events_estimate": self.lost_events_estimate,
            "started_fresh": self.started_fresh,
            "seq_advanced_to": self.seq_advanced_to,
            "restored_at": self.restored_at.isoformat(),
        }


def _age_text(seconds: float) -> str:
    if seconds < 5400:
        return f"{seconds / 60:.0f} min old"
    return f"{seconds / 3600:.1f} h old"


def _move_aside(db_path: Path, stamp: str) -> Path:
    """Rename the database and its -wal/-shm together (a stale WAL left next to the
    restored file would be replayed into it and corrupt it again)."""
    aside = db_path.with_name(f"{db_path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = db_path.with_name(f"{db_path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(db_path, aside)
    for suffix in ("-wal", "-shm", "-journal"):
        side = Path(f"{db_path}{suffix}")
        if side.exists():
            os.replace(side, Path(f"{aside}{suffix}"))
    _fsync_dir(db_path.parent)
    return aside


def _advance_outbox_sequence(path: Path, at_least: int) -> bool:
    """Make the next outbox ``seq`` greater than ``at_least`` (AUTOINCREMENT tables only).

    Events after the backup were already numbered (and maybe delivered to HQ) in the
    damaged file; new events must not reuse those numbers. True when the sequence moved.
    """
    con = sqlite3.connect(path, isolation_level=None)
    try:
        row = con.execute("SELECT sql FROM sqlite_master WHERE type='table' AND name='outbox'").fetchone()
        if not row or "AUTOINCREMENT" not in (row[0] or "").upper():
            return False
        cur = con.execute("SELECT seq FROM sqlite_sequence WHERE name='outbox'").fetchone()
        if cur is not None and cur[0] is not None and int(cur[0]) >= at_least:
            return False
        con.execute("BEGIN IMMEDIATE")
        if cur is None:
            con.execute("INSERT INTO sqlite_sequence(name, seq) VALUES ('outbox', ?)", (at_least,))
        else:
            con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name='outbox'", (at_least,))
        con.execute("COMMIT")
        return True
    except sqlite3.Error:
        return False
    finally:
        con.close()


def _install_copy(backup: Path, db_path: Path, seq_floor: int | None = None) -> bool:
    """Copy ``backup`` into place atomically; returns True if the outbox sequence moved."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{db_path.name}.restore-", dir=db_path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    advanced = False
    try:
        shutil.copyfile(backup, tmp)
        if seq_floor is not None:
            advanced = _advance_outbox_sequence(tmp, seq_floor)
        _fsync_file(tmp)
        os.replace(tmp, db_path)
        _fsync_dir(db_path.parent)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return advanced


def restore_if_corrupt(
    db_path: Path | str,
    backup_dir: Path | str,
    clock: ClockLike = None,
    *,
    full: bool = False,
) -> RestoreReport | None:
    """Check the database; if it is corrupt, keep it aside and restore the best backup.

    Returns None when the database is sound (or absent: first start). Otherwise the
    damaged file (with its -wal/-shm) becomes ``kiosk.db.corrupt-<UTC time>``, the good
    backup with the highest outbox seq (newest name on a tie) is copied into place, and
    a report says what was used and estimates what was lost. With no good backup the
    database is left absent so the store starts an empty one, and the report says so.
    Call before the store opens the database.
    """
    db_path = Path(db_path)
    problems = check_integrity(db_path, full=full)
    if not problems:
        return None
    now = _now(clock)
    corrupt_seq = last_outbox_seq(db_path)
    corrupt_path = _move_aside(db_path, now.strftime(_TS_FMT) + "Z")

    best: tuple[int, datetime, BackupFile] | None = None
    rejected: list[str] = []
    for b in list_backups(backup_dir):
        bad = check_integrity(b.path)
        if bad:
            rejected.append(f"{b.path.name}: {bad[0]}")
            continue
        seq = _read_max_seq_ro(b.path)
        key = (seq if seq is not None else -1, b.time)
        if best is None or key > (best[0], best[1]):
            best = (key[0], b.time, b)

    if best is None:
        return RestoreReport(
            db_path=db_path,
            problems=tuple(problems),
            corrupt_path=corrupt_path,
            backup_used=None,
            backup_time=None,
            backup_age_s=None,
            backup_last_seq=None,
            corrupt_last_seq=corrupt_seq,
            restored_at=now,
            rejected_backups=tuple(rejected),
        )
    chosen = best[2]
    backup_seq = best[0] if best[0] >= 0 else None
    floor = corrupt_seq if corrupt_seq is not None and corrupt_seq > (backup_seq or 0) else None
    advanced = _install_copy(chosen.path, db_path, seq_floor=floor)
    age = (now - chosen.time).total_seconds()
    return RestoreReport(
        db_path=db_path,
        problems=tuple(problems),
        corrupt_path=corrupt_path,
        backup_used=chosen.path,
        backup_time=chosen.time,
        backup_age_s=age if age >= 0 else None,
        backup_last_seq=backup_seq,
        corrupt_last_seq=corrupt_seq,
        restored_at=now,
        rejected_backups=tuple(rejected),
        seq_advanced_to=floor if advanced else None,
    )


def _read_max_seq_ro(path: Path) -> int | None:
    # backups are journal_mode=DELETE files: immutable read-only needs no -shm and writes nothing
    try:
        con = _connect_ro(path, immutable=True)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT max(seq) FROM outbox").fetchone()
        return None if row is None or row[0] is None else int(row[0])
    except sqlite3.Error:
        return None
    finally:
        con.close()
