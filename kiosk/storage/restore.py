"""Restore at start: a corrupt database is kept aside and the best good backup takes its place.

`restore_if_corrupt` returns a `RestoreReport` (what was used, an estimate of what was lost)
for the log, an outbox event and HQ; see `kiosk.storage.backup` for the wiring.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.storage.backup import TS_FMT, BackupFile, ClockLike, list_backups, utc_now
from kiosk.storage.files import fsync_dir, fsync_file
from kiosk.storage.integrity import backup_outbox_seq, check_integrity, last_outbox_seq


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
    fsync_dir(db_path.parent)
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
        fsync_file(tmp)
        os.replace(tmp, db_path)
        fsync_dir(db_path.parent)
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
    now = utc_now(clock)
    corrupt_seq = last_outbox_seq(db_path)
    corrupt_path = _move_aside(db_path, now.strftime(TS_FMT) + "Z")

    best: tuple[int, datetime, BackupFile] | None = None
    rejected: list[str] = []
    for b in list_backups(backup_dir):
        bad = check_integrity(b.path)
        if bad:
            rejected.append(f"{b.path.name}: {bad[0]}")
            continue
        seq = backup_outbox_seq(b.path)
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
