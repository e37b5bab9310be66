"""The hall around the kiosk: devices behind real pseudo-terminals, a real mosquitto, an HQ subscriber.

The devices are the far end of a serial cable (the logic of ``tests/drivers/conftest.py``,
copied here so the harness runs outside pytest): the kiosk's real drivers open a stable
symlink to a pty slave; ``unplug()`` closes the pty and removes the link, ``replug()`` makes
a new pty behind the same link. The printer parses ESC/POS and answers ``DLE EOT`` status
queries from a state switch (paper out, cover open, silent).
"""
from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.printer_status import PrinterState, encode_status

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def wait_until(cond: Callable[[], Any], timeout: float = 60.0, interval: float = 0.02, what: str = "") -> Any:
    """Wait (generously) for ``cond()`` to become truthy; raise TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what or cond}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- serial devices ------------------------------------------------------------------------------
class PtyDevice:
    """The far end of a serial cable behind a stable symlink. Subclasses parse in ``feed``."""

    def __init__(self, link_path: str | Path) -> None:
        self.link = str(link_path)
        self.received = bytearray()
        self.total_bytes = 0
        self.plugged = False
        self.unplugs = 0
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._stop = False
        self.master: int | None = None
        self.slave: int | None = None
        self._open_pty()
        self._thread = threading.Thread(target=self._run, name=f"fake-{Path(self.link).name}", daemon=True)
        self._thread.start()

    def _open_pty(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self.master, self.slave = master, slave
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(slave), self.link)
        self.plugged = True

    def unplug(self) -> None:
        with self._io_lock, self._lock:
            if os.path.lexists(self.link):
                os.unlink(self.link)
            for fd in (self.master, self.slave):
                if fd is not None:
                    os.close(fd)
            self.master = self.slave = None
            self.plugged = False
            self.unplugs += 1

    def replug(self) -> None:
        with self._io_lock, self._lock:
            self._open_pty()

    def _run(self) -> None:
        while not self._stop:
            with self._io_lock:
                fd = self.master
                data = b""
                if fd is not None:
                    try:
                        ready, _, _ = select.select([fd], [], [], 0.02)
                        data = os.read(fd, 65536) if ready else b""
                    except (OSError, ValueError):
                        data = b""
            if fd is None:
                time.sleep(0.01)
            elif data:
                with self._lock:
                    self.total_bytes += len(data)
                    self.feed(data)

    def feed(self, data: bytes) -> None:
        self.received += data
        del self.received[:-65536]

    def reply(self, data: bytes) -> None:
        if self.master is not None:
            try:
                os.write(self.master, data)
            except OSError:
                pass

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        if self.plugged:
            self.unplug()


class FakeEscposPrinter(PtyDevice):
    """Parses ESC/POS: answers ``DLE EOT n`` from ``state``; counts cuts (one per ticket).

    Raster images (``GS v 0``) and ``GS ( k`` / ``GS ( L`` blocks are skipped by their length
    so their payload is never taken for a status query. ``answer=False``: stays silent.
    """

    def __init__(self, link_path: str | Path) -> None:
        self.state = PrinterState.OK
        self.answer = True
        self.queries = 0
        self.cuts = 0
        self._pending = bytearray()
        super().__init__(link_path)

    def set_state(self, state: PrinterState) -> None:
        self.state = state

    def feed(self, data: bytes) -> None:
        buf = self._pending
        buf += data
        i = 0
        while i < len(buf):
            b = buf[i]
            if b == 0x10:
                if len(buf) - i < 3:
                    break
                if buf[i + 1] == 0x04:
                    self.queries += 1
                    n = buf[i + 2]
                    if self.answer and 1 <= n <= 4:
                        self.reply(bytes([encode_status(self.state)[n - 1]]))
                    i += 3
                    continue
            if b == 0x1D:
                if len(buf) - i < 3:
                    break
                if buf[i + 1] == ord("v"):
                    if len(buf) - i < 8:
                        break
                    n = 8 + (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8)
                    if len(buf) - i < n:
                        break
                    i += n
                    continue
                if buf[i + 1] == ord("(") and buf[i + 2] in b"kL":
                    if len(buf) - i < 5:
                        break
                    n = 5 + (buf[i + 3] | buf[i + 4] << 8)
                    if len(buf) - i < n:
                        break
                    i += n
                    continue
                if buf[i + 1] == ord("V"):
                    self.cuts += 1
            i += 1
        del buf[:i]


class FakeVfd(PtyDevice):
    """A 2x20 Epson-command customer display: a screen buffer; unexpected bytes are counted."""

    def __init__(self, link_path: str | Path, rows: int = 2, cols: int = 20) -> None:
        self.rows, self.cols = rows, cols
        self.screen = [[" "] * cols for _ in range(rows)]
        self.cursor = [0, 0]
        self.resets = 0
        self.clears = 0
        self.bad_bytes = 0
        self._pending = bytearray()
        super().__init__(link_path)

    def lines(self) -> list[str]:
        with self._lock:
            return ["".join(r) for r in self.screen]

    def feed(self, data: bytes) -> None:
        buf = self._pending
        buf += data
        i = 0
        while i < len(buf):
            b = buf[i]
            need = {0x1B: 2, 0x1F: 2}.get(b, 1)
            if len(buf) - i < need:
                break
            if b == 0x1B and buf[i + 1] == ord("@"):
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
                self.cursor = [0, 0]
                self.resets += 1
                i += 2
            elif b == 0x1B and buf[i + 1] == ord("="):
                if len(buf) - i < 3:
                    break
                i += 3
            elif b == 0x1F and buf[i + 1] == 0x01:
                i += 2
            elif b == 0x1F and buf[i + 1] in b"$EX":
                n = 4 if buf[i + 1] == ord("$") else 3
                if len(buf) - i < n:
                    break
                if buf[i + 1] == ord("$"):
                    self.cursor = [buf[i + 3] - 1, buf[i + 2] - 1]
                i += n
            elif b == 0x0C:
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
                self.cursor = [0, 0]
                self.clears += 1
                i += 1
            elif 0x20 <= b < 0x7F:
                row, col = self.cursor
                if 0 <= row < self.rows and 0 <= col < self.cols:
                    self.screen[row][col] = chr(b)
                self.cursor[1] = col + 1
                i += 1
            else:
                self.bad_bytes += 1
                i += 1
        del buf[:i]


class FakeAlphaSign(PtyDevice):
    """An Alpha M-Protocol LED sign: counts the frames (SOH … EOT) and keeps the last one."""

    def __init__(self, link_path: str | Path) -> None:
        self.frames = 0
        self.last_frame = b""
        self._frame = bytearray()
        super().__init__(link_path)

    def feed(self, data: bytes) -> None:
        for b in data:
            self._frame.append(b)
            if b == 0x04:  # EOT ends a transmission
                self.frames += 1
                self.last_frame = bytes(self._frame)
                self._frame.clear()
        del self._frame[:-4096]


# -- the broker and HQ ---------------------------------------------------------------------------
class Broker:
    """A real mosquitto on a loopback port, with persistence so that an HQ subscriber's
    session (and the messages queued for it) survive the broker being stopped and started."""

    def __init__(self, workdir: str | Path) -> None:
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "autosave_interval 0",
            "max_queued_messages 0",
            "max_inflight_messages 0",
            f"log_dest file {self.dir / 'mosquitto.log'}",
            "log_type error",
            "log_type warning",
        ]
        if os.geteuid() == 0:
            lines.insert(0, "user root")
        self.conf = self.dir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> Broker:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.starts += 1

        def up() -> bool:
            if self.proc.poll() is not None:
                log = self.dir / "mosquitto.log"
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: "
                                   f"{log.read_text()[-2000:] if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                return False
        wait_until(up, 30, what="mosquitto to listen")
        return self

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its sessions and queued messages, then exits."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(15)
        self.proc = None


class HqSubscriber:
    """HQ's side: a paho subscriber with a persistent session (QoS 1) on ``{prefix}/{branch}/events``.

    Keeps every message as received (duplicates included) in arrival order.
    """

    def __init__(self, port: int, branch: str, *, prefix: str = "kiosk", client_id: str = "simday-hq") -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.topic = f"{prefix}/{branch}/events"
        self.events: list[dict[str, Any]] = []
        self.raw = 0
        self.bad = 0
        self.connects = 0
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  protocol=mqtt.MQTTv311)
        self.client.max_inflight_messages_set(0)
        self.client.reconnect_delay_set(0.1, 1.0)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect("127.0.0.1", port, 30)
        self.client.loop_start()
        wait_until(self._subscribed.is_set, 30, what="the HQ subscription")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:  # noqa: ANN001
        self.connects += 1
        client.subscribe(self.topic, qos=1)

    def _on_message(self, client, userdata, msg) -> None:  # noqa: ANN001
        try:
            doc = json.loads(msg.payload)
        except ValueError:
            with self._lock:
                self.bad += 1
            return
        with self._lock:
            self.raw += 1
            self.events.append(doc)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)

    def unique_seqs(self) -> set[int]:
        with self._lock:
            return {e.get("seq") for e in self.events}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
