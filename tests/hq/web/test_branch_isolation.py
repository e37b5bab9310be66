"""One branch cannot speak for another: service-level targets are kept per branch (each branch is
measured against its own), and a command's reply is taken only from the branch it was sent to.
Through a real mosquitto and the dashboard's `Live` (what `kiosk hq serve` runs)."""
from __future__ import annotations

import json
import uuid

from kiosk.hq.recorder import record_events
from kiosk.hq.web import queries
from kiosk.hq.web.live import Live
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import new_branch
from tests.kit.mqtt import Collector

DAY = "2026-11-20"


def queue_snapshot(branch: str, target_wait_s: float) -> dict:
    """A queue snapshot shaped like the kiosk's (`kiosk.engine.readmodel.snapshot`): one service A."""
    return {"v": 1, "ts": f"{DAY}T10:00:00+08:00", "branch": branch, "day": DAY, "waiting": 0, "open_counters": 1,
            "services": [{"service": "A", "name": {"zh": "综合", "en": "General"}, "waiting": 0, "priority_waiting": 0,
                          "longest_wait_s": 0.0, "estimate_s": 0.0, "ahead": 0, "target_wait_s": target_wait_s,
                          "served_today": 0, "unavailable": None}],
            "counters": [{"counter": 1, "name": {"zh": "1号窗口", "en": "Counter 1"}, "state": "open", "ticket": None,
                          "service": None, "ticket_state": None, "busy_s": None, "services": ["A"]}],
            "alert": {"level": 0, "reason": "", "code": ""}, "devices": {}}


def status(state: str) -> dict:
    return {"v": 1, "state": state, "since": f"{DAY}T09:00:00+08:00", "ts": f"{DAY}T10:00:00+08:00"}


def called(branch: str, seq: int, wait_s: float) -> dict:
    return {"v": 1, "id": uuid.uuid4().hex, "seq": seq, "type": "ticket.called", "branch": branch, "day": DAY,
            "ts": f"{DAY}T10:{seq:02d}:00+08:00", "service": "A", "counter": 1, "wait_s": wait_s}


def test_each_branch_is_measured_against_its_own_targets(hq_broker, tmp_path):
    """The finding: branch `strict` (target 60 s) published first; branch `lax` (target 600 s) was then
    measured against 60 s too — its service level showed 0.0 instead of 1.0."""
    strict, lax = new_branch("strict"), new_branch("lax")
    live = Live(hq_broker.url).start()
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        wait_until(live.ready, 30, what="the dashboard's subscriptions")
        pub.publish(f"kiosk/{strict}/queue", json.dumps(queue_snapshot(strict, 60)))
        wait_until(lambda: strict in live.targets, 10, what="the first branch's targets")
        pub.publish(f"kiosk/{lax}/queue", json.dumps(queue_snapshot(lax, 600)))
        wait_until(lambda: lax in live.targets, 10, what="the second branch's targets")
        assert live.targets[strict] == {"A": 60.0} and live.targets[lax] == {"A": 600.0}
        pub.publish(f"kiosk/{strict}/queue", json.dumps(queue_snapshot(strict, 90)))  # a new snapshot replaces
        wait_until(lambda: live.targets[strict] == {"A": 90.0}, 10, what="the first branch's new targets")
        assert live.targets[lax] == {"A": 600.0}

        db = tmp_path / "hq.db"
        targets = dict(live.targets)  # what the dashboard hands the recorder
        record_events(db, [called(strict, 1, 300), called(lax, 1, 300), called(lax, 2, 30)],
                      targets_of=lambda b: targets.get(b, {}))
        queries.ensure_schema(db)
        conn = queries.open_ro(db)
        try:
            rows = {r["branch"]: r for r in queries.compare_day(conn, DAY)}
            assert rows[strict]["service_level"] == 0.0  # 300 s against its own 90 s
            assert rows[lax]["service_level"] == 1.0  # 300 s and 30 s against its own 600 s
            assert queries.branch_day(conn, strict, DAY)["total"]["service_level"] == 0.0
            assert queries.branch_day(conn, lax, DAY)["total"]["service_level"] == 1.0
            by_service = queries.branch_day(conn, lax, DAY)["services"]
            assert [(s["service"], s["within"], s["called"]) for s in by_service] == [("A", 2, 2)]
        finally:
            conn.close()
        # a branch with no snapshot yet: the default target (600 s)
        other = {b: t for b, t in targets.items() if b != lax}
        record_events(tmp_path / "other.db", [called(lax, 1, 300)], targets_of=lambda b: other.get(b, {}))
        conn = queries.open_ro(tmp_path / "other.db")
        try:
            assert {r["branch"]: r["service_level"] for r in queries.compare_day(conn, DAY)}[lax] == 1.0
        finally:
            conn.close()
    finally:
        for b in (strict, lax):
            pub.client.publish(f"kiosk/{b}/queue", b"", qos=1, retain=True)
        pub.close()
        live.stop()


