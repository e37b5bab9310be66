"""HQ's gap repair (`kiosk.hq.gaps`) on SQLite and PostgreSQL: the watermark, holes that become
gaps after the grace, gaps that close or shrink as events arrive, the resend asks with their
back-off, hostile replies and a branch claiming an absurd last seq."""
from __future__ import annotations

import json
import uuid

import pytest

from kiosk.hq import gap_table
from kiosk.hq.db import open_db
from kiosk.hq.events_schema import ensure_schema
from kiosk.hq.gap_scan import holes, subtract
from kiosk.hq.gaps import GapRepair
from kiosk.hq.web.live import Live
from kiosk.sim.waiting import wait_until

B = "b-001"
T0 = 1_000_000.0


def test_holes_and_subtract():
    assert holes([1, 2, 5, 5, 6, 9], 0, 12, complete=True) == ([(3, 4), (7, 8), (10, 12)], 9)
    assert holes([4, 5], 3, 5, complete=True) == ([], 5)
    assert holes([7], 3, 100, complete=False) == ([(4, 6)], 7)
    assert holes([], 3, 2**53, complete=True) == ([(4, 2**53)], 3)
    assert subtract([(1, 10), (20, 30)], [(3, 4), (9, 25)]) == [(1, 2), (5, 8), (26, 30)]


@pytest.fixture
def db(hq_db_target):
    d = open_db(hq_db_target)
    ensure_schema(d)
    yield d
    d.close()


def store(db, branch: str, seqs, day: str = "2026-11-23") -> None:
    with db.connection() as conn:
        conn.executemany("INSERT INTO events (id, branch, seq, type, ts, day, body, received) "
                         "VALUES (?, ?, ?, 'ticket.issued', ?, ?, '{}', '')",
                         [(uuid.uuid4().hex, branch, s, f"{day}T09:00:00+08:00", day) for s in seqs])


def claim(live: Live, branch: str, last_seq: int) -> None:
    """What the branch's retained queue snapshot says (as `Live` keeps it)."""
    with live.lock:
        live._detail(branch)["queue"] = {"v": 1, "branch": branch, "last_seq": last_seq}


def gaps_of(db, branch: str = B) -> list[tuple]:
    with db.connection() as conn:
        return [(g["first_seq"], g["last_seq"], g["missing"], g["state"])
                for g in gap_table.gaps(conn, states=("open", "closed", "lost", "void"), branch=branch)]


def mark_of(db, branch: str = B) -> int | None:
    with db.connection() as conn:
        return gap_table.watermarks(conn).get(branch, (None,))[0]


@pytest.fixture
def repair(db):
    """repair(live, **kw) → a GapRepair on the test's database, stopped (its lock released) afterwards."""
    made: list[GapRepair] = []

    def make(live: Live, **kw) -> GapRepair:
        made.append(GapRepair(db, live, **kw))
        return made[-1]
    yield make
    for gr in made:
        gr.stop()


@pytest.fixture
def offline_live():
    """A Live that never connects: its asks fail at once (HQ asks again after the back-off)."""
    live = Live("mqtt://127.0.0.1:9")
    yield live


def test_watermark_gaps_open_after_the_grace_and_close_as_events_arrive(db, repair, offline_live):
    live = offline_live
    store(db, B, [1, 2, 3, 4, 5, 8, 9, 10])
    claim(live, B, 12)
    gr = repair(live, grace_s=10)
    gr.tick(T0)
    assert mark_of(db) == 5 and gaps_of(db) == []          # within the grace: out of order, or batching
    gr.tick(T0 + 5)
    assert gaps_of(db) == []
    gr.tick(T0 + 11)
    assert gaps_of(db) == [(6, 7, 2, "open"), (11, 12, 2, "open")]   # the trailing gap from the snapshot
    assert live.gaps[B]["gaps"] == 2 and live.gaps[B]["missing"] == 4
    live.state.branch(B)                                               # the branch's row: its problem
    assert live.rows({B})[0]["problem"] == "4 events missing in 2 gaps (HQ asked the branch to resend them)"
    assert gr.snapshot()["open_gaps"] == 2 and gr.asks_sent == 1      # one ask per branch at a time
    store(db, B, [6, 7])
    gr.tick(T0 + 12)
    assert gaps_of(db)[0] == (6, 7, 2, "closed") and mark_of(db) == 10
    store(db, B, [11])
    gr.tick(T0 + 13)
    assert (12, 12, 1, "open") in gaps_of(db)
    assert live.gaps[B] == {**live.gaps[B], "gaps": 1, "missing": 1}
    # another node (or a restart) reads the same table
    other = repair(Live("mqtt://127.0.0.1:9"), grace_s=10)
    other.tick(T0 + 14)
    assert other.snapshot()["open_gaps"] == 1 and other.snapshot()["branches"][B]["list"][-1]["first_seq"] == 12
    store(db, B, [12, 13])
    gr.tick(T0 + 15)
    assert [g[3] for g in gaps_of(db)] == ["closed", "closed"] and mark_of(db) == 13
    assert B not in live.gaps and live.rows({B})[0]["problem"] is None


