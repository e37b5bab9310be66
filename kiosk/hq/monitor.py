"""The HQ monitor: subscribes to every branch and keeps the live table, optionally recording.

`HqMonitor` subscribes to ``{prefix}/+/#`` (or ``$share/GROUP/{prefix}/+/#``, an MQTT 5
shared subscription, so several HQ consumers split the load on a clustered broker), feeds a
`MonitorState` (kiosk.hq.state) and draws it with `render()` (kiosk.hq.table); an optional
`Recorder` (kiosk.hq.recorder) stores every event. Every message passes the ingest boundary
(`kiosk.hq.ingest`, through `MonitorState`); no exception leaves a paho callback
(`guarded`): a bug is logged with the topic and the client keeps running.
"""
from __future__ import annotations

import json
import logging
import select
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Any, TextIO

from kiosk.hq.ingest import IngestLimits
from kiosk.hq import publish_decoding
from kiosk.hq.recorder import Recorder
from kiosk.hq.state import MonitorState
from kiosk.hq.table import CLEAR, render

log = logging.getLogger(__name__)


class _BufferedSocket:
    """A socket whose `recv` is served from a 256 KiB read buffer: paho reads a packet in
    three or four small `recv` calls, which at thousands of messages a second costs more than
    the messages. `pending()` tells paho's loop that buffered bytes are ready.

    What the reading thread sends while more input is buffered (the PUBACK of each message)
    is held and sent in one call before the socket is read again, before anything else is
    sent and on close: one `send` per buffer of messages, not one per message."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0
        self._held: list[bytes] = []
        self._lock = threading.Lock()
        self._reader: int | None = None

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            self._reader = threading.get_ident()
            if self._held:
                with self._lock:
                    self._send_held()
            data = self._sock.recv(262144)
            if not data:
                return data
            self._buf, self._pos = data, 0
        out = self._buf[self._pos:self._pos + n]
        self._pos += len(out)
        return out

    def send(self, data: bytes) -> int:
        with self._lock:
            if self._pos < len(self._buf) and threading.get_ident() == self._reader:
                self._held.append(bytes(data))
                return len(data)
            if self._held:
                self._send_held()
        return self._sock.send(data)

    def _send_held(self) -> None:
        """Send every held byte (the caller holds `_lock`), waiting for room in the socket;
        OSError when they are not all sent within `_SEND_TIMEOUT_S` (paho then drops the
        connection, and the broker sends the unacknowledged messages again)."""
        data = memoryview(b"".join(self._held))
        self._held.clear()
        deadline = time.monotonic() + _SEND_TIMEOUT_S
        while data:
            try:
                data = data[self._sock.send(data):]
            except (BlockingIOError, ssl.SSLWantWriteError):
                if time.monotonic() > deadline:
                    raise OSError("the broker did not take the held acknowledgements") from None
                select.select([], [self._sock], [], 0.1)

    def close(self) -> None:
        with self._lock:
            try:   # one try, no waiting: the broker sends what stays unacknowledged again
                if self._held:
                    self._sock.send(b"".join(self._held))
            except OSError:
                pass
            self._held.clear()
        self._sock.close()

    def pending(self) -> int:
        """Bytes ready to read without waiting; one more while bytes are held, so that paho
        reads (and `recv` sends them, its errors handled as paho handles a failed read)
        instead of waiting in `select` with an acknowledgement unsent."""
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return len(self._buf) - self._pos + inner + (1 if self._held else 0)

    def buffered(self) -> int:
        """Bytes already read from the socket and not yet taken."""
        return len(self._buf) - self._pos

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


_SEND_TIMEOUT_S = 10.0
_READ_BATCH = 256   # packets read from the buffer per turn of paho's loop (its timers run between)


def _fast_client_class() -> type:
    import paho.mqtt.client as mqtt

    class FastClient(mqtt.Client):
        def _create_socket(self):  # noqa: ANN202 — paho 2.x hook; plain TCP/TLS only
            sock = super()._create_socket()
            return sock if self._transport == "websockets" else _BufferedSocket(sock)

        def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
            """paho's, then on through the packets already in the read buffer (at most
            `_READ_BATCH` rounds): paho otherwise makes a `select` call for every message."""
            rc = super().loop_read(max_packets)
            for _ in range(_READ_BATCH):
                sock = self._sock
                if rc != mqtt.MQTT_ERR_SUCCESS or not isinstance(sock, _BufferedSocket) or not sock.buffered():
                    break
                rc = super().loop_read(max_packets)
            return rc

    return FastClient if hasattr(mqtt.Client, "_create_socket") else mqtt.Client


def guarded(callback: Callable[..., None], what: str) -> Callable[..., None]:
    """`callback` that never raises into paho (an exception there ends the network thread for
    good): it is logged with the message's topic, and the client keeps running."""
    def run(*args: Any) -> None:
        try:
            callback(*args)
        except Exception:  # noqa: BLE001 — a callback's bug must not stop HQ's MQTT client
            msg = args[2] if len(args) > 2 else None
            topic = getattr(msg, "topic", None)
            log.exception("%s failed%s", what, f" on a message on {str(topic)[:200]!r}" if topic is not None else "")
    run.__name__ = getattr(callback, "__name__", what)
    return run


