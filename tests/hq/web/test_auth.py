"""Access: hashed passwords, users in the database, login/logout, roles, nothing without login."""
from __future__ import annotations

import re
import subprocess
import sys

import httpx
import pytest
from starlette.routing import Mount, Route

from kiosk.hq.web.app import Dashboard
from kiosk.hq.web.auth import MAX_FAILURES, AuthError, Users, hash_password, verify_password
from kiosk.hq.web.live import Live

from tests.kit.hq_web import USERS, sign_in
from tests.kit.settings import REPO


def test_scrypt_hash_roundtrip_and_salted():
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1.startswith("scrypt$") and h1 != h2  # salted
    assert verify_password("correct horse", h1) and verify_password("correct horse", h2)
    assert not verify_password("correct horsE", h1)
    assert not verify_password("x", "garbage") and not verify_password("x", "scrypt$1$2$3$!!$!!")


def test_users_table(tmp_path):
    u = Users(tmp_path / "hq.db")
    try:
        u.add("alice", "viewer", "long enough")
        with pytest.raises(AuthError, match="exists"):
            u.add("alice", "operator", "long enough")
        with pytest.raises(AuthError, match="at least"):
            u.add("bob", "viewer", "short")
        with pytest.raises(AuthError, match="role"):
            u.add("bob", "admin", "long enough")
        with pytest.raises(AuthError, match="user name"):
            u.add("bad name", "viewer", "long enough")
        assert u.authenticate("alice", "long enough") == "viewer"
        assert u.authenticate("alice", "wrong password") is None
        assert u.authenticate("nobody", "long enough") is None
        with u.connection() as conn:
            stored = conn.execute("SELECT pw_hash FROM hq_users WHERE name = 'alice'").fetchone()[0]
        assert "long enough" not in stored and stored.startswith("scrypt$")
        u.add("alice", "operator", "another one", replace=True)
        assert u.authenticate("alice", "another one") == "operator"
        assert u.remove("alice") and u.role_of("alice") is None
    finally:
        u.close()


def test_lockout_after_failures(tmp_path):
    u = Users(tmp_path / "hq.db")
    try:
        u.add("carol", "viewer", "right password")
        for _ in range(MAX_FAILURES):
            assert u.authenticate("carol", "wrong") is None
        assert u.locked("carol")
        assert u.authenticate("carol", "right password") is None  # even the right one, while locked
    finally:
        u.close()


def test_cli_user_add_list_remove(tmp_path):
    db = tmp_path / "hq.db"

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "kiosk.cli.hq_web", "user", *args, "--db", str(db)],
                              input=stdin, capture_output=True, text=True, cwd=REPO, timeout=60)
    r = run("add", "dave", "--role", "operator", stdin="a good password\n")
    assert r.returncode == 0, r.stderr
    r = run("add", "erin", "--role", "viewer", stdin="short\n")
    assert r.returncode == 2 and "at least" in r.stderr
    r = run("list")
    assert re.search(r"^dave\toperator\t", r.stdout, re.M) and "erin" not in r.stdout
    u = Users(db)
    try:
        assert u.authenticate("dave", "a good password") == "operator"
    finally:
        u.close()
    assert run("remove", "dave").returncode == 0
    assert run("remove", "dave").returncode == 1


def _all_routes(tmp_path) -> list[tuple[str, str]]:
    users = Users(tmp_path / "routes.db")
    live = Live("mqtt://127.0.0.1:1")  # never started: only the routing table is needed
    try:
        dash = Dashboard(live, users, tmp_path / "routes.db")
        out = []
        for r in dash.app.routes:
            if isinstance(r, Route):
                path = (r.path.replace("{branch:path}", "b1").replace("{branch}", "b1").replace("{name}", "ping"))
                for m in sorted(r.methods or {"GET"}):
                    if m != "HEAD":
                        out.append((m, path))
            elif isinstance(r, Mount):
                out.append(("GET", r.path + "/hq.js"))
        return out
    finally:
        users.close()


