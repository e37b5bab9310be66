"""Field checks for the branch messages: each returns the clean value or raises `Rejected`
naming the field. The whole payload has already passed `decode.decode` (finite numbers,
short strings without control characters), so these check types, ranges and formats. The
`…_ok` functions are fast accepts of a good value; anything else goes to the check that names
what is wrong."""
from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

from kiosk.hq.ingest.limits import MAX_SAFE_INTEGER, IngestLimits
from kiosk.hq.ingest.rejection import Rejected
from kiosk.mqtt.protocol import json_type

IDENT = re.compile(r"[A-Za-z0-9_.:-]{1,64}")          # ids, device names, codes, kinds
SHORT_IDENT = re.compile(r"[A-Za-z0-9_-]{1,16}")      # service prefixes, ticket numbers
EVENT_TYPE = re.compile(r"[a-z][a-z_]{0,31}(\.[a-z][a-z_]{0,31}){1,3}")
VERSION = re.compile(r"[0-9A-Za-z.+_-]{1,32}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
                   r"(Z|[+-][0-9]{2}:[0-9]{2})?")
_EARLIEST = "2000-01-01"
_MISSING = object()
MAX_COUNT = 1_000_000          # people waiting, tickets served: far above any hall
MAX_SECONDS = 10_000_000.0     # a wait or a duration (≈ 115 days)


def _get(doc: dict[str, Any], key: str, required: bool) -> Any:
    v = doc.get(key, _MISSING)
    if v is _MISSING:
        if required:
            raise Rejected("missing_field", "is missing", key)
        return None
    return v


def integer(doc: dict[str, Any], key: str, lo: int, hi: int, *, required: bool = False) -> int | None:
    """An integer in lo … hi (absent or null: None, unless required)."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise Rejected("bad_type", f"must be an integer, not {json_type(v)}", key)
    if not lo <= v <= hi:
        raise Rejected("out_of_range", f"must be between {lo} and {hi}, not {v}", key)
    return v


def count(doc: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    """A number of people or tickets: 0 … 1,000,000."""
    return integer(doc, key, 0, MAX_COUNT, required=required)


def seq(doc: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    """A sequence number: 0 … 2^53."""
    return integer(doc, key, 0, MAX_SAFE_INTEGER, required=required)


def seconds(doc: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    """A duration: a finite number of seconds, 0 … 10,000,000."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise Rejected("bad_type", f"must be a number of seconds, not {json_type(v)}", key)
    if not 0 <= v <= MAX_SECONDS:
        raise Rejected("out_of_range", f"must be between 0 and {MAX_SECONDS:.0f} seconds, not {v}", key)
    return float(v)


def ident(doc: dict[str, Any], key: str, *, required: bool = False, pattern: re.Pattern = IDENT) -> str | None:
    """An identifier: letters, digits and a few marks (never markup or a path)."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise Rejected("bad_type", f"must be a string, not {json_type(v)}", key)
    if pattern.fullmatch(v) is None:
        raise Rejected("bad_value", f"{v[:40]!r} is not an identifier ({pattern.pattern})", key)
    return v


def text(doc: dict[str, Any], key: str, *, max_chars: int = 1000, required: bool = False) -> str | None:
    """Free text shown to people (a reason): a string of at most `max_chars` characters; it is
    data, escaped where it is shown."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise Rejected("bad_type", f"must be a string, not {json_type(v)}", key)
    if len(v) > max_chars:
        raise Rejected("too_long", f"is {len(v)} characters, more than {max_chars}", key)
    return v


def choice(doc: dict[str, Any], key: str, choices: tuple[str, ...], *, required: bool = False) -> str | None:
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise Rejected("bad_type", f"must be a string, not {json_type(v)}", key)
    if v not in choices:
        raise Rejected("bad_value", f"must be one of {', '.join(choices)}, not {v[:40]!r}", key)
    return v


_latest: dict[int, tuple[float, str]] = {}   # max_future_days: (until when, monotonic; latest day)
_valid_days: set[str] = set()                # days YYYY-MM-DD known to exist (bounded below)
_valid_times: set[str] = set()               # ISO times known to be well formed: events of the
                                             # same second carry the same one (bounded below)
_REMEMBERED = 4096                           # entries of each, then forgotten at once


def latest_day(lim: IngestLimits) -> str:
    """The last day (YYYY-MM-DD) a message may name: today (UTC, looked up at most once a
    second) + the margin. Days of this form compare as strings as they do as dates."""
    now = time.monotonic()
    cached = _latest.get(lim.max_future_days)
    if cached is None or now >= cached[0]:
        latest = (datetime.now(timezone.utc).date() + timedelta(days=lim.max_future_days)).isoformat()
        cached = _latest[lim.max_future_days] = (now + 1.0, latest)
    return cached[1]


