"""`kiosk hq serve` under idle, slow and greedy clients, with raw sockets against the real server.

Clients that open connections and send nothing, half a request head, a head a byte at a time,
a body that never ends or one too large are disconnected within the request timeout, while
other clients keep being served; connections over the caps get 503 at once.
"""
from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.kit.hq_web import Server

TIMEOUT_S = 1.0
KEEP_ALIVE_S = 1.0
PER_ADDRESS = 20
IN_ALL = 45
MAX_BODY = 4096
SLACK_S = 1.5  # a loaded two-core machine
ATTACKER, OTHER, THIRD, VICTIM = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"


@pytest.fixture(scope="module")
def server(hq_broker, hq_db) -> Iterator[Server]:
    s = Server(hq_broker.url, hq_db, "--request-timeout", str(TIMEOUT_S), "--keep-alive", str(KEEP_ALIVE_S),
               "--max-connections", str(IN_ALL), "--max-connections-per-address", str(PER_ADDRESS),
               "--max-body", str(MAX_BODY))
    try:
        yield s
    finally:
        s.stop()


def connect(server: Server, source: str = ATTACKER) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10, source_address=(source, 0))


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes; and when it closed (monotonic)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        chunk = sock.recv(65536)
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


def get_login(server: Server, source: str) -> tuple[int, float]:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10) as c:
        t0 = time.monotonic()
        r = c.get("/login")
        return r.status_code, time.monotonic() - t0


def test_idle_and_half_open_clients_are_dropped_while_others_are_served(server):
    opened = time.monotonic()
    silent = [connect(server) for _ in range(8)]
    partial = [connect(server) for _ in range(8)]
    for s in partial:
        s.sendall(b"GET /login HTTP/1.1\r\nHost: hq\r\nX-Slow: ")
    try:
        for _ in range(5):  # the server keeps answering someone else meanwhile
            status, took = get_login(server, OTHER)
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
        head = b"GET /login HTTP/1.1\r\nHost: hq\r\nX-Slow: " + b"a" * 200
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
        assert get_login(server, OTHER)[0] == 200  # another address is still served
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
    while get_login(server, VICTIM)[0] != 200:  # the closed connections are forgotten
        assert time.monotonic() < deadline, "the server did not recover its connection slots"
        time.sleep(0.1)


def test_an_idle_keep_alive_connection_is_closed(server):
    s = connect(server)
    try:
        s.sendall(b"GET /login HTTP/1.1\r\nHost: hq\r\n\r\n")
        s.settimeout(5)
        first = s.recv(65536)
        answered = time.monotonic()
        assert first.startswith(b"HTTP/1.1 200"), first[:100]
        _, at = read_until_closed(s, KEEP_ALIVE_S + SLACK_S + 5)
        assert at - answered <= max(KEEP_ALIVE_S, TIMEOUT_S) + SLACK_S
    finally:
        s.close()


def test_a_second_request_head_left_half_sent_is_cut_off(server):
    """After one response the keep-alive timer stops at the first byte of the next head; the head
    deadline still applies."""
    s = connect(server)
    try:
        s.sendall(b"GET /login HTTP/1.1\r\nHost: hq\r\n\r\n")
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        s.sendall(b"GET /login HTTP/1.1\r\nHo")
        data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
        assert at - started <= TIMEOUT_S + SLACK_S
    finally:
        s.close()


def test_request_bodies_are_capped_and_timed(server):
    # declared too large: refused before a byte of it is read
    s = connect(server)
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
    s = connect(server)
    try:
        started = time.monotonic()
        s.sendall(b"POST /login HTTP/1.1\r\nHost: hq\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 100\r\n\r\nname=")
        data, at = read_until_closed(s, TIMEOUT_S + SLACK_S + 5)
        assert data.startswith(b"HTTP/1.1 408"), data[:200]
        assert at - started <= TIMEOUT_S + SLACK_S
    finally:
        s.close()


def test_an_oversized_head_is_refused(server):
    for head in (b"GET /login HTTP/1.1\r\nHost: hq\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n",  # whole
                 b"GET /login HTTP/1.1\r\nHost: hq\r\nX-Big: " + b"a" * 20_000):  # and unfinished
        s = connect(server)
        try:
            s.sendall(head)
            data, _ = read_until_closed(s, 5)
            assert data.startswith(b"HTTP/1.1 431"), data[:200]
        finally:
            s.close()
    assert get_login(server, OTHER)[0] == 200
