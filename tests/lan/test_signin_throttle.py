"""Sign-in throttling of `POST /api/session` per client address and per clerk ID, kept in the
data directory (it survives a restart of the web app) and bounded in size."""
from __future__ import annotations

import httpx

from kiosk.lan.server import LanServer
from kiosk.lan.signin import THROTTLE_FILE
from kiosk.webkit.throttle import ADDRESS, ID, SignInThrottle
from tests.lan.conftest import ADMIN_PIN, Hall

ATTACKER, OTHER, THIRD = "127.0.0.2", "127.0.0.3", "127.0.0.4"


def client(hall: Hall, source: str) -> httpx.Client:
    return httpx.Client(base_url=hall.url, transport=httpx.HTTPTransport(local_address=source), timeout=20)


def test_an_address_trying_many_clerk_ids_is_locked_others_are_not(hall: Hall) -> None:
    with client(hall, ATTACKER) as c:
        for i in range(20):
            r = c.post("/api/session", json={"clerk": f"guess{i}", "pin": "1234", "counter": 1})
            assert r.status_code == 401, (i, r.text)
        r = c.post("/api/session", json={"clerk": "c01", "pin": "1111", "counter": 1})  # the right PIN, too late
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "throttled" and "address" in r.json()["message"]
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        r = c.post("/api/session", json={"manager": True, "pin": ADMIN_PIN})
        assert r.status_code == 429
    assert hall.app.counter_clerk(1).result(10) is None   # nobody was let in
    with client(hall, OTHER) as c:
        assert c.post("/api/session", json={"clerk": "c01", "pin": "1111", "counter": 1}).status_code == 200


def test_one_clerk_id_tried_from_many_addresses_is_locked(hall: Hall) -> None:
    for i in range(5):  # an unknown ID: the clerks' own PIN lockout does not see it
        with client(hall, f"127.0.1.{i + 1}") as c:
            assert c.post("/api/session", json={"clerk": "ghost", "pin": "1234"}).status_code == 401
    with client(hall, THIRD) as c:
        r = c.post("/api/session", json={"clerk": "ghost", "pin": "1234"})
        assert r.status_code == 429 and r.json()["field"] == "clerk" and "Retry-After" in r.headers
        # another ID from the same address is still checked
        assert c.post("/api/session", json={"clerk": "c02", "pin": "2222", "counter": 2}).status_code == 200


def test_a_right_pin_clears_the_clerk_ids_failures(hall: Hall) -> None:
    with client(hall, ATTACKER) as c:
        for _ in range(2):
            assert c.post("/api/session", json={"clerk": "c03", "pin": "9999"}).status_code == 401
        assert c.post("/api/session", json={"clerk": "c03", "pin": "3333"}).status_code == 200
    throttle = SignInThrottle(hall.app.data_dir / THROTTLE_FILE)
    try:
        assert throttle.lockout("c03", None) is None
        counts = dict(throttle._conn.execute("SELECT scope, count(*) FROM failures GROUP BY scope").fetchall())
        assert counts == {ADDRESS: 2}   # the address keeps its failures
    finally:
        throttle.close()


def test_the_lock_survives_a_restart_of_the_web_app(hall: Hall) -> None:
    with client(hall, ATTACKER) as c:
        for i in range(20):
            assert c.post("/api/session", json={"clerk": f"g{i}", "pin": "1234"}).status_code == 401
    hall.server.close()
    server = LanServer(hall.app, "127.0.0.1", 0, push_ms=50).start()
    try:
        with httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=ATTACKER),
                          timeout=20) as c:
            r = c.post("/api/session", json={"clerk": "c01", "pin": "1111", "counter": 1})
        assert r.status_code == 429, r.text
    finally:
        server.close()


def test_the_throttle_stays_bounded_and_forgets_after_the_window(tmp_path) -> None:
    now = [1_000_000.0]
    t = SignInThrottle(tmp_path / "t.db", max_id_failures=3, max_address_failures=5, window_s=300, lockout_s=60,
                       max_rows=50, clock=lambda: now[0])
    try:
        for _ in range(40):                      # one ID, one address: only the failures that count are kept
            t.failed("x", "10.0.0.1")
        assert t.rows() == 3 + 5
        lock = t.lockout("x", None)
        assert lock is not None and lock.scope == ID and 59 < lock.retry_after_s <= 60
        assert t.lockout(None, "10.0.0.1").scope == ADDRESS
        now[0] += 61                             # the lock ends lockout_s after the last failure
        assert t.lockout("x", "10.0.0.1") is None
        now[0] -= 10_000                         # a clock gone back never locks longer than lockout_s
        for _ in range(3):
            t.failed("y", None)
        now[0] -= 10_000
        lock = t.lockout("y", None)
        assert lock is not None and lock.retry_after_s <= 60
        now[0] += 20_000
        for i in range(200):                     # many keys: never more than max_rows
            t.failed(f"id{i}", f"10.0.{i}.2")
        assert t.rows() == 50
        now[0] += 30_000                         # after the window, the next failure prunes the old rows
        t.failed("z", None)
        assert t.rows() == 1
    finally:
        t.close()


def test_the_throttle_file_is_private(hall: Hall) -> None:
    path = hall.app.data_dir / THROTTLE_FILE
    assert path.exists() and path.stat().st_mode & 0o077 == 0
