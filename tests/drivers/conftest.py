"""Fixtures for the driver tests: gpiozero MockFactory, fake devices behind real ptys, waits."""

from __future__ import annotations

import os
import select
import threading
import time
import tty

import pytest

from drivers.printer_status import PrinterState, encode_status


def wait_for(cond, timeout=10.0, interval=0.005):
    """Wait (generously) for ``cond()`` to become truthy; never a timed assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s: {cond}")


class FaultLog:
    """A fault listener that records ``(device, kind, reason)`` calls."""

    def __init__(self):
        self.calls: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    def __call__(self, device, kind, reason):
        with self._lock:
            self.calls.append((device, kind, reason))

    def kinds(self, device=None):
        with self._lock:
            return [k for d, k, _ in self.calls if device is None or d == device]

    def has(self, kind, device=None):
        return kind in self.kinds(device)


class PtyDevice:
    """The far end of a serial cable: a pty whose slave path (a stable symlink) the driver opens.

    ``unplug()`` closes the pty and removes the link (writes fail, opens fail); ``replug()``
    makes a new pty behind the same link. Subclasses parse what arrives in ``feed``.
    """

    def __init__(self, link_path: str):
        self.link = link_path
        self.received = bytearray()
        self._lock = threading.Lock()
        self._io_lock = threading.Lock()
        self._stop = False
        self.master = self.slave = None
        self._open_pty()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _open_pty(self):
        master, slave = os.openpty()
        tty.setraw(slave)
        tty.setraw(master)
        self.master, self.slave = master, slave
        if os.path.lexists(self.link):
            os.unlink(self.link)
        os.symlink(os.ttyname(slave), self.link)

    def unplug(self):
        # the reader must be out of select(): a pending select keeps the pty alive
        with self._io_lock, self._lock:
            if os.path.lexists(self.link):
                os.unlink(self.link)
            for fd in (self.master, self.slave):
                if fd is not None:
                    os.close(fd)
            self.master = self.slave = None

    def replug(self):
        with self._io_lock, self._lock:
            self._open_pty()

    def _run(self):
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
                    self.feed(data)

    def feed(self, data: bytes):
        self.received += data

    def reply(self, data: bytes):
        if self.master is not None:
            try:
                os.write(self.master, data)
            except OSError:
                pass

    def take(self) -> bytes:
        with self._lock:
            out = bytes(self.received)
            self.received.clear()
            return out

    def close(self):
        self._stop = True
        self._thread.join(2)
        self.unplug()


class FakeEscposPrinter(PtyDevice):
    """Parses ESC/POS: answers ``DLE EOT n`` from ``state``, keeps everything else.

    Knows the length of raster images (``GS v 0``) and of ``GS ( k`` / ``GS ( L`` blocks so
    that their payload is never mistaken for a status query. ``answer=False``: stays silent.
    """

    def __init__(self, link_path):
        self.state = PrinterState.OK
        self.answer = True
        self.queries = 0
        self._pending = bytearray()
        super().__init__(link_path)

    def feed(self, data):
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
                    if self.answer:
                        self.reply(bytes([encode_status(self.state)[buf[i + 2] - 1]]))
                    i += 3
                    continue
            if b == 0x1D and len(buf) - i >= 2 and buf[i + 1] == ord("v"):
                if len(buf) - i < 8:
                    break
                n = 8 + (buf[i + 4] | buf[i + 5] << 8) * (buf[i + 6] | buf[i + 7] << 8)
                if len(buf) - i < n:
                    break
                self.received += buf[i:i + n]
                i += n
                continue
            if b == 0x1D and len(buf) - i >= 3 and buf[i + 1] == ord("(") and buf[i + 2] in b"kL":
                if len(buf) - i < 5:
                    break
                n = 5 + (buf[i + 3] | buf[i + 4] << 8)
                if len(buf) - i < n:
                    break
                self.received += buf[i:i + n]
                i += n
                continue
            if b == 0x1D and len(buf) - i < 3:
                break
            self.received.append(b)
            i += 1
        del buf[:i]


@pytest.fixture
def faults():
    return FaultLog()


@pytest.fixture
def waiter():
    return wait_for


@pytest.fixture
def fake_printer(tmp_path):
    dev = FakeEscposPrinter(str(tmp_path / "printer-tty"))
    try:
        yield dev
    finally:
        dev.close()


@pytest.fixture
def pty_device(tmp_path):
    devices = []

    def make(name="display-tty"):
        dev = PtyDevice(str(tmp_path / name))
        devices.append(dev)
        return dev

    try:
        yield make
    finally:
        for dev in devices:
            dev.close()


@pytest.fixture
def mock_factory():
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    saved = Device.pin_factory
    factory = MockFactory()
    Device.pin_factory = factory
    try:
        yield factory
    finally:
        factory.reset()
        Device.pin_factory = saved


GOLDEN_DIR = os.path.join(os.path.dirname(__file__), "golden")


@pytest.fixture
def golden():
    """``golden(name, data)``: compare with tests/drivers/golden/<name>; KIOSK_REGEN_GOLDEN=1 rewrites."""

    def check(name: str, data: bytes):
        path = os.path.join(GOLDEN_DIR, name)
        if os.environ.get("KIOSK_REGEN_GOLDEN") == "1" or not os.path.exists(path):
            if os.environ.get("KIOSK_REGEN_GOLDEN") != "1":
                pytest.fail(f"golden file {name} missing (run with KIOSK_REGEN_GOLDEN=1, then review)")
            with open(path, "wb") as fh:
                fh.write(data)
        with open(path, "rb") as fh:
            expected = fh.read()
        assert data == expected, f"bytes differ from golden {name}"

    return check


@pytest.fixture
def ticket_job():
    import datetime as dt

    from drivers.jobs import TicketPrintJob

    return TicketPrintJob(
        number="A023",
        service_names={"zh": "缴费", "en": "Payments"},
        branch_name={"zh": "示范营业厅", "en": "Demo Service Hall"},
        ahead=5,
        estimate_s=900,
        issued_at=dt.datetime(2026, 11, 23, 9, 31),
        languages=("zh", "en"),
        ticket_id=17,
        service="A",
        branch_id="demo-001",
        footer={"zh": "谢谢光临", "en": "Thank you for your visit"},
    )


class FakeVfd(PtyDevice):
    """A 2x20 Epson-command customer display: keeps a screen buffer, the blink and brightness."""

    def __init__(self, link_path, rows=2, cols=20):
        self.rows, self.cols = rows, cols
        self.screen = [[" "] * cols for _ in range(rows)]
        self.cursor = [0, 0]
        self.blink = 0
        self.brightness = 4
        self.resets = 0
        self._pending = bytearray()
        super().__init__(link_path)

    def lines(self):
        with self._lock:
            return ["".join(r) for r in self.screen]

    def replug(self):
        """A new device: blank screen, nothing received yet."""
        with self._lock:
            self.screen = [["#"] * self.cols for _ in range(self.rows)]  # garbage until init
            self._pending.clear()
        super().replug()

    def feed(self, data):
        self.received += data
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
                self.cursor, self.blink, self.resets = [0, 0], 0, self.resets + 1
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
                elif buf[i + 1] == ord("E"):
                    self.blink = buf[i + 2]
                else:
                    self.brightness = buf[i + 2]
                i += n
            elif b == 0x0C:
                self.screen = [[" "] * self.cols for _ in range(self.rows)]
                self.cursor = [0, 0]
                i += 1
            elif 0x20 <= b < 0x7F:
                row, col = self.cursor
                if row < self.rows and col < self.cols:
                    self.screen[row][col] = chr(b)
                self.cursor[1] = col + 1
                i += 1
            else:
                raise AssertionError(f"fake VFD: unexpected byte {b:#04x} in {bytes(buf[i:i + 8])!r}")
        del buf[:i]


@pytest.fixture
def fake_vfd(tmp_path):
    dev = FakeVfd(str(tmp_path / "vfd-tty"))
    try:
        yield dev
    finally:
        dev.close()
