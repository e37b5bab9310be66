"""The HQ event store on both databases (`hq_db_target`: SQLite, then PostgreSQL): idempotent
per (branch, id), rollups equal to the figures computed from the events, retention, hostile
rows costing one row at most, recent events and the CSV export."""
from __future__ import annotations

import csv
import io
import json
import random
from contextlib import closing

import pytest

from kiosk.hq.db import open_db
from kiosk.hq.recorder import Recorder, export_csv, record_events
from kiosk.hq.web import queries
from tests.hq.store.kit import add_all, day, doc, expected, random_events


def count(target: str, sql: str, params: tuple = ()) -> int:
    with closing(open_db(target).connect()) as conn:
        return conn.execute(sql, params).fetchone()[0]


def test_each_event_once_per_branch_and_id(hq_db_target):
    evs = [doc("b1", i, "ticket.issued", day(1), service="A") for i in range(1, 21)]
    assert record_events(hq_db_target, evs) == 20
    assert record_events(hq_db_target, evs + evs[:5]) == 0          # again, and twice in one batch
    # branch b2 sends b1's ids: stored as its own events, b1's untouched
    squat = [{**e, "branch": "b2", "service": "V"} for e in evs[:5]]
    assert record_events(hq_db_target, squat) == 5
    assert count(hq_db_target, "SELECT count(*) FROM events WHERE branch = 'b1' AND body LIKE ?", ('%"A"%',)) == 20
    with closing(queries.open_ro(hq_db_target)) as conn:
        assert {r["branch"]: r["issued"] for r in queries.compare_day(conn, day(1))} == {"b1": 20, "b2": 5}
        assert [s["service"] for s in queries.branch_day(conn, "b2", day(1))["services"]] == ["V"]


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_equal_the_figures_computed_from_the_events(hq_db_target, seed):
    rng = random.Random(seed)
    branches, days = [f"b{i}" for i in range(6)], [day(i) for i in range(4)]
    docs = random_events(rng, 1500, branches, days)
    docs += rng.sample(docs, 300)                                   # redeliveries
    targets = {b: {"A": rng.choice((60.0, 600.0, 1800.0)), "V": 120.0} for b in branches[:4]}
    rec = Recorder(hq_db_target, batch_ms=5, batch_events=97)
    rec.targets_of = lambda b: targets.get(b, {})
    try:
        add_all(rec, docs)
        assert rec.flush()
        assert rec.failed == 0
    finally:
        rec.close()
    want = expected(docs, targets)
    with closing(queries.open_ro(hq_db_target)) as conn:
        for (branch, on), e in want.items():
            t = queries.branch_day(conn, branch, on)["total"]
            for k in ("issued", "called", "served", "noshows", "ratings", "satisfied", "within"):
                assert t[k] == e[k], (branch, on, k)
            assert t["wait_max"] == (round(max(e["waits"]), 2) if e["waits"] else None)
            assert t["mean_wait_s"] == (round(sum(e["waits"]) / e["called"], 1) if e["waits"] else None)
            assert t["service_mean_s"] == (round(sum(e["services"]) / len(e["services"]), 2) if e["services"] else None)
            assert t["score_mean"] == (round(sum(e["scores"]) / len(e["scores"]), 2) if e["scores"] else None)
        over = {r["branch"]: r for r in queries.compare_days(conn, days[-1], days[1])}   # three of the four days
        for b in branches:
            parts = [e for (br, on), e in want.items() if br == b and days[-1] <= on <= days[1]]
            assert over[b]["called"] == sum(p["called"] for p in parts)
            assert over[b]["within"] == sum(p["within"] for p in parts)
            assert over[b]["ratings"] == sum(p["ratings"] for p in parts)
        assert queries.days(conn) == days


def test_retention_drops_old_events_and_keeps_the_figures(hq_db_target):
    old, kept = doc("b1", 1, "ticket.issued", day(40)), doc("b1", 2, "ticket.issued", day(3))
    record_events(hq_db_target, [old, kept])
    rec = Recorder(hq_db_target, keep_days=10, batch_ms=10)        # the writer prunes when it starts
    try:
        assert rec.flush()
        add_all(rec, [doc("b1", 3, "ticket.issued", day(0))])
        assert rec.flush()
    finally:
        rec.close()
    assert count(hq_db_target, "SELECT count(*) FROM events") == 2
    assert count(hq_db_target, "SELECT count(*) FROM events WHERE day = ?", (day(40),)) == 0
    with closing(queries.open_ro(hq_db_target)) as conn:
        assert queries.compare_day(conn, day(40))[0]["issued"] == 1   # the rollups stay


def test_hostile_rows_cost_one_row_each(hq_db_target):
    good = [doc(f"b{i % 3}", i, "ticket.called", day(0), service="A", wait_s=30) for i in range(1, 41)]
    rows = [(d["id"], d["branch"], d["seq"], d["type"], d["ts"], d["day"], json.dumps(d)) for d in good]
    rows.insert(10, ("nul", "b1", 1, "ticket.issued\x00", good[0]["ts"], day(0), "{}"))      # PostgreSQL refuses NUL
    rows.insert(20, ("huge", "b1", 2 ** 64, "ticket.issued", good[0]["ts"], day(0), "{}"))   # no 64-bit integer
    rows.insert(30, ("short", "b1"))
    rows.insert(35, ("bad-body", "b1", 3, "ticket.called", good[0]["ts"], day(0), '{"wait_s": NaN'))
    rec = Recorder(hq_db_target, batch_ms=10_000, batch_events=10_000)
    try:
        for r in rows:
            rec.add(r)
        assert rec.flush()
        stored_bad = 4 - rec.failed
        assert rec.failed >= 2 and rec.inserted == 40 + stored_bad
        add_all(rec, [doc("b1", 99, "ticket.issued", day(0))])          # and it keeps working
        assert rec.flush() and rec.inserted == 41 + stored_bad
    finally:
        rec.close()
    with closing(queries.open_ro(hq_db_target)) as conn:
        assert sum(r["called"] for r in queries.compare_day(conn, day(0))) == 40   # a body that is not JSON adds none


def test_recent_events_and_the_csv_export(hq_db_target):
    evs = [doc("b1", i, "ticket.issued", day(i // 50)) for i in range(1, 151)] + [doc("b2", 1, "ticket.issued", day(0))]
    record_events(hq_db_target, evs)
    with closing(queries.open_ro(hq_db_target)) as conn:
        assert [e["seq"] for e in queries.recent_events(conn, "b1", 100)] == list(range(150, 50, -1))
        assert [e["seq"] for e in queries.recent_events(conn, "b2", 100)] == [1]
    out = io.StringIO()
    assert export_csv(hq_db_target, out, branch="b1") == 150
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["seq"]) for r in rows] == list(range(1, 151))
    assert export_csv(hq_db_target, io.StringIO()) == 151
