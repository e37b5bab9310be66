"""Driving the screens without a main loop: for the tests, the screenshots and the benchmark.

`headless_env()` must run before Kivy is imported. `start_ui()` builds a `KioskUi` on the
one Kivy window of the process, `pump()` renders frames (Clock ticks, input, drawing) and
`stop_ui()` takes it off the window again, so several apps can run one after another in one
process. `tap(widget)` presses and releases a simulated finger on the real widget.
"""
from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from kiosk.sim.waiting import wait_until

if TYPE_CHECKING:       # no Kivy before headless_env() has set the environment
    from kiosk.app.kiosk_app import KioskApp
    from ui.main import KioskUi


def headless_env(kivy_home: str | None = None) -> None:
    """The environment Kivy needs to run without a screen (set before importing Kivy)."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_HOME", kivy_home or tempfile.mkdtemp(prefix="kivy-home-"))
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_TEXT", "sdl2")
    os.environ.setdefault("KIVY_IMAGE", "sdl2")
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")


def configure(size: tuple[int, int] = (800, 480)) -> None:
    from kivy.config import Config

    from ui.app import configure_kivy
    Config.set("graphics", "maxfps", "0")       # frames as fast as they render: no sleeping in pump()
    configure_kivy(None, fullscreen=False, size=size)
    from kivy.clock import Clock
    Clock._max_fps = 0


def pump(frames: int = 3) -> None:
    from kivy.base import EventLoop
    for _ in range(frames):
        EventLoop.idle()


def pump_until(cond: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Render frames until `cond()` is true (raises TimeoutError after `timeout` s)."""
    def pumped() -> Any:
        value = cond()
        if not value:
            pump(1)
        return value
    return wait_until(pumped, timeout, 0.005, what="the screen to reach the expected state")


def start_ui(kiosk: KioskApp, screen: str = "kiosk") -> KioskUi:
    from kivy.base import EventLoop
    EventLoop.ensure_window()
    from ui.main import KioskUi
    ui = KioskUi(kiosk, screen)
    ui._run_prepare()
    pump(4)
    return ui


def stop_ui(ui: KioskUi) -> None:
    from kivy.app import App
    from kivy.core.window import Window
    ui.dispatch("on_stop")
    pump(2)                                   # pending screen changes complete while the app still runs
    if ui.root is not None and ui.root.parent is not None:
        Window.remove_widget(ui.root)
    App._running_app = None


def tap(widget: Any, hold_s: float = 0.0) -> None:
    """A finger on the centre of `widget` (in window coordinates), released after `hold_s`."""
    from kivy.tests.common import UnitTestTouch
    pump(1)                                   # let a screen that just appeared lay itself out
    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    if hold_s:
        pump(1)
        time.sleep(hold_s)
        pump(2)
    touch.touch_up()
    pump(1)


def screenshot(path: str | os.PathLike) -> Path:
    """Window.screenshot writes NAME0001.png: save under the exact name instead."""
    from kivy.core.window import Window
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pump(2)
    written = Window.screenshot(name=str(path.with_suffix("")) + ".png")
    Path(written).replace(path)
    return path


class MockDevices:
    """Stands in for `kiosk.app.outputs.Outputs` (the app's `devices`) in the tests and the
    screenshots: one printer whose state can be switched, that "prints" (records) every
    `ticket.issued` while it is ready, plus one serial display that is always ready.
    `status()` has the shape of `Outputs.status()`."""

    def __init__(self) -> None:
        import threading
        self._lock = threading.Lock()
        self.state, self.fault = "ready", ""
        self.jobs: list[str] = []          # ticket numbers printed
        self.reprints: list[str] = []
        self.test_pages = 0
        self._unsubscribe: Callable[[], None] | None = None

    def start(self, kiosk: KioskApp) -> None:
        self._unsubscribe = kiosk.subscribe(self._on_event)

    def close(self) -> None:
        """Stops with the app's core: nothing of its own to release."""

    def _on_event(self, event: dict) -> None:       # core thread
        if event.get("type") == "ticket.issued":
            with self._lock:
                if self.state == "ready":
                    self.jobs.append(event["ticket"])

    def set_state(self, state: str, fault: str = "") -> None:
        """The printer's state ("ready", "fault") and its fault: a `drivers.base.FaultKind` value."""
        with self._lock:
            self.state, self.fault = state, fault

    def status(self) -> dict:
        with self._lock:
            return {"printer": {"kind": "printer", "state": self.state, "fault": self.fault or None,
                                "reason": self.fault, "since": None},
                    "display": {"kind": "display", "state": "ready", "fault": None, "reason": "", "since": None}}

    def reprint(self, ticket: dict) -> None:
        self.reprints.append(ticket["number"])

    def test_print(self) -> None:
        self.test_pages += 1


def force_alert(kiosk: KioskApp, level: int, reason: str = "queue_level1") -> None:
    """Make the kiosk's snapshots report at least this alert level (demo data and tests)."""
    original = kiosk.snapshot

    def snapshot(*args: Any, **kw: Any) -> dict:
        snap = original(*args, **kw)
        if int(snap["alert"]["level"]) < level:
            snap = dict(snap, alert={"level": level, "reason": reason})
        return snap
    kiosk.snapshot = snapshot
