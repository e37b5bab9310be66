"""The hall web app under idle, slow and greedy clients, with raw sockets against the real server
(`LanServer` on uvicorn, as `kiosk run --lan` runs it), with short limits: the tests every web
server of the project passes (tests/kit/server_limits.py) and its JSON bodies, refused in JSON.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.domain.clock import FakeClock
from kiosk.lan.server import LanServer
from kiosk.webkit.http_limits import ServerLimits
from tests.kit.server_limits import (LimitedServer, SLACK_S, connect, read_until_closed,  # noqa: F401 — tests
                                     test_a_head_sent_a_byte_at_a_time_is_cut_off,
                                     test_a_second_request_head_left_half_sent_is_cut_off,
                                     test_an_idle_keep_alive_connection_is_closed, test_an_oversized_head_is_refused,
                                     test_connections_over_the_caps_get_503_at_once_and_the_server_recovers,
                                     test_idle_and_half_open_clients_are_dropped_while_others_are_served)
from tests.lan.conftest import add_clerks, hall_settings

TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
PER_ADDRESS = 10
IN_ALL = 25
MAX_BODY = 4096


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[LanServer]:
    data = tmp_path_factory.mktemp("lan-limits") / "data"
    app = KioskApp(hall_settings(), data, clock=FakeClock()).start()
    s = None
    try:
        add_clerks(data)
        limits = ServerLimits(request_timeout_s=TIMEOUT_S, keep_alive_s=KEEP_ALIVE_S, max_connections=IN_ALL,
                              max_connections_per_address=PER_ADDRESS, max_body_bytes=MAX_BODY)
        s = LanServer(app, "127.0.0.1", 0, push_ms=50, limits=limits).start()
        yield s
    finally:
        if s is not None:
            s.close()
        app.stop()


@pytest.fixture(scope="module")
def limited(server) -> LimitedServer:
    return LimitedServer(server.url, server.port, "/caller", TIMEOUT_S, KEEP_ALIVE_S, PER_ADDRESS, IN_ALL)


def _json_of(response: bytes) -> dict:
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


def test_request_bodies_are_capped_and_timed_with_json_refusals(server, limited):
    # declared too large: refused before a byte of it is read
    s = connect(limited)
    try:
        s.sendall(b"POST /api/session HTTP/1.1\r\nHost: hall\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 1000000000\r\n\r\n")
        data, _ = read_until_closed(s, 5)
        assert data.startswith(b"HTTP/1.1 413"), data[:200]
        assert _json_of(data)["error"] == "too_large"
    finally:
        s.close()
    with httpx.Client(base_url=server.url, timeout=10) as c:
        # chunked, no length: counted as it comes
        r = c.post("/api/session", content=iter([b'{"pin": "' + b"1" * 3000, b"1" * 3000 + b'"}']),
                   headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["error"] == "too_large", r.text
        r = c.post("/api/tickets", content=b'{"service": "' + b"A" * MAX_BODY + b'"}',
                   headers={"content-type": "application/json"})
        assert r.status_code == 413
        r = c.post("/api/session", json={"clerk": "c01", "pin": "1111", "counter": 1})
        assert r.status_code == 200  # a small body reaches the application
    # a body that never ends: 408 within the timeout, and the connection closed
    s = connect(limited)
    try:
        started = time.monotonic()
        s.sendall(b"POST /api/session HTTP/1.1\r\nHost: hall\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{\"pin\": ")
        data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
        assert data.startswith(b"HTTP/1.1 408"), data[:200]
        assert _json_of(data)["error"] == "timeout"
        assert at - started <= TIMEOUT_S + SLACK_S
    finally:
        s.close()
