"""Authentication and authorisation of one API request, and running a kiosk call from it.

`who(request, roles)` reads ``Authorization: Bearer …`` (401 without a valid token, 403 for a
role the endpoint does not take); `acting_counter` says at which counter a request acts — a
clerk only at the counter they signed in at (403 otherwise), the manager at the one named by
``at`` or the one they signed in at; `core` awaits a kiosk call and turns a refusal of the
engine into a JSON 4xx (nothing changed).
"""
from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future
from typing import Any, TypeVar

from starlette.requests import Request

from kiosk.config.settings import Settings
from kiosk.domain import errors
from kiosk.lan.inputs import BadInput, integer
from kiosk.lan.tokens import CLERK, MANAGER, Principal, TokenBook

log = logging.getLogger("kiosk.lan")

CORE_TIMEOUT_S = 10.0
STAFF = (CLERK, MANAGER)
T = TypeVar("T")


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def who(request: Request, tokens: TokenBook, roles: tuple[str, ...] = STAFF) -> Principal:
    token = bearer(request)
    if not token:
        raise BadInput(None, "sign in first: send Authorization: Bearer <token>", 401, "unauthorized")
    p = tokens.lookup(token)
    if p is None:
        raise BadInput(None, "the token is unknown, expired or signed out: sign in again", 401, "unauthorized")
    if p.role not in roles:
        raise BadInput(None, f"a {p.role} may not do this", 403, "forbidden")
    return p


def known_counter(settings: Settings, value: int | None, field: str) -> int | None:
    if value is not None and settings.counter(value) is None:
        raise BadInput(field, f"there is no counter {value} (counters: "
                              f"{', '.join(str(c.number) for c in settings.counters)})")
    return value


def acting_counter(p: Principal, settings: Settings, at: int | None) -> int:
    """The counter a counter request acts at (`at`: the request's ``at``)."""
    known_counter(settings, at, "at")
    if p.role == MANAGER:
        counter = at if at is not None else p.counter
        if counter is None:
            raise BadInput("at", "at is missing: name the counter (the manager signed in without one)")
        return counter
    if p.counter is None:
        raise BadInput(None, f"clerk {p.clerk} signed in without a counter: sign in at one", 403, "forbidden")
    if at is not None and at != p.counter:
        log.warning("lan: refused: %s tried to act at counter %d", p.describe(), at)
        raise BadInput("at", f"clerk {p.clerk} is signed in at counter {p.counter}, not {at}", 403, "forbidden")
    return p.counter


def at_param(body: dict[str, Any]) -> int | None:
    return integer(body, "at", 1, 999, what="a counter number")


async def core(fut: Future[T]) -> T:
    """The result of a kiosk call; an engine refusal becomes `BadInput` (409, or 404 for an
    unknown ticket; 400 naming the field when the engine names one)."""
    try:
        return await asyncio.wait_for(asyncio.wrap_future(fut), CORE_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise BadInput(None, "the kiosk did not answer in time", 503, "busy") from None
    except errors.KioskError as exc:
        field = getattr(exc, "field", None)
        code = getattr(exc, "code", "refused")
        if isinstance(field, str) and field:
            raise BadInput(field, str(exc), 400, code) from None
        status = 404 if isinstance(exc, errors.UnknownTicket) else 409
        raise BadInput(None, str(exc), status, code) from None


def audit(p: Principal, action: str, outcome: Any, **details: Any) -> None:
    """The kiosk's log line of a state-changing request: who, what, where, the result."""
    extra = " ".join(f"{k}={v!r}" for k, v in details.items() if v is not None)
    log.info("lan: %s: %s%s → %s", p.describe(), action, f" ({extra})" if extra else "", outcome)
