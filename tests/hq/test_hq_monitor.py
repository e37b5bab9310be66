"""The HQ monitor: branch state, de-duplication, the recorder's idempotence, CSV export, the
CLI, shared subscriptions, and a kiosk reporting to a monitor over a real broker."""
from __future__ import annotations

import argparse
import csv
import io
import json
import uuid

from kiosk.cli import hq as hq_cli
from kiosk.hq.monitor import HqMonitor
from kiosk.hq.recorder import Recorder, export_csv, record_events
from kiosk.hq.state import MonitorState
from kiosk.hq.table import render
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings


def ev(branch: str, seq: int, type_: str = "ticket.issued", **kw) -> dict:
    return {"v": 1, "id": str(uuid.uuid4()), "seq": seq, "type": type_, "ts": "2026-11-23T09:00:00+08:00",
            "branch": branch, "day": "2026-11-23", **kw}


def b(obj) -> bytes:
    return json.dumps(obj).encode()


def test_state_table_and_duplicates_counted_once(tmp_path):
    rec = Recorder(tmp_path / "hq.db", batch_ms=20)
    st = MonitorState("kiosk", rec)
    st.ingest("kiosk/b1/status", b({"v": 1, "state": "online", "since": "2026-11-23T09:00:00+08:00",
                                    "version": "0.1.0"}), now=100)
    st.ingest("kiosk/b1/queue", b({"v": 1, "waiting": 5, "open_counters": 2, "alert": {"level": 1, "reason": "x"},
                                   "services": [{"service": "A", "waiting": 3, "longest_wait_s": 120.0},
                                                {"service": "B", "waiting": 2, "longest_wait_s": 30.0}]}), now=100)
    e1, e2 = ev("b1", 1), ev("b1", 2)
    for e in (e1, e2, e1, e1):  # redeliveries
        st.ingest("kiosk/b1/events", b(e), now=101)
    st.ingest("kiosk/b2/status", b({"v": 1, "state": "offline", "since": "2026-11-23T08:00:00+08:00"}), now=101)
    st.ingest("kiosk/b2/alerts", b({"v": 1, "level": 2, "reason": "peak", "waiting": 30, "open_counters": 3}), now=101)
    st.ingest("kiosk/b2/cmd/ping", b"{}", now=101)
    st.ingest("kiosk/b2/events", b"not json", now=101)
    rows = {r["branch"]: r for r in st.snapshot(now=102)}
    assert rows["b1"]["online"] is True and rows["b1"]["waiting"] == {"A": 3, "B": 2}
    assert rows["b1"]["longest_wait_s"] == 120.0 and rows["b1"]["open_counters"] == 2
    assert rows["b1"]["events"] == 2 and rows["b1"]["duplicates"] == 2 and rows["b1"]["events_per_min"] == 2
    assert rows["b1"]["last_seq"] == 2 and rows["b1"]["alert_level"] == 1
    assert rows["b2"]["online"] is False and rows["b2"]["alert_level"] == 2 and rows["b2"]["open_counters"] == 3
    assert st.snapshot(now=200)[0]["events_per_min"] == 0
    assert st.totals()["bad"] == 1
    text = render(st.snapshot(now=102))
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["BRANCH", "STATE", "SINCE"]
    assert "b1" in lines[1] and "online" in lines[1] and "A:3 B:2" in lines[1] and "2m00s" in lines[1]
    assert "offline" in lines[2]
    assert "\x1b[31m" in render(st.snapshot(now=102), colour=True)
    rec.flush()
    assert rec.inserted == 2
    rec.close()


def test_device_faults_from_the_retained_snapshot_and_live_events():
    st = MonitorState("kiosk")
    # a monitor started late learns the open faults from the retained queue snapshot
    st.ingest("kiosk/b1/queue", b({"v": 1, "services": [], "devices": {
        "printer": {"kind": "paper_out", "reason": "paper end", "since": "2026-11-23T08:55:00+08:00"}}}), now=100)
    st.ingest("kiosk/b1/events", b(ev("b1", 7, "device.fault", device="hall-board", kind="unplugged",
                                      reason="write failed")), now=101)
    row = st.snapshot(now=102)[0]
    assert row["devices"] == {
        "hall-board": {"kind": "unplugged", "reason": "write failed", "since": "2026-11-23T09:00:00+08:00"},
        "printer": {"kind": "paper_out", "reason": "paper end", "since": "2026-11-23T08:55:00+08:00"}}
    line = render(st.snapshot(now=102)).splitlines()[1]
    assert "hall-board:unplugged printer:paper_out" in line
    assert "\x1b[33m" in render(st.snapshot(now=102), colour=True)          # a device fault: yellow
    st.ingest("kiosk/b1/queue", b({"v": 1, "services": [], "devices": "printer broken"}), now=102)   # malformed
    assert len(st.snapshot(now=102)[0]["devices"]) == 2                    # ignored: the state is kept
    st.ingest("kiosk/b1/events", b(ev("b1", 8, "device.recovered", device="printer", kind="paper_out")), now=103)
    assert list(st.snapshot(now=104)[0]["devices"]) == ["hall-board"]
    st.ingest("kiosk/b1/queue", b({"v": 1, "services": [], "devices": {}}), now=105)   # the kiosk's own view wins
    assert st.snapshot(now=106)[0]["devices"] == {}
    assert "unplugged" not in render(st.snapshot(now=106))


