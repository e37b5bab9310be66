"""HQ's users, sessions, login throttle, session secret and command log on either database
(an SQLite file, then a real PostgreSQL: `hq_db_target`), kept across a new `Users` on the same
database (a restart, or another node); an SQLite file made by the code before is migrated."""
from __future__ import annotations

import sqlite3
import threading

import pytest

from kiosk.hq.db import open_db
from kiosk.hq.web import throttle
from kiosk.hq.web.auth import SYSTEM_USER, AuthError, Users
from kiosk.hq.web.throttle import LoginThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _clocked(users: Users, clock: Clock) -> Users:
    users.throttle = LoginThrottle(users.connection, clock=clock)
    return users


def test_users_kept_across_a_new_users_on_the_same_db(hq_db_target):
    a = Users(hq_db_target)
    try:
        a.add("alice", "viewer", "alice password")
        a.add("bob", "operator", "bob password")
        with pytest.raises(AuthError, match="exists"):
            a.add("alice", "operator", "another password")
        with pytest.raises(AuthError, match="HQ's own"):
            a.add(SYSTEM_USER, "operator", "hq password!")
        with pytest.raises(AuthError, match="user name"):
            a.add("alice\n", "viewer", "alice password")
        gen = a.sign_in("alice", "alice password").generation
        assert a.session_role("alice", gen) == "viewer"
        assert a.revoke("alice") and a.session_role("alice", gen) is None
        assert not a.revoke("nobody")
        gen = a.sign_in("alice", "alice password").generation
        secret = a.secret()
    finally:
        a.close()
    b = Users(hq_db_target)  # a restart
    try:
        assert [u["name"] for u in b.list()] == ["alice", "bob"]
        assert b.secret() == secret
        assert b.session_role("alice", gen) == "viewer"
        assert b.session_role("alice", gen - 1) is None  # the revoked one stays revoked
        b.add("alice", "operator", "a new password", replace=True)
        assert b.session_role("alice", gen) is None  # a new password ends the old sessions
        r = b.sign_in("alice", "a new password")
        assert r.role == "operator" and r.generation == gen + 1
        assert b.remove("bob") and not b.remove("bob")
        assert b.authenticate("bob", "bob password") is None
        for forged in (2 ** 64, -2 ** 70, True, "1", None, 1.0):
            assert b.session_role("alice", forged) is None
        for forged in (None, 7, "alice\x00", "x" * 500):
            assert b.session_role(forged, r.generation) is None
    finally:
        b.close()


def test_throttle_kept_and_bounded_on_both(hq_db_target, monkeypatch):
    clock = Clock()
    a = _clocked(Users(hq_db_target), clock)
    try:
        a.add("carol", "viewer", "carol password")
        for _ in range(throttle.MAX_FAILURES):
            clock.now += 1
            a.sign_in("carol", "wrong", "10.0.0.1")
    finally:
        a.close()
    b = _clocked(Users(hq_db_target), clock)  # a restart, or the node next door
    try:
        r = b.sign_in("carol", "carol password", "10.0.0.2")
        assert r.role is None and r.lockout.scope == "name" and r.lockout.retry_after_s == throttle.LOCKOUT_S
        clock.now += throttle.LOCKOUT_S
        assert b.sign_in("carol", "carol password", "10.0.0.2").role == "viewer"
        monkeypatch.setattr(throttle, "MAX_ROWS", 60)
        for i in range(200):
            clock.now += 0.01
            b.throttle.failed(f"n{i}", f"a{i}")
            assert b.throttle.rows() <= 60
        for _ in range(30):  # one key hammered keeps only the failures that count
            b.throttle.failed("victim", None)
        with b.connection() as conn:
            kept = conn.execute("SELECT count(*) FROM hq_login_failures WHERE key = 'victim'").fetchone()[0]
        assert kept == throttle.MAX_FAILURES
        clock.now += throttle.WINDOW_S + 1
        b.throttle.failed("late", None)
        assert b.throttle.rows() == 1
    finally:
        b.close()


def test_hostile_sign_in_names_cost_nothing_but_count_against_the_address(hq_db_target):
    u = Users(hq_db_target)
    try:
        u.add("dave", "operator", "dave password")
        for name in ("dave\x00", "\ud800", "x" * 10_000, "", "dave\n", "' OR 1=1 --"):
            r = u.sign_in(name, "dave password", "203.0.113.7")
            assert r.role is None
        with u.connection() as conn:
            scopes = conn.execute("SELECT scope, count(*) FROM hq_login_failures GROUP BY scope").fetchall()
        assert dict(scopes) == {"address": 6}
        assert u.sign_in("dave", "dave password", "198.51.100.1").role == "operator"
    finally:
        u.close()


def test_command_log_with_replies_newest_first(hq_db_target):
    a = Users(hq_db_target)
    try:
        for i in range(5):  # all in the same second: the order of logging decides
            a.log_command(f"c{i}", "op", "operator", "b1" if i % 2 == 0 else "b2", "ping", {"i": i}, "sent")
        a.log_command("auto", SYSTEM_USER, "system", "b1", "resend", {"from_seq": 17}, "sent")
        a.log_reply("c2", "ok", {"ok": True, "pong": "天"})
        a.log_reply("c4", "timeout", None)
    finally:
        a.close()
    b = Users(hq_db_target)
    try:
        log = b.commands("b1", 10)
        assert [c["id"] for c in log] == ["auto", "c4", "c2", "c0"]
        assert (log[0]["user"], log[0]["role"], log[0]["payload"]) == ("hq", "system", {"from_seq": 17})
        assert log[2]["status"] == "ok" and log[2]["reply"] == {"ok": True, "pong": "天"} and log[2]["replied"]
        assert log[1]["status"] == "timeout" and log[1]["reply"] is None
        assert [c["id"] for c in b.commands(None, 3)] == ["auto", "c4", "c3"]
    finally:
        b.close()


