"""The boundary for what a branch publishes for the customers' phones: the retained
``{prefix}/{branch}/follow`` message (every ticket a phone may follow, by key) and the
``phone`` block of the queue snapshot (what the public branch page shows).

`parse_follow(branch, payload)` decodes with `FOLLOW_LIMITS` (a follow message holds up to
`MAX_TICKETS` tickets, more than the other kinds' lists) and checks every field strictly: the
``key`` 32 lowercase hex characters, ticket numbers and services as in the events, a state of
`STATES`, numbers in range; a clean `Follow` comes out, or `Rejected` naming the field.
`phone_info(queue_doc)` is the checked ``phone`` block of a queue snapshot, or None.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from kiosk.hq.ingest import fields as f
from kiosk.hq.ingest.decode import decode
from kiosk.hq.ingest.limits import IngestLimits
from kiosk.hq.ingest.rejection import Rejected

KIND = "follow"
MAX_TICKETS = 2000
MAX_CALLS = 5
KEY = re.compile(r"[0-9a-f]{32}")
STATES = ("waiting", "parked", "called", "serving", "done", "noshow", "expired", "cancelled")
QUEUED = ("waiting", "parked")                       # ahead / estimate_s are numbers only for these
AT_COUNTER = ("called", "serving", "done", "noshow")  # counter is set for these
FOLLOW_LIMITS = IngestLimits(max_bytes=1024 * 1024, max_list=MAX_TICKETS)
"""~150 bytes a ticket: 2,000 tickets are ~300 KB, more than the other kinds' 256 KB."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """One followed ticket, as checked."""

    key: str
    ticket: str
    service: str
    state: str
    ahead: int | None
    estimate_s: float | None
    counter: int | None
    since: str | None


@dataclass(frozen=True, slots=True)
class Call:
    ticket: str
    counter: int
    ts: str | None


@dataclass(frozen=True, slots=True)
class Follow:
    """A checked follow message: the branch's followed tickets of `day` and its latest calls."""

    branch: str
    day: str
    ts: str | None
    tickets: tuple[Ticket, ...]
    calls: tuple[Call, ...]
    doc: dict[str, Any]


def split_follow_topic(prefix: str, topic: str) -> str | None:
    """The branch of ``{prefix}/{branch}/follow`` (not checked: `kiosk.hq.ingest.split_topic`
    refuses a bad id), None for any other topic."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head) or not topic.endswith("/" + KIND):
        return None
    name = topic[len(head):-len(KIND) - 1]
    return None if "/" in name else name


def _ticket(t: dict[str, Any], lim: IngestLimits) -> Ticket:
    key = f.ident(t, "key", required=True, pattern=KEY)
    state = f.choice(t, "state", STATES, required=True)
    ahead = f.count(t, "ahead")
    estimate = f.seconds(t, "estimate_s")
    counter = f.integer(t, "counter", 1, 999)
    if state not in QUEUED and (ahead is not None or estimate is not None):
        raise Rejected("bad_value", f"ahead and estimate_s must be null for a {state} ticket", "ahead")
    if state not in AT_COUNTER and counter is not None:
        raise Rejected("bad_value", f"counter must be null for a {state} ticket", "counter")
    return Ticket(key, f.ident(t, "ticket", required=True, pattern=f.SHORT_IDENT),
                  f.ident(t, "service", required=True, pattern=f.SHORT_IDENT), state, ahead, estimate, counter,
                  f.iso_time(t, "since", lim))


def _call(c: dict[str, Any], lim: IngestLimits) -> Call:
    return Call(f.ident(c, "ticket", required=True, pattern=f.SHORT_IDENT),
                f.integer(c, "counter", 1, 999, required=True), f.iso_time(c, "ts", lim))


def _each(doc: dict[str, Any], key: str, most: int, check: Any, lim: IngestLimits) -> list[Any]:
    items = f.items(doc, key)
    if len(items) > most:
        raise Rejected("too_many", f"{len(items)} items, more than {most}", key)
    out = []
    for i, item in enumerate(items):
        try:
            if not isinstance(item, dict):
                raise Rejected("bad_type", "must be an object")
            out.append(check(item, lim))
        except Rejected as r:
            raise r.within(i).within(key) from None
    return out


def parse_follow(branch: str, payload: bytes, limits: IngestLimits = FOLLOW_LIMITS) -> Follow:
    """The clean `Follow` of a branch's follow message, or `Rejected` naming what is wrong."""
    doc = decode(payload, limits)
    f.version(doc)
    f.same_branch(doc, branch)
    f.iso_time(doc, "ts", limits)
    day = f.day(doc, "day", limits, required=True)
    tickets = _each(doc, "tickets", MAX_TICKETS, _ticket, limits)
    seen: set[str] = set()
    for i, t in enumerate(tickets):
        if t.key in seen:
            raise Rejected("duplicate", "the key appears twice", f"tickets[{i}].key")
        seen.add(t.key)
    calls = _each(doc, "calls", MAX_CALLS, _call, limits)
    return Follow(branch, day, doc.get("ts"), tuple(tickets), tuple(calls), doc)


def _number(v: Any, lo: float, hi: float) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or not lo <= v <= hi:
        return None
    return float(v)


def lang_names(v: Any) -> dict[str, str]:
    """The zh and en strings (at most 200 characters) of a name by language; anything else left out."""
    if not isinstance(v, dict):
        return {}
    return {lang: v[lang] for lang in ("zh", "en") if isinstance(v.get(lang), str) and len(v[lang]) <= 200}


def phone_info(queue_doc: dict[str, Any]) -> dict[str, Any] | None:
    """The ``phone`` block of a (checked) queue snapshot with only clean values, or None when it
    has none: a wrong field is left out (shown as unknown), never passed on to the public."""
    p = queue_doc.get("phone")
    if not isinstance(p, dict):
        return None
    services = p.get("services")
    check_in = p.get("check_in_min")
    return {"remote": p.get("remote") is True,
            "services": [s for s in services if isinstance(s, str) and f.SHORT_IDENT.fullmatch(s)][:64]
            if isinstance(services, list) else [],
            "name": lang_names(p.get("name")), "address": lang_names(p.get("address")),
            "lat": _number(p.get("lat"), -90, 90), "lon": _number(p.get("lon"), -180, 180),
            "check_in_min": int(check_in) if _number(check_in, 1, 24 * 60) is not None else None,
            "quiet": lang_names(p.get("quiet"))}


__all__ = ["FOLLOW_LIMITS", "KEY", "KIND", "MAX_TICKETS", "STATES", "Call", "Follow", "Ticket", "lang_names",
           "parse_follow", "phone_info", "split_follow_topic"]
