"""Fixtures for the tests that talk MQTT (tests/mqtt, tests/hq): a real mosquitto on a free
loopback port (stopped in finally), subscribers, kiosks in-process or in a subprocess, a test
CA made by openssl. Registered for the whole suite by `pytest_plugins` in tests/conftest.py."""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.config.settings import Settings
from kiosk.sim.broker import Broker
from tests.kit.kiosk_child import KioskChild
from tests.kit.mqtt import Collector


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
    from kiosk.mqtt.telemetry import Telemetry
    apps: list[Any] = []

    def make(settings: Settings, data: Path | None = None, *, telemetry: bool = True, url: str | None = None):
        uplink = Telemetry(settings, url_override=url) if telemetry else None
        app = KioskApp(settings, data or tmp_path / f"data{len(apps)}", uplink=uplink).start()
        apps.append(app)
        return app
    try:
        yield make
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
def kiosk_procs() -> Iterator[Callable[..., KioskChild]]:
    made: list[KioskChild] = []

    def make(*a: Any, **kw: Any) -> KioskChild:
        p = KioskChild(*a, **kw)
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

