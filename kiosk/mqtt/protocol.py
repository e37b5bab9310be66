"""The HQ command contract between a kiosk and HQ: the commands on
``{prefix}/{branch}/cmd/{name}`` (schemas, strict validation) and their replies.

Shared by the kiosk and the HQ server (which validates a command as the kiosk will before
sending it); imports nothing of the running kiosk. `validate()` is a pure function: bytes
in, a `Command` or a `CommandError` out. `reply_ok`/`reply_error` build the reply payload
(``{"v":1,"ts","command","ok",...}``); what a command does on the kiosk is
`kiosk.mqtt.command_handler`.

Schemas (every payload is a JSON object of at most ``max_command_bytes`` bytes; unknown
fields are rejected; an optional ``"id"`` (1-64 printable characters) is echoed in the
reply; an optional ``"v"`` must be 1):

====================  =================================================================
``ping``              ``{}``
``counter``           ``{"counter": 1..999 (configured), "state": "open"|"paused"|"closed"}``
``stats``             ``{}`` (the queue snapshot, as on the ``queue`` topic)
``display_message``   ``{"text": 1..280 characters, "seconds": 1..3600 (default 60)}``
``service_hours``     ``{"service": "A" (configured), "hours": ["HH:MM-HH:MM", ...] (1..8)}``
``resend``            ``{"from_seq": 1..2^53, "to_seq": from_seq..from_seq + 9,999 (default the
                      largest)}``: publish the kept events of that range again (HQ found a gap)
``issue_remote``      ``{"service": "A" (configured), "form": {field: text|bool} (optional, the
                      service's pre-acceptance form, checked by the kiosk)}``: a ticket taken on a phone,
                      parked until checked in at the kiosk; the reply carries ticket, ticket_id,
                      service, follow_token, check_in_code, ahead, estimate_s, check_in_by
====================  =================================================================
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from kiosk.config.settings import Settings, parse_hours
from kiosk.mqtt.topics import iso_ts

MAX_ID_CHARS = 64
MAX_TEXT_CHARS = 280
MAX_HOURS_RANGES = 8
MAX_NAME_CHARS = 64
MAX_SEQ = 2**53  # the largest seq HQ's ingest accepts
MAX_RESEND = 10_000  # seqs in one resend
COMMON_FIELDS = ("id", "v")
_NAME_RE = re.compile(r"^[a-z_]{1,64}$")
_HOURS_RE = re.compile(r"^\d\d:\d\d-\d\d:\d\d$")


class CommandError(Exception):
    """A command that is rejected; `code` is machine-readable, the message names the problem."""

    def __init__(self, code: str, message: str, cmd_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.cmd_id = cmd_id


@dataclass(frozen=True)
class Command:
    """A valid command: `name` (a key of `SCHEMAS`), its checked `args`, the `id` to echo."""

    name: str
    args: dict[str, Any]
    id: str | None = None


@dataclass(frozen=True)
class Limits:
    """What the validator needs to know about the branch (pure data, no engine)."""

    max_bytes: int = 4096
    counters: Collection[int] = field(default_factory=frozenset)
    services: Collection[str] = field(default_factory=frozenset)

    @classmethod
    def from_settings(cls, settings: Settings, max_bytes: int | None = None) -> Limits:
        return cls(max_bytes=max_bytes if max_bytes is not None else settings.mqtt.max_command_bytes,
                   counters=frozenset(c.number for c in settings.counters),
                   services=frozenset(s.prefix for s in settings.services))


# -- field checks (each raises CommandError naming the field) --------------------------------
def _int(args: dict, key: str, lo: int, hi: int, *, required: bool = True, default: int | None = None) -> int | None:
    if key not in args:
        if required:
            raise CommandError("missing_field", f"missing field {key!r}")
        return default
    v = args[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise CommandError("bad_type", f"field {key!r} must be an integer, not {json_type(v)}")
    if not lo <= v <= hi:
        raise CommandError("out_of_range", f"field {key!r} must be between {lo} and {hi}, not {v}")
    return v


def _str(args: dict, key: str, *, max_chars: int, required: bool = True) -> str | None:
    if key not in args:
        if required:
            raise CommandError("missing_field", f"missing field {key!r}")
        return None
    v = args[key]
    if not isinstance(v, str):
        raise CommandError("bad_type", f"field {key!r} must be a string, not {json_type(v)}")
    if not v.strip():
        raise CommandError("out_of_range", f"field {key!r} must not be empty")
    if len(v) > max_chars:
        raise CommandError("out_of_range", f"field {key!r} is longer than {max_chars} characters")
    for pos, ch in enumerate(v, 1):
        cat = unicodedata.category(ch)
        if cat == "Cc":
            raise CommandError("bad_value", f"field {key!r} contains a control character U+{ord(ch):04X} "
                                            f"at position {pos}")
        if cat in ("Cs", "Co", "Cn"):
            raise CommandError("bad_value", f"field {key!r} contains an unassigned or private character "
                                            f"U+{ord(ch):04X} at position {pos}")
    return v


def _choice(args: dict, key: str, choices: tuple[str, ...]) -> str:
    if key not in args:
        raise CommandError("missing_field", f"missing field {key!r}")
    v = args[key]
    if not isinstance(v, str):
        raise CommandError("bad_type", f"field {key!r} must be a string, not {json_type(v)}")
    if v not in choices:
        raise CommandError("bad_value", f"field {key!r} must be one of {', '.join(choices)}, not {v[:32]!r}")
    return v


def json_type(v: Any) -> str:
    """The JSON name of a value's type, for messages (also HQ's ingest boundary)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, int):
        return "an integer"
    if isinstance(v, float):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, list):
        return "an array"
    if isinstance(v, dict):
        return "an object"
    return type(v).__name__


