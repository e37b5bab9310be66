"""The HQ dashboard tests' equipment: the dashboard server in a subprocess, kiosks of named
branches in their own processes, branch names, the browser and its login."""
from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from kiosk.sim.hq_login import csrf_of, sign_in  # noqa: F401 — the tests import them from here
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until
from tests.kit.kiosk_child import KioskChild
from tests.kit.mqtt import mqtt_settings
from tests.kit.settings import REPO

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
USERS = {"op": ("operator", "operator-pass-1"), "view": ("viewer", "viewer-pass-1")}
_branch_ids = itertools.count(1)


class Server:
    """The dashboard in a subprocess (what `kiosk hq serve` runs); `db` an SQLite file or a
    postgresql:// URL (then `logdir` says where the server's log goes)."""

    def __init__(self, broker_url: str, db: Path | str, *extra: str, logdir: Path | None = None) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log_path = (logdir or Path(db).parent) / f"server-{self.port}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk.cli.hq_web", "serve", "--broker", broker_url,
                                      "--db", str(db), "--port", str(self.port), "--push-ms", "250", *extra],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        try:
            wait_until(self._up, 30, what="the dashboard to listen")
            with self.client("op") as c:
                wait_until(lambda: c.get("/api/stats").json().get("connected"), 30,
                           what="the dashboard's MQTT clients")
        except BaseException:
            self.stop()
            raise

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"the dashboard exited {self.proc.returncode}: "
                               f"{self.log_path.read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/login", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    @contextlib.contextmanager
    def client(self, user: str | None = None) -> Iterator[httpx.Client]:
        """An HTTP client, signed in as `user` with the session's CSRF token (closed afterwards)."""
        with httpx.Client(base_url=self.url, timeout=30) as c:
            if user is not None:
                r = sign_in(c, user, USERS[user][1])
                assert r.status_code == 303, r.text
            yield c

    def stop(self) -> int | None:
        rc = stop_process(self.proc, signal.SIGTERM, 15)
        self.log.close()
        return rc


def add_users(db: Any) -> None:
    """The test users (`USERS`) in an HQ database: an SQLite path, a postgresql:// URL or a `Db`."""
    from kiosk.hq.web.auth import Users
    users = Users(db)
    try:
        for name, (role, password) in USERS.items():
            users.add(name, role, password)
    finally:
        users.close()


def branch_kiosk(broker_url: str, data: Path, branch: str) -> KioskChild:
    """A kiosk of branch `branch` in its own process, with peak alerts and telemetry, connected."""
    settings = mqtt_settings(broker_url)
    settings = settings.model_copy(update={"branch": settings.branch.model_copy(update={"id": branch})})
    k = KioskChild(settings, data, alerts=True)
    try:
        k.wait_line("state connected")
    except BaseException:
        k.kill()
        raise
    return k


def new_branch(stem: str = "hqt") -> str:
    return f"{stem}-{os.getpid() % 1000:03d}-{next(_branch_ids):03d}"


def _browser_missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium; CI installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; no `playwright install` needed)"
    return None


def login(page: Any, base: str, user: str, *, lang: str = "en", next_path: str = "/") -> None:
    page.goto(f"{base}/login?lang={lang}&next={next_path}")
    page.fill("input[name=name]", user)
    page.fill("input[name=password]", USERS[user][1])
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{next_path}")

