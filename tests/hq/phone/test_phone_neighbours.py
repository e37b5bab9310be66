"""Diversion at peaks, HQ's half: each branch's nearest online neighbours (≤ 3, within 20 km,
nearest first) chosen from the branches' queue snapshots, hostile snapshots left out; and the
publisher through a real mosquitto: fake branches' retained snapshots in, each branch's retained
``hq/neighbours`` out, re-published when a neighbour's waiting changes or it goes offline."""
from __future__ import annotations

import json
import math

import pytest

from kiosk.hq.phone.neighbours import (NeighboursPublisher, haversine_km, nearest, neighbour_lists,
                                       neighbours_doc, place)
from kiosk.hq.web.live import Live
from kiosk.mqtt.hq_data import check_neighbours
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import new_branch
from tests.kit.mqtt import Collector
from tests.kit.phone_branch import PhoneBranch, now_iso

# The Bund (origin), Lujiazui 1.4 km east, People's Square 1.7 km west, Xujiahui ~7 km, Hongqiao
# ~13 km, Pudong airport ~32 km: too far.
BUND = (31.2400, 121.4900)
LUJIAZUI = (31.2397, 121.5042)
PEOPLE = (31.2328, 121.4737)
XUJIAHUI = (31.1955, 121.4370)
HONGQIAO = (31.1940, 121.3200)
AIRPORT = (31.1443, 121.8083)


def snapshot(lat, lon, *, waiting=3, name=None, services=None):
    services = services if services is not None else [
        {"service": "A", "waiting": waiting, "estimate_s": 100.0 * waiting},
        {"service": "B", "waiting": 0, "estimate_s": 0.0}]
    return {"v": 1, "ts": now_iso(), "waiting": waiting, "services": services,
            "phone": {"remote": True, "services": ["A"], "name": name or {"zh": "某网点", "en": "Some branch"},
                      "address": {"zh": "路1号", "en": "1 Road"}, "lat": lat, "lon": lon, "check_in_min": 60}}


def test_haversine_is_the_great_circle():
    assert haversine_km(*BUND, *BUND) == 0
    assert haversine_km(0, 0, 0, 1) == pytest.approx(111.19, abs=0.01)
    assert haversine_km(*BUND, *LUJIAZUI) == pytest.approx(1.35, abs=0.05)


def test_nearest_first_at_most_three_and_only_online_within_20_km():
    snaps = [("bund", snapshot(*BUND), True), ("people", snapshot(*PEOPLE, waiting=7), True),
             ("xujiahui", snapshot(*XUJIAHUI), True), ("hongqiao", snapshot(*HONGQIAO), True),
             ("lujiazui", snapshot(*LUJIAZUI, name={"zh": "陆家嘴营业厅", "en": "Lujiazui"}), True),
             ("airport", snapshot(*AIRPORT), True)]
    lists = neighbour_lists(snaps)
    got = lists["bund"]
    assert [n["branch"] for n in got] == ["lujiazui", "people", "xujiahui"]   # hongqiao is 4th
    first = got[0]
    assert first == {"branch": "lujiazui", "name": {"zh": "陆家嘴营业厅", "en": "Lujiazui"}, "km": 1.4,
                     "online": True, "waiting": 3,
                     "services": [{"service": "A", "waiting": 3, "estimate_s": 300.0},
                                  {"service": "B", "waiting": 0, "estimate_s": 0.0}]}
    assert got[1]["waiting"] == 7
    assert [n["km"] for n in got] == sorted(n["km"] for n in got)
    assert lists["airport"] == []                               # every other branch is over 20 km away
    assert "bund" not in [n["branch"] for n in lists["lujiazui"]][3:]
    # offline: left out; the next one moves up
    snaps[4] = ("lujiazui", snaps[4][1], False)
    assert [n["branch"] for n in neighbour_lists(snaps)["bund"]] == ["people", "xujiahui", "hongqiao"]


