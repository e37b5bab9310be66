"""The comparison over one day or a range of days (``/api/compare?day=`` or ``?from=&to=``), on
either database, through the real app; wrong input is a 400 naming the field; the compare page
offers the second date and shows the range."""
from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from kiosk.hq.db import open_db
from kiosk.hq.recorder import record_events
from kiosk.hq.web.app import MAX_RANGE_DAYS, Dashboard
from kiosk.hq.web.auth import Users
from kiosk.hq.web.live import Live
from tests.kit.hq_web import USERS, new_branch, sign_in

D1, D2, D3 = "2020-03-02", "2020-03-03", "2020-03-04"


def _ev(branch: str, seq: int, day: str, type_: str, **kw) -> dict:
    return {"v": 1, "id": uuid.uuid4().hex, "seq": seq, "type": type_, "branch": branch, "day": day,
            "ts": f"{day}T09:{seq % 60:02d}:00+08:00", "service": "A", **kw}


def _history(b1: str, b2: str) -> list[dict]:
    """b1: a call with 60 s on D1, 300 s on D2, 30 s on D3; b2: one with 900 s on D1."""
    return [_ev(b1, 1, D1, "ticket.issued"), _ev(b1, 2, D1, "ticket.called", counter=1, wait_s=60),
            _ev(b1, 3, D2, "ticket.issued"), _ev(b1, 4, D2, "ticket.called", counter=1, wait_s=300),
            _ev(b1, 5, D3, "ticket.called", counter=1, wait_s=30),
            _ev(b2, 1, D1, "ticket.called", counter=2, wait_s=900)]


class AppClient:
    """Plain calls into an ASGI app (httpx's ASGITransport) whose event loop runs on a thread of its own
    (Playwright's loop may run in this one); it keeps its cookies and headers like an httpx.Client."""

    def __init__(self, app: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hq.test")
        self.headers = self.client.headers

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return asyncio.run_coroutine_threadsafe(self.client.request(method, url, **kw), self.loop).result(60)

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def signed_in(hq_db_target) -> Iterator[AppClient]:
    """The real app over `hq_db_target` (its MQTT side never started), signed in as a viewer."""
    db = open_db(hq_db_target)
    users = Users(db)
    c = None
    try:
        users.add("view", *USERS["view"])
        c = AppClient(Dashboard(Live("mqtt://127.0.0.1:1"), users, db).app)
        assert sign_in(c, "view", USERS["view"][1]).status_code == 303
        yield c
    finally:
        if c is not None:
            c.close()
        users.close()
        db.close()


def test_one_day_and_a_range_of_days(signed_in, hq_db_target):
    assert record_events(hq_db_target, _history("b1", "b2")) == 6
    c = signed_in
    day = c.get("/api/compare", params={"day": D1}).json()
    rows = {r["branch"]: r for r in day["rows"]}
    assert day["day"] == D1 and set(rows) == {"b1", "b2"}
    assert (rows["b1"]["called"], rows["b1"]["mean_wait_s"], rows["b2"]["mean_wait_s"]) == (1, 60.0, 900.0)
    both = c.get("/api/compare", params={"from": D1, "to": D2}).json()
    assert (both["from"], both["to"], both["days"]) == (D1, D2, 2)
    rows = {r["branch"]: r for r in both["rows"]}
    assert (rows["b1"]["issued"], rows["b1"]["called"], rows["b1"]["mean_wait_s"]) == (2, 2, 180.0)
    assert rows["b1"]["wait_max"] == 300 and rows["b2"]["called"] == 1  # D3 is not in it
    one = c.get("/api/compare", params={"from": D2, "to": D2}).json()
    assert one["rows"] == c.get("/api/compare", params={"day": D2}).json()["rows"]
    assert c.get("/api/days").json()["days"][:3] == [D3, D2, D1]
    branch = c.get("/api/branch/b1/day", params={"day": D2}).json()
    assert branch["total"]["called"] == 1 and branch["events"][0]["seq"] == 5


BAD = [
    ({"day": "2026-13-01"}, "day", "not a date of the calendar"),
    ({"day": "20261120"}, "day", "YYYY-MM-DD"),
    ({"day": "٢٠٢٦-٠١-٠١"}, "day", "YYYY-MM-DD"),  # other digits than 0-9
    ({"day": "2026-01-01' OR 1=1 --"}, "day", "YYYY-MM-DD"),
    ({"from": "2026-01-01"}, "to", "missing"),
    ({"to": "2026-01-01"}, "from", "missing"),
    ({"from": "", "to": "2026-01-01"}, "from", "missing"),
    ({"from": "2026-01-10", "to": "2026-01-01"}, "to", "before"),
    ({"from": "2025-01-01", "to": "2026-01-02"}, "to", f"367 days: at most {MAX_RANGE_DAYS}"),
    ({"from": "0001-01-01", "to": "9999-12-31"}, "to", f"at most {MAX_RANGE_DAYS}"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "not a date"),
    ({"day": "2026-01-01", "from": "2026-01-01", "to": "2026-01-02"}, "day", "not both"),
]


@pytest.mark.parametrize("hq_db_target", ["sqlite"], indirect=True)
def test_wrong_dates_are_a_400_naming_the_field(signed_in):
    c = signed_in
    for params, field, words in BAD:
        r = c.get("/api/compare", params=params)
        assert r.status_code == 400, params
        j = r.json()
        assert (j["error"], j["field"]) == (f"bad_{field}", field) and words in j["message"], (params, j)
    leap = c.get("/api/compare", params={"from": "2024-01-01", "to": "2024-12-31"})  # 366 days: allowed
    assert leap.status_code == 200 and leap.json()["days"] == MAX_RANGE_DAYS
    r = c.get("/api/branch/b1/day", params={"day": "yesterday"})
    assert r.status_code == 400 and r.json()["field"] == "day"
    assert c.get("/api/compare").json()["day"] == date.today().isoformat()


def test_the_compare_page_shows_a_range(new_page, hq_server, hq_db):
    b1, b2 = new_branch("range"), new_branch("range")
    assert record_events(hq_db, _history(b1, b2)) == 6
    page = new_page("view")
    page.goto(f"{hq_server.url}/compare?from={D1}&to={D2}")
    page.wait_for_selector(f"body[data-range='{D1}..{D2}'] #tbl tr[data-branch='{b1}']")
    cells = page.locator(f"#tbl tr[data-branch='{b1}'] td")
    assert (cells.nth(1).inner_text(), cells.nth(2).inner_text(), cells.nth(3).inner_text()) == ("2", "2", "3m00s")
    assert page.input_value("#day") == D1 and page.input_value("#to") == D2
    assert f"{D1} – {D2}" in page.inner_text("#chart_title")
    page.fill("#to", "")  # back to one day
    page.dispatch_event("#to", "change")
    page.wait_for_selector(f"body[data-range='{D1}']")
    page.wait_for_function("(b) => document.querySelector(`#tbl tr[data-branch='${b}'] td:nth-child(3)`)"
                           ".textContent === '1'", arg=b1)
    page.fill("#to", D1)  # a second date before the first: the two are put in order
    page.fill("#day", D3)
    page.dispatch_event("#day", "change")
    page.wait_for_selector(f"body[data-range='{D1}..{D3}']")
    assert (page.input_value("#day"), page.input_value("#to")) == (D1, D3)
    assert page.evaluate("document.getElementById('to').min") == D1
