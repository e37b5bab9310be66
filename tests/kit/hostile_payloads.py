"""Malformed and malicious branch payloads, one per kind (the table in
tests/hq/test_hostile_branches.py): used against the in-process pipeline there and against a
real `kiosk hq serve` process in tests/hq/test_hostile_serve.py."""
from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from typing import Any

DAY = "2026-11-23"
TS = "2026-11-23T09:00:00+08:00"
_seq = itertools.count(1)


def event(branch: str, seq: int | None = None, **kw: Any) -> dict[str, Any]:
    return {"v": 1, "id": str(uuid.uuid4()), "seq": next(_seq) if seq is None else seq, "type": "ticket.called",
            "ts": TS, "branch": branch, "day": DAY, "ticket": "A001", "ticket_id": 1, "service": "A",
            "priority": 0, "counter": 1, "wait_s": 312.4, **kw}


def queue(branch: str, waiting: int = 3, **kw: Any) -> dict[str, Any]:
    return {"v": 1, "ts": TS, "branch": branch, "day": DAY, "waiting": waiting, "open_counters": 1,
            "services": [{"service": "A", "name": {"zh": "缴费", "en": "Payments"}, "waiting": waiting,
                          "priority_waiting": 0, "longest_wait_s": 30.0, "estimate_s": 60.0, "target_wait_s": 600,
                          "served_today": 4, "unavailable": None}],
            "counters": [{"counter": 1, "name": {"zh": "1号窗口", "en": "Counter 1"}, "state": "open",
                          "ticket": "A001", "service": "A", "ticket_state": "called", "busy_s": 12.0,
                          "services": ["A"]}],
            "alert": {"level": 0, "reason": ""}, "devices": {}, "last_seq": 1, **kw}


