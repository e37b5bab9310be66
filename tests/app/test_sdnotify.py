"""sd_notify client against a real AF_UNIX datagram socket (path and abstract)."""

from __future__ import annotations

import os
import socket
import uuid

import pytest

from kiosk.app import sdnotify


@pytest.fixture
def listener(tmp_path):
    """A datagram socket standing in for systemd's notify socket (file-system path)."""
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(2.0)
    try:
        yield sock, {"NOTIFY_SOCKET": str(path)}
    finally:
        sock.close()


@pytest.fixture
def abstract_listener():
    name = f"kiosk-test-{uuid.uuid4().hex}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    sock.settimeout(2.0)
    try:
        yield sock, {"NOTIFY_SOCKET": "@" + name}
    finally:
        sock.close()


def recv(sock) -> str:
    return sock.recv(4096).decode()


def test_ready_status_watchdog_on_path_socket(listener):
    sock, env = listener
    assert sdnotify.is_supervised(env)
    assert sdnotify.ready(env=env) is True
    assert recv(sock) == "READY=1"
    assert sdnotify.status("calling  A023\nat counter 3", env=env)
    assert recv(sock) == "STATUS=calling A023 at counter 3"
    assert sdnotify.watchdog_ping(env=env)
    assert recv(sock) == "WATCHDOG=1"
    assert sdnotify.ready("up in 0.8 s", env=env)
    assert recv(sock) == "READY=1\nSTATUS=up in 0.8 s"
    assert sdnotify.stopping(env=env)
    assert recv(sock) == "STOPPING=1"
    assert sdnotify.reloading(env=env)
    assert recv(sock) == "RELOADING=1"
    assert sdnotify.watchdog_trigger(env=env)
    assert recv(sock) == "WATCHDOG=trigger"


def test_abstract_namespace_socket(abstract_listener):
    sock, env = abstract_listener
    assert sdnotify.notify("READY=1", env=env)
    assert recv(sock) == "READY=1"


def test_uses_process_environment(listener, monkeypatch):
    sock, env = listener
    monkeypatch.setenv("NOTIFY_SOCKET", env["NOTIFY_SOCKET"])
    assert sdnotify.watchdog_ping()
    assert recv(sock) == "WATCHDOG=1"


def test_noop_without_systemd(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert sdnotify.is_supervised() is False
    assert sdnotify.ready() is False
    assert sdnotify.watchdog_ping() is False
    assert sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": ""}) is False
    # unsupported address kinds are ignored, not raised
    assert sdnotify.notify("READY=1", env={"NOTIFY_SOCKET": "vsock:2:1234"}) is False


def test_socket_gone_returns_false(tmp_path):
    env = {"NOTIFY_SOCKET": str(tmp_path / "nobody-listens.sock")}
    assert sdnotify.watchdog_ping(env=env) is False


def test_watchdog_interval():
    pid = str(os.getpid())
    assert sdnotify.watchdog_interval_s({}) is None
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 30.0
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": pid}) == 30.0
    assert sdnotify.watchdog_period_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": pid}) == 15.0
    # another process's watchdog (inherited environment): not ours
    other = str(os.getpid() + 1)
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": other}) is None
    for bad in ("0", "-5", "abc", ""):
        assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": bad}) is None
    assert sdnotify.watchdog_interval_s({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "x"}) is None
    assert sdnotify.watchdog_period_s({}) is None
