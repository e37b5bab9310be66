"""Issue 14's finding 9 against the real processes: a kiosk in its own process, mosquitto without
persistence, and `kiosk hq serve` (on SQLite and on PostgreSQL). HQ is down while the kiosk
delivers events to the broker, which keeps them for nobody; HQ comes back, finds the hole in
the branch's seq, asks the kiosk to resend (logged as HQ's own command), and the recording ends
with every seq 1..n exactly once, the branch without gaps.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.hq.db import open_db
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from kiosk.storage.store import db_path
from tests.kit.hq_web import Server, add_users, branch_kiosk, new_branch


def _stored(target: str, branch: str) -> list[tuple[int, int]]:
    """(seq, how many times) of the branch's recorded events."""
    db = open_db(target)
    try:
        with db.connection() as c:
            return [(int(s), int(n)) for s, n in c.execute(
                "SELECT seq, count(*) FROM events WHERE branch = ? GROUP BY seq ORDER BY seq", (branch,))]
    finally:
        db.close()


def _outbox(data: Path) -> tuple[int, int]:
    """(highest seq, undelivered) of the kiosk's outbox."""
    conn = sqlite3.connect(f"file:{db_path(data)}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT max(seq), sum(delivered_at IS NULL) FROM outbox").fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_the_server_finds_lost_events_and_gets_them_resent(kind, tmp_path, request):
    target = str(tmp_path / "hq.db") if kind == "sqlite" else request.getfixturevalue("pg_url")
    add_users(target)
    broker = Broker(tmp_path / "broker").start()          # no persistence: what nobody takes is gone
    opts = ("--gap-interval", "0.5", "--gap-grace", "2")
    server = kiosk = None
    branch = new_branch("gap")
    data = tmp_path / "kiosk"
    try:
        server = Server(broker.url, target, *opts, logdir=tmp_path)
        kiosk = branch_kiosk(broker.url, data, branch)
        kiosk.issue(3)
        wait_until(lambda: len(_stored(target, branch)) == _outbox(data)[0], 60, what="the first events recorded")
        first = _outbox(data)[0]
        server.stop()                                       # HQ down …
        server = None
        kiosk.issue(4)                                      # … while the kiosk delivers more to the broker
        wait_until(lambda: _outbox(data)[1] == 0, 60, what="the kiosk's events delivered to the broker")
        lost = _outbox(data)[0]
        assert lost > first and [s for s, _ in _stored(target, branch)] == list(range(1, first + 1))

        server = Server(broker.url, target, *opts, logdir=tmp_path)
        kiosk.issue(2)                                      # new events: the lost ones are a hole inside
        wait_until(lambda: _outbox(data)[1] == 0, 60, what="the new events delivered")
        last = _outbox(data)[0]
        wait_until(lambda: _stored(target, branch) == [(s, 1) for s in range(1, last + 1)], 90,
                   what=f"every seq 1..{last} recorded once")
        with server.client("op") as c:
            wait_until(lambda: next(r for r in c.get("/api/branches").json()["rows"] if r["branch"] == branch)
                       ["gaps"] == 0, 30, what="the gap closed on the page")
            stats = c.get("/api/stats").json()["gap_repair"]
            assert stats["leader"] is True and stats["asks_sent"] >= 1 and stats["error"] is None, stats
            log = c.get(f"/api/branch/{branch}/commands").json()["commands"]
            asks = [e for e in log if e["command"] == "resend"]
            assert asks and all(e["user"] == "hq" and e["role"] == "system" for e in asks), log
            assert any(e["status"] == "ok" for e in asks), asks
            row = next(r for r in c.get("/api/branches").json()["rows"] if r["branch"] == branch)
            assert row["problem"] is None and row["missing"] == 0, row
    finally:
        if kiosk is not None:
            kiosk.kill()
        if server is not None:
            server.stop()
        broker.stop()
