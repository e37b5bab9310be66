"""Fixtures of the hall web app tests: a real KioskApp (FakeClock, temporary data, no devices)
with two clerks and the admin PIN, and the hall web app served on it by uvicorn on a free port
of this machine (`kiosk.lan.server.LanServer`, as `kiosk run --lan` does)."""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from kiosk.access.clerks import ClerkBook
from kiosk.access.pin import hash_pin
from kiosk.app.kiosk_app import KioskApp
from kiosk.config.settings import Settings, load_settings
from kiosk.domain.clock import FakeClock
from kiosk.lan.server import LanServer

ADMIN_PIN = "2468"
CLERKS = {"c01": ("Wang Fang", "1111"), "c02": ("Li Lei", "2222"), "c03": ("Zhao Min", "3333")}
DEVICE_TOKEN = "satellite-token-" + "9f3c2a7b41d85e60" * 2
_ADMIN_HASH = hash_pin(ADMIN_PIN)

FORM_B = [
    {"id": "doc", "type": "choice", "label": {"zh": "证件", "en": "Document"},
     "choices": [{"id": "id_card", "name": {"zh": "身份证", "en": "ID card"}},
                 {"id": "passport", "name": {"zh": "护照", "en": "Passport"}}], "required": True},
    {"id": "checked", "type": "yesno", "label": {"zh": "资料已核对", "en": "Documents checked"}},
    {"id": "want", "type": "text", "label": {"zh": "办理事项", "en": "What to do"}},
]
PAUSE_REASONS = [{"id": "lunch", "name": {"zh": "午餐", "en": "Lunch"}},
                 {"id": "training", "name": {"zh": "培训", "en": "Training"}},
                 {"id": "back_office", "name": {"zh": "后台处理", "en": "Back office"}}]


def hall_settings() -> Settings:
    """The sample hall with the admin PIN, pause reasons, a form for service B and one device token."""
    data = load_settings().model_dump(mode="json")
    data["ui"]["admin_pin_hash"] = _ADMIN_HASH
    data["pause_reasons"] = PAUSE_REASONS
    for svc in data["services"]:
        if svc["prefix"] == "B":
            svc["form"] = FORM_B
    data["lan"] = {"enabled": True, "bind": "127.0.0.1", "port": 8090,
                   "device_tokens": [{"name": "sat1", "sha256": hashlib.sha256(DEVICE_TOKEN.encode()).hexdigest()}]}
    return Settings.model_validate(data)


@dataclass
class Hall:
    app: KioskApp
    server: LanServer
    url: str

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=20)

    def sign_in(self, clerk: str | None, counter: int | None = None, *, pin: str | None = None) -> str:
        body: dict = {"pin": pin or (CLERKS[clerk][1] if clerk else ADMIN_PIN)}
        if clerk is None:
            body["manager"] = True
        else:
            body["clerk"] = clerk
        if counter is not None:
            body["counter"] = counter
        with self.client() as c:
            r = c.post("/api/session", json=body)
        assert r.status_code == 200, r.text
        return r.json()["token"]

    def open_counter(self, clerk: str, counter: int) -> str:
        """The token of `clerk` signed in at `counter`, which they have opened."""
        token = self.sign_in(clerk, counter)
        with self.client(token) as c:
            assert c.post("/api/counter/open").json()["state"] == "open"
        return token


def add_clerks(data: Path) -> None:
    book = ClerkBook(data)
    try:
        for cid, (name, pin) in CLERKS.items():
            book.add(cid, name, pin)
    finally:
        book.close()


@pytest.fixture
def hall(tmp_path) -> Iterator[Hall]:
    data = tmp_path / "data"
    app = KioskApp(hall_settings(), data, clock=FakeClock()).start()
    server = None
    try:
        add_clerks(data)
        server = LanServer(app, "127.0.0.1", 0, push_ms=50).start()
        yield Hall(app, server, server.url)
    finally:
        if server is not None:
            server.close()
        app.stop()
