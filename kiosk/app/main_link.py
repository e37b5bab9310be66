"""`MainLink`: a satellite ticket machine's HTTP connection to the main kiosk's hall web app API.

Standard library only (`http.client`, one keep-alive connection, TLS verified against the
configured CA or the system's). Every answer takes at most `timeout_s` (≤ 3 s). A main kiosk
that cannot be reached — connection refused, a timeout, a 5xx — raises `MainUnreachable`; a
device token it does not know (revoked) raises `TokenRefused`; any other refusal (a closed
service, a daily cap) raises `MainRefused` with the main kiosk's own message.
`follow_hall` reads the hall's live stream (`GET /api/stream`, server-sent events) on a
connection of its own, for a now-serving TV or a ticket screen that follows the main kiosk.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import stat
import threading
from pathlib import Path
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from kiosk.domain.errors import ConfigError, KioskError, QueueError


STREAM_IDLE_S = 25.0
"""A stream silent this long is dead (the main kiosk sends a keep-alive every 15 s)."""
STREAM_LINE_MAX = 1 << 20


class MainUnreachable(KioskError):
    """The main kiosk did not answer: nothing was issued (one queue, never two)."""


class TokenRefused(KioskError):
    """The main kiosk does not know this machine's device token (unknown or revoked)."""


