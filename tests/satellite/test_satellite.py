"""A second ticket machine: a satellite (`kiosk.app.satellite.SatelliteApp`, its own virtual printer)
issues into a main kiosk served by uvicorn on a free port (`LanServer`, virtual devices), through the
main kiosk's API with a device token — one queue; the main kiosk gone → refused, nothing issued."""
from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.app.main_link import MainLink, MainUnreachable, TokenRefused, read_token
from kiosk.app.outputs import Outputs
from kiosk.app.satellite import SatelliteApp
from kiosk.domain.clock import FakeClock
from kiosk.domain.errors import ConfigError
from kiosk.lan.server import LanServer
from kiosk.sim.waiting import wait_until
from kiosk.storage.store import db_path
from tests.lan.conftest import DEVICE_TOKEN, add_clerks, hall_settings


@dataclass
class Main:
    app: KioskApp
    outputs: Outputs
    server: LanServer | None
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill_server(self) -> None:
        self.server.close()
        self.server = None

    def serve_again(self) -> None:
        self.server = LanServer(self.app, "127.0.0.1", self.port, push_ms=50).start()

    def printed(self) -> list[str]:
        return printed_by(self.outputs.hw.printer)

    def rows(self) -> list[tuple]:
        with sqlite3.connect(db_path(self.app.data_dir)) as conn:
            return conn.execute("SELECT number, issued_via, printed, print_reason FROM tickets ORDER BY id").fetchall()


@pytest.fixture
def main(tmp_path) -> Iterator[Main]:
    data = tmp_path / "main"
    s = hall_settings()
    outputs = Outputs(s, simulate=True)
    app = KioskApp(s, data, clock=FakeClock(), devices=outputs).start()
    server = None
    try:
        add_clerks(data)
        server = LanServer(app, "127.0.0.1", 0, push_ms=50).start()
        m = Main(app, outputs, server, server.port)
        yield m
        server = m.server
    finally:
        if server is not None:
            server.close()
        app.stop()


def printed_by(printer) -> list[str]:
    """The numbers of the tickets a virtual printer has put out (its PNG files), in order."""
    out = Path(printer.out_dir)
    return [f.stem.rsplit("-", 1)[1] for f in sorted(out.glob("*.png"))] if out.is_dir() else []


def satellite(tmp_path, url: str, token: str = DEVICE_TOKEN) -> SatelliteApp:
    return SatelliteApp(hall_settings(), tmp_path / "sat", MainLink(url, token, timeout_s=3.0), simulate=True,
                        retry_s=0.2).start()


def test_the_satellite_issues_into_the_main_queue_and_prints_here(main: Main, tmp_path) -> None:
    first = main.app.issue("A").result(10)                        # taken at the main kiosk's screen
    wait_until(lambda: main.printed() == [first.ticket], 10, 0.02)
    sat = satellite(tmp_path, main.url)
    try:
        assert sat.online
        tickets = [sat.issue("A").result(10) for _ in range(3)]
        seq = [int(t.ticket[1:]) for t in tickets]
        assert seq == [int(first.ticket[1:]) + i for i in (1, 2, 3)]     # the main kiosk's sequence goes on
        assert [t.ahead for t in tickets] == [1, 2, 3]
        wait_until(lambda: printed_by(sat.hw.printer) == [t.ticket for t in tickets], 10, 0.02)
        # the main printer prints none of them, and they are recorded as handed out, not pending
        wait_until(lambda: all(r[2] == "ok" for r in main.rows()), 10, 0.02)
        assert main.printed() == [first.ticket]
        assert [r[:3] for r in main.rows()[1:]] == [(t.ticket, "device:sat1", "ok") for t in tickets]
        assert "satellite ticket machine sat1" in main.rows()[1][3]
        assert main.app.snapshot()["waiting"] == 4
        with pytest.raises(Exception, match="not printed here"):   # the main kiosk does not reprint it
            main.app.reprint_last().result(10)
    finally:
        sat.stop()


def test_the_main_kiosk_gone_the_satellite_refuses_then_recovers(main: Main, tmp_path) -> None:
    sat = satellite(tmp_path, main.url)
    try:
        a = sat.issue("A").result(10)
        main.kill_server()
        with pytest.raises(MainUnreachable, match="cannot be reached.*no ticket issued"):
            sat.issue("A").result(10)
        assert not sat.online
        snap = sat.snapshot()
        assert {s["unavailable"] for s in snap["services"]} == {"offline"}
        assert snap["devices"]["main-kiosk"]["fault"] == "unreachable"
        assert [r[0] for r in main.rows()] == [a.ticket]           # nothing issued anywhere
        assert printed_by(sat.hw.printer) == [a.ticket]
        main.serve_again()
        wait_until(lambda: sat.online, 10, 0.05)                  # the background retry finds it
        assert {s["unavailable"] for s in sat.snapshot()["services"]} == {None}
        b = sat.issue("A").result(10)
        assert int(b.ticket[1:]) == int(a.ticket[1:]) + 1
        wait_until(lambda: printed_by(sat.hw.printer) == [a.ticket, b.ticket], 10, 0.02)
        assert main.printed() == []
    finally:
        sat.stop()


def test_an_unknown_or_revoked_device_token_issues_nothing(main: Main, tmp_path) -> None:
    sat = satellite(tmp_path, main.url, token=DEVICE_TOKEN[:-1] + "x")
    try:
        assert not sat.online and "refused this machine's device token" in sat.device_status()["main-kiosk"]["reason"]
        with pytest.raises(TokenRefused, match="unknown or revoked"):
            sat.issue("A").result(10)
    finally:
        sat.stop()
    assert main.rows() == [] and main.printed() == []


def test_the_floor_tablet_qr_ticket_is_not_printed_on_the_main_printer(main: Main) -> None:
    import httpx
    from tests.lan.conftest import CLERKS
    with httpx.Client(base_url=main.url) as c:
        token = c.post("/api/session", json={"clerk": "c03", "pin": CLERKS["c03"][1]}).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        qr = c.post("/api/tickets", json={"service": "A", "print": False}, headers=h).json()
        paper = c.post("/api/tickets", json={"service": "A"}, headers=h).json()
    assert qr["qr"].startswith("data:image/png")
    wait_until(lambda: main.printed() == [paper["ticket"]], 10, 0.02)
    wait_until(lambda: [r[2] for r in main.rows()] == ["ok", "ok"], 10, 0.02)
    assert main.rows()[0][:2] == (qr["ticket"], "qr") and "QR code" in main.rows()[0][3]
    assert main.rows()[1][:2] == (paper["ticket"], None)


def test_the_device_token_file_must_be_private(tmp_path) -> None:
    f = tmp_path / "token"
    f.write_text(DEVICE_TOKEN + "\n")
    os.chmod(f, 0o644)
    with pytest.raises(ConfigError, match="readable by others.*chmod 600"):
        read_token(f)
    os.chmod(f, 0o600)
    assert read_token(f) == DEVICE_TOKEN
    f.write_text("short")
    with pytest.raises(ConfigError, match="one token"):
        read_token(f)


def test_a_main_kiosk_that_does_not_listen_is_refused_within_three_seconds(tmp_path) -> None:
    import socket
    import time
    with socket.socket() as s:            # listens, never answers: the timeout
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        link = MainLink(f"http://127.0.0.1:{s.getsockname()[1]}", DEVICE_TOKEN, timeout_s=3.0)
        t0 = time.monotonic()
        with pytest.raises(MainUnreachable, match="no answer in time"):
            link.issue("A")
        assert time.monotonic() - t0 < 3.5
