"""What HQ keeps for a branch, retained on ``{prefix}/{branch}/hq/{name}`` (docs/phone.md): the
day's appointments (`hq/appointments`) and the nearest branches at a peak (`hq/neighbours`).

Shared with the HQ server, which checks what it sends with the same functions. Every payload is
checked strictly before the kiosk uses it (`HqDataError` names the field; nothing is applied):
a JSON object of at most `MAX_BYTES`, ``"v": 1``, no unknown fields. `HqDataChannel` subscribes to
``{branch}/hq/+`` on each connection and hands checked documents to the kiosk.
"""
from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Collection
from datetime import date
from typing import Any

from kiosk.mqtt.protocol import MAX_FORM_FIELDS, MAX_FORM_TEXT, json_type

log = logging.getLogger(__name__)

MAX_BYTES = 512 * 1024
MAX_DAYS = 3
MAX_PER_DAY = 2000
MAX_NEIGHBOURS = 5
NAMES = ("appointments", "neighbours")
_CODE = re.compile(r"^[0-9]{8}$")
_SLOT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_SERVICE = re.compile(r"^[A-Z]$")
_BRANCH = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FIELD = re.compile(r"^[a-z0-9_]{1,32}$")


class HqDataError(ValueError):
    """A document from HQ refused; `field` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _doc(payload: bytes | str, allowed: tuple[str, ...]) -> dict[str, Any]:
    raw = payload.encode() if isinstance(payload, str) else payload
    if len(raw) > MAX_BYTES:
        raise HqDataError("payload", f"larger than {MAX_BYTES} bytes")
    try:
        doc = json.loads(raw, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise HqDataError("payload", f"not JSON ({str(exc)[:60]})") from None
    if not isinstance(doc, dict):
        raise HqDataError("payload", f"must be an object, not {json_type(doc)}")
    unknown = sorted(k for k in doc if k not in (*allowed, "v", "ts"))
    if unknown:
        raise HqDataError(unknown[0][:40], "unknown field")
    if doc.get("v", 1) != 1:
        raise HqDataError("v", "must be 1")
    return doc


def check_appointments(payload: bytes | str, services: Collection[str] = ()) -> dict[str, list[dict[str, Any]]]:
    """The bookings by day from an `hq/appointments` payload (see the module)."""
    doc = _doc(payload, ("days",))
    days = doc.get("days")
    if not isinstance(days, dict):
        raise HqDataError("days", f"must be an object of day → bookings, not {json_type(days)}")
    if len(days) > MAX_DAYS:
        raise HqDataError("days", f"more than {MAX_DAYS} days")
    out: dict[str, list[dict[str, Any]]] = {}
    for day, entries in days.items():
        try:
            date.fromisoformat(day)
        except ValueError:
            raise HqDataError("days", f"{day[:20]!r} is not a day YYYY-MM-DD") from None
        if len(day) != 10:
            raise HqDataError("days", f"{day[:20]!r} is not a day YYYY-MM-DD")
        if not isinstance(entries, list) or len(entries) > MAX_PER_DAY:
            raise HqDataError(f"days.{day}", f"must be a list of at most {MAX_PER_DAY} bookings")
        seen: set[str] = set()
        out[day] = [_booking(f"days.{day}[{i}]", e, services, seen) for i, e in enumerate(entries)]
    return out


def _booking(where: str, e: Any, services: Collection[str], seen: set[str]) -> dict[str, Any]:
    if not isinstance(e, dict):
        raise HqDataError(where, f"must be an object, not {json_type(e)}")
    unknown = sorted(k for k in e if k not in ("code", "service", "slot", "form"))
    if unknown:
        raise HqDataError(f"{where}.{unknown[0][:40]}", "unknown field")
    code, service, slot = e.get("code"), e.get("service"), e.get("slot")
    if not isinstance(code, str) or not _CODE.match(code):
        raise HqDataError(f"{where}.code", "must be 8 digits")
    if code in seen:
        raise HqDataError(f"{where}.code", "listed twice")
    seen.add(code)
    if not isinstance(service, str) or not _SERVICE.match(service) or (services and service not in services):
        raise HqDataError(f"{where}.service", f"not a service of this branch: {str(service)[:8]!r}")
    if not isinstance(slot, str) or not _SLOT.match(slot):
        raise HqDataError(f"{where}.slot", "must be HH:MM")
    out = {"code": code, "service": service, "slot": slot}
    form = e.get("form")
    if form is not None:
        if not isinstance(form, dict) or len(form) > MAX_FORM_FIELDS:
            raise HqDataError(f"{where}.form", f"must be an object of at most {MAX_FORM_FIELDS} fields")
        for k, v in form.items():
            if not _FIELD.match(k) or not isinstance(v, (str, bool)) or (isinstance(v, str) and len(v) > MAX_FORM_TEXT):
                raise HqDataError(f"{where}.form", f"field {k[:40]!r}: text of at most {MAX_FORM_TEXT} or true/false")
        out["form"] = dict(form)
    return out


def check_neighbours(payload: bytes | str) -> dict[str, Any]:
    """The nearest branches from an `hq/neighbours` payload: {"ts", "neighbours": [...]}."""
    doc = _doc(payload, ("neighbours",))
    items = doc.get("neighbours")
    if not isinstance(items, list) or len(items) > MAX_NEIGHBOURS:
        raise HqDataError("neighbours", f"must be a list of at most {MAX_NEIGHBOURS}")
    out = []
    for i, n in enumerate(items):
        where = f"neighbours[{i}]"
        if not isinstance(n, dict):
            raise HqDataError(where, f"must be an object, not {json_type(n)}")
        unknown = sorted(k for k in n if k not in ("branch", "name", "km", "online", "waiting", "services"))
        if unknown:
            raise HqDataError(f"{where}.{unknown[0][:40]}", "unknown field")
        if not isinstance(n.get("branch"), str) or not _BRANCH.match(n["branch"]):
            raise HqDataError(f"{where}.branch", "not a branch id")
        name = n.get("name")
        if not isinstance(name, dict) or not all(isinstance(name.get(k, ""), str) and len(name.get(k, "")) <= 60
                                                 and _printable(name.get(k, "")) for k in ("zh", "en")) \
                or set(name) - {"zh", "en"}:
            raise HqDataError(f"{where}.name", "must be {zh, en} texts of at most 60 printable characters")
        km = n.get("km")
        if isinstance(km, bool) or not isinstance(km, (int, float)) or not math.isfinite(km) or not 0 <= km <= 1000:
            raise HqDataError(f"{where}.km", "must be a distance 0–1000")
        waiting = n.get("waiting")
        if isinstance(waiting, bool) or not isinstance(waiting, int) or not 0 <= waiting <= 100_000:
            raise HqDataError(f"{where}.waiting", "must be a count")
        services = n.get("services", [])
        if not isinstance(services, list) or len(services) > 26:
            raise HqDataError(f"{where}.services", "must be a list of at most 26")
        checked = []
        for j, s in enumerate(services):
            if not isinstance(s, dict) or not isinstance(s.get("service"), str) or not _SERVICE.match(s["service"]):
                raise HqDataError(f"{where}.services[{j}]", "must name a service")
            w, est = s.get("waiting"), s.get("estimate_s")
            if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w <= 100_000:
                raise HqDataError(f"{where}.services[{j}].waiting", "must be a count")
            if est is not None and (isinstance(est, bool) or not isinstance(est, (int, float))
                                    or not math.isfinite(est) or not 0 <= est <= 86_400):
                raise HqDataError(f"{where}.services[{j}].estimate_s", "must be seconds 0–86400")
            checked.append({"service": s["service"], "waiting": w, "estimate_s": est})
        out.append({"branch": n["branch"], "name": {"zh": name.get("zh", ""), "en": name.get("en", "")},
                    "km": round(float(km), 1), "online": bool(n.get("online", True)), "waiting": waiting,
                    "services": checked})
    return {"ts": doc.get("ts") if isinstance(doc.get("ts"), str) else None, "neighbours": out}


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)