def test_only_branches_above_their_watermark_are_scanned(db, repair, offline_live):
    live = offline_live
    for i in range(30):
        store(db, f"s-{i}", range(1, 6))
        claim(live, f"s-{i}", 5)
    gr = repair(live, grace_s=10)
    gr.tick(T0)
    assert all(mark_of(db, f"s-{i}") == 5 for i in range(30))
    calls = []
    real = gap_table.stored_after
    try:
        gap_table.stored_after = lambda conn, branch, *a: calls.append(branch) or real(conn, branch, *a)
        gr.tick(T0 + 1)
        assert calls == []
        store(db, "s-7", [6])
        claim(live, "s-7", 6)
        gr.tick(T0 + 2)
        assert calls == ["s-7"]
    finally:
        gap_table.stored_after = real
    assert mark_of(db, "s-7") == 6


# -- asks and replies over a real broker: the test plays the branch -------------------------------
class Branch:
    """Answers HQ's resend commands as the test says."""

    def __init__(self, collectors, port: int, name: str = B) -> None:
        self.name = name
        self.col = collectors(port, [f"kiosk/{name}/cmd/#"])

    def asks(self) -> list[dict]:
        return self.col.json_on("/cmd/resend")

    def reply(self, ask: dict, *, ok: bool = True, result=None, error=None) -> None:
        doc = {"v": 1, "ts": "2026-11-23T09:00:00+08:00", "command": "resend", "ok": ok, "id": ask["id"]}
        doc.update({"result": result} if ok else {"error": error})
        self.col.publish(f"kiosk/{self.name}/reply/resend", json.dumps(doc))


@pytest.fixture
def live(broker):
    lv = Live(broker.url).start()
    wait_until(lv.ready, what="the dashboard's subscriptions")
    yield lv
    lv.stop()


def _ticks_until(gr, now, cond, what):
    wait_until(lambda: (gr.tick(now), cond())[1], what=what)


def test_lost_at_the_branch_and_the_back_off(db, repair, live, broker, collectors):
    br = Branch(collectors, broker.port)
    logged = []
    store(db, B, [1, 2, 3, 8, 9])
    claim(live, B, 9)
    gr = repair(live, grace_s=10, log_command=lambda *a: logged.append(a))
    gr.tick(T0)
    gr.tick(T0 + 10)
    wait_until(lambda: len(br.asks()) == 1, what="the resend ask")
    ask = br.asks()[0]
    assert {k: ask[k] for k in ("from_seq", "to_seq")} == {"from_seq": 4, "to_seq": 7}
    assert logged[0][1:] == ("hq", "system", B, "resend", {"from_seq": 4, "to_seq": 7}, "sent")
    # the branch pruned 4 and 5; it has 6 and 7 and sends them again
    br.reply(ask, result={"from_seq": 4, "to_seq": 7, "resent": 2, "first_kept": 6, "last_seq": 9})
    _ticks_until(gr, T0 + 11, lambda: (4, 5, 2, "lost") in gaps_of(db), "4..5 lost at the branch")
    assert (6, 7, 2, "open") in gaps_of(db)
    assert live.gaps[B]["lost"] == 2 and live.gaps[B]["gaps"] == 1
    # the back-off: 30 s after the first ask, not before
    gr.tick(T0 + 30)
    assert len(br.asks()) == 1
    gr.tick(T0 + 41)
    wait_until(lambda: len(br.asks()) == 2, what="the second ask")
    assert br.asks()[1]["from_seq"] == 6
    store(db, B, [6, 7])
    gr.tick(T0 + 42)
    assert [g[3] for g in gaps_of(db)] == ["lost", "closed"] and mark_of(db) == 9


