"""`KioskPort`: what the screens use of the running kiosk (`kiosk.app.kiosk_app.KioskApp`).

The UI is handed an object of this shape and reaches the core through it only: commands
return Futures, read models are short synchronous calls, events arrive on the core thread.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from kiosk.config.settings import Settings
from kiosk.domain.clock import Clock
from kiosk.domain.model import IssuedTicket

EventListener = Callable[[dict[str, Any]], None]


@runtime_checkable
class KioskPort(Protocol):
    """The running kiosk as the screens see it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def clock(self) -> Clock: ...

    def subscribe(self, listener: EventListener) -> Callable[[], None]:
        """Every committed event, on the core thread; returns the unsubscribe (from any thread)."""
        ...

    def snapshot(self, timeout: float = 10) -> dict[str, Any]: ...

    def quiet_hours(self, timeout: float = 10) -> dict[str, str]: ...

    def recent_calls(self, limit: int = 8, timeout: float = 10) -> list[dict[str, Any]]: ...

    def device_status(self) -> dict[str, dict[str, Any]]: ...

    def mqtt_state(self) -> dict[str, Any]: ...

    def issue(self, service: str, *, priority: bool = False, member: str | None = None,
              tier: str | None = None) -> Future[IssuedTicket]:
        """Take a ticket; `tier` (an id of `settings.tiers`) is the priority tier of a priority ticket."""
        ...

    def check_in(self, code_or_url: str) -> Future[dict[str, Any]]:
        """A parked remote ticket joins the queue, by its 6-digit check-in code, its follow token or
        follow URL, or an appointment by its 8-digit code (a ticket with the appointment's head start,
        printed here); the result is the ticket (number, service, state, ahead, estimate_s, and
        ``appointment`` {slot, late} for an appointment), the refusals
        `kiosk.domain.errors.UnknownTicket` (no such code today) and `IllegalState`."""
        ...

    def neighbours(self) -> dict[str, Any] | None:
        """The nearest branches HQ sent ({"neighbours": [{branch, name, km, waiting, services}]}), or None."""
        ...

    def set_counter(self, counter: int, state: str) -> Future[str]: ...

    def rollover(self) -> Future[str]: ...

    def test_print(self) -> Future[Any]: ...

    def reprint_last(self) -> Future[Any]: ...
