"""`KioskApp`: builds the running kiosk from its settings and wires inputs → core → outputs.

Everything that touches the engine runs on the command loop's thread. The UI, GPIO callbacks
and MQTT commands call the `submit`/`call` helpers here; outputs and telemetry subscribe to
the event hub.
"""
from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from kiosk.engine import readmodel
from kiosk.domain.clock import Clock, SystemClock
from kiosk.engine.command_loop import CommandLoop
from kiosk.config.settings import Settings
from kiosk.engine.event_hub import EventHub
from kiosk.engine.queue_engine import QueueEngine
from kiosk.storage.store import Store, db_path

log = logging.getLogger(__name__)

DEFAULT_DATA = Path("var")


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """`--data`, else `KIOSK_DATA`, else ./var (the Pi's unit sets /var/lib/kiosk)."""
    return Path(explicit or os.environ.get("KIOSK_DATA") or DEFAULT_DATA)


class KioskApp:
    def __init__(self, settings: Settings, data: str | os.PathLike | None = None, *, clock: Clock | None = None,
                 estimator: Any = None) -> None:
        self.settings = settings
        self.data_dir = data_dir(data)
        self.clock = clock or SystemClock(settings.day.tz)
        self._estimator = estimator
        self.loop = CommandLoop()
        self.store: Store | None = None
        self.engine: QueueEngine | None = None
        self.hub: EventHub | None = None
        self._stopping = threading.Event()
        self._closers: list[Callable[[], None]] = []
        self.outputs: Any = None      # kiosk.app.outputs.Outputs when devices are attached
        self.telemetry: Any = None    # kiosk.mqtt.telemetry.Telemetry when MQTT is on

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> KioskApp:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.loop.start()
        self.loop.call(self._open_core)
        self.loop.every(0.5, self._poll_other_processes)
        self.loop.every(self._hall_interval(30.0), self._tick)
        self.loop.every(self._hall_interval(3600.0), self.housekeeping)
        return self

    def _hall_interval(self, seconds: float) -> float:
        """A period of hall time in real seconds: shorter in accelerated simulations (at least 1 s)."""
        speed = float(getattr(self.clock, "speed", 1.0))
        return max(1.0, seconds / speed) if speed > 1.0 else seconds

    def _open_core(self) -> None:
        self.store = Store(db_path(self.data_dir), synchronous=self.settings.store.synchronous)
        self.engine = QueueEngine(self.store, self.settings, self.clock, self._estimator)
        self.hub = EventHub(self.store)
        self.engine.subscribe(self.hub.publish)

    def add_closer(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def stop(self) -> None:
        self._stopping.set()
        for fn in reversed(self._closers):
            try:
                fn()
            except Exception:  # noqa: BLE001
                log.exception("closing %r failed", fn)
        if self.store is not None:
            try:
                self.loop.call(self.store.close, timeout=10)
            except Exception:  # noqa: BLE001
                log.exception("closing the store failed")
        self.loop.stop()

    def wait(self, timeout: float | None = None) -> bool:
        return self._stopping.wait(timeout)

    # -- periodic work (core thread) ------------------------------------------------------------
    def _poll_other_processes(self) -> None:
        if self.hub:
            self.hub.poll()

    def _tick(self) -> None:
        if self.engine:
            self.engine.tick()

    def housekeeping(self) -> None:
        if self.engine and self.store:
            keep_s = self.settings.store.event_retention_days * 86400
            pruned = self.store.prune_delivered(self.engine.time.now() - keep_s)
            if pruned:
                log.info("pruned %d delivered events older than %.0f days", pruned,
                         self.settings.store.event_retention_days)

    # -- commands from any thread --------------------------------------------------------------
    def submit(self, method: str, *args: Any, **kwargs: Any) -> Future:
        """Run `engine.<method>(*args)` on the core thread; returns a Future."""
        return self.loop.submit(lambda: getattr(self.engine, method)(*args, **kwargs))

    def call(self, method: str, *args: Any, timeout: float | None = 30, **kwargs: Any) -> Any:
        return self.submit(method, *args, **kwargs).result(timeout)

    def snapshot(self, timeout: float = 10) -> dict[str, Any]:
        return self.loop.call(lambda: readmodel.snapshot(self.engine), timeout=timeout)

    def recent_calls(self, limit: int = 8, timeout: float = 10) -> list[dict[str, Any]]:
        return self.loop.call(lambda: readmodel.recent_calls(self.engine, limit), timeout=timeout)

    def subscribe(self, listener: Callable[[dict[str, Any]], None]) -> Callable[[], None]:
        """Every committed event, on the core thread (hand it on; do not block)."""
        return self.loop.call(lambda: self.hub.subscribe(listener))

    # -- devices and connections (for the admin screen) ----------------------------------------
    def device_status(self) -> dict[str, dict[str, Any]]:
        """name → {"kind", "state", "reason", "since"} for every attached device."""
        return self.outputs.status() if self.outputs is not None else {}

    def mqtt_state(self) -> dict[str, Any]:
        """{"state": "disabled"|"connecting"|"connected"|"disconnected", "since", "error", "backlog"}."""
        if self.telemetry is None:
            return {"state": "disabled", "since": None, "error": None}
        return dict(self.telemetry.state)

    def reprint_last(self) -> Future:
        """Print the last issued ticket again (admin / customer asked)."""
        return self.loop.submit(self._reprint_last)

    def _reprint_last(self) -> str:
        from kiosk.domain.errors import KioskError
        last = self.engine.last_issued()
        if last is None:
            raise KioskError("no ticket has been issued yet")
        if self.outputs is None:
            raise KioskError("no printer is attached")
        self.outputs.reprint(last)
        return last["number"]

    def test_print(self) -> Future:
        from kiosk.domain.errors import KioskError

        def run() -> None:
            if self.outputs is None:
                raise KioskError("no printer is attached")
            self.outputs.test_print()
        return self.loop.submit(run)
