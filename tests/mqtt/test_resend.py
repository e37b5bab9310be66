"""HQ's ``resend`` command on the kiosk: strict arguments, the kept events published again
(same ids, in seq order), an honest answer for a range the kiosk never had or already pruned."""
from __future__ import annotations

import json

import pytest

from kiosk.mqtt import protocol as hc
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings
from tests.mqtt.test_commands import Hq, T, enc

LIMITS = hc.Limits(max_bytes=4096)


def test_resend_arguments_are_checked_strictly():
    ok = hc.validate("resend", b'{"from_seq": 5, "to_seq": 9, "id": "r1"}', LIMITS)
    assert ok.args == {"from_seq": 5, "to_seq": 9} and ok.id == "r1"
    assert hc.validate("resend", b'{"from_seq": 7}', LIMITS).args == {"from_seq": 7, "to_seq": 10_006}
    assert hc.validate("resend", enc({"from_seq": 1, "to_seq": 10_000}), LIMITS).args["to_seq"] == 10_000
    top = 2**53
    assert hc.validate("resend", enc({"from_seq": top}), LIMITS).args == {"from_seq": top, "to_seq": top}
    bad = [
        ({}, "missing_field", "from_seq"),
        ({"from_seq": 0}, "out_of_range", "from_seq"),
        ({"from_seq": -3}, "out_of_range", "from_seq"),
        ({"from_seq": 2**64}, "out_of_range", "from_seq"),
        ({"from_seq": True}, "bad_type", "from_seq"),
        ({"from_seq": 1.5}, "bad_type", "from_seq"),
        ({"from_seq": "5"}, "bad_type", "from_seq"),
        ({"from_seq": None}, "bad_type", "from_seq"),
        ({"from_seq": [1]}, "bad_type", "from_seq"),
        ({"from_seq": 5, "to_seq": 4}, "out_of_range", "to_seq"),
        ({"from_seq": 1, "to_seq": 10_001}, "out_of_range", "to_seq"),
        ({"from_seq": 5, "to_seq": 2**63}, "out_of_range", "to_seq"),
        ({"from_seq": 5, "to_seq": "9"}, "bad_type", "to_seq"),
        ({"from_seq": 5, "to_seq": False}, "bad_type", "to_seq"),
        ({"from_seq": 5, "count": 3}, "unknown_field", "count"),
    ]
    for args, code, named in bad:
        with pytest.raises(hc.CommandError) as info:
            hc.validate("resend", enc(args), LIMITS)
        assert info.value.code == code and named in info.value.message, (args, info.value.message)
    for raw in (b'{"from_seq": 1, "from_seq": 2}', b'{"from_seq": NaN}', b'[1, 2]', b'', b'{"from_seq": 1e3}'):
        with pytest.raises(hc.CommandError):
            hc.validate("resend", raw, LIMITS)


def _issue(app, n: int) -> int:
    for _ in range(n):
        app.issue("A").result()
    return app.loop.call(lambda: app.store.last_seq())


def _delivered(app, last: int) -> bool:
    return app.loop.call(lambda: app.store.undelivered_count()) == 0 and \
        app.loop.call(lambda: app.store.last_seq()) == last


def test_resend_publishes_the_kept_events_again(broker, collectors, make_kiosk):
    events = collectors(broker.port, [f"{T}/events"])
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    last = _issue(app, 6)
    wait_until(lambda: _delivered(app, last), what="every event delivered")
    wait_until(lambda: {e["seq"] for e in events.json_on("/events")} >= set(range(1, last + 1)), what="events")
    first_ids = {e["seq"]: e["id"] for e in events.json_on("/events")}
    before = len(events.json_on("/events"))
    hq = Hq(collectors, broker.port)

    r = hq.wait_reply(hq.send("resend", enc({"from_seq": 2, "to_seq": 4, "id": "g1"})))
    assert r["ok"] and r["id"] == "g1", r
    assert r["result"] == {"from_seq": 2, "to_seq": 4, "resent": 3, "first_kept": 1, "last_seq": last}
    wait_until(lambda: len(events.json_on("/events")) >= before + 3, what="the resent events")
    again = events.json_on("/events")[before:]
    assert [e["seq"] for e in again] == [2, 3, 4]  # in seq order, nothing else
    assert all(e["id"] == first_ids[e["seq"]] for e in again)  # the same events: HQ de-duplicates by id
    wait_until(lambda: _delivered(app, last), what="the resent events delivered again")
    assert app.uplink.outbox.rewinds >= 1

    # the default range: from_seq .. from_seq + 9,999, i.e. to the end here
    before = len(events.json_on("/events"))
    r = hq.wait_reply(hq.send("resend", enc({"from_seq": last})))
    assert r["result"] == {"from_seq": last, "to_seq": last + 9_999, "resent": 1, "first_kept": 1, "last_seq": last}
    wait_until(lambda: [e["seq"] for e in events.json_on("/events")[before:]] == [last], what="the last event again")


def test_resend_of_what_the_kiosk_never_had_or_pruned_is_answered_honestly(broker, collectors, make_kiosk):
    events = collectors(broker.port, [f"{T}/events"])
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    last = _issue(app, 5)
    wait_until(lambda: _delivered(app, last), what="every event delivered")
    hq = Hq(collectors, broker.port)

    r = hq.wait_reply(hq.send("resend", enc({"from_seq": last + 100, "to_seq": last + 200})))
    assert r["ok"] and r["result"] == {"from_seq": last + 100, "to_seq": last + 200, "resent": 0, "first_kept": 1,
                                       "last_seq": last}

    # housekeeping pruned the delivered events recorded before seq 4
    t4 = app.loop.call(lambda: app.store.conn.execute("SELECT t FROM outbox WHERE seq = 4").fetchone()[0])
    assert app.loop.call(lambda: app.store.prune_delivered(t4)) == 3
    n = len(events.json_on("/events"))
    r = hq.wait_reply(hq.send("resend", enc({"from_seq": 1, "to_seq": 3})))
    assert r["result"] == {"from_seq": 1, "to_seq": 3, "resent": 0, "first_kept": 4, "last_seq": last}
    r = hq.wait_reply(hq.send("resend", enc({"from_seq": 2, "to_seq": 5})))
    assert r["result"]["resent"] == 2 and r["result"]["first_kept"] == 4
    wait_until(lambda: [e["seq"] for e in events.json_on("/events")[n:]] == [4, 5], what="4 and 5 again")

    # hostile arguments over the broker change nothing
    seqs = app.loop.call(lambda: [tuple(r) for r in app.store.conn.execute(
        "SELECT seq, delivered_at IS NULL FROM outbox ORDER BY seq")])
    wait_until(lambda: _delivered(app, last), what="delivered again")
    for payload in (enc({"from_seq": 0}), enc({"from_seq": 1, "to_seq": 20_000}), enc({"from_seq": "1"}),
                    b'{"from_seq": 1, "to_seq": 0}', b"{}"):
        r = hq.wait_reply(hq.send("resend", payload))
        assert r["ok"] is False and r["error"]["code"] and r["error"]["message"], payload
    assert app.loop.call(lambda: app.store.undelivered_count()) == 0
    assert len(seqs) == last - 3
    assert json.loads(events.on("/events")[-1].payload)["seq"] == 5
