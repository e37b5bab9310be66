"""Processes of the simulated world: ``stop_process`` (ask, wait, then SIGKILL) for any child, and
the kiosk under test as a process: started with a data dir and a clock spec, fed through its
console, killed with SIGKILL, restarted, stopped with `quit`."""
from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

RESPONSE_PREFIXES = ("> ", "! ", "reprinted ")


def stop_process(proc: subprocess.Popen | None, sig: signal.Signals | None = signal.SIGTERM,
                 timeout_s: float = 15.0) -> int | None:
    """Send ``sig`` to ``proc`` (None: it was asked another way, e.g. ``quit`` on its console), wait
    up to ``timeout_s`` for it to end, then SIGKILL it. Returns its exit status (None: no process)."""
    if proc is None:
        return None
    if proc.poll() is None:
        if sig is not None:
            proc.send_signal(sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout_s)
    return proc.returncode


class KioskDied(RuntimeError):
    """The kiosk process ended while a command was in flight."""


class KioskProcess:
    def __init__(self, config: Path, data: Path, clock_spec: str, log_path: Path, *, mqtt_url: str | None = None,
                 ready_timeout_s: float = 90.0) -> None:
        self.config, self.data, self.clock_spec, self.log_path = config, data, clock_spec, log_path
        self.mqtt_url = mqtt_url
        self.ready_timeout_s = ready_timeout_s
        self.proc: subprocess.Popen | None = None
        self._lines: queue.SimpleQueue = queue.SimpleQueue()
        self._reader: threading.Thread | None = None
        self._log = None
        self.starts = 0
        self.kills = 0
        self.ready_s: list[float] = []

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> KioskProcess:
        assert self.proc is None
        env = dict(os.environ, KIOSK_SIM_CLOCK=self.clock_spec, PYTHONUNBUFFERED="1")
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        cmd = [sys.executable, "-m", "kiosk", "run", "--console", "--config", str(self.config), "--data", str(self.data)]
        if self.mqtt_url:
            cmd += ["--mqtt", self.mqtt_url]
        self._log = open(self.log_path, "ab")
        self._log.write(f"--- simday: start #{self.starts + 1}\n".encode())
        self._log.flush()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                     text=True, bufsize=1, env=env, cwd=str(Path(__file__).resolve().parents[2]))
        self._lines = queue.SimpleQueue()
        self._reader = threading.Thread(target=self._read, args=(self.proc.stdout, self._lines), daemon=True)
        self._reader.start()
        self.starts += 1
        deadline = time.monotonic() + self.ready_timeout_s
        while True:
            line = self._next_line(max(0.1, deadline - time.monotonic()))
            if line is None:
                raise KioskDied(f"the kiosk exited during start-up (see {self.log_path})")
            if line.startswith("kiosk ready"):
                break
            if time.monotonic() > deadline:
                raise TimeoutError("the kiosk did not get ready")
        self.ready_s.append(time.monotonic() - t0)
        return self

    @staticmethod
    def _read(stream, out: queue.SimpleQueue) -> None:  # noqa: ANN001
        try:
            for line in stream:
                out.put(line.rstrip("\n"))
        except (OSError, ValueError):
            pass
        out.put(None)

    def _next_line(self, timeout: float) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            return "" if self.alive else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def cmd(self, line: str, timeout: float = 120.0) -> str:
        """Send one console line; return its answer (`> …` or `! …`). Raises KioskDied."""
        if not self.alive:
            raise KioskDied("the kiosk is not running")
        try:
            self.proc.stdin.write(line + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError) as exc:
            raise KioskDied(str(exc)) from exc
        deadline = time.monotonic() + timeout
        while True:
            try:
                got = self._lines.get(timeout=max(0.05, deadline - time.monotonic()))
            except queue.Empty:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no answer to {line!r} within {timeout:.0f} s") from None
                continue
            if got is None:
                raise KioskDied(f"the kiosk ended while running {line!r}")
            if got.startswith(RESPONSE_PREFIXES):
                return got

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind in the kiosk."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.kills += 1
        stop_process(self.proc, signal.SIGKILL, 30)
        self._cleanup()

    def stop(self, timeout: float = 60.0) -> int:
        """`quit` on the console; returns the exit status (SIGKILL after `timeout`)."""
        if self.proc is None:
            return 0
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            pass
        rc = stop_process(self.proc, None, timeout)
        self._cleanup()
        return rc

    def _cleanup(self) -> None:
        proc, self.proc = self.proc, None
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
        if self._reader is not None:
            self._reader.join(10)
        if self._log is not None:
            self._log.close()
            self._log = None

    def rss_kb(self) -> int | None:
        """VmRSS of the kiosk process in kB (None when not running)."""
        if not self.alive:
            return None
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except (OSError, ValueError):
            return None
        return None