class MainRefused(QueueError):
    """The main kiosk refused the request (its message says why); nothing was issued."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def read_token(path: str | os.PathLike) -> str:
    """The device token in `path`, which only its owner may read (mode 600 or stricter)."""
    p = Path(path)
    try:
        mode = p.stat().st_mode
    except OSError as exc:
        raise ConfigError(f"the device token file {p} cannot be read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"the device token file {p} is readable by others (mode {stat.S_IMODE(mode):o}): "
                          f"chmod 600 {p}")
    token = p.read_text(encoding="utf-8").strip()
    if not 16 <= len(token) <= 256 or not token.isascii() or any(c.isspace() for c in token):
        raise ConfigError(f"the device token file {p} must hold one token of 16–256 printable ASCII characters")
    return token


class MainLink:
    """Requests to the main kiosk at `url` with `token` (thread-safe: one request at a time)."""

    def __init__(self, url: str, token: str, *, ca_file: str | None = None, timeout_s: float = 3.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"the main kiosk's URL must be http://HOST:PORT or https://HOST:PORT, not {url!r}")
        self.url = url.rstrip("/")
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._token = token
        self._timeout_s = min(timeout_s, 3.0)
        self._ssl = ssl.create_default_context(cafile=ca_file) if self._https else None
        self._conn: http.client.HTTPConnection | None = None
        self._lock = threading.Lock()
        self._stream: http.client.HTTPConnection | None = None

    def issue(self, service: str, *, tier: str | None = None) -> dict[str, Any]:
        """A ticket of the main kiosk's queue, handed out here: its answer (ticket, ahead, estimate_s…)."""
        body: dict[str, Any] = {"service": service}
        if tier is not None:
            body["tier"] = tier
        return self.request("POST", "/api/tickets", body)

    def probe(self) -> dict[str, Any] | None:
        """Is the main kiosk there and does it know this token? The hall view when it lets a device
        read it, else None (it answered 403: there, token known). Raises as `request` does."""
        try:
            return self.request("GET", "/api/hall")
        except MainRefused as exc:
            if exc.status == 403:
                return None
            raise

    def follow_hall(self, on_hall: Callable[[dict[str, Any]], None]) -> None:
        """Hand every hall view of the main kiosk's live stream to `on_hall` until the stream ends
        (`close_stream`, the main kiosk stopped); then raise `MainUnreachable`. A token it does
        not know raises `TokenRefused`, a stream it does not let devices read `MainRefused` (403)."""
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "text/event-stream"}
        try:
            conn = self._open()
            self._stream = conn
            conn.request("GET", self._base + "/api/stream", headers=headers)
            resp = conn.getresponse()
            if resp.status != 200:
                self._refusal(resp.status, resp.read())
            if conn.sock is not None:
                conn.sock.settimeout(STREAM_IDLE_S)
            _read_events(resp, lambda event, data: on_hall(_hall_of(data, self.url)) if event == "hall" else None)
        except (AttributeError, ValueError) as exc:   # http.client, its connection closed by `close_stream`
            if self._stream is not None:
                raise
            raise MainUnreachable(f"the live hall of the main kiosk at {self.url} was closed here") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise MainUnreachable(f"the main kiosk's live hall at {self.url} is cut ({_why(exc)})") from None
        finally:
            self.close_stream()
        raise MainUnreachable(f"the main kiosk at {self.url} ended its live hall (stopped?)")

    def close_stream(self) -> None:
        """End `follow_hall` (from any thread)."""
        conn, self._stream = self._stream, None
        if conn is not None:
            if conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            conn.close()

    def _refusal(self, status: int, raw: bytes) -> None:
        if status == 401:
            raise TokenRefused(f"the main kiosk at {self.url} refused this machine's device token (unknown or "
                               "revoked)")
        if status >= 500:
            raise MainUnreachable(f"the main kiosk at {self.url} is not working (HTTP {status})")
        try:
            message = json.loads(raw or b"{}").get("message")
        except (ValueError, AttributeError):
            message = None
        raise MainRefused(message or f"HTTP {status}", status)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        with self._lock:
            try:
                status, raw = self._send(method, self._base + path, data, headers)
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                raise MainUnreachable(f"the main kiosk at {self.url} cannot be reached ({_why(exc)}): "
                                      "no ticket issued") from None
        if status >= 500:
            raise MainUnreachable(f"the main kiosk at {self.url} is not working (HTTP {status}): no ticket issued")
        try:
            answer = json.loads(raw or b"{}")
        except ValueError:
            raise MainUnreachable(f"the main kiosk at {self.url} answered something else than JSON "
                                  f"(HTTP {status}): no ticket issued") from None
        if status == 401:
            raise TokenRefused(f"the main kiosk at {self.url} refused this machine's device token (unknown or "
                               "revoked): no ticket issued")
        if status >= 400:
            raise MainRefused(answer.get("message") or f"HTTP {status}", status)
        return answer

    def _send(self, method: str, path: str, data: bytes | None, headers: dict[str, str]) -> tuple[int, bytes]:
        """One request; a kept-alive connection the main kiosk closed while idle (it closes them after
        a few seconds) is opened afresh once — the request never reached it."""
        reused = self._conn is not None
        try:
            return self._exchange(self._conn or self._connect(), method, path, data, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self._drop()
            if not reused:
                raise
        return self._exchange(self._connect(), method, path, data, headers)

    @staticmethod
    def _exchange(conn: http.client.HTTPConnection, method: str, path: str, data: bytes | None,
                  headers: dict[str, str]) -> tuple[int, bytes]:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        return resp.status, resp.read()

    def _connect(self) -> http.client.HTTPConnection:
        self._conn = self._open()
        return self._conn

    def _open(self) -> http.client.HTTPConnection:
        if self._https:
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout_s, context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)
        conn.connect()
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def close(self) -> None:
        with self._lock:
            self._drop()


def _read_events(resp: http.client.HTTPResponse, dispatch: Callable[[str, str], None]) -> None:
    """Server-sent events (the WHATWG format: `event:`, `data:` lines, a blank line ends one;
    comments and `retry:` ignored) from `resp` until it ends."""
    event, data = "message", []
    while True:
        line = resp.readline(STREAM_LINE_MAX + 1)
        if not line:
            return
        if len(line) > STREAM_LINE_MAX:
            raise MainUnreachable(f"a line of the main kiosk's live hall is over {STREAM_LINE_MAX} bytes")
        text = line.decode("utf-8", errors="replace").rstrip("\r\n")
        if not text:
            if data:
                dispatch(event, "\n".join(data))
            event, data = "message", []
            continue
        field, _, value = text.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)


def _hall_of(data: str, url: str) -> dict[str, Any]:
    try:
        hall = json.loads(data)
    except ValueError:
        hall = None
    if not isinstance(hall, dict) or not isinstance(hall.get("counters"), list) \
            or not isinstance(hall.get("services"), list):
        raise MainUnreachable(f"the main kiosk at {url} sent a hall view that is not one (no counters or services)")
    return hall


def _why(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return str(exc) or type(exc).__name__

