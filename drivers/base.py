"""Shared vocabulary of the hardware layer: exceptions, fault kinds, device states, fault reporting.

Every output device reports trouble the same way: a *fault listener* is called as
``listener(device_name, kind, reason)``.

* on a fault, ``kind`` is one of the :class:`FaultKind` values (``"paper_out"``,
  ``"unplugged"``...), ``reason`` is a human-readable sentence;
* when the device works again, ``kind`` is ``"recovered"`` and ``reason`` names the fault
  kind that cleared (e.g. ``"paper_out"``).

A device has at most one active fault: when it changes from one kind to another (paper near
end, then cover open), the old one is closed with ``"recovered"`` before the new one is
reported, so every fault event is eventually paired with a recovery.

A listener must be quick and must not raise (exceptions are logged and swallowed): the core
passes a function that enqueues ``device.fault`` / ``device.recovered`` events.

A listener that remembers faults across restarts may also offer ``known_fault(device_name)``
→ ``(kind, reason)`` or ``None``: the fault still open when the process last stopped. The
device then starts in that fault without reporting it again, and reports the recovery as
soon as it is found working, so no fault stays open for ever because of a restart.
"""

from __future__ import annotations

import enum
import logging
import threading
from typing import Callable, Optional

log = logging.getLogger(__name__)

FaultListener = Callable[[str, str, str], None]
"""``listener(device_name, kind, reason)``; see the module docstring."""

RECOVERED = "recovered"


class DeviceError(Exception):
    """Base of every error raised by ``drivers``."""


class DeviceConfigError(DeviceError, ValueError):
    """A driver was asked for with options it cannot work with (unknown driver, bad pin...)."""


class DeviceUnavailable(DeviceError, OSError):
    """The device cannot be reached: unplugged, port missing, connection refused."""


class DeviceTimeout(DeviceError, TimeoutError):
    """The device did not finish an operation in time."""


class DeviceFaultError(DeviceError):
    """The device answered but refuses to work (paper out, cover open...)."""

    def __init__(self, kind: "FaultKind", reason: str) -> None:
        super().__init__(reason)
        self.kind = FaultKind(kind)
        self.reason = reason


class FaultKind(str, enum.Enum):
    """What is wrong with a device (the ``kind`` of a ``device.fault`` event)."""

    PAPER_NEAR_END = "paper_near_end"  # warning: still prints
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"  # the printer says it is offline for another reason
    UNPLUGGED = "unplugged"  # port/connection missing or a write failed
    NO_REPLY = "no_reply"  # the device does not answer status queries
    TIMEOUT = "timeout"  # an operation took longer than its time limit
    ERROR = "error"  # anything else (unrecoverable printer error, player failed...)

    def __str__(self) -> str:  # pragma: no cover - cosmetic
        return self.value


class DeviceState(str, enum.Enum):
    """Coarse state of an output device (see also each device's richer status)."""

    READY = "ready"
    FAULT = "fault"
    CLOSED = "closed"


class FaultTracker:
    """Remembers the current fault of one device and reports only *changes* to the listener.

    ``fault(kind, reason)`` reports a fault unless the same kind is already active;
    ``clear()`` reports recovery if a fault was active. Starts in the listener's
    ``known_fault(name)`` when it offers one (see the module docstring). Thread-safe.
    """

    def __init__(self, name: str, listener: Optional[FaultListener]) -> None:
        self.name = name
        self.listener = listener
        self._lock = threading.Lock()
        self._kind: Optional[FaultKind] = None
        self._reason = ""
        known = getattr(listener, "known_fault", None)
        if callable(known):
            self._restore(known)

    def _restore(self, known: Callable[[str], Optional[tuple[str, str]]]) -> None:
        try:
            open_fault = known(self.name)
            if open_fault is not None:
                kind, reason = open_fault
                self._kind, self._reason = FaultKind(kind), reason
        except Exception as exc:  # an unknown kind (another version) or a broken listener: start clean
            log.warning("%s: open fault not restored: %r", self.name, exc)

    @property
    def kind(self) -> Optional[FaultKind]:
        return self._kind

    @property
    def reason(self) -> str:
        return self._reason

    @property
    def active(self) -> bool:
        return self._kind is not None

    def fault(self, kind: FaultKind, reason: str) -> None:
        kind = FaultKind(kind)
        with self._lock:
            previous = self._kind
            if previous is kind:
                self._reason = reason
                return
            self._kind, self._reason = kind, reason
        if previous is not None:  # one active fault per device: close the old one first
            self._emit(RECOVERED, previous.value)
        log.warning("device %s fault %s: %s", self.name, kind.value, reason)
        self._emit(kind.value, reason)

    def clear(self) -> None:
        with self._lock:
            previous = self._kind
            if previous is None:
                return
            self._kind, self._reason = None, ""
        log.info("device %s recovered from %s", self.name, previous.value)
        self._emit(RECOVERED, previous.value)

    def _emit(self, kind: str, reason: str) -> None:
        if self.listener is None:
            return
        try:
            self.listener(self.name, kind, reason)
        except Exception:  # a broken listener must never break a device
            log.exception("fault listener failed for %s", self.name)
