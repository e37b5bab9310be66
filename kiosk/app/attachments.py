"""What the running kiosk is made of besides its core: devices, peak alerts, the link to HQ.

Each part is built from the settings before the core opens, handed to `KioskApp` at
construction, started by the app once the core is open (`start(app)`: subscribe to events,
start threads) and closed by it when it stops, in reverse order.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from kiosk.app.kiosk_app import KioskApp


class Attachment(Protocol):
    def start(self, app: KioskApp) -> None:
        """Called once on the app's start, after the core is open."""

    def close(self) -> None:
        """Called once on the app's stop; must not raise for a part that never started."""


class Devices(Attachment, Protocol):
    """Printer, displays, voice, lamps and keys (`kiosk.app.outputs.Outputs`, or a test's mock)."""

    def status(self) -> dict[str, dict[str, Any]]:
        """name → {"kind", "state", "reason", "since"} for every device."""

    def reprint(self, ticket_row: dict[str, Any]) -> None:
        """Print this ticket (a row of `QueueEngine.last_issued()`) again."""

    def test_print(self) -> None:
        """Print a test page."""


class Uplink(Attachment, Protocol):
    """The link to HQ (`kiosk.mqtt.telemetry.Telemetry`)."""

    @property
    def state(self) -> dict[str, Any]:
        """{"state": "disabled"|"connecting"|"connected"|"disconnected", "since", "error", "backlog", …}."""
