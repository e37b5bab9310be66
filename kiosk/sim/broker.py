"""A real mosquitto on a free loopback port: for the simulated day, the benchmarks, the HQ
screenshots and the tests.

Test and simulation equipment (the kiosk itself only ever connects to a broker).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

from kiosk.sim.net import free_port, is_listening
from kiosk.sim.processes import stop_process
from kiosk.sim.waiting import wait_until

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


class Broker:
    """`mosquitto -c conf` on 127.0.0.1:port; the port is chosen (and `url` known) before `start()`.

    `workdir` holds the configuration (`conf`), the log and, with `persistence`, the saved
    sessions and queued messages, which survive a stop/start (an HQ subscriber with a
    persistent session; a backlog kept while the broker is down); `tls`: {ca, cert, key} adds
    a TLS listener that requires client certificates on `tls_port`; `extra`: more
    configuration lines (password_file, acl_file…).
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
        try:
            wait_until(self._listening, timeout_s, what=f"mosquitto to listen on port {self.port}")
        except TimeoutError:
            self.stop()
            raise
        return self

    def _listening(self) -> bool:
        if self.proc.poll() is not None:
            log = self.dir / "mosquitto.log"
            raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: "
                               f"{log.read_text()[-2000:] if log.exists() else ''}")
        return is_listening(self.port)

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queued messages (with persistence), then exits."""
        stop_process(self.proc, signal.SIGTERM, 15)
        self.proc = None
