"""A cheaper decoding of MQTT 5 PUBLISH packets that carry no properties (every kiosk event).

paho 2.x builds a full `Properties` object for every MQTT 5 PUBLISH — its ``__init__`` fills two
dictionaries of every property name, ``unpack`` clears them all again — about 10 µs of the
≈ 100 µs an HQ node spends on an event (bench.hq_scale under py-spy). `install()` wraps paho's
``decode_publish``: a QoS 1/2 packet with a topic and a zero properties length gets a shallow copy
of one empty `Properties` (the same value paho would build), every other packet goes to paho's
own decoder unchanged. The result is the same `PublishPacket` (tests/hq/test_publish_decoding.py
compares the two on every kind of packet). Installed once per process, by `HqMonitor`.
"""
from __future__ import annotations

import copy
import threading
from typing import Any

from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_lock = threading.Lock()
_paho_decode = _packet.decode_publish
_EMPTY = Properties(PacketTypes.PUBLISH)


def decode_publish(header: int, packet: bytes | bytearray, protocol: Any) -> Any:
    """paho's ``decode_publish``, without building a `Properties` for a packet that has none."""
    if protocol == MQTTProtocolVersion.MQTTv5 and header & 0x06 and len(packet) > 5:
        slen = (packet[0] << 8) | packet[1]
        at = 4 + slen                                   # topic length, topic, packet id
        if slen and len(packet) > at and packet[at] == 0:
            return _packet.PublishPacket(dup=bool(header & 0x08), qos=(header & 0x06) >> 1, retain=bool(header & 0x01),
                                         topic=bytes(packet[2:2 + slen]), mid=(packet[2 + slen] << 8) | packet[3 + slen],
                                         properties=copy.copy(_EMPTY), payload=bytes(packet[at + 1:]))
    return _paho_decode(header, packet, protocol)


def install() -> None:
    """Use `decode_publish` in paho from now on (idempotent)."""
    with _lock:
        if _packet.decode_publish is not decode_publish:
            _packet.decode_publish = decode_publish
