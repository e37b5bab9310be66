"""HTTP hardening of the hall web app, as ASGI middleware (the pattern of the HQ dashboard's,
kept apart: `kiosk.lan` does not import `kiosk.hq`).

* `SecurityHeaders`: a strict Content-Security-Policy (scripts, styles, images and connections
  from this origin only, images also as ``data:`` for the ticket's QR; no inline script or style,
  no eval, no framing, no ``<base>``), ``nosniff``, no referrer, ``X-Frame-Options: DENY``,
  ``Cache-Control: no-store`` on everything but ``/static/``, HSTS over TLS.
* `BodyLimit`: a request body is read whole, at most `max_bytes` (``413``) within `timeout_s`
  (``408``), before the application sees it.

There are no cookies: the pages keep their Bearer token in the tab's ``sessionStorage`` and send
it in ``Authorization``, which a browser never adds to a cross-site request — and every body is
``application/json``, which a cross-site form cannot send — so no request can be forged.
"""
from __future__ import annotations

import asyncio
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
HSTS = "max-age=31536000"


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith("/static/")
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                         (b"cross-origin-opener-policy", b"same-origin")]
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                if tls:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers + [(k, v) for k, v in extra if k not in have]}
            await send(message)
        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = 16 * 1024, timeout_s: float = 10.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            first = await asyncio.wait_for(self._read(receive), self.timeout_s)
        except asyncio.TimeoutError:
            await _refuse(send, 408, "timeout", f"request body not received within {self.timeout_s:g} s")
            return
        except OverflowError:
            await _refuse(send, 413, "too_large", f"request body larger than {self.max_bytes} bytes")
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

    async def _read(self, receive: Receive) -> Message | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return None
            body = msg.get("body", b"")
            size += len(body)
            if size > self.max_bytes:
                raise OverflowError
            chunks.append(body)
            if not msg.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"error": code, "message": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"connection", b"close"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