def test_recorder_is_idempotent_and_exports_csv(tmp_path):
    db = tmp_path / "hq.db"
    events = [ev("b1", i) for i in range(1, 51)] + [ev("b2", i) for i in range(1, 11)]
    assert record_events(db, events) == 60
    assert record_events(db, events[:30] + [events[0]]) == 0  # the same events again, and twice in one batch
    out = tmp_path / "events.csv"
    assert export_csv(db, out) == 60
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 60 and len({r["id"] for r in rows}) == 60
    assert [int(r["seq"]) for r in rows if r["branch"] == "b1"] == list(range(1, 51))
    assert json.loads(rows[0]["body"])["type"] == "ticket.issued"
    buf = io.StringIO()
    assert export_csv(db, buf, branch="b2") == 10


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk")
    sub = parser.add_subparsers(dest="command")
    hq_cli.add_parsers(sub)
    return parser


def test_cli_parsers(tmp_path, capsys):
    args = _parser().parse_args(["hq", "--broker", "mqtt://h:1", "--shared", "g", "--record", "x.db", "--once"])
    assert args.handler is hq_cli.cmd_hq and args.shared == "g" and args.once and args.record == "x.db"
    db = tmp_path / "r.db"
    record_events(db, [ev("b9", 1), ev("b9", 2)])
    args = _parser().parse_args(["hq", "export", "--db", str(db), "--out", str(tmp_path / "o.csv")])
    assert args.handler(args) == 0
    assert len((tmp_path / "o.csv").read_text().splitlines()) == 3


def test_kiosk_to_monitor_over_the_broker(broker, make_kiosk, tmp_path, capsys):
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    for i in range(6):
        app.issue("A").result()
    app.set_counter(1, "open").result()
    last = app.loop.call(lambda: app.store.last_seq())
    wait_until(lambda: app.loop.call(lambda: app.store.undelivered_count()) == 0, what="delivery")
    db = tmp_path / "hq.db"
    # the monitor starts late: status and queue are retained, events are not
    args = _parser().parse_args(["hq", "--broker", broker.url, "--once", "--wait", "0.5", "--record", str(db)])
    args.json = True
    mon_rec = Recorder(db)
    mon = HqMonitor(broker.url, recorder=mon_rec).start()
    try:
        wait_until(mon.subscribed.is_set, what="the monitor's subscription")
        wait_until(lambda: mon.state.snapshot() and mon.state.snapshot()[0]["waiting"].get("A") == 6,
                   what="the retained queue")
        for i in range(4):
            app.issue("B").result()
        wait_until(lambda: mon.state.snapshot()[0]["events"] == 4, what="4 live events")
        row = mon.state.snapshot()[0]
        assert row["branch"] == "demo-001" and row["online"] is True and row["open_counters"] == 1
        assert row["last_seq"] == last + 4
        mon_rec.flush()
        assert mon_rec.inserted == 4
    finally:
        mon.stop()
        mon_rec.close()
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["branches"][0]["branch"] == "demo-001" and out["branches"][0]["online"] is True


def test_shared_subscription_splits_the_load(broker, collectors):
    mons = [HqMonitor(broker.url, shared="hq").start() for _ in range(2)]
    try:
        for m in mons:
            wait_until(m.subscribed.is_set, what="shared subscriptions")
        pub = collectors(broker.port, ["nothing/here"])
        n = 200
        for i in range(1, n + 1):
            pub.publish("kiosk/b1/events", b(ev("b1", i)))
        wait_until(lambda: sum(m.state.totals()["events"] for m in mons) == n, what="every event once")
        counts = [m.state.totals()["events"] for m in mons]
        assert sum(counts) == n and all(c > 0 for c in counts)
    finally:
        for m in mons:
            m.stop()


