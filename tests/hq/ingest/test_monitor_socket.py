"""The HQ monitor's buffered socket: acknowledgements sent while more messages are buffered
are held and sent in one call, never lost and never reordered (a real socket pair)."""
from __future__ import annotations

import socket
import threading

import pytest

from kiosk.hq.monitor import _BufferedSocket


@pytest.fixture
def pair():
    a, b = socket.socketpair()
    a.setblocking(False)
    b.settimeout(5)
    yield _BufferedSocket(a), b
    a.close()
    b.close()


def _nothing_arrives(peer: socket.socket) -> bool:
    peer.settimeout(0.05)
    try:
        peer.recv(100)
    except TimeoutError:
        return True
    finally:
        peer.settimeout(5)
    return False


def test_sends_while_input_is_buffered_go_out_in_one_call_before_the_next_read(pair):
    sock, peer = pair
    peer.sendall(b"abcdef")
    assert sock.recv(3) == b"abc"
    assert sock.send(b"ack1") == 4 and sock.send(b"ack2") == 4     # "def" still buffered: held
    assert _nothing_arrives(peer)
    assert sock.recv(3) == b"def"
    assert sock.pending() == 1          # paho must read (and so send) rather than wait in select
    with pytest.raises(BlockingIOError):
        sock.recv(1)                     # the buffer is empty: held bytes go out, then the socket is read
    assert peer.recv(100) == b"ack1ack2"


def test_a_send_with_no_input_buffered_goes_out_at_once_after_what_is_held(pair):
    sock, peer = pair
    peer.sendall(b"abcdef")
    sock.recv(3)
    sock.send(b"ack1")
    sock.recv(3)                          # the buffer is used up: the next send goes out, held first
    assert sock.send(b"ack2") == 4
    assert peer.recv(100) == b"ack1ack2" and sock.pending() == 0


def test_another_thread_never_holds_and_keeps_the_order(pair):
    sock, peer = pair
    peer.sendall(b"abcdef")
    sock.recv(3)
    sock.send(b"ack1")                    # the reading thread: held
    t = threading.Thread(target=sock.send, args=(b"DISCONNECT",))
    t.start()
    t.join(5)
    assert peer.recv(100) == b"ack1DISCONNECT"


def test_close_sends_what_is_held(pair):
    sock, peer = pair
    peer.sendall(b"abcdef")
    sock.recv(3)
    sock.send(b"ack1")
    sock.close()
    assert peer.recv(100) == b"ack1"
