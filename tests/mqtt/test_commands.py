"""HQ commands: the pure validator under 10,000 malformed payloads from hypothesis, and the
whole path over a real broker (replies, response topic + correlation data, no change)."""
from __future__ import annotations

import json
import random
import uuid

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.mqtt import protocol as hc
from kiosk.sim.waiting import wait_until
from tests.kit.mqtt import mqtt_settings

T = "kiosk/demo-001"
LIMITS = hc.Limits(max_bytes=4096, counters=frozenset({1, 2, 3, 4}), services=frozenset({"A", "B", "V"}))
VALID = {
    "ping": {},
    "stats": {},
    "counter": {"counter": 2, "state": "open"},
    "display_message": {"text": "Counter 3 opens at 10:00", "seconds": 30},
    "service_hours": {"service": "A", "hours": ["08:30-12:00", "13:00-17:30"]},
    "issue_remote": {"service": "B"},
}
FIELDS = {"counter": ("counter", "state"), "display_message": ("text", "seconds"),
          "service_hours": ("service", "hours"), "ping": (), "stats": (), "issue_remote": ("service",)}
REQUIRED = {"counter": ("counter", "state"), "display_message": ("text",), "service_hours": ("service", "hours"),
            "issue_remote": ("service",)}

# values that are wrong for a field whatever else is in the payload
WRONG_SCALARS = st.one_of(st.none(), st.booleans(), st.floats(allow_nan=False, allow_infinity=False),
                          st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=3), st.integers(),
                                                                                max_size=2))
WRONG = {
    "counter": st.one_of(WRONG_SCALARS, st.text(max_size=5), st.integers().filter(lambda n: n not in (1, 2, 3, 4))),
    "state": st.one_of(WRONG_SCALARS, st.integers(), st.text(max_size=10).filter(
        lambda s: s not in ("open", "paused", "closed"))),
    "text": st.one_of(WRONG_SCALARS, st.integers(), st.just(""), st.just("   "), st.text(min_size=281, max_size=300),
                      st.text(min_size=1, max_size=5).map(lambda s: s + "\x07")),
    "seconds": st.one_of(WRONG_SCALARS.filter(lambda v: not isinstance(v, int) or isinstance(v, bool)),
                         st.text(max_size=4), st.integers(max_value=0), st.integers(min_value=3601)),
    "service": st.one_of(WRONG_SCALARS, st.integers(), st.text(max_size=4).filter(lambda s: s not in ("A", "B", "V"))),
    "hours": st.one_of(WRONG_SCALARS, st.just([]),
                       st.lists(st.just("08:00-09:00"), min_size=9, max_size=12),
                       st.lists(st.sampled_from(["25:00-26:00", "12:00-11:00", "8:00-9:00", "08:00", "", "x",
                                                 "08:00-24:01"]), min_size=1, max_size=3),
                       st.lists(st.integers(), min_size=1, max_size=2)),
    "id": st.one_of(st.none(), st.booleans(), st.integers(), st.just(""), st.text(min_size=65, max_size=70),
                    st.just("a\nb")),
    "v": st.one_of(st.none(), st.booleans(), st.integers().filter(lambda n: n != 1), st.text(max_size=3)),
}
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                      st.text(max_size=8))
JSON_ANY = st.one_of(JSON_LEAF, st.lists(JSON_LEAF, max_size=3),
                     st.dictionaries(st.text(max_size=5), JSON_LEAF, max_size=3))
NAMES = st.sampled_from(sorted(VALID))


def enc(obj) -> bytes:
    return json.dumps(obj).encode()


def _is_json(b: bytes) -> bool:
    try:
        json.loads(b)
        return True
    except ValueError:
        return False


# strategies built once (building them inside the composite makes hypothesis validate each anew)
KIND = st.integers(0, 9)
NOT_JSON = st.binary(max_size=40).filter(lambda b: not _is_json(b))
NOT_OBJECT = JSON_ANY.filter(lambda v: not isinstance(v, dict))
BAD_NAME = st.text(max_size=20).filter(lambda s: s not in VALID and "/" not in s)
UNKNOWN_KEY = {n: st.text(max_size=10).filter(lambda k, n=n: k not in FIELDS[n] + ("id", "v")) for n in VALID}
REQUIRED_KEY = {n: st.sampled_from(REQUIRED[n]) for n in REQUIRED}
ANY_KEY = {n: st.sampled_from(FIELDS[n] + ("id", "v")) for n in VALID}
ODD_RAW = st.sampled_from([b'{"v": NaN}', b'{"id": "a", "id": "b"}', b'{"x": Infinity}', b'\xff\xfe{}', b'',
                           b'   ', b'{"id": "\xed\xa0\x80"}'])