def test_a_branch_without_a_location_is_nobody_s_neighbour_and_has_none():
    no_phone = snapshot(*LUJIAZUI)
    del no_phone["phone"]
    no_place = snapshot(None, None)
    snaps = [("bund", snapshot(*BUND), True), ("lujiazui", no_phone, True), ("people", no_place, True)]
    assert neighbour_lists(snaps) == {"bund": []}


@pytest.mark.parametrize("bad", [
    {"lat": 91.0}, {"lat": float("nan")}, {"lon": "121.5"}, {"lat": True}, {"lon": 1e308},
])
def test_a_hostile_location_is_left_out(bad):
    s = snapshot(*LUJIAZUI)
    s["phone"].update(bad)
    assert neighbour_lists([("bund", snapshot(*BUND), True), ("lujiazui", s, True)]) == {"bund": []}


def test_hostile_fields_are_dropped_never_passed_on():
    s = snapshot(*LUJIAZUI, name={"zh": "x" * 5000, "en": 7}, services=[
        {"service": "A", "waiting": -1, "estimate_s": 1.0}, {"service": "<script>", "waiting": 1},
        {"service": "B", "waiting": True}, "nonsense", {"service": "C", "waiting": 2, "estimate_s": float("inf")},
        {"service": "D", "waiting": 1, "estimate_s": 60}])
    s["waiting"] = "lots"
    got = neighbour_lists([("bund", snapshot(*BUND), True), ("lujiazui", s, True)])["bund"]
    assert got == [{"branch": "lujiazui", "name": {"zh": "lujiazui", "en": "lujiazui"}, "km": 1.4, "online": True,
                    "waiting": 3, "services": [{"service": "C", "waiting": 2, "estimate_s": None},
                                               {"service": "D", "waiting": 1, "estimate_s": 60.0}]}]
    assert place("bad/branch", snapshot(*BUND), True) is None
    assert place("bund", ["not", "a", "snapshot"], True) is None
    assert neighbour_lists([("bund", None, True), ("x", 3, True)]) == {}


def test_what_is_sent_is_what_the_kiosk_accepts():
    s = snapshot(*LUJIAZUI, name={"zh": "长" * 150, "en": "bad\u0007name"}, services=[
        {"service": "VIP", "waiting": 1}, {"service": "a", "waiting": 1}, {"service": "A", "waiting": 2,
                                                                          "estimate_s": 90_000.0}])
    got = neighbour_lists([("bund", snapshot(*BUND), True), ("lujiazui", s, True)])
    n = got["bund"][0]
    assert n["name"] == {"zh": "长" * 60, "en": "长" * 60}
    assert n["services"] == [{"service": "A", "waiting": 2, "estimate_s": None}]
    for branch, neighbours in got.items():
        assert check_neighbours(json.dumps(neighbours_doc(neighbours)))["neighbours"] == neighbours


def test_one_missing_language_is_the_other():
    s = snapshot(*LUJIAZUI, name={"en": "Lujiazui"})
    assert nearest(place("bund", snapshot(*BUND), True), [place("lj", s, True)])[0]["name"] == \
        {"zh": "Lujiazui", "en": "Lujiazui"}


class FakeLive:
    """`due` alone: no broker."""


def test_published_when_changed_at_most_every_interval_and_every_period_anyway():
    p = NeighboursPublisher(FakeLive(), interval_s=30, every_s=300)
    a = [{"branch": "b", "waiting": 1}]
    b = [{"branch": "b", "waiting": 2}]
    assert p.due({"x": a}, 0) == {"x": a}
    p.sent["x"] = (a, 0)
    assert p.due({"x": a}, 10) == {} and p.due({"x": b}, 10) == {}       # changed, but too soon
    assert p.due({"x": b}, 30) == {"x": b}
    assert p.due({"x": a}, 299) == {} and p.due({"x": a}, 300) == {"x": a}
    assert p.due({}, 301) == {"x": []}                                     # it lost its location: emptied once
    p.sent["x"] = ([], 301)
    assert p.due({}, 1000) == {}
    with pytest.raises(ValueError):
        NeighboursPublisher(FakeLive(), interval_s=600, every_s=300)