def js(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode()


def raw(obj: dict[str, Any], key: str, literal: str) -> bytes:
    """`obj` as JSON with the value of `key` replaced by `literal` (what json.dumps cannot write)."""
    text = json.dumps({**obj, key: "@@"}, ensure_ascii=False)
    return text.replace('"@@"', literal, 1).encode()


def nested(depth: int) -> dict[str, Any]:
    d: dict[str, Any] = {}
    for _ in range(depth):
        d = {"a": d}
    return d


Build = Callable[[str], bytes]
CASES: list[tuple[str, str, Build, str, str | None]] = [
    ("events", "seq_string", lambda b: js(event(b, seq="5")), "bad_type", "seq"),   # type: ignore[arg-type]
    ("events", "number_in_words", lambda b: js(event(b, wait_s="five minutes")), "bad_type", "wait_s"),
    ("events", "deep_200000", lambda b: b"[" * 200_000, "too_deep", None),
    ("events", "deep_200000_closed", lambda b: b"[" * 200_000 + b"]" * 200_000, "too_large", None),
    ("events", "deep_over_limit", lambda b: js(event(b, x=nested(12))), "too_deep", "x" + ".a" * 11),
    ("events", "seq_2_64", lambda b: js(event(b, seq=2 ** 64)), "out_of_range", "seq"),
    ("events", "seq_negative", lambda b: js(event(b, seq=-1)), "out_of_range", "seq"),
    ("events", "ts_object", lambda b: js(event(b, ts={"$date": 1})), "bad_type", "ts"),
    ("events", "nan", lambda b: raw(event(b), "wait_s", "NaN"), "not_finite", None),
    ("events", "infinity", lambda b: raw(event(b), "wait_s", "-Infinity"), "not_finite", None),
    ("events", "float_overflow", lambda b: raw(event(b), "wait_s", "1e999"), "not_finite", "wait_s"),
    ("events", "huge_string", lambda b: js(event(b, reason="x" * 100_000)), "too_long", "reason"),
    ("events", "huge_list", lambda b: js(event(b, x=list(range(5000)))), "too_many", "x"),
    ("events", "wrong_branch", lambda b: js(event("someone-else")), "wrong_branch", "branch"),
    ("events", "bad_utf8", lambda b: js(event(b))[:-2] + b"\xff\xfe}", "bad_utf8", None),
    ("events", "empty", lambda b: b"", "empty", None),
    ("events", "json_list", lambda b: js([event(b)]), "not_object", None),
    ("events", "json_number", lambda b: b"42", "not_object", None),
    ("events", "duplicate_key", lambda b: js(event(b))[:-1] + b', "id": "again"}', "duplicate_key", None),
    ("events", "future_day", lambda b: js(event(b, day="2999-01-01")), "future", "day"),
    ("events", "impossible_day", lambda b: js(event(b, day="2026-13-45")), "bad_day", "day"),
    ("events", "script_id", lambda b: js(event(b, id="<script>alert(1)</script>")), "bad_value", "id"),
    ("events", "control_char", lambda b: js(event(b, reason="a\u0000b")), "bad_char", "reason"),
    ("events", "lone_surrogate", lambda b: raw(event(b), "ticket", '"\\ud800"'), "bad_char", "ticket"),
    ("events", "too_large", lambda b: js(event(b, pad="y" * 300_000)), "too_large", None),
    ("events", "huge_integer", lambda b: raw(event(b), "seq", "9" * 5000), "bad_json", None),
    ("events", "no_id", lambda b: js({k: v for k, v in event(b).items() if k != "id"}), "missing_field", "id"),
    ("events", "markup_type", lambda b: js(event(b, type="ticket.<b>")), "bad_value", "type"),
    ("events", "alert_level_word", lambda b: js(event(b, type="alert.raised", level="two")), "bad_type", "level"),
    ("events", "not_json", lambda b: b"<html>not json</html>", "bad_json", None),
    ("events", "version_2", lambda b: js(event(b, v=2)), "bad_version", "v"),
    ("status", "state_word", lambda b: js({"v": 1, "state": "hacked", "branch": b}), "bad_value", "state"),
    ("status", "since_object", lambda b: js({"v": 1, "state": "online", "since": {}}), "bad_type", "since"),
    ("status", "script_version", lambda b: js({"v": 1, "state": "online", "version": "<img src=x onerror=alert(1)>"}),
     "bad_value", "version"),
    ("queue", "waiting_word", lambda b: js(queue(b, services=[{"service": "A", "waiting": "many"}])),
     "bad_type", "services[0].waiting"),
    ("queue", "services_not_list", lambda b: js(queue(b, services="A")), "bad_type", "services"),
    ("queue", "negative_count", lambda b: js(queue(b, services=[{"service": "A", "waiting": -3}])),
     "out_of_range", "services[0].waiting"),
    ("queue", "nan_wait", lambda b: js(queue(b)).replace(b'"longest_wait_s": 30.0', b'"longest_wait_s": NaN'),
     "not_finite", None),
    ("queue", "overflow_estimate", lambda b: js(queue(b)).replace(b'"estimate_s": 60.0', b'"estimate_s": 1e400'),
     "not_finite", "services[0].estimate_s"),
    ("queue", "duplicate_service", lambda b: js(queue(b, services=[{"service": "A"}, {"service": "A"}])),
     "duplicate", "services[1]"),
    ("queue", "duplicate_counter", lambda b: js(queue(b, counters=[{"counter": 2}, {"counter": 2}])),
     "duplicate", "counters[1]"),
    ("queue", "script_service", lambda b: js(queue(b, services=[{"service": "<script>"}])),
     "bad_value", "services[0].service"),
    ("queue", "counter_zero", lambda b: js(queue(b, counters=[{"counter": 0}])), "out_of_range", "counters[0].counter"),
    ("queue", "devices_string", lambda b: js(queue(b, devices="printer broken")), "bad_type", "devices"),
    ("queue", "script_device_kind", lambda b: js(queue(b, devices={"printer": {"kind": "<script>x</script>"}})),
     "bad_value", "devices.printer.kind"),
    ("queue", "open_counters_huge", lambda b: js(queue(b, open_counters=10 ** 6)), "out_of_range", "open_counters"),
    ("alerts", "level_word", lambda b: js({"v": 1, "level": "critical", "reason": "x"}), "bad_type", "level"),
    ("alerts", "level_7", lambda b: js({"v": 1, "level": 7, "reason": "x"}), "out_of_range", "level"),
    ("stats/hourly", "hour_25", lambda b: js({"v": 1, "day": DAY, "hour": 25}), "out_of_range", "hour"),
    ("stats/hourly", "future_day", lambda b: js({"v": 1, "day": "2999-01-01", "hour": 9}), "future", "day"),
    ("stats/hourly", "day_object", lambda b: js({"v": 1, "day": {"y": 2026}, "hour": 9}), "bad_type", "day"),
    ("reply/ping", "ok_word", lambda b: js({"v": 1, "command": "ping", "ok": "yes", "id": "x"}), "bad_type", "ok"),
    ("reply/ping", "json_list", lambda b: b"[]", "not_object", None),
]
TOPIC_CASES = [("path", ".."), ("too_long", "b" * 65), ("script", "<script>")]