GARBAGE = st.binary(min_size=1, max_size=10).filter(lambda b: b.strip() != b"")


@st.composite
def malformed(draw) -> tuple[str, bytes]:
    kind = draw(KIND)
    name = draw(NAMES)
    base = dict(VALID[name])
    if kind == 0:  # not JSON at all
        return name, draw(NOT_JSON)
    if kind == 1:  # JSON, but not an object
        return name, enc(draw(NOT_OBJECT))
    if kind == 2:  # an unknown command
        return draw(BAD_NAME), enc(base)
    if kind == 3:  # an unknown field
        base[draw(UNKNOWN_KEY[name])] = draw(JSON_ANY)
        return name, enc(base)
    if kind == 4 and name in REQUIRED:  # a required field missing
        base.pop(draw(REQUIRED_KEY[name]))
        return name, enc(base)
    if kind in (4, 5, 6):  # one field with a wrong value
        key = draw(ANY_KEY[name])
        base[key] = draw(WRONG[key])
        return name, enc(base)
    if kind == 7:  # too large
        return name, b" " * (LIMITS.max_bytes + 1 - len(enc(base))) + enc(base)
    if kind == 8:  # NaN, Infinity, duplicate keys, bad UTF-8, empty
        return name, draw(ODD_RAW)
    # kind 9: a valid payload with garbage appended
    return name, enc(base) + draw(GARBAGE)