def test_the_doc_is_the_contract_s():
    doc = neighbours_doc([], "2026-12-06T10:00:00+08:00")
    assert doc == {"v": 1, "ts": "2026-12-06T10:00:00+08:00", "neighbours": []}


# -- through a real mosquitto ----------------------------------------------------------------------
def publish_queue(branch: PhoneBranch, doc: dict) -> None:
    doc = {**doc, "branch": branch.branch}
    branch.client.publish(branch.topic("queue"), json.dumps(doc, ensure_ascii=False), qos=1,
                          retain=True).wait_for_publish(10)


def latest(col: Collector, branch: str) -> dict | None:
    docs = col.json_on(f"/{branch}/hq/neighbours")
    return docs[-1] if docs else None


def test_the_publisher_sends_each_branch_its_neighbours_retained(broker):
    ids = [new_branch(n) for n in ("bund", "lj", "ps", "far")]
    places = [BUND, LUJIAZUI, PEOPLE, AIRPORT]
    names = [{"zh": "外滩营业厅", "en": "The Bund"}, {"zh": "陆家嘴营业厅", "en": "Lujiazui"},
             {"zh": "人民广场营业厅", "en": "People's Square"}, {"zh": "机场营业厅", "en": "Airport"}]
    branches = [PhoneBranch(broker.port, b) for b in ids]
    live = Live(broker.url).start()
    pub = NeighboursPublisher(live, interval_s=0.5, every_s=60, tick_s=0.1, settle_s=0.3)
    col = Collector(broker.port, ["kiosk/+/hq/neighbours"])
    try:
        for b, (lat, lon), name, waiting in zip(branches, places, names, (9, 2, 5, 1)):
            b.status(True)
            publish_queue(b, snapshot(lat, lon, waiting=waiting, name=name))
        wait_until(live.ready, 20, what="HQ's subscriptions")
        wait_until(lambda: len(live.queue_snapshots()) == 4 and all(o for _, _, o in live.queue_snapshots()), 20,
                   what="HQ to see the four branches online")
        pub.start()
        wait_until(lambda: all(latest(col, b) is not None for b in ids), 20, what="every branch's neighbours")
        bund = latest(col, ids[0])
        assert check_neighbours(json.dumps(bund))["neighbours"] == bund["neighbours"]
        assert [n["branch"] for n in bund["neighbours"]] == [ids[1], ids[2]]
        assert bund["neighbours"][0]["name"] == names[1] and bund["neighbours"][0]["waiting"] == 2
        assert bund["neighbours"][0]["km"] == 1.4
        assert latest(col, ids[3])["neighbours"] == []
        assert [n["branch"] for n in latest(col, ids[1])["neighbours"]] == [ids[0], ids[2]]
        assert all(m.qos == 1 for m in col.on("/hq/neighbours"))
        # a neighbour's waiting changes; then it goes offline
        publish_queue(branches[1], snapshot(*LUJIAZUI, waiting=6, name=names[1]))
        wait_until(lambda: latest(col, ids[0])["neighbours"][0]["waiting"] == 6, 20, what="the new waiting")
        branches[1].status(False)
        wait_until(lambda: [n["branch"] for n in latest(col, ids[0])["neighbours"]] == [ids[2]], 20,
                   what="the offline neighbour to leave the list")
        count = len(col.on(f"/{ids[0]}/hq/neighbours"))
        # retained: a kiosk connecting now gets its list at once
        late = Collector(broker.port, [f"kiosk/{ids[0]}/hq/neighbours"])
        try:
            wait_until(lambda: late.on("/hq/neighbours"), 10, what="the retained message")
            m = late.on("/hq/neighbours")[0]
            assert m.retain and [n["branch"] for n in json.loads(m.payload)["neighbours"]] == [ids[2]]
        finally:
            late.close()
        assert len(col.on(f"/{ids[0]}/hq/neighbours")) == count   # nothing changed: nothing re-sent
        assert math.isclose(pub.interval_s, 0.5)
    finally:
        pub.stop()
        col.close()
        live.stop()
        for b in branches:
            b.close()
