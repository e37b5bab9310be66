"""`HqDataChannel`: what HQ keeps for this branch (``{branch}/hq/+``, retained) into the kiosk.

Each message is checked (`kiosk.mqtt.hq_data`) and handed to the kiosk: the appointments to its
store (the core thread), the neighbours to its memory. A refused one is logged with the field and
changes nothing; the last refusal is kept for the status (`problem`).
"""
from __future__ import annotations

import logging

import paho.mqtt.client as mqtt

from kiosk.mqtt import hq_data
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.topics import Topics

log = logging.getLogger(__name__)


class HqDataChannel:
    def __init__(self, app: KioskPort, link: BrokerLink, topics: Topics) -> None:
        self.app = app
        self.link = link
        self.topics = topics
        self.problem: str | None = None
        self.applied = 0

    def subscribe(self) -> None:
        self.link.subscribe(self.topics.hq_data)

    def on_message(self, msg: mqtt.MQTTMessage) -> bool:
        """True when the message was one of ours (telemetry thread)."""
        name = self.topics.hq_data_name(msg.topic)
        if name is None:
            return False
        try:
            if name == "appointments":
                services = [s.prefix for s in self.app.settings.services]
                days = hq_data.check_appointments(msg.payload, services)
                self.app.store_appointments(days).add_done_callback(self._done)
            elif name == "neighbours":
                self.app.set_neighbours(hq_data.check_neighbours(msg.payload))
                self.applied += 1
            else:
                raise hq_data.HqDataError("topic", f"unknown HQ data {name[:32]!r}")
        except hq_data.HqDataError as exc:
            self.problem = f"hq/{name[:32]}: {exc}"
            log.warning("HQ data refused: %s", self.problem)
        return True

    def _done(self, fut) -> None:  # noqa: ANN001 — a Future of the core thread
        exc = fut.exception()
        if exc is None:
            self.applied += 1
        else:
            self.problem = f"hq/appointments: {exc}"
            log.warning("storing HQ's appointments failed: %s", exc)
