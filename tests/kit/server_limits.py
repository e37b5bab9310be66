"""The HTTP limits every web server of the project keeps (`kiosk.webkit.http_limits`: the HQ
dashboard, the hall web app), tested with raw sockets against the real server.

A test module makes a `limited` fixture (a `LimitedServer`: where the server listens, a page any
client may get, and the short limits it was started with) and imports the tests below, which
pytest then runs against that server: clients that open connections and send nothing, half a
request head, a head a byte at a time, or a head too large are disconnected within the request
timeout while other clients keep being served; connections over the caps get 503 at once. The
request bodies are each server's own (a form, JSON): their tests stay in its module.
"""
from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import httpx

SLACK_S = 1.5  # a loaded two-core machine
ATTACKER, OTHER, THIRD, VICTIM = "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"


@dataclass(frozen=True)
class LimitedServer:
    url: str
    port: int
    page: str                 # a path answered 200 to anyone
    timeout_s: float
    keep_alive_s: float
    per_address: int
    in_all: int

    def head(self) -> bytes:
        """The start of a request head for the page (no blank line)."""
        return f"GET {self.page} HTTP/1.1\r\nHost: test\r\n".encode()


def connect(server: LimitedServer, source: str = ATTACKER) -> socket.socket:
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


def get_page(server: LimitedServer, source: str) -> tuple[int, float]:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=server.url, transport=transport, timeout=10) as c:
        t0 = time.monotonic()
        r = c.get(server.page)
        return r.status_code, time.monotonic() - t0


def test_idle_and_half_open_clients_are_dropped_while_others_are_served(limited: LimitedServer):
    n = (limited.per_address - 2) // 2
    opened = time.monotonic()
    silent = [connect(limited) for _ in range(n)]
    partial = [connect(limited) for _ in range(n)]
    for s in partial:
        s.sendall(limited.head() + b"X-Slow: ")
    try:
        for _ in range(5):  # the server keeps answering someone else meanwhile
            status, took = get_page(limited, OTHER)
            assert status == 200 and took < 1.0, (status, took)
        for s in silent + partial:
            data, at = read_until_closed(s, limited.timeout_s + SLACK_S + 5)
            assert data == b""
            assert limited.timeout_s * 0.8 <= at - opened <= limited.timeout_s + SLACK_S, at - opened
    finally:
        for s in silent + partial:
            s.close()


def test_a_head_sent_a_byte_at_a_time_is_cut_off(limited: LimitedServer):
    s = connect(limited)
    try:
        opened = time.monotonic()
        head = limited.head() + b"X-Slow: " + b"a" * 200
        sent = 0
        while sent < len(head) and time.monotonic() - opened < limited.timeout_s + SLACK_S + 3:
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
        assert closed_after <= limited.timeout_s + SLACK_S, closed_after
    finally:
        s.close()


def test_connections_over_the_caps_get_503_at_once_and_the_server_recovers(limited: LimitedServer):
    held = [connect(limited) for _ in range(limited.per_address)]
    try:
        over = connect(limited)  # one more from the same address
        data, _ = read_until_closed(over, 5)
        over.close()
        assert data.startswith(b"HTTP/1.1 503") and b"too many open connections" in data, data
        assert get_page(limited, OTHER)[0] == 200  # another address is still served
        held += [connect(limited, OTHER) for _ in range(limited.per_address)]
        held += [connect(limited, THIRD) for _ in range(limited.in_all - 2 * limited.per_address)]
        victim = connect(limited, VICTIM)  # the cap in all is reached
        data, _ = read_until_closed(victim, 5)
        victim.close()
        assert data.startswith(b"HTTP/1.1 503"), data
    finally:
        for s in held:
            s.close()
    deadline = time.monotonic() + 5
    while get_page(limited, VICTIM)[0] != 200:  # the closed connections are forgotten
        assert time.monotonic() < deadline, "the server did not recover its connection slots"
        time.sleep(0.1)


def test_an_idle_keep_alive_connection_is_closed(limited: LimitedServer):
    s = connect(limited)
    try:
        s.sendall(limited.head() + b"\r\n")
        s.settimeout(5)
        first = s.recv(65536)
        answered = time.monotonic()
        assert first.startswith(b"HTTP/1.1 200"), first[:100]
        _, at = read_until_closed(s, limited.keep_alive_s + SLACK_S + 5)
        assert at - answered <= max(limited.keep_alive_s, limited.timeout_s) + SLACK_S
    finally:
        s.close()


def test_a_second_request_head_left_half_sent_is_cut_off(limited: LimitedServer):
    """After one response the keep-alive timer stops at the first byte of the next head; the head
    deadline still applies."""
    s = connect(limited)
    try:
        s.sendall(limited.head() + b"\r\n")
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        s.sendall(f"GET {limited.page} HTTP/1.1\r\nHo".encode())
        _, at = read_until_closed(s, limited.timeout_s + SLACK_S + 5)
        assert at - started <= limited.timeout_s + SLACK_S
    finally:
        s.close()


def test_an_oversized_head_is_refused(limited: LimitedServer):
    for head in (limited.head() + b"X-Big: " + b"a" * 20_000 + b"\r\n\r\n",  # whole
                 limited.head() + b"X-Big: " + b"a" * 20_000):  # and unfinished
        s = connect(limited)
        try:
            s.sendall(head)
            data, _ = read_until_closed(s, 5)
            assert data.startswith(b"HTTP/1.1 431"), data[:200]
        finally:
            s.close()
    assert get_page(limited, OTHER)[0] == 200
