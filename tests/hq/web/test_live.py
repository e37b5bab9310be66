"""The data side: day figures from recorded events, coalesced SSE pushes, shared-subscription
ingest by several recorders, command validation before anything is published."""
from __future__ import annotations

import json
import threading
import uuid

import httpx
import pytest

from kiosk.hq.recorder import Recorder, record_events
from kiosk.hq.web import queries
from kiosk.hq.web.live import Live

from kiosk.sim.sse_client import SseStream
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import new_branch, sign_in
from tests.kit.mqtt import Collector


def _ev(branch: str, seq: int, type_: str, hour: int, **kw) -> dict:
    return {"v": 1, "id": uuid.uuid4().hex, "seq": seq, "type": type_, "branch": branch, "day": "2026-11-20",
            "ts": f"2026-11-20T{hour:02d}:{seq % 60:02d}:00+08:00", **kw}


def test_day_figures_from_recorded_events(tmp_path):
    db = tmp_path / "hq.db"
    evs = []
    s = 0

    def add(branch, type_, hour, **kw):
        nonlocal s
        s += 1
        evs.append(_ev(branch, s, type_, hour, **kw))
    for w in (60, 300, 900):  # hour 9: three calls of service A (target 600 s): two within
        add("b1", "ticket.issued", 9, service="A")
        add("b1", "ticket.called", 9, service="A", counter=1, wait_s=w)
    add("b1", "ticket.called", 10, service="V", counter=2, wait_s=200)  # V target 120 s: late
    add("b1", "ticket.noshow", 10, service="V", counter=2)
    add("b1", "ticket.finished", 10, service="A", counter=1, service_s=240)
    add("b1", "ticket.rated", 10, service="A", counter=1, score=5)
    add("b1", "ticket.rated", 10, service="A", counter=1, score=2)
    add("b2", "ticket.called", 9, service="A", counter=1, wait_s=30)
    targets = {"A": 600.0, "V": 120.0}
    assert record_events(db, evs, targets_of=lambda branch: targets) == len(evs)
    assert record_events(db, evs, targets_of=lambda branch: targets) == 0  # idempotent by id
    queries.ensure_schema(db)
    conn = queries.open_ro(db)
    try:
        d = queries.branch_day(conn, "b1", "2026-11-20")
        t = d["total"]
        assert (t["issued"], t["called"], t["noshows"], t["ratings"]) == (3, 4, 1, 2)
        assert t["mean_wait_s"] == pytest.approx((60 + 300 + 900 + 200) / 4, abs=0.1)
        assert t["service_level"] == 0.5 and t["satisfaction"] == 0.5 and t["noshow_rate"] == 0.25
        h9, h10 = d["hours"]
        assert (h9["hour"], h9["called"], h9["within"], h9["wait_max"]) == (9, 3, 2, 900)
        assert (h10["hour"], h10["service_level"]) == (10, 0.0)
        c1 = next(c for c in d["counters"] if c["counter"] == 1)
        assert (c1["served"], c1["ratings"], c1["satisfaction"], c1["service_mean_s"]) == (1, 2, 0.5, 240)
        rows = {r["branch"]: r for r in queries.compare_day(conn, "2026-11-20")}
        assert set(rows) == {"b1", "b2"} and rows["b2"]["service_level"] == 1.0
        assert queries.days(conn) == ["2026-11-20"]
        assert [e["seq"] for e in queries.recent_events(conn, "b1", 3)] == [s - 1, s - 2, s - 3]
    finally:
        conn.close()


class SseReader:
    """Reads /api/stream in a thread and keeps every (event, data) frame."""

    def __init__(self, client: httpx.Client, path: str = "/api/stream") -> None:
        self.frames: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        self._stream = SseStream(client, self._keep, path)
        self.thread = self._stream.thread

    def _keep(self, event: str, data: dict, _size: int) -> None:
        with self.lock:
            self.frames.append((event, data))

    def rows_for(self, branch: str) -> list[dict]:
        with self.lock:
            return [r for ev, d in self.frames if ev in ("rows", "full") for r in d["rows"] if r["branch"] == branch]

    def close(self) -> None:
        self._stream.close()
        assert not self.thread.is_alive()


def test_sse_pushes_are_coalesced(hq_server, hq_broker):
    branch = new_branch("burst")
    pub = Collector(hq_broker.port, ["nothing/here"])
    with hq_server.client("view") as c:
        reader = SseReader(c)
        try:
            wait_until(lambda: any(ev == "full" for ev, _ in reader.frames), what="the first full frame")
            n = 300
            for i in range(1, n + 1):
                pub.publish(f"kiosk/{branch}/events", json.dumps(_ev(branch, i, "ticket.issued", 9, service="A")))
            wait_until(lambda: any(r["last_seq"] == n for r in reader.rows_for(branch)), what="the last event")
            pushes = len(reader.rows_for(branch))
            assert pushes < n / 3, f"{pushes} pushes for {n} events: not coalesced"
            row = reader.rows_for(branch)[-1]
            assert row["events"] == n and row["duplicates"] == 0
        finally:
            reader.close()
            pub.close()


