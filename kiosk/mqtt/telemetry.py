"""MQTT to HQ: outbox drain, retained status/queue/alerts, hourly stats, HQ commands.

One thread (``kiosk-mqtt``) owns the paho client (driven with ``client.loop()``, so every
paho callback runs on it too) and its own `Store` on the branch database. The core thread
only nudges it (a listener sets flags); engine calls for HQ commands go through
``app.submit`` and their replies come back through a queue.

Delivery: the outbox is the source of truth. Events are published in ``seq`` order at
QoS 1 with at most ``mqtt.max_inflight`` unacknowledged; an event is marked delivered only
when the broker's PUBACK arrives (``on_publish``). Each connection uses a fresh client and
starts again from the first undelivered ``seq``, so nothing depends on paho's in-memory
queue, and a broker outage, a kiosk restart or a power cut loses nothing (an event whose
PUBACK was lost is sent again: at-least-once; HQ de-duplicates by ``id``).

Topics (design.md): ``{prefix}/{branch}/status`` (retained, Last Will offline),
``/queue`` (retained), ``/events``, ``/alerts`` (retained), ``/stats/hourly``,
``/cmd/{name}`` (in) → ``/reply/{name}`` or the MQTT 5 response topic.
"""
from __future__ import annotations

import json
import logging
import os
import queue
import random
import re
import ssl
import stat
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.packettypes import PacketTypes

from kiosk import __version__
from kiosk.mqtt import commands as hq_commands
from kiosk.config.mqtt import MqttConfig, MqttTls
from kiosk.domain.errors import KioskError

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15.0
LOOP_TIMEOUT_S = 0.05
POLL_OUTBOX_S = 1.0
BACKLOG_REFRESH_S = 2.0
STOP_FLUSH_S = 3.0
MAX_PENDING_STATS = 48
_REPLY_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class TelemetryError(KioskError):
    """MQTT cannot be set up as configured (names the key)."""


# -- connection helpers (shared with the HQ monitor) -------------------------------------------
@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    tls: bool
    username: str | None = None

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_url(url: str) -> BrokerUrl:
    """``mqtt://host[:1883]``, ``mqtts://host[:8883]`` (``tcp://``/``ssl://`` too), optional
    ``user@``. A password in the URL is refused: it belongs in ``mqtt.password_file``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TelemetryError(f"mqtt.url: {url!r} is not a broker URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise TelemetryError(f"mqtt.url: {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise TelemetryError(f"mqtt.url: {url!r} names no host")
    if parts.password:
        raise TelemetryError("mqtt.url: do not put a password in the URL; use mqtt.password_file")
    tls = scheme in ("mqtts", "ssl")
    return BrokerUrl(parts.hostname, port or (8883 if tls else 1883), tls,
                     unquote(parts.username) if parts.username else None)


def read_password(path: str | os.PathLike) -> str:
    """The password in `path` (first line). Refused if group or others may read the file."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise TelemetryError(f"mqtt.password_file: cannot read {p}: {exc.strerror or exc}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TelemetryError(f"mqtt.password_file: {p} is accessible by group or others "
                             f"(mode {stat.S_IMODE(st.st_mode):04o}); run: chmod 600 {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TelemetryError(f"mqtt.password_file: cannot read {p}: {exc}") from None
    lines = text.splitlines()
    if not lines or not lines[0]:
        raise TelemetryError(f"mqtt.password_file: {p} is empty")
    return lines[0]


def check_tls(tls: MqttTls | None) -> None:
    if tls is None:
        return
    for key in ("ca_file", "cert_file", "key_file"):
        f = getattr(tls, key)
        if f is not None and not Path(f).is_file():
            raise TelemetryError(f"mqtt.tls.{key}: no such file {f}")
    if (tls.cert_file is None) != (tls.key_file is None):
        raise TelemetryError("mqtt.tls: cert_file and key_file go together")


def protocol_of(name: str) -> MQTTProtocolVersion:
    return mqtt.MQTTv311 if name == "3.1.1" else mqtt.MQTTv5


def make_client(client_id: str, protocol: MQTTProtocolVersion, broker: BrokerUrl, *,
                tls: MqttTls | None = None, username: str | None = None, password: str | None = None,
                max_inflight: int = 20, clean_session: bool = True,
                client_class: type[mqtt.Client] = mqtt.Client) -> mqtt.Client:
    """A paho client (callback API 2) with TLS and credentials set, not yet connected."""
    kwargs: dict[str, Any] = {"callback_api_version": CallbackAPIVersion.VERSION2, "client_id": client_id,
                              "protocol": protocol}
    if protocol != mqtt.MQTTv5:
        kwargs["clean_session"] = clean_session
    client = client_class(**kwargs)
    client.max_inflight_messages_set(max_inflight)
    client.max_queued_messages_set(0)
    if broker.tls or tls is not None:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH,
                                         cafile=tls.ca_file if tls and tls.ca_file else None)
        if tls and tls.cert_file:
            ctx.load_cert_chain(tls.cert_file, tls.key_file)
        if tls and tls.insecure:
            ctx.check_hostname = False
        client.tls_set_context(ctx)
    user = username or broker.username
    if user:
        client.username_pw_set(user, password)
    return client


