"""Every hostile payload of tests/hq/test_hostile_branches.py, now against a real `kiosk hq serve`
process (through mosquitto, recording to SQLite and to PostgreSQL), all at once, in the middle
of good branches' traffic.

Afterwards: the server answers (`/api/stats`, `/api/branches`, a branch page's JSON); every
good branch is shown right (last seq, waiting, online, no problem); the database holds every
good event once; and every bad branch is marked with exactly its refusal (`topic:code`) and a
problem naming the field; topics that name no valid branch are counted, and no such branch
appears.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.hq.db import open_db
from kiosk.sim.broker import Broker
from kiosk.sim.waiting import wait_until
from tests.kit.hostile_payloads import CASES, TOPIC_CASES, TS, event, js, queue
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.mqtt import Collector

GOOD = 4
ROUNDS = 3
RETAINED = ("status", "queue", "alerts")


@pytest.fixture(params=["sqlite", "postgres"])
def served(request, tmp_path) -> Iterator[tuple[Broker, Server, str]]:
    target = str(tmp_path / "hq.db") if request.param == "sqlite" else request.getfixturevalue("pg_url")
    add_users(target)
    broker = Broker(tmp_path / "broker").start()
    server = None
    try:
        server = Server(broker.url, target, logdir=tmp_path)
        yield broker, server, target
    finally:
        if server is not None:
            server.stop()
        broker.stop()


def _stored_ids(target: str, branches: list[str]) -> list[str]:
    db = open_db(target)
    try:
        with db.connection() as c:
            marks = ",".join("?" * len(branches))
            return [r[0] for r in c.execute(f"SELECT id FROM events WHERE branch IN ({marks})", branches)]
    finally:
        db.close()


def test_every_hostile_payload_against_the_server_process(served, tmp_path: Path):
    broker, server, target = served
    pub = Collector(broker.port, ["nothing/here"])
    good = [new_branch("good") for _ in range(GOOD)]
    good_ids: list[str] = []
    last_seq: dict[str, int] = {}

    def publish(topic: str, payload: bytes, retain: bool = False) -> None:
        pub.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(30)

    def good_round(n: int) -> None:
        for b in good:
            ev = event(b)
            good_ids.append(ev["id"])
            last_seq[b] = ev["seq"]
            publish(f"kiosk/{b}/events", js(ev))
            publish(f"kiosk/{b}/queue", js(queue(b, waiting=n)), retain=True)

    bad: dict[str, tuple[str, str, str | None]] = {}
    try:
        for b in good:
            publish(f"kiosk/{b}/status", js({"v": 1, "ts": TS, "state": "online", "since": TS, "branch": b,
                                             "version": "0.1.0"}), retain=True)
        for r in range(ROUNDS):
            good_round(r)
            for topic, kind, build, code, field in CASES:
                b = new_branch("bad")
                key = f"{'reply' if topic.startswith('reply') else topic}:{code}"
                bad[b] = (key, code, field)
                publish(f"kiosk/{b}/{topic}", build(b), retain=topic in RETAINED)
            for _, branch in TOPIC_CASES:
                publish(f"kiosk/{branch}/events", js(event(branch)))
        good_round(ROUNDS)

        with server.client("view") as c:
            def rows() -> dict[str, dict]:
                return {r["branch"]: r for r in c.get("/api/branches").json()["rows"]}

            def good_right() -> bool:
                rs = rows()
                return all(b in rs and rs[b]["last_seq"] == last_seq[b] and rs[b]["waiting"] == {"A": ROUNDS}
                           and rs[b]["online"] is True and not rs[b]["rejected"] and not rs[b]["problem"]
                           for b in good)
            wait_until(good_right, 60, what="every good branch shown right by the server")
            wait_until(lambda: all(rows().get(b, {}).get("rejected") for b in bad), 60,
                       what="every bad branch marked")
            rs = rows()
            wrong = []
            for b, (key, code, field) in bad.items():
                r = rs[b]
                if r["rejected"] != {key: 1}:
                    wrong.append(f"{b}: rejected {r['rejected']}, expected {{{key}: 1}}")
                elif code not in (r["problem"] or "") or (field is not None and f"field {field!r}" not in r["problem"]):
                    wrong.append(f"{b}: problem {r['problem']!r} does not name {code}/{field}")
                elif r["events"] != 0:
                    wrong.append(f"{b}: {r['events']} events counted from a refused payload")
            assert not wrong, "\n".join(wrong)
            assert not any(branch in rs for _, branch in TOPIC_CASES)
            stats = c.get("/api/stats").json()
            assert stats["connected"] is True and stats["bad_topics"] >= len(TOPIC_CASES) * ROUNDS, stats
            assert stats["bad"] >= len(bad) + len(TOPIC_CASES) * ROUNDS, stats
            detail = c.get(f"/api/branch/{good[0]}")
            assert detail.status_code == 200 and detail.json()["row"]["last_seq"] == last_seq[good[0]]

        wait_until(lambda: sorted(_stored_ids(target, good)) == sorted(good_ids), 60,
                   what="every good event stored once")
        assert _stored_ids(target, list(bad)) == []
        assert server.proc.poll() is None
    finally:
        for b, (key, _, _) in bad.items():
            if key.split(":")[0] in RETAINED:
                publish(f"kiosk/{b}/{key.split(':')[0]}", b"", retain=True)
        pub.close()
