"""One validator per kind of branch message, each returning a clean typed value.

Every message: a JSON object within the limits (`decode.py`), ``"v"`` absent or 1,
``"branch"`` absent or the topic's branch, ``"ts"`` an ISO time when present. The fields HQ
reads are checked for type, range and format; other fields are kept as sent (bounded by
`decode.decode`), so a newer kiosk's extra fields pass. A good event costs a look per
field; a bad field goes to the check in `fields.py` that names what is wrong.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Union

from kiosk.hq.ingest import fields as f
from kiosk.hq.ingest.decode import decode
from kiosk.hq.ingest.limits import MAX_SAFE_INTEGER, IngestLimits
from kiosk.hq.ingest.rejection import Rejected

ALERT_LEVELS = (0, 2)
COUNTER_STATES = ("open", "paused", "closed")
DEFAULT_LIMITS = IngestLimits()


@dataclass(frozen=True, slots=True)
class Status:
    online: bool
    since: str | None
    version: str | None
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Queue:
    waiting: dict[str, int]           # per service
    longest_wait_s: float
    open_counters: int | None
    alert: tuple[int, str] | None     # (level, reason)
    devices: dict[str, dict[str, Any]] | None   # open faults; None: the kiosk sends none
    targets: dict[str, float]         # target wait per service
    counters: frozenset[int]
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Alert:
    level: int
    reason: str
    open_counters: int | None
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HourlyStats:
    day: str
    hour: int
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    seq: int
    type: str
    ts: str
    day: str | None
    doc: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Reply:
    id: str | None
    ok: bool
    doc: dict[str, Any]


Message = Union[Status, Queue, Alert, HourlyStats, Event, Reply]


def _common(doc: dict[str, Any], branch: str, lim: IngestLimits, *, ts_required: bool = False) -> None:
    """The fields of every message; a good one costs a look each, a bad one goes to the field
    check that names what is wrong."""
    v = doc.get("v", 1)
    if v != 1 or type(v) is bool:
        f.version(doc)
    if doc.get("branch", branch) != branch:
        f.same_branch(doc, branch)
    ts = doc.get("ts")
    if (ts is not None or ts_required) and not f.time_ok(ts, lim):
        f.iso_time(doc, "ts", lim, required=ts_required)


def _each(doc: dict[str, Any], key: str, check: Callable[[dict[str, Any]], Any]) -> list[Any]:
    out = []
    for i, item in enumerate(f.items(doc, key)):
        try:
            if not isinstance(item, dict):
                raise Rejected("bad_type", "must be an object")
            out.append(check(item))
        except Rejected as r:
            raise r.within(i).within(key) from None
    return out


def _nested(doc: dict[str, Any], key: str, check: Callable[[dict[str, Any]], Any]) -> Any:
    sub = f.obj(doc, key)
    if sub is None:
        return None
    try:
        return check(sub)
    except Rejected as r:
        raise r.within(key) from None


def status(doc: dict[str, Any], branch: str, lim: IngestLimits) -> Status:
    _common(doc, branch, lim)
    state = f.choice(doc, "state", ("online", "offline"), required=True)
    since = f.iso_time(doc, "since", lim)
    return Status(state == "online", since or doc.get("ts"), f.ident(doc, "version", pattern=f.VERSION), doc)


def _service(s: dict[str, Any]) -> tuple[str, int, float, float | None]:
    service = f.ident(s, "service", required=True, pattern=f.SHORT_IDENT)
    f.names(s, "name")
    f.count(s, "priority_waiting")
    f.count(s, "served_today")
    f.count(s, "ahead")
    f.seconds(s, "estimate_s")
    f.ident(s, "unavailable")
    return service, f.count(s, "waiting") or 0, f.seconds(s, "longest_wait_s") or 0.0, f.seconds(s, "target_wait_s")


def _counter(c: dict[str, Any]) -> int:
    number = f.integer(c, "counter", 1, 999, required=True)
    f.names(c, "name")
    f.choice(c, "state", COUNTER_STATES)
    f.ident(c, "ticket", pattern=f.SHORT_IDENT)
    f.ident(c, "service", pattern=f.SHORT_IDENT)
    f.ident(c, "ticket_state")
    f.seconds(c, "busy_s")
    for i, s in enumerate(f.items(c, "services")):
        if not isinstance(s, str) or f.SHORT_IDENT.fullmatch(s) is None:
            raise Rejected("bad_value", "must be a service prefix", f"services[{i}]")
    return number


def _alert_of_snapshot(a: dict[str, Any]) -> tuple[int, str]:
    level = f.integer(a, "level", *ALERT_LEVELS, required=True)
    if a.get("code"):
        f.ident(a, "code")
    f.integer(a, "open_counters_needed", 0, 999)
    return level, f.text(a, "reason") or ""


def _unique(values: list[Any], key: str, what: str) -> None:
    seen: set[Any] = set()
    for i, v in enumerate(values):
        if v in seen:
            raise Rejected("duplicate", f"{what} {v!r} appears twice", f"{key}[{i}]")
        seen.add(v)


def _devices(doc: dict[str, Any], lim: IngestLimits) -> dict[str, dict[str, Any]] | None:
    devices = f.obj(doc, "devices")
    if devices is None:
        return None
    out = {}
    for name, fault in devices.items():
        if f.IDENT.fullmatch(name) is None:
            raise Rejected("bad_value", f"{name[:40]!r} is not a device name", "devices")
        if not isinstance(fault, dict):
            raise Rejected("bad_type", "must be an object", f"devices.{name}")
        try:
            out[name] = device_fault(fault, lim)
        except Rejected as r:
            raise r.within(name).within("devices") from None
    return out


def device_fault(d: dict[str, Any], lim: IngestLimits, since_key: str = "since") -> dict[str, Any]:
    """What HQ shows of an open device fault: kind, reason, since."""
    return {"kind": f.ident(d, "kind") or "", "reason": f.text(d, "reason") or "",
            "since": f.iso_time(d, since_key, lim)}


def queue(doc: dict[str, Any], branch: str, lim: IngestLimits) -> Queue:
    _common(doc, branch, lim)
    f.day(doc, "day", lim)
    f.count(doc, "waiting")
    open_counters = f.integer(doc, "open_counters", 0, 999)
    f.seq(doc, "last_seq")
    services = _each(doc, "services", _service)
    _unique([s[0] for s in services], "services", "service")
    counters = _each(doc, "counters", _counter)
    _unique(counters, "counters", "counter")
    alert = _nested(doc, "alert", _alert_of_snapshot)
    return Queue(waiting={s[0]: s[1] for s in services}, longest_wait_s=max((s[2] for s in services), default=0.0),
                 open_counters=open_counters, alert=alert, devices=_devices(doc, lim),
                 targets={s[0]: s[3] for s in services if s[3] is not None}, counters=frozenset(counters), doc=doc)


def alerts(doc: dict[str, Any], branch: str, lim: IngestLimits) -> Alert:
    _common(doc, branch, lim)
    level = f.integer(doc, "level", *ALERT_LEVELS, required=True)
    f.count(doc, "waiting")
    f.iso_time(doc, "since", lim)
    if doc.get("code"):
        f.ident(doc, "code")
    f.text(doc, "text")
    return Alert(level, f.text(doc, "reason") or "", f.integer(doc, "open_counters", 0, 999), doc)


def hourly(doc: dict[str, Any], branch: str, lim: IngestLimits) -> HourlyStats:
    _common(doc, branch, lim)
    day = f.day(doc, "day", lim, required=True)
    hour = f.integer(doc, "hour", 0, 23, required=True)
    f.iso_time(doc, "start", lim)
    for key in ("arrivals", "called", "served", "noshows", "transfers", "expired"):
        f.count(doc, key)
    f.obj(doc, "services")
    f.obj(doc, "counters")
    return HourlyStats(day, hour, doc)


def _alert_level(doc: dict[str, Any], key: str, lim: IngestLimits) -> None:
    f.integer(doc, key, *ALERT_LEVELS)


FieldOk = Callable[[Any, IngestLimits], bool]
FieldCheck = Callable[[dict[str, Any], str, IngestLimits], Any]


def _ident_ok(pattern: re.Pattern) -> FieldOk:
    return lambda v, lim: v is None or (type(v) is str and pattern.fullmatch(v) is not None)


def _int_ok(lo: int, hi: int) -> FieldOk:
    return lambda v, lim: v is None or (type(v) is int and lo <= v <= hi)


def _seconds_ok(v: Any, lim: IngestLimits) -> bool:
    return v is None or ((type(v) is float or type(v) is int) and 0 <= v <= f.MAX_SECONDS)


_EVENT_FIELDS: dict[str, tuple[FieldOk, FieldCheck]] = {
    "day": (lambda v, lim: v is None or f.day_ok(v, lim), lambda d, k, lim: f.day(d, k, lim)),
    "service": (_ident_ok(f.SHORT_IDENT), lambda d, k, lim: f.ident(d, k, pattern=f.SHORT_IDENT)),
    "ticket": (_ident_ok(f.SHORT_IDENT), lambda d, k, lim: f.ident(d, k, pattern=f.SHORT_IDENT)),
    "counter": (_int_ok(1, 999), lambda d, k, lim: f.integer(d, k, 1, 999)),
    "ticket_id": (_int_ok(0, MAX_SAFE_INTEGER), lambda d, k, lim: f.seq(d, k)),
    "priority": (_int_ok(0, 99), lambda d, k, lim: f.integer(d, k, 0, 99)),
    "score": (_int_ok(0, 10), lambda d, k, lim: f.integer(d, k, 0, 10)),
    "wait_s": (_seconds_ok, lambda d, k, lim: f.seconds(d, k)),
    "service_s": (_seconds_ok, lambda d, k, lim: f.seconds(d, k)),
    "estimate_s": (_seconds_ok, lambda d, k, lim: f.seconds(d, k)),
    "level": (_int_ok(*ALERT_LEVELS), _alert_level),
    "previous_level": (_int_ok(*ALERT_LEVELS), _alert_level),
    "device": (_ident_ok(f.IDENT), lambda d, k, lim: f.ident(d, k)),
    "kind": (_ident_ok(f.IDENT), lambda d, k, lim: f.ident(d, k)),
    "reason": (lambda v, lim: v is None or (type(v) is str and len(v) <= 1000), lambda d, k, lim: f.text(d, k)),
}
"""The fields of events HQ reads (or shows), checked when present: a fast accept of a good
value, and the check that names what is wrong with any other."""
_EVENT_NEEDS = {"alert.raised": "level", "alert.cleared": "level", "device.fault": "device",
                "device.recovered": "device"}


def event(doc: dict[str, Any], branch: str, lim: IngestLimits) -> Event:
    """An event; the common case (every field good) takes one look at each field."""
    _common(doc, branch, lim, ts_required=True)
    event_id, seq, type_ = doc.get("id"), doc.get("seq"), doc.get("type")
    if type(event_id) is not str or f.IDENT.fullmatch(event_id) is None:
        event_id = f.ident(doc, "id", required=True)
    if type(seq) is not int or not 0 <= seq <= MAX_SAFE_INTEGER:
        seq = f.seq(doc, "seq", required=True)
    if type(type_) is not str or f.EVENT_TYPE.fullmatch(type_) is None:
        type_ = f.ident(doc, "type", required=True, pattern=f.EVENT_TYPE)
    fields = _EVENT_FIELDS
    for key, v in doc.items():
        field = fields.get(key)
        if field is not None and not field[0](v, lim):
            field[1](doc, key, lim)
    needed = _EVENT_NEEDS.get(type_)
    if needed is not None and doc.get(needed) is None:
        raise Rejected("missing_field", f"is missing (a {type_} event names it)", needed)
    return Event(event_id, seq, type_, doc["ts"], doc.get("day"), doc)


def reply(doc: dict[str, Any], branch: str, lim: IngestLimits) -> Reply:
    _common(doc, branch, lim)
    f.ident(doc, "command")
    ok = doc.get("ok")
    if not isinstance(ok, bool):
        raise Rejected("bad_type", "must be true or false", "ok")
    error = f.obj(doc, "error")
    if error is not None:
        _nested(doc, "error", lambda e: (f.ident(e, "code"), f.text(e, "message")))
    f.obj(doc, "result")
    return Reply(f.ident(doc, "id"), ok, doc)


VALIDATORS: dict[str, Callable[[dict[str, Any], str, IngestLimits], Message]] = {
    "status": status, "queue": queue, "alerts": alerts, "stats/hourly": hourly, "events": event, "reply": reply}


def parse(kind: str, branch: str, payload: bytes, limits: IngestLimits | None = None) -> Message:
    """The clean value of a `kind` message (a key of `VALIDATORS`) of `branch`, or `Rejected`."""
    lim = limits or DEFAULT_LIMITS
    return VALIDATORS[kind](decode(payload, lim), branch, lim)