def _iso(dt: datetime | None = None) -> str:
    return (dt or datetime.now(timezone.utc).astimezone()).isoformat(timespec="seconds")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), default=str)


# -- the publisher ------------------------------------------------------------------------------
class Telemetry:
    """The MQTT side of a running kiosk. `state` is for the admin screen."""

    def __init__(self, app: Any, url_override: str | None = None, *, config: MqttConfig | None = None) -> None:
        self.app = app
        self.cfg: MqttConfig = config or app.settings.mqtt
        settings = app.settings
        self.branch = settings.branch.id
        self.base = f"{self.cfg.topic_prefix}/{self.branch}"
        self.enabled = bool(self.cfg.enabled or url_override)
        self.broker = parse_url(url_override or self.cfg.url)
        check_tls(self.cfg.tls)
        self.password = read_password(self.cfg.password_file) if self.cfg.password_file else None
        if self.password is not None and not (self.cfg.username or self.broker.username):
            raise TelemetryError("mqtt.password_file is set but mqtt.username is not")
        self.client_id = self.cfg.client_id or f"kiosk-{self.branch}"
        self.limits = hq_commands.Limits.from_settings(settings, self.cfg.max_command_bytes)
        self._protocol_mode = self.cfg.protocol
        self._use_v5 = self.cfg.protocol != "3.1.1"
        self._started = _iso(app.clock.wall())
        self._state = {"state": "disabled" if not self.enabled else "disconnected", "since": self._started,
                       "error": None, "backlog": None, "broker": str(self.broker), "protocol": None}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._replies: queue.SimpleQueue = queue.SimpleQueue()
        self._unsubscribe = None
        # flags set from the core thread
        self._events_pending = True
        self._queue_dirty = True
        self._alert: dict[str, Any] | None = None
        self._alert_dirty = True
        # connection state (telemetry thread only)
        self._client: mqtt.Client | None = None
        self._connected = False
        self._connack: Any = None
        self._lost = False
        self._lost_reason: str | None = None
        self._refusals = 0
        self._acked_since_connect = False
        self._inflight: dict[int, int] = {}
        self._acked: list[int] = []
        self._other_acks: set[int] = set()
        self._sent_seq = 0
        self._cap = self.cfg.max_inflight
        self._backoff = self.cfg.reconnect_min_s
        self._next_attempt = 0.0
        self._last_queue = -1e9
        self._last_backlog = 0.0
        self._hour_key: tuple | None = None
        self._pending_stats: list[dict[str, Any]] = []
        self._stats_warned = False
        self.store = None
        self.published = 0
        self.delivered = 0

    # -- public ----------------------------------------------------------------------------
    @property
    def state(self) -> dict[str, Any]:
        """{"state": "disabled"|"connecting"|"connected"|"disconnected", "since", "error",
        "backlog" (undelivered events, None until known), "broker", "protocol"}."""
        return dict(self._state)

    def start(self) -> Telemetry:
        if not self.enabled:
            log.info("MQTT disabled: running offline, the outbox keeps every event")
            return self
        self._unsubscribe = self.app.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="kiosk-mqtt", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._unsubscribe is not None:
            try:
                self.app.loop.call(self._unsubscribe, timeout=5)
            except Exception:  # noqa: BLE001 — the core may be gone already
                pass
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_for(self, state: str, timeout: float = 30.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._state["state"] == state:
                return True
            time.sleep(0.02)
        return False

    # -- core thread: a committed event ------------------------------------------------------
    def _on_event(self, ev: dict[str, Any]) -> None:
        self._events_pending = True
        self._queue_dirty = True
        if ev.get("type") in ("alert.raised", "alert.cleared"):
            self._alert = self._alert_from_event(ev)
            self._alert_dirty = True

    @staticmethod
    def _alert_from_event(ev: dict[str, Any]) -> dict[str, Any]:
        out = {"level": int(ev.get("level") or 0), "reason": ev.get("reason", ""), "waiting": ev.get("waiting"),
               "open_counters": ev.get("open_counters"), "since": ev.get("ts")}
        for extra in ("code", "text"):  # kiosk.engine.alerts adds a reason code and a display text
            if ev.get(extra) is not None:
                out[extra] = ev[extra]
        return out

    # -- telemetry thread ---------------------------------------------------------------------
    def _set_state(self, state: str, error: str | None = None, **extra: Any) -> None:
        new = dict(self._state)
        if state != new["state"]:
            new["since"] = _iso(self.app.clock.wall())
        new["state"] = state
        if error is not None:
            new["error"] = error
        new.update(extra)
        self._state = new

    def _run(self) -> None:
        from kiosk.storage.store import Store, db_path
        try:
            self.store = Store(db_path(self.app.data_dir), synchronous="NORMAL")
        except Exception as exc:  # noqa: BLE001
            log.exception("telemetry cannot open the store")
            self._set_state("disconnected", error=f"store: {exc}")
            return
        try:
            self._state["backlog"] = self.store.undelivered_count()
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception as exc:  # noqa: BLE001 — keep reporting whatever happens
                    log.exception("telemetry step failed")
                    self._drop_connection(f"{type(exc).__name__}: {exc}")
            self._shutdown()
        finally:
            self.store.close()

    def _step(self) -> None:
        now = time.monotonic()
        self._hourly_tick()
        if now - self._last_backlog >= BACKLOG_REFRESH_S:
            self._last_backlog = now
            self._state["backlog"] = self.store.undelivered_count()
        if self._client is None:
            if now >= self._next_attempt:
                self._connect()
            else:
                self._wake.wait(min(0.5, self._next_attempt - now))
                self._wake.clear()
            return
        rc = self._client.loop(LOOP_TIMEOUT_S)
        if self._lost or rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS,):
            self._drop_connection(self._lost_reason or
                                  (self._describe_rc(rc) if rc != MQTTErrorCode.MQTT_ERR_SUCCESS else None))
            return
        self._flush_acks()
        self._send_replies()
        self._drain(now)
        self._publish_alert()
        self._publish_queue(now)
        self._publish_stats()

    # -- connecting ---------------------------------------------------------------------------
    def _connect(self) -> None:
        v5 = self._use_v5
        self._set_state("connecting", protocol="5" if v5 else "3.1.1")
        err, reached = self._try_connect(v5)
        if err is None:
            return
        if v5 and reached and self._protocol_mode == "auto":
            log.info("MQTT 5 refused by %s (%s): trying MQTT 3.1.1", self.broker, err)
            self._set_state("connecting", protocol="3.1.1")
            err2, _ = self._try_connect(False)
            if err2 is None:
                return
            err = f"{err}; MQTT 3.1.1: {err2}"
        self._fail(err)

    def _try_connect(self, v5: bool) -> tuple[str | None, bool]:
        """Connect and wait for the CONNACK. (None, True) on success, else (error, reached)
        where `reached` says the TCP (and TLS) connection was made."""
        proto = mqtt.MQTTv5 if v5 else mqtt.MQTTv311
        # max_inflight=0: paho does not limit (we cap in-flight events ourselves, and paho's own limit
        # costs a scan of every unacknowledged message on each PUBACK)
        client = make_client(self.client_id, proto, self.broker, tls=self.cfg.tls, username=self.cfg.username,
                             password=self.password, max_inflight=0)
        client.will_set(f"{self.base}/status", self._status_payload("offline", self._started), qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._connack = None
        self._lost = False
        self._lost_reason = None
        self._connected = False
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
        while self._connack is None and not self._lost and not self._stop.is_set():
            if time.monotonic() > deadline:
                self._close(client)
                return "no CONNACK from the broker", True
            try:
                rc = client.loop(0.1)
            except Exception as exc:  # noqa: BLE001 — e.g. a 3.1.1 CONNACK decoded as MQTT 5
                self._close(client)
                return f"bad CONNACK: {exc}", True
            if rc != MQTTErrorCode.MQTT_ERR_SUCCESS and self._connack is None:
                self._close(client)
                return f"connection closed before CONNACK ({self._describe_rc(rc)})", True
        if self._stop.is_set() and self._connack is None:
            self._close(client)
            return "stopping", False
        if self._connack is None or getattr(self._connack, "is_failure", True):
            self._close(client)
            return f"broker refused the connection: {self._connack}", True
        self._client = client
        self._connected = True
        self._use_v5 = v5  # auto: once 3.1.1 worked, stay with it
        self._on_connected()
        return None, True

    @staticmethod
    def _close(client: mqtt.Client) -> None:
        try:
            client.socket() and client._sock_close()  # noqa: SLF001 — drop without DISCONNECT
        except Exception:  # noqa: BLE001
            pass

    @staticmethod
    def _describe_rc(rc: Any) -> str:
        try:
            return mqtt.error_string(rc)
        except Exception:  # noqa: BLE001
            return str(rc)

    def _on_connected(self) -> None:
        if not self._refusals:  # a broker that refuses our events (ACL) is retried with back-off
            self._backoff = self.cfg.reconnect_min_s
        self._inflight.clear()
        self._acked.clear()
        self._other_acks.clear()
        self._acked_since_connect = False
        self._sent_seq = 0
        self._cap = self.cfg.max_inflight
        props = getattr(self, "_connack_props", None)
        rm = getattr(props, "ReceiveMaximum", None) if props is not None else None
        if isinstance(rm, int) and rm > 0:
            self._cap = min(self._cap, rm)
        client = self._client
        assert client is not None
        since = _iso(self.app.clock.wall())
        client.publish(f"{self.base}/status", self._status_payload("online", since), qos=1, retain=True)
        client.subscribe(f"{self.base}/cmd/+", qos=1)
        self._events_pending = True
        self._queue_dirty = True
        self._alert_dirty = True
        self._last_queue = -1e9
        self._set_state("connected", error=None, protocol="5" if self._use_v5 else "3.1.1")
        self._state["error"] = None
        log.info("MQTT connected to %s (MQTT %s)", self.broker, self._state["protocol"])

    def _fail(self, err: str) -> None:
        delay = min(self._backoff, self.cfg.reconnect_max_s) * random.uniform(0.8, 1.2)
        self._next_attempt = time.monotonic() + delay
        self._backoff = min(self._backoff * 2, self.cfg.reconnect_max_s)
        log.warning("MQTT %s; retrying in %.1f s", err, delay)
        self._set_state("disconnected", error=err)

    def _drop_connection(self, err: str | None) -> None:
        if self._inflight and not self._acked_since_connect:
            # lost before the broker acknowledged anything we sent: mosquitto drops an MQTT 5
            # client whose publish its ACL denies; do not hammer it, and say what to check
            seq = min(self._inflight.values())
            self._refusals += 1
            err = (f"{err or 'connection lost'} while publishing event {seq}, before any acknowledgement "
                   f"(does the broker's ACL allow {self.base}/events?)")
        client, self._client = self._client, None
        self._connected = False
        self._inflight.clear()
        if client is not None:
            self._close(client)
        self._fail(err or "connection lost")

    # paho callbacks (all on this thread, inside client.loop) ---------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._connack = reason_code
        self._connack_props = properties

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self._lost = True

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:  # noqa: ANN001
        seq = self._inflight.pop(mid, None)
        if seq is None:
            if self._stop.is_set():
                self._other_acks.add(mid)
            return
        if getattr(reason_code, "is_failure", False):
            log.error("the broker refused event seq %d: %s (check its ACL)", seq, reason_code)
            self._lost_reason = f"the broker refused event {seq}: {reason_code} (check its ACL)"
            self._refusals += 1
            self._lost = True  # reconnect and retry from the first undelivered seq
            return
        self._refusals = 0
        self._acked_since_connect = True
        self._acked.append(seq)

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        prefix = f"{self.base}/cmd/"
        if not msg.topic.startswith(prefix):
            return
        name = msg.topic[len(prefix):]
        reply_topic, props = self._reply_route(name, msg)
        if msg.retain:
            self._reply(reply_topic, props, hq_commands.reply_error(name, None, "retained",
                        "retained commands are ignored: publish commands without the retain flag"))
            return
        if not self.cfg.commands_enabled:
            self._reply(reply_topic, props, hq_commands.reply_error(name, None, "commands_disabled",
                        "HQ commands are switched off on this kiosk (mqtt.commands_enabled = false)"))
            return
        try:
            cmd = hq_commands.validate(name, msg.payload, self.limits)
        except hq_commands.CommandError as exc:
            log.info("HQ command %r rejected: %s", name[:64], exc.message)
            self._reply(reply_topic, props, hq_commands.reply_error(name, exc.cmd_id, exc.code, exc.message))
            return
        log.info("HQ command %s %s", cmd.name, cmd.args)
        fut = hq_commands.dispatch(cmd, self.app)

        def done(f) -> None:  # noqa: ANN001 — runs on the core thread
            exc = f.exception()
            if exc is None:
                payload = hq_commands.reply_ok(cmd.name, cmd.id, f.result())
            else:
                code, message = hq_commands.error_of(exc)
                payload = hq_commands.reply_error(cmd.name, cmd.id, code, message)
            self._replies.put((reply_topic, props, payload))
        fut.add_done_callback(done)

    def _reply_route(self, name: str, msg: Any) -> tuple[str, Properties | None]:
        topic = f"{self.base}/reply/{name if _REPLY_NAME.match(name) else '_invalid'}"
        props = None
        mprops = getattr(msg, "properties", None)
        if self._use_v5 and mprops is not None:
            rt = getattr(mprops, "ResponseTopic", None)
            if isinstance(rt, str) and rt and not any(c in rt for c in "+#\0") and len(rt) < 1024:
                topic = rt
            cd = getattr(mprops, "CorrelationData", None)
            if cd is not None:
                props = Properties(PacketTypes.PUBLISH)
                props.CorrelationData = bytes(cd)
        return topic, props

    def _reply(self, topic: str, props: Properties | None, payload: dict[str, Any]) -> None:
        if self._client is None:
            log.info("reply to %s dropped: not connected", topic)
            return
        self._client.publish(topic, hq_commands.encode(payload), qos=1, properties=props)

    def _send_replies(self) -> None:
        while True:
            try:
                topic, props, payload = self._replies.get_nowait()
            except queue.Empty:
                return
            self._reply(topic, props, payload)

    # -- outbox drain ---------------------------------------------------------------------------
    def _flush_acks(self) -> None:
        if not self._acked:
            return
        seqs, self._acked = self._acked, []
        self.store.mark_delivered(seqs, _iso())
        self.delivered += len(seqs)
        self._events_pending = True  # room in the window: look for more
        backlog = self._state.get("backlog")
        if backlog is not None:
            self._state["backlog"] = max(0, backlog - len(seqs))

    def _drain(self, now: float) -> None:
        room = self._cap - len(self._inflight)
        if room <= 0:
            return
        if not self._events_pending and now - getattr(self, "_last_poll", 0.0) < POLL_OUTBOX_S:
            return
        self._events_pending = False
        self._last_poll = now
        events = self.store.events_after(self._sent_seq, limit=room, undelivered_only=True)
        if not events:
            if not self._inflight:
                self._state["backlog"] = self.store.undelivered_count()
            return
        topic = f"{self.base}/events"
        client = self._client
        for ev in events:
            info = client.publish(topic, _dumps(ev.as_message()), qos=1)
            if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
                self._lost = True
                return
            self._inflight[info.mid] = ev.seq
            self._sent_seq = ev.seq
            self.published += 1
        if len(events) == room:
            self._events_pending = True

    # -- retained state -------------------------------------------------------------------------
    def _status_payload(self, state: str, since: str) -> str:
        return _dumps({"v": 1, "ts": _iso(self.app.clock.wall()), "state": state, "version": __version__,
                       "since": since, "branch": self.branch})

    def _publish_queue(self, now: float) -> None:
        due = now - self._last_queue >= self.cfg.queue_period_s
        if not due and not (self._queue_dirty and now - self._last_queue >= self.cfg.queue_min_interval_s):
            return
        self._queue_dirty = False
        self._last_queue = now
        try:
            snap = self.app.snapshot(timeout=10)
        except Exception as exc:  # noqa: BLE001
            log.warning("queue snapshot failed: %s", exc)
            return
        self._client.publish(f"{self.base}/queue", _dumps(snap), qos=1, retain=True)

    def _current_alert(self) -> dict[str, Any]:
        if self._alert is not None:
            return self._alert
        conn = self.store.conn
        row = conn.execute("SELECT body FROM outbox WHERE type IN ('alert.raised', 'alert.cleared') "
                           "ORDER BY seq DESC LIMIT 1").fetchone()
        if row is not None:
            return self._alert_from_event(json.loads(row[0]))
        st = conn.execute("SELECT level, reason FROM alert_state WHERE id = 1").fetchone()
        return {"level": st[0] if st else 0, "reason": st[1] if st else "", "waiting": None,
                "open_counters": None, "since": None}

    def _publish_alert(self) -> None:
        if not self._alert_dirty:
            return
        self._alert_dirty = False
        alert = dict(self._current_alert())
        if alert.get("waiting") is None or alert.get("open_counters") is None:
            try:
                snap = self.app.snapshot(timeout=10)
                alert["waiting"], alert["open_counters"] = snap["waiting"], snap["open_counters"]
            except Exception:  # noqa: BLE001
                pass
        payload = {"v": 1, "ts": _iso(self.app.clock.wall()), "branch": self.branch, **alert}
        self._client.publish(f"{self.base}/alerts", _dumps(payload), qos=1, retain=True)

    # -- hourly stats ---------------------------------------------------------------------------
    def _hourly_tick(self) -> None:
        if not self.cfg.stats_hourly:
            return
        wall = self.app.clock.wall().astimezone(self.app.settings.day.tz)
        key = (wall.date(), wall.hour)
        prev, self._hour_key = self._hour_key, key
        if prev is None or key <= prev:
            if prev is not None and key < prev:
                self._hour_key = prev  # the wall clock went back: wait until it passes again
            return
        self._close_hour(prev)

    def _close_hour(self, key: tuple) -> None:
        try:
            from kiosk.engine.stats import hourly_summary
        except ImportError as exc:
            if not self._stats_warned:
                log.warning("stats/hourly not published: kiosk.engine.stats.hourly_summary is unavailable (%s)", exc)
                self._stats_warned = True
            return
        from kiosk.engine.queue_engine import business_day
        date, hour = key
        start = datetime(date.year, date.month, date.day, hour, tzinfo=self.app.settings.day.tz)
        day = business_day(start, self.app.settings)
        try:
            try:
                summary = hourly_summary(self.store.conn, day, hour, settings=self.app.settings)
            except TypeError:
                summary = hourly_summary(self.store.conn, day, hour)
        except Exception:  # noqa: BLE001
            log.exception("hourly_summary(%s, %d) failed", day, hour)
            return
        payload = {"v": 1, "ts": _iso(self.app.clock.wall()), "branch": self.branch, "day": day, "hour": hour,
                   **(summary or {})}
        self._pending_stats.append(payload)
        del self._pending_stats[:-MAX_PENDING_STATS]

    def _publish_stats(self) -> None:
        while self._pending_stats:
            payload = self._pending_stats.pop(0)
            self._client.publish(f"{self.base}/stats/hourly", _dumps(payload), qos=1)

    def _shutdown(self) -> None:
        client = self._client
        if client is None or not self._connected:
            return
        try:
            self._flush_acks()
            info = client.publish(f"{self.base}/status", self._status_payload("offline", _iso(self.app.clock.wall())),
                                  qos=1, retain=True)
            deadline = time.monotonic() + STOP_FLUSH_S
            while time.monotonic() < deadline and not self._lost:
                client.loop(0.05)
                self._flush_acks()
                if info.mid in self._other_acks and not self._inflight:
                    break
            self._flush_acks()
            client.disconnect()
            client.loop(0.1)
        except Exception:  # noqa: BLE001
            log.exception("MQTT shutdown")
        self._client = None
        self._connected = False
        self._set_state("disconnected", error=None)


def attach_telemetry(app: Any, url_override: str | None = None) -> Telemetry:
    """Start reporting `app` to HQ (``mqtt.enabled`` or a ``--mqtt URL``). Raises
    `TelemetryError` (a `KioskError`) for a configuration that must not start, e.g. a
    password file readable by others. Registers its own closer."""
    tele = Telemetry(app, url_override)
    tele.start()
    app.telemetry = tele
    app.add_closer(tele.stop)
    return tele


__all__ = ["BrokerUrl", "Telemetry", "TelemetryError", "attach_telemetry", "make_client", "parse_url",
           "read_password"]
