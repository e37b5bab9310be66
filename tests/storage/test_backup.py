"""kiosk.storage.backup on real files: online backup, rotation, corruption, restore and report."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.storage.backup import BackupError, backup_now, list_backups
from kiosk.storage.integrity import check_integrity, last_outbox_seq
from kiosk.storage.restore import RestoreReport, restore_if_corrupt

T0 = datetime(2026, 11, 23, 3, 15, 0, tzinfo=UTC)
PAYLOAD = "x" * 300


class StepClock:
    """Wall clock for tests: starts at T0, moves only when told."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def wall(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


def make_db(path: Path, rows: int, *, checkpoint: bool = True, autoincrement: bool = False) -> None:
    """A WAL database shaped like the store's: outbox(seq INTEGER PRIMARY KEY, …)."""
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        pk = "INTEGER PRIMARY KEY AUTOINCREMENT" if autoincrement else "INTEGER PRIMARY KEY"
        con.execute(f"CREATE TABLE IF NOT EXISTS outbox (seq {pk}, type TEXT, body TEXT)")
        con.execute("CREATE TABLE IF NOT EXISTS tickets (id INTEGER PRIMARY KEY, number TEXT)")
        add_rows(con, rows)
        if checkpoint:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def add_rows(con: sqlite3.Connection, rows: int) -> None:
    con.execute("BEGIN")
    for _ in range(rows):
        con.execute("INSERT INTO outbox(type, body) VALUES ('ticket.issued', ?)", (PAYLOAD,))
    con.execute("COMMIT")


def append(path: Path, rows: int) -> None:
    con = sqlite3.connect(path, isolation_level=None)
    try:
        add_rows(con, rows)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()


def page_size(path: Path) -> int:
    with open(path, "rb") as f:
        f.seek(16)
        ps = int.from_bytes(f.read(2), "big")
    return 65536 if ps == 1 else ps


