"""A hostile branch cannot hurt HQ: malformed and malicious payloads on every branch topic,
through a real mosquitto into the real HQ pipeline (`kiosk.hq.web.live.Live`: HqMonitor +
MonitorState + Recorder, as `kiosk hq serve` wires them).

After each kind: every good branch is shown correctly (its new event counted, its new queue
snapshot applied), the recorder has every good event so far, the branch JSON renders as
`/api/branches` renders it (Starlette's JSONResponse: no NaN), both MQTT clients are still
connected, and the bad branch is marked: its `rejected` count for ``topic:code`` and its
`problem` naming the field (topics that name no valid branch are counted in the totals).

===  ============  ==========================================  ===============  ====================
 #   topic         payload                                     refused as       field
===  ============  ==========================================  ===============  ====================
 1   events        seq is a string "5"                         bad_type         seq
 2   events        wait_s in words ("five minutes")            bad_type         wait_s
 3   events        a list nested 200,000 deep, unclosed        too_deep         (payload)
 4   events        a list 200,000 deep, closed (400 KB)        too_large        (payload)
 5   events        nesting one level over the limit (13)       too_deep         x.a.a.a…
 6   events        seq 2^64                                    out_of_range     seq
 7   events        seq -1                                      out_of_range     seq
 8   events        ts is an object                             bad_type         ts
 9   events        wait_s NaN                                  not_finite       (payload)
10   events        wait_s -Infinity                            not_finite       (payload)
11   events        wait_s 1e999 (overflows to infinity)        not_finite       wait_s
12   events        reason of 100,000 characters                too_long         reason
13   events        a list of 5,000 items                       too_many         x
14   events        the payload names another branch            wrong_branch     branch
15   events        invalid UTF-8                               bad_utf8         (payload)
16   events        empty payload                               empty            (payload)
17   events        JSON that is a list                         not_object       (payload)
18   events        JSON that is a number                       not_object       (payload)
19   events        the key "id" twice                          duplicate_key    (payload)
20   events        a day in the future (2999-01-01)            future           day
21   events        a day that does not exist (2026-13-45)      bad_day          day
22   events        <script> as the event id                    bad_value        id
23   events        a NUL control character in reason           bad_char         reason
24   events        a lone surrogate (\\ud800) in a string      bad_char         ticket
25   events        300 KiB (over HQ's 256 KiB)                 too_large        (payload)
26   events        an integer of 5,000 digits                  bad_json         (payload)
27   events        no id                                       missing_field    id
28   events        markup in the event type                    bad_value        type
29   events        alert level "two"                           bad_type         level
30   events        not JSON at all                             bad_json         (payload)
31   events        "v": 2                                      bad_version      v
32   status        state "hacked"                              bad_value        state
33   status        since is an object                          bad_type         since
34   status        <img onerror> as the version                bad_value        version
35   queue         waiting "many"                              bad_type         services[0].waiting
36   queue         services is a string, not a list            bad_type         services
37   queue         a negative waiting count                    out_of_range     services[0].waiting
38   queue         longest_wait_s NaN                          not_finite       (payload)
39   queue         estimate_s 1e400                            not_finite       services[0].estimate_s
40   queue         the same service twice                      duplicate        services[1]
41   queue         the same counter twice                      duplicate        counters[1]
42   queue         <script> as a service id                    bad_value        services[0].service
43   queue         counter 0                                   out_of_range     counters[0].counter
44   queue         devices is a string                         bad_type         devices
45   queue         <script> in a device fault's kind           bad_value        devices.printer.kind
46   queue         open_counters 10^6                          out_of_range     open_counters
47   alerts        level "critical"                            bad_type         level
48   alerts        level 7                                     out_of_range     level
49   stats/hourly  hour 25                                     out_of_range     hour
50   stats/hourly  a day in the future                         future           day
51   stats/hourly  day is an object                            bad_type         day
52   reply/ping    ok is "yes"                                 bad_type         ok
53   reply/ping    JSON that is a list                         not_object       (payload)
54   topic         branch id "..": a path                      bad_topic        (totals)
55   topic         branch id of 65 characters                  bad_topic        (totals)
56   topic         branch id "<script>"                        bad_topic        (totals)
===  ============  ==========================================  ===============  ====================

Free text (a reason, a service's name) may hold markup: it is data, kept as sent and
escaped where it is shown (the last test: it reaches the branch JSON as a plain string).
A topic with MQTT wildcards cannot be published: mosquitto disconnects the client that
tries (tested below with a raw PUBLISH packet); HQ carries on.
"""
from __future__ import annotations

