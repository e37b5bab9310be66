"""What HQ keeps for a branch (`{branch}/hq/appointments`, `hq/neighbours`, retained), into a running
kiosk through a real mosquitto. Promises: a booking HQ published is at the kiosk when it connects,
and checks in there with the broker gone; a cancellation removes it; a hostile document changes
nothing and is named; the neighbours reach the kiosk. And the phone's pre-acceptance form rides
with a remote ticket, checked by the kiosk."""
from __future__ import annotations

import json

import pytest

from kiosk.config.settings import Settings
from kiosk.mqtt import hq_data
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings
from tests.mqtt.test_commands import T, Hq


def booking_settings(url: str) -> Settings:
    data = mqtt_settings(url).model_dump(mode="json")
    data["phone"] = {"remote": True, "appointments": {"services": ["A", "B"], "slot_min": 5, "hours": ["00:00-23:55"]}}
    return Settings.model_validate(data)


def publish(collectors, port: int, topic: str, doc) -> None:
    col = collectors(port, ["hq-test/nothing"])
    col.client.publish(topic, doc if isinstance(doc, (bytes, str)) else json.dumps(doc), qos=1, retain=True).wait_for_publish(5)


def today(app) -> str:
    """The hall's calendar date: an appointment's day (not the business day, which runs until the rollover)."""
    return app.clock.wall().astimezone(app.settings.day.tz).date().isoformat()


def stored(app) -> dict[str, str]:
    return dict(app.loop.call(lambda: app.store.conn.execute("SELECT code, state FROM appointments").fetchall()))


def test_bookings_reach_the_kiosk_and_check_in_without_hq(broker, collectors, make_kiosk, tmp_path):
    settings = booking_settings(broker.url)
    app = make_kiosk(settings)
    day = today(app)
    now = app.clock.wall().astimezone(app.settings.day.tz)
    slot = f"{now.hour:02d}:{now.minute // 5 * 5:02d}"                 # the slot that began 0–5 minutes ago
    publish(collectors, broker.port, f"{T}/hq/appointments",
            {"v": 1, "days": {day: [{"code": "12345678", "service": "A", "slot": slot},
                                    {"code": "87654321", "service": "B", "slot": slot}]}})
    assert app.uplink.wait_for("connected")
    wait_until(lambda: stored(app) == {"12345678": "booked", "87654321": "booked"}, what="the bookings at the kiosk")
    publish(collectors, broker.port, f"{T}/hq/appointments",            # one cancelled on the phone
            {"v": 1, "days": {day: [{"code": "12345678", "service": "A", "slot": slot}]}})
    wait_until(lambda: stored(app) == {"12345678": "booked"}, what="the cancellation at the kiosk")
    broker.stop()                                                       # HQ and its broker gone
    wait_until(lambda: app.uplink.state["state"] != "connected", what="the kiosk to notice")
    t = app.check_in("12345678").result(10)
    assert t["state"] == "waiting" and t["appointment"]["late"] is False


def test_hostile_documents_change_nothing_and_are_named(broker, collectors, make_kiosk):
    app = make_kiosk(booking_settings(broker.url))
    assert app.uplink.wait_for("connected")
    day = today(app)
    good = {"v": 1, "days": {day: [{"code": "12345678", "service": "A", "slot": "10:00"}]}}
    publish(collectors, broker.port, f"{T}/hq/appointments", good)
    wait_until(lambda: stored(app) == {"12345678": "booked"}, what="the good list")
    channel = app.uplink.hq_data
    for bad, field in ((b"\xff{", "payload"), (b"[]", "payload"), ({"v": 1, "days": {day: "x"}}, f"days.{day}"),
                       ({"v": 1, "days": {day: [{"code": "1234", "service": "A", "slot": "10:00"}]}}, "code"),
                       ({"v": 1, "days": {day: [{"code": "12345678", "service": "Z", "slot": "10:00"}]}}, "service"),
                       ({"v": 1, "days": {day: [{"code": "12345678", "service": "A", "slot": "25:00"}]}}, "slot"),
                       ({"v": 1, "days": {"not-a-day": []}}, "days"), ({"v": 2, "days": {}}, "v"),
                       ({"v": 1, "days": {}, "drop": "tables"}, "drop"),
                       ({"v": 1, "days": {day: [{"code": "12345678", "service": "A", "slot": "10:00",
                                                 "form": {"x": {"nested": 1}}}]}}, "form")):
        before = channel.problem
        publish(collectors, broker.port, f"{T}/hq/appointments", bad)
        wait_until(lambda: channel.problem != before, what=f"the refusal of {bad!r:.60}")
        assert field in channel.problem
        assert stored(app) == {"12345678": "booked"}
    publish(collectors, broker.port, f"{T}/hq/neighbours",
            {"v": 1, "neighbours": [{"branch": "sh-002", "name": {"zh": "陆家嘴", "en": "Lujiazui"}, "km": 1.24,
                                     "online": True, "waiting": 3,
                                     "services": [{"service": "A", "waiting": 2, "estimate_s": 240.0}]}]})
    wait_until(lambda: app.neighbours() is not None, what="the neighbours at the kiosk")
    assert app.neighbours()["neighbours"][0]["km"] == 1.2
    publish(collectors, broker.port, f"{T}/hq/neighbours", {"v": 1, "neighbours": [{"branch": "../x"}]})
    wait_until(lambda: "neighbours[0].branch" in (channel.problem or ""), what="the refused neighbours")
    assert app.neighbours()["neighbours"][0]["branch"] == "sh-002"


@pytest.mark.parametrize("doc", [{"v": 1, "days": {f"2026-01-0{i}": [] for i in range(1, 5)}},
                                 {"v": 1, "days": {"2026-01-01": [{"code": "12345678", "service": "A",
                                                                   "slot": "10:00"}] * 2}}])
def test_checker_limits(doc):
    with pytest.raises(hq_data.HqDataError):
        hq_data.check_appointments(json.dumps(doc), ["A"])


def test_a_remote_ticket_carries_the_phones_form_checked_by_the_kiosk(broker, collectors, make_kiosk):
    app = make_kiosk(booking_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = Hq(collectors, broker.port)
    r = hq.wait_reply(hq.send("issue_remote", b'{"service": "B", "form": {"document": "passport"}}'))
    assert r["ok"] is True, r
    assert '"document":"passport"' in app.ticket(r["result"]["ticket"]).result(10)["form"]
    bad = hq.wait_reply(hq.send("issue_remote", b'{"service": "B", "form": {"document": "a spaceship"}}'))
    assert bad["ok"] is False and bad["error"]["code"] == "bad_field" and "form.document" in bad["error"]["message"]
