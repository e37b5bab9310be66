"""PostgreSQL: day partitions (a day outside the window goes to the DEFAULT partition), two
recorders (two HQ nodes) writing the same events at once, each stored and counted once.
SQLite: a file of the first recorder (primary key id only) migrated in place, its rollups
filled. And `kiosk hq prune` / `kiosk hq export` on a postgresql:// URL."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing

from kiosk.hq.db import open_db
from kiosk.hq.events_schema import ensure_schema
from kiosk.hq.recorder import Recorder, record_events
from kiosk.hq.web import queries
from tests.hq.store.kit import add_all, day, doc
from tests.kit.settings import REPO

OLD_SCHEMA = ("CREATE TABLE events (id TEXT PRIMARY KEY, branch TEXT NOT NULL, seq INTEGER, type TEXT, ts TEXT, "
              "day TEXT, body TEXT NOT NULL, received TEXT);"
              "CREATE INDEX idx_events_branch_seq ON events (branch, seq);"
              "CREATE INDEX idx_events_type ON events (type)")


def partitions(url: str) -> dict[str, int]:
    with closing(open_db(url).connect()) as conn:
        rows = conn.execute("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                            "WHERE i.inhparent = 'events'::regclass").fetchall()
        return {name: conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0] for (name,) in rows}


def test_days_get_partitions_and_others_the_default(pg_url):
    far_future = ("f1", "b1", 1, "ticket.issued", "2999-01-01T09:00:00+08:00", "2999-01-01", "{}")
    ancient = ("a1", "b1", 2, "ticket.issued", "2001-01-01T09:00:00+08:00", "2001-01-01", "{}")
    not_a_day = ("n1", "b1", 3, "ticket.issued", "x", "<script>", "{}")
    rec = Recorder(pg_url, batch_ms=10)
    try:
        for row in (far_future, ancient, not_a_day):
            rec.add(row)
        add_all(rec, [doc("b1", 4, "ticket.issued", day(0)), doc("b1", 5, "ticket.issued", day(1))])
        assert rec.flush() and rec.inserted == 5 and rec.failed == 0
    finally:
        rec.close()
    parts = partitions(pg_url)
    today, yesterday = (f"events_p{day(n).replace('-', '')}" for n in (0, 1))
    assert parts == {"events_default": 3, today: 1, yesterday: 1}


def test_two_nodes_store_and_count_every_event_once(pg_url):
    docs = [doc(f"b{i % 7}", i, "ticket.called", day(i % 3), service="A", counter=1 + i % 3, wait_s=i % 900)
            for i in range(1, 3001)]
    recs = [Recorder(pg_url, batch_ms=5, batch_events=200) for _ in range(2)]
    try:
        # each node gets three quarters of the events, overlapping in the middle, in its own order
        shares = [docs[:2250], list(reversed(docs[750:]))]
        threads = [threading.Thread(target=add_all, args=(r, s)) for r, s in zip(recs, shares)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert all(r.flush(60) for r in recs)
        assert sum(r.inserted for r in recs) == len(docs) and sum(r.failed for r in recs) == 0
    finally:
        for r in recs:
            r.close()
    with closing(queries.open_ro(pg_url)) as conn:
        assert conn.execute("SELECT count(*), count(DISTINCT (branch, id)) FROM events").fetchone() == (3000, 3000)
        rows = queries.compare_days(conn, day(2), day(0))
        assert sum(r["called"] for r in rows) == 3000
        assert sum(r["wait_sum"] for r in rows) == sum(d["wait_s"] for d in docs)


def test_a_file_of_the_first_recorder_is_migrated(tmp_path):
    db = tmp_path / "hq.db"
    raw = sqlite3.connect(db)
    raw.executescript(OLD_SCHEMA)
    docs = [doc("b1", 1, "ticket.called", day(2), service="A", counter=2, wait_s=700),
            doc("b1", 2, "ticket.called", day(2), service="A", counter=2, wait_s=100),
            doc("b2", 1, "ticket.rated", day(2), service="A", score=5)]
    no_day = doc("b2", 2, "ticket.issued", day(1))
    del no_day["day"]
    for d in [*docs, no_day]:
        raw.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (d["id"], d["branch"], d["seq"], d["type"], d["ts"], d.get("day"), json.dumps(d), "r"))
    raw.commit()
    raw.close()
    ensure_schema(db)
    ensure_schema(db)                                                   # a second time changes nothing
    with closing(sqlite3.connect(db)) as conn:
        pk = sorted((r[5], r[1]) for r in conn.execute("PRAGMA table_info(events)") if r[5])
        assert [c for _, c in pk] == ["branch", "id"]
        assert conn.execute("SELECT day FROM events WHERE id = ?", (no_day["id"],)).fetchone() == (day(1),)
    with closing(queries.open_ro(db)) as conn:
        b1 = queries.branch_day(conn, "b1", day(2))
        assert (b1["total"]["called"], b1["total"]["within"], b1["total"]["wait_max"]) == (2, 1, 700)
        assert [c["counter"] for c in b1["counters"]] == [2]
        assert queries.compare_day(conn, day(1)) [0]["issued"] == 1
        assert queries.compare_day(conn, day(2))[1]["satisfaction"] == 1.0
    assert record_events(db, docs) == 0                                 # the same ids are still known


def test_kiosk_hq_prune_and_export_on_postgres(pg_url, tmp_path):
    record_events(pg_url, [doc("b1", 1, "ticket.issued", day(60)), doc("b1", 2, "ticket.issued", day(1))])

    def kiosk(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kiosk", "hq", *args], capture_output=True, text=True,
                              timeout=120, cwd=str(REPO))
    proc = kiosk("prune", "--db", pg_url, "--keep-days", "30")
    assert proc.returncode == 0, proc.stderr
    proc = kiosk("export", "--db", pg_url, "--out", str(tmp_path / "out.csv"))
    assert proc.returncode == 0, proc.stderr
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert len(lines) == 2 and day(1) in lines[1]
    bad = kiosk("prune", "--db", pg_url, "--keep-days", "-1")
    assert bad.returncode != 0 and "keep_days" in bad.stderr and "Traceback" not in bad.stderr
