"""`HallPort`: what the hall web app uses of the running kiosk, and nothing more.

`kiosk.app.kiosk_app.KioskApp` satisfies it structurally; `kiosk.lan` never imports the app.
Every engine call runs on the kiosk's core thread and returns a `Future`; a refused operation
raises a `kiosk.domain.errors.QueueError` (nothing changed) from the Future.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Protocol

from kiosk.config.settings import Settings
from kiosk.domain.model import CallResult, IssuedTicket


class HallPort(Protocol):
    """The running kiosk as the hall web app sees it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def data_dir(self) -> Path:
        """Where the admin PIN's lockout and the clerks live."""

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Call `listener` with every committed event, on the core thread; returns the unsubscribe."""

    def read_snapshot(self) -> Future[dict[str, Any]]:
        """The queue now (`kiosk.engine.readmodel.snapshot`)."""

    def ticket(self, number: str) -> Future[dict[str, Any]]:
        """Today's ticket `number` (its row)."""

    def issue(self, service: str, *, priority: bool = False, member: str | None = None, tier: str | None = None,
              form: dict[str, Any] | None = None, assisted: bool = False,
              issued_via: str | None = None) -> Future[IssuedTicket]:
        """Take a ticket, with the service's pre-acceptance `form` values and the `assisted` flag;
        `issued_via` says where it is handed out when not on the kiosk's own printer ('qr', 'device:NAME')."""

    def call_next(self, counter: int) -> Future[CallResult | None]: ...

    def call_ticket(self, counter: int, number: str) -> Future[CallResult]: ...

    def recall(self, counter: int) -> Future[CallResult]: ...

    def start_service(self, counter: int) -> Future[str]: ...

    def finish(self, counter: int) -> Future[str]: ...

    def noshow(self, counter: int) -> Future[tuple[str, bool]]: ...

    def transfer(self, counter: int, service: str | None = None, *, to_counter: int | None = None,
                 to_clerk: str | None = None, note: str | None = "") -> Future[str]:
        """To the queue of `service`, or reserved for `to_counter` / `to_clerk`; `note` travels with it."""

    def set_counter(self, counter: int, state: str, reason: str | None = None) -> Future[str]:
        """Open, pause (with a reason from ``[[pause_reasons]]``) or close a counter."""

    def sign_in(self, counter: int, clerk_id: str) -> Future[dict[str, Any]]:
        """The clerk works at `counter` now (moved from any other)."""

    def sign_out(self, counter: int) -> Future[str | None]: ...

    def counter_clerk(self, counter: int) -> Future[str | None]: ...

    def waiting_list(self, counter: int) -> Future[list[dict[str, Any]]]:
        """The tickets waiting for the counter's services, in calling order."""

    def clerk_day(self, clerk_id: str) -> Future[dict[str, Any]]:
        """The clerk's figures today."""
