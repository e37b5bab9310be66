"""The hall web app under idle, slow and greedy clients, with raw sockets against the real server
(`LanServer` on uvicorn, as `kiosk run --lan` runs it), with short limits.

Clients that open connections and send nothing, half a request head, a head a byte at a time,
a body that never ends or one too large are disconnected within the request timeout, while
other clients keep being served; connections over the caps get 503 at once.
"""
from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from kiosk.app.kiosk_app import KioskApp
from kiosk.domain.clock import FakeClock
from kiosk.lan.server import LanServer
from kiosk.webkit.http_limits import ServerLimits
from tests.lan.conftest import add_clerks, hall_settings

TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
PER_ADDRESS = 10
IN_ALL = 25
MAX_BODY = 4096
SLACK_S = 1.5  # a loaded two-core machine
ATTACKER, OTHER, THIRD, VICTIM = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"
PAGE = b"GET /caller HTTP/1.1\r\nHost: hall\r\n"


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


def connect(server: LanServer, source: str = ATTACKER) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and when it closed (monotonic)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, time.monotonic()
        if not chunk:
            return data, time.monotonic()
        data += chunk


def closed_by_server(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        sock.setblocking(True)


def get_page(server: LanServer, source: str) -> tuple[int, float]:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10) as c:
        t0 = time.monotonic()
        r = c.get("/caller")
        return r.status_code, time.monotonic() - t0


def test_idle_and_half_open_clients_are_dropped_while_others_are_served(server):
    opened = time.monotonic()
    silent = [connect(server) for _ in range(4)]
    partial = [connect(server) for _ in range(4)]
    for s in partial:
        s.sendall(PAGE + b"X-Slow: ")
    try:
        for _ in range(5):  # the server keeps answering someone else meanwhile
            status, took = get_page(server, OTHER)
            assert status == 200 and took < 1.0, (status, took)
        for s in silent + partial:
            data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
            assert data == b""
            assert TIMEOUT_S * 0.8 <= at - opened <= TIMEOUT_S + SLACK_S, at - opened
    finally:
        for s in silent + partial:
            s.close()


def test_a_head_sent_a_byte_at_a_time_is_cut_off(server):
    s = connect(server)
    try:
        opened = time.monotonic()
        head = PAGE + b"X-Slow: " + b"a" * 200
        sent = 0
        while sent < len(head) and time.monotonic() - opened < TIMEOUT_S + SLACK_S + 3:
            try:
                s.sendall(head[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += 1
            if closed_by_server(s):
                break
            time.sleep(0.1)
        closed_after = time.monotonic() - opened
        assert sent < len(head), "the server waited for the whole trickled head"
        assert closed_after <= TIMEOUT_S + SLACK_S, closed_after
    finally:
        s.close()


def test_connections_over_the_caps_get_503_at_once_and_the_server_recovers(server):
    held = [connect(server) for _ in range(PER_ADDRESS)]
    try:
        over = connect(server)  # one more from the same address
        data, _ = read_until_closed(over, 5)
        over.close()
        assert data.startswith(b"HTTP/1.1 503") and b"too many open connections" in data, data
        assert get_page(server, OTHER)[0] == 200  # another address is still served
        held += [connect(server, OTHER) for _ in range(PER_ADDRESS)]
        held += [connect(server, THIRD) for _ in range(IN_ALL - 2 * PER_ADDRESS)]
        victim = connect(server, VICTIM)  # the cap in all is reached
        data, _ = read_until_closed(victim, 5)
        victim.close()
        assert data.startswith(b"HTTP/1.1 503"), data
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while get_page(server, VICTIM)[0] != 200:  # the closed connections are forgotten
        assert time.monotonic() < deadline, "the server did not recover its connection slots"
        time.sleep(0.1)


def test_an_idle_keep_alive_connection_is_closed(server):
    s = connect(server)
    try:
        s.sendall(PAGE + b"\r\n")
        s.settimeout(5)
        first = s.recv(65536)
        answered = time.monotonic()
        assert first.startswith(b"HTTP/1.1 200"), first[:100]
        _, at = read_until_closed(s, KEEP_ALIVE_S + SLACK_S + 5)
        assert at - answered <= max(KEEP_ALIVE_S, TIMEOUT_S) + SLACK_S
    finally:
        s.close()


def test_a_second_request_head_left_half_sent_is_cut_off(server):
    s = connect(server)
    try:
        s.sendall(PAGE + b"\r\n")
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        s.sendall(b"GET /caller HTTP/1.1\r\nHo")
        data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
        assert at - started <= TIMEOUT_S + SLACK_S
    finally:
        s.close()


def _json_of(response: bytes) -> dict:
    return json.loads(response.split(b"\r\n\r\n", 1)[1])


def test_request_bodies_are_capped_and_timed_with_json_refusals(server):
    # declared too large: refused before a byte of it is read
    s = connect(server)
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
    s = connect(server)
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


def test_an_oversized_head_is_refused(server):
    for head in (PAGE + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n",  # whole
                 PAGE + b"X-Big: " + b"a" * 20_000):  # and unfinished
        s = connect(server)
        try:
            s.sendall(head)
            data, _ = read_until_closed(s, 5)
            assert data.startswith(b"HTTP/1.1 431"), data[:200]
        finally:
            s.close()
    assert get_page(server, OTHER)[0] == 200
