"""Telemetry against a real mosquitto: ordered at-least-once delivery through broker outages
and kiosk kills, the Last Will, retained state, TLS, configuration errors."""
from __future__ import annotations

import json
import os

import pytest

from kiosk.sim.hq_subscriber import HqSubscriber
from kiosk.storage.store import Store, db_path
from kiosk.mqtt.client import TelemetryError, parse_url, read_password
from kiosk.mqtt.telemetry import Telemetry

from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings

BRANCH = "demo-001"
T = f"kiosk/{BRANCH}"


def seqs_of(col) -> list[int]:
    return [e["seq"] for e in col.json_on("/events")]


def issue(app, n: int) -> None:
    for i in range(n):
        app.issue("AB"[i % 2]).result()


def test_events_in_order_across_a_broker_outage(tmp_path, make_kiosk):
    # HQ's subscriber has a persistent session on a broker that keeps sessions across its restart, so
    # it gets what was published while it was reconnecting, whoever comes back first (a subscriber
    # made after the restart could miss a backlog drained before it subscribed: seen once in CI)
    broker = Broker(tmp_path / "broker", persistence=True).start()
    hq = None
    try:
        hq = HqSubscriber(broker.port, BRANCH, client_id="test-hq")
        app = make_kiosk(mqtt_settings(broker.url))
        tele = app.uplink
        assert tele.wait_for("connected")
        issue(app, 5)
        wait_until(lambda: len(hq.unique_seqs()) >= 5, what="the first events")
        broker.stop()
        wait_until(lambda: tele.state["state"] != "connected", what="the kiosk to notice the outage")
        issue(app, 40)
        last = app.loop.call(lambda: app.store.last_seq())
        assert tele.state["state"] != "connected"
        wait_until(lambda: (tele.state["backlog"] or 0) >= 40, what="the backlog on the admin screen")
        broker.start()
        wait_until(lambda: hq.unique_seqs() >= set(range(1, last + 1)), what="the backlog to drain")
        seqs = [e["seq"] for e in hq.snapshot()]
        first_seen = [s for k, s in enumerate(seqs) if s not in seqs[:k]]
        assert first_seen == list(range(1, last + 1)), "every seq, new ones in order (redeliveries aside)"
        assert hq.unique_seqs() == set(range(1, last + 1))
        wait_until(lambda: app.loop.call(lambda: app.store.undelivered_count()) == 0, what="delivery marks")
        assert all(e["v"] == 1 and e["id"] and e["branch"] == BRANCH and "t" not in e for e in hq.snapshot())
    finally:
        if hq is not None:
            hq.close()
        broker.stop()


def test_sigkill_with_undelivered_events_loses_nothing(tmp_path, collectors, kiosk_procs):
    broker = Broker(tmp_path / "broker")  # down at first: every event stays in the outbox
    try:
        settings = mqtt_settings(broker.url)
        data = tmp_path / "kiosk"
        p = kiosk_procs(settings, data, issue=30)
        line = p.wait_line("issued")
        last = int(line.split()[-1])
        p.kill()
        st = Store(db_path(data))
        assert st.undelivered_count() == last
        st.close()
        broker.start()
        col = collectors(broker.port, [f"{T}/events"])
        p2 = kiosk_procs(settings, data, issue=0)
        p2.wait_line("issued")
        wait_until(lambda: seqs_of(col) and seqs_of(col)[-1] == last, what="the backlog after the kill")
        assert seqs_of(col) == list(range(1, last + 1))
        p2.wait_line("state connected backlog 0")
    finally:
        broker.stop()


def test_last_will_on_kill_and_retained_for_late_subscriber(tmp_path, broker, collectors, kiosk_procs):
    settings = mqtt_settings(broker.url)
    p = kiosk_procs(settings, tmp_path / "kiosk", issue=3)
    p.wait_line("state connected")
    late = collectors(broker.port, [f"{T}/status", f"{T}/queue", f"{T}/alerts"])
    wait_until(lambda: late.on("/status") and late.on("/queue") and late.on("/alerts"), what="retained state")
    status = json.loads(late.on("/status")[-1].payload)
    assert late.on("/status")[-1].retain
    assert status["v"] == 1 and status["state"] == "online" and status["version"] and status["since"]
    q = json.loads(late.on("/queue")[-1].payload)
    wait_until(lambda: json.loads(late.on("/queue")[-1].payload)["waiting"] == 3 or
               [json.loads(m.payload)["waiting"] for m in late.on("/queue")][-1] == 3, what="queue of 3")
    assert q["v"] == 1 and q["branch"] == BRANCH and "services" in q
    alert = json.loads(late.on("/alerts")[-1].payload)
    assert {"level", "reason", "waiting", "open_counters"} <= alert.keys()
    p.kill()
    wait_until(lambda: json.loads(late.on("/status")[-1].payload)["state"] == "offline", what="the Last Will")
    later = collectors(broker.port, [f"{T}/status"])
    wait_until(lambda: later.on("/status"), what="retained offline")
    assert json.loads(later.on("/status")[-1].payload)["state"] == "offline"


