"""kiosk.hq.publish_decoding gives exactly what paho's own decoder gives, on every kind of
PUBLISH packet: QoS 0/1/2, MQTT 3.1.1 and 5, with and without properties, an empty topic (topic
alias), an empty payload, flags; and a malformed packet fails as paho's does."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.hq import publish_decoding

V5, V311 = MQTTProtocolVersion.MQTTv5, MQTTProtocolVersion.MQTTv311
PAHO = publish_decoding._paho_decode


def packet(topic: bytes, qos: int, payload: bytes, props: bytes | None, mid: int = 7) -> bytes:
    out = struct.pack("!H", len(topic)) + topic
    if qos:
        out += struct.pack("!H", mid)
    if props is not None:
        out += props
    return out + payload


def props_of(**kw) -> bytes:
    p = Properties(PacketTypes.PUBLISH)
    for k, v in kw.items():
        setattr(p, k, v)
    return p.pack()


def same(a, b) -> None:
    assert (a.dup, a.qos, a.retain, a.topic, a.mid, a.payload) == (b.dup, b.qos, b.retain, b.topic, b.mid, b.payload)
    assert type(a.payload) is type(b.payload) and type(a.topic) is type(b.topic)
    assert str(a.properties) == str(b.properties)
    assert (a.properties is None) == (b.properties is None)


@settings(max_examples=300, deadline=None)
@given(topic=st.binary(max_size=40), qos=st.integers(0, 2), payload=st.binary(max_size=300),
       flags=st.integers(0, 0x0F), v5=st.booleans(), with_props=st.booleans(), mid=st.integers(1, 65535))
def test_the_same_packet_as_paho_decodes(topic, qos, payload, flags, v5, with_props, mid):
    props = (props_of(ResponseTopic="a/b", CorrelationData=b"x") if with_props else b"\x00") if v5 else None
    header = 0x30 | (flags & 0x09) | (qos << 1)
    raw = packet(topic, qos, payload, props, mid)
    proto = V5 if v5 else V311
    try:
        want = PAHO(header, raw, proto)
    except Exception as exc:  # noqa: BLE001
        with pytest.raises(type(exc)):
            publish_decoding.decode_publish(header, raw, proto)
        return
    same(publish_decoding.decode_publish(header, raw, proto), want)


def test_an_event_without_properties_takes_the_short_way_and_gets_its_own_properties():
    raw = packet(b"kiosk/b1/events", 1, b'{"id":"x"}', b"\x00")
    a = publish_decoding.decode_publish(0x32, raw, V5)
    b = publish_decoding.decode_publish(0x32, raw, V5)
    same(a, PAHO(0x32, raw, V5))
    a.properties.ResponseTopic = "mine"             # one message's properties are not another's
    assert not hasattr(b.properties, "ResponseTopic") and not hasattr(publish_decoding._EMPTY, "ResponseTopic")


def test_a_truncated_packet_fails_as_in_paho():
    for raw in (b"\x00", b"\x00\x05ab", b"\x00\x02ab\x00"):
        with pytest.raises(Exception) as want:  # noqa: PT011
            PAHO(0x32, raw, V5)
        with pytest.raises(want.type):
            publish_decoding.decode_publish(0x32, raw, V5)


def test_installed_by_the_monitor():
    from kiosk.hq.monitor import HqMonitor
    HqMonitor("mqtt://127.0.0.1:9")
    assert _packet.decode_publish is publish_decoding.decode_publish
