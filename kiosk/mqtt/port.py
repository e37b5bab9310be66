"""`KioskPort`: what the MQTT side uses of the running kiosk, and nothing more.

`kiosk.app.kiosk_app.KioskApp` satisfies it structurally; the MQTT side never imports the
app. Every engine call goes through a typed method that runs on the core thread and
returns a `Future`.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from kiosk.config.settings import Settings
from kiosk.domain.clock import Clock
from kiosk.domain.model import EventType


class KioskPort(Protocol):
    """The running kiosk as the MQTT side sees it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def clock(self) -> Clock: ...

    @property
    def data_dir(self) -> Path:
        """Where the branch database lives (the publisher opens its own connection to it)."""

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `listener` with every committed event, on the core thread; returns the unsubscribe
        (callable from any thread)."""

    def snapshot(self, timeout: float = 10) -> dict[str, Any]:
        """The queue now (`kiosk.engine.readmodel.snapshot`), read on the core thread."""

    def read_snapshot(self) -> Future[dict[str, Any]]:
        """The same without waiting for it."""

    def set_counter(self, counter: int, state: str, reason: str | None = None) -> Future[str]:
        """Open, pause (with one of the configured reasons) or close a counter; the Future gives the new state."""

    def set_service_hours(self, prefix: str, hours: list[str]) -> Future[list[str]]:
        """Today's opening hours of a service; the Future gives the hours now in force."""

    def record_event(self, type_: EventType | str, **body: Any) -> Future[None]:
        """Commit an event of `type_` with `body` to the outbox."""

    def resend_events(self, first: int, last: int) -> Future[dict[str, int | None]]:
        """Mark the kept events `first`..`last` undelivered so that they are published again (the
        outbox drain goes back to them); the Future gives `Store.mark_undelivered`'s counts."""

    def issue_remote(self, service: str, form: dict[str, Any] | None = None) -> Future[dict[str, Any]]:
        """A ticket taken on a phone (HQ's `issue_remote`): parked until checked in at the kiosk."""

    def follow_view(self) -> Future[dict[str, Any]]:
        """The follow message for the customers' phones (`kiosk.engine.follow_view`)."""

    def store_appointments(self, days: dict[str, list[dict[str, Any]]]) -> Future[dict[str, int]]:
        """The bookings HQ sent for these days (checked by `kiosk.mqtt.hq_data`) replace the stored ones."""

    def set_neighbours(self, doc: dict[str, Any]) -> None:
        """The nearest branches HQ sent (checked): shown on the screen and ticket during a peak."""