def test_shared_subscription_splits_events_but_every_server_sees_every_branch(hq_broker, tmp_path):
    branches = [new_branch("shared") for _ in range(5)]
    recs = [Recorder(tmp_path / f"r{i}.db", batch_ms=50) for i in range(2)]
    lives = [Live(hq_broker.url, shared="hqtest", recorder=r).start() for r in recs]
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        wait_until(lambda: all(lv.ready() for lv in lives), what="both recorders subscribed")
        assert lives[0].monitor.topic == "$share/hqtest/kiosk/+/events"
        for b in branches:
            pub.client.publish(f"kiosk/{b}/status", json.dumps({"v": 1, "state": "online", "since": "2026-11-23T08:00:00+08:00"}), qos=1,
                               retain=True)
        n = 0
        for i in range(40):
            for b in branches:
                n += 1
                pub.publish(f"kiosk/{b}/events", json.dumps(_ev(b, i + 1, "ticket.issued", 9)))
        wait_until(lambda: sum(r.received for r in recs) >= n, what="every event received by one recorder")
        for r in recs:
            assert r.flush()
        assert sum(r.inserted for r in recs) == n  # each event recorded once, by one of the two
        assert all(r.inserted > 0 for r in recs)  # and the load was shared
        for lv in lives:  # the state topics are not shared: both dashboards show every branch online
            wait_until(lambda lv=lv: sum(1 for row in lv.rows() if row["branch"] in branches and row["online"])
                       == len(branches), what="every branch on both servers")
    finally:
        for b in branches:
            pub.client.publish(f"kiosk/{b}/status", b"", qos=1, retain=True)
        pub.close()
        for lv in lives:
            lv.stop()
        for r in recs:
            r.close()


def test_commands_are_validated_before_publishing(hq_server, kiosks, hq_broker):
    k = kiosks()
    spy = Collector(hq_broker.port, [f"kiosk/{k.branch}/cmd/#"])
    try:
        with hq_server.client("op") as c:
            wait_until(lambda: c.get(f"/api/branch/{k.branch}").status_code == 200
                       and c.get(f"/api/branch/{k.branch}").json()["queue"], what="the branch's queue snapshot")
            base = f"/api/branch/{k.branch}/cmd"
            r = c.post(f"{base}/counter", json={"counter": 99, "state": "open"})
            assert r.status_code == 400 and r.json()["error"] == "unknown_counter"
            r = c.post(f"{base}/counter", json={"counter": 1, "state": "sleeping"})
            assert r.status_code == 400 and r.json()["error"] == "bad_value"
            r = c.post(f"{base}/self_destruct", json={})
            assert r.status_code == 400 and r.json()["error"] == "unknown_command"
            r = c.post(f"{base}/ping", content=b"[1]", headers={"content-type": "application/json"})
            assert r.status_code == 400
            r = c.post(f"{base}/ping", data={"x": "1"})
            assert r.status_code == 415  # a form post (what another site could make a browser send) is refused
            r = c.post("/api/branch/never-seen/cmd/ping", json={})
            assert r.status_code == 404
            r = c.post(f"{base}/display_message", json={"text": "请稍候 please wait", "seconds": 30})
            assert r.status_code == 200 and r.json()["status"] == "ok", r.text
        wait_until(lambda: spy.on("/cmd/display_message"), what="the published command")
        assert [m.topic.rsplit("/", 1)[1] for m in spy.messages] == ["display_message"]  # nothing invalid went out
    finally:
        spy.close()


def test_sigterm_writes_the_last_batch(hq_broker, tmp_path):
    """SIGTERM stops the web server, then MQTT, then the recorder writes what it holds."""
    import sqlite3

    from tests.kit.hq_web import Server as Server
    from tests.kit.hq_web import USERS
    from kiosk.hq.web.auth import Users
    db = tmp_path / "term.db"
    users = Users(db)
    users.add("op", *USERS["op"])
    users.close()
    server = Server(hq_broker.url, db, "--batch-ms", "60000", "--batch-events", "100000")
    branch = new_branch("term")
    pub = Collector(hq_broker.port, ["nothing/here"])
    try:
        n = 50
        for i in range(1, n + 1):
            pub.publish(f"kiosk/{branch}/events", json.dumps(_ev(branch, i, "ticket.issued", 9)))
        with server.client("op") as c:
            wait_until(lambda: c.get("/api/stats").json()["received"] >= n, what="the events in the recorder")
            assert c.get("/api/stats").json()["recorded"] == 0  # held in the batch (60 s)
    finally:
        pub.close()
        rc = server.stop()
    assert rc == 0
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM events WHERE branch = ?", (branch,)).fetchone()[0] == n
    finally:
        conn.close()


def test_open_stream_ends_when_the_user_is_removed(hq_server, hq_db, hq_broker):
    from kiosk.hq.web.auth import Users
    users = Users(hq_db)
    pub = Collector(hq_broker.port, ["nothing/here"])
    branch = new_branch("gone")
    try:
        users.add("leaver", "viewer", "leaver-password")
        with httpx.Client(base_url=hq_server.url, timeout=30) as c:
            assert sign_in(c, "leaver", "leaver-password").status_code == 303
            reader = SseReader(c)
            try:
                wait_until(lambda: any(ev == "full" for ev, _ in reader.frames), what="the first frame")
                users.remove("leaver")

                def logged_out() -> bool:  # keep the branch changing so that pushes happen
                    pub.publish(f"kiosk/{branch}/status", json.dumps({"v": 1, "state": "online", "since": "2026-11-23T08:00:00+08:00"}))
                    return any(ev == "logout" for ev, _ in reader.frames)
                wait_until(logged_out, 60, interval=0.3, what="the logout frame")
                reader.thread.join(30)
                assert not reader.thread.is_alive()  # the server ended the stream
            finally:
                reader.close()
    finally:
        pub.close()
        users.close()