import json
import socket
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.responses import JSONResponse

from kiosk.hq.recorder import Recorder
from kiosk.hq.web.live import Live
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from tests.kit.hostile_payloads import CASES, TOPIC_CASES, TS, event, js, queue
from tests.kit.hq_web import new_branch
from tests.kit.mqtt import Collector


@dataclass
class Pipeline:
    broker: Broker
    live: Live
    recorder: Recorder
    pub: Collector
    good: list[str]
    good_ids: list[str]
    db: str
    last_seq: dict[str, int] = field(default_factory=dict)

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.pub.client.publish(topic, payload, qos=1, retain=retain)
        info.wait_for_publish(30)

    def row(self, branch: str) -> dict[str, Any] | None:
        return next((r for r in self.live.rows({branch})), None)

    def step_good_branches(self, n: int) -> None:
        """Every good branch: one new event and a new queue snapshot (waiting = n)."""
        for b in self.good:
            ev = event(b)
            self.good_ids.append(ev["id"])
            self.publish(f"kiosk/{b}/events", js(ev))
            self.publish(f"kiosk/{b}/queue", js(queue(b, waiting=n)), retain=True)
            self.last_seq[b] = ev["seq"]

    def good_branches_right(self, n: int) -> bool:
        for b in self.good:
            r = self.row(b)
            if not r or r["last_seq"] != self.last_seq[b] or r["waiting"] != {"A": n} or not r["online"]:
                return False
            if r["rejected"] or r["problem"]:
                return False
        return True

    def recorded_good(self) -> int:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)
        try:
            ids = set(self.good_ids)
            return sum(1 for (i,) in conn.execute("SELECT id FROM events") if i in ids)
        finally:
            conn.close()

    def server_answers(self) -> None:
        """`/api/branches` as the app renders it (JSONResponse refuses NaN), and both MQTT clients up."""
        body = JSONResponse({"rows": self.live.rows(), "totals": self.live.ingest_totals()}).body
        assert json.loads(body)["totals"]["connected"] is True
        assert self.live.monitor._thread.is_alive() and self.live.client.is_connected()


@pytest.fixture(scope="module")
def pipe(tmp_path_factory) -> Iterator[Pipeline]:
    d = tmp_path_factory.mktemp("hostile")
    broker = Broker(d / "broker").start()
    rec = live = pub = None
    try:
        rec = Recorder(d / "hq.db", batch_ms=30)
        live = Live(broker.url, recorder=rec).start()
        wait_until(live.ready, 30, what="the pipeline's subscriptions")
        pub = Collector(broker.port, ["nothing/here"])
        p = Pipeline(broker, live, rec, pub, [new_branch("good") for _ in range(3)], [], str(d / "hq.db"))
        for b in p.good:
            p.publish(f"kiosk/{b}/status", js({"v": 1, "ts": TS, "state": "online", "since": TS, "branch": b,
                                                "version": "0.1.0"}), retain=True)
        p.step_good_branches(0)
        wait_until(lambda: p.good_branches_right(0), 30, what="the good branches")
        yield p
    finally:
        if pub is not None:
            pub.close()
        if live is not None:
            live.stop()
        if rec is not None:
            rec.close()
        broker.stop()


def _then_all_is_well(p: Pipeline, n: int) -> None:
    p.step_good_branches(n)
    wait_until(lambda: p.good_branches_right(n), 30, what="every good branch shown right")
    wait_until(lambda: p.recorder.flush(1) and p.recorded_good() == len(p.good_ids), 30,
               what="every good event recorded")
    p.server_answers()


