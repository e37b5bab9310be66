"""A satellite ticket machine against a main kiosk that is a real process
(`python -m kiosk run --simulate --lan 127.0.0.1:PORT --config …`, the satellite's device token in
that config as its SHA-256) and is SIGKILLed: the satellite's numbers continue the main kiosk's
sequence; with the main kiosk killed it refuses with its clear message and nothing is issued
anywhere (the main kiosk's database says so); the main kiosk started again on the same data, the
satellite recovers by itself and issues the next number."""
from __future__ import annotations

import hashlib
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.app.main_link import MainLink, MainUnreachable
from kiosk.app.satellite import SatelliteApp
from kiosk.config.settings import load_settings
from kiosk.sim.net import free_port
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until
from kiosk.storage.store import db_path
from tests.kit.settings import REPO
from tests.lan.conftest import DEVICE_TOKEN
from tests.satellite.test_satellite import printed_by

SAMPLE = REPO / "firmware_config" / "kiosk.toml"


def main_config(path: Path) -> Path:
    """The sample config with this satellite's device token, as an installer writes it."""
    digest = hashlib.sha256(DEVICE_TOKEN.encode()).hexdigest()
    path.write_text(SAMPLE.read_text(encoding="utf-8")
                    + f'\n[[lan.device_tokens]]\nname = "sat1"\nsha256 = "{digest}"\n', encoding="utf-8")
    return path


class MainKiosk:
    """`python -m kiosk run --simulate --lan 127.0.0.1:PORT` on a data directory: its console on
    stdin, its output lines, SIGKILL, started again on the same data and port."""

    def __init__(self, config: Path, data: Path, port: int, log: Path) -> None:
        self.config, self.data, self.port, self.log = config, data, port, log
        self.proc: subprocess.Popen | None = None
        self.lines: queue.SimpleQueue = queue.SimpleQueue()
        self.seen: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MainKiosk:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        for var in ("KIOSK_CONFIG", "KIOSK_DATA", "KIOSK_SIM_CLOCK", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
            env.pop(var, None)
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kiosk", "run", "--simulate", "--screen", "none", "--lan",
                 f"127.0.0.1:{self.port}", "--config", str(self.config), "--data", str(self.data)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True, bufsize=1, env=env, cwd=REPO)
        self.lines = queue.SimpleQueue()
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines), daemon=True).start()
        self.expect("kiosk ready in", 90)
        return self

    @staticmethod
    def _read(stream, out: queue.SimpleQueue) -> None:  # noqa: ANN001
        try:
            for line in stream:
                out.put(line.rstrip("\n"))
        except (OSError, ValueError):
            pass

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc is None or self.proc.poll() is not None:
                    raise AssertionError(f"the main kiosk exited; its log:\n{self.log.read_text()[-3000:]}") from None
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not seen; output:\n" + "\n".join(self.seen[-30:]))

    def console(self, line: str, answer: str) -> str:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return self.expect(answer)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the main kiosk."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        self._end(signal.SIGTERM)

    def _end(self, sig: signal.Signals) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        stop_process(proc, sig, 30)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def tickets(self) -> list[tuple[str, str | None]]:
        """(number, issued_via) of every ticket in the main kiosk's database, in order."""
        with sqlite3.connect(db_path(self.data)) as conn:
            return conn.execute("SELECT number, issued_via FROM tickets ORDER BY id").fetchall()


@pytest.fixture
def main(tmp_path) -> Iterator[MainKiosk]:
    k = MainKiosk(main_config(tmp_path / "kiosk.toml"), tmp_path / "main", free_port(), tmp_path / "main.log")
    try:
        yield k.start()
    finally:
        k.stop()


def test_the_main_kiosk_process_killed_the_satellite_refuses_then_recovers(main: MainKiosk, tmp_path) -> None:
    main.console("issue A", "ticket A001")                       # taken at the main kiosk's own screen
    sat = SatelliteApp(load_settings(main.config), tmp_path / "sat", MainLink(main.url, DEVICE_TOKEN, timeout_s=3.0),
                       simulate=True, retry_s=0.2).start()
    try:
        assert sat.online
        a = sat.issue("A").result(10)
        assert (a.ticket, a.ahead) == ("A002", 1)                  # the main kiosk's sequence goes on
        main.console("issue A", "ticket A003")                   # … and the main kiosk's after it
        wait_until(lambda: printed_by(sat.hw.printer) == ["A002"], 10, what="A002 printed on the satellite")

        main.kill()
        with pytest.raises(MainUnreachable, match=r"cannot be reached \(connection refused\): no ticket issued"):
            sat.issue("A").result(10)
        assert not sat.online
        assert {s["unavailable"] for s in sat.snapshot()["services"]} == {"offline"}
        assert sat.device_status()["main-kiosk"]["fault"] == "unreachable"
        with pytest.raises(MainUnreachable):
            sat.issue("B").result(10)
        # nothing issued anywhere: the killed kiosk's database holds what it held, the satellite printed nothing
        assert main.tickets() == [("A001", None), ("A002", "device:sat1"), ("A003", None)]
        assert printed_by(sat.hw.printer) == ["A002"]

        main.start()                                               # the same data, the same port
        wait_until(lambda: sat.online, 15, 0.05, what="the satellite finding the main kiosk again")
        assert {s["unavailable"] for s in sat.snapshot()["services"]} == {None}
        b = sat.issue("A").result(10)
        assert (b.ticket, b.ahead) == ("A004", 3)
        wait_until(lambda: printed_by(sat.hw.printer) == ["A002", "A004"], 10, what="A004 printed on the satellite")
        main.console("issue A", "ticket A005")
        assert main.tickets() == [("A001", None), ("A002", "device:sat1"), ("A003", None),
                                  ("A004", "device:sat1"), ("A005", None)]
    finally:
        sat.stop()
