"""Shared fixtures: the sample hall's settings, a fake clock, an engine on a real SQLite file.

The helpers the tests import (paths, the hall's time zone, ``settings_with``, kiosks in their
own processes, MQTT subscribers) live in ``tests/kit/``, one copy each.
"""
from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

# Kivy reads these at import time: set them before any test module imports it.
os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-home-"))
if not os.environ.get("DISPLAY"):
    os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("GPIOZERO_PIN_FACTORY", "mock")

from kiosk.domain.clock import FakeClock  # noqa: E402
from kiosk.config.settings import DEFAULT_CONFIG, Settings, load_settings  # noqa: E402
from kiosk.engine.queue_engine import QueueEngine  # noqa: E402
from kiosk.storage.store import Store  # noqa: E402
from tests.kit.settings import CN  # noqa: E402

pytest_plugins = ["tests.kit.mqtt_fixtures", "tests.kit.pg_fixtures", "tests.kit.browser_fixtures"]

# The engine keeps the queue going when the wait estimator fails (an estimate is advice): it
# logs the error. In the tests such an error is a bug, and fails the test that caused it.
ESTIMATOR_LOGGERS = ("kiosk.engine.estimation", "kiosk.engine.queue_engine")


class _ErrorRecords(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "estimator failed" in record.getMessage():
            self.records.append(record)


@pytest.fixture(autouse=True)
def estimator_errors_fail_the_test() -> Iterator[None]:
    handler = _ErrorRecords()
    loggers = [logging.getLogger(name) for name in ESTIMATOR_LOGGERS]
    for lg in loggers:
        lg.addHandler(handler)
    try:
        yield
    finally:
        for lg in loggers:
            lg.removeHandler(handler)
    failures = [f"{r.getMessage()}: {r.exc_text or r.exc_info}" for r in handler.records]
    assert not failures, f"the wait estimator failed: {failures}"


@pytest.fixture
def settings() -> Settings:
    return load_settings(DEFAULT_CONFIG)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(wall=datetime(2026, 11, 23, 9, 0, tzinfo=CN), tz=CN)


@pytest.fixture
def make_engine(tmp_path, settings, clock):
    """make_engine(settings=..., open_counters=True) → a QueueEngine on tmp_path/kiosk.db."""
    stores: list[Store] = []

    def make(s: Settings | None = None, *, open_counters: bool = True, path: Path | None = None,
             clk: FakeClock | None = None) -> QueueEngine:
        s = s or settings
        store = Store(path or tmp_path / "kiosk.db", synchronous="NORMAL")
        stores.append(store)
        engine = QueueEngine(store, s, clk or clock)
        if open_counters:
            for c in s.counters:
                engine.set_counter(c.number, "open")
        return engine

    yield make
    for st in stores:
        st.close()


@pytest.fixture
def engine(make_engine) -> QueueEngine:
    return make_engine()
