"""Tickets through the API (staff and a satellite's device token), the hall at a glance, the
live stream, sessions and the security headers."""
from __future__ import annotations

import base64
import json
import time

import httpx

from tests.lan.conftest import ADMIN_PIN, DEVICE_TOKEN, Hall


def test_the_floor_guide_issues_with_tier_assisted_and_form_shown_as_qr(hall: Hall) -> None:
    token = hall.sign_in("c03")   # on the floor: no counter
    with hall.client(token) as c:
        r = c.post("/api/tickets", json={"service": "B", "tier": "gold", "assisted": True, "print": False,
                                          "form": {"doc": "passport", "checked": True, "want": "new card"}})
        assert r.status_code == 200, r.text
        t = r.json()
        assert t["service"] == "B" and t["tier"] == "gold" and t["priority"] >= 1
        assert set(t) >= {"ticket", "ahead", "estimate_s", "issued", "qr"}
        assert base64.b64decode(t["qr"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert c.post("/api/counter/call").status_code == 403   # a floor guide has no counter
    row = hall.app.ticket(t["ticket"]).result(10)
    assert row["assisted"] and json.loads(row["form"])["doc"] == "passport"
    clerk = hall.open_counter("c01", 4)
    with hall.client(clerk) as c:
        c.post("/api/counter/call", json={"ticket": t["ticket"]})
        shown = c.get("/api/counter").json()["ticket"]
        assert shown["form"] == {"doc": "passport", "checked": True, "want": "new card"} and shown["assisted"]


def test_a_bad_form_is_refused_naming_the_field_and_nothing_issued(hall: Hall) -> None:
    token = hall.sign_in(None)
    with hall.client(token) as c:
        for form, field in (({"checked": True}, "doc"), ({"doc": "visa"}, "doc"), ({"doc": "passport", "x": "1"}, "x")):
            r = c.post("/api/tickets", json={"service": "B", "form": form})
            assert r.status_code == 400, r.text
            assert field in r.json()["field"] or field in r.json()["message"], r.text
    assert hall.app.snapshot()["waiting"] == 0


def test_a_device_token_issues_reads_the_hall_and_does_nothing_else(hall: Hall) -> None:
    """A satellite issues; it and a now-serving TV read the hall and follow it live; nothing more."""
    with hall.client(DEVICE_TOKEN) as c:
        r = c.post("/api/tickets", json={"service": "A"})
        assert r.status_code == 200 and r.json()["ticket"].startswith("A"), r.text
        assert c.get("/api/hall").json()["waiting"] == 1
        with c.stream("GET", "/api/stream") as s:
            assert s.status_code == 200
        for method, path in (("GET", "/api/counter"), ("POST", "/api/counter/call"), ("POST", "/api/counter/finish"),
                             ("DELETE", "/api/session")):
            assert c.request(method, path).status_code == 403, path
    with hall.client(DEVICE_TOKEN[:-1] + "x") as c:
        assert c.post("/api/tickets", json={"service": "A"}).status_code == 401
    assert hall.app.snapshot()["waiting"] == 1


def test_the_hall_at_a_glance(hall: Hall) -> None:
    for _ in range(3):
        hall.app.issue("A").result(10)
    with hall.client(hall.sign_in("c03")) as c:
        h = c.get("/api/hall").json()
    a = next(s for s in h["services"] if s["service"] == "A")
    assert h["waiting"] == 3 and a["waiting"] == 3 and "longest_wait_s" in a
    assert {c["counter"] for c in h["counters"]} == {1, 2, 3, 4}
    assert "level" in h["alert"] and "open_counters_needed" in h["alert"]


def test_the_stream_pushes_the_hall_and_ends_at_sign_out(hall: Hall) -> None:
    token = hall.sign_in("c03")
    with hall.client(token) as c, c.stream("GET", "/api/stream") as s:
        assert s.headers["content-type"].startswith("text/event-stream")
        lines = s.iter_lines()
        waiting = []
        issued = False
        for line in lines:
            if line.startswith("data: "):
                waiting.append(json.loads(line[6:])["waiting"])
                if not issued:
                    hall.app.issue("A").result(10)
                    issued = True
                elif waiting[-1] == 1:
                    break
        assert waiting[-1] == 1
        with hall.client(token) as other:
            other.delete("/api/session")
        rest = list(lines)
        assert "event: signed_out" in rest


def test_manager_pin_wrong_then_locked(hall: Hall) -> None:
    with hall.client() as c:
        codes = [c.post("/api/session", json={"manager": True, "pin": "0000"}).status_code for _ in range(5)]
        assert codes[:3] == [401, 401, 401] and codes[-1] == 429
        r = c.post("/api/session", json={"manager": True, "pin": ADMIN_PIN})
        assert r.status_code == 429 and "Retry-After" in r.headers


def test_wrong_clerk_pin_and_unknown_clerk_look_alike(hall: Hall) -> None:
    with hall.client() as c:
        a = c.post("/api/session", json={"clerk": "c01", "pin": "9999", "counter": 1})
        b = c.post("/api/session", json={"clerk": "nobody", "pin": "9999", "counter": 1})
    assert a.status_code == b.status_code == 401 and a.json()["error"] == b.json()["error"]
    assert hall.app.counter_clerk(1).result(10) is None


def test_tokens_are_long_random_and_headers_strict(hall: Hall) -> None:
    tokens = {hall.sign_in("c03") for _ in range(3)}
    assert len(tokens) == 3 and all(len(t) >= 43 for t in tokens)   # 256 bits, base64url
    with hall.client() as c:
        for path in ("/caller", "/floor?lang=zh", "/api/hall"):
            r = c.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
        assert "set-cookie" not in c.get("/caller").headers
        assert c.get("/floor?lang=zh").text.count("大堂引导") >= 1


def _waiting_until(hall: Hall, token: str, want: int) -> list[int]:
    """Open a page's live stream and read the hall's waiting counts until `want` (a 3 s read timeout:
    the stream's keep-alive comes every 15 s, so a page left without a frame fails here)."""
    seen: list[int] = []
    with httpx.Client(base_url=hall.url, headers={"Authorization": f"Bearer {token}"}, timeout=3) as c, \
            c.stream("GET", "/api/stream") as s:
        try:
            for line in s.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:])["waiting"])
                    if seen[-1] == want:
                        return seen
        except httpx.ReadTimeout:
            pass
    raise AssertionError(f"the page never saw {want} waiting: it kept the hall of before ({seen})")


def test_a_page_opened_after_changes_nobody_watched_sees_the_hall_as_it_is(hall: Hall) -> None:
    """With no page open the feed reads no snapshot (the core thread is the counters'); the next page
    to open still gets the hall as it is now, without waiting for another change."""
    token = hall.sign_in("c03")
    _waiting_until(hall, token, 0)                        # a first page, then gone
    for _ in range(2):
        hall.app.issue("A").result(10)                    # while nobody watches
    time.sleep(0.5)                                       # past the feed's push period: no page, no read
    _waiting_until(hall, token, 2)
