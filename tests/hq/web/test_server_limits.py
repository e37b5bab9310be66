"""`kiosk hq serve` under idle, slow and greedy clients, with raw sockets against the real server:
the tests every web server of the project passes (tests/kit/server_limits.py) and its form bodies.
"""
from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.kit.hq_web import Server
from tests.kit.server_limits import (LimitedServer, SLACK_S, connect, read_until_closed,  # noqa: F401 — tests
                                     test_a_head_sent_a_byte_at_a_time_is_cut_off,
                                     test_a_second_request_head_left_half_sent_is_cut_off,
                                     test_an_idle_keep_alive_connection_is_closed, test_an_oversized_head_is_refused,
                                     test_connections_over_the_caps_get_503_at_once_and_the_server_recovers,
                                     test_idle_and_half_open_clients_are_dropped_while_others_are_served)

TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
PER_ADDRESS = 20
IN_ALL = 45
MAX_BODY = 4096


@pytest.fixture(scope="module")
def server(hq_broker, hq_db) -> Iterator[Server]:
    s = Server(hq_broker.url, hq_db, "--request-timeout", str(TIMEOUT_S), "--keep-alive", str(KEEP_ALIVE_S),
               "--max-connections", str(IN_ALL), "--max-connections-per-address", str(PER_ADDRESS),
               "--max-body", str(MAX_BODY))
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(scope="module")
def limited(server) -> LimitedServer:
    return LimitedServer(server.url, server.port, "/login", TIMEOUT_S, KEEP_ALIVE_S, PER_ADDRESS, IN_ALL)


def test_request_bodies_are_capped_and_timed(server, limited):
    # declared too large: refused before a byte of it is read
    s = connect(limited)
    try:
        s.sendall(b"POST /login HTTP/1.1\r\nHost: hq\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 1000000000\r\n\r\n")
        data, _ = read_until_closed(s, 5)
        assert data.startswith(b"HTTP/1.1 413"), data[:200]
    finally:
        s.close()
    # chunked, no length: counted as it comes
    with httpx.Client(base_url=server.url, timeout=10) as c:
        r = c.post("/login", content=iter([b"name=x&password=" + b"y" * 3000, b"z" * 3000]),
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413, r.text
        r = c.post("/login", content=b"name=" + b"x" * (MAX_BODY + 1),
                   headers={"content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 413
        r = c.post("/login", data={"name": "nobody", "password": "wrong-password"})
        assert r.status_code not in (408, 413)  # a small body reaches the application
    # a body that never ends: 408 within the timeout, and the connection closed
    s = connect(limited)
    try:
        started = time.monotonic()
        s.sendall(b"POST /login HTTP/1.1\r\nHost: hq\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 100\r\n\r\nname=")
        data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
        assert data.startswith(b"HTTP/1.1 408"), data[:200]
        assert at - started <= TIMEOUT_S + SLACK_S
    finally:
        s.close()