def _not_in_future(d: str, key: str, lim: IngestLimits) -> None:
    """`d`: a day YYYY-MM-DD that exists."""
    latest = latest_day(lim)
    if d > latest:
        raise Rejected("future", f"{d} lies in the future (after {latest})", key)
    if d < _EARLIEST:
        raise Rejected("out_of_range", f"{d} is before {_EARLIEST}", key)


def day_ok(v: Any, lim: IngestLimits) -> bool:
    """True for a day YYYY-MM-DD that exists, from 2000 on and not in the future (the fast
    accept of `day`: a day already seen to exist is not parsed again)."""
    if type(v) is not str or not _EARLIEST <= v <= latest_day(lim):
        return False
    if v in _valid_days:
        return True
    try:
        if _DAY.fullmatch(v) is None:
            return False
        date.fromisoformat(v)
    except ValueError:
        return False
    _remember(_valid_days, v)
    return True


def time_ok(v: Any, lim: IngestLimits) -> bool:
    """True for an ISO-8601 time from 2000 on, not in the future (the fast accept of `iso_time`)."""
    if type(v) is not str or not _EARLIEST <= v[:10] <= latest_day(lim):
        return False
    if v in _valid_times:
        return True
    try:
        if _TIME.fullmatch(v) is None:
            return False
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        return False
    _remember(_valid_times, v)
    return True


def _remember(known: set[str], v: str) -> None:
    if len(known) >= _REMEMBERED:
        known.clear()
    known.add(v)


def day(doc: dict[str, Any], key: str, lim: IngestLimits, *, required: bool = False) -> str | None:
    """A business day YYYY-MM-DD, not in the future."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if day_ok(v, lim):
        return v
    if not isinstance(v, str):
        raise Rejected("bad_type", f"must be a day YYYY-MM-DD, not {json_type(v)}", key)
    try:
        if _DAY.fullmatch(v) is None:
            raise ValueError
        date.fromisoformat(v)
    except ValueError:
        raise Rejected("bad_day", f"{v[:40]!r} is not a day YYYY-MM-DD", key) from None
    _not_in_future(v, key, lim)
    return v


def iso_time(doc: dict[str, Any], key: str, lim: IngestLimits, *, required: bool = False) -> str | None:
    """An ISO-8601 time (``2026-11-23T09:00:02+08:00``), not in the future (its day as written)."""
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if time_ok(v, lim):
        return v
    if not isinstance(v, str):
        raise Rejected("bad_type", f"must be an ISO-8601 time, not {json_type(v)}", key)
    try:
        if _TIME.fullmatch(v) is None:
            raise ValueError
        datetime.fromisoformat(v.replace("Z", "+00:00"))
    except ValueError:
        raise Rejected("bad_time", f"{v[:40]!r} is not an ISO-8601 time", key) from None
    _not_in_future(v[:10], key, lim)
    return v


def version(doc: dict[str, Any]) -> None:
    """``"v"``: absent or 1."""
    v = doc.get("v", 1)
    if isinstance(v, bool) or v != 1:
        raise Rejected("bad_version", f"must be 1, not {str(v)[:20]}", "v")


def same_branch(doc: dict[str, Any], branch: str) -> None:
    """``"branch"``: absent or the topic's branch."""
    v = doc.get("branch", branch)
    if v != branch:
        shown = v[:64] if isinstance(v, str) else json_type(v)
        raise Rejected("wrong_branch", f"says {shown!r} on the topic of branch {branch!r}", "branch")


def obj(doc: dict[str, Any], key: str, *, required: bool = False) -> dict[str, Any] | None:
    v = _get(doc, key, required)
    if v is None and not required:
        return None
    if not isinstance(v, dict):
        raise Rejected("bad_type", f"must be an object, not {json_type(v)}", key)
    return v


def items(doc: dict[str, Any], key: str) -> list[Any]:
    """A list (absent or null: empty)."""
    v = doc.get(key)
    if v is None:
        return []
    if not isinstance(v, list):
        raise Rejected("bad_type", f"must be a list, not {json_type(v)}", key)
    return v


def names(doc: dict[str, Any], key: str) -> None:
    """A name by language (``{"zh": …, "en": …}``): absent, null or an object of strings."""
    v = obj(doc, key)
    for lang, name in (v or {}).items():
        if not isinstance(name, str):
            raise Rejected("bad_type", f"must be a string, not {json_type(name)}", f"{key}.{lang}")
        if len(name) > 200:
            raise Rejected("too_long", f"is {len(name)} characters, more than 200", f"{key}.{lang}")
