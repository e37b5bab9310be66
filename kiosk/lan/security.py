"""HTTP hardening of the hall web app, as ASGI middleware (the pattern of the HQ dashboard's,
kept apart: `kiosk.lan` does not import `kiosk.hq`).

* `SecurityHeaders`: a strict Content-Security-Policy (scripts, styles, images and connections
  from this origin only, images also as ``data:`` for the ticket's QR; no inline script or style,
  no eval, no framing, no ``<base>``), ``nosniff``, no referrer, ``X-Frame-Options: DENY``,
  ``Cache-Control: no-store`` on everything but ``/static/``, HSTS over TLS.
The limits on request heads, bodies and connections are the shared ones of
`kiosk.webkit.http_limits` (also the HQ dashboard's).

There are no cookies: the pages keep their Bearer token in the tab's ``sessionStorage`` and send
it in ``Authorization``, which a browser never adds to a cross-site request — and every body is
``application/json``, which a cross-site form cannot send — so no request can be forged.
"""
from __future__ import annotations

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
