"""The ingest boundary's fast paths refuse what the full checks refuse.

A flat event is bounded from its text (`decode._flat_within`) instead of walked value by value,
its fields get a fast accept before the check that names what is wrong, and days and times
already seen well formed are not parsed again. Each shortcut is tested where it could let
something through: the same code and field as the full walk, for values just inside and just
outside every limit."""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from kiosk.hq.ingest import IngestLimits, Rejected, parse
from kiosk.hq.ingest import decode as decode_module
from kiosk.hq.ingest.decode import check_bounds, decode

B = "b1"
TODAY = datetime.now(timezone.utc).date()


def event(**kw: Any) -> dict[str, Any]:
    return {"v": 1, "id": "8b5205b7-42cc-4f62-9bd9-e9247b02abb2", "seq": 7, "type": "ticket.called",
            "ts": f"{TODAY}T09:00:02+08:00", "branch": B, "day": str(TODAY), "ticket": "A042", "ticket_id": 42,
            "service": "A", "priority": 0, "counter": 3, "wait_s": 312.4, "t": 1236.5, **kw}


def js(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def raw(doc: dict[str, Any], key: str, literal: str) -> bytes:
    return js({**doc, key: "@@"}).replace(b'"@@"', literal.encode(), 1)


def refusal(payload: bytes, limits: IngestLimits | None = None) -> tuple[str, str | None]:
    with pytest.raises(Rejected) as exc:
        parse("events", B, payload, limits)
    return exc.value.code, exc.value.field


def test_a_good_flat_event_is_not_walked_value_by_value(monkeypatch):
    walked = []
    monkeypatch.setattr(decode_module, "check_bounds", lambda *a, **kw: walked.append(a))
    ev = parse("events", B, js(event()))
    assert (ev.id, ev.seq, ev.type, ev.day) == (event()["id"], 7, "ticket.called", str(TODAY)) and walked == []
    parse("events", B, js(event(x={"a": 1})))          # nested: walked
    parse("events", B, js(event(reason="\u00e9")).replace("é".encode(), b"\\u00e9"))   # an escape: walked
    assert len(walked) == 2


@pytest.mark.parametrize("payload, code, field", [
    (js(event(x=2 ** 53 + 1)), "out_of_range", "x"),
    (js(event(x=-(2 ** 53) - 1)), "out_of_range", "x"),
    (raw(event(), "x", "1e999"), "not_finite", "x"),
    (raw(event(), "t", "-1E400"), "not_finite", "t"),
    (js(event(x="y" * 4097)), "too_long", "x"),
    (js(event(**{"k" * 65: 1})), "bad_key", "k" * 64),
    (js(event(**{f"k{i}": i for i in range(250)})), "too_many", None),
    (js(event(reason="a\x7fb")), "bad_char", "reason"),
    (js(event(reason="a\x85b")), "bad_char", "reason"),
    (js(event(x="a\u0001b")), "bad_char", "x"),
    (js(event(x=[1] * 1001)), "too_many", "x"),
    (js(event(reason="y" * 1001)), "too_long", "reason"),
    (b" " + js(event()) + b" x", "bad_json", None),
    (js(event())[:-1] + b',"seq":8}', "duplicate_key", None),
], ids=["int_over", "int_under", "float_overflow", "float_overflow_t", "string_over", "key_over", "keys_over",
        "raw_del", "raw_c1", "escaped_control", "list_over", "reason_over", "extra_data", "duplicate_key"])
def test_what_the_walk_refuses_is_refused_on_the_fast_path_too(payload, code, field):
    assert refusal(payload) == (code, field)


def test_values_just_inside_the_limits_pass():
    ev = parse("events", B, js(event(x=2 ** 53, y=-(2 ** 53), z="y" * 4000, r="[{", **{"k" * 64: 1.5e308})))
    assert ev.doc["x"] == 2 ** 53
    assert parse("events", B, b" \n" + js(event()) + b"\n").seq == 7


@pytest.mark.parametrize("key, value, code", [
    ("id", "<script>", "bad_value"), ("seq", -1, "out_of_range"), ("seq", True, "bad_type"),
    ("type", "ticket.<b>", "bad_value"), ("ts", f"{TODAY}T25:00", "bad_time"), ("ts", None, "bad_type"),
    ("ts", f"{TODAY + timedelta(days=2)}T09:00Z", "future"), ("ts", "1999-12-31T23:59Z", "out_of_range"),
    ("day", str(TODAY + timedelta(days=2)), "future"), ("day", "2026-02-30", "bad_day"), ("day", 20261123, "bad_type"),
    ("day", "２０２６-01-01", "bad_day"), ("counter", 0, "out_of_range"), ("counter", 3.0, "bad_type"),
    ("priority", 100, "out_of_range"), ("score", 11, "out_of_range"), ("wait_s", "5", "bad_type"),
    ("wait_s", -0.5, "out_of_range"), ("wait_s", False, "bad_type"), ("service", "ABCDEFGHIJKLMNOPQ", "bad_value"),
    ("level", 3, "out_of_range"), ("reason", 5, "bad_type"), ("v", True, "bad_version"), ("v", 2, "bad_version"),
    ("branch", "b2", "wrong_branch"),
])
def test_every_event_field_a_fast_accept_covers_is_still_refused_when_bad(key, value, code):
    assert refusal(js(event(**{key: value}))) == (code, key)


def test_a_day_or_time_seen_good_before_is_refused_once_it_lies_too_far_ahead():
    tomorrow = str(TODAY + timedelta(days=1))
    parse("events", B, js(event(day=tomorrow, ts=f"{tomorrow}T00:30Z")))           # remembered as well formed
    assert refusal(js(event(day=tomorrow)), IngestLimits(max_future_days=0)) == ("future", "day")
    assert refusal(js(event(ts=f"{tomorrow}T00:30Z")), IngestLimits(max_future_days=0)) == ("future", "ts")


def _walk_outcome(text: str, limits: IngestLimits) -> tuple[str, str | None] | None:
    try:
        check_bounds(json.loads(text), limits)
    except Rejected as r:
        return r.code, r.field
    return None


def _decode_outcome(text: str, limits: IngestLimits) -> tuple[str, str | None] | None:
    try:
        decode(text.encode(), limits)
    except Rejected as r:
        return r.code, r.field
    return None


def test_decode_agrees_with_the_full_walk_on_random_flat_objects():
    """The text-based proof accepts exactly what walking every value accepts."""
    rng = random.Random(14)
    limits = IngestLimits(max_string=60, max_keys=6, max_depth=3, max_list=4)
    values = ["", "a", "x" * 59, "x" * 60, "x" * 61, "[", "{", "a\x7f", "a\x85", "\u00e9", "缴", 0, -1, 2 ** 53,
              2 ** 53 + 1, -(2 ** 53) - 1, 1.5, 1e308, None, True, [1], {"a": 1}, [1] * 5]
    literals = ["1e999", "-1e999", "1e308", "9" * 17, '"\\u0001"', '"\\u00e9"', "1.0E-400"]
    checked = 0
    for _ in range(4000):
        doc = {rng.choice(["a", "b", "c", "d", "e", "f", "g", "k" * 64, "k" * 65]): rng.choice(values)
               for _ in range(rng.randint(1, 8))}
        text = json.dumps(doc, ensure_ascii=rng.random() < 0.3)
        if rng.random() < 0.4:
            key = rng.choice(list(doc))
            text = json.dumps({**doc, key: "@@"}, ensure_ascii=False).replace('"@@"', rng.choice(literals), 1)
        assert _decode_outcome(text, limits) == _walk_outcome(text, limits), text
        checked += 1
    assert checked == 4000
