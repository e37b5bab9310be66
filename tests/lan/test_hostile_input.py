"""Hostile input at every endpoint: each is refused with a JSON 4xx (naming the field when one
is wrong), nothing in the queue changes, the server keeps answering."""
from __future__ import annotations

import pytest

from tests.lan.conftest import Hall

BODY_ENDPOINTS = ["/api/session", "/api/counter/call", "/api/counter/recall", "/api/counter/noshow",
                  "/api/counter/start", "/api/counter/finish", "/api/counter/open", "/api/counter/close",
                  "/api/counter/transfer", "/api/counter/pause", "/api/tickets"]
RAW = [
    (b"{", "application/json"), (b"[]", "application/json"), (b'"x"', "application/json"),
    (b"null", "application/json"), (b'{"a": NaN}', "application/json"), (b"\xff\xfe{}", "application/json"),
    (b'{"x": 1}', "application/json"), (b'{"pin": "1111"}', "text/plain"), (b"pin=1111", "application/x-www-form-urlencoded"),
    (b"[" * 5000 + b"]" * 5000, "application/json"), (b'{"' + b"k" * 20000 + b'": 1}', "application/json"),
]
FIELDS = {
    "/api/session": [({"clerk": "c01", "pin": 1111, "counter": 3}, "pin"), ({"clerk": "c01", "pin": "11", "counter": 3}, "pin"),
                     ({"clerk": "c0 1", "pin": "1111"}, "clerk"), ({"clerk": "c01", "pin": "1111", "counter": "3"}, "counter"),
                     ({"clerk": "c01", "pin": "1111", "counter": 99}, "counter"), ({"clerk": "c01", "pin": "1111", "counter": True}, "counter"),
                     ({"manager": "yes", "pin": "2468"}, "manager"), ({"manager": True, "clerk": "c01", "pin": "2468"}, "clerk"),
                     ({"pin": "1111"}, "clerk"), ({"clerk": ["c01"], "pin": "1111"}, "clerk")],
    "/api/counter/call": [({"ticket": "a001"}, "ticket"), ({"ticket": 1}, "ticket"), ({"ticket": "A1; DROP"}, "ticket"),
                          ({"at": 3.0}, "at"), ({"at": -1}, "at"), ({"at": 10 ** 30}, "at"), ({"tickets": "A001"}, "tickets")],
    "/api/counter/transfer": [({}, "service"), ({"service": "A", "counter": 1}, "service"), ({"service": "Z"}, "service"),
                              ({"service": "AB"}, "service"), ({"counter": 3}, "counter"), ({"counter": 77}, "counter"),
                              ({"clerk": "../x"}, "clerk"), ({"service": "B", "note": "x" * 201}, "note"),
                              ({"service": "B", "note": "bell\x07"}, "note"), ({"service": "B", "note": 5}, "note")],
    "/api/counter/pause": [({"reason": "NAP!"}, "reason"), ({"reason": 1}, "reason"), ({"reason": "nap"}, "reason")],
    "/api/tickets": [({}, "service"), ({"service": "a"}, "service"), ({"service": "Q"}, "service"),
                     ({"service": "A", "tier": "platinum"}, "tier"), ({"service": "A", "tier": 1}, "tier"),
                     ({"service": "A", "assisted": 1}, "assisted"), ({"service": "A", "print": "no"}, "print"),
                     ({"service": "A", "form": []}, "form"), ({"service": "A", "form": {"Bad Key": "x"}}, "form"),
                     ({"service": "A", "form": {"k": {"nested": 1}}}, "form"), ({"service": "A", "member": "x"}, "member"),
                     ({"service": "A", "form": {"want": "x"}}, "form")],
}


def _state(hall: Hall) -> tuple:
    s = hall.app.snapshot()
    return s["waiting"], s["counters"], [c for c in (hall.app.counter_clerk(n).result(10) for n in (1, 2, 3, 4))]


@pytest.fixture
def signed(hall: Hall) -> dict[str, str]:
    hall.app.issue("A").result(10)
    clerk = hall.open_counter("c01", 3)
    with hall.client(clerk) as c:
        c.post("/api/counter/call")
    return {"clerk": clerk}


def test_raw_bodies_at_every_endpoint(hall: Hall, signed) -> None:
    before = _state(hall)
    with hall.client(signed["clerk"]) as c:
        for path in BODY_ENDPOINTS:
            for raw, ctype in RAW:
                r = c.post(path, content=raw, headers={"content-type": ctype})
                assert 400 <= r.status_code < 500, (path, raw[:20], r.status_code, r.text[:200])
                assert "error" in r.json(), (path, raw[:20])
    assert _state(hall) == before


def test_each_wrong_field_is_named(hall: Hall, signed) -> None:
    before = _state(hall)
    with hall.client(signed["clerk"]) as c:
        for path, cases in FIELDS.items():
            for body, field in cases:
                r = c.post(path, json=body)
                assert 400 <= r.status_code < 500, (path, body, r.text)
                got = r.json()
                assert got.get("field") == field or field in got.get("message", ""), (path, body, got)
    assert _state(hall) == before


def test_no_token_bad_tokens_and_wrong_methods(hall: Hall, signed) -> None:
    before = _state(hall)
    for auth in (None, "Bearer", "Bearer " + "x" * 43, "Basic YTpi", "Bearer " + "y" * 5000, signed["clerk"]):
        headers = {"authorization": auth} if auth else {}
        with hall.client() as c:
            for path in BODY_ENDPOINTS[1:] + ["/api/hall", "/api/counter", "/api/stream"]:
                method = "GET" if path in ("/api/hall", "/api/counter", "/api/stream") else "POST"
                r = c.request(method, path, headers=headers, json={} if method == "POST" else None)
                assert r.status_code in (401, 431), (auth and auth[:20], path, r.status_code)
    with hall.client(signed["clerk"]) as c:
        assert c.get("/api/counter/call").status_code == 405
        assert c.put("/api/tickets", json={"service": "A"}).status_code == 405
        assert c.get("/api/counter?at=x").status_code == 400
        assert c.post("/api/tickets", content=b"{" + b" " * 70000 + b"}",
                      headers={"content-type": "application/json"}).status_code == 413
    assert _state(hall) == before
    with hall.client(signed["clerk"]) as c:
        assert c.get("/api/counter").status_code == 200
