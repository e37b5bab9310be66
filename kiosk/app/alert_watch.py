"""Alerts as a part of the running kiosk: the hall is measured after every event (but the
alert events themselves) and every 5 s, on the core thread. The timer is what notices the
alerts that time alone brings: a wait passing its target, a counter passing its service's
time limit (long service), a peak's hold running out."""
from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config.settings import Settings
from kiosk.engine.alerts import AlertMonitor

if TYPE_CHECKING:
    from kiosk.app.kiosk_app import KioskApp

EVALUATE_EVERY_S = 5.0


class AlertWatch:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.monitor: AlertMonitor | None = None

    def start(self, app: KioskApp) -> None:
        monitor = app.loop.call(lambda: AlertMonitor(app.engine, self.settings))
        self.monitor = monitor
        app.subscribe(lambda ev: None if ev["type"].startswith("alert.") else monitor.evaluate())
        app.loop.every(EVALUATE_EVERY_S, monitor.evaluate)

    def close(self) -> None:
        """Nothing to release: the monitor lives on the core thread and stops with it."""
