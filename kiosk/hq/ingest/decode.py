"""Bytes to a bounded JSON object, or `Rejected`: the size is checked before parsing, then
strict UTF-8, JSON without NaN/Infinity or duplicate keys (Python's parser raises
RecursionError on deep nesting: a rejection too), an object at the top, and every value
inside the limits (nesting, list length, keys, string length and characters, integer range,
finite numbers)."""
from __future__ import annotations

import json
import math
import re
from typing import Any

from kiosk.hq.ingest.limits import MAX_SAFE_INTEGER, IngestLimits
from kiosk.hq.ingest.rejection import Rejected
from kiosk.mqtt.protocol import json_type

# control characters (C0, DEL, C1) and lone surrogates (which no UTF-8 writer can store)
_BAD_CHAR = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def _no_constant(name: str) -> Any:
    raise Rejected("not_finite", f"{name} is not a number HQ accepts (NaN and Infinity are refused)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise Rejected("duplicate_key", f"key {k[:64]!r} appears twice in one object")
            seen.add(k)
    return d


_DECODER = json.JSONDecoder(parse_constant=_no_constant, object_pairs_hook=_unique_keys)


def decode(payload: bytes, limits: IngestLimits) -> dict[str, Any]:
    """The payload as a JSON object inside `limits`, or `Rejected`."""
    if not payload:
        raise Rejected("empty", "the payload is empty")
    if len(payload) > limits.max_bytes:
        raise Rejected("too_large", f"the payload is {len(payload)} bytes, more than {limits.max_bytes}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected("bad_utf8", f"the payload is not UTF-8 (byte {exc.start})") from None
    try:
        doc = _DECODER.decode(text)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected("too_deep", "the payload is nested too deep to parse") from None
    except ValueError as exc:   # JSONDecodeError, or an integer of more than 4,300 digits
        raise Rejected("bad_json", f"the payload is not JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict):
        raise Rejected("not_object", f"the payload must be a JSON object, not {json_type(doc)}")
    # JSON text holds a control character or a surrogate only as a \u escape or a raw C1
    # character: without either, no string needs its characters checked one by one
    check_bounds(doc, limits, chars="\\u" in text or _BAD_CHAR.search(text) is not None)
    return doc


def check_bounds(doc: dict[str, Any], limits: IngestLimits, *, chars: bool = True) -> None:
    """`Rejected` naming the first value outside `limits` (depth counts from the top object);
    `chars`: look for control characters in every string and key too."""
    _object(doc, 1, _Bounds(limits, chars))


class _Bounds:
    """The limits of one walk, and whether strings need their characters checked."""

    __slots__ = ("max_depth", "max_keys", "max_list", "max_string", "chars")

    def __init__(self, limits: IngestLimits, chars: bool) -> None:
        self.max_depth, self.max_keys = limits.max_depth, limits.max_keys
        self.max_list, self.max_string = limits.max_list, limits.max_string
        self.chars = chars


def _object(d: dict[str, Any], depth: int, lim: _Bounds) -> None:
    if depth > lim.max_depth:
        raise Rejected("too_deep", f"nested more than {lim.max_depth} levels")
    if len(d) > lim.max_keys:
        raise Rejected("too_many", f"an object of {len(d)} keys, more than {lim.max_keys}")
    for k, v in d.items():
        try:
            if len(k) > 64 or (lim.chars and _BAD_CHAR.search(k)):
                raise Rejected("bad_key", "a key longer than 64 characters or with a control character")
            _value(v, depth, lim)
        except Rejected as r:
            raise r.within(k[:64]) from None


def _list(items: list[Any], depth: int, lim: _Bounds) -> None:
    if depth > lim.max_depth:
        raise Rejected("too_deep", f"nested more than {lim.max_depth} levels")
    if len(items) > lim.max_list:
        raise Rejected("too_many", f"a list of {len(items)} items, more than {lim.max_list}")
    for i, v in enumerate(items):
        try:
            _value(v, depth, lim)
        except Rejected as r:
            raise r.within(i) from None


def _value(v: Any, depth: int, lim: _Bounds) -> None:
    t = type(v)
    if t is str:
        if lim.chars or len(v) > lim.max_string:
            check_string(v, lim.max_string)
    elif t is int:
        if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
            raise Rejected("out_of_range", f"the integer {str(v)[:30]} is beyond ±2^53")
    elif t is float:
        if not math.isfinite(v):
            raise Rejected("not_finite", f"{v} is not a finite number")
    elif t is dict:
        _object(v, depth + 1, lim)
    elif t is list:
        _list(v, depth + 1, lim)


def check_string(s: str, max_chars: int) -> None:
    """`Rejected` for a string longer than `max_chars` or with a control character."""
    if len(s) > max_chars:
        raise Rejected("too_long", f"a string of {len(s)} characters, more than {max_chars}")
    m = _BAD_CHAR.search(s)
    if m is not None:
        raise Rejected("bad_char", f"contains the control character U+{ord(m.group()):04X} "
                                   f"at position {m.start() + 1}")
