"""Fixtures for the HQ dashboard tests: one mosquitto (kiosk.sim.broker.Broker) and one
`python -m kiosk.cli.hq_web serve` for the whole directory, kiosks in their own processes,
and headless Chromium (Debian's /usr/bin/chromium) driven by Playwright — never
`playwright install` (the session's one browser: tests/kit/browser_fixtures.py). Browser tests
fail, with the reason, when chromium or Playwright is missing; CI installs both. Helpers are in tests/kit/hq_web.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.sim.broker import Broker
from tests.kit.hq_web import USERS, Server, branch_kiosk, login, new_branch
from tests.kit.kiosk_child import KioskChild

@pytest.fixture(scope="session")
def hq_broker(tmp_path_factory) -> Iterator[Broker]:
    b = Broker(tmp_path_factory.mktemp("hq-broker"))
    try:
        yield b.start()
    finally:
        b.stop()


@pytest.fixture(scope="session")
def hq_db(tmp_path_factory) -> Path:
    from kiosk.hq.web.auth import Users
    db = tmp_path_factory.mktemp("hq-db") / "hq.db"
    users = Users(db)
    for name, (role, password) in USERS.items():
        users.add(name, role, password)
    users.close()
    return db


@pytest.fixture(scope="session")
def hq_server(hq_broker, hq_db) -> Iterator[Server]:
    s = Server(hq_broker.url, hq_db)
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture
def kiosks(hq_broker, tmp_path) -> Iterator[Callable[..., KioskChild]]:
    made: list[KioskChild] = []

    def make(branch: str | None = None) -> KioskChild:
        k = branch_kiosk(hq_broker.url, tmp_path / f"kiosk{len(made)}", branch or new_branch())
        made.append(k)
        return k
    try:
        yield make
    finally:
        for k in made:
            k.kill()


# -- the browser --------------------------------------------------------------------------------
@pytest.fixture
def new_page(browser, hq_server) -> Iterator[Callable[..., Any]]:
    contexts: list[Any] = []
    errors: list[str] = []

    def make(user: str | None = None, *, width: int = 1280, height: int = 800, lang: str = "en") -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        if user is not None:
            login(page, hq_server.url, user, lang=lang)
        return page
    try:
        yield make
    finally:
        for c in contexts:
            c.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


