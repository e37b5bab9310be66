"""`kiosk run --simulate` as a user runs it: a real process, virtual devices, the console."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time

from kiosk.sim.processes import stop_process
from tests.kit.settings import REPO


class Kiosk:
    def __init__(self, data, *extra):
        env = dict(os.environ, KIOSK_DATA=str(data), PYTHONUNBUFFERED="1")
        env.pop("KIOSK_CONFIG", None)
        self.proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--simulate", *extra], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.lines: queue.Queue[str] = queue.Queue()
        self.log: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, text, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.log.append(line)
            if text in line:
                return line
        raise AssertionError(f"{text!r} not seen; output:\n" + "\n".join(self.log[-40:]))

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 30)
        self.reader.join(10)
        self.proc.stdin.close()
        self.proc.stdout.close()


def test_simulated_hall_serves_a_customer(tmp_path):
    k = Kiosk(tmp_path)
    try:
        k.expect("kiosk ready in")
        k.send("open 3")
        k.expect("> open")
        k.send("issue A")
        k.expect("ticket A001: 0 ahead")
        k.send("key 3 next")
        k.expect("> pressed")
        k.expect("A001")                                       # the virtual display logs the call frame
        k.send("issue Z")
        k.expect("! unknown service 'Z'")
        k.send("frobnicate")
        k.expect("! unknown command 'frobnicate'")
        k.send("status")
        k.expect("counter 3: open A001")
        png = tmp_path / "tickets"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(png.glob("*A001*.png")):
            time.sleep(0.1)
        assert list(png.glob("*A001*.png")), "the virtual printer saved no ticket PNG"
    finally:
        k.stop()
    assert k.proc.returncode == 0


def test_viewer_leaves_devices_and_pending_prints_to_the_main_kiosk(tmp_path, monkeypatch):
    from kiosk.cli.main import main
    monkeypatch.setenv("KIOSK_DATA", str(tmp_path))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    assert main(["issue", "A"]) == 0                    # printed by nobody yet: 'pending'
    viewer = Kiosk(tmp_path, "--viewer")
    try:
        viewer.expect("kiosk ready in")
    finally:
        viewer.stop()
    assert viewer.proc.returncode == 0
    assert not (tmp_path / "tickets").exists()          # no printer of its own
    import sqlite3
    from contextlib import closing
    with closing(sqlite3.connect(tmp_path / "kiosk.db")) as conn:
        assert conn.execute("SELECT printed FROM tickets").fetchone()[0] == "pending"
    main_kiosk = Kiosk(tmp_path)
    try:
        main_kiosk.expect("kiosk ready in")
    finally:
        main_kiosk.stop()
    with closing(sqlite3.connect(tmp_path / "kiosk.db")) as conn:
        assert conn.execute("SELECT printed, print_reason FROM tickets").fetchone() == (
            "failed", "the kiosk restarted while printing")
