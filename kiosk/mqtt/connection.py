"""`BrokerLink`: the kiosk's one connection to the broker, and its state for the admin screen.

Each connection is a fresh paho client (callback API 2) with TLS, credentials and the Last
Will set. MQTT 5 first; with ``mqtt.protocol = "auto"`` a broker that refuses MQTT 5 is
tried again with 3.1.1, which is kept from then on. A failed attempt or a lost connection
waits with exponential back-off (``reconnect_min_s`` → ``reconnect_max_s``, ±20 % jitter).
The client is driven with ``loop()`` by the telemetry thread, so every paho callback runs
there too; acknowledgements and messages are handed to the callbacks given to `connect`.
"""
from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.config.mqtt import MqttConfig
from kiosk.domain.clock import Clock
from kiosk.mqtt.client import BrokerUrl, TelemetryError, check_tls, make_client, read_password
from kiosk.mqtt.topics import iso_ts

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0
LOOP_TIMEOUT_S = 0.05
IDLE_WAIT_S = 0.5

AckHandler = Callable[[int, ReasonCode], bool]
"""Called with (mid, reason code) for each PUBACK; True when the message was its own."""
MessageHandler = Callable[[mqtt.MQTTMessage], None]


def describe_rc(rc: Any) -> str:
    """paho's words for an error code."""
    try:
        return mqtt.error_string(rc)
    except Exception:  # noqa: BLE001 — an unknown code is shown as it is
        return str(rc)


