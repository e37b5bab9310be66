"""Bytes to a bounded JSON object, or `Rejected`: the size is checked before parsing, then
strict UTF-8, JSON without NaN/Infinity or duplicate keys (Python's parser raises
RecursionError on deep nesting: a rejection too), an object at the top, and every value
inside the limits (nesting, list length, keys, string length and characters, integer range,
finite numbers).

Most messages are events: one flat object of a few hundred bytes. For those the limits are
proved from the text instead of walked value by value (`_flat_within`); anything else, and
any flat object the proof does not cover, gets the full walk (`check_bounds`), which names
the culprit."""
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
_SCAN = _DECODER.scan_once


def _parse(text: str) -> Any:
    """`_DECODER.decode(text)` without the cost of its wrapper for the usual text (one value,
    no surrounding whitespace); any other text goes through the decoder itself, which raises
    what it raises."""
    try:
        doc, end = _SCAN(text, 0)
    except StopIteration:
        return _DECODER.decode(text)
    return doc if end == len(text) else _DECODER.decode(text)


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
        doc = _parse(text)
    except Rejected:
        raise
    except RecursionError:
        raise Rejected("too_deep", "the payload is nested too deep to parse") from None
    except ValueError as exc:   # JSONDecodeError, or an integer of more than 4,300 digits
        raise Rejected("bad_json", f"the payload is not JSON: {str(exc)[:120]}") from None
    if not isinstance(doc, dict):
        raise Rejected("not_object", f"the payload must be a JSON object, not {json_type(doc)}")
    chars = _may_hold_bad_chars(text)
    if chars or not _flat_within(text, doc, limits):
        check_bounds(doc, limits, chars=chars)
    return doc


def _may_hold_bad_chars(text: str) -> bool:
    """False when no string in the (parsed) JSON `text` can hold a control character or a
    surrogate: those are written only as a \\u escape or raw (the parser refuses raw C0
    characters inside strings; outside strings they are whitespace)."""
    if "\\u" in text:
        return True
    if text.isascii():   # O(1) for a str: its storage kind says so
        return "\x7f" in text
    return _BAD_CHAR.search(text) is not None


def _flat_within(text: str, doc: dict[str, Any], limits: IngestLimits) -> bool:
    """True when `doc`, parsed from `text`, is a flat object inside `limits` (its strings
    already known free of control characters); False: walk it. One ``{`` and no ``[`` in the
    whole text: no nested object or list, so depth and list length hold; a text no longer than
    `max_string` holds no longer string; keys and numbers are checked here."""
    if len(text) > limits.max_string or "[" in text or text.count("{") != 1:
        return False
    if len(doc) > limits.max_keys or (doc and max(map(len, doc)) > 64):
        return False
    for v in doc.values():
        t = type(v)
        if t is int:
            if not -MAX_SAFE_INTEGER <= v <= MAX_SAFE_INTEGER:
                return False
        elif t is float and v - v != 0.0:   # inf - inf is NaN (NaN never parses here)
            return False
    return True


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
