"""The public routes of "your turn is near": ``POST /t/{token}/alerts`` (a phone asks to be told)
and ``GET /api/public/push-key`` (the VAPID public key its service worker subscribes with).

A token that is malformed or whose ticket is unknown gets the same plain 404 as ``GET
/t/{token}``; the body must be JSON (``Content-Type: application/json``, which a plain HTML
form cannot send) of at most 4 KB; refusals are ``{"error", "message"}``.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from kiosk.hq.phone.follow_index import key_of
from kiosk.hq.phone.notify.notifier import Notifier, TooManyAlerts
from kiosk.hq.phone.notify.request import MAX_BODY, AlertRefused, parse_alert

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{22}")


def _not_found() -> Response:
    return PlainTextResponse("not found", status_code=404)


def _refused(status: int, error: str, message: str) -> Response:
    return JSONResponse({"error": error, "message": message}, status_code=status,
                        headers={"Cache-Control": "no-store"})


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is over MAX_BODY (read no further than that)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


def alert_routes(index: Any, notifier: Notifier) -> list[Route]:
    """The routes to mount on the public app: they need no login and set no cookie."""

    async def alerts(request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN_RE.fullmatch(token):
            return _not_found()
        key = key_of(token)
        view = index.view(key)
        if view is None:
            return _not_found()
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/json":
            return _refused(415, "bad_type", "send the request as application/json")
        body = await _read_body(request)
        if body is None:
            return _refused(413, "too_large", f"the request is larger than {MAX_BODY} bytes")
        try:
            req = parse_alert(body, notifier.allow_insecure_push)
            notifier.register(token, key, req, view)
        except TooManyAlerts as exc:
            return _refused(429, "too_many", str(exc))
        except AlertRefused as exc:
            return _refused(400, "bad_request", str(exc))
        return JSONResponse({"ok": True, "ahead": req.ahead, "minutes": req.minutes, "on_call": req.on_call,
                             "push": req.push is not None, "phone": req.phone is not None},
                            status_code=201, headers={"Cache-Control": "no-store"})

    async def push_key(request: Request) -> Response:
        if notifier.push_key is None:
            return _not_found()
        return JSONResponse({"key": notifier.push_key}, headers={"Cache-Control": "public, max-age=300"})

    return [Route("/t/{token}/alerts", alerts, methods=["POST"]),
            Route("/api/public/push-key", push_key, methods=["GET"])]


__all__ = ["alert_routes"]