@hsettings(max_examples=1_000, deadline=None, database=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(st.lists(malformed(), min_size=10, max_size=10))
def test_10000_malformed_commands_are_rejected_by_the_validator(cases):
    """1,000 examples of 10 malformed commands each."""
    for name, payload in cases:
        with pytest.raises(hc.CommandError) as info:
            hc.validate(name, payload, LIMITS)
        err = info.value
        assert err.code and err.message
        reply = hc.reply_error(name, err.cmd_id, err.code, err.message)
        assert json.loads(hc.encode(reply))["ok"] is False


def test_valid_commands_validate():
    for name, args in VALID.items():
        cmd = hc.validate(name, enc({**args, "id": "req-1", "v": 1}), LIMITS)
        assert cmd.name == name and cmd.id == "req-1"
    assert hc.validate("display_message", b'{"text": "hi"}', LIMITS).args["seconds"] == 60


def test_error_messages_name_the_problem():
    def msg(name, payload):
        with pytest.raises(hc.CommandError) as info:
            hc.validate(name, payload, LIMITS)
        return info.value
    assert "counter" in msg("counter", b'{"counter": "2", "state": "open"}').message
    assert msg("counter", b'{"counter": 9, "state": "open"}').code == "unknown_counter"
    assert "'colour'" in msg("ping", b'{"colour": 1}').message
    assert msg("ping", b"[]").code == "not_object"
    assert msg("reboot", b"{}").code == "unknown_command"
    e = msg("counter", b'{"id": "x1", "counter": 2}')
    assert e.code == "missing_field" and "state" in e.message and e.cmd_id == "x1"
    assert msg("ping", b" " * 5000 + b"{}").code == "too_large"



def test_every_command_has_a_handler():
    from kiosk.mqtt.command_handler import HANDLERS
    assert HANDLERS.keys() == hc.SCHEMAS.keys()

# -- over the broker ------------------------------------------------------------------------------
class Hq:
    """An MQTT 5 HQ client sending commands with a response topic and correlation data."""

    def __init__(self, collectors, port: int) -> None:
        self.col = collectors(port, [f"{T}/reply/#", "hq/replies/#"])

    def send(self, name: str, payload: bytes, *, response: bool = True) -> str:
        corr = uuid.uuid4().hex
        props = None
        if response:
            props = Properties(PacketTypes.PUBLISH)
            props.ResponseTopic = "hq/replies/test"
            props.CorrelationData = corr.encode()
        self.col.client.publish(f"{T}/cmd/{name}", payload, qos=1, properties=props)
        return corr

    def reply_for(self, corr: str) -> dict | None:
        for m in list(self.col.messages):
            cd = getattr(m.properties, "CorrelationData", None)
            if cd == corr.encode():
                return json.loads(m.payload)
        return None

    def wait_reply(self, corr: str) -> dict:
        return wait_until(lambda: self.reply_for(corr), what=f"the reply to {corr}")


def _state(app) -> dict:
    snap = app.snapshot()
    snap.pop("ts", None)
    for s in snap["services"]:
        s.pop("longest_wait_s", None)
    for c in snap["counters"]:
        c.pop("busy_s", None)
    hours = app.loop.call(lambda: app.store.conn.execute("SELECT * FROM service_override").fetchall())
    return {"snap": snap, "hours": [tuple(r) for r in hours]}


def test_commands_over_the_broker(broker, collectors, make_kiosk):
    events = collectors(broker.port, [f"{T}/events"])
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = Hq(collectors, broker.port)
    wait_until(lambda: app.uplink.state["state"] == "connected")

    r = hq.wait_reply(hq.send("ping", b'{"id": "p1"}'))
    assert r["ok"] and r["id"] == "p1" and r["command"] == "ping" and r["v"] == 1 and r["result"]["pong"]

    r = hq.wait_reply(hq.send("counter", enc({"counter": 3, "state": "open"})))
    assert r["ok"] and r["result"] == {"counter": 3, "state": "open"}
    assert next(c for c in app.snapshot()["counters"] if c["counter"] == 3)["state"] == "open"

    r = hq.wait_reply(hq.send("display_message", enc({"text": "你好 HQ", "seconds": 20})))
    assert r["ok"]
    wait_until(lambda: any(e["type"] == "display.message" and e["text"] == "你好 HQ" and e["seconds"] == 20
                           for e in events.json_on("/events")), what="the display.message event")

    r = hq.wait_reply(hq.send("service_hours", enc({"service": "B", "hours": ["09:00-12:00"]})))
    assert r["ok"] and r["result"]["hours"] == ["09:00-12:00"]
    assert app.loop.call(lambda: app.engine.service_hours("B")) == ["09:00-12:00"]

    r = hq.wait_reply(hq.send("stats", b"{}"))
    assert r["ok"] and r["result"]["branch"] == "demo-001" and "services" in r["result"]

    # an engine error comes back typed: close a counter that is serving someone
    app.issue("A").result()
    app.call_next(3).result()
    r = hq.wait_reply(hq.send("counter", enc({"counter": 3, "state": "closed", "id": "c9"})))
    assert not r["ok"] and r["error"]["code"] == "illegal_state" and r["id"] == "c9"

    # without a response topic the reply goes to reply/{name}
    hq.send("ping", b'{"id": "plain"}', response=False)
    wait_until(lambda: any(m.topic == f"{T}/reply/ping" and json.loads(m.payload).get("id") == "plain"
                           for m in list(hq.col.messages)), what="reply/ping")


def test_malformed_commands_over_the_broker_change_nothing(broker, collectors, make_kiosk):
    app = make_kiosk(mqtt_settings(broker.url))
    assert app.uplink.wait_for("connected")
    hq = Hq(collectors, broker.port)
    before, last = _state(app), app.loop.call(lambda: app.store.last_seq())
    rng = random.Random(5)
    cases = []
    for i in range(150):
        name = rng.choice(sorted(VALID))
        base = dict(VALID[name])
        k = i % 6
        if k == 0:
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 30)))
            if _is_json(payload):
                payload = b"[" + payload
        elif k == 1:
            base[f"x{i}"] = i
            payload = enc(base)
        elif k == 2:
            payload = enc([base])
        elif k == 3:
            name = rng.choice(["counter", "display_message", "service_hours"])
            base = dict(VALID[name])
            base.pop(REQUIRED[name][0])
            payload = enc(base)
        elif k == 4:
            name = "counter"
            payload = enc({"counter": rng.choice([0, -1, 5, 1000, True, "1", 1.5]), "state": "open"})
        else:
            payload = b" " * 4100 + b"{}"
        cases.append((name, payload, hq.send(name, payload)))
    replies = [hq.wait_reply(corr) for _, _, corr in cases]
    assert all(r["ok"] is False and r["error"]["code"] and r["error"]["message"] for r in replies)
    assert _state(app) == before
    assert app.loop.call(lambda: app.store.last_seq()) == last


def test_commands_disabled(broker, collectors, make_kiosk):
    app = make_kiosk(mqtt_settings(broker.url, commands_enabled=False))
    assert app.uplink.wait_for("connected")
    hq = Hq(collectors, broker.port)
    before = _state(app)
    r = hq.wait_reply(hq.send("counter", enc({"counter": 1, "state": "open", "id": "z"})))
    assert not r["ok"] and r["error"]["code"] == "commands_disabled" and "switched off" in r["error"]["message"]
    assert _state(app) == before
