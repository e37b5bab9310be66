"""A kiosk with telemetry in its own process, for the MQTT and HQ tests (SIGKILL it: its Last Will
says offline, its outbox keeps what was not delivered).

    python -m tests.kit.kiosk_child SETTINGS.json DATA_DIR [--issue N] [--alerts]

Starts the app with telemetry (and with `--alerts` the peak alerts, wired as `kiosk run` wires
them), issues N tickets and prints ``issued N last_seq S``; prints ``state STATE backlog B``
whenever the telemetry state changes; reads commands on stdin: ``issue N`` issues N more tickets
and prints ``issued N``. `KioskChild` runs it from a test.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.app.alert_watch import AlertWatch
from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import Settings
from kiosk.mqtt.telemetry import Telemetry
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until
from tests.kit.settings import REPO


class KioskChild:
    """`python -m tests.kit.kiosk_child` from a test: its output lines, commands, SIGKILL."""

    def __init__(self, settings: Settings, data: Path, *, issue: int = 0, alerts: bool = False) -> None:
        self.branch = settings.branch.id
        data.mkdir(parents=True, exist_ok=True)
        cfg = data / "settings.json"
        cfg.write_text(json.dumps(settings.model_dump(mode="json")))
        env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        args = [sys.executable, "-m", "tests.kit.kiosk_child", str(cfg), str(data), "--issue", str(issue)]
        self.proc = subprocess.Popen(args + (["--alerts"] if alerts else []), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def wait_line(self, prefix: str, timeout: float = 60.0) -> str:
        def found() -> str | None:
            hit = next((x for x in self.lines if x.startswith(prefix)), None)
            if hit is None and self.proc.poll() is not None:
                raise AssertionError(f"the kiosk exited {self.proc.returncode}: {self.proc.stderr.read()[-3000:]}")
            return hit
        return wait_until(found, timeout, what=f"the kiosk's line {prefix!r}")

    def issue(self, n: int) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"issue {n}\n")
        self.proc.stdin.flush()
        self.wait_line(f"issued {n}")

    def kill(self) -> None:
        stop_process(self.proc, signal.SIGKILL, 10)
        self._reader.join(5)
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                try:
                    f.close()
                except OSError:
                    pass


def _issue(app: KioskApp, services: list[str], n: int) -> None:
    for i in range(n):
        app.issue(services[i % len(services)]).result(30)


def _report_states(tele: Telemetry) -> None:
    seen = None
    while True:
        st = tele.state
        key = (st["state"], st["backlog"])
        if key != seen:
            seen = key
            print(f"state {st['state']} backlog {st['backlog']}", flush=True)
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m tests.kit.kiosk_child")
    ap.add_argument("settings")
    ap.add_argument("data")
    ap.add_argument("--issue", type=int, default=0)
    ap.add_argument("--alerts", action="store_true")
    a = ap.parse_args(argv)
    settings = Settings.model_validate(json.loads(Path(a.settings).read_text()))
    tele = Telemetry(settings)
    app = KioskApp(settings, a.data, alerts=AlertWatch(settings) if a.alerts else None, uplink=tele).start()
    services = [s.prefix for s in settings.services]
    _issue(app, services, a.issue)
    last = app.loop.call(lambda: app.store.last_seq())
    print(f"issued {a.issue} last_seq {last}", flush=True)
    threading.Thread(target=_report_states, args=(tele,), daemon=True).start()
    for line in sys.stdin:
        words = line.split()
        if words[:1] == ["issue"]:
            _issue(app, services, int(words[1]))
            print(f"issued {words[1]}", flush=True)


if __name__ == "__main__":
    main()