# -- a hostile or broken branch (issue 14; the full table is tests/hq/test_hostile_branches.py) --------
def test_a_batch_that_fails_is_written_row_by_row(tmp_path):
    """One row SQLite refuses costs that row only: the other branches' events of the batch are kept."""
    rec = Recorder(tmp_path / "hq.db", batch_ms=10_000, batch_events=10_000)
    try:
        good = [ev(f"b{i % 3}", i) for i in range(1, 61)]
        rows = [(e["id"], e["branch"], e["seq"], e["type"], e["ts"], e["day"], json.dumps(e)) for e in good]
        rows.insert(20, ("short", "bad", 1))                                            # too few values
        rows.insert(40, ("x", "bad", 2, "ticket.issued", "\ud800", None, "{}"))        # cannot be stored as UTF-8
        for r in rows:
            rec.add(r)
        assert rec.flush()
        assert rec.inserted == 60 and rec.failed == 2
        rec.add(rows[0][:2] + (99,) + rows[0][3:])                                      # and it keeps working
        assert rec.flush() and rec.inserted == 60
    finally:
        rec.close()
    conn = __import__("sqlite3").connect(tmp_path / "hq.db")
    assert conn.execute("SELECT count(*), count(DISTINCT branch) FROM events").fetchone() == (60, 3)
    conn.close()


def test_no_exception_leaves_a_callback_and_the_monitor_keeps_running(broker, tmp_path):
    class Fragile(Recorder):
        def add_event(self, branch, ev, payload) -> None:
            if ev.seq == 2:
                raise RuntimeError("a bug in the recorder")
            super().add_event(branch, ev, payload)
    rec = Fragile(tmp_path / "hq.db", batch_ms=20)
    mon = HqMonitor(broker.url, recorder=rec).start()
    pub = __import__("tests.kit.mqtt", fromlist=["Collector"]).Collector(broker.port, ["nothing/here"])
    try:
        wait_until(mon.subscribed.is_set, what="the monitor's subscription")
        for seq in (1, 2, 3):
            pub.publish("kiosk/b1/events", b(ev("b1", seq)))
        wait_until(lambda: mon.state.snapshot() and mon.state.snapshot()[0]["last_seq"] == 3, what="the event after")
        assert mon._thread.is_alive() and mon.connected.is_set()
        assert rec.flush() and rec.inserted == 2
    finally:
        pub.close()
        mon.stop()
        rec.close()


def test_a_retained_bad_status_does_not_stop_kiosk_hq(broker, collectors, capsys):
    pub = collectors(broker.port, ["nothing/here"])
    status = {"v": 1, "state": "online", "since": "2026-11-23T09:00:00+08:00"}
    for topic, payload in (("kiosk/evil/status", b'{"v": 1, "state": "online", "since": {"$gt": 1}}'),
                           ("kiosk/evil/queue", b'{"v": 1, "services": [{"service": "A", "waiting": NaN}]}'),
                           ("kiosk/evil/alerts", b'{"v": 1, "level": "two"}'),
                           ("kiosk/good/status", b(status))):
        pub.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(10)
    args = _parser().parse_args(["hq", "--broker", broker.url, "--once", "--wait", "0.5"])
    args.json = True
    assert args.handler(args) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    rows = {r["branch"]: r for r in out["branches"]}
    assert rows["good"]["online"] is True and rows["good"]["problem"] is None
    assert rows["evil"]["online"] is None and rows["evil"]["rejected"] == {
        "status:bad_type": 1, "queue:not_finite": 1, "alerts:bad_type": 1}
    assert "field 'level'" in rows["evil"]["problem"] or "field 'since'" in rows["evil"]["problem"]
    assert out["totals"]["bad"] == 3


def test_the_sample_broker_config_drops_oversized_packets(tmp_path, collectors):
    from pathlib import Path

    from kiosk.sim.broker import Broker
    conf = (Path(__file__).resolve().parents[2] / "firmware_config/mosquitto/tls.conf").read_text()
    limit = next(line for line in conf.splitlines() if line.startswith("max_packet_size "))
    assert int(limit.split()[1]) == 262144
    broker = Broker(tmp_path / "broker", extra=limit).start()
    try:
        seen = collectors(broker.port, ["kiosk/+/events"])
        big = collectors(broker.port, ["nothing/here"])
        big.client.publish("kiosk/b1/events", b(ev("b1", 1, pad="x" * 300_000)), qos=1)
        small = collectors(broker.port, ["nothing/here"])
        small.publish("kiosk/b2/events", b(ev("b2", 1)))
        wait_until(lambda: seen.on("kiosk/b2/events"), what="the small event")
        assert not seen.on("kiosk/b1/events")
        assert "oversize" in (tmp_path / "broker/mosquitto.log").read_text().lower() or not big.client.is_connected()
    finally:
        broker.stop()