def outbox_pages(path: Path) -> list[int]:
    """Page numbers (1-based) of the outbox b-tree, via the dbstat-free way: the root
    page from sqlite_master, then every page whose header says 'table leaf' and whose
    cells hold outbox payloads (good enough to aim garbage at the outbox)."""
    ps = page_size(path)
    data = path.read_bytes()
    pages = []
    for n in range(2, len(data) // ps + 1):
        chunk = data[(n - 1) * ps : n * ps]
        if chunk[0] == 0x0D and b"ticket.issued" in chunk:
            pages.append(n)
    return pages


@pytest.fixture
def data(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    return d


# --------------------------------------------------------------------------- backups


def test_backup_is_a_sound_standalone_copy(data):
    db = data / "kiosk.db"
    make_db(db, 50, checkpoint=False)  # rows still in the WAL: the backup must see them
    out = backup_now(db, data / "backups", clock=StepClock())
    assert out.name == "kiosk-20261123-031500Z.db"
    assert check_integrity(out) == []
    assert last_outbox_seq(out) == 50
    assert not Path(f"{out}-wal").exists()
    con = sqlite3.connect(out)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        con.close()
    assert not list((data / "backups").glob(".kiosk-backup-*"))


def test_backup_accepts_callable_and_naive_clock(data):
    db = data / "kiosk.db"
    make_db(db, 1)
    out = backup_now(db, data / "b", clock=lambda: datetime(2026, 1, 2, 3, 4, 5))
    assert out.name == "kiosk-20260102-030405Z.db"


def test_rotation_keeps_newest_n(data):
    db = data / "kiosk.db"
    make_db(db, 5)
    clock = StepClock()
    written = []
    for _ in range(10):
        written.append(backup_now(db, data / "backups", keep=3, clock=clock))
        clock.advance(days=1)
    left = [b.path for b in list_backups(data / "backups")]
    assert left == list(reversed(written[-3:]))
    # leftovers of an interrupted backup are cleaned up by the next one
    (data / "backups" / ".kiosk-backup-dead.tmp").write_bytes(b"partial")
    backup_now(db, data / "backups", keep=3, clock=clock)
    assert not list((data / "backups").glob(".kiosk-backup-*"))


def test_rotation_never_deletes_the_backup_just_written(data):
    """No RTC: before NTP syncs the clock may be behind the newest backup's name."""
    db = data / "kiosk.db"
    make_db(db, 5)
    clock = StepClock()
    for _ in range(3):
        backup_now(db, data / "backups", keep=3, clock=clock)
        clock.advance(days=1)
    early = backup_now(db, data / "backups", keep=3, clock=StepClock(datetime(1970, 1, 1, tzinfo=UTC)))
    assert early.exists()
    assert len(list_backups(data / "backups")) == 3


def test_backup_of_corrupt_source_fails_and_keeps_old_backups(data):
    db = data / "kiosk.db"
    make_db(db, 5)
    good = backup_now(db, data / "backups", clock=StepClock())
    with open(db, "r+b") as f:
        f.write(b"garbage garbage!")
    with pytest.raises(BackupError):
        backup_now(db, data / "backups", clock=StepClock(T0 + timedelta(days=1)))
    assert [b.path for b in list_backups(data / "backups")] == [good]
    assert not list((data / "backups").glob(".kiosk-backup-*"))


def test_backup_missing_db(data):
    with pytest.raises(BackupError):
        backup_now(data / "nope.db", data / "backups")
    assert not (data / "nope.db").exists()
    with pytest.raises(ValueError):
        backup_now(data / "nope.db", data / "backups", keep=0)


def test_backup_while_another_connection_writes(data):
    db = data / "kiosk.db"
    make_db(db, 10)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        con = sqlite3.connect(db, isolation_level=None, timeout=10)
        try:
            while not stop.is_set():
                add_rows(con, 5)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            con.close()

    t = threading.Thread(target=writer)
    t.start()
    clock = StepClock()
    seqs = []
    try:
        for _ in range(8):
            out = backup_now(db, data / "backups", keep=20, clock=clock)
            clock.advance(seconds=1)
            assert check_integrity(out, full=True) == []
            con = sqlite3.connect(out)
            try:
                n, hi = con.execute("SELECT count(*), max(seq) FROM outbox").fetchone()
            finally:
                con.close()
            assert n == hi  # one consistent snapshot: seq 1..hi, nothing half-written
            assert hi % 5 == 0  # whole transactions only
            seqs.append(hi)
    finally:
        stop.set()
        t.join()
    assert not errors
    assert seqs == sorted(seqs)
    assert seqs[-1] > 10  # the writer really ran concurrently


# --------------------------------------------------------------------------- checks


def test_check_integrity_sound_and_absent(data):
    db = data / "kiosk.db"
    assert check_integrity(db) == []  # first start: nothing to check
    make_db(db, 20)
    assert check_integrity(db) == []
    assert check_integrity(db, full=True) == []


def test_check_integrity_detects_damage(data):
    db = data / "kiosk.db"

    make_db(db, 400)
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.truncate(size // 2)
    assert "truncated" in check_integrity(db)[0]

    db.unlink()
    make_db(db, 50)
    with open(db, "r+b") as f:
        f.write(b"\x00" * 16)
    assert "bad header" in check_integrity(db)[0]

    db.unlink()
    db.write_bytes(b"")
    assert "empty" in check_integrity(db)[0]

    db.write_bytes(b"this is not a database at all\n" * 200)
    assert check_integrity(db)

    db.unlink()
    make_db(db, 400)
    rnd = random.Random(7)
    ps = page_size(db)
    victim = outbox_pages(db)[3]
    with open(db, "r+b") as f:
        f.seek((victim - 1) * ps)
        f.write(rnd.randbytes(ps))
    assert check_integrity(db)


# --------------------------------------------------------------------------- restore


def test_sound_database_is_left_alone(data):
    db = data / "kiosk.db"
    make_db(db, 5)
    before = db.read_bytes()
    assert restore_if_corrupt(db, data / "backups") is None
    assert restore_if_corrupt(data / "absent.db", data / "backups") is None
    assert db.read_bytes() == before


def test_restore_after_garbage_pages_reports_loss(data):
    db = data / "kiosk.db"
    backups = data / "backups"
    clock = StepClock()
    make_db(db, 300)
    backup_now(db, backups, clock=clock)  # outbox up to seq 300
    append(db, 200)  # seq 500, never backed up
    # a damaged page in the middle of the outbox: the right-most path still reads
    rnd = random.Random(42)
    ps = page_size(db)
    pages = outbox_pages(db)
    with open(db, "r+b") as f:
        f.seek((pages[len(pages) // 3] - 1) * ps)
        f.write(rnd.randbytes(ps))
    assert check_integrity(db)

    clock.advance(hours=30)
    report = restore_if_corrupt(db, backups, clock=clock)
    assert isinstance(report, RestoreReport)
    assert report.backup_used is not None and report.backup_used.name == "kiosk-20261123-031500Z.db"
    assert report.backup_time == T0
    assert report.backup_age_s == 30 * 3600
    assert report.backup_last_seq == 300
    assert report.corrupt_last_seq == 500
    assert report.lost_events_estimate == 200
    assert not report.started_fresh
    # the damaged file is kept, the restored one is sound and holds the backup's rows
    assert report.corrupt_path is not None and report.corrupt_path.exists()
    assert report.corrupt_path.name == "kiosk.db.corrupt-20261124-091500Z"
    assert check_integrity(db) == []
    assert last_outbox_seq(db) == 300
    text = report.summary()
    assert "kiosk-20261123-031500Z.db" in text and "30.0 h old" in text and "~200 events" in text
    d = report.as_dict()
    json.dumps(d)
    assert d["kind"] == "database_restored" and d["lost_events_estimate"] == 200


def test_restore_after_truncation_and_header_overwrite(data):
    backups = data / "backups"
    for damage in ("truncate", "header"):
        db = data / f"{damage}.db"
        make_db(db, 100)
        out = backup_now(db, backups, keep=7, clock=StepClock())
        append(db, 50)
        with open(db, "r+b") as f:
            if damage == "truncate":
                f.truncate(db.stat().st_size // 3)
            else:
                f.seek(0)
                f.write(b"\xff" * 100)
        report = restore_if_corrupt(db, backups, clock=StepClock(T0 + timedelta(hours=1)))
        assert report is not None
        assert report.backup_used == out
        assert report.backup_last_seq == 100
        assert check_integrity(db) == []
        assert last_outbox_seq(db) == 100
        assert report.corrupt_path.read_bytes()[:16] != b""  # kept, not deleted
        out.unlink()


def test_stale_wal_moves_aside_with_the_corrupt_file(data):
    db = data / "kiosk.db"
    backups = data / "backups"
    make_db(db, 20)
    backup_now(db, backups, clock=StepClock())
    # leave committed frames in a WAL next to a database whose header is then destroyed
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA wal_autocheckpoint=0")
    add_rows(con, 10)
    wal = Path(f"{db}-wal")
    assert wal.exists() and wal.stat().st_size > 0
    wal_copy = wal.read_bytes()
    con.close()  # checkpoints; put the WAL back as a crash would have left it
    wal.write_bytes(wal_copy)
    with open(db, "r+b") as f:
        f.write(b"\x00" * 16)

    report = restore_if_corrupt(db, backups, clock=StepClock())
    assert report is not None
    assert not Path(f"{db}-wal").exists()  # would be replayed into the restored file
    assert Path(f"{report.corrupt_path}-wal").read_bytes() == wal_copy
    assert check_integrity(db) == []
    assert last_outbox_seq(db) == 20


def test_restore_skips_damaged_backups_and_prefers_highest_seq(data):
    db = data / "kiosk.db"
    backups = data / "backups"
    clock = StepClock()
    make_db(db, 10)
    older = backup_now(db, backups, clock=clock)
    append(db, 10)
    clock.advance(days=1)
    middle = backup_now(db, backups, clock=clock)  # seq 20
    append(db, 10)
    # the newest backup was made before NTP synced: an old name, but the most data
    newest_content = backup_now(db, backups, clock=StepClock(T0 - timedelta(days=3)))  # seq 30
    clock.advance(days=1)
    append(db, 5)
    damaged_latest = backup_now(db, backups, clock=clock)  # seq 35, then damaged on disk
    with open(damaged_latest, "r+b") as f:
        f.write(b"\x00" * 64)
    with open(db, "r+b") as f:
        f.write(b"\x00" * 16)

    report = restore_if_corrupt(db, backups, clock=clock)
    assert report is not None
    assert report.backup_used == newest_content
    assert report.backup_last_seq == 30
    # the age comes from the name, so it is only as good as the clock was then
    assert report.backup_age_s == timedelta(days=5).total_seconds()
    assert len(report.rejected_backups) == 1 and damaged_latest.name in report.rejected_backups[0]
    assert older.exists() and middle.exists()


def test_no_good_backup_starts_fresh(data):
    db = data / "kiosk.db"
    make_db(db, 10)
    db.write_bytes(os.urandom(8192))
    report = restore_if_corrupt(db, data / "no-backups-here")
    assert report is not None
    assert report.started_fresh and report.backup_used is None
    assert not db.exists()  # the store creates an empty database
    assert report.corrupt_path.exists()
    assert "no good backup" in report.summary()
    assert report.as_dict()["kind"] == "database_reset"


def test_restore_keeps_outbox_numbers_increasing(data):
    """Events after the backup were numbered (maybe seen by HQ): new ones must not reuse them."""
    db = data / "kiosk.db"
    backups = data / "backups"
    clock = StepClock()
    make_db(db, 300, autoincrement=True)
    backup_now(db, backups, clock=clock)
    append(db, 200)  # seq 500 in the damaged file
    ps = page_size(db)
    pages = outbox_pages(db)
    with open(db, "r+b") as f:
        f.seek((pages[len(pages) // 3] - 1) * ps)
        f.write(random.Random(5).randbytes(ps))
    clock.advance(minutes=20)
    report = restore_if_corrupt(db, backups, clock=clock)
    assert report is not None
    assert report.backup_last_seq == 300 and report.corrupt_last_seq == 500
    assert report.seq_advanced_to == 500
    assert "20 min old" in report.summary() and "after seq 500" in report.summary()
    assert report.as_dict()["seq_advanced_to"] == 500
    con = sqlite3.connect(db, isolation_level=None)
    try:
        con.execute("INSERT INTO outbox(type, body) VALUES ('device.fault', '{}')")
        assert con.execute("SELECT max(seq) FROM outbox").fetchone()[0] == 501
    finally:
        con.close()
    assert check_integrity(db, full=True) == []
