"""Limits that keep a web server of the kiosk (`kiosk hq serve`, the hall web app) answering when
clients are idle, slow or hostile.

uvicorn's HTTP/1.1 server (h11) closes a connection that stays idle after a response
(``timeout_keep_alive``) and refuses a request head larger than
``h11_max_incomplete_event_size``, but it waits forever for a request head that never
completes — a connection that sends nothing, or a header a byte at a time — and it accepts
every connection. `limited_h11` adds what is missing:

* a deadline for each request head: from the moment the connection opens, and again from the
  end of each response; a client that has not sent a complete head by then is disconnected;
* a cap on open connections, in all and per client address: a connection over a cap gets
  ``503`` and is closed at once, before anything of it is read.

`BodyLimit` (ASGI middleware) reads a request body whole, with a size cap (``413``) and a
deadline (``408``), before the application sees it; its refusals are plain text, or JSON
(``{"error": "too_large"|"timeout", "message": …}``) for an API that answers only JSON.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n"
                 b"connection: close\r\ncontent-length: 25\r\n\r\ntoo many open connections")
HEAD_TOO_LARGE_RESPONSE = (b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
                           b"connection: close\r\ncontent-length: 25\r\n\r\nrequest head is too large")


@dataclass(frozen=True)
class ServerLimits:
    """What one client may hold of the server."""

    request_timeout_s: float = 10.0
    """Time to send a request head (from the connection opening or the previous response),
    and again to send its body."""
    keep_alive_s: float = 5.0
    """An idle connection after a response is closed after this long."""
    max_connections: int = 256
    """Open connections in all (each open page holds one for its live updates)."""
    max_connections_per_address: int = 32
    """Open connections from one client address; 0: no cap per address (behind a reverse proxy
    every connection comes from the proxy's address: let the proxy cap per client)."""
    max_header_bytes: int = 16 * 1024
    """A request line and headers larger than this are refused (400)."""
    max_body_bytes: int = 64 * 1024
    """A request body larger than this is refused (413): logins and commands are small."""

    def __post_init__(self) -> None:
        for name in ("request_timeout_s", "keep_alive_s", "max_connections", "max_header_bytes", "max_body_bytes"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, not {getattr(self, name)!r}")
        if self.max_connections_per_address < 0:
            raise ValueError(f"max_connections_per_address must be >= 0, not {self.max_connections_per_address!r}")


def limited_h11(limits: ServerLimits) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline and connection caps (``Config(http=…)``)."""

    cap = limits.max_header_bytes

    class LimitedH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None
        _refused = False

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            peer = transport.get_extra_info("peername")
            host = peer[0] if isinstance(peer, (tuple, list)) and peer else None
            per = limits.max_connections_per_address
            if len(self.connections) >= limits.max_connections or (
                    per and host is not None and sum(1 for c in self.connections
                                                     if c.client and c.client[0] == host) >= per):
                self._refused = True
                log.debug("refused a connection from %s: too many open connections", host)
                transport.write(BUSY_RESPONSE)
                transport.close()
                return
            super().connection_made(transport)
            self._arm_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._refused:
                return
            self._disarm_head_deadline()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._refused:
                return
            if self.conn.their_state is h11.IDLE and _head_size(self.conn.trailing_data[0] + data) > cap:
                # h11 checks its limit only while a head is incomplete: one sent whole is checked here
                self._disarm_head_deadline()
                self.transport.write(HEAD_TOO_LARGE_RESPONSE)
                self.transport.close()
                return
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm_head_deadline()  # the head is complete

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm_head_deadline()  # for the next request's head

        def _arm_head_deadline(self) -> None:
            self._disarm_head_deadline()
            self._head_deadline = self.loop.call_later(limits.request_timeout_s, self._head_timed_out)

        def _disarm_head_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_timed_out(self) -> None:
            self._head_deadline = None
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                log.debug("closed a connection from %s: no request head within %.1f s", self.client,
                          limits.request_timeout_s)
                self.transport.close()

    return LimitedH11Protocol


def _head_size(buffered: bytes) -> int:
    """Bytes of the request head at the start of `buffered` (all of it while the head is unfinished);
    like h11, a head ends at an empty line, with or without its carriage return."""
    ends = [i for i in (buffered.find(b"\n\r\n"), buffered.find(b"\n\n")) if i >= 0]
    return min(ends) if ends else len(buffered)


class BodyTooLarge(Exception):
    """A request body over `ServerLimits.max_body_bytes`."""


class BodyLimit:
    """ASGI middleware: the request body is read whole (at most `max_body_bytes`, within
    `request_timeout_s`) before `app` runs; later `receive()` calls (a disconnect) pass through.
    `json_errors`: refuse with a JSON body instead of plain text."""

    def __init__(self, app: ASGIApp, limits: ServerLimits, *, json_errors: bool = False) -> None:
        self.app = app
        self.limits = limits
        self.json_errors = json_errors

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limits.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            await self._refuse(send, 413, f"request body too large: {declared} bytes, at most {cap}")
            return
        try:
            first = await asyncio.wait_for(_read_body(receive, cap), self.limits.request_timeout_s)
        except asyncio.TimeoutError:
            await self._refuse(send, 408, f"request body not received within {self.limits.request_timeout_s:g} s")
            return
        except BodyTooLarge:
            await self._refuse(send, 413, f"request body too large: more than {cap} bytes")
            return
        if first is None:
            return  # the client went away
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return first

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        if self.json_errors:
            body = json.dumps({"error": "too_large" if status == 413 else "timeout", "message": message}).encode()
            kind = b"application/json"
        else:
            body, kind = message.encode(), b"text/plain; charset=utf-8"
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", kind), (b"connection", b"close"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or ():
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # h11 has refused a malformed length already
    return None


async def _read_body(receive: Receive, cap: int) -> Message | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        msg = await receive()
        if msg["type"] == "http.disconnect":
            return None
        body = msg.get("body", b"")
        size += len(body)
        if size > cap:
            raise BodyTooLarge
        chunks.append(body)
        if not msg.get("more_body", False):
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


__all__ = ["BodyLimit", "ServerLimits", "limited_h11"]
