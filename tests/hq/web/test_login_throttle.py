"""Login throttling per name and per address: kept in the database (a restart does not reset
it), bounded, and answered with 429 saying when to try again."""
from __future__ import annotations

import re
import threading

import httpx

from kiosk.hq.web import throttle
from kiosk.hq.web.auth import Users
from kiosk.hq.web.throttle import LoginThrottle
from tests.kit.hq_web import USERS, Server, sign_in


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _users(tmp_path, clock: Clock) -> Users:
    u = Users(tmp_path / "hq.db")
    u.throttle = LoginThrottle(u.connection, clock=clock)
    return u


def test_name_locked_then_free_after_the_lockout(tmp_path):
    clock = Clock()
    u = _users(tmp_path, clock)
    try:
        u.add("carol", "viewer", "right password")
        for _ in range(throttle.MAX_FAILURES - 1):
            assert u.sign_in("carol", "wrong", "10.0.0.1").lockout is None
        last = u.sign_in("carol", "wrong", "10.0.0.1")
        assert last.lockout is not None and last.lockout.scope == "name"
        assert last.lockout.retry_after_s == throttle.LOCKOUT_S
        clock.now += 10
        locked = u.sign_in("carol", "right password", "10.0.0.2")  # even the right one, from elsewhere
        assert locked.role is None and locked.lockout.retry_after_s == throttle.LOCKOUT_S - 10
        clock.now += throttle.LOCKOUT_S
        ok = u.sign_in("carol", "right password", "10.0.0.2")
        assert ok.role == "viewer" and not u.locked("carol")
    finally:
        u.close()


def test_address_locked_when_many_names_fail_from_it(tmp_path):
    clock = Clock()
    u = _users(tmp_path, clock)
    try:
        u.add("dave", "operator", "dave's password")
        for i in range(throttle.MAX_ADDRESS_FAILURES):
            clock.now += 1
            assert u.sign_in(f"guess{i}", "x", "203.0.113.9").role is None
        r = u.sign_in("dave", "dave's password", "203.0.113.9")
        assert r.role is None and r.lockout.scope == "address"
        assert u.sign_in("dave", "dave's password", "198.51.100.1").role == "operator"  # other places are fine
    finally:
        u.close()


def test_failures_table_stays_bounded(tmp_path, monkeypatch):
    clock = Clock()
    u = _users(tmp_path, clock)
    monkeypatch.setattr(throttle, "MAX_ROWS", 500)
    try:
        t = u.throttle
        for i in range(50):  # one name hammered: only the failures that count are kept
            t.failed("victim", "192.0.2.1")
        assert t.rows() == throttle.MAX_FAILURES + throttle.MAX_ADDRESS_FAILURES
        for i in range(2000):  # a spray of names and addresses: never more than the cap
            clock.now += 0.01
            t.failed(f"n{i}", f"a{i}")
            assert t.rows() <= 500
        clock.now += throttle.WINDOW_S + 1
        t.failed("late", None)
        assert t.rows() == 1  # everything older than the window was pruned
    finally:
        u.close()


def test_throttle_is_thread_safe_with_users_lock(tmp_path):
    u = Users(tmp_path / "hq.db")
    try:
        threads = [threading.Thread(target=lambda k=k: [u.throttle.failed(f"t{k}", "a") for _ in range(20)])
                   for k in range(4)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert u.locked("t0", None)
    finally:
        u.close()


def test_lockout_answers_429_and_survives_a_restart(hq_broker, tmp_path):
    db = tmp_path / "hq.db"
    users = Users(db)
    users.add("op", *USERS["op"])
    users.add("erin", "viewer", "erin-password")
    users.close()
    server = Server(hq_broker.url, db)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            for _ in range(throttle.MAX_FAILURES - 1):
                assert sign_in(c, "erin", "not it").status_code == 401
            assert sign_in(c, "erin", "not it").status_code == 429  # the failure that locks says so
            r = sign_in(c, "erin", "erin-password")
            assert r.status_code == 429
            wait = int(r.headers["retry-after"])
            assert 0 < wait <= throttle.LOCKOUT_S
            assert re.search(r"Too many failed sign-ins for this user name: try again in \d+ s \(at \d\d:\d\d:\d\d\)",
                             r.text), r.text
    finally:
        assert server.stop() == 0
    server = Server(hq_broker.url, db)  # a restart: the failures are in the database
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            r = sign_in(c, "erin", "erin-password")
            assert r.status_code == 429 and "try again in" in r.text
            assert sign_in(c, "op", USERS["op"][1]).status_code == 303  # only that name is locked
    finally:
        server.stop()
