"""Remote tickets through a real `kiosk hq serve`, a real mosquitto and a fake branch that
answers ``issue_remote`` as a kiosk does: 201 and a follow URL that works, the address's quota
(429), the branch offline or silent (503 naming it), the kiosk's refusals (409, 429 for its
remote cap), bad bodies (400/415) and unknown branches (404) — all without a login."""
from __future__ import annotations

import time

from kiosk.sim.waiting import wait_until
from tests.hq.phone.test_phone_api import branch, hq  # noqa: F401 — fixtures: a real `kiosk hq serve`, a fake branch

PUBLIC = "https://hq.example.com"


def _seen(c, branch) -> bool:
    return any(b["branch"] == branch.branch and b["online"] for b in c.get("/api/public/branches").json()["branches"])


def test_remote_ticket_follow_url_works_then_the_address_is_rate_limited(hq, branch):
    with hq.client() as c:
        wait_until(lambda: _seen(c, branch), 20, what="HQ to see the branch")
        t0 = time.monotonic()
        r = c.post(f"/api/public/{branch.branch}/tickets", json={"service": "B"})
        took = time.monotonic() - t0
        assert r.status_code == 201, r.text
        body = r.json()
        assert set(body) == {"ticket", "follow_url", "check_in_code", "check_in_by", "ahead", "estimate_s"}
        assert body["ticket"] == "B001" and body["follow_url"].startswith(PUBLIC + "/t/")
        assert len(body["check_in_code"]) == 6 and body["ahead"] == 1 and body["estimate_s"] == 150.0
        assert "set-cookie" not in r.headers and took < 5
        path = body["follow_url"][len(PUBLIC):]
        wait_until(lambda: c.get(path, headers={"Accept": "application/json"}).status_code == 200, 20,
                   what="the follow URL to answer")
        v = c.get(path, headers={"Accept": "application/json"}).json()
        assert (v["ticket"], v["state"], v["branch"]) == ("B001", "parked", branch.branch)
        for _ in range(4):
            assert c.post(f"/api/public/{branch.branch}/tickets", json={"service": "A"}).status_code == 201
        sent = len(branch.commands)
        r = c.post(f"/api/public/{branch.branch}/tickets", json={"service": "A"})
        assert r.status_code == 429 and r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) > 0
        assert len(branch.commands) == sent   # never reached the branch


def test_refusals_offline_silent_and_bad_requests(hq, branch):
    url = f"/api/public/{branch.branch}/tickets"
    with hq.client() as c:
        wait_until(lambda: _seen(c, branch), 20, what="HQ to see the branch")
        branch.refuse = "service_closed"
        r = c.post(url, json={"service": "A"})
        assert r.status_code == 409 and r.json()["error"] == "service_closed" and r.json()["message"]
        branch.refuse = "remote_cap"
        r = c.post(url, json={"service": "A"})
        assert r.status_code == 429 and r.json()["error"] == "remote_cap"
        branch.refuse = None
        for body, code in (({"service": "Z"}, "unknown_service"), ({"service": "A", "x": 1}, "bad_body"),
                           ([], "bad_body"), ({"service": 3}, "bad_service"), ({"service": "<b>"}, "bad_service")):
            r = c.post(url, json=body)
            assert (r.status_code, r.json()["error"]) == (400, code), body
        assert c.post(url, content=b"{nope", headers={"content-type": "application/json"}).status_code == 400
        assert c.post(url, data={"service": "A"}).status_code == 415
        assert c.post("/api/public/no-such-branch/tickets", json={"service": "A"}).status_code == 404
        assert c.post("/api/public/..%2f/tickets", json={"service": "A"}).status_code == 404
        # the branch does not answer within 5 s
        branch.silent = True
        t0 = time.monotonic()
        r = c.post(url, json={"service": "A"})
        assert r.status_code == 503 and r.json()["error"] == "branch_offline" and branch.branch in r.json()["message"]
        assert 4.5 < time.monotonic() - t0 < 8
        branch.silent = False
        # offline by its retained status: refused at once, nothing sent
        branch.status(False)
        wait_until(lambda: not _seen(c, branch), 20, what="HQ to see the branch offline")
        sent = len(branch.commands)
        r = c.post(url, json={"service": "A"})
        assert r.status_code == 503 and r.json()["error"] == "branch_offline" and branch.branch in r.json()["message"]
        assert len(branch.commands) == sent
        # none of these counted against the address: back online, a ticket is issued
        branch.status(True)
        wait_until(lambda: _seen(c, branch), 20, what="HQ to see the branch online")
        assert c.post(url, json={"service": "A"}).status_code == 201
