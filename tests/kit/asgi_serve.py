"""An ASGI app on a real uvicorn server on the loopback, in a thread, with a client for it; and a
fresh VAPID key file (the phone notices' tests)."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from py_vapid import Vapid

from kiosk.sim.net import free_port
from kiosk.sim.waiting import wait_until


@contextlib.contextmanager
def serve(app) -> Iterator[httpx.Client]:  # noqa: ANN001 — any ASGI app
    """`app` on a real uvicorn server on the loopback, and a client for it."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning",
                                           access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started, 10, what="uvicorn to start")
        with httpx.Client(base_url=f"http://127.0.0.1:{server.config.port}") as client:
            yield client
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def vapid_file(tmp_path: Path) -> Path:
    """A VAPID private key (PEM) made for the test."""
    v = Vapid()
    v.generate_keys()
    v.save_key(str(tmp_path / "vapid.pem"))
    return tmp_path / "vapid.pem"
