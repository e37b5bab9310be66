"""Helpers for the HQ dashboard tests (a module with its own name, so that tests never
import the wrong `conftest`): the dashboard server in a subprocess, kiosks in their own
processes, branch names, the browser login."""
from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "tests" / "mqtt"))

from mqttkit import Broker, free_port, mqtt_settings, wait_until  # noqa: E402,F401 — Broker for conftest

CHROMIUM = os.environ.get("KIOSK_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]
USERS = {"op": ("operator", "operator-pass-1"), "view": ("viewer", "viewer-pass-1")}
_branch_ids = itertools.count(1)


class Server:
    """The dashboard in a subprocess (what `kiosk hq serve` runs)."""

    def __init__(self, broker_url: str, db: Path, *extra: str) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.log = open(db.parent / f"server-{self.port}.log", "w")  # noqa: SIM115
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
                               f"{(self.db.parent / f'server-{self.port}.log').read_text()[-3000:]}")
        try:
            return httpx.get(self.url + "/login", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    @contextlib.contextmanager
    def client(self, user: str | None = None) -> Iterator[httpx.Client]:
        """An HTTP client, signed in as `user` (closed afterwards)."""
        with httpx.Client(base_url=self.url, timeout=30) as c:
            if user is not None:
                r = c.post("/login", data={"name": user, "password": USERS[user][1], "next": "/"})
                assert r.status_code == 303, r.text
            yield c

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()
        return self.proc.returncode


class Kiosk:
    """tests/hq_web/kiosk_proc.py: a real kiosk with telemetry (Last Will) in its own process."""

    def __init__(self, broker_url: str, data: Path, branch: str) -> None:
        settings = mqtt_settings(broker_url)
        doc = settings.model_dump(mode="json")
        doc["branch"]["id"] = branch
        data.mkdir(parents=True, exist_ok=True)
        cfg = data / "settings.json"
        cfg.write_text(json.dumps(doc))
        self.branch = branch
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        self.proc = subprocess.Popen([sys.executable, str(HERE / "kiosk_proc.py"), str(cfg), str(data)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, env=env)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self.wait_line("ready")

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_line(self, prefix: str) -> str:
        def found() -> str | None:
            hit = next((x for x in self.lines if x.startswith(prefix)), None)
            if hit is None and self.proc.poll() is not None:
                raise AssertionError(f"kiosk exited {self.proc.returncode}: {self.proc.stderr.read()[-3000:]}")
            return hit
        return wait_until(found, 60, what=f"kiosk line {prefix!r}")

    def issue(self, n: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"issue {n}\n")
        self.proc.stdin.flush()
        self.wait_line(f"issued {n}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(5)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                try:
                    f.close()
                except OSError:
                    pass


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
