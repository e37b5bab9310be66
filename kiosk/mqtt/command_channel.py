"""`CommandChannel`: HQ commands in over MQTT, replies out.

Subscribes to ``{branch}/cmd/+``; each message is validated (`kiosk.mqtt.protocol`), run on
the kiosk (`kiosk.mqtt.command_handler`) and answered on the MQTT 5 response topic with
the correlation data, or on ``{branch}/reply/{name}``. A retained command, a command while
``mqtt.commands_enabled`` is off, and an invalid one are answered with an error and
change nothing. Replies are computed on the core thread and published by the telemetry
thread (`send_replies`); their ``ts`` is the hall's local time with its offset, as the events'.
"""
from __future__ import annotations

import logging
import queue
from concurrent.futures import Future
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from kiosk.mqtt import command_handler, protocol
from kiosk.mqtt.connection import BrokerLink
from kiosk.mqtt.port import KioskPort
from kiosk.mqtt.topics import Topics, iso_ts

log = logging.getLogger(__name__)

Reply = tuple[str, Properties | None, dict[str, Any]]


class CommandChannel:
    """Takes HQ commands from the broker and sends back their replies."""

    def __init__(self, app: KioskPort, link: BrokerLink, topics: Topics, limits: protocol.Limits, *,
                 enabled: bool) -> None:
        self.app = app
        self.link = link
        self.topics = topics
        self.limits = limits
        self.enabled = enabled
        self._replies: queue.SimpleQueue[Reply] = queue.SimpleQueue()

    def subscribe(self) -> None:
        """A new connection: subscribe to this branch's commands."""
        self.link.subscribe(self.topics.commands)

    def on_message(self, msg: mqtt.MQTTMessage) -> None:
        """A message on the connection (telemetry thread, inside the client's loop)."""
        name = self.topics.command_name(msg.topic)
        if name is None:
            return
        topic, props = self._reply_route(name, msg)
        if msg.retain:
            self._reply(topic, props, protocol.reply_error(name, None, "retained",
                        "retained commands are ignored: publish commands without the retain flag", self._ts()))
            return
        if not self.enabled:
            self._reply(topic, props, protocol.reply_error(name, None, "commands_disabled",
                        "HQ commands are switched off on this kiosk (mqtt.commands_enabled = false)", self._ts()))
            return
        try:
            cmd = protocol.validate(name, msg.payload, self.limits)
        except protocol.CommandError as exc:
            log.info("HQ command %r rejected: %s", name[:64], exc.message)
            self._reply(topic, props, protocol.reply_error(name, exc.cmd_id, exc.code, exc.message, self._ts()))
            return
        log.info("HQ command %s %s", cmd.name, cmd.args)

        def done(fut: Future) -> None:  # runs on the core thread
            exc = fut.exception()
            if exc is None:
                payload = protocol.reply_ok(cmd.name, cmd.id, fut.result(), self._ts())
            else:
                code, message = command_handler.error_of(exc)
                payload = protocol.reply_error(cmd.name, cmd.id, code, message, self._ts())
            self._replies.put((topic, props, payload))
        command_handler.dispatch(cmd, self.app).add_done_callback(done)

    def send_replies(self) -> None:
        """Publish the replies of the commands that finished (telemetry thread)."""
        while True:
            try:
                topic, props, payload = self._replies.get_nowait()
            except queue.Empty:
                return
            self._reply(topic, props, payload)

    def _ts(self) -> str:
        """A reply's ``ts``: the hall's clock, where the events get theirs."""
        return iso_ts(self.app.clock.wall())

    def _reply_route(self, name: str, msg: mqtt.MQTTMessage) -> tuple[str, Properties | None]:
        """The MQTT 5 response topic and correlation data, else ``reply/{name}``."""
        topic = self.topics.reply(name)
        props = None
        mprops = getattr(msg, "properties", None)
        if self.link.v5 and mprops is not None:
            rt = getattr(mprops, "ResponseTopic", None)
            if isinstance(rt, str) and rt and not any(c in rt for c in "+#\0") and len(rt) < 1024:
                topic = rt
            cd = getattr(mprops, "CorrelationData", None)
            if cd is not None:
                props = Properties(PacketTypes.PUBLISH)
                props.CorrelationData = bytes(cd)
        return topic, props

    def _reply(self, topic: str, props: Properties | None, payload: dict[str, Any]) -> None:
        if self.link.client is None:
            log.info("reply to %s dropped: not connected", topic)
            return
        self.link.publish(topic, protocol.encode(payload), properties=props)