@pytest.mark.parametrize("topic, kind, build, code, field", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_a_hostile_payload_is_refused_and_hurts_no_one(pipe, topic, kind, build, code, field):  # noqa: PLR0913
    bad = new_branch("bad")
    n = CASES.index(next(c for c in CASES if c[1] == kind and c[0] == topic)) + 1
    pipe.publish(f"kiosk/{bad}/{topic}", build(bad), retain=topic in ("status", "queue", "alerts"))
    key = f"{topic.split('/')[0] if topic.startswith('reply') else topic}:{code}"
    wait_until(lambda: (pipe.row(bad) or {}).get("rejected", {}).get(key), 30, what=f"{key} counted for {bad}")
    row = pipe.row(bad)
    assert row["rejected"] == {key: 1}, row
    assert code in row["problem"] and (field is None or f"field {field!r}" in row["problem"]), row["problem"]
    assert row["events"] == 0 and row["online"] is None and row["waiting"] == {}    # nothing of it applied
    _then_all_is_well(pipe, n)
    if topic in ("status", "queue", "alerts"):
        pipe.publish(f"kiosk/{bad}/{topic}", b"", retain=True)


@pytest.mark.parametrize("kind, branch", TOPIC_CASES, ids=[c[0] for c in TOPIC_CASES])
def test_a_topic_that_names_no_branch_is_counted_and_ignored(pipe, kind, branch):
    before = pipe.live.ingest_totals()["bad_topics"]
    pipe.publish(f"kiosk/{branch}/events", js(event(branch)))
    wait_until(lambda: pipe.live.ingest_totals()["bad_topics"] > before, 30, what="the refused topic counted")
    assert not pipe.live.known(branch)
    _then_all_is_well(pipe, 100 + TOPIC_CASES.index((kind, branch)))


def _mqtt_string(s: bytes) -> bytes:
    return len(s).to_bytes(2, "big") + s


def _packet(kind: int, body: bytes) -> bytes:
    n, size = len(body), b""
    while True:
        byte, n = n % 128, n // 128
        size += bytes([byte | (128 if n else 0)])
        if not n:
            return bytes([kind]) + size + body


def test_a_wildcard_topic_gets_its_sender_disconnected(pipe):
    with socket.create_connection(("127.0.0.1", pipe.broker.port), 10) as s:
        s.sendall(_packet(0x10, _mqtt_string(b"MQTT") + b"\x04\x02\x00\x3c" + _mqtt_string(b"hostile-raw")))
        assert s.recv(4)[:1] == b"\x20"                                     # CONNACK
        s.sendall(_packet(0x30, _mqtt_string(b"kiosk/+/events") + js(event("x"))))
        s.settimeout(10)
        assert s.recv(16) == b""                                            # the broker hung up
    _then_all_is_well(pipe, 200)


def test_markup_in_free_text_is_kept_as_text(pipe):
    b = new_branch("markup")
    reason = "<script>alert('x')</script> & <b>"
    pipe.publish(f"kiosk/{b}/alerts", js({"v": 1, "level": 2, "reason": reason, "waiting": 9}), retain=True)
    wait_until(lambda: (pipe.row(b) or {}).get("alert_level") == 2, 30, what="the alert")
    body = JSONResponse({"rows": pipe.live.rows({b})}).body
    assert json.loads(body)["rows"][0]["alert_reason"] == reason and not pipe.row(b)["rejected"]
    pipe.publish(f"kiosk/{b}/alerts", b"", retain=True)


def test_a_killed_kiosk_shows_offline_even_after_every_hostile_payload(pipe, tmp_path):
    """The Last Will (retained ``offline``) of a SIGKILLed kiosk reaches the table although a
    hostile branch sent every payload of the table first (before issue 14 the first of them ended
    the state client's thread, and the killed branch stayed online on the page)."""
    from tests.kit.hq_web import branch_kiosk
    k = branch_kiosk(pipe.broker.url, tmp_path / "kiosk", new_branch("killed"))
    bad = new_branch("bad")
    try:
        wait_until(lambda: (pipe.row(k.branch) or {}).get("online") is True, 60, what="the kiosk online")
        for topic, _, build, _, _ in CASES:
            pipe.publish(f"kiosk/{bad}/{topic}", build(bad), retain=topic in ("status", "queue", "alerts"))
        k.kill()  # SIGKILL: no goodbye, the broker publishes the kiosk's Last Will
        wait_until(lambda: pipe.row(k.branch)["online"] is False, 60, what="the killed kiosk offline")
        assert sum(pipe.row(bad)["rejected"].values()) == len(CASES)
        assert not pipe.row(k.branch)["rejected"]
        pipe.server_answers()
    finally:
        k.kill()
        for topic in ("status", "queue", "alerts"):
            pipe.publish(f"kiosk/{bad}/{topic}", b"", retain=True)