def test_hostile_targets_are_ignored_and_cannot_break_the_figures(hq_broker, tmp_path):
    branch, marker = new_branch("odd"), new_branch("marker")
    live = Live(hq_broker.url).start()
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        wait_until(live.ready, 30, what="the dashboard's subscriptions")
        snap = queue_snapshot(branch, 600)
        snap["services"] += [{"service": "B", "target_wait_s": "soon"}, {"service": "C", "target_wait_s": True},
                             {"service": "D", "target_wait_s": -5}, {"service": None, "target_wait_s": 60}, "F"]
        pub.publish(f"kiosk/{branch}/queue", json.dumps(snap))
        pub.publish(f"kiosk/{marker}/status", json.dumps(status("online")))
        wait_until(lambda: live.known(marker), 10, what="a message published after the snapshot")
        # the ingest boundary may refuse the whole snapshot; if it lets it through, only A's target counts
        assert live.targets.get(branch) in (None, {"A": 600.0}), live.targets.get(branch)
        pub.publish(f"kiosk/{branch}/queue", json.dumps(queue_snapshot(branch, 600)))
        wait_until(lambda: live.targets.get(branch) == {"A": 600.0}, 10, what="the branch's good snapshot")
        db = tmp_path / "hq.db"
        nasty = {**live.targets, "x'); DROP TABLE events; --": {"A\"]": 1.0, "NaN": float("nan")}}
        record_events(db, [called(branch, 1, 30)], targets_of=lambda b: nasty.get(b, {}))
        conn = queries.open_ro(db)
        try:
            rows = queries.compare_day(conn, DAY)
            assert [r["service_level"] for r in rows if r["branch"] == branch] == [1.0]
        finally:
            conn.close()
    finally:
        pub.client.publish(f"kiosk/{branch}/queue", b"", qos=1, retain=True)
        pub.client.publish(f"kiosk/{marker}/status", b"", qos=1, retain=True)
        pub.close()
        live.stop()


def test_a_reply_is_taken_only_from_the_branch_the_command_went_to(hq_broker):
    target, other, marker = new_branch("cmd"), new_branch("forger"), new_branch("marker")
    live = Live(hq_broker.url).start()
    logged: list[tuple[str, dict]] = []
    live.on_reply = lambda cmd_id, doc: logged.append((cmd_id, doc))
    spy = Collector(hq_broker.port, [f"kiosk/{target}/cmd/#"])
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        wait_until(live.ready, 30, what="the dashboard's subscriptions")
        cmd_id, fut = live.send(target, "ping", {})
        wait_until(lambda: spy.json_on("/cmd/ping"), 10, what="the published command")
        assert spy.json_on("/cmd/ping")[0]["id"] == cmd_id
        # another branch (which sees no commands but can guess or learn an id) answers first
        pub.publish(f"kiosk/{other}/reply/ping", json.dumps({"id": cmd_id, "ok": True, "forged": True}))
        pub.publish(f"kiosk/{marker}/status", json.dumps(status("online")))
        wait_until(lambda: live.known(marker), 10, what="a message published after the forged reply")
        assert not fut.done() and logged == []
        pub.publish(f"kiosk/{target}/reply/ping", json.dumps({"id": cmd_id, "ok": True}))
        assert fut.result(10) == {"id": cmd_id, "ok": True}
        assert logged == [(cmd_id, {"id": cmd_id, "ok": True})]
        # and once answered, the id is spent: a repeat from the right branch changes nothing
        pub.publish(f"kiosk/{target}/reply/ping", json.dumps({"id": cmd_id, "ok": False}))
        pub.publish(f"kiosk/{marker}/status", json.dumps(status("offline")))
        wait_until(lambda: not next(r for r in live.rows({marker}))["online"], 10, what="the second marker")
        assert len(logged) == 1
    finally:
        pub.client.publish(f"kiosk/{marker}/status", b"", qos=1, retain=True)
        spy.close()
        pub.close()
        live.stop()
