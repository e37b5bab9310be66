"""A tiny sd_notify(3) client: readiness, watchdog pings and status for systemd.

Only the standard library. Every function is a no-op returning ``False`` when the
process is not started by systemd with ``Type=notify`` (no ``NOTIFY_SOCKET``), so the
core calls them unconditionally: on a laptop, in tests and under systemd alike.

Wiring (``kiosk run``)::

    from kiosk.app import sdnotify

    sdnotify.status("opening database")
    ...                                   # store, engine, drivers, UI up
    sdnotify.ready()                      # READY=1: systemd marks the unit started
    period = sdnotify.watchdog_period_s() # None when WatchdogSec= is not set
    # from the core command thread, every `period` seconds (a hung core stops pinging,
    # so systemd kills and restarts it):
    sdnotify.watchdog_ping()
    ...
    sdnotify.stopping()                   # at orderly shutdown

``NOTIFY_SOCKET`` is either a file-system path (``/run/systemd/notify``) or a Linux
abstract socket written with a leading ``@``.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping

__all__ = [
    "notify",
    "ready",
    "stopping",
    "reloading",
    "status",
    "watchdog_ping",
    "watchdog_trigger",
    "watchdog_interval_s",
    "watchdog_period_s",
    "is_supervised",
]


def _address(env: Mapping[str, str]) -> str | bytes | None:
    raw = env.get("NOTIFY_SOCKET", "")
    if not raw:
        return None
    if raw.startswith("@"):
        # Linux abstract namespace: the name starts with a NUL byte.
        return b"\0" + raw[1:].encode("utf-8", "surrogateescape")
    if raw.startswith("/"):
        return raw
    # vsock:… (systemd >= 254 in VMs) and relative paths are not supported.
    return None


def is_supervised(env: Mapping[str, str] | None = None) -> bool:
    """True when a usable ``NOTIFY_SOCKET`` is set (started by systemd, Type=notify)."""
    return _address(os.environ if env is None else env) is not None


def notify(state: str, *, env: Mapping[str, str] | None = None) -> bool:
    """Send one notification (``"READY=1"``, ``"WATCHDOG=1\\nSTATUS=…"``).

    Returns True when the datagram was sent, False when not under systemd or when the
    socket is gone (never raises: a missing notification must not stop the kiosk).
    """
    address = _address(os.environ if env is None else env)
    if address is None:
        return False
    data = state.encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.sendto(data, address)
    except OSError:
        return False
    return True


def ready(status_text: str | None = None, *, env: Mapping[str, str] | None = None) -> bool:
    """READY=1: start-up finished; systemd now counts the unit as started."""
    msg = "READY=1"
    if status_text:
        msg += f"\nSTATUS={_one_line(status_text)}"
    return notify(msg, env=env)


def stopping(status_text: str | None = None, *, env: Mapping[str, str] | None = None) -> bool:
    """STOPPING=1: an orderly shutdown has started."""
    msg = "STOPPING=1"
    if status_text:
        msg += f"\nSTATUS={_one_line(status_text)}"
    return notify(msg, env=env)


def reloading(*, env: Mapping[str, str] | None = None) -> bool:
    """RELOADING=1: configuration reload in progress (send ``ready()`` when done)."""
    return notify("RELOADING=1", env=env)


def status(text: str, *, env: Mapping[str, str] | None = None) -> bool:
    """STATUS=…: one line shown by ``systemctl status kiosk``."""
    return notify(f"STATUS={_one_line(text)}", env=env)


def watchdog_ping(*, env: Mapping[str, str] | None = None) -> bool:
    """WATCHDOG=1: the core is alive. Call at least every ``watchdog_period_s()``."""
    return notify("WATCHDOG=1", env=env)


def watchdog_trigger(*, env: Mapping[str, str] | None = None) -> bool:
    """WATCHDOG=trigger: ask systemd to act as if the watchdog expired (self-detected hang)."""
    return notify("WATCHDOG=trigger", env=env)


def watchdog_interval_s(env: Mapping[str, str] | None = None) -> float | None:
    """The unit's ``WatchdogSec=`` in seconds, or None when no watchdog applies to us.

    Follows sd_watchdog_enabled(3): ``WATCHDOG_USEC`` must be a positive integer and,
    when ``WATCHDOG_PID`` is set, it must be this process's pid (a child that inherited
    the environment must not ping on the parent's behalf).
    """
    env = os.environ if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    try:
        value = int(usec)
    except ValueError:
        return None
    if value <= 0:
        return None
    pid = env.get("WATCHDOG_PID", "")
    if pid:
        try:
            if int(pid) != os.getpid():
                return None
        except ValueError:
            return None
    return value / 1_000_000


def watchdog_period_s(env: Mapping[str, str] | None = None) -> float | None:
    """How often to ping: half the watchdog interval (the sd_watchdog_enabled advice)."""
    interval = watchdog_interval_s(env)
    return None if interval is None else interval / 2


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
