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

from starlette.types import ASGIApp

from kiosk.webkit.headers import SecurityHeaders as _SecurityHeaders

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")


class SecurityHeaders(_SecurityHeaders):
    """`kiosk.webkit.headers.SecurityHeaders` with the hall pages' Content-Security-Policy."""

    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app, CSP)
