"""With several HQ nodes on one PostgreSQL exactly one asks branches to resend (`kiosk.hq.gap_leader`):
the one holding the advisory lock; when it stops, or its connection dies with it, another takes over."""
from __future__ import annotations

from kiosk.hq.db import open_db
from kiosk.hq.gap_leader import Leadership


def test_one_node_asks_and_another_takes_over_when_it_stops(pg_url):
    db = open_db(pg_url)
    a, b = Leadership(db), Leadership(db)
    try:
        assert [a.held(), b.held()] == [True, False]
        assert [a.held(), b.held()] == [True, False]        # held on, not taken twice
        a.release()                                          # node a stops
        assert b.held() and not a.held()                     # b takes over; a, back, waits its turn
    finally:
        a.release()
        b.release()
        db.close()


def test_a_leader_whose_connection_dies_loses_the_lock_to_another(pg_url):
    db = open_db(pg_url)
    a, b = Leadership(db), Leadership(db)
    try:
        assert a.held() and not b.held()
        pid = a._conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with db.connection() as c:                           # the server drops a's connection (a crash, a cut)
            assert c.execute("SELECT pg_terminate_backend(?)", (pid,)).fetchone()[0] is True
        assert a.held() is False                             # a notices instead of believing it still leads
        assert b.held() is True
    finally:
        a.release()
        b.release()
        db.close()


def test_on_sqlite_the_single_node_always_asks(tmp_path):
    db = open_db(tmp_path / "hq.db")
    lead = Leadership(db)
    assert lead.held() and lead.held()
    lead.release()
    assert lead.held()