def test_graceful_stop_says_offline(broker, collectors, make_kiosk):
    col = collectors(broker.port, [f"{T}/status"])
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    wait_until(lambda: col.json_on("/status") and col.json_on("/status")[-1]["state"] == "online")
    app.uplink.stop()
    wait_until(lambda: col.json_on("/status")[-1]["state"] == "offline", what="offline on stop")
    assert app.uplink.state["state"] == "disconnected"


def test_no_broker_runs_offline_and_keeps_outbox(tmp_path, make_kiosk):
    from kiosk.config.settings import DEFAULT_CONFIG, load_settings
    app = make_kiosk(load_settings(DEFAULT_CONFIG))
    assert app.uplink.state["state"] == "disabled"
    issue(app, 3)
    assert app.loop.call(lambda: app.store.undelivered_count()) == 3


def test_unreachable_broker_backs_off_and_reports(make_kiosk):
    from kiosk.sim.net import free_port
    app = make_kiosk(mqtt_settings(f"mqtt://127.0.0.1:{free_port()}"))
    wait_until(lambda: app.uplink.state["state"] == "disconnected" and app.uplink.state["error"],
               what="a disconnected state with an error")
    assert "cannot connect" in app.uplink.state["error"]


def test_tls_with_test_ca(tmp_path, collectors, make_kiosk, test_ca):
    b = Broker(tmp_path / "tlsbroker", tls=test_ca)
    try:
        b.start()
        col = collectors(b.port, [f"{T}/#"])
        tls = {"ca_file": test_ca["ca"], "cert_file": test_ca["client_cert"], "key_file": test_ca["client_key"]}
        app = make_kiosk(mqtt_settings(f"mqtts://127.0.0.1:{b.tls_port}", tls=tls))
        assert app.uplink.wait_for("connected"), app.uplink.state
        issue(app, 2)
        wait_until(lambda: len(col.on("/events")) >= 2, what="events over TLS")
        # the HQ monitor over TLS (its socket goes through the monitor's read buffer)
        from kiosk.config.mqtt import MqttTls
        from kiosk.hq.monitor import HqMonitor
        mon = HqMonitor(f"mqtts://127.0.0.1:{b.tls_port}", tls=MqttTls(ca_file=test_ca["ca"],
                        cert_file=test_ca["client_cert"], key_file=test_ca["client_key"])).start()
        try:
            wait_until(lambda: mon.state.snapshot() and mon.state.snapshot()[0]["online"], what="TLS monitor")
            issue(app, 3)
            wait_until(lambda: mon.state.totals()["events"] == 3, what="events at the TLS monitor")
        finally:
            mon.stop()
        # without the client certificate the broker refuses us
        app2 = make_kiosk(mqtt_settings(f"mqtts://127.0.0.1:{b.tls_port}", tls={"ca_file": test_ca["ca"]}))
        wait_until(lambda: app2.uplink.state["error"], what="a TLS error")
        assert app2.uplink.state["state"] != "connected"
    finally:
        b.stop()


def test_password_file_must_be_private(tmp_path, make_kiosk):
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    os.chmod(pw, 0o644)
    with pytest.raises(TelemetryError, match="chmod 600"):
        read_password(pw)
    os.chmod(pw, 0o600)
    assert read_password(pw) == "secret"
    app = make_kiosk(mqtt_settings("mqtt://127.0.0.1:1", username="u", password_file=str(pw)), telemetry=False)
    os.chmod(pw, 0o640)
    with pytest.raises(TelemetryError, match="group or others"):
        Telemetry(app.settings)


