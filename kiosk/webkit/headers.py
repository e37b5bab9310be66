"""The security headers of the kiosk's web servers (the HQ dashboard, the hall web app), as ASGI
middleware: a Content-Security-Policy given by each app, ``nosniff``, no referrer,
``X-Frame-Options: DENY``, ``Cross-Origin-Opener-Policy: same-origin``, ``Cache-Control:
no-store`` on everything but ``/static/`` (a route's own header wins), HSTS over TLS."""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"


class SecurityHeaders:
    """Adds the security headers to every HTTP response; a header the route set itself is kept."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(("/static/", "/phone/static/"))
        tls = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                have = {k.lower() for k, _ in headers}
                extra = [(b"content-security-policy", self.csp), (b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY"),
                         (b"cross-origin-opener-policy", b"same-origin")]
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                if tls:
                    extra.append((b"strict-transport-security", HSTS.encode()))
                message = {**message, "headers": headers + [(k, v) for k, v in extra if k not in have]}
            await send(message)
        await self.app(scope, receive, send_with_headers)