def test_no_page_or_api_without_login(hq_server, tmp_path):
    routes = _all_routes(tmp_path)
    assert ("POST", "/api/branch/b1/cmd/ping") in routes and ("GET", "/api/stream") in routes
    checked = 0
    with httpx.Client(base_url=hq_server.url, timeout=30) as c:
        for method, path in routes:
            if path == "/login" or path.startswith("/static/"):
                continue  # the login form and its stylesheet/script (no data in them)
            r = c.request(method, path, json={} if method == "POST" else None)
            if path.startswith("/api/"):
                assert r.status_code == 401, (method, path, r.status_code)
                assert r.json()["error"] == "unauthorized"
            else:
                assert r.status_code == 303 and r.headers["location"].startswith("/login"), (method, path)
            checked += 1
        # and paths no route knows
        assert c.get("/api/nothing").status_code == 401
        assert c.get("/nothing").status_code == 303
        # a forged session cookie is not a login
        c.cookies.set("hq_session", "eyJ1c2VyIjogIm9wIn0=.forged.sig")
        assert c.get("/api/me").status_code == 401
    assert checked >= 12


def test_login_logout_and_next(hq_server):
    with httpx.Client(base_url=hq_server.url, timeout=30) as c:
        r = sign_in(c, "view", "wrong!")
        assert r.status_code == 401 and "Wrong user name or password" in r.text or "用户名或密码错误" in r.text
        r = sign_in(c, "view", USERS["view"][1], next_path="//evil.example/")
        assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
        assert c.get("/api/me").json() == {"name": "view", "role": "viewer"}
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert c.get("/").status_code == 200
        assert c.post("/logout").status_code == 303
        assert c.get("/api/me").status_code == 401


def test_removed_user_loses_access_at_once(hq_server, hq_db):
    u = Users(hq_db)
    try:
        u.add("temp", "operator", "temporary pass")
        with httpx.Client(base_url=hq_server.url, timeout=30) as c:
            assert sign_in(c, "temp", "temporary pass").status_code == 303
            assert c.get("/api/me").status_code == 200
            u.remove("temp")
            assert c.get("/api/me").status_code == 401
    finally:
        u.close()


def test_viewer_refused_and_logged(hq_server):
    with hq_server.client("view") as c:
        r = c.post("/api/branch/some-branch/cmd/ping", json={})
        assert r.status_code == 403 and r.json()["error"] == "forbidden"
        log = c.get("/api/branch/some-branch/commands").json()["commands"]
        assert log[0]["user"] == "view" and log[0]["status"] == "refused" and log[0]["command"] == "ping"


def test_static_and_login_page_without_login(hq_server):
    with httpx.Client(base_url=hq_server.url, timeout=30) as c:
        r = c.get("/static/hq.css")
        assert r.status_code == 200 and "text/css" in r.headers["content-type"]
        r = c.get("/login?lang=zh")
        assert r.status_code == 200 and "登录" in r.text and c.cookies.get("hq_lang") == "zh"
        r = c.get("/login?lang=en")
        assert "Sign in" in r.text


def test_cli_wired_under_kiosk_hq():
    """`kiosk hq serve` and `kiosk hq user` through the real `kiosk` parser (kiosk/cli/hq.py wires add_parsers)."""
    from kiosk.cli.main import build_parser
    from kiosk.cli import hq_web as web_cli
    top = build_parser()
    args = top.parse_args(["hq", "serve", "--broker", "mqtt://h:1", "--db", "x.db", "--port", "9000",
                           "--shared", "g"])
    assert args.handler is web_cli.cmd_serve
    assert (args.web_broker, args.web_db, args.web_port, args.web_shared) == ("mqtt://h:1", "x.db", 9000, "g")
    args = top.parse_args(["hq", "user", "add", "ann", "--role", "viewer", "--db", "x.db"])
    assert args.handler is web_cli.cmd_user_add and args.web_name == "ann"