class BrokerLink:
    """Connects, reconnects with back-off, and reports {"state", "since", "error", "broker",
    "protocol"}. Checks the TLS files and the password file at construction."""

    def __init__(self, cfg: MqttConfig, broker: BrokerUrl, client_id: str, *, enabled: bool) -> None:
        check_tls(cfg.tls)
        self.password = read_password(cfg.password_file) if cfg.password_file else None
        if self.password is not None and not (cfg.username or broker.username):
            raise TelemetryError("mqtt.password_file is set but mqtt.username is not")
        self.cfg = cfg
        self.broker = broker
        self.client_id = client_id
        self.v5 = cfg.protocol != "3.1.1"
        self.client: mqtt.Client | None = None
        self.lost = False  # the broker or the network closed the connection (on_disconnect)
        self.receive_maximum: int | None = None  # the broker's MQTT 5 Receive Maximum, if it sent one
        self._clock: Clock | None = None
        self._state: dict[str, Any] = {"state": "disabled" if not enabled else "disconnected", "since": None,
                                       "error": None, "broker": str(broker), "protocol": None}
        self._connack: ReasonCode | None = None
        self._backoff = cfg.reconnect_min_s
        self._next_attempt = 0.0
        self._awaited: dict[int, bool] = {}  # mid → acknowledged, for `publish(await_ack=True)`

    # -- state ------------------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        return dict(self._state)

    def start(self, clock: Clock, since: str) -> None:
        """Time-stamp the state with `clock` from now on (`since`: the kiosk's start)."""
        self._clock = clock
        self._state = {**self._state, "since": since}

    def _set_state(self, state: str, error: str | None = None, **extra: Any) -> None:
        new = dict(self._state)
        if state != new["state"]:
            new["since"] = iso_ts(self._clock.wall()) if self._clock is not None else None
        new["state"] = state
        if error is not None:
            new["error"] = error
        new.update(extra)
        self._state = new

    # -- connecting -------------------------------------------------------------------------------
    def due(self, now: float) -> bool:
        """True when the next connection attempt may start."""
        return now >= self._next_attempt

    def idle(self, wake: threading.Event, now: float) -> None:
        """Wait (at most until the next attempt is due, or `wake` is set) while disconnected."""
        wake.wait(min(IDLE_WAIT_S, self._next_attempt - now))
        wake.clear()

    def connect(self, will: tuple[str, str], on_ack: AckHandler, on_message: MessageHandler,
                stop: threading.Event) -> bool:
        """Connect with `will` (topic, payload) as the retained Last Will. True once the CONNACK
        accepted us (`client` is then set); else the error is in the state and a retry is scheduled."""
        v5 = self.v5
        self._set_state("connecting", protocol="5" if v5 else "3.1.1")
        err, reached = self._try_connect(v5, will, on_ack, on_message, stop)
        if err is None:
            return True
        if v5 and reached and self.cfg.protocol == "auto":
            log.info("MQTT 5 refused by %s (%s): trying MQTT 3.1.1", self.broker, err)
            self._set_state("connecting", protocol="3.1.1")
            err2, _ = self._try_connect(False, will, on_ack, on_message, stop)
            if err2 is None:
                return True
            err = f"{err}; MQTT 3.1.1: {err2}"
        self._fail(err)
        return False

    def _try_connect(self, v5: bool, will: tuple[str, str], on_ack: AckHandler, on_message: MessageHandler,
                     stop: threading.Event) -> tuple[str | None, bool]:
        """Connect and wait for the CONNACK. (None, True) on success, else (error, reached)
        where `reached` says the TCP (and TLS) connection was made."""
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        # max_inflight=0: paho does not limit (the outbox drain caps in-flight events itself, and
        # paho's own limit costs a scan of every unacknowledged message on each PUBACK)
        client = make_client(self.client_id, proto, self.broker, tls=self.cfg.tls, username=self.cfg.username,
                             password=self.password, max_inflight=0)
        client.will_set(will[0], will[1], qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish(on_ack)
        client.on_message = lambda _client, _userdata, msg: on_message(msg)
        self._connack = None
        self.receive_maximum = None
        self.lost = False
        self._awaited.clear()
        try:
            kwargs: dict[str, Any] = {}
            if v5:
                kwargs["clean_start"] = True
            client.connect(self.broker.host, self.broker.port, self.cfg.keepalive_s, **kwargs)
        except ssl.SSLError as exc:
            return f"TLS: {exc}", False
        except (OSError, ValueError) as exc:
            return f"cannot connect to {self.broker}: {exc}", False
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while self._connack is None and not self.lost and not stop.is_set():
            if time.monotonic() > deadline:
                _close(client)
                return "no CONNACK from the broker", True
            try:
                rc = client.loop(0.1)
            except Exception as exc:  # noqa: BLE001 — e.g. a 3.1.1 CONNACK decoded as MQTT 5
                _close(client)
                return f"bad CONNACK: {exc}", True
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and self._connack is None:
                _close(client)
                return f"connection closed before CONNACK ({describe_rc(rc)})", True
        if stop.is_set() and self._connack is None:
            _close(client)
            return "stopping", False
        if self._connack is None or getattr(self._connack, "is_failure", True):
            _close(client)
            return f"broker refused the connection: {self._connack}", True
        self.client = client
        self.v5 = v5  # auto: once 3.1.1 worked, stay with it
        return None, True

    def reset_backoff(self) -> None:
        """The next failure waits the shortest time again."""
        self._backoff = self.cfg.reconnect_min_s

    def mark_connected(self) -> None:
        """The session is set up (status published, commands subscribed): say so."""
        self._set_state("connected", error=None, protocol="5" if self.v5 else "3.1.1")
        self._state["error"] = None
        log.info("MQTT connected to %s (MQTT %s)", self.broker, self._state["protocol"])

    def _fail(self, err: str) -> None:
        delay = min(self._backoff, self.cfg.reconnect_max_s) * random.uniform(0.8, 1.2)
        self._next_attempt = time.monotonic() + delay
        self._backoff = min(self._backoff * 2, self.cfg.reconnect_max_s)
        log.warning("MQTT %s; retrying in %.1f s", err, delay)
        self._set_state("disconnected", error=err)

    def give_up(self, err: str) -> None:
        """The telemetry cannot run at all (e.g. no database): report it, try no more."""
        self._set_state("disconnected", error=err)

    def drop(self, err: str | None) -> None:
        """Close the connection without DISCONNECT (the broker publishes the Last Will) and
        schedule the next attempt."""
        client, self.client = self.client, None
        if client is not None:
            _close(client)
        self._fail(err or "connection lost")

    # -- connected ----------------------------------------------------------------------------------
    def pump(self, timeout: float = LOOP_TIMEOUT_S) -> str | None:
        """Run paho's loop once. None while the connection is fine, else why not ("" when
        the broker closed it without a reason)."""
        assert self.client is not None
        rc = self.client.loop(timeout)
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            return describe_rc(rc)
        return "" if self.lost else None

    def publish(self, topic: str, payload: str | bytes, *, retain: bool = False,
                properties: Properties | None = None, await_ack: bool = False) -> mqtt.MQTTMessageInfo:
        """Publish at QoS 1 on the current connection; `await_ack`: `acknowledged(mid)` tells when
        the broker's PUBACK is in."""
        assert self.client is not None
        info = self.client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        if await_ack:
            self._awaited[info.mid] = False
        return info

    def acknowledged(self, mid: int) -> bool:
        return self._awaited.get(mid, False)

    def subscribe(self, topic: str) -> None:
        assert self.client is not None
        self.client.subscribe(topic, qos=1)

    def disconnect(self) -> None:
        """Say DISCONNECT: the broker drops the Last Will."""
        assert self.client is not None
        self.client.disconnect()
        self.client.loop(0.1)

    def closed(self) -> None:
        """Forget the client after a shutdown and report disconnected."""
        self.client = None
        self._set_state("disconnected", error=None)

    # -- paho callbacks (on the telemetry thread, inside client.loop) ------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._connack = reason_code
        rm = getattr(properties, "ReceiveMaximum", None) if properties is not None else None
        self.receive_maximum = rm if isinstance(rm, int) and rm > 0 else None

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.lost = True

    def _on_publish(self, on_ack: AckHandler) -> Callable[..., None]:
        def on_publish(client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
            if not on_ack(mid, reason_code) and mid in self._awaited:
                self._awaited[mid] = True
        return on_publish


def _close(client: mqtt.Client) -> None:
    """Drop the socket without DISCONNECT."""
    try:
        if client.socket():
            client._sock_close()  # noqa: SLF001 — paho has no public way
    except Exception:  # noqa: BLE001
        pass


__all__ = ["BrokerLink", "describe_rc"]
