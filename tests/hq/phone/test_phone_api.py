"""The customers' public routes on a real `kiosk hq serve` process, fed by a fake branch
(`tests.kit.phone_branch`) through a real mosquitto: the ticket's JSON view and its changes on
an open SSE stream, identical 404s, hostile follow messages refused at ingest, the public branch
list, and no login needed for these routes while the dashboard's still need one."""
from __future__ import annotations

import http.client
import json
import secrets

import pytest

from kiosk.sim.waiting import wait_until
from tests.kit.hostile_payloads import js
from tests.kit.hq_web import Server, add_users, new_branch
from tests.kit.phone_branch import PhoneBranch

JSON = {"Accept": "application/json"}


@pytest.fixture
def hq(broker, tmp_path):
    add_users(tmp_path / "hq.db")
    s = Server(broker.url, tmp_path / "hq.db", "--public-url", "https://hq.example.com/")  # as PUBLIC + "/"
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def branch(broker):
    b = PhoneBranch(broker.port, new_branch("ph"))
    try:
        yield b.online()
    finally:
        b.close()


def _view(c, token):
    r = c.get(f"/t/{token}", headers=JSON)
    return r.json() if r.status_code == 200 else None


def test_json_view_and_its_change_on_an_open_sse_stream(hq, branch):
    token, number = branch.add_ticket("A", ahead=2)
    branch.follow()
    with hq.client() as c:
        wait_until(lambda: _view(c, token) is not None, 20, what="HQ to index the ticket")
        v = _view(c, token)
        assert {k: v[k] for k in ("ticket", "service", "state", "ahead", "estimate_s", "counter", "branch")} == {
            "ticket": number, "service": "A", "state": "waiting", "ahead": 2, "estimate_s": 300.0, "counter": None,
            "branch": branch.branch}
        assert v["calls"] == [] and v["updated"]
        with c.stream("GET", f"/t/{token}/events") as r:
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
            assert "'self'" in r.headers["content-security-policy"] and "set-cookie" not in r.headers
            lines = r.iter_lines()
            assert next(lines) == "event: ticket"
            first = json.loads(next(lines)[len("data: "):])
            assert first["state"] == "waiting"
            branch.call(token, counter=3)
            branch.follow()
            frame = []
            for line in lines:
                if line.startswith("data: "):
                    frame.append(json.loads(line[6:]))
                    break
            assert frame[0]["state"] == "called" and frame[0]["counter"] == 3
            assert frame[0]["calls"][0] == {"ticket": number, "counter": 3, "ts": frame[0]["calls"][0]["ts"]}
        # the HTML page: no login, no cookie, strict CSP, no inline script
        r = c.get(f"/t/{token}?lang=zh")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        assert "set-cookie" not in r.headers and "script-src 'self'" in r.headers["content-security-policy"]
        assert "<script>" not in r.text


def test_404_identical_for_malformed_unknown_expired_and_nothing_else_reachable(hq, branch):
    token, _ = branch.add_ticket("A")
    branch.follow()
    with hq.client() as c:
        wait_until(lambda: _view(c, token) is not None, 20, what="HQ to index the ticket")
        branch.drop(token)
        branch.follow()
        wait_until(lambda: _view(c, token) is None, 20, what="the ticket to expire")
        answers = []
        for path in ("/t/abc", "/t/" + "x" * 23, "/t/" + "a" * 21 + "!", f"/t/{secrets.token_urlsafe(16)}",
                     f"/t/{token}", f"/t/{token}/events", "/t/a/b/c", "/t/sw.js/x"):
            for headers in ({}, JSON):
                r = c.get(path, headers=headers)
                answers.append((path, r.status_code, r.headers["content-type"], r.text))
        assert {a[1:] for a in answers} == {(404, "text/plain; charset=utf-8", "not found")}, answers
    # raw paths a browser would normalise: still the same 404, never the dashboard's data
    for raw_path in ("/t/../api/branches", "/t/%2e%2e/api/branches", "/t/..%2fapi%2fbranches"):
        conn = http.client.HTTPConnection("127.0.0.1", hq.port, timeout=10)
        conn.request("GET", raw_path)
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (404, b"not found"), raw_path
        conn.close()


def test_hostile_follow_refused_at_ingest_changes_nothing_but_the_problem(hq, branch):
    token, number = branch.add_ticket("A", ahead=4)
    branch.follow()
    with hq.client() as c, hq.client("op") as op:
        wait_until(lambda: _view(c, token) is not None, 20, what="HQ to index the ticket")
        before = _view(c, token)
        good = branch.follow_doc()
        bad = [("bad_value", {**good, "tickets": [{**good["tickets"][0], "key": "A" * 32}]}),
               ("too_many", {**good, "tickets": [{**good["tickets"][0], "key": f"{i:032x}"} for i in range(2001)]}),
               ("bad_value", {**good, "tickets": [{**good["tickets"][0], "ticket": "<script>"}]}),
               ("wrong_branch", {**good, "branch": "someone-else"}),
               ("bad_json", b"{not json")]

        def rejected():
            rows = op.get("/api/branches").json()["rows"]
            return next(r for r in rows if r["branch"] == branch.branch)["rejected"]
        for code, doc in bad:
            n = rejected().get(f"follow:{code}", 0)
            branch.follow(doc if isinstance(doc, bytes) else js(doc))
            wait_until(lambda: rejected().get(f"follow:{code}", 0) == n + 1, 20, what=f"the refusal {code}")
            assert _view(c, token) == before
        row = next(r for r in op.get("/api/branches").json()["rows"] if r["branch"] == branch.branch)
        assert row["problem"].startswith("follow message refused (bad_json)")
        assert row["online"] is True and row["waiting_total"] == 4   # the rest of the branch unchanged


def test_public_branches_and_login_still_needed_for_the_dashboard(hq, branch):
    with hq.client() as c:
        wait_until(lambda: any(b["branch"] == branch.branch for b in c.get("/api/public/branches")
                               .json()["branches"]), 20, what="the public branch list")
        r = c.get("/api/public/branches")
        assert "set-cookie" not in r.headers
        b = next(b for b in r.json()["branches"] if b["branch"] == branch.branch)
        assert set(b) == {"branch", "name", "address", "lat", "lon", "online", "waiting", "remote", "services",
                          "quiet", "appointments", "forms"}
        assert b["online"] is True and b["remote"] is True and b["waiting"] == 4 and b["lat"] == 31.23
        assert b["services"][0] == {"service": "A", "name": {"zh": "业务A", "en": "Service A"}, "waiting": 2,
                                    "estimate_s": 240.0, "remote": True}
        assert "Counter" not in r.text and "counters" not in r.text
        page = c.get("/b?lang=en")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in page.headers["content-security-policy"]
        # the dashboard's routes still need a user
        assert c.get("/api/branches").status_code == 401
        assert c.get(f"/api/branch/{branch.branch}").status_code == 401
        assert c.get("/").status_code == 303
        assert c.post(f"/api/branch/{branch.branch}/cmd/ping", json={}).status_code in (401, 403)
        assert c.get("/b/").status_code in (303, 307)     # only /b itself is public
        assert c.get("/api/publicx").status_code == 401
