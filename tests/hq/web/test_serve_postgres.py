"""`kiosk hq serve --db postgresql://…` for real: two server processes on one PostgreSQL share
the users, the session secret and the revocations (a session signed in on one node is accepted
by the other; a logout on one ends it on the other at once); `kiosk hq user … --db URL` works;
the URL's password is never printed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from kiosk.hq.web.auth import Users
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until
from tests.kit.hq_web import USERS, add_users, sign_in
from tests.kit.settings import REPO

PASSWORD = "Pg-secret-4711"  # the test server trusts every local connection: any password is accepted


def _with_password(url: str) -> str:
    p = urlsplit(url)
    return urlunsplit(p._replace(netloc=f"{p.username}:{PASSWORD}@{p.hostname}:{p.port}"))


def _cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli.hq_web", *args], input=stdin, capture_output=True,
                          text=True, cwd=REPO, timeout=60)


class Node:
    """`python -m kiosk.cli.hq_web serve --db URL` in a subprocess, its output in `log`."""

    def __init__(self, broker_url: str, db_url: str, logdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logdir / f"node-{self.port}.log"
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli.hq_web", "serve", "--broker", broker_url,
                                          "--db", db_url, "--port", str(self.port), "--shared", "pgtest",
                                          "--keep-days", "30"],
                                         stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        try:
            wait_until(self._up, 30, what="the dashboard on PostgreSQL to listen")
        except BaseException:
            self.stop()
            raise

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited {self.proc.returncode}: {self.log.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/login", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> int | None:
        return stop_process(self.proc, signal.SIGTERM, 15)


@pytest.fixture
def nodes(hq_broker, pg_url, tmp_path) -> Iterator[tuple[Node, Node, str]]:
    url = _with_password(pg_url)
    add_users(url)
    made: list[Node] = []
    try:
        made.append(Node(hq_broker.url, url, tmp_path))
        made.append(Node(hq_broker.url, url, tmp_path))
        yield made[0], made[1], url
    finally:
        for n in made:
            n.stop()


def test_two_serve_nodes_on_postgres_share_sessions_and_revocation(nodes):
    one, two, url = nodes
    with httpx.Client(base_url=one.url, timeout=30) as a:
        r = sign_in(a, "op", USERS["op"][1])
        assert r.status_code == 303
        assert a.get("/api/me").json() == {"name": "op", "role": "operator"}
        cookie = a.cookies["hq_session"]
        with httpx.Client(base_url=two.url, timeout=30, cookies={"hq_session": cookie}) as b:
            assert b.get("/api/me").json() == {"name": "op", "role": "operator"}  # signed by node one
            assert b.get("/api/compare", params={"from": "2020-01-01", "to": "2020-01-31"}).json()["rows"] == []
            b.headers["X-CSRF-Token"] = a.headers["X-CSRF-Token"]  # the same session: the same token
            r = b.post("/api/branch/no-such-branch/cmd/ping", json={})
            assert r.status_code == 404  # past the session and the CSRF token
            assert b.post("/logout").status_code == 303  # signed out on node two …
        assert a.get("/api/me").status_code == 401  # … ends the session on node one at once
        assert sign_in(a, "view", "wrong password").status_code == 401
    with httpx.Client(base_url=two.url, timeout=30) as c:  # the failure was counted in the shared database
        users = Users(url)
        try:
            assert users.throttle.lockout("view", None) is None
            with users.connection() as conn:
                assert conn.execute("SELECT count(*) FROM hq_login_failures WHERE key = 'view'").fetchone()[0] == 1
        finally:
            users.close()
        assert sign_in(c, "view", USERS["view"][1]).status_code == 303
    for n in (one, two):
        assert n.stop() == 0
        text = n.log.read_text()
        assert PASSWORD not in text, text
        assert "recording to postgresql://postgres:***@127.0.0.1" in text, text


def test_user_commands_take_the_url_and_never_print_its_password(pg_url):
    url = _with_password(pg_url)
    r = _cli("user", "add", "ann", "--role", "viewer", "--db", url, stdin="ann password\n")
    assert r.returncode == 0, r.stderr
    assert PASSWORD not in r.stdout + r.stderr and "saved in postgresql://postgres:***@" in r.stderr
    r = _cli("user", "list", "--db", url)
    assert r.returncode == 0 and r.stdout.startswith("ann\tviewer\t")
    assert _cli("user", "revoke", "ann", "--db", url).returncode == 0
    assert _cli("user", "remove", "ann", "--db", url).returncode == 0
    assert _cli("user", "remove", "ann", "--db", url).returncode == 1
    nowhere = f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/nothing"
    for args in (["user", "list"], ["user", "add", "bob", "--role", "viewer"]):
        r = _cli(*args, "--db", nowhere, stdin="bob password\n")
        assert r.returncode == 2 and "error: cannot use the database postgresql://postgres:***@" in r.stderr, r.stderr
        assert PASSWORD not in r.stdout + r.stderr and "Traceback" not in r.stderr
    r = _cli("serve", "--db", nowhere, "--broker", "mqtt://127.0.0.1:1", "--port", str(free_port()))
    assert r.returncode == 2 and "cannot use the database" in r.stderr and PASSWORD not in r.stdout + r.stderr


def test_serve_help_names_both_databases():
    r = _cli("serve", "--help")
    assert r.returncode == 0
    assert "postgresql://" in r.stdout and "SQLite" in r.stdout and "--keep-days" in r.stdout
