"""Kivy runs headless here: the environment is set BEFORE anything imports Kivy (SDL's
offscreen driver on Mesa when there is no DISPLAY), one 800x480 window serves every test,
and each test builds a fresh KioskApp (FakeClock, temporary data dir) and a fresh UI."""
from __future__ import annotations

from ui.devtools.harness import headless_env  # imports no Kivy: it sets the environment Kivy reads at import

headless_env()

from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from kiosk.app.kiosk_app import KioskApp  # noqa: E402
from kiosk.domain.clock import FakeClock  # noqa: E402
from kiosk.config.settings import Settings, load_settings  # noqa: E402
from kiosk.access.pin import hash_pin  # noqa: E402
from ui.devtools import harness  # noqa: E402

harness.configure((800, 480))

PIN = "2468"
_PIN_HASH = hash_pin(PIN)


def make_settings(services: dict[str, dict] | None = None, edit: Callable[[dict], None] | None = None,
                  **ui: Any) -> Settings:
    """The sample hall with test-friendly [ui] values; `services` patches services by prefix,
    `edit(data)` changes anything else. Short timeouts below the config's minimums are set
    without validation (tests only)."""
    data = load_settings().model_dump(mode="json")
    if edit is not None:
        edit(data)
    for svc in data["services"]:
        svc.update((services or {}).get(svc["prefix"], {}))
    data["ui"].update(admin_pin_hash=_PIN_HASH, fullscreen=False, size=[800, 480])
    fast = {k: ui.pop(k) for k in ("result_timeout_s", "long_press_s") if k in ui}
    data["ui"].update(ui)
    settings = Settings.model_validate(data)
    fast.setdefault("result_timeout_s", 60.0)
    fast.setdefault("long_press_s", 0.3)
    return settings.model_copy(update={"ui": settings.ui.model_copy(update=fast)})


@pytest.fixture
def hall(tmp_path) -> Iterator[Callable[..., KioskApp]]:
    """hall(settings=None, devices=None) → a started KioskApp on a FakeClock (stopped after the test)."""
    apps: list[KioskApp] = []

    def start(settings: Settings | None = None, devices: Any = None) -> KioskApp:
        app = KioskApp(settings or make_settings(), tmp_path / "data", clock=FakeClock(), devices=devices).start()
        apps.append(app)
        return app
    try:
        yield start
    finally:
        for app in apps:
            app.stop()


@pytest.fixture
def printer() -> harness.MockDevices:
    return harness.MockDevices()


@pytest.fixture
def kiosk(hall, request) -> KioskApp:
    """The kiosk of the test; with the fake printer as its devices when the test asks for `printer`."""
    return hall(devices=request.getfixturevalue("printer") if "printer" in request.fixturenames else None)


@pytest.fixture
def open_ui() -> Iterator[Callable[..., Any]]:
    """open_ui(kiosk, screen="kiosk") → a running KioskUi on the test window."""
    uis: list[Any] = []

    def start(kiosk: KioskApp, screen: str = "kiosk") -> Any:
        if uis:
            harness.stop_ui(uis.pop())
        ui = harness.start_ui(kiosk, screen)
        uis.append(ui)
        return ui
    try:
        yield start
    finally:
        for ui in uis:
            harness.stop_ui(ui)


@pytest.fixture
def ui(kiosk, open_ui) -> Any:
    return open_ui(kiosk)


@pytest.fixture
def mk() -> Callable[..., Settings]:
    """`mk(services=…, **ui)`: see make_settings."""
    return make_settings