def test_parse_url():
    assert str(parse_url("mqtt://h")) == "mqtt://h:1883"
    assert parse_url("mqtts://h").port == 8883 and parse_url("mqtts://h").tls
    assert parse_url("mqtt://bob@h:1999").username == "bob"
    for bad in ("http://h", "mqtt://", "mqtt://u:p@h"):
        with pytest.raises(TelemetryError):
            parse_url(bad)



def test_the_kiosk_app_offers_what_the_mqtt_side_uses(tmp_path):
    """`KioskApp` has every member of `kiosk.mqtt.port.KioskPort`, methods with the same parameters."""
    import inspect

    from kiosk.app.kiosk_app import KioskApp
    from kiosk.mqtt.port import KioskPort
    app = KioskApp(mqtt_settings("mqtt://127.0.0.1:1"), tmp_path / "k")
    for name, member in vars(KioskPort).items():
        if name.startswith("_"):
            continue
        assert hasattr(app, name), f"KioskApp has no {name}"
        if inspect.isfunction(member):
            wanted = list(inspect.signature(member).parameters)[1:]
            assert list(inspect.signature(getattr(app, name)).parameters) == wanted, name


def test_stats_hourly_when_the_hour_closes(broker, collectors, make_kiosk, tmp_path):
    from datetime import datetime, timedelta, timezone

    from kiosk.app.kiosk_app import KioskApp
    from kiosk.domain.clock import FakeClock
    from kiosk.mqtt.telemetry import Telemetry
    cn = timezone(timedelta(hours=8))
    clock = FakeClock(wall=datetime(2026, 11, 23, 9, 58, tzinfo=cn), tz=cn)
    col = collectors(broker.port, [f"{T}/stats/hourly"])
    settings = mqtt_settings(broker.url)
    tele = Telemetry(settings)
    app = KioskApp(settings, tmp_path / "k", clock=clock, uplink=tele).start()
    try:
        assert tele.wait_for("connected")
        app.issue("A").result()
        wait_until(lambda: tele.hourly.hour_key is not None, what="the first hour tick")
        clock.advance(180)
        wait_until(lambda: col.json_on("/stats/hourly"), what="stats/hourly")
        s = col.json_on("/stats/hourly")[0]
        assert s["v"] == 1 and s["branch"] == BRANCH and s["hour"] == 9 and s["day"] == "2026-11-23"
    finally:
        app.stop()


class Only311Broker:
    """A tiny MQTT 3.1.1-only server: refuses an MQTT 5 CONNECT the way a 3.1.1 broker does
    (CONNACK return code 1) and acknowledges CONNECT/SUBSCRIBE/PUBLISH at level 4."""

    def __init__(self) -> None:
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.levels: list[int] = []
        self.published: list[str] = []
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import threading
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    @staticmethod
    def _read(conn, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = conn.recv(n - len(buf))
            if not chunk:
                raise ConnectionError
            buf += chunk
        return buf

    def _packet(self, conn) -> tuple[int, bytes]:
        head = self._read(conn, 1)[0]
        mult, length = 1, 0
        while True:
            byte = self._read(conn, 1)[0]
            length += (byte & 0x7F) * mult
            mult *= 128
            if not byte & 0x80:
                break
        return head, self._read(conn, length)

    def _serve(self, conn) -> None:
        try:
            with conn:
                head, body = self._packet(conn)
                level = body[6]
                self.levels.append(level)
                if level != 4:
                    conn.sendall(b"\x20\x02\x00\x01")
                    return
                conn.sendall(b"\x20\x02\x00\x00")
                while True:
                    head, body = self._packet(conn)
                    kind = head & 0xF0
                    if kind == 0x30:
                        tlen = int.from_bytes(body[:2], "big")
                        self.published.append(body[2:2 + tlen].decode())
                        if head & 0x06:
                            conn.sendall(b"\x40\x02" + body[2 + tlen:4 + tlen])
                    elif kind == 0x80:
                        conn.sendall(b"\x90\x03" + body[:2] + b"\x01")
                    elif kind == 0xC0:
                        conn.sendall(b"\xd0\x00")
                    elif kind == 0xE0:
                        return
        except (ConnectionError, OSError, IndexError):
            return

    def close(self) -> None:
        self.stopping = True
        self.sock.close()


def test_auto_protocol_falls_back_to_311(make_kiosk):
    fake = Only311Broker()
    try:
        app = make_kiosk(mqtt_settings(f"mqtt://127.0.0.1:{fake.port}"))
        assert app.uplink.wait_for("connected"), app.uplink.state
        assert app.uplink.state["protocol"] == "3.1.1"
        assert fake.levels[:2] == [5, 4]
        issue(app, 2)
        wait_until(lambda: app.loop.call(lambda: app.store.undelivered_count()) == 0, what="delivery over 3.1.1")
        assert f"{T}/status" in fake.published and fake.published.count(f"{T}/events") == 2
    finally:
        fake.close()


def test_username_and_password_file_against_the_broker(tmp_path, make_kiosk):
    import subprocess
    pwfile = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(pwfile), "demo-001", "s3cret"], check=True,
                   capture_output=True)
    b = Broker(tmp_path / "authbroker", extra=f"password_file {pwfile}")
    b.conf.write_text(b.conf.read_text().replace("allow_anonymous true", "allow_anonymous false"))
    good, bad = tmp_path / "good.pass", tmp_path / "bad.pass"
    good.write_text("s3cret\n")
    bad.write_text("wrong\n")
    for f in (good, bad):
        os.chmod(f, 0o600)
    try:
        b.start()
        app = make_kiosk(mqtt_settings(b.url, username="demo-001", password_file=str(good)))
        assert app.uplink.wait_for("connected"), app.uplink.state
        app2 = make_kiosk(mqtt_settings(b.url, username="demo-001", password_file=str(bad)))
        wait_until(lambda: app2.uplink.state["error"], what="a refusal")
        assert "refused" in app2.uplink.state["error"] and app2.uplink.state["state"] != "connected"
    finally:
        b.stop()


