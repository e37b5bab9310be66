"""Strict reading of the API's JSON bodies: a wrong body is refused (`BadInput`, answered 400
with the field named) before anything is changed.

A body is a JSON object of at most the fields an endpoint names; nothing is converted (``"2"``
is no counter, ``1`` no boolean), texts are printable and bounded.
"""
from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

TICKET_RE = re.compile(r"[A-Z][0-9]{1,4}")
CLERK_RE = re.compile(r"[A-Za-z0-9_-]{1,16}")
SERVICE_RE = re.compile(r"[A-Z]")
ID_RE = re.compile(r"[a-z0-9_-]{1,32}")
NOTE_MAX = 200
FORM_TEXT_MAX = 1000


class BadInput(ValueError):
    """A request the API refuses: `field` names what is wrong (None: the body as a whole)."""

    def __init__(self, field: str | None, message: str, status: int = 400, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status
        self.code = code or (f"bad_{field}" if field else "bad_request")

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return JSONResponse(body, self.status)


async def json_body(request: Request, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}``. Only `allowed` fields."""
    raw = await request.body()
    if not raw.strip():
        return {}
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise BadInput(None, "send the body as application/json", 415, "unsupported_media_type")
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadInput(None, f"the body is not valid JSON: {exc}", code="bad_json") from None
    except RecursionError:
        raise BadInput(None, "the body is nested too deeply", code="bad_json") from None
    if not isinstance(body, dict):
        raise BadInput(None, "the body must be a JSON object", code="bad_json")
    for key in body:
        if key not in allowed:
            raise BadInput(key, f"unknown field {key[:40]!r} (allowed: {', '.join(allowed) or 'none'})",
                           code="unknown_field")
    return body


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def text(body: dict[str, Any], field: str, pattern: re.Pattern[str] | None = None, *, required: bool = False,
         max_len: int = NOTE_MAX, what: str = "a text") -> str | None:
    value = body.get(field)
    if value is None:
        if required:
            raise BadInput(field, f"{field} is missing: give {what}")
        return None
    if not isinstance(value, str):
        raise BadInput(field, f"{field} must be {what}, not {type(value).__name__}")
    if len(value) > max_len:
        raise BadInput(field, f"{field} is longer than {max_len} characters")
    if pattern is not None and not pattern.fullmatch(value):
        raise BadInput(field, f"{field} must be {what}")
    if pattern is None and not value.isprintable():
        raise BadInput(field, f"{field} has control characters")
    return value


def integer(body: dict[str, Any], field: str, lo: int, hi: int, *, required: bool = False,
            what: str = "a number") -> int | None:
    value = body.get(field)
    if value is None:
        if required:
            raise BadInput(field, f"{field} is missing: give {what}")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadInput(field, f"{field} must be {what} ({lo}–{hi})")
    return value


def flag(body: dict[str, Any], field: str, default: bool) -> bool:
    value = body.get(field, default)
    if not isinstance(value, bool):
        raise BadInput(field, f"{field} must be true or false")
    return value


def pin(body: dict[str, Any]) -> str:
    value = text(body, "pin", required=True, max_len=12, what="the PIN (4–12 digits)")
    assert value is not None
    if not (value.isascii() and value.isdigit() and 4 <= len(value) <= 12):
        raise BadInput("pin", "pin must be 4–12 digits")
    return value


def form_values(body: dict[str, Any]) -> dict[str, Any] | None:
    """The pre-acceptance values: an object of at most 20 short fields (the engine checks them
    against the service's form and names a bad one)."""
    value = body.get("form")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) > 20:
        raise BadInput("form", "form must be an object of at most 20 fields")
    for k, v in value.items():
        if not ID_RE.fullmatch(k):
            raise BadInput("form", f"form field {k[:40]!r} is not a field id")
        if not (isinstance(v, bool) or (isinstance(v, str) and len(v) <= FORM_TEXT_MAX and v.isprintable())):
            raise BadInput("form", f"form field {k!r} must be a short text or true/false")
    return value