def test_two_nodes_on_one_postgres_share_the_secret_and_revocation(pg_url):
    one, two = Users(pg_url), Users(pg_url)
    try:
        assert one.secret() == two.secret()
        one.add("erin", "operator", "erin password")
        gen = two.sign_in("erin", "erin password").generation  # signed in through node two
        assert one.session_role("erin", gen) == "operator"     # node one accepts that session
        one.revoke("erin")                                      # ended on node one …
        assert two.session_role("erin", gen) is None            # … is ended on node two at once
        errors: list[BaseException] = []

        def race(users: Users) -> None:  # both nodes adding the same user: one wins, the other is told
            try:
                users.add("frank", "viewer", "frank password")
            except AuthError as exc:
                errors.append(exc)
        threads = [threading.Thread(target=race, args=(u,)) for u in (one, two)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert len(errors) == 1 and "exists" in str(errors[0])
    finally:
        one.close()
        two.close()


def test_nodes_starting_together_make_the_schema_once(pg_url):
    made: list[Users] = []
    failed: list[BaseException] = []

    def start() -> None:
        try:
            made.append(Users(pg_url))
        except BaseException as exc:  # noqa: BLE001 — reported below
            failed.append(exc)
    threads = [threading.Thread(target=start) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    try:
        assert not failed and len(made) == 4
        assert len({u.secret() for u in made}) == 1
    finally:
        for u in made:
            u.close()


def test_users_over_a_shared_db_leave_it_open(hq_db_target):
    db = open_db(hq_db_target)
    try:
        u = Users(db)
        u.add("gina", "viewer", "gina password")
        u.close()
        with db.connection() as conn:  # still usable by its owner (the recorder, the dashboard)
            assert conn.execute("SELECT count(*) FROM hq_users").fetchone()[0] == 1
    finally:
        db.close()


# -- an SQLite file made by the code before (a `user` column, failures without an id) -------------------
OLD_SCHEMA = """
CREATE TABLE hq_users (name TEXT PRIMARY KEY, role TEXT NOT NULL, pw_hash TEXT NOT NULL, created TEXT NOT NULL,
  generation INTEGER NOT NULL DEFAULT 0);
CREATE TABLE hq_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE hq_command_log (id TEXT PRIMARY KEY, ts TEXT NOT NULL, user TEXT NOT NULL, role TEXT NOT NULL,
  branch TEXT NOT NULL, command TEXT NOT NULL, payload TEXT NOT NULL, status TEXT NOT NULL, reply TEXT, replied TEXT);
CREATE INDEX hq_command_log_branch ON hq_command_log (branch, ts);
CREATE TABLE hq_login_failures (scope TEXT NOT NULL, key TEXT NOT NULL, ts REAL NOT NULL);
CREATE INDEX hq_login_failures_key ON hq_login_failures (scope, key, ts);
CREATE INDEX hq_login_failures_ts ON hq_login_failures (ts);
"""


def test_an_old_sqlite_file_is_migrated_in_place(tmp_path):
    from kiosk.hq.web.auth import hash_password
    path = tmp_path / "hq.db"
    old = sqlite3.connect(path)
    old.executescript(OLD_SCHEMA)
    old.execute("INSERT INTO hq_users VALUES ('olga', 'operator', ?, '2026-01-01T00:00:00+00:00', 3)",
                (hash_password("olga password"),))
    old.execute("INSERT INTO hq_meta VALUES ('session_secret', 'the-old-secret')")
    old.executemany("INSERT INTO hq_command_log VALUES (?, '2026-01-01T00:00:00+00:00', 'olga', 'operator', 'b1', "
                    "'ping', '{}', ?, ?, NULL)", [("first", "ok", '{"ok": true}'), ("second", "sent", None)])
    clock = Clock()
    old.executemany("INSERT INTO hq_login_failures VALUES ('name', 'olga', ?)",
                    [(clock.now - i,) for i in range(throttle.MAX_FAILURES)])
    old.commit()
    old.close()
    u = _clocked(Users(path), clock)
    try:
        assert u.secret() == "the-old-secret" and u.session_role("olga", 3) == "operator"
        assert [(c["id"], c["user"], c["status"], c["reply"]) for c in u.commands("b1")] == [
            ("second", "olga", "sent", None), ("first", "olga", "ok", {"ok": True})]
        assert u.sign_in("olga", "olga password").lockout.scope == "name"  # the failures were kept
        u.log_command("third", "olga", "operator", "b1", "ping", {}, "sent")
        assert u.commands("b1")[0]["id"] == "third"
        with u.connection() as conn:
            log_cols = {r[1] for r in conn.execute("PRAGMA table_info(hq_command_log)")}
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "user" not in log_cols and "user_name" in log_cols
        assert not any(t.endswith("_v1") for t in tables)
        assert {"hq_login_failures_key", "hq_login_failures_ts", "hq_command_log_branch_n"} <= indexes
    finally:
        u.close()
    Users(path).close()  # a second start finds nothing to migrate
