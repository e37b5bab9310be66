"""A real mosquitto on a free loopback port: for the simulated day, the benchmarks and the tests.

Test and simulation equipment (the kiosk itself only ever connects to a broker).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """`mosquitto -c conf` on 127.0.0.1:port.

    `persistence`: sessions and queued messages survive a stop/start (an HQ subscriber with a
    persistent session); `tls`: {ca, cert, key} adds a TLS listener that requires client
    certificates on `tls_port`; `extra`: more configuration lines (password_file, acl_file…).
    """

    def __init__(self, workdir: str | Path, *, persistence: bool = False, tls: dict[str, str] | None = None,
                 extra: str = "") -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls_port = free_port() if tls else None
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        lines = [f"listener {self.port} 127.0.0.1", "allow_anonymous true"]
        if persistence:
            lines += ["persistence true", f"persistence_location {self.dir}/", "autosave_interval 0"]
        else:
            lines.append("persistence false")
        lines += ["max_queued_messages 0", "max_inflight_messages 0", f"log_dest file {self.dir / 'mosquitto.log'}",
                  "log_type error", "log_type warning", "log_type notice"]
        if os.geteuid() == 0:
            lines.insert(0, "user root")  # as root mosquitto would drop to a user that cannot write here
        if tls:
            lines += [f"listener {self.tls_port} 127.0.0.1", f"cafile {tls['ca']}", f"certfile {tls['cert']}",
                      f"keyfile {tls['key']}", "require_certificate true"]
        if extra:
            lines.append(extra)
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 30.0) -> Broker:
        """Start (no-op when running) and wait until it listens."""
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.starts += 1
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                log = self.dir / "mosquitto.log"
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: "
                                   f"{log.read_text()[-2000:] if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"mosquitto did not listen on port {self.port} within {timeout_s:.0f} s") from None
                time.sleep(0.02)

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queued messages (with persistence), then exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.proc = None