def _only(args: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(k for k in args if k not in allowed and k not in COMMON_FIELDS)
    if unknown:
        shown = ", ".join(repr(k[:32]) for k in unknown[:5])
        raise CommandError("unknown_field", f"unknown field{'s' if len(unknown) > 1 else ''} {shown}")


# -- per-command schemas -----------------------------------------------------------------------
def _v_empty(args: dict, limits: Limits) -> dict:
    _only(args, ())
    return {}


def _v_counter(args: dict, limits: Limits) -> dict:
    _only(args, ("counter", "state"))
    counter = _int(args, "counter", 1, 999)
    if limits.counters and counter not in limits.counters:
        raise CommandError("unknown_counter", f"no counter {counter} in this branch")
    state = _choice(args, "state", ("open", "paused", "closed"))
    return {"counter": counter, "state": state}


def _v_display_message(args: dict, limits: Limits) -> dict:
    _only(args, ("text", "seconds"))
    text = _str(args, "text", max_chars=MAX_TEXT_CHARS)
    seconds = _int(args, "seconds", 1, 3600, required=False, default=60)
    return {"text": text, "seconds": seconds}


def _v_service_hours(args: dict, limits: Limits) -> dict:
    _only(args, ("service", "hours"))
    service = _service(args, limits)
    if "hours" not in args:
        raise CommandError("missing_field", "missing field 'hours'")
    hours = args["hours"]
    if not isinstance(hours, list):
        raise CommandError("bad_type", f"field 'hours' must be an array, not {json_type(hours)}")
    if not 1 <= len(hours) <= MAX_HOURS_RANGES:
        raise CommandError("out_of_range", f"field 'hours' needs 1 to {MAX_HOURS_RANGES} ranges, not {len(hours)}")
    for i, h in enumerate(hours):
        if not isinstance(h, str) or not _HOURS_RE.match(h):
            raise CommandError("bad_value", f"hours[{i}] must be a range \"HH:MM-HH:MM\"")
        try:
            parse_hours(h)
        except ValueError as exc:
            raise CommandError("bad_value", f"hours[{i}]: {exc}") from None
    return {"service": service, "hours": list(hours)}


def _service(args: dict, limits: Limits) -> str:
    service = _str(args, "service", max_chars=1)
    if not re.fullmatch(r"[A-Z]", service or ""):
        raise CommandError("bad_value", "field 'service' must be one capital letter")
    if limits.services and service not in limits.services:
        raise CommandError("unknown_service", f"no service {service!r} in this branch")
    assert service is not None
    return service


MAX_FORM_FIELDS = 30
MAX_FORM_TEXT = 1000


def _form(args: dict) -> dict | None:
    """A pre-acceptance form's shape (field id → text or true/false); the kiosk checks it against
    the service's form (`kiosk.engine.preacceptance`)."""
    if "form" not in args or args["form"] is None:
        return None
    form = args["form"]
    if not isinstance(form, dict):
        raise CommandError("bad_type", f"field 'form' must be an object, not {json_type(form)}")
    if len(form) > MAX_FORM_FIELDS:
        raise CommandError("out_of_range", f"field 'form' has more than {MAX_FORM_FIELDS} fields")
    for k, v in form.items():
        if not re.fullmatch(r"[a-z0-9_]{1,32}", k):
            raise CommandError("bad_value", f"form field {k[:40]!r} is not a field id")
        if not isinstance(v, (str, bool)) or (isinstance(v, str) and len(v) > MAX_FORM_TEXT):
            raise CommandError("bad_value", f"form.{k} must be text of at most {MAX_FORM_TEXT} characters "
                                            f"or true/false")
    return dict(form)


def _v_issue_remote(args: dict, limits: Limits) -> dict:
    _only(args, ("service", "form"))
    out: dict[str, Any] = {"service": _service(args, limits)}
    form = _form(args)
    if form is not None:
        out["form"] = form
    return out


def _v_resend(args: dict, limits: Limits) -> dict:
    _only(args, ("from_seq", "to_seq"))
    first = _int(args, "from_seq", 1, MAX_SEQ)
    last = _int(args, "to_seq", first, min(MAX_SEQ, first + MAX_RESEND - 1), required=False,
                default=min(MAX_SEQ, first + MAX_RESEND - 1))
    return {"from_seq": first, "to_seq": last}


SCHEMAS: dict[str, Callable[[dict, Limits], dict]] = {
    "ping": _v_empty,
    "counter": _v_counter,
    "stats": _v_empty,
    "display_message": _v_display_message,
    "service_hours": _v_service_hours,
    "resend": _v_resend,
    "issue_remote": _v_issue_remote,
}


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate field {k[:32]!r}")
        out[k] = v
    return out


def validate(name: str, payload: bytes | bytearray | str, limits: Limits) -> Command:
    """A valid `Command`, or `CommandError` naming the problem. Pure: changes nothing."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise CommandError("unknown_command", f"unknown command {str(name)[:MAX_NAME_CHARS]!r}")
    if name not in SCHEMAS:
        raise CommandError("unknown_command",
                           f"unknown command {name!r} (known: {', '.join(sorted(SCHEMAS))})")
    raw = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(raw) > limits.max_bytes:
        raise CommandError("too_large", f"payload is {len(raw)} bytes, more than the limit {limits.max_bytes}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CommandError("bad_json", "payload is not UTF-8") from None
    if not text.strip():
        raise CommandError("bad_json", "payload is empty: send a JSON object, e.g. {}")
    try:
        doc = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicates)
    except RecursionError:
        raise CommandError("bad_json", "payload is nested too deeply") from None
    except ValueError as exc:
        raise CommandError("bad_json", f"payload is not valid JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict):
        raise CommandError("not_object", f"payload must be a JSON object, not {json_type(doc)}")
    cmd_id = None
    if "id" in doc:
        v = doc["id"]
        if not isinstance(v, str) or not 1 <= len(v) <= MAX_ID_CHARS or not v.isprintable():
            raise CommandError("bad_value", f"field 'id' must be a string of 1 to {MAX_ID_CHARS} printable characters")
        cmd_id = v
    if "v" in doc:
        v = doc["v"]
        if isinstance(v, bool) or not isinstance(v, int) or v != 1:
            raise CommandError("bad_value", "field 'v' must be 1", cmd_id)
    try:
        args = SCHEMAS[name](doc, limits)
    except CommandError as exc:
        exc.cmd_id = cmd_id
        raise
    return Command(name, args, cmd_id)


# -- replies -----------------------------------------------------------------------------------
def reply_ok(name: str, cmd_id: str | None, result: Any, ts: str | None = None) -> dict[str, Any]:
    """The reply to a command that ran: ``result`` is what it returned."""
    out: dict[str, Any] = {"v": 1, "ts": ts or iso_ts(), "command": name, "ok": True}
    if cmd_id is not None:
        out["id"] = cmd_id
    out["result"] = result
    return out


def reply_error(name: str, cmd_id: str | None, code: str, message: str, ts: str | None = None) -> dict[str, Any]:
    """The reply to a command that was rejected or failed: ``error`` = {code, message}."""
    out: dict[str, Any] = {"v": 1, "ts": ts or iso_ts(), "command": str(name)[:MAX_NAME_CHARS], "ok": False}
    if cmd_id is not None:
        out["id"] = cmd_id
    out["error"] = {"code": code, "message": message}
    return out


def encode(reply: dict[str, Any]) -> bytes:
    """A reply as published: compact UTF-8 JSON (NaN refused)."""
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
