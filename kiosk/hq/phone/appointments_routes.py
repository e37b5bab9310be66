"""The public routes of appointments (no login, no cookie: under ``/api/public/``, which
`kiosk.hq.web.app` exempts from sign-in and CSRF):

* ``GET /api/public/{branch}/slots?service=A`` → ``{"service", "days": [{"day", "slots": [{"slot", "free"}]}]}``
* ``POST /api/public/{branch}/appointments`` ``{"service", "day", "slot", "form"?}`` → 201 the booking
* ``DELETE /api/public/{branch}/appointments/{code}`` → 204 (unknown → 404)

The work is `kiosk.hq.phone.appointments.Appointments`'; here only HTTP: a branch id that
cannot be one (404), a body that is not ``application/json`` (415) or not JSON (400).
"""
from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiosk.hq.ingest.topic import valid_branch
from kiosk.hq.phone.appointments import Appointments
from kiosk.hq.phone.remote import Answer


def _reply(answer: Answer) -> Response:
    if answer.status == 204:
        return Response(status_code=204)
    headers = {"Retry-After": str(int(answer.retry_after_s) + 1)} if answer.retry_after_s is not None else None
    return JSONResponse(answer.body, answer.status, headers=headers)


def _no_branch() -> Response:
    return JSONResponse({"error": "unknown_branch", "message": "not a branch id"}, 404)


def appointment_routes(appointments: Appointments) -> list[Route]:
    """The three routes over `appointments`."""

    async def slots(request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return _no_branch()
        return _reply(await appointments.slots(branch, request.query_params.get("service")))

    async def book(request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return _no_branch()
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
            return JSONResponse({"error": "bad_request", "message": "send application/json"}, 415)
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError, RecursionError):
            return JSONResponse({"error": "bad_json", "message": "the body is not JSON", "field": "body"}, 400)
        address = request.client.host if request.client else "unknown"
        return _reply(await appointments.book(branch, body, address))

    async def cancel(request: Request) -> Response:
        branch = request.path_params["branch"]
        if not valid_branch(branch):
            return _no_branch()
        return _reply(await appointments.cancel(branch, request.path_params["code"]))

    return [Route("/api/public/{branch}/slots", slots, methods=["GET"]),
            Route("/api/public/{branch}/appointments", book, methods=["POST"]),
            Route("/api/public/{branch}/appointments/{code}", cancel, methods=["DELETE"])]


__all__ = ["appointment_routes"]
