"""One headless Chromium (Debian's /usr/bin/chromium or $KIOSK_CHROMIUM, driven by Playwright —
never `playwright install`) for the whole test session: Playwright's sync API runs one event
loop per process, so every page test (HQ dashboard, hall pages) shares this one. Without
Chromium or Playwright the tests that need it fail, saying what is missing (CI installs both)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.kit.hq_web import CHROMIUM, CHROMIUM_ARGS, _browser_missing


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    missing = _browser_missing()
    if missing:
        pytest.fail(missing)
    from playwright.sync_api import sync_playwright
    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()
