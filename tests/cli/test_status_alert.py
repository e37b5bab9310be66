"""`kiosk status` shows the hall's alert level from the stored queue, with no kiosk running: the
same level (and counters to open) as the snapshot the touchscreen and HQ read."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from kiosk.config.settings import DEFAULT_CONFIG, load_settings
from kiosk.engine.queue_engine import QueueEngine
from kiosk.engine.readmodel import snapshot
from kiosk.storage.store import Store, db_path
from tests.kit.settings import REPO


def kiosk_status(data, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_CONFIG"}
    env["KIOSK_DATA"] = str(data)
    proc = subprocess.run([sys.executable, "-m", "kiosk.cli.main", "status", *args], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.fixture
def hall(tmp_path):
    """A data directory with counters 1 and 2 open, and its engine (the sample hall)."""
    settings = load_settings(DEFAULT_CONFIG)
    store = Store(db_path(tmp_path), synchronous="NORMAL")
    engine = QueueEngine(store, settings)
    engine.set_counter(1, "open")
    engine.set_counter(2, "open")
    yield engine
    store.close()


@pytest.mark.parametrize("waiting, level", [(6, 1), (10, 2)])
def test_status_says_the_level_of_the_queue(hall, waiting, level):
    for _ in range(waiting):
        hall.issue("A")
    human = kiosk_status(hall.store.path.parent)
    first = human.splitlines()[0]
    assert f"waiting {waiting}  open counters 2  alert {level}" in first
    code = f"queue_level{level}"
    assert f"alert: {code}: {waiting} waiting at 2 open counters" in human
    doc = json.loads(kiosk_status(hall.store.path.parent, "--json"))
    snap = snapshot(hall)  # what the touchscreen and HQ's state publisher read
    for alert in (doc["alert"], snap["alert"]):
        assert (alert["level"], alert["code"]) == (level, code)
    assert doc["alert"]["open_counters_needed"] == snap["alert"]["open_counters_needed"] > 0
    needed, closed = doc["alert"]["open_counters_needed"], doc["alert"]["staffing"]["closed_counters"]
    assert f"counters to open: {needed} ({doc['alert']['counters_needed']} open counters" in human
    assert ("can be opened" in human) == (needed > closed)


def test_a_calm_hall_says_so(hall):
    hall.issue("A")
    human = kiosk_status(hall.store.path.parent)
    assert "alert 0" in human.splitlines()[0]
    assert "counters to open" not in human and "alert:" not in human