class HqMonitor:
    """Subscribes to every branch and feeds a `MonitorState` (paho's network thread)."""

    def __init__(self, url: str, *, prefix: str = "kiosk", shared: str | None = None, protocol: str = "3.1.1",
                 recorder: Recorder | None = None, client_id: str = "", tls: Any = None,
                 username: str | None = None, password_file: str | None = None,
                 limits: IngestLimits | None = None) -> None:
        from kiosk.mqtt.client import make_client, parse_url, protocol_of, read_password
        publish_decoding.install()
        self.broker = parse_url(url)
        self.prefix = prefix.rstrip("/")
        if shared and any(c in shared for c in "/+#"):
            raise ValueError("a shared-subscription group name cannot contain '/', '+' or '#'")
        self.topic = f"$share/{shared}/{self.prefix}/+/#" if shared else f"{self.prefix}/+/#"
        self.state = MonitorState(self.prefix, recorder, limits)
        self.recorder = recorder
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.last_error: str | None = None
        password = read_password(password_file) if password_file else None
        self.v5 = protocol != "3.1.1"
        self.persistent = bool(client_id)
        self.client = make_client(client_id, protocol_of(protocol), self.broker, tls=tls, username=username,
                                  password=password, max_inflight=1000, clean_session=not self.persistent,
                                  client_class=_fast_client_class())
        self.client.on_connect = guarded(self._on_connect, "the HQ monitor's on_connect")
        self.client.on_disconnect = guarded(self._on_disconnect, "the HQ monitor's on_disconnect")
        self.client.on_message = guarded(self._on_message, "the HQ monitor's on_message")
        self.client.on_subscribe = guarded(lambda *a: self.subscribed.set(), "the HQ monitor's on_subscribe")
        self.client.reconnect_delay_set(1, 30)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        if getattr(reason_code, "is_failure", False):
            self.last_error = f"broker refused: {reason_code}"
            return
        self.last_error = None
        self.connected.set()
        client.subscribe(self.topic, qos=1)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connected.clear()
        self.last_error = f"disconnected: {reason_code}"

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        self.state.ingest(msg.topic, msg.payload)

    def start(self) -> HqMonitor:
        kwargs: dict[str, Any] = {}
        if self.v5:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties
            kwargs["clean_start"] = not self.persistent
            if self.persistent:
                props = Properties(PacketTypes.CONNECT)
                props.SessionExpiryInterval = 86400
                kwargs["properties"] = props
        self.client.connect_async(self.broker.host, self.broker.port, 30, **kwargs)
        # our own thread running loop_forever (not loop_start): paho then writes each PUBACK
        # straight to the socket instead of waking its loop through a socket pair
        self._thread = threading.Thread(target=self._loop, name="hq-mqtt", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            self.client.loop_forever(retry_first_connection=True)
        except Exception as exc:  # noqa: BLE001
            log.exception("HQ monitor MQTT loop failed")
            self.last_error = str(exc)
            self.connected.clear()   # the loop is gone: never say connected

    def stop(self) -> None:
        self.client.disconnect()
        if getattr(self, "_thread", None) is not None:
            self._thread.join(10)

    def run(self, *, once: bool = False, wait_s: float = 2.0, interval_s: float = 1.0,
            duration_s: float | None = None, out: TextIO | None = None, as_json: bool = False) -> int:
        """Draw the table until interrupted (or once after `wait_s`)."""
        out = out or sys.stdout
        colour = out.isatty() and not as_json
        start = time.monotonic()
        try:
            if once:
                self.subscribed.wait(max(wait_s, 0.1))
                time.sleep(wait_s)
                if self.recorder is not None:
                    self.recorder.flush()
                self._draw(out, colour=False, clear=False, as_json=as_json)
                return 0 if self.subscribed.is_set() else 1
            while duration_s is None or time.monotonic() - start < duration_s:
                self._draw(out, colour=colour, clear=colour, as_json=as_json)
                time.sleep(interval_s)
        except KeyboardInterrupt:
            pass
        return 0

    def _draw(self, out: TextIO, *, colour: bool, clear: bool, as_json: bool) -> None:
        rows = self.state.snapshot()
        if as_json:
            out.write(json.dumps({"branches": rows, "totals": self.state.totals()}, ensure_ascii=False) + "\n")
        else:
            import shutil
            tot = self.state.totals()
            status = "connected" if self.connected.is_set() else f"not connected ({self.last_error or 'connecting'})"
            title = (f"kiosk HQ — {self.broker} {self.topic} — {status} — {tot['branches']} branches, "
                     f"{tot['events']} events")
            if self.recorder is not None:
                title += f", recorded {self.recorder.inserted}"
            max_rows = shutil.get_terminal_size((120, 40)).lines - 4 if clear else None
            out.write((CLEAR if clear else "") + render(rows, colour=colour, max_rows=max_rows, title=title))
        out.flush()
