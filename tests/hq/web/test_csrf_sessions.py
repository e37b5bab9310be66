"""CSRF tokens (login included), security headers, revocable sessions, the database's file mode."""
from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx

from kiosk.hq.web.app import Dashboard
from kiosk.hq.web.auth import Users
from kiosk.hq.web.live import Live
from kiosk.hq.web.security import CSP
from tests.kit.hq_web import USERS, csrf_of, sign_in
from tests.kit.settings import REPO


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- CSRF ---------------------------------------------------------------------------------------------
def test_login_needs_the_forms_csrf_token(hq_server):
    with httpx.Client(base_url=hq_server.url, timeout=30) as c:
        form = {"name": "view", "password": USERS["view"][1], "next": "/"}
        r = c.post("/login", data=form)  # no session yet: no token to match
        assert r.status_code == 403 and "no CSRF token in this session" in r.text
        token = csrf_of(c)
        r = c.post("/login", data=form)
        assert r.status_code == 403 and "CSRF token missing" in r.text
        r = c.post("/login", data={**form, "csrf": token[::-1]})
        assert r.status_code == 403 and "does not match" in r.text
        assert c.get("/api/me").status_code == 401  # none of those signed in
        r = c.post("/login", data={**form, "csrf": token})
        assert r.status_code == 303
        assert c.get("/api/me").json()["name"] == "view"
        assert csrf_of(c) != token  # the signed-in session has a token of its own


def test_commands_and_logout_need_the_token(hq_server):
    with hq_server.client("op") as c:
        token = c.headers.pop("X-CSRF-Token")
        r = c.post("/api/branch/never-seen/cmd/ping", json={})
        assert r.status_code == 403 and r.json() == {
            "error": "csrf", "message": "CSRF token missing: send the x-csrf-token header or the csrf form field"}
        r = c.post("/api/branch/never-seen/cmd/ping", json={}, headers={"X-CSRF-Token": "forged" * 8})
        assert r.status_code == 403 and "does not match" in r.json()["message"]
        r = c.post("/api/branch/never-seen/cmd/ping", json={}, headers={"X-CSRF-Token": token})
        assert r.status_code == 404  # past the token: the branch is unknown
        assert c.post("/logout").status_code == 403  # a cross-site form cannot sign anybody out
        assert c.get("/api/me").status_code == 200
        assert c.post("/logout", data={"csrf": token}).status_code == 303  # the header's form twin
        assert c.get("/api/me").status_code == 401


# -- headers ------------------------------------------------------------------------------------------
def test_security_headers_on_pages_api_and_errors(hq_server):
    with hq_server.client("view") as c:
        for path, status in [("/", 200), ("/compare", 200), ("/branch/x1", 200), ("/api/me", 200),
                             ("/api/branches", 200), ("/api/nothing", 404), ("/static/hq.js", 200), ("/login", 200)]:
            r = c.get(path)
            assert r.status_code == status, path
            h = r.headers
            assert h["content-security-policy"] == CSP, path
            assert (h["x-content-type-options"], h["referrer-policy"], h["x-frame-options"]) == (
                "nosniff", "no-referrer", "DENY"), path
            assert "strict-transport-security" not in h, path  # plain HTTP: no HSTS
            if not path.startswith("/static/"):
                assert h["cache-control"] == "no-store", path
        assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
        for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'", "base-uri 'none'"):
            assert directive in CSP
        assert "<script>" not in c.get("/").text and " style=" not in c.get("/").text  # nothing inline
    with httpx.Client(base_url=hq_server.url, timeout=30) as anon:
        r = anon.get("/api/me")
        assert r.status_code == 401 and r.headers["content-security-policy"] == CSP


def test_hsts_only_over_tls(tmp_path):
    users = Users(tmp_path / "hq.db")
    try:
        app = Dashboard(Live("mqtt://127.0.0.1:1"), users, tmp_path / "hq.db").app

        async def fetch(base: str) -> httpx.Response:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base) as c:
                return await c.get("/login")

        def get(base: str) -> httpx.Response:  # on a thread of its own: Playwright's loop may run in this one
            with ThreadPoolExecutor(1) as pool:
                return pool.submit(asyncio.run, fetch(base)).result()
        assert get("https://hq.test").headers["strict-transport-security"] == "max-age=31536000"
        assert "strict-transport-security" not in get("http://hq.test").headers
    finally:
        users.close()