@pytest.mark.parametrize("reply", [
    {"ok": True, "result": {"from_seq": 4, "to_seq": 7, "resent": "2", "first_kept": 1, "last_seq": 9}},
    {"ok": True, "result": {"from_seq": 4, "to_seq": 7, "resent": 0, "first_kept": 1, "last_seq": -5}},
    {"ok": True, "result": {"from_seq": 1, "to_seq": 7, "resent": 0, "first_kept": 100, "last_seq": 9}},
    {"ok": True, "result": {"from_seq": 4, "to_seq": 7, "resent": -1, "first_kept": None, "last_seq": True}},
    {"ok": True, "result": [4, 7]},
    {"ok": True, "result": None},
    {"ok": False, "error": {"code": "unknown_command", "message": "unknown command 'resend'"}},
    {"ok": False, "error": "nope"},
])
def test_hostile_replies_change_nothing_but_the_note(db, repair, live, broker, collectors, reply):
    br = Branch(collectors, broker.port)
    store(db, B, [1, 2, 3, 8, 9])
    claim(live, B, 9)
    gr = repair(live, grace_s=10)
    gr.tick(T0)
    gr.tick(T0 + 10)
    wait_until(lambda: len(br.asks()) == 1, what="the ask")
    br.reply(br.asks()[0], **{k: v for k, v in reply.items() if k != "ok"}, ok=reply["ok"])

    def answered() -> bool:   # noted on the gap, or refused at HQ's ingest boundary (then the ask times out)
        b = live.state.branches.get(B)
        refused = b is not None and any(k.startswith("reply:") for k in b.rejected)
        return refused or bool(live.gaps[B]["list"][0]["note"])
    _ticks_until(gr, T0 + 11, answered, "the reply noted or refused")
    assert gaps_of(db) == [(4, 7, 4, "open")] and mark_of(db) == 3 and gr.last_error is None
    gr.tick(T0 + 12)
    assert len(br.asks()) == 1    # the back-off holds
    gr.tick(T0 + 41)              # 30 s later: asked again, nothing else changed
    wait_until(lambda: len(br.asks()) == 2, what="the second ask")
    assert gaps_of(db) == [(4, 7, 4, "open")] and mark_of(db) == 3


def test_an_absurd_last_seq_cannot_make_hq_flood_the_branch(db, repair, live, broker, collectors):
    br = Branch(collectors, broker.port)
    store(db, B, [1, 2, 3])
    claim(live, B, 2**53)
    gr = repair(live, grace_s=10)
    gr.tick(T0)
    gr.tick(T0 + 10)
    assert gaps_of(db) == [(4, 2**53, 2**53 - 3, "open")]
    wait_until(lambda: len(br.asks()) == 1, what="the ask")
    ask = br.asks()[0]
    assert (ask["from_seq"], ask["to_seq"]) == (4, 10_003)            # 10,000 at most
    br.reply(ask, result={"from_seq": 4, "to_seq": 10_003, "resent": 0, "first_kept": 1, "last_seq": 3})
    _ticks_until(gr, T0 + 11, lambda: gaps_of(db) == [(4, 2**53, 2**53 - 3, "void")], "the claim void")
    for k in range(1, 40):                                             # 6.5 hours of passes
        gr.tick(T0 + 11 + 600 * k)
    assert len(br.asks()) == 1 and mark_of(db) == 3
    assert B in live.gaps and live.gaps[B]["gaps"] == 0
    # an honest snapshot later is believed again
    store(db, B, [4, 5])
    claim(live, B, 6)
    gr.tick(T0 + 30_000)
    gr.tick(T0 + 30_011)
    assert (6, 6, 1, "open") in gaps_of(db) and mark_of(db) == 5
    wait_until(lambda: len(br.asks()) == 2, what="the ask for 6")


def test_a_branch_that_never_answers_is_asked_less_and_less(db, repair, offline_live):
    store(db, B, [1, 3])
    claim(offline_live, B, 3)
    gr = repair(offline_live, grace_s=10)
    gr.tick(T0)
    times = []
    for s in range(10, 3600, 5):
        before = gr.asks_sent
        gr.tick(T0 + s)
        if gr.asks_sent > before:
            times.append(s)
    gaps_between = [b - a for a, b in zip(times, times[1:])]
    assert times[0] == 10 and gaps_between[:5] == [30, 60, 120, 240, 480] and max(gaps_between) <= 605