def test_delivered_events_are_pruned_after_retention(broker, make_kiosk, tmp_path):
    import time

    from kiosk.config.settings import Settings
    data = mqtt_settings(broker.url).model_dump(mode="json")
    data["store"]["event_retention_days"] = 0.5 / 86400  # half a second
    app = make_kiosk(Settings.model_validate(data))
    tele = app.uplink
    assert tele.wait_for("connected")
    issue(app, 4)
    wait_until(lambda: app.loop.call(lambda: app.store.undelivered_count()) == 0, what="delivery")
    broker.stop()
    wait_until(lambda: tele.state["state"] != "connected", what="the outage")
    issue(app, 2)  # undelivered: never pruned
    time.sleep(1.0)
    app.loop.call(app.housekeeping)                 # the hourly prune, now
    count = lambda: app.loop.call(lambda: app.store.conn.execute("SELECT count(*) FROM outbox").fetchone()[0])  # noqa: E731
    wait_until(lambda: count() == 2, what="the delivered events to be pruned")
    assert app.loop.call(lambda: app.store.undelivered_count()) == 2


def test_alerts_follow_alert_events(broker, collectors, make_kiosk):
    col = collectors(broker.port, [f"{T}/alerts"])
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    wait_until(lambda: col.json_on("/alerts"), what="the first alerts message")
    assert col.json_on("/alerts")[-1]["level"] == 0
    app.record_event("alert.raised", level=2, reason="12 waiting for 3 counters", code="per_counter",
             waiting=12, open_counters=3).result()
    wait_until(lambda: col.json_on("/alerts")[-1]["level"] == 2, what="alert level 2")
    a = col.json_on("/alerts")[-1]
    assert a["reason"] == "12 waiting for 3 counters" and a["waiting"] == 12 and a["open_counters"] == 3
    assert a["code"] == "per_counter" and a["since"]
    app.record_event("alert.cleared", level=0, reason="", waiting=2, open_counters=3).result()
    wait_until(lambda: col.json_on("/alerts")[-1]["level"] == 0, what="alert cleared")


def test_events_denied_by_the_acl_stay_undelivered(tmp_path, make_kiosk):
    acl = tmp_path / "acl"
    acl.write_text("pattern write kiosk/+/status\npattern write kiosk/+/queue\npattern write kiosk/+/alerts\n"
                   "pattern read kiosk/#\n")
    b = Broker(tmp_path / "aclbroker", extra=f"acl_file {acl}")
    try:
        b.start()
        app = make_kiosk(mqtt_settings(b.url))  # protocol auto: MQTT 5
        assert app.uplink.wait_for("connected")
        issue(app, 1)
        wait_until(lambda: "ACL" in (app.uplink.state["error"] or ""), what="an ACL hint in the state")
        assert app.loop.call(lambda: app.store.undelivered_count()) == 1
    finally:
        b.stop()
