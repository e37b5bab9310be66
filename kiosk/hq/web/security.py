"""HTTP hardening as ASGI middleware: security headers on every response, CSRF tokens on
every state-changing request.

* `SecurityHeaders`: a strict Content-Security-Policy (scripts, styles, images and
  connections from this origin only; no inline script or style, no eval; no framing; forms
  post only here; no ``<base>``), ``nosniff``, no referrer, ``X-Frame-Options: DENY``,
  ``Cache-Control: no-store`` on everything but ``/static/`` (versioned by ``?v=``), and
  HSTS only when the request came over TLS.
* `CsrfProtect`: a session-bound token (`csrf_token`, kept in the signed session cookie).
  Every POST/PUT/PATCH/DELETE must carry it in the ``X-CSRF-Token`` header or, for an HTML
  form, the ``csrf`` field; otherwise ``403`` with ``{"error": "csrf", "message": …}``
  naming what is wrong. The login form has one too (an anonymous session holds it). The
  public routes of the phones (`kiosk.hq.phone.routes`) need none: no session authorises them.
"""
from __future__ import annotations

import hmac
import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kiosk.webkit.headers import SecurityHeaders as _SecurityHeaders

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = b"x-csrf-token"
CSRF_FIELD = "csrf"
MAX_FORM_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"


def csrf_token(session: dict[str, Any]) -> str:
    """The session's CSRF token, made on first use."""
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


class SecurityHeaders(_SecurityHeaders):
    """`kiosk.webkit.headers.SecurityHeaders` with the dashboard' Content-Security-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, CSP)


def _refuse(scope: Scope, status: int, message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    if scope["path"].startswith("/api/"):
        body = json.dumps({"error": "csrf" if status == 403 else "too_large", "message": message}).encode()
        return [(b"content-type", b"application/json")], body
    return [(b"content-type", b"text/plain; charset=utf-8")], f"{status}: {message}\n".encode()


class CsrfProtect:
    """Refuses a state-changing request without the session's CSRF token (needs the session
    middleware in front). Paths under `exempt_prefixes` (public routes that no session or cookie
    authorises, so no other site can borrow one) pass."""

    def __init__(self, app: ASGIApp, exempt_prefixes: tuple[str, ...] = ()) -> None:
        self.app = app
        self.exempt_prefixes = exempt_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or (
                self.exempt_prefixes and scope["path"].startswith(self.exempt_prefixes)):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        given = headers.get(CSRF_HEADER, b"").decode("latin-1")
        replay: list[Message] = []
        problem = None
        status = 403
        ctype = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
        if not given and ctype == FORM_TYPE:
            body, more = b"", True
            while more:
                msg = await receive()
                replay.append(msg)
                if msg["type"] != "http.request":
                    break
                body += msg.get("body", b"")
                more = msg.get("more_body", False)
                if len(body) > MAX_FORM_BYTES:
                    problem, status = f"form larger than {MAX_FORM_BYTES} bytes", 413
                    break
            if problem is None:
                field = parse_qs(body.decode("utf-8", "replace")).get(CSRF_FIELD) or [""]
                given = field[0]
        expected = (scope.get("session") or {}).get(CSRF_FIELD)
        if problem is not None:
            pass
        elif not isinstance(expected, str) or not expected:
            problem = "no CSRF token in this session (cookie missing or expired): reload the page and try again"
        elif not given:
            problem = f"CSRF token missing: send the {CSRF_HEADER.decode()} header or the {CSRF_FIELD} form field"
        elif not hmac.compare_digest(given.encode(), expected.encode()):
            problem = "CSRF token does not match this session: reload the page and try again"
        if problem is not None:
            hdrs, body = _refuse(scope, status, problem)
            await send({"type": "http.response.start", "status": status,
                        "headers": hdrs + [(b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()
        await self.app(scope, replayed, send)
