"""Fixtures for the MQTT tests: a real mosquitto on a free loopback port (killed in finally),
subscribers, kiosks in-process or in a subprocess, a test CA made by openssl."""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config.settings import Settings
from mqttkit import Broker, Collector, KioskProcess


@pytest.fixture
def broker(tmp_path) -> Iterator[Broker]:
    b = Broker(tmp_path / "broker")
    try:
        yield b.start()
    finally:
        b.stop()


@pytest.fixture
def collectors() -> Iterator[Callable[..., Collector]]:
    made: list[Collector] = []

    def make(port: int, topics: list[str], **kw: Any) -> Collector:
        c = Collector(port, topics, **kw)
        made.append(c)
        return c
    try:
        yield make
    finally:
        for c in made:
            try:
                c.close()
            except Exception:  # noqa: BLE001
                pass


@pytest.fixture
def make_kiosk(tmp_path):
    """make_kiosk(settings, data=None) → a started KioskApp with telemetry; stopped afterwards."""
    from kiosk.app.kiosk_app import KioskApp
    from kiosk.mqtt.telemetry import attach_telemetry
    apps: list[Any] = []

    def make(settings: Settings, data: Path | None = None, *, telemetry: bool = True, url: str | None = None):
        app = KioskApp(settings, data or tmp_path / f"data{len(apps)}").start()
        apps.append(app)
        if telemetry:
            attach_telemetry(app, url_override=url)
        return app
    try:
        yield make
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
def kiosk_procs() -> Iterator[Callable[..., KioskProcess]]:
    made: list[KioskProcess] = []

    def make(*a: Any, **kw: Any) -> KioskProcess:
        p = KioskProcess(*a, **kw)
        made.append(p)
        return p
    try:
        yield make
    finally:
        for p in made:
            p.kill()


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> dict[str, str]:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate (openssl)."""
    d = tmp_path_factory.mktemp("ca")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=kiosk test CA")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name, cn, ext in (("server", "localhost", True), ("client", "kiosk-test", False)):
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={cn}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "2", *(["-extfile", "san.ext"] if ext else []))
    return {k: str(d / v) for k, v in {"ca": "ca.crt", "cert": "server.crt", "key": "server.key",
                                       "client_cert": "client.crt", "client_key": "client.key"}.items()}