# -- revocation ---------------------------------------------------------------------------------------
def _two_sessions(url: str, name: str, password: str) -> tuple[httpx.Client, httpx.Client]:
    a, b = httpx.Client(base_url=url, timeout=30), httpx.Client(base_url=url, timeout=30)
    for c in (a, b):
        assert sign_in(c, name, password).status_code == 303
        assert c.get("/api/me").status_code == 200
    return a, b


def test_logout_ends_every_session_of_the_user(hq_server, hq_db):
    users = Users(hq_db)
    try:
        users.add("rev1", "viewer", "rev1-password")
        a, b = _two_sessions(hq_server.url, "rev1", "rev1-password")
        try:
            stolen = dict(a.cookies)
            assert a.post("/logout").status_code == 303
            assert b.get("/api/me").status_code == 401  # the other browser too
            with httpx.Client(base_url=hq_server.url, timeout=30, cookies=stolen) as replay:
                assert replay.get("/api/me").status_code == 401  # the old cookie, replayed
            assert sign_in(b, "rev1", "rev1-password").status_code == 303  # signing in again works
            assert b.get("/api/me").status_code == 200
        finally:
            a.close()
            b.close()
    finally:
        users.close()


def test_password_change_ends_old_sessions(hq_server, hq_db):
    users = Users(hq_db)
    try:
        users.add("rev2", "operator", "rev2-password")
        a, b = _two_sessions(hq_server.url, "rev2", "rev2-password")
        try:
            users.add("rev2", "operator", "a new password", replace=True)
            assert a.get("/api/me").status_code == 401 and b.get("/").status_code == 303
            assert sign_in(a, "rev2", "a new password").status_code == 303
        finally:
            a.close()
            b.close()
    finally:
        users.close()


def test_cli_user_revoke_ends_sessions(hq_server, hq_db):
    users = Users(hq_db)
    try:
        users.add("rev3", "viewer", "rev3-password")
    finally:
        users.close()
    a, b = _two_sessions(hq_server.url, "rev3", "rev3-password")

    def revoke(name: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kiosk.cli.hq_web", "user", "revoke", name, "--db", str(hq_db)],
                              capture_output=True, text=True, cwd=REPO, timeout=60)
    try:
        r = revoke("rev3")
        assert r.returncode == 0 and "every session of rev3 ended" in r.stderr
        assert a.get("/api/me").status_code == 401 and b.get("/api/me").status_code == 401
        assert sign_in(a, "rev3", "rev3-password").status_code == 303
    finally:
        a.close()
        b.close()
    r = revoke("nobody-here")
    assert r.returncode == 1 and "no user 'nobody-here'" in r.stderr


def test_revoke_parses_under_kiosk_hq():
    from kiosk.cli import hq_web as web_cli
    from kiosk.cli.main import build_parser
    args = build_parser().parse_args(["hq", "user", "revoke", "ann", "--db", "x.db"])
    assert args.handler is web_cli.cmd_user_revoke and args.web_name == "ann"


# -- file modes -----------------------------------------------------------------------------------------
def test_new_database_is_private(tmp_path):
    db = tmp_path / "hq.db"
    old = os.umask(0o022)  # the usual umask: files would be 0644
    try:
        r = subprocess.run([sys.executable, "-m", "kiosk.cli.hq_web", "user", "add", "ann", "--role", "viewer",
                            "--db", str(db)], input="ann-password\n", capture_output=True, text=True, cwd=REPO,
                           timeout=60)
    finally:
        os.umask(old)
    assert r.returncode == 0, r.stderr
    assert _mode(db) == 0o600
    for companion in (tmp_path / "hq.db-wal", tmp_path / "hq.db-shm"):
        if companion.exists():
            assert _mode(companion) == 0o600, companion


def test_existing_readable_database_is_made_private_with_a_warning(tmp_path, caplog):
    db = tmp_path / "hq.db"
    sqlite3.connect(db).close()
    os.chmod(db, 0o644)
    with caplog.at_level(logging.WARNING, logger="kiosk.hq.web.auth"):
        Users(db).close()
    assert _mode(db) == 0o600
    assert any("readable by others (mode 644)" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kiosk.hq.web.auth"):
        Users(db).close()
    assert not caplog.records  # already private: nothing to say
